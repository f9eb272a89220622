//! Simulations: a directory in a collection holding `data.h5` (parameters, metadata, links,
//! meshes, series) and any other files, in the layout of Python bamboost 0.14.
//!
//! [`Simulation`] reads; [`SimulationWriter`] (from [`Collection::add`] or
//! [`Simulation::edit`]) also writes. Metadata and parameter changes are root-only: rank 0 makes
//! them and every rank gets the result. Fields and meshes are written collectively, each rank
//! giving its rows.
//!
//! ```
//! use bamboost::collection::{Collection, NewSimulation};
//! use bamboost::simulation::{Parameters, Status};
//!
//! let dir = tempfile::tempdir()?;
//! let collection = Collection::open(dir.path())?;
//! let params = Parameters::new().with("dt", 0.01).with("solver", Parameters::new().with("tol", 1e-8));
//! let sim = collection.add(NewSimulation::new().name("run1").parameters(params))?;
//! sim.run(|sim| -> bamboost::Result<()> {
//!     let mut series = sim.data()?;
//!     for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
//!         let step = series.require_step(Some(t), None)?;
//!         step.add_scalar("energy", 1.0 / (i as f64 + 1.0))?;
//!     }
//!     Ok(())
//! })?;
//! assert_eq!(sim.status()?.status, Status::Finished);
//! assert_eq!(sim.parameters()?.value("solver.tol").and_then(|v| v.as_f64()), Some(1e-8));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Collection::add`]: crate::collection::Collection::add

mod mesh;
mod parameters;
mod series;

pub use mesh::{CellType, Mesh, NodeNumbering};
pub(crate) use parameters::Comparable;
pub use parameters::{Parameter, Parameters, RESERVED_KEYS};
pub use series::{FieldOptions, FieldType, Series, Step};

use crate::error::{Error, Result};
use crate::h5::{ArrayData, AttrArray, AttrValue, File, OpenFile, Write};
use crate::mpi::{CommSlot, HasComm};
use crate::uid::CollectionUid;
use crate::{Comm, root_process};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The HDF5 file of every simulation.
///
/// # MPI
///
/// Local: a constant.
pub const DATA_FILE: &str = "data.h5";
/// The run script [`SimulationWriter::create_run_script`] writes.
const RUN_SCRIPT: &str = "run.sh";
/// The default series.
pub(crate) const DEFAULT_SERIES: &str = "data";

/// The state of a simulation, stored as the root attribute `status`.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Created, not run yet.
    Initialized,
    /// A [`SimulationWriter::run`] is under way (or was killed).
    Started,
    /// The last run finished.
    Finished,
    /// The last run failed.
    Failed,
    /// Missing or unrecognised.
    Unknown,
}

impl Status {
    /// The stored word: `initialized`, `started`, `finished`, `failed` or `unknown`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Initialized => "initialized",
            Status::Started => "started",
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
        }
    }
}

/// A [`Status`] with its optional message, stored as `"<word> [message]"` (e.g.
/// `failed [solver diverged]`).
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// The state.
    pub status: Status,
    /// The message in brackets, if any.
    pub message: Option<String>,
}

impl StatusInfo {
    /// A status without a message.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new(status: Status) -> StatusInfo {
        StatusInfo {
            status,
            message: None,
        }
    }

    /// Parses the stored text as Python bamboost does (`^(\w+)(?:\s*\[(.+)\])?$`, the word in
    /// any case); anything else is [`Status::Unknown`] with the whole text as message.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn parse(text: &str) -> StatusInfo {
        let word_end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (word, rest) = text.split_at(word_end);
        let rest = rest.trim_start();
        let message = if rest.is_empty() {
            Some(None)
        } else if rest.len() > 2 && rest.starts_with('[') && rest.ends_with(']') {
            Some(Some(rest[1..rest.len() - 1].to_owned()))
        } else {
            None
        };
        // Python lower-cases the word; an ASCII word (the usual case) needs no new string.
        let lower = if word.is_ascii() {
            std::borrow::Cow::Borrowed(word)
        } else {
            std::borrow::Cow::Owned(word.to_lowercase())
        };
        let status = [
            Status::Initialized,
            Status::Started,
            Status::Finished,
            Status::Failed,
            Status::Unknown,
        ]
        .into_iter()
        .find(|s| lower.eq_ignore_ascii_case(s.as_str()));
        match (status, message) {
            (Some(status), Some(message)) if !word.is_empty() => StatusInfo { status, message },
            _ => StatusInfo {
                status: Status::Unknown,
                message: Some(text.to_owned()),
            },
        }
    }
}

