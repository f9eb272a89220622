//! Groups and datasets of an open file.

use super::attr::{self, AttrValue};
use super::distributed;
use super::element::Element;
use super::file::{Mode, OpenFile, Write};
use super::queue::{Op, location};
use crate::error::{Error, Result};
use ndarray::{ArrayD, ArrayView, Dimension, IxDyn};
use std::collections::BTreeMap;

/// A group of an open file. `Group<Read>` reads; `Group<Write>` also writes.
///
/// A group is a path resolved at each call, so it stays valid while the file is reopened for
/// writing by a nested user.
///
/// # MPI
///
/// Each method says whether it is collective, root-only or local. *Root-only* methods take
/// effect on rank 0: at once for a file open on one rank, and, for a file open in parallel,
/// queued and applied by rank 0 after the last parallel close. Calls of the other ranks are
/// ignored, so call them on every rank or only on rank 0.
pub struct Group<'f, M: Mode> {
    file: &'f OpenFile<M>,
    path: String,
}

/// A dataset of an open file. `Dataset<Read>` reads; `Dataset<Write>` also writes.
///
/// # MPI
///
/// As for [`Group`].
pub struct Dataset<'f, M: Mode> {
    file: &'f OpenFile<M>,
    path: String,
}

/// `parent/name`, refusing names HDF5 would misread.
fn child_path(file: &super::File, parent: &str, name: &str) -> Result<String> {
    if name.is_empty()
        || name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::NotFound {
            file: file.path().into(),
            object: format!("{parent} / {name:?} (not a valid name)"),
        });
    }
    Ok(if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    })
}

macro_rules! common_methods {
    () => {
        /// The absolute path inside the file.
        ///
        /// # MPI
        ///
        /// Local.
        pub fn path(&self) -> &str {
            &self.path
        }

        /// The value of attribute `name`.
        ///
        /// # Errors
        ///
        /// [`Error::NotFound`] if there is no such attribute; [`Error::Attribute`] if its type
        /// is not supported.
        ///
        /// # MPI
        ///
        /// Local.
        pub fn attr(&self, name: &str) -> Result<AttrValue> {
            let loc = self.location()?;
            if !loc
                .attr_names()
                .map_err(self.hdf5_error())?
                .iter()
                .any(|n| n == name)
            {
                return Err(Error::NotFound {
                    file: self.file.file().path().into(),
                    object: format!("{}@{name}", self.path),
                });
            }
            attr::read(&loc, name).map_err(|message| self.attr_error(name, message))
        }

        /// Every attribute, by name.
        ///
        /// # Errors
        ///
        /// [`Error::Attribute`] if one has an unsupported type.
        ///
        /// # MPI
        ///
        /// Local.
        pub fn attrs(&self) -> Result<BTreeMap<String, AttrValue>> {
            attr::read_all(&self.location()?).map_err(|message| self.attr_error("*", message))
        }

        fn location(&self) -> Result<hdf5::Location> {
            location(&self.file.file().handle()?, &self.path).map_err(|_| Error::NotFound {
                file: self.file.file().path().into(),
                object: self.path.clone(),
            })
        }

        fn hdf5_error(&self) -> impl Fn(hdf5::Error) -> Error + '_ {
            move |e| Error::Hdf5 {
                file: self.file.file().path().into(),
                object: self.path.clone(),
                message: e.to_string(),
            }
        }

        fn attr_error(&self, name: &str, message: String) -> Error {
            Error::Attribute {
                file: self.file.file().path().into(),
                object: self.path.clone(),
                name: name.into(),
                message,
            }
        }
    };
}

macro_rules! write_attr_methods {
    () => {
        /// Sets attribute `name` (replacing it).
        ///
        /// # Errors
        ///
        /// [`Error::Attribute`] if the value cannot be stored; [`Error::NotFound`] if the
        /// object is gone.
        ///
        /// # MPI
        ///
        /// Root-only (queued while the file is open in parallel).
        pub fn set_attr(&self, name: &str, value: impl Into<AttrValue>) -> Result<()> {
            self.file.file().post(Op::SetAttr {
                object: self.path.clone(),
                name: name.into(),
                value: value.into(),
            })
        }

        /// Deletes attribute `name`.
        ///
        /// # Errors
        ///
        /// [`Error::NotFound`] if there is no such attribute.
        ///
        /// # MPI
        ///
        /// Root-only (queued while the file is open in parallel).
        pub fn delete_attr(&self, name: &str) -> Result<()> {
            self.file.file().post(Op::DeleteAttr {
                object: self.path.clone(),
                name: name.into(),
            })
        }
    };
}

