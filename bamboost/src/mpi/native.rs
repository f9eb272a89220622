//! The MPI back end: initialisation, the abort-on-panic hook, and the byte and buffer transfers
//! that [`Comm`](crate::Comm) builds its collectives on. Compiled only with the `mpi` feature.

use super::message::{self, LastLabel};
use super::op::OpKind;
use super::scalar::Scalar;
use super::scope;
use crate::error::{Error, Result};
use rsmpi::collective::SystemOperation;
use rsmpi::datatype::{Partition, PartitionMut};
use rsmpi::topology::{Color, SimpleCommunicator};
use rsmpi::traits::*;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, Weak};

/// An MPI communicator owned by bamboost.
pub(crate) struct MpiComm {
    comm: ManuallyDrop<SimpleCommunicator>,
    /// This process's rank and the communicator's size, fixed for its lifetime.
    rank: usize,
    size: usize,
    /// Shared by every handle of the same MPI communicator in this process.
    history: Arc<History>,
}

// SAFETY: bamboost only uses MPI after checking that the library runs with
// `MPI_THREAD_MULTIPLE` (see `ensure_initialized`), the level at which any thread may call MPI on
// any communicator at any time.
unsafe impl Send for MpiComm {}
// SAFETY: as for `Send`: with `MPI_THREAD_MULTIPLE`, concurrent calls on one communicator are
// allowed by the MPI standard.
unsafe impl Sync for MpiComm {}

impl Drop for MpiComm {
    fn drop(&mut self) {
        // Freeing a communicator after `MPI_Finalize` is an MPI error; at that point the
        // process is ending and the handle is simply forgotten.
        if !rsmpi::is_finalized() {
            // SAFETY: the field is never used again after this drop.
            unsafe { ManuallyDrop::drop(&mut self.comm) }
        }
    }
}

/// The longest broadcast header: Open MPI's inline-send limit.
const MAX_HEADER: usize = 256;
/// The shortest broadcast header: enough for any length prefix.
const MIN_HEADER: usize = 16;
/// How many recent messages size the next header.
const WINDOW: usize = 16;

/// What every rank remembers of the broadcasts on one communicator, to keep the messages short:
///
/// - the header sizes the last [`WINDOW`] messages needed: the next header is the largest of
///   them;
/// - the label of the last `#[root_process]` message, which a repeated call leaves out.
///
/// Every rank receives every broadcast, in the same order, so every rank remembers the same
/// things and picks the same header size without talking to the others (a broadcast's sizes
/// must match). Handles of one MPI communicator share one record, so that a program mixing,
/// say, `Comm::world()` and `Comm::mpi_world()` stays consistent.
pub(crate) struct History {
    needed: [AtomicU16; WINDOW],
    next: AtomicUsize,
    header: AtomicUsize,
    last_label: LastLabel,
}

/// A raw MPI communicator handle, as a registry key.
#[derive(PartialEq)]
struct Handle(rsmpi::ffi::MPI_Comm);

// SAFETY: the handle is only compared, never used to call MPI.
unsafe impl Send for Handle {}

impl History {
    /// The record of the MPI communicator `comm`, shared with its other live handles.
    fn of(comm: &SimpleCommunicator) -> Arc<History> {
        static RECORDS: Mutex<Vec<(Handle, Weak<History>)>> = Mutex::new(Vec::new());
        let key = Handle(comm.as_raw());
        let mut records = RECORDS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        records.retain(|(_, record)| record.strong_count() > 0);
        if let Some(record) = records
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, record)| record.upgrade())
        {
            return record;
        }
        let record = Arc::new(History::new());
        records.push((key, Arc::downgrade(&record)));
        record
    }

    /// A record of a communicator with no broadcasts yet.
    fn new() -> History {
        History {
            needed: std::array::from_fn(|_| AtomicU16::new(0)),
            next: AtomicUsize::new(0),
            header: AtomicUsize::new(MIN_HEADER),
            last_label: LastLabel::default(),
        }
    }

    /// The size of the next broadcast header, in `MIN_HEADER..=MAX_HEADER`.
    fn header(&self) -> usize {
        self.header.load(Ordering::Relaxed)
    }

    /// Records that a message needed `bytes` of header. Broadcasts on one communicator are
    /// ordered (MPI requires it), so plain atomic loads and stores suffice. The window's largest
    /// entry is looked for again only when the entry that leaves the window set the header.
    fn record(&self, bytes: usize) {
        let clamp = |n: usize| n.clamp(MIN_HEADER, MAX_HEADER);
        let slot = self.next.load(Ordering::Relaxed);
        let left = usize::from(self.needed[slot].load(Ordering::Relaxed));
        self.needed[slot].store(bytes.min(MAX_HEADER) as u16, Ordering::Relaxed);
        self.next.store((slot + 1) % WINDOW, Ordering::Relaxed);
        let header = self.header();
        if clamp(bytes) >= header {
            self.header.store(clamp(bytes), Ordering::Relaxed);
        } else if clamp(left) == header {
            let largest = self
                .needed
                .iter()
                .map(|n| usize::from(n.load(Ordering::Relaxed)))
                .max()
                .unwrap_or(0);
            self.header.store(clamp(largest), Ordering::Relaxed);
        }
    }
}