impl std::fmt::Display for StatusInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{} [{message}]", self.status.as_str()),
            None => f.write_str(self.status.as_str()),
        }
    }
}

/// A read-only simulation.
///
/// # MPI
///
/// Reading methods are root-only (rank 0 reads, every rank gets the value) unless their
/// documentation says otherwise; call them on every rank.
#[derive(Debug, Clone)]
pub struct Simulation {
    name: String,
    path: PathBuf,
    collection_uid: CollectionUid,
    comm: CommSlot,
    file: File,
}

impl HasComm for Simulation {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

impl Simulation {
    /// Opens the simulation in directory `path` (its parent must be a collection).
    ///
    /// # Errors
    ///
    /// [`Error::NotACollection`] if the parent is not a collection; [`Error::NoSuchSimulation`]
    /// if the directory has no `data.h5`.
    ///
    /// # MPI
    ///
    /// Collective (rank 0 checks the directory).
    pub fn open(path: impl AsRef<Path>, comm: CommSlot) -> Result<Simulation> {
        let path = std::path::absolute(path.as_ref())
            .map_err(|e| crate::collection::io(path.as_ref(), e))?;
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Error::NotACollection { path });
        };
        let collection = crate::collection::Collection::open_existing(parent, comm.clone())?;
        collection.simulation(&name.to_string_lossy())
    }

    /// A handle, without checks (the collection checked).
    pub(crate) fn at(
        collection_dir: &Path,
        name: &str,
        uid: CollectionUid,
        comm: CommSlot,
    ) -> Simulation {
        let path = collection_dir.join(name);
        Simulation {
            name: name.to_owned(),
            file: File::new(path.join(DATA_FILE), comm.child()),
            path,
            collection_uid: uid,
            comm,
        }
    }

    /// The name (the directory's name).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The simulation directory.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The UID of the collection.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn collection_uid(&self) -> &CollectionUid {
        &self.collection_uid
    }

    /// The full UID `<COLLECTION_UID>:<name>`, as links store it.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn uid(&self) -> String {
        format!("{}:{}", self.collection_uid.as_str(), self.name)
    }

    /// The HDF5 file, for direct access with [`crate::h5`].
    ///
    /// # MPI
    ///
    /// Local.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The communicator slot (children of this simulation use `comm_slot().child()`).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn comm_slot(&self) -> &CommSlot {
        &self.comm
    }

    /// A writer for this simulation, sharing its communicator (Python's `edit()`).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn edit(&self) -> SimulationWriter {
        SimulationWriter { sim: self.clone() }
    }

    /// The default series at `/data`.
    ///
    /// # Errors
    ///
    /// As [`Simulation::series`].
    ///
    /// # MPI
    ///
    /// Collective (rank 0 checks the group).
    pub fn data(&self) -> Result<Series> {
        self.series(DEFAULT_SERIES)
    }

    /// The series at `path` (any group with the attribute `.series = True`).
    ///
    /// # Errors
    ///
    /// [`Error::Series`] if the group is missing or not a series.
    ///
    /// # MPI
    ///
    /// Collective (rank 0 checks the group).
    pub fn series(&self, path: &str) -> Result<Series> {
        Series::open(self, path)
    }

    /// Reads mesh `name` (`/.mesh/<name>`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if it does not exist.
    ///
    /// # MPI
    ///
    /// Collective: every rank opens the file and reads the whole mesh.
    pub fn mesh(&self, name: &str) -> Result<Mesh> {
        Mesh::read(&self.file, name)
    }
}

