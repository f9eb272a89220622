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
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
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

    /// An HDF5 call failed.
    #[error("hdf5 error on `{object}` in {}: {message}", file.display())]
    Hdf5 {
        /// The HDF5 file.
        file: PathBuf,
        /// The object inside the file (`/` for the file itself).
        object: String,
        /// HDF5's explanation.
        message: String,
    },

    /// Another process holds a lock on the file, and it was not released within the lock timeout
    /// (`[options] file_lock_timeout`, or the per-call [`OpenOptions`](crate::h5::OpenOptions)).
    #[error("{} is locked by another process (gave up after {waited_secs:.2} s)", file.display())]
    Locked {
        /// The HDF5 file.
        file: PathBuf,
        /// How long bamboost waited for the lock.
        waited_secs: f64,
    },

    /// MPI is active, but the HDF5 library bamboost is linked with has no parallel (MPI-IO)
    /// support, so parallel writes would corrupt files. Returned before anything is written.
    #[error(
        "MPI is active but the linked HDF5 library has no parallel support; install an MPI-enabled HDF5 (e.g. libhdf5-openmpi-dev) or switch MPI off"
    )]
    NoParallelHdf5,

    /// A group, dataset or attribute does not exist.
    #[error("`{object}` not found in {}", file.display())]
    NotFound {
        /// The HDF5 file.
        file: PathBuf,
        /// The path of the object (`group/name`, or `object@attribute` for an attribute).
        object: String,
    },

    /// A collective operation was called inside a root-only scope on a file that all ranks
    /// opened with MPI-IO: the other ranks would never join it.
    #[error("`{object}` in {}: a collective operation on a file open on several ranks cannot run inside a root-only scope", file.display())]
    NotCollective {
        /// The HDF5 file.
        file: PathBuf,
        /// The object.
        object: String,
    },

    /// The counts passed to [`Comm::alltoallv`](crate::Comm::alltoallv) do not match the
    /// communicator or the send buffer.
    #[error("invalid alltoallv counts: {message}")]
    InvalidCounts {
        /// What does not match.
        message: String,
    },

    /// A group or dataset with that name already exists.
    #[error("`{object}` already exists in {}", file.display())]
    AlreadyExists {
        /// The HDF5 file.
        file: PathBuf,
        /// The path of the object.
        object: String,
    },

    /// Data of a distributed write does not fit together: trailing dimensions differ between
    /// ranks, the number of indices differs from the number of rows, or an index repeats.
    #[error("cannot write `{object}` in {}: {message}", file.display())]
    Shape {
        /// The HDF5 file.
        file: PathBuf,
        /// The dataset.
        object: String,
        /// What does not fit.
        message: String,
    },

    /// An attribute has a type bamboost cannot represent, or a value cannot be stored.
    #[error("attribute `{name}` of `{object}` in {}: {message}", file.display())]
    Attribute {
        /// The HDF5 file.
        file: PathBuf,
        /// The object holding the attribute.
        object: String,
        /// The attribute.
        name: String,
        /// What is wrong.
        message: String,
    },

    /// A file-system operation failed.
    #[error("cannot access {}: {message}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's explanation.
        message: String,
    },

    /// A directory holds no collection identifier file (`.bamboost-collection-<UID>`).
    #[error("{} is not a collection: it holds no `.bamboost-collection-<UID>` file", path.display())]
    NotACollection {
        /// The directory.
        path: PathBuf,
    },

    /// A collection's identifier file is not valid YAML metadata; it is left as it is.
    #[error("invalid collection metadata in {}: {message}", path.display())]
    CollectionMetadata {
        /// The identifier file.
        path: PathBuf,
        /// What is wrong.
        message: String,
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

    /// A parameter key is reserved, contains a `.`, or its value cannot be stored.
    #[error("invalid parameter `{key}`: {reason}")]
    InvalidParameter {
        /// The (dotted) key.
        key: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A simulation with these parameters already exists (`DuplicateAction::Raise`).
    #[error("collection {}: simulation(s) {} already hold exactly these parameters", path.display(), names.join(", "))]
    DuplicateSimulation {
        /// The collection directory.
        path: PathBuf,
        /// The existing simulations.
        names: Vec<String>,
    },

    /// A simulation name is already taken (and `override` was not asked for).
    #[error("simulation `{name}` already exists in {}", path.display())]
    SimulationExists {
        /// The collection directory.
        path: PathBuf,
        /// The name.
        name: String,
    },

    /// No simulation of this name (or no `data.h5` in its directory).
    #[error("no simulation `{name}` in {}", path.display())]
    NoSuchSimulation {
        /// The collection directory.
        path: PathBuf,
        /// The name.
        name: String,
    },

    /// A group is not a series (it lacks the attribute `.series = True`), or a step or field
    /// is missing from it.
    #[error("series `{series}` in {}: {message}", file.display())]
    Series {
        /// The HDF5 file.
        file: PathBuf,
        /// The series path.
        series: String,
        /// What is wrong.
        message: String,
    },

    /// A simulation run (see `SimulationWriter::run`) failed on some rank; its status was set
    /// to `failed [message]`.
    #[error("simulation `{name}` failed: {message}")]
    RunFailed {
        /// The simulation name.
        name: String,
        /// The first failing rank's error, prefixed with its rank.
        message: String,
    },

    /// The SQLite index failed (a query, a write, or the file itself).
    #[error("index {}: {message}", path.display())]
    Index {
        /// The index file (`:memory:` for an in-memory index).
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },

    /// The index file is not a bamboost index: corrupted, or another program's database.
    #[error(
        "{} is not a usable bamboost index ({message}); move it aside and run `bamboost scan` \
         to rebuild it from the collections on disk",
        path.display()
    )]
    NotAnIndex {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// No collection has this UID or alias, in the index or under the search paths.
    #[error(
        "no collection with uid or alias `{key}` in the index or under the search paths; \
         check the spelling, or run `bamboost scan` after adding its directory to \
         `[index] searchPaths`"
    )]
    UnknownCollection {
        /// The UID or alias asked for.
        key: String,
    },

    /// A link points to a simulation the index cannot find (with `strictLinks`).
    #[error("link `{name}` points to `{target}`, which is in no indexed collection")]
    UnknownLinkTarget {
        /// The link name.
        name: String,
        /// The target, `<COLLECTION_UID>:<name>`.
        target: String,
    },

    /// A filter or sort expression could not be parsed.
    #[error("invalid filter `{expression}`: {reason}")]
    InvalidFilter {
        /// The expression as given.
        expression: String,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with bamboost's [`Error`] as the default error type.
///
/// # MPI
///
/// Local.
pub type Result<T, E = Error> = std::result::Result<T, E>;