impl<'f, M: Mode> Group<'f, M> {
    pub(crate) fn new(file: &'f OpenFile<M>, path: String) -> Self {
        Group { file, path }
    }

    common_methods!();

    fn group_handle(&self) -> Result<hdf5::Group> {
        self.file
            .file()
            .handle()?
            .group(&self.path)
            .map_err(|_| Error::NotFound {
                file: self.file.file().path().into(),
                object: self.path.clone(),
            })
    }

    /// The subgroup `name` (a relative path such as `a/b` works too).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if it does not exist or is not a group.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn group(&self, name: &str) -> Result<Group<'f, M>> {
        let path = child_path(self.file.file(), &self.path, name)?;
        let group = Group {
            file: self.file,
            path,
        };
        group.group_handle()?;
        Ok(group)
    }

    /// The dataset `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if it does not exist or is not a dataset.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn dataset(&self, name: &str) -> Result<Dataset<'f, M>> {
        let path = child_path(self.file.file(), &self.path, name)?;
        let dataset = Dataset {
            file: self.file,
            path,
        };
        dataset.handle()?;
        Ok(dataset)
    }

    /// Whether a group or dataset `name` exists here.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn contains(&self, name: &str) -> bool {
        self.group_handle().is_ok_and(|g| g.link_exists(name))
    }

    /// Names of the subgroups, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if this group is gone.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn groups(&self) -> Result<Vec<String>> {
        let groups = self.group_handle()?.groups().map_err(self.hdf5_error())?;
        Ok(sorted_basenames(groups.iter().map(|g| g.name())))
    }

    /// Names of the datasets, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if this group is gone.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn datasets(&self) -> Result<Vec<String>> {
        let datasets = self.group_handle()?.datasets().map_err(self.hdf5_error())?;
        Ok(sorted_basenames(datasets.iter().map(|d| d.name())))
    }
}