#[root_process]
impl Simulation {
    /// The parameters, nested again from their dotted names; array datasets win over an
    /// attribute of the same name (as in Python bamboost).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if `/.parameters` is missing; [`Error::Attribute`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn parameters(&self) -> Result<Parameters> {
        let file = self.file.open()?;
        let group = file.root().group(".parameters")?;
        let mut flat: BTreeMap<String, Parameter> = group
            .attrs()?
            .into_iter()
            .map(|(k, v)| (k, Parameter::Value(v)))
            .collect();
        for name in group.datasets()? {
            let array = group.dataset(&name)?.read_array()?;
            flat.insert(name, Parameter::Array(array));
        }
        Ok(Parameters::unflatten(flat))
    }

    /// Every root attribute: `status`, `created_at`, `description`, `tags`, `submitted` and
    /// any custom metadata.
    ///
    /// # Errors
    ///
    /// [`Error::Attribute`] for an unsupported stored type.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn metadata(&self) -> Result<BTreeMap<String, AttrValue>> {
        self.file.open()?.root().attrs()
    }

    /// The status (a missing attribute is [`Status::Unknown`]).
    ///
    /// # Errors
    ///
    /// As [`Simulation::metadata`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn status(&self) -> Result<StatusInfo> {
        Ok(match self.metadata()?.get("status") {
            Some(AttrValue::Str(s)) => StatusInfo::parse(s),
            _ => StatusInfo::new(Status::Unknown),
        })
    }

    /// The creation time, if stored.
    ///
    /// # Errors
    ///
    /// As [`Simulation::metadata`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn created_at(&self) -> Result<Option<chrono::NaiveDateTime>> {
        Ok(created_at_of(&self.metadata()?))
    }

    /// The description (`""` if none).
    ///
    /// # Errors
    ///
    /// As [`Simulation::metadata`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn description(&self) -> Result<String> {
        Ok(match self.metadata()?.get("description") {
            Some(AttrValue::Str(s)) => s.clone(),
            _ => String::new(),
        })
    }

    /// The tags, sorted (a set envelope or a string array is accepted).
    ///
    /// # Errors
    ///
    /// As [`Simulation::metadata`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn tags(&self) -> Result<Vec<String>> {
        Ok(self
            .metadata()?
            .get("tags")
            .map(tag_list)
            .unwrap_or_default())
    }

    /// Links to other simulations: name → `"<COLLECTION_UID>:<name>"`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if `/.links` is missing.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn links(&self) -> Result<BTreeMap<String, String>> {
        let file = self.file.open()?;
        Ok(file
            .root()
            .group(".links")?
            .attrs()?
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect())
    }

    /// The files of the simulation directory (recursively): relative path (with `/`) →
    /// absolute path.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directory cannot be read.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn files(&self) -> Result<BTreeMap<String, PathBuf>> {
        let mut out = BTreeMap::new();
        list_files(&self.path, "", &mut out)?;
        Ok(out)
    }
}

/// The creation time in a simulation's metadata, if stored as a datetime.
pub(crate) fn created_at_of(
    metadata: &BTreeMap<String, AttrValue>,
) -> Option<chrono::NaiveDateTime> {
    match metadata.get("created_at") {
        Some(AttrValue::DateTime(t)) => Some(*t),
        _ => None,
    }
}

