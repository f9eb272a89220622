//! Distributed arrays: rows spread over the ranks, written into one dataset.

use super::element::{self, Element};
use super::file::Transfer;
use super::raw;
use crate::error::{Error, Result};
use crate::mpi::Comm;
use crate::mpi::op::Max;
use hdf5::plist::dataset_create::FillTime;
use ndarray::ArrayViewD;
use std::sync::OnceLock;

/// Creates a dataset of `shape` whose unwritten elements read as [`Element::FILL`]. Parallel
/// HDF5 allocates storage early and writes no fill unless a fill value is set.
pub(crate) fn create_filled<T: Element>(
    parent: &hdf5::Group,
    name: &str,
    shape: &[usize],
) -> hdf5::Result<hdf5::Dataset> {
    create::<T>(parent, name, shape, FillTime::IfSet)
}

/// As [`create_filled`], for a dataset the caller writes every element of: the fill value is
/// recorded (readers see it) but not written first, which would double the cost of the write
/// (parallel HDF5 allocates the whole dataset at creation and writes the fill value into it).
fn create_to_overwrite<T: Element>(
    parent: &hdf5::Group,
    name: &str,
    shape: &[usize],
) -> hdf5::Result<hdf5::Dataset> {
    create::<T>(parent, name, shape, FillTime::Never)
}

fn create<T: Element>(
    parent: &hdf5::Group,
    name: &str,
    shape: &[usize],
    fill_time: FillTime,
) -> hdf5::Result<hdf5::Dataset> {
    parent
        .new_dataset::<T>()
        .shape(shape)
        .fill_value(T::FILL)
        .fill_time(fill_time)
        .create(name)
}

/// As [`create_filled`], chunked and with an unlimited first dimension, so it can be resized
/// (Python bamboost's series `.map` and globals are such datasets).
pub(crate) fn create_resizable<T: Element>(
    parent: &hdf5::Group,
    name: &str,
    shape: &[usize],
) -> hdf5::Result<hdf5::Dataset> {
    let extents: Vec<hdf5::Extent> = shape
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            if i == 0 {
                hdf5::Extent::resizable(n)
            } else {
                hdf5::Extent::fixed(n)
            }
        })
        .collect();
    // Chunks of about 64 KiB: big enough for throughput, small enough for one step.
    let row: usize = shape.iter().skip(1).product::<usize>().max(1) * std::mem::size_of::<T>();
    let mut chunk: Vec<usize> = shape.iter().map(|&n| n.max(1)).collect();
    if let Some(first) = chunk.first_mut() {
        *first = (65536 / row).max(1);
    }
    parent
        .new_dataset::<T>()
        .shape(hdf5::Extents::Simple(hdf5::SimpleExtents::from_vec(
            extents,
        )))
        .chunk(chunk)
        .fill_value(T::FILL)
        .create(name)
}

/// Whether `name` in `parent` is something other than a dataset (a group, with everything in
/// it): writes that replace a dataset refuse to delete it. A soft link to a dataset counts as
/// the dataset; a dangling one as nothing.
pub(crate) fn is_not_a_dataset(parent: &hdf5::Group, name: &str) -> bool {
    parent.link_exists(name)
        && parent
            .loc_type_by_name(name)
            .is_ok_and(|kind| kind != hdf5::LocationType::Dataset)
}

/// What each rank contributes, exchanged first so that every rank detects the same problem.
#[derive(serde::Serialize, serde::Deserialize)]
struct Contribution {
    rows: usize,
    trailing: Vec<usize>,
    /// A local problem (e.g. the number of indices differs from the number of rows).
    problem: Option<String>,
    /// This rank's [`round_bytes`]; rank 0's is used, so that all ranks run the same rounds.
    round_bytes: Option<usize>,
}

