//! Distributed arrays: rows spread over the ranks, written into one dataset with one
//! collective write.

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

/// What each rank contributes, exchanged first so that every rank detects the same problem.
#[derive(serde::Serialize, serde::Deserialize)]
struct Contribution {
    rows: usize,
    trailing: Vec<usize>,
    /// A local problem (e.g. the number of indices differs from the number of rows).
    problem: Option<String>,
    /// This rank's [`round_bytes`]; rank 0's is used, so that all ranks run the same rounds.
    round_bytes: usize,
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
        all[0].round_bytes,
    );
    let errors = Errors {
        shape: shape_error,
        hdf5: hdf5_error,
    };
    let written = plan.write(
        comm, &dataset, indices, data, row_len, transfer, parallel, &errors,
    );
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

/// The caller's errors, which name the file and dataset.
struct Errors<'a> {
    shape: &'a dyn Fn(String) -> Error,
    hdf5: &'a dyn Fn(hdf5::Error) -> Error,
}

/// Appended to a dataset's name while a scattered write fills it.
const PARTIAL_SUFFIX: &str = ".bamboost-partial";

/// Bytes of rows a rank assembles per round of a scattered write, which bounds the memory a
/// scattered write needs beyond the local data: 16 MiB, or the environment variable
/// `BAMBOOST_SCATTER_ROUND_BYTES` (rank 0's value counts).
fn round_bytes() -> usize {
    static BYTES: OnceLock<usize> = OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var("BAMBOOST_SCATTER_ROUND_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&b| b > 0)
            .unwrap_or(16 << 20)
    })
}

/// How a scattered write moves rows. The global rows are cut into rounds of `size × sub` rows;
/// in each round, rank `r` owns the `r`-th piece of `sub` rows. In a round, every rank sends
/// each owner the rows that fall into the owner's piece (one `alltoallv`), and the owners write
/// their pieces, now complete: one collective write of one contiguous stretch of the dataset
/// (a stretch with holes would make MPI-IO read the file to fill them).
struct Plan {
    size: usize,
    global_len: usize,
    sub: usize,
    rounds: usize,
}

impl Plan {
    fn new(comm: &Comm, global_len: usize, row_bytes: usize, round_bytes: usize) -> Plan {
        let size = comm.size();
        let sub = (round_bytes / row_bytes.max(1)).clamp(1, global_len.div_ceil(size).max(1));
        Plan {
            size,
            global_len,
            sub,
            rounds: global_len.div_ceil(sub * size).max(1),
        }
    }

    /// The bucket of a global row: its round, then its owner.
    fn bucket(&self, index: u64) -> usize {
        let index = index as usize;
        let round = index / (self.sub * self.size);
        let owner = index % (self.sub * self.size) / self.sub;
        round * self.size + owner
    }

    /// The global rows `rank` owns in `round`: first row and count (possibly 0).
    fn sub_block(&self, rank: usize, round: usize) -> (usize, usize) {
        let first = ((round * self.size + rank) * self.sub).min(self.global_len);
        (first, self.sub.min(self.global_len - first))
    }

    /// Runs every round; returns a global row this rank received twice, if any.
    #[allow(clippy::too_many_arguments)] // The pieces of one collective call, passed through once.
    fn write<T: Element>(
        &self,
        comm: &Comm,
        dataset: &hdf5::Dataset,
        indices: &[u64],
        data: &[T],
        row_len: usize,
        transfer: Transfer,
        parallel: bool,
        errors: &Errors<'_>,
    ) -> Result<Option<u64>> {
        let row_bytes = row_len * std::mem::size_of::<T>();
        // A record is the row's offset in its sub-block (4 bytes: `sub` is far below 2^32),
        // then the row.
        let record = 4 + row_bytes;
        // The local rows sorted by bucket (a counting sort): 4 bytes per row.
        let buckets = self.rounds * self.size;
        let mut starts = vec![0usize; buckets + 1];
        for &index in indices {
            starts[self.bucket(index) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut order = vec![0u32; indices.len()];
        let mut next = starts.clone();
        for (row, &index) in indices.iter().enumerate() {
            let b = self.bucket(index);
            order[next[b]] = u32::try_from(row)
                .map_err(|_| (errors.shape)(format!("more than {} rows on one rank", u32::MAX)))?;
            next[b] += 1;
        }
        let bytes = element::as_bytes(data);
        let mut send = Vec::new();
        let mut counts = vec![0usize; self.size];
        let mut block: Vec<T> = Vec::new();
        let mut seen = Vec::new();
        let mut duplicate = None;
        for round in 0..self.rounds {
            send.clear();
            for (owner, count) in counts.iter_mut().enumerate() {
                let bucket = round * self.size + owner;
                let rows = &order[starts[bucket]..starts[bucket + 1]];
                *count = rows.len() * record;
                let (first, _) = self.sub_block(owner, round);
                for &row in rows {
                    let row = row as usize;
                    let offset = (indices[row] as usize - first) as u32;
                    send.extend_from_slice(&offset.to_le_bytes());
                    send.extend_from_slice(&bytes[row * row_bytes..(row + 1) * row_bytes]);
                }
            }
            let received = comm.alltoallv(&send, &counts)?;
            let (first, rows) = self.sub_block(comm.rank(), round);
            block.clear();
            block.resize(rows * row_len, T::FILL);
            seen.clear();
            seen.resize(rows, false);
            for chunk in received.chunks_exact(record) {
                let mut offset = [0u8; 4];
                offset.copy_from_slice(&chunk[..4]);
                let row = u32::from_le_bytes(offset) as usize;
                if std::mem::replace(&mut seen[row], true) {
                    duplicate = Some((first + row) as u64);
                }
                element::copy_from_bytes(
                    &mut block[row * row_len..(row + 1) * row_len],
                    &chunk[4..],
                );
            }
            drop(received);
            raw::write_rows(dataset, first, rows, &block, transfer, parallel)
                .map_err(errors.hdf5)?;
        }
        Ok(duplicate)
    }
}