impl MpiComm {
    pub(crate) fn new(comm: SimpleCommunicator) -> Self {
        let history = History::of(&comm);
        MpiComm {
            rank: comm.rank() as usize,
            size: comm.size() as usize,
            comm: ManuallyDrop::new(comm),
            history,
        }
    }

    pub(crate) fn world() -> Self {
        Self::new(SimpleCommunicator::world())
    }

    pub(crate) fn self_comm() -> Self {
        Self::new(SimpleCommunicator::self_comm())
    }

    /// The wrapped rsmpi communicator.
    pub(crate) fn raw(&self) -> &SimpleCommunicator {
        &self.comm
    }

    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The label of the last `#[root_process]` message on this communicator.
    pub(crate) fn last_label(&self) -> &LastLabel {
        &self.history.last_label
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn same_as(&self, other: &MpiComm) -> bool {
        self.comm.as_raw() == other.comm.as_raw()
    }

    pub(crate) fn barrier(&self) {
        self.comm.barrier();
    }

    /// Broadcasts the byte message in `bytes` from `root`; on the other ranks `bytes` is
    /// replaced by it (its allocation is reused).
    ///
    /// One broadcast of a header carries the length and as much of the message as fits; a
    /// longer message needs a second broadcast of the rest. The header is as long as the
    /// longest of the communicator's recent messages needed (see [`History`]), so a short
    /// message costs one short broadcast, and at most 256 bytes: Open MPI sends up to that
    /// inline, and a longer broadcast costs several times more.
    pub(crate) fn bcast_bytes(&self, root: usize, bytes: &mut Vec<u8>) {
        let header = self.history.header();
        let process = self.comm.process_at_rank(root as i32);
        let mut buffer = [0u8; MAX_HEADER];
        let head = &mut buffer[..header];
        let (len, prefix) = if self.rank == root {
            let (len_bytes, prefix) = message::encode_len(bytes.len());
            head[..prefix].copy_from_slice(&len_bytes[..prefix]);
            let inline = bytes.len().min(header - prefix);
            head[prefix..prefix + inline].copy_from_slice(&bytes[..inline]);
            process.broadcast_into(&mut head[..]);
            if bytes.len() > inline {
                process.broadcast_into(&mut bytes[inline..]);
            }
            (bytes.len(), prefix)
        } else {
            process.broadcast_into(&mut head[..]);
            let (len, prefix) = message::take_len(head)
                .unwrap_or_else(|e| panic!("bamboost: bad broadcast header: {e}"));
            let inline = len.min(header - prefix);
            bytes.clear();
            bytes.extend_from_slice(&head[prefix..prefix + inline]);
            if len > inline {
                bytes.resize(len, 0);
                process.broadcast_into(&mut bytes[inline..]);
            }
            (len, prefix)
        };
        // Every rank records the same length, so every rank sizes the next header the same.
        self.history.record(prefix + len);
    }

    /// Gathers one byte message per rank on `root`, in rank order.
    pub(crate) fn gather_bytes(&self, root: usize, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        let count = count_of(bytes.len())?;
        let anchor = [0u8];
        let bytes = real_address(bytes, &anchor);
        let process = self.comm.process_at_rank(root as i32);
        if self.rank() != root {
            process.gather_into(&count);
            process.gather_varcount_into(bytes);
            return Ok(None);
        }
        let mut counts = vec![0i32; self.size()];
        process.gather_into_root(&count, &mut counts[..]);
        let (displs, total) = displacements(&counts)?;
        let mut all = receive_buffer::<u8>(total);
        {
            let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            process.gather_varcount_into_root(bytes, &mut partition);
        }
        Ok(Some(split_messages(&all, &counts)))
    }

    /// Gathers one byte message per rank on every rank, in rank order.
    pub(crate) fn allgather_bytes(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        let counts = self.allgather_counts(bytes.len())?;
        let anchor = [0u8];
        let bytes = real_address(bytes, &anchor);
        let (displs, total) = displacements(&counts)?;
        let mut all = receive_buffer::<u8>(total);
        {
            let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.comm.all_gather_varcount_into(bytes, &mut partition);
        }
        Ok(split_messages(&all, &counts))
    }

    /// Sends one byte message from `root` to each rank (`messages` only matters on `root`).
    pub(crate) fn scatter_bytes(
        &self,
        root: usize,
        messages: Option<Vec<Vec<u8>>>,
    ) -> Result<Vec<u8>> {
        let process = self.comm.process_at_rank(root as i32);
        let mut count = 0i32;
        match messages {
            Some(messages) => {
                let counts = messages
                    .iter()
                    .map(|m| count_of(m.len()))
                    .collect::<Result<Vec<i32>>>()?;
                process.scatter_into_root(&counts[..], &mut count);
                let (displs, _) = displacements(&counts)?;
                let all = messages.concat();
                let anchor = [0u8];
                let all = real_address(&all, &anchor);
                let mut mine = receive_buffer::<u8>(count as usize);
                let partition = Partition::new(all, &counts[..], &displs[..]);
                process.scatter_varcount_into_root(&partition, &mut mine[..]);
                Ok(mine)
            }
            None => {
                process.scatter_into(&mut count);
                let mut mine = vec![0u8; count as usize];
                process.scatter_varcount_into(&mut mine[..]);
                Ok(mine)
            }
        }
    }

    pub(crate) fn send_bytes(&self, dest: usize, tag: i32, bytes: &[u8]) {
        let anchor = [0u8];
        let bytes = real_address(bytes, &anchor);
        self.comm
            .process_at_rank(dest as i32)
            .send_with_tag(bytes, tag);
    }

    pub(crate) fn recv_bytes(&self, source: usize, tag: i32) -> Vec<u8> {
        self.comm
            .process_at_rank(source as i32)
            .receive_vec_with_tag::<u8>(tag)
            .0
    }

    pub(crate) fn bcast_into<T: Scalar>(&self, root: usize, buf: &mut [T]) {
        self.comm.process_at_rank(root as i32).broadcast_into(buf);
    }

    pub(crate) fn allgatherv<T: Scalar>(&self, local: &[T]) -> Result<Vec<T>> {
        let counts = self.allgather_counts(local.len())?;
        let anchor = [T::zeroed()];
        let local = real_address(local, &anchor);
        let (displs, total) = displacements(&counts)?;
        let mut all = receive_buffer::<T>(total);
        {
            let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.comm.all_gather_varcount_into(local, &mut partition);
        }
        Ok(all)
    }

    pub(crate) fn alltoallv_into<T: Scalar>(
        &self,
        send: &[T],
        counts: &[usize],
        recv: &mut Vec<T>,
    ) -> Result<()> {
        let anchor = [T::zeroed()];
        let send = real_address(send, &anchor);
        let counts = counts
            .iter()
            .map(|&c| count_of(c))
            .collect::<Result<Vec<i32>>>()?;
        let mut recv_counts = vec![0i32; self.size()];
        self.comm.all_to_all_into(&counts[..], &mut recv_counts[..]);
        let (send_displs, _) = displacements(&counts)?;
        let (recv_displs, total) = displacements(&recv_counts)?;
        // Reused: zeroing memory already touched is cheap, fresh pages are not.
        recv.clear();
        recv.reserve_exact(total.max(1));
        recv.resize(total.max(1), T::zeroed());
        {
            let send = Partition::new(send, &counts[..], &send_displs[..]);
            let mut into = PartitionMut::new(&mut recv[..], &recv_counts[..], &recv_displs[..]);
            self.comm.all_to_all_varcount_into(&send, &mut into);
        }
        recv.truncate(total);
        Ok(())
    }

    pub(crate) fn allreduce_into<T: Scalar>(&self, send: &[T], recv: &mut [T], op: OpKind) {
        let anchor = [T::zeroed()];
        let send = real_address(send, &anchor);
        let op = match op {
            OpKind::Sum => SystemOperation::sum(),
            OpKind::Prod => SystemOperation::product(),
            OpKind::Max => SystemOperation::max(),
            OpKind::Min => SystemOperation::min(),
        };
        self.comm.all_reduce_into(send, recv, op);
    }

    /// `None` when `color` is `None` (`MPI_UNDEFINED`): this rank is in no new communicator.
    pub(crate) fn split(&self, color: Option<i32>, key: i32) -> Option<MpiComm> {
        let color = color.map_or_else(Color::undefined, Color::with_value);
        self.comm
            .split_by_color_with_key(color, key)
            .map(MpiComm::new)
    }

    pub(crate) fn dup(&self) -> MpiComm {
        MpiComm::new(self.comm.duplicate())
    }

    fn allgather_counts(&self, len: usize) -> Result<Vec<i32>> {
        let count = count_of(len)?;
        let mut counts = vec![0i32; self.size()];
        self.comm.all_gather_into(&count, &mut counts[..]);
        Ok(counts)
    }
}

/// `send`, or, when it is empty, an empty slice at a real address. Open MPI defines
/// `MPI_IN_PLACE` as address 1, which is exactly the dangling address of an empty `&[u8]`: a
/// rank with nothing to send would otherwise be taken as "in place" and send its receive buffer.
fn real_address<'a, T: Scalar>(send: &'a [T], anchor: &'a [T; 1]) -> &'a [T] {
    if send.is_empty() { &anchor[..0] } else { send }
}

/// A receive buffer of `len` placeholder zeros that is always a real allocation: an empty
/// `Vec` and an empty send slice can share the same dangling address, and MPI rejects a send
/// buffer that aliases the receive buffer (`MPI_ERR_ARG`).
fn receive_buffer<T: Scalar>(len: usize) -> Vec<T> {
    let mut buffer = Vec::with_capacity(len.max(1));
    buffer.resize(len, T::zeroed());
    buffer
}

fn count_of(len: usize) -> Result<i32> {
    i32::try_from(len).map_err(|_| Error::MessageTooLarge { len })
}

fn displacements(counts: &[i32]) -> Result<(Vec<i32>, usize)> {
    let mut displs = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for &c in counts {
        displs.push(count_of(total)?);
        total += c as usize;
    }
    Ok((displs, total))
}

fn split_messages(all: &[u8], counts: &[i32]) -> Vec<Vec<u8>> {
    let mut rest = all;
    counts
        .iter()
        .map(|&c| {
            let (head, tail) = rest.split_at(c as usize);
            rest = tail;
            head.to_vec()
        })
        .collect()
}

/// The universe bamboost initialised, finalised at process exit.
static UNIVERSE: Mutex<Option<rsmpi::environment::Universe>> = Mutex::new(None);

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
}