/// Writes `local` as rows of dataset `name` in `parent`; see `Group::write_distributed_array`.
#[allow(clippy::too_many_arguments)] // The pieces of one collective call, passed through once.
pub(crate) fn write<T: Element>(
    comm: &Comm,
    parent: &hdf5::Group,
    name: &str,
    local: ArrayViewD<'_, T>,
    indices: Option<&[u64]>,
    transfer: Transfer,
    parallel: bool,
    shape_error: &dyn Fn(String) -> Error,
    hdf5_error: &dyn Fn(hdf5::Error) -> Error,
) -> Result<()> {
    let shape = local.shape();
    let (rows, trailing) = match shape.split_first() {
        Some((&rows, trailing)) => (rows, trailing.to_vec()),
        None => (1, Vec::new()),
    };
    let problem = match indices {
        Some(indices) if indices.len() != rows => Some(format!(
            "rank {} gives {} indices for {rows} rows",
            comm.rank(),
            indices.len()
        )),
        Some(indices) if indices.len() > u32::MAX as usize => Some(format!(
            "rank {} gives {} rows to a scattered write; at most {} rows per rank",
            comm.rank(),
            indices.len(),
            u32::MAX
        )),
        _ if shape.is_empty() => Some(format!(
            "rank {} gives a 0-dimensional array; give at least one dimension",
            comm.rank()
        )),
        _ => None,
    };
    let all = comm.allgather(Contribution {
        rows,
        trailing: trailing.clone(),
        problem,
        round_bytes: round_bytes(),
    })?;
    if let Some(problem) = all.iter().find_map(|c| c.problem.clone()) {
        return Err(shape_error(problem));
    }
    if let Some(other) = all.iter().position(|c| c.trailing != trailing) {
        return Err(shape_error(format!(
            "trailing dimensions differ between ranks: {:?} on rank {} and {:?} on rank {other}",
            trailing,
            comm.rank(),
            all[other].trailing
        )));
    }
    // Row-major data: borrowed when `local` already is.
    let local = local.as_standard_layout();
    let data = local
        .as_slice()
        .expect("a standard-layout array is a contiguous slice");
    let row_len: usize = trailing.iter().product();
    let shape_of = |rows: usize| [&[rows][..], &trailing].concat();
    let total: usize = all.iter().map(|c| c.rows).sum();
    let Some(indices) = indices else {
        // Input checked: replace an existing dataset.
        if parent.link_exists(name) {
            parent.unlink(name).map_err(hdf5_error)?;
        }
        let dataset =
            create_to_overwrite::<T>(parent, name, &shape_of(total)).map_err(hdf5_error)?;
        let first_row: usize = all[..comm.rank()].iter().map(|c| c.rows).sum();
        return raw::write_rows(&dataset, first_row, rows, data, transfer, parallel)
            .map_err(hdf5_error);
    };
    let global_len = comm.allreduce(indices.iter().max().map_or(0, |&i| i + 1), Max)? as usize;
    // A duplicate index shows only during the exchange, so the rows go into a new dataset that
    // replaces the old one only when all went well. With as many rows as the global length and
    // no duplicate, every row is written and the fill need not be written first.
    let partial = format!("{name}{PARTIAL_SUFFIX}");
    if parent.link_exists(&partial) {
        parent.unlink(&partial).map_err(hdf5_error)?;
    }
    let dataset = if total == global_len {
        create_to_overwrite::<T>(parent, &partial, &shape_of(global_len))
    } else {
        create_filled::<T>(parent, &partial, &shape_of(global_len))
    }
    .map_err(hdf5_error)?;
    let plan = Plan::new(
        comm,
        global_len,
        row_len * std::mem::size_of::<T>(),
        all[0]
            .round_bytes
            .unwrap_or_else(|| default_round_bytes(comm.size())),
    );
    let written = plan.write(comm, &dataset, indices, data, row_len, parallel, hdf5_error);
    drop(dataset);
    // Every rank must agree before touching the links: 0 all went well, `u64::MAX` a rank
    // failed, otherwise one more than a duplicated row.
    let outcome = match &written {
        Ok(duplicate) => duplicate.map_or(0, |i| i + 1),
        Err(_) => u64::MAX,
    };
    let outcome = comm.allreduce(outcome, Max)?;
    if outcome > 0 {
        parent.unlink(&partial).map_err(hdf5_error)?;
        written?;
        return Err(shape_error(if outcome == u64::MAX {
            "the write failed on another rank".into()
        } else {
            format!("global row {} is given more than once", outcome - 1)
        }));
    }
    if parent.link_exists(name) {
        parent.unlink(name).map_err(hdf5_error)?;
    }
    parent.relink(&partial, name).map_err(hdf5_error)
}

/// The local rows a scattered write sorts at a time (4 bytes each), unless a sixth of the local
/// data holds more: the rounds are sorted in groups, one pass over the indices each, so that
/// the memory for the order stays within 16 MiB or 1/6 of the local data whatever the row size
/// (4 bytes per row would be half the data for rows of one `f64`). Rows of 24 bytes or more are
/// sorted in one group; each further group costs a pass over the indices (a 1 GiB write at 4
/// ranks in groups of 1/8 of the local data took 20 % longer).
const SORTED_ROWS: usize = 1 << 22;

