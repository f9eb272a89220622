//! [`Comm`]: the communicator handle, with its serial and MPI back ends.

use super::activation::{self, Backend};
use super::message;
use super::op::{self, NativeOp, Op};
use super::scalar::Scalar;
use super::scope;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

#[cfg(feature = "mpi")]
use super::native::{self, MpiComm};

/// The largest tag every MPI library accepts (`MPI_TAG_UB` is at least this).
const MAX_TAG: i32 = 32767;

/// A communicator: the group of ranks that take part in a collective operation.
///
/// `Comm` is a cheap handle (an `Arc`): clone it freely. It has two back ends behind one API:
///
/// - **serial**: one rank (rank 0 of size 1). Collectives return their input
///   (`allgather` and `gather` a one-element `Vec`), `barrier` does nothing. This is what every
///   communicator is in a build without the `mpi` feature, or when MPI is off.
/// - **MPI**: an MPI communicator (rsmpi), when bamboost is built with the `mpi` feature and MPI
///   is active (see [`crate::mpi`] for the activation rules).
///
/// The object collectives (`bcast`, `scatter`, `gather`, `allgather`, `reduce`, `allreduce`,
/// `scan`, `send`, `recv`) move any serde type, encoded with bincode, like mpi4py's lower-case
/// methods. The buffer collectives (`bcast_into`, `allgatherv`, `allreduce_into`) move slices of
/// plain numbers ([`Scalar`]) without encoding, like mpi4py's upper-case methods.
///
/// Inside a root-only scope ([`self_scope`](crate::mpi::self_scope), or the body of a
/// `#[root_process]` method) every `Comm` behaves as a single-rank communicator.
///
/// Two handles compare equal when they refer to the same communicator.
/// [`Comm::world`] and [`Comm::self_comm`] are distinct communicators in both back ends.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, mpi::op};
///
/// let comm = Comm::world();
/// let total = comm.allreduce(comm.rank() + 1, op::Sum)?;
/// assert_eq!(total, comm.size() * (comm.size() + 1) / 2);
/// let names = comm.allgather(format!("rank {}", comm.rank()))?;
/// assert_eq!(names.len(), comm.size());
/// # Ok::<(), bamboost::Error>(())
/// ```
///
/// # MPI
///
/// Each method says whether it is collective or local; cloning and comparing handles is local.
#[derive(Clone)]
pub struct Comm {
    inner: Arc<Inner>,
}

struct Inner {
    handle: Handle,
    /// Messages a single-rank communicator sent to itself, in order, with their tags.
    mailbox: Mutex<VecDeque<(i32, Vec<u8>)>>,
}

enum Handle {
    Serial {
        id: u64,
    },
    #[cfg(feature = "mpi")]
    Mpi(MpiComm),
}