fn sorted_basenames(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names
        .map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

impl<'f> Group<'f, Write> {
    write_attr_methods!();

    /// Creates child `name` with `make`, collectively, refusing an existing name.
    fn create_child(
        &self,
        name: &str,
        make: impl FnOnce(&hdf5::Group, &str) -> hdf5::Result<()>,
    ) -> Result<String> {
        let path = child_path(self.file.file(), &self.path, name)?;
        self.file.file().collective_comm(&path)?;
        let parent = self.group_handle()?;
        if parent.link_exists(name) {
            return Err(Error::AlreadyExists {
                file: self.file.file().path().into(),
                object: path,
            });
        }
        make(&parent, name).map_err(self.hdf5_error())?;
        Ok(path)
    }

    /// Creates the subgroup `name` (and missing intermediate groups of a path `a/b`).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyExists`]; [`Error::NotCollective`] inside a root-only scope on a file
    /// open in parallel.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn create_group(&self, name: &str) -> Result<Group<'f, Write>> {
        let path = self.create_child(name, |parent, name| parent.create_group(name).map(drop))?;
        Ok(Group {
            file: self.file,
            path,
        })
    }

    /// The subgroup `name`, created if missing.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if `name` exists but is a dataset; as [`Group::create_group`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn require_group(&self, name: &str) -> Result<Group<'f, Write>> {
        if self.contains(name) {
            self.group(name)
        } else {
            self.create_group(name)
        }
    }

    /// Creates an empty dataset of `shape`, every element [`Element::FILL`] until written.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyExists`]; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn create_dataset<T: Element>(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<Dataset<'f, Write>> {
        let path = self.create_child(name, |parent, name| {
            distributed::create_filled::<T>(parent, name, shape).map(drop)
        })?;
        Ok(Dataset {
            file: self.file,
            path,
        })
    }

    /// Creates an empty dataset of `shape` whose first dimension can grow (chunked, unlimited
    /// maximum), for data appended step by step; see [`Dataset::resize`].
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyExists`]; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn create_resizable_dataset<T: Element>(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<Dataset<'f, Write>> {
        let path = self.create_child(name, |parent, name| {
            distributed::create_resizable::<T>(parent, name, shape).map(drop)
        })?;
        Ok(Dataset {
            file: self.file,
            path,
        })
    }

    /// Stores `data` as dataset `name`, replacing an existing one (Python bamboost's
    /// `add_dataset`).
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyExists`] if `name` is a group (only a dataset is replaced); while the
    /// file is open in parallel, from the close that applies the queue. [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only (queued while the file is open in parallel): only rank 0's data is stored.
    pub fn add_dataset<'a, T: Element, D: Dimension>(
        &self,
        name: &str,
        data: impl Into<ArrayView<'a, T, D>>,
    ) -> Result<()> {
        let path = child_path(self.file.file(), &self.path, name)?;
        let data = data.into().into_dyn().to_owned();
        self.file.file().post(Op::WriteDataset {
            path,
            data: Box::new(data),
        })
    }

    /// Writes row `row` of the float64 dataset `name` whose rows have shape `row_shape`,
    /// creating it (resizable, NaN-filled) or growing it as needed: series step values and
    /// globals.
    pub(crate) fn write_row(
        &self,
        name: &str,
        row: usize,
        values: Vec<f64>,
        row_shape: Vec<usize>,
    ) -> Result<()> {
        let path = child_path(self.file.file(), &self.path, name)?;
        self.file.file().post(Op::WriteRow {
            path,
            row,
            values,
            row_shape,
        })
    }

    /// Deletes the group or dataset `name`, at once (so a later write of the same name sees it
    /// gone, with one rank or many).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::NotCollective`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn delete(&self, name: &str) -> Result<()> {
        let path = child_path(self.file.file(), &self.path, name)?;
        self.file.file().collective_comm(&path)?;
        let parent = self.group_handle()?;
        if !parent.link_exists(name) {
            return Err(Error::NotFound {
                file: self.file.file().path().into(),
                object: path,
            });
        }
        parent.unlink(name).map_err(self.hdf5_error())
    }

    /// Writes an array whose rows are spread over the ranks into dataset `name` (replacing an
    /// existing one).
    ///
    /// - `indices: None` (contiguous): rank `r`'s rows follow those of ranks `0..r`; the
    ///   global shape is `(Σ rows, trailing…)`. Each rank writes its own row block straight from
    ///   `local` (no copy when `local` is in standard layout); ranks without rows take part.
    /// - `indices: Some(global_rows)` (scattered, e.g. a degree-of-freedom map): local row `i`
    ///   goes to global row `global_rows[i]`, in any order and with any gaps; the global length
    ///   is the largest index over all ranks plus one. The rows are exchanged between ranks in
    ///   rounds of at most 2 MiB per rank (environment variable `BAMBOOST_SCATTER_ROUND_BYTES`),
    ///   so that in each round every rank writes one contiguous stretch and memory stays
    ///   bounded. These writes use independent transfer whatever the file's
    ///   [`Transfer`](super::Transfer) mode: each rank's stretch is already contiguous, and a
    ///   collective write would only funnel it through MPI-IO's aggregators. Rows no rank gives hold [`Element::FILL`]: NaN for floats, 0 for integers,
    ///   `false` for bools. The new rows replace an existing dataset only once every rank has
    ///   written them, so a failed write leaves it as it was.
    ///
    /// All ranks must pass the same trailing dimensions.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] (on every rank) if the trailing dimensions differ between ranks, the
    /// number of indices differs from the number of rows, or an index repeats;
    /// [`Error::AlreadyExists`] if `name` is a group (only a dataset is replaced);
    /// [`Error::NotCollective`]; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn write_distributed_array<'a, T: Element, D: Dimension>(
        &self,
        name: &str,
        local: impl Into<ArrayView<'a, T, D>>,
        indices: Option<&[u64]>,
    ) -> Result<Dataset<'f, Write>> {
        let path = child_path(self.file.file(), &self.path, name)?;
        let (comm, parallel, transfer) = self.file.file().collective_comm(&path)?;
        let parent = self.group_handle()?;
        if distributed::is_not_a_dataset(&parent, name) {
            // Every rank reads the same metadata, so all return here together.
            return Err(Error::AlreadyExists {
                file: self.file.file().path().into(),
                object: path,
            });
        }
        let local = local.into().into_dyn();
        let shape_error = |message: String| Error::Shape {
            file: self.file.file().path().into(),
            object: path.clone(),
            message,
        };
        distributed::write(
            &comm,
            &parent,
            name,
            local,
            indices,
            transfer,
            parallel,
            &shape_error,
            &self.hdf5_error(),
        )?;
        Ok(Dataset {
            file: self.file,
            path,
        })
    }
}

impl<'f, M: Mode> Dataset<'f, M> {
    common_methods!();

    fn handle(&self) -> Result<hdf5::Dataset> {
        self.file
            .file()
            .handle()?
            .dataset(&self.path)
            .map_err(|_| Error::NotFound {
                file: self.file.file().path().into(),
                object: self.path.clone(),
            })
    }