/// The local rows of a group of consecutive rounds, sorted by sub-block: a stable counting
/// sort, so in each sub-block the rows keep their local order and reading them walks the local
/// data forward.
#[derive(Default)]
struct Sorted {
    /// The group's first sub-block.
    first_block: usize,
    /// The round after the group's last.
    end_round: usize,
    /// Where each sub-block's rows start in `order`, and the end of the last.
    starts: Vec<usize>,
    /// Local row numbers.
    order: Vec<u32>,
}

impl Sorted {
    /// The local rows whose global rows fall into sub-block `b`, in local order.
    fn rows(&self, b: usize) -> &[u32] {
        let b = b - self.first_block;
        &self.order[self.starts[b]..self.starts[b + 1]]
    }
}

/// How many rows ahead a scattered write asks for the memory it will touch.
const AHEAD: usize = 16;

/// Asks the CPU to load the cache line at `p`. The rows of a scattered write are read and
/// placed in random order; without this, each row waits for its own cache misses.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    // SAFETY: SSE is part of every x86_64 CPU, and a prefetch is only a hint: it reads nothing
    // the program sees and never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch`] for the first and the last byte of `len` bytes from `p`.
#[inline(always)]
fn prefetch_span<T>(p: *const T, len: usize) {
    prefetch(p);
    prefetch(p.cast::<u8>().wrapping_add(len.saturating_sub(1)));
}

/// Appended to a dataset's name while a scattered write fills it.
const PARTIAL_SUFFIX: &str = ".bamboost-partial";

/// Bytes of rows a rank assembles per round of a scattered write, which bounds the memory a
/// scattered write needs beyond the local data: the environment variable
/// `BAMBOOST_SCATTER_ROUND_BYTES` if set (rank 0's value counts), otherwise
/// [`default_round_bytes`].
fn round_bytes() -> Option<usize> {
    static BYTES: OnceLock<Option<usize>> = OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var("BAMBOOST_SCATTER_ROUND_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&b| b > 0)
    })
}

/// The round size for `size` ranks. With several ranks small rounds are faster: a round's send,
/// receive and assembly buffers stay in the CPU's caches between being filled and being read (4
/// ranks, 256 MiB on tmpfs: 0.33–0.41 s in rounds of 2 MiB, 0.43–0.57 s in rounds of 16 MiB).
/// One rank has no exchange, and larger rounds read its rows less sparsely (0.56–0.61 s against
/// 0.62–0.65 s).
fn default_round_bytes(size: usize) -> usize {
    if size == 1 { 16 << 20 } else { 2 << 20 }
}

/// How a scattered write moves rows. The global rows are cut into sub-blocks of `sub` rows (a
/// power of two, so that a row's sub-block and offset in it are a shift and a mask); sub-block
/// `b` belongs to round `b / size` and rank `b % size`. In a round, every rank sends each owner
/// the rows that fall into the owner's sub-block (one `alltoallv`; its own rows it copies
/// directly), and the owners write their sub-blocks, now complete, each as one contiguous stretch
/// of the dataset (a stretch with holes would make MPI-IO read the file to fill them), with
/// independent transfer: the stretch needs no merging, and a collective write would copy every
/// byte once more to MPI-IO's aggregators (with it, a 256 MiB write at 4 ranks spent 230–400 ms
/// writing instead of 30–110 ms).
struct Plan {
    size: usize,
    global_len: usize,
    /// log2 of the rows per sub-block.
    shift: u32,
    rounds: usize,
}

impl Plan {
    fn new(comm: &Comm, global_len: usize, row_bytes: usize, round_bytes: usize) -> Plan {
        let size = comm.size();
        let wanted = (round_bytes / row_bytes.max(1)).clamp(1, global_len.div_ceil(size).max(1));
        // The largest power of two not above `wanted`; offsets must fit in a `u32`.
        let shift = (usize::BITS - 1 - wanted.leading_zeros()).min(31);
        Plan {
            size,
            global_len,
            shift,
            rounds: global_len.div_ceil(size << shift).max(1),
        }
    }

    /// The sub-block of a global row (round × size + owner).
    fn sub_block_of(&self, index: u64) -> usize {
        (index >> self.shift) as usize
    }

