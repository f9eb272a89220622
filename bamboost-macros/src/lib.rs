//! Procedural macros of bamboost: [`root_process`] and [`exclude`]. Use them through the
//! `bamboost` crate, which re-exports both.
#![doc(test(no_crate_inject, attr(deny(warnings))))]

mod args;
mod expand;
mod parse;
mod path;
mod validate;

use proc_macro::TokenStream;

/// Makes the methods of an `impl` block run on rank 0 only and return rank 0's result on every
/// rank.
///
/// Put it on an inherent `impl` block of a type that implements `bamboost::mpi::HasComm`.
/// Every method with a `self` receiver is rewritten, except those marked
/// [`#[exclude]`](macro@exclude); associated functions without `self` (constructors) are left
/// alone. A rewritten method:
///
/// - runs its body on rank 0 of `self.comm()` only, inside a root-only scope: every
///   communicator behaves as a single rank there, so collectives and nested `#[root_process]`
///   calls complete at once instead of deadlocking;
/// - sends its return value (encoded with bincode) to every rank, which all return it. A
///   `Result` is a value like any other: an `Err` on rank 0 is the same `Err` on every rank.
///   A return type spelled `Vec<n>`, `Vec<[n; N]>` or `Vec<(n, n)>` (`n` a primitive number;
///   tuples of two to four) or `String` skips the encoding: its bytes are broadcast as they
///   are; so does a `Vec<T>` whose `T` implements `bytemuck::Pod` (a user's plain-data
///   struct), and the `Ok` value of a return type spelled `Result<Vec<T>, E>` with such a `T`
///   (the `Err` is encoded), chosen at compile time;
/// - catches a panic on rank 0, sends it to every rank, and panics on every rank with the
///   original message, so no rank waits forever;
/// - checks that every rank called the same method: a rank that called a different one panics
///   with a message naming both.
///
/// The return type must implement `serde::Serialize` and `serde::de::DeserializeOwned`
/// (`bamboost::mpi::Broadcast`), or be a `Vec` of a `bytemuck::Pod` type: references and
/// `impl Trait` are rejected at compile time.
///
/// # Arguments
///
/// `#[root_process(crate = "path::to::bamboost")]` names the bamboost crate when it is
/// re-exported under another path.
///
/// # MPI
///
/// Every rewritten method is *root-only with a broadcast result*: all ranks of the object's
/// communicator must call it, in the same order.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, mpi::{CommSlot, HasComm}, root_process};
///
/// struct Counter {
///     comm: CommSlot,
///     count: u64,
/// }
///
/// impl HasComm for Counter {
///     fn comm(&self) -> Comm {
///         self.comm.get()
///     }
/// }
///
/// #[root_process]
/// impl Counter {
///     /// Constructors have no `self`: untouched, they run on every rank.
///     fn new() -> Self {
///         Counter { comm: CommSlot::new(), count: 0 }
///     }
///
///     /// Runs on rank 0; every rank returns rank 0's count.
///     fn bump(&mut self) -> u64 {
///         self.count += 1;
///         self.count
///     }
///
///     /// Errors travel to every rank as well.
///     fn check(&self, limit: u64) -> Result<u64, String> {
///         if self.count > limit { Err(format!("{} > {limit}", self.count)) } else { Ok(self.count) }
///     }
///
///     /// Runs on every rank.
///     #[exclude]
///     fn local_count(&self) -> &u64 {
///         &self.count
///     }
/// }
///
/// let mut counter = Counter::new();
/// assert_eq!(counter.bump(), 1);
/// assert_eq!(*counter.local_count(), 1);
/// assert_eq!(counter.check(0), Err("1 > 0".to_string()));
/// ```
#[proc_macro_attribute]
pub fn root_process(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::root_process(args.into(), item.into()).into()
}

/// Marks a method inside a [`#[root_process]`](macro@root_process) impl block to run on every
/// rank, unchanged.
///
/// Use it for methods that are collective themselves, that return references, or that must run
/// everywhere (accessors, guards). It takes no arguments and needs no import: `#[root_process]`
/// consumes it. Outside a `#[root_process]` block it is an error.
///
/// # MPI
///
/// The marked method keeps whatever MPI behaviour its body has.
#[proc_macro_attribute]
pub fn exclude(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::misplaced_exclude(args.into(), item.into()).into()
}