/// The tags of a stored `tags` attribute, sorted and de-duplicated.
pub(crate) fn tag_list(value: &AttrValue) -> Vec<String> {
    let mut tags: Vec<String> = match value {
        AttrValue::Set(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        AttrValue::Array(AttrArray {
            data: ArrayData::Str(items),
            ..
        }) => items.clone(),
        AttrValue::Str(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    tags.sort();
    tags.dedup();
    tags
}

fn list_files(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| crate::collection::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| crate::collection::io(dir, e))?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            list_files(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.insert(name, entry.path());
        }
    }
    Ok(())
}

/// Copies file or directory `source` into directory `target` (a directory keeps its name).
fn copy_into(source: &Path, target: &Path) -> Result<()> {
    let name = source.file_name().ok_or_else(|| Error::Io {
        path: source.into(),
        message: "has no file name".into(),
    })?;
    let destination = target.join(name);
    if source.is_dir() {
        std::fs::create_dir_all(&destination)
            .map_err(|e| crate::collection::io(&destination, e))?;
        let entries = std::fs::read_dir(source).map_err(|e| crate::collection::io(source, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| crate::collection::io(source, e))?;
            copy_into(&entry.path(), &destination)?;
        }
        Ok(())
    } else {
        std::fs::copy(source, &destination)
            .map(drop)
            .map_err(|e| crate::collection::io(source, e))
    }
}

/// A simulation that can be written: everything [`Simulation`] reads (through `Deref`), plus
/// parameters, metadata, links, files, series, meshes and the run script.
///
/// # MPI
///
/// Root-only (call on every rank; rank 0 writes) unless the documentation says collective.
#[derive(Debug, Clone)]
pub struct SimulationWriter {
    sim: Simulation,
}

impl std::ops::Deref for SimulationWriter {
    type Target = Simulation;
    fn deref(&self) -> &Simulation {
        &self.sim
    }
}

impl HasComm for SimulationWriter {
    fn comm(&self) -> Comm {
        self.sim.comm.get()
    }
}

/// Options of [`SimulationWriter::create_run_script`].
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunScript {
    /// The commands, one per line.
    pub commands: Vec<String>,
    /// `Some` writes a SLURM batch script: one `#SBATCH <key>=<value>` line per option, after
    /// the defaults `--output=<dir>/<name>.out` and `--job-name=<uid>` (an option of the same
    /// key replaces a default in place).
    pub sbatch: Option<Vec<(String, String)>>,
}

impl SimulationWriter {
    /// The read-only view.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_simulation(&self) -> &Simulation {
        &self.sim
    }

    /// Runs `body` as a simulation run: the status is `started` during it, then `finished`, or
    /// `failed [<rank>: <error>]` if `body` returns an error or panics on any rank (Python's
    /// `with sim:`). A panic is re-raised after the status is stored.
    ///
    /// # Errors
    ///
    /// [`Error::RunFailed`] on every rank if `body` failed on any rank; errors of the status
    /// writes.
    ///
    /// # MPI
    ///
    /// Collective: after `body`, the ranks exchange their outcomes, so every rank learns of a
    /// failure elsewhere. A rank that panics inside a collective call of `body` still hangs the
    /// others unless a panic hook aborts the job (install one in MPI programs).
    pub fn run<T, E: std::fmt::Display>(
        &self,
        body: impl FnOnce(&SimulationWriter) -> std::result::Result<T, E>,
    ) -> Result<T> {
        self.set_status(StatusInfo::new(Status::Started))?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(self)));
        let comm = self.comm();
        let local_failure = match &outcome {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(panic) => Some(panic_message(panic.as_ref())),
        };
        let failures = comm.allgather(local_failure)?;
        let first = failures.iter().enumerate().find_map(|(rank, f)| {
            f.as_ref().map(|m| {
                if comm.size() > 1 {
                    format!("rank {rank}: {m}")
                } else {
                    m.clone()
                }
            })
        });
        let status = match &first {
            Some(message) => StatusInfo {
                status: Status::Failed,
                message: Some(message.clone()),
            },
            None => StatusInfo::new(Status::Finished),
        };
        self.set_status(status)?;
        match (outcome, first) {
            (Err(panic), _) => std::panic::resume_unwind(panic),
            (Ok(Ok(value)), None) => Ok(value),
            (_, Some(message)) => Err(Error::RunFailed {
                name: self.name.clone(),
                message,
            }),
            (Ok(Err(_)), None) => unreachable!("a local error is in the gathered failures"),
        }
    }

    /// Adds a step-numbered series at `path` (created if missing) and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::Series`] if `path` exists but is not a series.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn require_series(&self, path: &str) -> Result<Series> {
        self.init_series(path)?;
        self.series(path)
    }

    /// Writes mesh `name` at `/.mesh/<name>`: each rank gives its nodes (`coordinates`, one row
    /// per node) and cells (`topology`, one row of node numbers per cell). Cells are stored
    /// rank after rank; nodes too, unless a node map places them ([`NodeNumbering::Mapped`]).
    /// With [`NodeNumbering::Local`], a rank's node numbers count from 0 in its own
    /// `coordinates` and are shifted by the number of nodes of the lower ranks; otherwise they
    /// are global and stored as given.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the column counts differ between ranks or a node map does not match
    /// the coordinates; [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn add_mesh(
        &self,
        name: &str,
        coordinates: ndarray::ArrayView2<'_, f64>,
        topology: ndarray::ArrayView2<'_, i64>,
        cell_type: CellType,
        numbering: NodeNumbering<'_>,
    ) -> Result<()> {
        mesh::write(self, name, coordinates, topology, cell_type, numbering)
    }

    /// Writes the XDMF file `data.xdmf` next to `data.h5` for mesh `mesh` and the fields of a
    /// series, so ParaView can open the results; see [`crate::xdmf::XdmfWriter`].
    ///
    /// # Errors
    ///
    /// As [`crate::xdmf::XdmfWriter`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn create_xdmf(&self, options: &crate::xdmf::XdmfOptions) -> Result<PathBuf> {
        let mut writer = crate::xdmf::XdmfWriter::new(self.file.clone(), self.comm.child());
        writer.add_mesh(&options.mesh)?;
        writer.add_series(
            &options.series,
            &options.fields,
            options.steps.clone(),
            &options.mesh,
        )?;
        let path = self.path.join(&options.filename);
        writer.write(&path)?;
        Ok(path)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_owned()
    }
}