    /// The shape.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the dataset is gone.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn shape(&self) -> Result<Vec<usize>> {
        Ok(self.handle()?.shape())
    }

    /// Reads the whole dataset, converting to `T`. For a file open in parallel the read uses
    /// the file's [`Transfer`](super::Transfer) mode, so with collective transfer every rank
    /// must call it.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if the stored type does not convert to `T`.
    ///
    /// # MPI
    ///
    /// Collective for a file open in parallel with collective transfer; local otherwise.
    pub fn read<T: Element>(&self) -> Result<ArrayD<T>> {
        let dataset = self.handle()?;
        let shape = dataset.shape();
        let file = self.file.file();
        let (parallel, transfer) = (self.file.is_parallel(), file.transfer());
        if parallel && transfer == super::Transfer::Collective {
            file.collective_comm(&self.path)?;
        }
        let data =
            super::raw::read_all::<T>(&dataset, transfer, parallel).map_err(self.hdf5_error())?;
        ArrayD::from_shape_vec(IxDyn(&shape), data)
            .map_err(|e| self.hdf5_error()(hdf5::Error::from(e.to_string().as_str())))
    }

    /// Reads rows `rows` (all of every other dimension).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if the range is out of bounds or the type does not convert.
    ///
    /// # MPI
    ///
    /// Local (independent transfer).
    pub fn read_rows<T: Element>(&self, rows: std::ops::Range<usize>) -> Result<ArrayD<T>> {
        let dataset = self.handle()?;
        let shape = dataset.shape();
        if shape.is_empty() || rows.end > shape[0] || rows.start > rows.end {
            return Err(self.hdf5_error()(hdf5::Error::from(
                format!("rows {rows:?} out of bounds for shape {shape:?}").as_str(),
            )));
        }
        let mut selection: Vec<hdf5::SliceOrIndex> = vec![rows.into()];
        selection.extend(std::iter::repeat_n(
            hdf5::SliceOrIndex::from(..),
            shape.len() - 1,
        ));
        dataset
            .read_slice(hdf5::Hyperslab::from(selection))
            .map_err(self.hdf5_error())
    }
}

/// The stored number type of a dataset, as XDMF names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumberType {
    /// `Int`, `UInt`, `Float` or `Char` (bools).
    pub(crate) kind: &'static str,
    /// Bytes per element.
    pub(crate) size: usize,
}

impl<M: Mode> Dataset<'_, M> {
    /// The stored number type, or `None` for strings and compounds.
    pub(crate) fn number_type(&self) -> Result<Option<NumberType>> {
        use hdf5::types::TypeDescriptor as T;
        let descriptor = self
            .handle()?
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(self.hdf5_error())?;
        let (kind, size) = match descriptor {
            T::Integer(size) => ("Int", size as usize),
            T::Unsigned(size) => ("UInt", size as usize),
            T::Float(size) => ("Float", size as usize),
            T::Boolean => ("Char", 1),
            _ => return Ok(None),
        };
        Ok(Some(NumberType { kind, size }))
    }

    /// Reads the whole dataset as an array of integers (any integer type), floats or bools,
    /// as Python bamboost reads numpy-array parameters.
    pub(crate) fn read_array(&self) -> Result<attr::AttrArray> {
        use attr::ArrayData;
        let shape = self.shape()?;
        let data = match self.number_type()?.map(|t| t.kind) {
            Some("Int" | "UInt") => ArrayData::Int(self.read::<i64>()?.into_iter().collect()),
            Some("Float") => ArrayData::Float(self.read::<f64>()?.into_iter().collect()),
            Some(_) => ArrayData::Bool(self.read::<bool>()?.into_iter().collect()),
            None => {
                return Err(self.attr_error(
                    "",
                    "only datasets of numbers or bools can be read as an array".into(),
                ));
            }
        };
        Ok(attr::AttrArray { shape, data })
    }
}

impl Dataset<'_, Write> {
    write_attr_methods!();

    /// Changes the shape of a resizable dataset (see [`Group::create_resizable_dataset`]).
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`] if the dataset is not resizable to `shape`.
    ///
    /// # MPI
    ///
    /// Root-only (queued while the file is open in parallel).
    pub fn resize(&self, shape: &[usize]) -> Result<()> {
        self.file.file().post(Op::Resize {
            path: self.path.clone(),
            shape: shape.to_vec(),
        })
    }
}

impl<M: Mode> std::fmt::Debug for Group<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("file", &self.file.file().path())
            .field("path", &self.path)
            .finish()
    }
}

impl<M: Mode> std::fmt::Debug for Dataset<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("file", &self.file.file().path())
            .field("path", &self.path)
            .finish()
    }
}
