//! Distributed arrays: rows spread over the ranks, written into one dataset with one
//! collective write.

use super::element::{self, Element};
use super::file::Transfer;
use super::raw;
use crate::error::{Error, Result};
use crate::mpi::Comm;
use crate::mpi::op::Max;
use ndarray::ArrayViewD;

/// Creates a dataset of `shape` whose unwritten elements read as [`Element::FILL`]. Parallel
/// HDF5 allocates storage early and writes no fill unless a fill value is set.
pub(crate) fn create_filled<T: Element>(
    parent: &hdf5::Group,
    name: &str,
    shape: &[usize],
) -> hdf5::Result<hdf5::Dataset> {
    parent
        .new_dataset::<T>()
        .shape(shape)
        .fill_value(T::FILL)
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
    // Replaces an existing dataset only once the input is known to be valid.
    let create = |rows: usize| -> Result<hdf5::Dataset> {
        if parent.link_exists(name) {
            parent.unlink(name).map_err(hdf5_error)?;
        }
        create_filled::<T>(parent, name, &[&[rows][..], &trailing].concat()).map_err(hdf5_error)
    };
    match indices {
        None => {
            let first_row: usize = all[..comm.rank()].iter().map(|c| c.rows).sum();
            let total: usize = all.iter().map(|c| c.rows).sum();
            let dataset = create(total)?;
            raw::write_rows(&dataset, first_row, rows, data, transfer, parallel).map_err(hdf5_error)
        }
        Some(indices) => {
            let global_len =
                comm.allreduce(indices.iter().max().map_or(0, |&i| i + 1), Max)? as usize;
            let block = exchange_rows(comm, indices, data, row_len, global_len)?;
            let duplicate = comm.allreduce(block.duplicate.map_or(0, |i| i + 1), Max)?;
            if duplicate > 0 {
                return Err(shape_error(format!(
                    "global row {} is given more than once",
                    duplicate - 1
                )));
            }
            let dataset = create(global_len)?;
            raw::write_rows(
                &dataset,
                block.first_row,
                block.rows,
                &block.data,
                transfer,
                parallel,
            )
            .map_err(hdf5_error)
        }
    }
}

/// The contiguous block of global rows one rank writes after the exchange.
struct Block<T> {
    first_row: usize,
    rows: usize,
    data: Vec<T>,
    /// A global row that arrived twice.
    duplicate: Option<u64>,
}

/// Sends every local row to the rank that owns its global index (rank `r` owns rows
/// `r·b .. (r+1)·b`, `b = ⌈global_len / size⌉`) with one `alltoallv`, and assembles the owned
/// block; rows nobody sent keep the fill value.
fn exchange_rows<T: Element>(
    comm: &Comm,
    indices: &[u64],
    data: &[T],
    row_len: usize,
    global_len: usize,
) -> Result<Block<T>> {
    let size = comm.size();
    let per_rank = global_len.div_ceil(size).max(1);
    let owner = |index: u64| (index as usize / per_rank).min(size - 1);
    let row_bytes = row_len * std::mem::size_of::<T>();
    let record = 8 + row_bytes;
    // Bucket the rows by owner: counts, then offsets, then the records themselves.
    let mut counts = vec![0usize; size];
    for &index in indices {
        counts[owner(index)] += record;
    }
    let mut offsets: Vec<usize> = counts
        .iter()
        .scan(0, |acc, &c| Some(std::mem::replace(acc, *acc + c)))
        .collect();
    let mut send = vec![0u8; indices.len() * record];
    let bytes = element::as_bytes(data);
    for (row, &index) in indices.iter().enumerate() {
        let at = &mut offsets[owner(index)];
        send[*at..*at + 8].copy_from_slice(&index.to_le_bytes());
        send[*at + 8..*at + record].copy_from_slice(&bytes[row * row_bytes..(row + 1) * row_bytes]);
        *at += record;
    }
    let received = comm.alltoallv(&send, &counts)?;
    drop(send);
    let first_row = (comm.rank() * per_rank).min(global_len);
    let rows = per_rank.min(global_len - first_row);
    let mut block = Block {
        first_row,
        rows,
        data: vec![T::FILL; rows * row_len],
        duplicate: None,
    };
    let mut seen = vec![false; rows];
    for chunk in received.chunks_exact(record) {
        let mut index_bytes = [0u8; 8];
        index_bytes.copy_from_slice(&chunk[..8]);
        let index = u64::from_le_bytes(index_bytes);
        let row = index as usize - first_row;
        if std::mem::replace(&mut seen[row], true) {
            block.duplicate = Some(index);
        }
        element::copy_from_bytes(
            &mut block.data[row * row_len..(row + 1) * row_len],
            &chunk[8..],
        );
    }
    Ok(block)
}