/// How a call is carried out: by the single-rank rules, or through MPI.
enum Route<'a> {
    Single,
    #[cfg(feature = "mpi")]
    Mpi(&'a MpiComm),
    #[cfg(not(feature = "mpi"))]
    #[allow(dead_code)]
    Never(std::marker::PhantomData<&'a ()>),
}

/// Buffers kept for reuse are dropped above this size, so one huge message does not pin its
/// memory for the rest of the run.
const MAX_KEPT_BUFFER: usize = 64 << 20;

thread_local! {
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's reusable message buffer (empty on entry; a fresh one if a caller
/// up the stack holds it). Reusing it spares large messages an allocation and a round of page
/// faults on every call.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buffer = SCRATCH.take();
    buffer.clear();
    let result = f(&mut buffer);
    if buffer.capacity() <= MAX_KEPT_BUFFER {
        SCRATCH.set(buffer);
    }
    result
}

const SERIAL_WORLD: u64 = 0;
const SERIAL_SELF: u64 = 1;

fn next_serial_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(SERIAL_SELF + 1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Comm {
    fn from_handle(handle: Handle) -> Comm {
        Comm {
            inner: Arc::new(Inner {
                handle,
                mailbox: Mutex::new(VecDeque::new()),
            }),
        }
    }

    fn serial(id: u64) -> Comm {
        Comm::from_handle(Handle::Serial { id })
    }

    /// The world communicator: every rank of the job (or the serial back end, see [`crate::mpi`]
    /// for how it is chosen). Every call returns a handle to the same communicator.
    ///
    /// # Panics
    ///
    /// If the back end cannot be chosen, e.g. `BAMBOOST_MPI=1` in a build without the `mpi`
    /// feature. [`Comm::try_world`] returns that error instead.
    ///
    /// # MPI
    ///
    /// The first call is collective when MPI is chosen (it initialises MPI); later calls are
    /// local.
    pub fn world() -> Comm {
        Comm::try_world()
            .unwrap_or_else(|e| panic!("bamboost: cannot set up the world communicator: {e}"))
    }

    /// The world communicator, or the reason it cannot be set up.
    ///
    /// # Errors
    ///
    /// [`Error::MpiNotCompiled`], [`Error::MpiThreading`] or [`Error::Config`] (see
    /// [`mpi::init`](crate::mpi::init)).
    ///
    /// # MPI
    ///
    /// As [`Comm::world`].
    pub fn try_world() -> Result<Comm> {
        static WORLD: OnceLock<Comm> = OnceLock::new();
        if let Some(world) = WORLD.get() {
            return Ok(world.clone());
        }
        let world = match activation::chosen()? {
            Backend::Serial => Comm::serial(SERIAL_WORLD),
            #[cfg(feature = "mpi")]
            Backend::Mpi => Comm::from_handle(Handle::Mpi(MpiComm::world())),
            #[cfg(not(feature = "mpi"))]
            Backend::Mpi => {
                unreachable!("the MPI back end is never chosen without the `mpi` feature")
            }
        };
        Ok(WORLD.get_or_init(|| world).clone())
    }

    /// The communicator holding only the calling rank (`MPI_COMM_SELF` with MPI). It is a
    /// different communicator from [`Comm::world`], even in a serial run.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn self_comm() -> Comm {
        static SELF: OnceLock<Comm> = OnceLock::new();
        SELF.get_or_init(|| match activation::chosen() {
            #[cfg(feature = "mpi")]
            Ok(Backend::Mpi) => Comm::from_handle(Handle::Mpi(MpiComm::self_comm())),
            _ => Comm::serial(SERIAL_SELF),
        })
        .clone()
    }

    /// The MPI world communicator, even when MPI is switched off for [`Comm::world`]: the Rust
    /// form of passing mpi4py's `COMM_WORLD` explicitly. Initialises MPI if needed.
    ///
    /// # Errors
    ///
    /// [`Error::MpiThreading`] if the MPI library lacks `MPI_THREAD_MULTIPLE`.
    ///
    /// # MPI
    ///
    /// Collective on the first call (it may initialise MPI).
    #[cfg(feature = "mpi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
    pub fn mpi_world() -> Result<Comm> {
        native::ensure_initialized()?;
        Ok(Comm::from_handle(Handle::Mpi(MpiComm::world())))
    }

    /// Wraps an rsmpi communicator, e.g. one made by your own code, so bamboost uses it.
    ///
    /// # Errors
    ///
    /// [`Error::MpiThreading`] if the MPI library lacks `MPI_THREAD_MULTIPLE`.
    ///
    /// # MPI
    ///
    /// Local.
    #[cfg(feature = "mpi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
    pub fn from_mpi(comm: rsmpi::topology::SimpleCommunicator) -> Result<Comm> {
        native::ensure_initialized()?;
        Ok(Comm::from_handle(Handle::Mpi(MpiComm::new(comm))))
    }

    /// The rsmpi communicator behind this handle, or `None` for the serial back end.
    ///
    /// # MPI
    ///
    /// Local.
    #[cfg(feature = "mpi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
    pub fn as_mpi(&self) -> Option<&rsmpi::topology::SimpleCommunicator> {
        match &self.inner.handle {
            Handle::Mpi(m) => Some(m.raw()),
            Handle::Serial { .. } => None,
        }
    }

    /// Whether this handle is an MPI communicator (rather than the serial back end).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn is_mpi(&self) -> bool {
        !matches!(self.inner.handle, Handle::Serial { .. })
    }

    fn route(&self) -> Route<'_> {
        if scope::in_self_scope() {
            return Route::Single;
        }
        match &self.inner.handle {
            Handle::Serial { .. } => Route::Single,
            #[cfg(feature = "mpi")]
            Handle::Mpi(m) => Route::Mpi(m),
        }
    }

    /// Whether collectives on this communicator involve only the calling rank (serial back end,
    /// a root-only scope, or a communicator of size 1).
    pub(crate) fn is_single(&self) -> bool {
        self.size() == 1
    }

    /// The rank of the calling process in this communicator, from 0.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn rank(&self) -> usize {
        match self.route() {
            Route::Single => 0,
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.rank(),
            #[cfg(not(feature = "mpi"))]
            Route::Never(_) => unreachable!(),
        }
    }

    /// The rank in this communicator as if no root-only scope were active.
    pub(crate) fn rank_outside_scope(&self) -> usize {
        match &self.inner.handle {
            Handle::Serial { .. } => 0,
            #[cfg(feature = "mpi")]
            Handle::Mpi(m) => m.rank(),
        }
    }

    /// The number of ranks in this communicator.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn size(&self) -> usize {
        match self.route() {
            Route::Single => 1,
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.size(),
            #[cfg(not(feature = "mpi"))]
            Route::Never(_) => unreachable!(),
        }
    }

    /// Waits until every rank has called it. Does nothing on a single rank.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn barrier(&self) {
        #[cfg(feature = "mpi")]
        if let Route::Mpi(m) = self.route() {
            m.barrier();
        }
    }

    fn check_rank(&self, rank: usize) -> Result<()> {
        let size = self.size();
        if rank < size {
            Ok(())
        } else {
            Err(Error::InvalidRank { rank, size })
        }
    }

    /// The label of the last `#[root_process]` message broadcast on this communicator, for the
    /// MPI back end outside a root-only scope (the only case where messages travel).
    pub(crate) fn last_label(&self) -> Option<&super::message::LastLabel> {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => Some(m.last_label()),
            _ => None,
        }
    }

    /// Broadcasts the framed message in `bytes` from `root`; on the other ranks `bytes` is
    /// replaced by it.
    pub(crate) fn bcast_message(&self, root: usize, bytes: &mut Vec<u8>) {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.bcast_bytes(root, bytes),
            _ => {
                // A single rank already holds the message.
                let _ = bytes;
                debug_assert_eq!(root, 0, "a single rank broadcasts from rank 0");
            }
        }
    }

    /// Sends `value` from `root` to every rank; every rank returns it. The value passed on
    /// other ranks is ignored (mpi4py's `bcast`). See also [`Comm::bcast_from`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRank`] for a bad `root`; [`Error::Codec`] if the value cannot be encoded
    /// (on every rank) or decoded; [`Error::Desync`] if `root` was in a different call.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn bcast<T: Serialize + DeserializeOwned>(&self, value: T, root: usize) -> Result<T> {
        self.bcast_from(root, || value)
    }

    /// Runs `make` on `root` only and sends its value to every rank: for values that only the
    /// root can or should compute (random names, file contents).
    ///
    /// # Errors
    ///
    /// As [`Comm::bcast`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn bcast_from<T: Serialize + DeserializeOwned>(
        &self,
        root: usize,
        make: impl FnOnce() -> T,
    ) -> Result<T> {
        self.check_rank(root)?;
        if self.is_single() {
            return Ok(make());
        }
        with_scratch(|buffer| {
            if self.rank() == root {
                let value = make();
                let failure = message::value_into(buffer, &value);
                self.bcast_message(root, buffer);
                return failure.map_or(Ok(value), Err);
            }
            self.bcast_message(root, buffer);
            let fresh = message::LastLabel::default();
            let last = self.last_label().unwrap_or(&fresh);
            message::open_broadcast(buffer, "Comm::bcast", root, last)
        })
    }

    /// Sends `values[i]` from `root` to rank `i`; every rank returns its value. `values`
    /// matters on `root` only (pass an empty `Vec` elsewhere).
    ///
    /// # Errors
    ///
    /// [`Error::ScatterCount`] on every rank if the root passes a number of values different
    /// from [`Comm::size`]; otherwise as [`Comm::bcast`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn scatter<T: Serialize + DeserializeOwned>(
        &self,
        values: Vec<T>,
        root: usize,
    ) -> Result<T> {
        self.check_rank(root)?;
        let size = self.size();
        let is_root = self.rank() == root;
        if is_root && values.len() != size {
            let err = Error::ScatterCount {
                got: values.len(),
                size,
            };
            if size > 1 {
                self.scatter_messages(root, Some(vec![message::failed(&err); size]))?;
            }
            return Err(err);
        }
        if self.is_single() {
            return values
                .into_iter()
                .next()
                .ok_or(Error::ScatterCount { got: 0, size });
        }
        let messages = is_root.then(|| values.iter().map(|v| message::value(v).0).collect());
        message::open(
            &self.scatter_messages(root, messages)?,
            "Comm::scatter",
            root,
        )
    }

    fn scatter_messages(&self, root: usize, messages: Option<Vec<Vec<u8>>>) -> Result<Vec<u8>> {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.scatter_bytes(root, messages),
            _ => {
                debug_assert_eq!(root, 0, "a single rank scatters from rank 0");
                Ok(messages
                    .and_then(|m| m.into_iter().next())
                    .unwrap_or_default())
            }
        }
    }

    /// Collects one value per rank on `root`, in rank order: `Some(values)` on `root`, `None`
    /// elsewhere. Unlike Python bamboost's serial mock, a single rank also gets a `Vec`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRank`]; on `root`, [`Error::Codec`] if a value cannot be encoded or
    /// decoded.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn gather<T: Serialize + DeserializeOwned>(
        &self,
        value: T,
        root: usize,
    ) -> Result<Option<Vec<T>>> {
        self.check_rank(root)?;
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) if m.size() > 1 => {
                let (bytes, failure) = message::value(&value);
                match (m.gather_bytes(root, &bytes)?, failure) {
                    (_, Some(e)) => Err(e),
                    (Some(all), None) => all
                        .iter()
                        .enumerate()
                        .map(|(rank, b)| message::open(b, "Comm::gather", rank))
                        .collect::<Result<_>>()
                        .map(Some),
                    (None, None) => Ok(None),
                }
            }
            _ => Ok(Some(vec![value])),
        }
    }

    /// Collects one value per rank on every rank, in rank order.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`] if a value cannot be encoded or decoded.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn allgather<T: Serialize + DeserializeOwned>(&self, value: T) -> Result<Vec<T>> {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) if m.size() > 1 => m
                .allgather_bytes(&message::value(&value).0)?
                .iter()
                .enumerate()
                .map(|(rank, b)| message::open(b, "Comm::allgather", rank))
                .collect(),
            _ => Ok(vec![value]),
        }
    }

    /// Combines the values of all ranks with `op` (applied in rank order) on `root`:
    /// `Some(result)` on `root`, `None` elsewhere.
    ///
    /// # Errors
    ///
    /// As [`Comm::gather`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn reduce<T: Serialize + DeserializeOwned>(
        &self,
        value: T,
        op: impl Op<T>,
        root: usize,
    ) -> Result<Option<T>> {
        Ok(self.gather(value, root)?.and_then(|all| op::fold(all, &op)))
    }

    /// Combines the values of all ranks with `op`, applied in rank order; every rank returns
    /// the same result.
    ///
    /// # Errors
    ///
    /// As [`Comm::allgather`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn allreduce<T: Serialize + DeserializeOwned>(
        &self,
        value: T,
        op: impl Op<T>,
    ) -> Result<T> {
        let all = self.allgather(value)?;
        Ok(op::fold(all, &op).expect("a communicator has at least one rank"))
    }

    /// Inclusive prefix reduction: rank `r` returns the values of ranks `0..=r` combined with
    /// `op` (`MPI_Scan`).
    ///
    /// # Errors
    ///
    /// As [`Comm::allgather`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn scan<T: Serialize + DeserializeOwned>(&self, value: T, op: impl Op<T>) -> Result<T> {
        let rank = self.rank();
        let all = self.allgather(value)?;
        Ok(op::fold(all.into_iter().take(rank + 1), &op)
            .expect("a communicator has at least one rank"))
    }

    fn check_tag(tag: i32) -> Result<()> {
        if (0..=MAX_TAG).contains(&tag) {
            Ok(())
        } else {
            Err(Error::InvalidTag { tag })
        }
    }

    /// Sends `value` to rank `dest` with a message `tag` (0..=32767). On a single rank, the
    /// message waits in this communicator's mailbox for a matching [`Comm::recv`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRank`], [`Error::InvalidTag`]; [`Error::Codec`] if the value cannot be
    /// encoded (the receiver then gets the same error).
    ///
    /// # MPI
    ///
    /// Point-to-point: the calling rank and `dest`.
    pub fn send<T: Serialize>(&self, value: &T, dest: usize, tag: i32) -> Result<()> {
        self.check_rank(dest)?;
        Comm::check_tag(tag)?;
        let (bytes, failure) = message::value(value);
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.send_bytes(dest, tag, &bytes),
            _ => self
                .inner
                .mailbox
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back((tag, bytes)),
        }
        failure.map_or(Ok(()), Err)
    }

    /// Receives a value that rank `source` sent with [`Comm::send`] and the same `tag`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRank`], [`Error::InvalidTag`], [`Error::Codec`];
    /// [`Error::NoPendingMessage`] on a single rank when no such message was sent (MPI would
    /// block forever).
    ///
    /// # MPI
    ///
    /// Point-to-point: the calling rank and `source`.
    pub fn recv<T: DeserializeOwned>(&self, source: usize, tag: i32) -> Result<T> {
        self.check_rank(source)?;
        Comm::check_tag(tag)?;
        let bytes = match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.recv_bytes(source, tag),
            _ => {
                let mut mailbox = self.inner.mailbox.lock().unwrap_or_else(|e| e.into_inner());
                let at = mailbox
                    .iter()
                    .position(|(t, _)| *t == tag)
                    .ok_or(Error::NoPendingMessage { tag })?;
                mailbox
                    .remove(at)
                    .map(|(_, bytes)| bytes)
                    .unwrap_or_default()
            }
        };
        message::open(&bytes, "Comm::recv", source)
    }

    /// Broadcasts `buf` from `root` into `buf` on every rank, without encoding. Every rank must
    /// pass a buffer of the same length.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRank`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn bcast_into<T: Scalar>(&self, buf: &mut [T], root: usize) -> Result<()> {
        self.check_rank(root)?;
        #[cfg(feature = "mpi")]
        if let Route::Mpi(m) = self.route() {
            m.bcast_into(root, buf);
        }
        #[cfg(not(feature = "mpi"))]
        let _ = buf;
        Ok(())
    }

    /// Concatenates the slices of all ranks, in rank order, on every rank. The slices may have
    /// different lengths (`MPI_Allgatherv`; the counts are exchanged first).
    ///
    /// # Errors
    ///
    /// [`Error::MessageTooLarge`] if the total exceeds `i32::MAX` elements.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn allgatherv<T: Scalar>(&self, local: &[T]) -> Result<Vec<T>> {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.allgatherv(local),
            _ => Ok(local.to_vec()),
        }
    }

    /// Sends `counts[d]` consecutive elements of `send` to rank `d` (in rank order) and returns
    /// what every rank sent to this one, concatenated in rank order (`MPI_Alltoallv`; the
    /// counts are exchanged first).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCounts`], on every rank, if on any rank `counts` does not have one entry
    /// per rank or does not sum to `send.len()`.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn alltoallv<T: Scalar>(&self, send: &[T], counts: &[usize]) -> Result<Vec<T>> {
        let mut recv = Vec::new();
        self.alltoallv_into(send, counts, &mut recv)?;
        Ok(recv)
    }

    /// As [`alltoallv`](Self::alltoallv), into `recv` (cleared first), so that repeated
    /// exchanges reuse one buffer.
    ///
    /// # Errors
    ///
    /// As [`alltoallv`](Self::alltoallv); `recv` is then empty.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn alltoallv_into<T: Scalar>(
        &self,
        send: &[T],
        counts: &[usize],
        recv: &mut Vec<T>,
    ) -> Result<()> {
        recv.clear();
        let invalid = (counts.len() != self.size() || counts.iter().sum::<usize>() != send.len())
            .then(|| {
                format!(
                    "rank {}: {} counts summing to {} for {} ranks and {} elements",
                    self.rank(),
                    counts.len(),
                    counts.iter().sum::<usize>(),
                    self.size(),
                    send.len()
                )
            });
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => {
                // Every rank learns of bad counts on any rank, so none is left waiting.
                let problems = self.allgather(invalid)?;
                if let Some(message) = problems.into_iter().flatten().next() {
                    return Err(Error::InvalidCounts { message });
                }
                m.alltoallv_into(send, counts, recv)
            }
            _ => match invalid {
                Some(message) => Err(Error::InvalidCounts { message }),
                None => {
                    recv.extend_from_slice(send);
                    Ok(())
                }
            },
        }
    }

    /// Combines `send` element-wise over all ranks with a predefined operator into `recv` on
    /// every rank, without encoding (`MPI_Allreduce`).
    ///
    /// # Errors
    ///
    /// [`Error::BufferLength`] if `send` and `recv` differ in length.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn allreduce_into<T: Scalar>(
        &self,
        send: &[T],
        recv: &mut [T],
        op: impl NativeOp,
    ) -> Result<()> {
        if send.len() != recv.len() {
            return Err(Error::BufferLength {
                send: send.len(),
                recv: recv.len(),
            });
        }
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m.allreduce_into(send, recv, op.kind()),
            _ => {
                let _ = op;
                recv.copy_from_slice(send);
            }
        }
        Ok(())
    }

    /// Splits the communicator: ranks passing the same `color` form a new communicator, ordered
    /// by `key` (then by their old rank). A rank passing `None` (`MPI_UNDEFINED`) gets `None`,
    /// so a null communicator can never be used by mistake.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidColor`] if `color` exceeds `i32::MAX`.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn split(&self, color: Option<u32>, key: i32) -> Result<Option<Comm>> {
        let color = color
            .map(|c| i32::try_from(c).map_err(|_| Error::InvalidColor { color: c }))
            .transpose()?;
        Ok(match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => m
                .split(color, key)
                .map(|c| Comm::from_handle(Handle::Mpi(c))),
            _ => {
                let _ = key; // A single rank has nothing to order.
                color.map(|_| Comm::serial(next_serial_id()))
            }
        })
    }

    /// A new communicator with the same ranks (`MPI_Comm_dup`): messages on it never mix with
    /// messages on `self`.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn dup(&self) -> Comm {
        match self.route() {
            #[cfg(feature = "mpi")]
            Route::Mpi(m) => Comm::from_handle(Handle::Mpi(m.dup())),
            _ => Comm::serial(next_serial_id()),
        }
    }
}