/// Replaces the value stored under the flattened name `name` (attribute or dataset), and any
/// stored names it conflicts with (`name.*` below it, a leaf above it).
fn store_parameter(f: &OpenFile<Write>, name: &str, value: &Parameter) -> Result<()> {
    let group = f.root().group(".parameters")?;
    let attrs = group.attrs()?;
    let datasets = group.datasets()?;
    let prefix = format!("{name}.");
    let conflicts = |stored: &str| {
        stored == name || stored.starts_with(&prefix) || name.starts_with(&format!("{stored}."))
    };
    for stored in attrs.keys().filter(|k| conflicts(k)) {
        group.delete_attr(stored)?;
    }
    for stored in datasets.iter().filter(|k| conflicts(k)) {
        group.delete(stored)?;
    }
    match value {
        Parameter::Value(value) => group.set_attr(name, value.clone()),
        Parameter::Array(array) => {
            let invalid = |reason: String| Error::InvalidParameter {
                key: name.to_owned(),
                reason,
            };
            /// The elements as an array of the stored shape.
            fn shaped<T: Clone>(
                shape: &[usize],
                v: &[T],
            ) -> std::result::Result<ndarray::ArrayD<T>, String> {
                ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v.to_vec())
                    .map_err(|e| e.to_string())
            }
            let shape = &array.shape;
            match &array.data {
                ArrayData::Float(v) => group.add_dataset(name, &shaped(shape, v).map_err(invalid)?),
                ArrayData::Int(v) => group.add_dataset(name, &shaped(shape, v).map_err(invalid)?),
                ArrayData::Bool(v) => group.add_dataset(name, &shaped(shape, v).map_err(invalid)?),
                _ => Err(invalid(
                    "only arrays of numbers or bools can be datasets".into(),
                )),
            }
        }
        Parameter::Map(_) => unreachable!("flattened parameters hold no maps"),
    }
}