    /// A global row's position in its sub-block.
    fn offset_of(&self, index: u64) -> u32 {
        (index & ((1 << self.shift) - 1)) as u32
    }

    /// The global rows of sub-block `b`: first row and count (possibly 0).
    fn rows_of(&self, b: usize) -> (usize, usize) {
        let first = (b << self.shift).min(self.global_len);
        (first, (1usize << self.shift).min(self.global_len - first))
    }

    /// Sorts the local rows of the rounds from `round` on into `sorted`: as many rounds as hold
    /// at most `limit` local rows, and at least one. One pass over the indices, a counting sort
    /// by sub-block.
    fn sort_from(
        &self,
        round: usize,
        limit: usize,
        per_block: &[usize],
        indices: &[u64],
        sorted: &mut Sorted,
    ) {
        let rows_in =
            |round: usize| -> usize { per_block[round * self.size..][..self.size].iter().sum() };
        let mut rows = rows_in(round);
        let mut end = round + 1;
        while end < self.rounds && rows + rows_in(end) <= limit {
            rows += rows_in(end);
            end += 1;
        }
        let blocks = round * self.size..end * self.size;
        sorted.first_block = blocks.start;
        sorted.end_round = end;
        sorted.starts.clear();
        sorted.starts.push(0);
        for b in blocks.clone() {
            sorted
                .starts
                .push(sorted.starts.last().copied().unwrap_or(0) + per_block[b]);
        }
        // Fresh rather than reused: a large zeroed allocation costs no writes up front.
        sorted.order = vec![0; rows];
        let mut next = sorted.starts.clone();
        for (row, &index) in indices.iter().enumerate() {
            let b = self.sub_block_of(index);
            if blocks.contains(&b) {
                let at = &mut next[b - blocks.start];
                // Fits: the rows per rank were checked against `u32::MAX` first.
                sorted.order[*at] = row as u32;
                *at += 1;
            }
        }
    }

