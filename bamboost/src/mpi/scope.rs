//! The root-only ("comm-self") scope: while it is active on a thread, every communicator used on
//! that thread behaves as a single-rank communicator, so collectives complete at once.

use std::cell::Cell;

thread_local! {
    /// Nesting depth of root-only scopes on this thread.
    static SCOPE_DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Nesting depth of sections whose panics `on_root` catches and broadcasts.
    static CATCH_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Restores a depth counter when dropped, also during unwinding.
struct DepthGuard(&'static std::thread::LocalKey<Cell<usize>>);

impl DepthGuard {
    fn enter(key: &'static std::thread::LocalKey<Cell<usize>>) -> Self {
        key.with(|d| d.set(d.get() + 1));
        DepthGuard(key)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        self.0.with(|d| d.set(d.get() - 1));
    }
}

/// Runs `f` with every communicator on this thread behaving as a single-rank communicator.
///
/// This is the Rust form of Python bamboost's `comm_self(obj)`. Use it for bamboost calls made
/// from code that only one rank runs, typically inside `if comm.rank() == 0 { … }`: without it,
/// a collective or a `#[root_process]` method called there waits forever for the other ranks.
/// `#[root_process]` methods enter this scope on their own while rank 0 runs their body.
///
/// Inside the scope, for every [`Comm`](crate::Comm): `rank()` is 0, `size()` is 1, collectives
/// return their input as a single-rank communicator would, and
/// [`CommSlot::get`](crate::mpi::CommSlot::get) resolves to [`Comm::self_comm`](crate::Comm::self_comm).
/// Scopes nest. The scope belongs to the calling thread only.
///
/// # MPI
///
/// Local: call it on the ranks that run the block; the others do not take part.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, mpi};
///
/// let world = Comm::world();
/// if world.rank() == 0 {
///     let n = mpi::self_scope(|| world.allreduce(5, mpi::op::Sum))?;
///     assert_eq!(n, 5); // only this rank took part
/// }
/// # Ok::<(), bamboost::Error>(())
/// ```
pub fn self_scope<R>(f: impl FnOnce() -> R) -> R {
    let _guard = DepthGuard::enter(&SCOPE_DEPTH);
    f()
}

/// Whether the calling thread is inside a root-only scope (see [`self_scope`]).
///
/// # MPI
///
/// Local.
pub fn in_self_scope() -> bool {
    SCOPE_DEPTH.with(Cell::get) > 0
}

/// Runs `f` while panics on this thread are caught by `on_root` instead of aborting the job.
pub(crate) fn catching_panics<R>(f: impl FnOnce() -> R) -> R {
    let _guard = DepthGuard::enter(&CATCH_DEPTH);
    f()
}

/// Whether a panic on this thread will be caught and broadcast by `on_root`.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub(crate) fn panics_are_caught() -> bool {
    CATCH_DEPTH.with(Cell::get) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_unwind() {
        assert!(!in_self_scope());
        self_scope(|| {
            self_scope(|| assert!(in_self_scope()));
            assert!(in_self_scope());
        });
        let caught = std::panic::catch_unwind(|| self_scope(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(!in_self_scope(), "a panic must not leave the scope active");
    }
}
