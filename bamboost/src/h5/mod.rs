//! HDF5 files, groups, datasets and attributes, written safely from one or many MPI ranks.
//!
//! - [`File`] is a file on disk with the communicator of its owner; [`File::open`] and
//!   [`File::open_mut`] return guards ([`OpenFile<Read>`], [`OpenFile<Write>`]) that share one
//!   HDF5 handle. Writing through a read-only guard does not compile.
//! - With a communicator of several ranks the file is opened with the MPI-IO driver, and
//!   [`Group::write_distributed_array`] writes arrays whose rows are spread over the ranks with
//!   one collective write, contiguously or through a scattered index map.
//! - Changes that one process must make (attributes, root-only datasets, resizes, deletes) are
//!   *root-only*: while the file is open in parallel they are queued and applied by rank 0 after
//!   the last parallel close, which avoids the deadlocks and races of mixing metadata writes
//!   with MPI-IO (Python bamboost's single-process queue).
//! - Attributes ([`AttrValue`]) are encoded as Python bamboost and h5py encode them, so files
//!   interoperate.
//! - A file another process has locked is retried with back-off until the lock timeout
//!   (`[options] file_lock_timeout`, or [`OpenOptions::lock_timeout`]), then [`Error::Locked`].
//!
//! ```
//! use bamboost::h5::File;
//! use bamboost::mpi::CommSlot;
//! # let dir = tempfile::tempdir().unwrap();
//! let file = File::new(dir.path().join("data.h5"), CommSlot::new());
//! let f = file.open_mut()?;
//! let mesh = f.root().require_group("mesh")?;
//! mesh.write_distributed_array("coordinates", &ndarray::arr2(&[[0.0, 0.0], [1.0, 0.5]]), None)?;
//! mesh.set_attr("cell_type", "Triangle")?;
//! f.close()?;
//!
//! let f = file.open()?;
//! let coordinates = f.root().group("mesh")?.dataset("coordinates")?.read::<f64>()?;
//! assert_eq!(coordinates.shape(), &[2, 2]);
//! # Ok::<(), bamboost::Error>(())
//! ```
//!
//! [`Error::Locked`]: crate::Error::Locked

mod attr;
mod distributed;
mod element;
mod file;
mod group;
mod queue;
mod raw;

pub use attr::{ArrayData, AttrArray, AttrValue};
pub(crate) use attr::{isoformat, py_float_repr};
pub use element::Element;
pub use file::{File, LockTimeout, Mode, OpenFile, OpenOptions, Read, Transfer, Write};
pub use group::{Dataset, Group};