extern "C" fn finalize_at_exit() {
    if let Ok(mut universe) = UNIVERSE.lock() {
        // Dropping the universe calls `MPI_Finalize`.
        drop(universe.take());
    }
}

/// Initialises MPI with `MPI_THREAD_MULTIPLE` unless someone already did, checks the thread
/// level, and installs the abort-on-panic hook. Idempotent.
pub(crate) fn ensure_initialized() -> Result<()> {
    static RESULT: OnceLock<Result<()>> = OnceLock::new();
    RESULT
        .get_or_init(|| {
            if let Some((universe, _)) =
                rsmpi::initialize_with_threading(rsmpi::Threading::Multiple)
            {
                if let Ok(mut slot) = UNIVERSE.lock() {
                    *slot = Some(universe);
                }
                // SAFETY: `finalize_at_exit` is a plain `extern "C" fn()` that lives for the
                // whole program.
                unsafe { atexit(finalize_at_exit) };
            }
            let provided = rsmpi::environment::threading_support();
            if provided != rsmpi::Threading::Multiple {
                return Err(Error::MpiThreading {
                    provided: format!("{provided:?}"),
                });
            }
            install_abort_on_panic();
            Ok(())
        })
        .clone()
}

/// Makes a panic on any rank end the whole MPI job: without it, the other ranks wait forever in
/// their next collective. Panics that `#[root_process]` catches and broadcasts are let through.
fn install_abort_on_panic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if scope::panics_are_caught() {
                return;
            }
            if rsmpi::is_initialized() && !rsmpi::is_finalized() {
                let world = SimpleCommunicator::world();
                eprintln!(
                    "bamboost: rank {} of {} panicked; aborting the MPI job",
                    world.rank(),
                    world.size()
                );
                world.abort(101);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_largest_recent_need() {
        let history = History::new();
        let mut recent = std::collections::VecDeque::new();
        // Sizes that rise, fall and leave the window in every way (a fixed pseudo-random walk).
        let mut x = 7usize;
        for i in 0..2000 {
            x = (x * 1103515245 + 12345) % (1 << 31);
            let bytes = if i % 97 < 20 { x % 400 } else { x % 40 };
            history.record(bytes);
            recent.push_back(bytes.min(MAX_HEADER));
            if recent.len() > WINDOW {
                recent.pop_front();
            }
            let largest = recent.iter().copied().max().unwrap_or(0);
            assert_eq!(
                history.header(),
                largest.clamp(MIN_HEADER, MAX_HEADER),
                "after {i} messages"
            );
        }
    }
}
