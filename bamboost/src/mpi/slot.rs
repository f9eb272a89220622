//! Communicator propagation from parent objects to the children built from them.

use super::comm::Comm;
use super::scope;
use crate::error::Result;
use std::sync::{Arc, RwLock};

/// Types whose methods know which ranks take part: every type `#[root_process]` is used on.
///
/// Python bamboost looks up a `_comm` attribute; here the type says it once.
///
/// # MPI
///
/// `comm` itself is local.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, mpi::{CommSlot, HasComm}};
///
/// struct Writer {
///     comm: CommSlot,
/// }
///
/// impl HasComm for Writer {
///     fn comm(&self) -> Comm {
///         self.comm.get()
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `bamboost::mpi::HasComm`",
    label = "`#[root_process]` needs to know the communicator of this type",
    note = "implement `bamboost::mpi::HasComm` for `{Self}`: `fn comm(&self) -> bamboost::Comm`"
)]
pub trait HasComm {
    /// The communicator whose rank 0 runs this object's `#[root_process]` methods.
    fn comm(&self) -> Comm;
}

/// Where an object finds its communicator: its own, or its parent's, looked up at use time.
///
/// Every object that builds children (a collection its index, a simulation its file, a file its
/// groups) gives each child [`CommSlot::child`] of its own slot. A communicator set later on the
/// parent with [`CommSlot::set`], or a root-only scope ([`self_scope`](super::self_scope)),
/// then reaches every child, because nothing is copied: [`CommSlot::get`] walks up the chain to
/// the first slot with a communicator of its own, and falls back to [`Comm::world`]. This is
/// Python bamboost's `Communicator` descriptor with `ReuseComm(parent)`, without global
/// weak-reference tables.
///
/// Cloning a `CommSlot` gives a second handle to the same slot.
///
/// # MPI
///
/// Every method is local.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, mpi::{self, CommSlot}};
///
/// let parent = CommSlot::new();
/// let child = parent.child();
/// assert_eq!(child.get(), Comm::world());
///
/// let sub = Comm::world().dup();
/// parent.set(sub.clone());
/// assert_eq!(child.get(), sub); // set after the child was made, still inherited
///
/// mpi::self_scope(|| assert_eq!(child.get(), Comm::self_comm()));
/// assert_eq!(child.get(), sub);
/// ```
#[derive(Clone, Default)]
pub struct CommSlot {
    node: Arc<Node>,
}

#[derive(Default)]
struct Node {
    own: RwLock<Option<Comm>>,
    parent: Option<CommSlot>,
}

impl CommSlot {
    /// A slot without a communicator of its own: it resolves to [`Comm::world`].
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> CommSlot {
        CommSlot::default()
    }

    /// A slot that holds `comm`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn with(comm: Comm) -> CommSlot {
        let slot = CommSlot::new();
        slot.set(comm);
        slot
    }

    /// A slot for a child object: it inherits this slot's communicator, including later changes,
    /// until the child sets its own.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn child(&self) -> CommSlot {
        CommSlot {
            node: Arc::new(Node {
                own: RwLock::new(None),
                parent: Some(self.clone()),
            }),
        }
    }

    /// Gives this slot (and the children that inherit from it) a communicator.
    ///
    /// # MPI
    ///
    /// Local: only this process's slot changes; set the same communicator on every rank.
    pub fn set(&self, comm: Comm) {
        *self.node.own.write().unwrap_or_else(|e| e.into_inner()) = Some(comm);
    }

    /// Removes this slot's own communicator, so it inherits again.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn clear(&self) {
        *self.node.own.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The communicator in effect: [`Comm::self_comm`] inside a root-only scope; otherwise the
    /// nearest one set on this slot or its ancestors; otherwise [`Comm::world`].
    ///
    /// # Panics
    ///
    /// As [`Comm::world`], when it falls back to it; [`CommSlot::try_get`] returns the error.
    ///
    /// # MPI
    ///
    /// Local (the first fallback to `Comm::world` may initialise MPI; see [`Comm::world`]).
    pub fn get(&self) -> Comm {
        self.resolve().unwrap_or_else(Comm::world)
    }

    /// As [`CommSlot::get`], with the error of [`Comm::try_world`] instead of a panic.
    ///
    /// # Errors
    ///
    /// As [`Comm::try_world`].
    ///
    /// # MPI
    ///
    /// As [`CommSlot::get`].
    pub fn try_get(&self) -> Result<Comm> {
        self.resolve().map_or_else(Comm::try_world, Ok)
    }

    /// The communicator this slot resolves to outside any root-only scope.
    pub(crate) fn try_get_unscoped(&self) -> Result<Comm> {
        self.resolve_unscoped().map_or_else(Comm::try_world, Ok)
    }

    fn resolve(&self) -> Option<Comm> {
        if scope::in_self_scope() {
            return Some(Comm::self_comm());
        }
        self.resolve_unscoped()
    }

    fn resolve_unscoped(&self) -> Option<Comm> {
        let mut slot = Some(self);
        while let Some(s) = slot {
            if let Some(comm) = s
                .node
                .own
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
            {
                return Some(comm.clone());
            }
            slot = s.node.parent.as_ref();
        }
        None
    }
}

impl std::fmt::Debug for CommSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommSlot")
            .field("comm", &self.resolve())
            .finish()
    }
}
