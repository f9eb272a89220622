//! The one error type of the runtime crate.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Every error bamboost returns.
///
/// The type is serialisable on purpose: a `#[root_process]` method that fails on rank 0 returns
/// the same `Err` on every rank, so the error travels through the broadcast.
///
/// # MPI
///
/// Local: a plain value. When a root-only method fails, every rank holds an equal copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Error {
    /// `BAMBOOST_MPI` (or [`mpi::set_enabled`](crate::mpi::set_enabled)) asked for MPI, but this
    /// build of bamboost has no MPI support. Returned by [`mpi::init`](crate::mpi::init) and
    /// [`Comm::try_world`](crate::Comm::try_world).
    #[error(
        "{source_of_request} asks for MPI, but bamboost was built without the `mpi` feature; rebuild with `--features mpi` or switch MPI off"
    )]
    MpiNotCompiled {
        /// What asked for MPI, e.g. `BAMBOOST_MPI=1`.
        source_of_request: String,
    },

    /// [`mpi::set_enabled`](crate::mpi::set_enabled) was called after the communicator back
    /// end had already been chosen (by the first use of a communicator).
    #[error(
        "the MPI back end is already chosen ({active}); call `bamboost::mpi::set_enabled` before the first use of a communicator"
    )]
    MpiAlreadyChosen {
        /// The back end in use: `"serial"` or `"mpi"`.
        active: String,
    },

    /// The MPI library cannot call MPI from several threads at once (`MPI_THREAD_MULTIPLE`),
    /// which bamboost needs because its communicators are `Send + Sync`.
    #[error(
        "the MPI library provides thread level {provided}, but bamboost needs `MPI_THREAD_MULTIPLE`"
    )]
    MpiThreading {
        /// The thread level the library provided.
        provided: String,
    },

    /// A configuration file could not be read or parsed.
    #[error("invalid configuration in {}: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// A value could not be encoded for, or decoded after, a transfer between ranks. A decode
    /// failure usually means the ranks did not call the same collective with the same type.
    #[error("cannot {action} a value of type `{type_name}` sent between ranks: {message}")]
    Codec {
        /// `"encode"` or `"decode"`.
        action: String,
        /// The Rust type involved.
        type_name: String,
        /// The codec's explanation.
        message: String,
    },

    /// A rank number outside `0..size` was passed to a collective or point-to-point call.
    #[error("rank {rank} is not in a communicator of size {size}")]
    InvalidRank {
        /// The rank that was passed.
        rank: usize,
        /// The size of the communicator.
        size: usize,
    },

    /// A message tag outside `0..=32767`, the range every MPI library accepts.
    #[error("message tag {tag} is outside 0..=32767")]
    InvalidTag {
        /// The tag that was passed.
        tag: i32,
    },

    /// A split color above `i32::MAX`, which MPI cannot represent.
    #[error("split color {color} is larger than {max}", max = i32::MAX)]
    InvalidColor {
        /// The color that was passed.
        color: u32,
    },

    /// The root of [`Comm::scatter`](crate::Comm::scatter) passed a number of values different
    /// from the communicator size.
    #[error("scatter needs one value per rank: got {got} values for {size} ranks")]
    ScatterCount {
        /// How many values the root passed.
        got: usize,
        /// The communicator size.
        size: usize,
    },

    /// Send and receive buffers of a buffer collective have different lengths.
    #[error("buffer lengths differ: send buffer has {send} elements, receive buffer {recv}")]
    BufferLength {
        /// Length of the send buffer.
        send: usize,
        /// Length of the receive buffer.
        recv: usize,
    },

    /// A message is larger than MPI's element count can express (`i32::MAX` elements).
    #[error("a message of {len} elements is larger than MPI can transfer in one call")]
    MessageTooLarge {
        /// The number of elements.
        len: usize,
    },

    /// [`Comm::recv`](crate::Comm::recv) on a single-rank communicator found no message that
    /// was sent earlier with the same tag; with MPI this call would block forever.
    #[error(
        "no message with tag {tag} was sent to this rank; a receive on a single-rank communicator would block forever"
    )]
    NoPendingMessage {
        /// The tag that was asked for.
        tag: i32,
    },

    /// The ranks did not call the same collective: rank 0 sent the result of one call while
    /// this rank was waiting in another. Returned by the object collectives of
    /// [`Comm`](crate::Comm) when the message they receive was made by a different call.
    #[error(
        "ranks called different collectives: this rank called `{this_rank}`, but rank {root} sent the result of `{root_call}`"
    )]
    Desync {
        /// The call this rank made.
        this_rank: String,
        /// The rank that sent the message.
        root: usize,
        /// The call that rank made.
        root_call: String,
    },

    /// A UID or simulation name does not have the expected form.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidUid {
        /// `"collection uid"` or `"simulation name"`.
        what: String,
        /// The rejected text.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// `Result` with bamboost's [`Error`] as the default error type.
///
/// # MPI
///
/// Local.
pub type Result<T, E = Error> = std::result::Result<T, E>;