#[root_process]
impl SimulationWriter {
    /// Creates `data.h5` with Python bamboost's skeleton: `status = initialized`,
    /// `created_at = now`, the groups `/.parameters`, `/.links`, `/.mesh` and the series
    /// `/data`.
    pub(crate) fn initialize(&self) -> Result<()> {
        let f = self.file.open_mut()?;
        let root = f.root();
        for group in [".parameters", ".links", ".mesh"] {
            root.require_group(group)?;
        }
        root.set_attr("status", Status::Initialized.as_str())?;
        root.set_attr("created_at", chrono::Local::now().naive_local())?;
        root.set_attr("description", "")?;
        root.set_attr("tags", AttrValue::Set(Vec::new()))?;
        drop(f);
        self.init_series(DEFAULT_SERIES)
    }

    /// Creates the series group `path` (with `fields`, `globals`, `.series = True`) if missing,
    /// and records it in the root attribute `.series_paths`.
    fn init_series(&self, path: &str) -> Result<()> {
        let path = path.trim_matches('/');
        let f = self.file.open_mut()?;
        let root = f.root();
        let exists = root.contains(path);
        let group = root.require_group(path)?;
        if exists {
            return match group.attr(".series") {
                Ok(AttrValue::Bool(true)) => Ok(()),
                _ => Err(Error::Series {
                    file: self.file.path().into(),
                    series: path.to_owned(),
                    message: "the group exists and is not a series".into(),
                }),
            };
        }
        group.require_group("fields")?;
        group.require_group("globals")?;
        group.set_attr(".series", true)?;
        let mut paths: Vec<String> = match root.attr(".series_paths") {
            Ok(AttrValue::Array(AttrArray {
                data: ArrayData::Str(v),
                ..
            })) => v,
            _ => Vec::new(),
        };
        if !paths.iter().any(|p| p == path) {
            paths.push(path.to_owned());
        }
        root.set_attr(".series_paths", paths)
    }

    /// Stores `parameters`, merging into the stored ones: only the given leaves change, so
    /// sibling keys of a nested map stay. A leaf replaces whatever was stored under its name
    /// (an array dataset by a scalar too), and names it conflicts with.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (nothing is written) for a reserved key, a key with `.`, or
    /// an array that cannot be a dataset.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_parameters(&self, parameters: &Parameters) -> Result<()> {
        parameters.validate()?;
        let f = self.file.open_mut()?;
        for (name, value) in parameters.flatten() {
            store_parameter(&f, &name, &value)?;
        }
        f.close()
    }

    /// Sets one parameter at a dotted path (`"solver.tol"`), keeping its siblings.
    ///
    /// # Errors
    ///
    /// As [`SimulationWriter::set_parameters`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_parameter(&self, path: &str, value: Parameter) -> Result<()> {
        let mut parts = path.rsplit('.');
        let leaf = parts.next().unwrap_or_default();
        let mut nested = Parameters::new().with(leaf, value);
        for part in parts {
            nested = Parameters::new().with(part, nested);
        }
        self.set_parameters(&nested)
    }

    /// Sets the status.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_status(&self, status: StatusInfo) -> Result<()> {
        self.set_metadata("status", AttrValue::Str(status.to_string()))
    }

    /// Sets the description.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_description(&self, description: &str) -> Result<()> {
        self.set_metadata("description", AttrValue::Str(description.to_owned()))
    }

    /// Sets the tags: de-duplicated, empty strings dropped, stored as a set.
    ///
    /// # Errors
    ///
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_tags(&self, tags: Vec<String>) -> Result<()> {
        let mut tags: Vec<String> = tags.into_iter().filter(|t| !t.is_empty()).collect();
        tags.sort();
        tags.dedup();
        self.set_metadata(
            "tags",
            AttrValue::Set(tags.into_iter().map(AttrValue::Str).collect()),
        )
    }

    /// Sets a root attribute (custom metadata, or one of the known fields).
    ///
    /// # Errors
    ///
    /// [`Error::Attribute`] if the value cannot be stored.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_metadata(&self, key: &str, value: AttrValue) -> Result<()> {
        let f = self.file.open_mut()?;
        f.root().set_attr(key, value)?;
        f.close()
    }

    /// Sets link `name` to the simulation `target` (`"<COLLECTION_UID>:<name>"`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUid`] if `target` is not of that form.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn set_link(&self, name: &str, target: &str) -> Result<()> {
        check_link(target)?;
        let f = self.file.open_mut()?;
        f.root().group(".links")?.set_attr(name, target)?;
        f.close()
    }

    /// Copies files and directories (recursively, keeping their names) into the simulation
    /// directory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the path that failed.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn copy_files(&self, paths: Vec<PathBuf>) -> Result<()> {
        paths.iter().try_for_each(|p| copy_into(p, &self.path))
    }

    /// Writes `run.sh` (see [`RunScript`]) with `SIMULATION_DIR` and `SIMULATION_ID` exported,
    /// and sets the metadata `submitted = false`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn create_run_script(&self, script: RunScript) -> Result<PathBuf> {
        let path = self.path.join(RUN_SCRIPT);
        std::fs::write(&path, self.run_script_text(&script))
            .map_err(|e| crate::collection::io(&path, e))?;
        self.set_metadata("submitted", AttrValue::Bool(false))?;
        Ok(path)
    }
}