    /// Runs every round; returns a global row given twice, if this rank saw one.
    #[allow(clippy::too_many_arguments)] // The pieces of one collective call, passed through once.
    fn write<T: Element>(
        &self,
        comm: &Comm,
        dataset: &hdf5::Dataset,
        indices: &[u64],
        data: &[T],
        row_len: usize,
        parallel: bool,
        hdf5_error: &dyn Fn(hdf5::Error) -> Error,
    ) -> Result<Option<u64>> {
        let rank = comm.rank();
        let row_bytes = row_len * std::mem::size_of::<T>();
        // A record is the row's offset in its sub-block (4 bytes: a sub-block holds fewer
        // than 2^32 rows), then the row.
        let record = 4 + row_bytes;
        let mut per_block = vec![0usize; self.rounds * self.size];
        for &index in indices {
            per_block[self.sub_block_of(index)] += 1;
        }
        let mut sorted = Sorted::default();
        let sorted_rows = SORTED_ROWS.max(std::mem::size_of_val(data) / 24);
        let bytes = element::as_bytes(data);
        let fetch_row = |row: usize| {
            prefetch(indices.as_ptr().wrapping_add(row));
            prefetch_span(bytes.as_ptr().wrapping_add(row * row_bytes), row_bytes);
        };
        let (mut send, mut received) = (Vec::new(), Vec::new());
        let mut counts = vec![0usize; self.size];
        let (mut block, mut seen) = (Vec::<T>::new(), Vec::<u64>::new());
        let mut duplicate = None;
        for round in 0..self.rounds {
            if round == sorted.end_round {
                self.sort_from(round, sorted_rows, &per_block, indices, &mut sorted);
            }
            let local_rows = |b: usize| sorted.rows(b);
            let mine = round * self.size + rank;
            for (owner, count) in counts.iter_mut().enumerate() {
                let b = round * self.size + owner;
                *count = if b == mine {
                    0
                } else {
                    local_rows(b).len() * record
                };
            }
            let len = counts.iter().sum();
            send.clear();
            send.reserve_exact(len);
            send.resize(len, 0);
            let mut records = send.chunks_exact_mut(record);
            for owner in (0..self.size).filter(|&owner| owner != rank) {
                let rows_to_send = local_rows(round * self.size + owner);
                for (k, (&row, out)) in rows_to_send.iter().zip(&mut records).enumerate() {
                    if let Some(&ahead) = rows_to_send.get(k + AHEAD) {
                        fetch_row(ahead as usize);
                    }
                    let row = row as usize;
                    out[..4].copy_from_slice(&self.offset_of(indices[row]).to_le_bytes());
                    element::copy_row(
                        &mut out[4..],
                        &bytes[row * row_bytes..(row + 1) * row_bytes],
                    );
                }
            }
            comm.alltoallv_into(&send, &counts, &mut received)?;
            let (first, rows) = self.rows_of(mine);
            let own = local_rows(mine);
            block.reserve_exact((rows * row_len).saturating_sub(block.len()));
            block.resize(rows * row_len, T::FILL);
            if received.len() / record + own.len() != rows {
                // Some rows are missing (or given twice): those left unwritten hold the fill.
                block.fill(T::FILL);
            }
            seen.clear();
            seen.resize(rows.div_ceil(64), 0);
            let block_start = block.as_ptr();
            let mut place = |offset: usize, row: &[u8]| {
                let (word, bit) = (offset / 64, 1u64 << (offset % 64));
                if seen[word] & bit != 0 {
                    duplicate = Some((first + offset) as u64);
                }
                seen[word] |= bit;
                element::copy_from_bytes(&mut block[offset * row_len..][..row_len], row);
            };
            for (k, &row) in own.iter().enumerate() {
                if let Some(&ahead) = own.get(k + 2 * AHEAD) {
                    fetch_row(ahead as usize);
                }
                if let Some(&ahead) = own.get(k + AHEAD) {
                    let offset = self.offset_of(indices[ahead as usize]) as usize;
                    prefetch_span(block_start.wrapping_add(offset * row_len), row_bytes);
                }
                let row = row as usize;
                let offset = self.offset_of(indices[row]) as usize;
                place(offset, &bytes[row * row_bytes..(row + 1) * row_bytes]);
            }
            let offset_at = |at: usize| {
                let mut offset = [0u8; 4];
                offset.copy_from_slice(&received[at..at + 4]);
                u32::from_le_bytes(offset) as usize
            };
            let mut at = 0;
            while at < received.len() {
                let ahead = at + AHEAD * record;
                if ahead < received.len() {
                    prefetch_span(
                        block_start.wrapping_add(offset_at(ahead) * row_len),
                        row_bytes,
                    );
                }
                place(offset_at(at), &received[at + 4..at + record]);
                at += record;
            }
            raw::write_rows(
                dataset,
                first,
                rows,
                &block,
                Transfer::Independent,
                parallel,
            )
            .map_err(hdf5_error)?;
        }
        Ok(duplicate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan for `size` ranks, `global_len` rows and sub-blocks of `1 << shift` rows.
    fn plan(size: usize, global_len: usize, shift: u32) -> Plan {
        Plan {
            size,
            global_len,
            shift,
            rounds: global_len.div_ceil(size << shift).max(1),
        }
    }

    #[test]
    fn sorting_in_groups_covers_every_round_once_in_local_order() {
        // 3 ranks, sub-blocks of 4 rows: 12 global rows per round, 9 rounds.
        let plan = plan(3, 100, 2);
        // This rank's rows: every third global row from the back, then a few from the front.
        let indices: Vec<u64> = (0..100u64).rev().step_by(3).chain([1, 5, 50]).collect();
        let mut per_block = vec![0usize; plan.rounds * plan.size];
        for &index in &indices {
            per_block[plan.sub_block_of(index)] += 1;
        }
        for limit in [1, 5, 9, 1000] {
            let mut sorted = Sorted::default();
            let mut seen = vec![0usize; indices.len()];
            let mut groups = 0;
            for round in 0..plan.rounds {
                if round == sorted.end_round {
                    plan.sort_from(round, limit, &per_block, &indices, &mut sorted);
                    groups += 1;
                    let rounds = round..sorted.end_round;
                    assert!(
                        sorted.order.len() <= limit || rounds.len() == 1,
                        "limit {limit}: {} rows in rounds {rounds:?}",
                        sorted.order.len()
                    );
                }
                for b in round * plan.size..(round + 1) * plan.size {
                    let rows = sorted.rows(b);
                    assert!(rows.windows(2).all(|w| w[0] < w[1]), "local order");
                    for &row in rows {
                        assert_eq!(plan.sub_block_of(indices[row as usize]), b);
                        seen[row as usize] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "limit {limit}: {seen:?}");
            if limit == 1000 {
                assert_eq!(groups, 1);
            } else {
                assert!(groups > 1, "limit {limit}: {groups} group");
            }
        }
    }
}