impl PartialEq for Comm {
    fn eq(&self, other: &Comm) -> bool {
        match (&self.inner.handle, &other.inner.handle) {
            (Handle::Serial { id: a }, Handle::Serial { id: b }) => a == b,
            #[cfg(feature = "mpi")]
            (Handle::Mpi(a), Handle::Mpi(b)) => a.same_as(b),
            #[cfg(feature = "mpi")]
            _ => false,
        }
    }
}

impl Eq for Comm {}

impl fmt::Debug for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = if self.is_mpi() { "mpi" } else { "serial" };
        f.debug_struct("Comm")
            .field("backend", &backend)
            .field("rank", &self.rank())
            .field("size", &self.size())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpi::op::{Max, Min, Prod, Sum};

    /// A serial communicator, independent of the process-wide activation.
    fn serial() -> Comm {
        Comm::serial(next_serial_id())
    }

    #[test]
    fn serial_collectives_are_identities() -> Result<()> {
        let c = serial();
        assert_eq!((c.rank(), c.size()), (0, 1));
        c.barrier();
        assert_eq!(c.bcast("x".to_string(), 0)?, "x");
        assert_eq!(c.bcast_from(0, || 5)?, 5);
        assert_eq!(c.scatter(vec![[1, 2]], 0)?, [1, 2]);
        assert_eq!(c.gather(3, 0)?, Some(vec![3]));
        assert_eq!(c.allgather(3)?, vec![3]);
        assert_eq!(c.reduce(4, Sum, 0)?, Some(4));
        assert_eq!(c.allreduce(4.5, Max)?, 4.5);
        assert_eq!(c.allreduce(2, Min)?, 2);
        assert_eq!(c.scan(2, Prod)?, 2);
        assert_eq!(
            c.allreduce("a".to_string(), |a: String, b: String| a + &b)?,
            "a"
        );
        Ok(())
    }

    #[test]
    fn serial_buffers_copy_through() -> Result<()> {
        let c = serial();
        let mut buf = [1.0, 2.0];
        c.bcast_into(&mut buf, 0)?;
        assert_eq!(buf, [1.0, 2.0]);
        assert_eq!(c.allgatherv(&[1u8, 2, 3])?, vec![1, 2, 3]);
        assert_eq!(c.alltoallv(&[4u16, 5], &[2])?, vec![4, 5]);
        assert!(matches!(
            c.alltoallv(&[4u16, 5], &[1]),
            Err(Error::InvalidCounts { .. })
        ));
        let mut kept = vec![9u16; 5];
        c.alltoallv_into(&[4u16, 5], &[2], &mut kept)?;
        assert_eq!(kept, [4, 5]);
        assert!(c.alltoallv_into(&[4u16], &[2], &mut kept).is_err());
        assert!(kept.is_empty());
        let mut out = [0i64; 2];
        c.allreduce_into(&[5, 6], &mut out, Sum)?;
        assert_eq!(out, [5, 6]);
        assert_eq!(
            c.allreduce_into(&[1, 2], &mut [0; 3], Sum),
            Err(Error::BufferLength { send: 2, recv: 3 })
        );
        Ok(())
    }

    #[test]
    fn bad_arguments_are_typed_errors() {
        let c = serial();
        assert_eq!(c.bcast(1, 1), Err(Error::InvalidRank { rank: 1, size: 1 }));
        assert_eq!(c.gather(1, 3), Err(Error::InvalidRank { rank: 3, size: 1 }));
        assert_eq!(
            c.scatter(vec![1, 2], 0),
            Err(Error::ScatterCount { got: 2, size: 1 })
        );
        assert_eq!(c.send(&1, 0, -1), Err(Error::InvalidTag { tag: -1 }));
        assert_eq!(
            c.send(&1, 0, 40_000),
            Err(Error::InvalidTag { tag: 40_000 })
        );
        assert_eq!(
            c.split(Some(u32::MAX), 0).err(),
            Some(Error::InvalidColor { color: u32::MAX })
        );
    }

    #[test]
    fn serial_send_and_recv_use_a_mailbox_by_tag() -> Result<()> {
        let c = serial();
        c.send(&"first", 0, 1)?;
        c.send(&vec![1, 2], 0, 2)?;
        c.send(&"second", 0, 1)?;
        assert_eq!(c.recv::<Vec<i32>>(0, 2)?, vec![1, 2]);
        assert_eq!(c.recv::<String>(0, 1)?, "first");
        assert_eq!(c.recv::<String>(0, 1)?, "second");
        assert_eq!(
            c.recv::<String>(0, 1),
            Err(Error::NoPendingMessage { tag: 1 })
        );
        Ok(())
    }

    #[test]
    fn split_and_dup_make_distinct_communicators() -> Result<()> {
        let c = serial();
        let dup = c.dup();
        assert_ne!(dup, c);
        assert_eq!(dup.clone(), dup);
        let sub = c
            .split(Some(3), 0)?
            .expect("a defined color gives a communicator");
        assert_ne!(sub, c);
        assert_eq!(c.split(None, 0)?, None);
        Ok(())
    }

    #[test]
    fn world_and_self_are_distinct() {
        assert_ne!(Comm::serial(SERIAL_WORLD), Comm::serial(SERIAL_SELF));
    }

    #[test]
    fn inside_a_self_scope_every_comm_is_single() {
        let c = serial();
        crate::mpi::self_scope(|| {
            assert_eq!((c.rank(), c.size()), (0, 1));
            assert!(c.is_single());
        });
    }
}