impl SimulationWriter {
    /// The text of `run.sh`, as Python bamboost writes it.
    fn run_script_text(&self, script: &RunScript) -> String {
        let mut text = String::from("#!/bin/bash\n\n");
        if let Some(options) = &script.sbatch {
            let mut all = vec![
                (
                    "--output".to_owned(),
                    self.path
                        .join(format!("{}.out", self.name))
                        .display()
                        .to_string(),
                ),
                ("--job-name".to_owned(), self.uid()),
            ];
            for (key, value) in options {
                match all.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value.clone(),
                    None => all.push((key.clone(), value.clone())),
                }
            }
            for (key, value) in all {
                text.push_str(&format!("#SBATCH {key}={value}\n"));
            }
        }
        text.push_str(&format!(
            "\nexport SIMULATION_DIR={}\nexport SIMULATION_ID={}\n\n",
            self.path.display(),
            self.uid()
        ));
        text.push_str(&script.commands.join("\n"));
        text
    }
}

/// Checks a link target `"<COLLECTION_UID>:<name>"`.
pub(crate) fn check_link(target: &str) -> Result<()> {
    match target.split_once(':') {
        Some((collection, name)) if !collection.is_empty() && !name.is_empty() => Ok(()),
        _ => Err(Error::InvalidUid {
            what: "simulation uid".into(),
            value: target.to_owned(),
            reason: "a link target has the form `<COLLECTION_UID>:<name>`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_like_python() {
        let p = StatusInfo::parse;
        assert_eq!(p("finished"), StatusInfo::new(Status::Finished));
        assert_eq!(p("FAILED [boom]").message.as_deref(), Some("boom"));
        assert_eq!(
            p("failed [RuntimeError - 'Some error']").message.as_deref(),
            Some("RuntimeError - 'Some error'")
        );
        assert_eq!(p("failed[x]").status, Status::Failed);
        assert_eq!(p("weird").status, Status::Unknown);
        assert_eq!(p("weird").message.as_deref(), Some("weird"));
        assert_eq!(p("started trailing").status, Status::Unknown);
        let info = StatusInfo {
            status: Status::Failed,
            message: Some("An error occurred".into()),
        };
        assert_eq!(info.to_string(), "failed [An error occurred]");
        assert_eq!(p(&info.to_string()), info);
    }

    #[test]
    fn link_targets_need_a_collection_and_a_name() {
        assert!(check_link("ABC:sim").is_ok());
        for bad in ["ABC", ":sim", "ABC:", ""] {
            assert!(check_link(bad).is_err(), "{bad}");
        }
    }
}
