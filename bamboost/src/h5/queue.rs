//! The single-process queue: metadata changes that one process must make, deferred while a
//! file is open with MPI-IO and applied by rank 0 after the collective close.

use super::attr::{self, AttrValue};
use super::element::Element;
use super::file::{File, LockTimeout};
use crate::error::{Error, Result};
use crate::mpi::{Comm, CommSlot, HasComm};
use crate::root_process;
use std::path::Path;

/// A root-only change to a file, recorded instead of run while the file is open in parallel.
pub(crate) enum Op {
    SetAttr {
        object: String,
        name: String,
        value: AttrValue,
    },
    DeleteAttr {
        object: String,
        name: String,
    },
    /// Creates (or replaces) a dataset holding `data`.
    WriteDataset {
        path: String,
        data: Box<dyn StoredArray>,
    },
    Resize {
        path: String,
        shape: Vec<usize>,
    },
    /// Writes row `row` of a resizable float64 dataset (a series' `.map` or a global), creating
    /// it NaN-filled with rows of `row_shape` if missing and growing it to hold the row.
    WriteRow {
        path: String,
        row: usize,
        values: Vec<f64>,
        row_shape: Vec<usize>,
    },
}

/// An owned array of any element type, for [`Op::WriteDataset`].
pub(crate) trait StoredArray: Send {
    fn create_in(&self, group: &hdf5::Group, name: &str) -> hdf5::Result<()>;
}

impl<T: Element> StoredArray for ndarray::ArrayD<T> {
    fn create_in(&self, group: &hdf5::Group, name: &str) -> hdf5::Result<()> {
        group
            .new_dataset_builder()
            .with_data(self)
            .create(name)
            .map(drop)
    }
}

/// Splits `/a/b/c` into (`/a/b`, `c`).
pub(crate) fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    }
}

/// The group or dataset at `object`, as a location that can hold attributes.
pub(crate) fn location(file: &hdf5::File, object: &str) -> hdf5::Result<hdf5::Location> {
    match file.group(object) {
        Ok(group) => Ok((*group).clone()),
        Err(_) => file.dataset(object).map(|d| (**d).clone()),
    }
}

impl Op {
    /// Runs the operation on an open, writable file.
    pub(crate) fn apply(&self, file: &hdf5::File, path: &Path) -> Result<()> {
        let hdf5_error = |object: &str| {
            let object = object.to_string();
            move |e: hdf5::Error| Error::Hdf5 {
                file: path.into(),
                object: object.clone(),
                message: e.to_string(),
            }
        };
        match self {
            Op::SetAttr {
                object,
                name,
                value,
            } => {
                let loc = location(file, object).map_err(hdf5_error(object))?;
                attr::write(&loc, name, value).map_err(|message| Error::Attribute {
                    file: path.into(),
                    object: object.clone(),
                    name: name.clone(),
                    message,
                })
            }
            Op::DeleteAttr { object, name } => {
                let loc = location(file, object).map_err(hdf5_error(object))?;
                loc.delete_attr(name).map_err(|_| Error::NotFound {
                    file: path.into(),
                    object: format!("{object}@{name}"),
                })
            }
            Op::WriteDataset { path: object, data } => {
                let (parent, name) = split_path(object);
                let group = file.group(parent).map_err(hdf5_error(parent))?;
                if super::distributed::is_not_a_dataset(&group, name) {
                    return Err(Error::AlreadyExists {
                        file: path.into(),
                        object: object.clone(),
                    });
                }
                if group.link_exists(name) {
                    group.unlink(name).map_err(hdf5_error(object))?;
                }
                data.create_in(&group, name).map_err(hdf5_error(object))
            }
            Op::Resize {
                path: object,
                shape,
            } => {
                let dataset = file.dataset(object).map_err(hdf5_error(object))?;
                dataset.resize(shape.as_slice()).map_err(hdf5_error(object))
            }
            Op::WriteRow {
                path: object,
                row,
                values,
                row_shape,
            } => write_row(file, object, *row, values, row_shape).map_err(|message| Error::Shape {
                file: path.into(),
                object: object.clone(),
                message,
            }),
        }
    }
}

/// See [`Op::WriteRow`].
fn write_row(
    file: &hdf5::File,
    object: &str,
    row: usize,
    values: &[f64],
    row_shape: &[usize],
) -> std::result::Result<(), String> {
    let text = |e: hdf5::Error| e.to_string();
    let dataset = match file.dataset(object) {
        Ok(dataset) => dataset,
        Err(_) => {
            let (parent, name) = split_path(object);
            let group = file.group(parent).map_err(text)?;
            let shape: Vec<usize> = std::iter::once(0)
                .chain(row_shape.iter().copied())
                .collect();
            super::distributed::create_resizable::<f64>(&group, name, &shape).map_err(text)?
        }
    };
    let shape = dataset.shape();
    if shape.get(1..) != Some(row_shape) {
        return Err(format!(
            "a row of shape {row_shape:?} does not fit rows of shape {:?}",
            shape.get(1..).unwrap_or_default()
        ));
    }
    if shape[0] <= row {
        let mut grown = shape.clone();
        grown[0] = row + 1;
        dataset.resize(grown).map_err(text)?;
    }
    let mut selection: Vec<hdf5::SliceOrIndex> = vec![(row..row + 1).into()];
    selection.extend(row_shape.iter().map(|_| hdf5::SliceOrIndex::from(..)));
    let block_shape: Vec<usize> = std::iter::once(1)
        .chain(row_shape.iter().copied())
        .collect();
    let block = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&block_shape), values.to_vec())
        .map_err(|e| e.to_string())?;
    dataset
        .write_slice(&block, hdf5::Hyperslab::from(selection))
        .map_err(text)
}

/// The operations rank 0 recorded while its file was open in parallel.
pub(crate) struct Queue {
    comm: CommSlot,
    ops: Vec<Op>,
}

impl HasComm for Queue {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Queue {
    pub(crate) fn new(comm: CommSlot) -> Queue {
        Queue {
            comm,
            ops: Vec::new(),
        }
    }

    /// Records an operation (only rank 0's queue is ever applied).
    #[exclude]
    pub(crate) fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Rank 0 reopens the (closed) file on its own and applies the operations in order; every
    /// rank returns when it is done, with its result.
    pub(crate) fn apply(&mut self, file: File, timeout: Option<LockTimeout>) -> Result<()> {
        let ops = std::mem::take(&mut self.ops);
        if ops.is_empty() {
            return Ok(());
        }
        let handle = file.open_handle(true, false, &Comm::self_comm(), timeout)?;
        let applied = ops.iter().try_for_each(|op| op.apply(&handle, file.path()));
        let closed = handle.close().map_err(|e| Error::Hdf5 {
            file: file.path().into(),
            object: "/".into(),
            message: e.to_string(),
        });
        applied.and(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn paths_split_into_parent_and_name() {
        assert_eq!(split_path("/a"), ("/", "a"));
        assert_eq!(split_path("/a/b/c"), ("/a/b", "c"));
        assert_eq!(split_path("x"), ("/", "x"));
    }
}
