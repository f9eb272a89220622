//! Collections: a directory of simulations, identified by a `.bamboost-collection-<UID>` file
//! that also holds the collection's metadata as YAML — the layout of Python bamboost 0.14, so
//! both open the same collections.
//!
//! ```
//! use bamboost::collection::Collection;
//!
//! let dir = tempfile::tempdir()?;
//! let collection = Collection::open(dir.path())?; // created: directory and identifier file
//! let again = Collection::open(dir.path())?; // opened: the same UID
//! assert_eq!(collection.uid(), again.uid());
//!
//! let mut metadata = collection.metadata()?;
//! metadata.set_description(Some("parameter sweep of the heat equation"));
//! metadata.add_alias("heat");
//! collection.save_metadata(&metadata)?;
//! assert_eq!(again.metadata()?.aliases(), ["heat"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod query;

pub use query::{CompareOp, Filter, SimulationRecord};

use crate::error::{Error, Result};
use crate::h5::{AttrValue, OpenOptions};
use crate::mpi::{CommSlot, HasComm};
use crate::simulation::{
    DATA_FILE, Parameters, Simulation, SimulationWriter, Status, StatusInfo, check_link,
    created_at_of, tag_list,
};
use crate::uid::{CollectionUid, SimulationName};
use crate::{Comm, root_process};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A YAML value of the metadata (re-exported so callers need not depend on the YAML crate).
///
/// # MPI
///
/// Local: a plain value.
pub use serde_norway::Value as YamlValue;

/// Start of the identifier file's name; the collection's UID follows.
///
/// # MPI
///
/// Local: a constant.
pub const IDENTIFIER_PREFIX: &str = ".bamboost-collection-";

/// A collection of simulations: a directory holding `.bamboost-collection-<UID>` and one
/// subdirectory per simulation.
///
/// The communicator is resolved at use time from the collection's [`CommSlot`]: the world
/// communicator unless one is set, and `self_comm` inside a root-only scope.
///
/// # MPI
///
/// [`Collection::open`] and [`Collection::open_existing`] are collective; the other methods are
/// root-only (they run on rank 0 and every rank returns the same value) unless their
/// documentation says otherwise.
#[derive(Debug, Clone)]
pub struct Collection {
    path: PathBuf,
    uid: CollectionUid,
    /// The identifier file as found (its UID part may be in lower case).
    identifier: PathBuf,
    comm: CommSlot,
    /// Conditions of a filtered view (all must hold).
    filters: Vec<Filter>,
    /// Sort keys of a sorted view, primary first: (key, ascending).
    sort_keys: Vec<(String, bool)>,
}

/// What [`Collection::add`] does when a simulation with exactly the same parameters and links
/// exists (Python's `duplicate_action`).
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DuplicateAction {
    /// Fail with [`Error::DuplicateSimulation`].
    #[default]
    Raise,
    /// Return a writer for the (first) existing simulation.
    Skip,
    /// Delete every duplicate, then create the new simulation.
    Replace,
    /// Create the new simulation anyway.
    Ignore,
}

/// A simulation to create with [`Collection::add`].
///
/// # MPI
///
/// Local: a plain value (give the same on every rank).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewSimulation {
    name: Option<String>,
    parameters: Parameters,
    description: Option<String>,
    tags: Vec<String>,
    links: BTreeMap<String, String>,
    files: Vec<PathBuf>,
    duplicate_action: DuplicateAction,
    override_existing: bool,
}

impl NewSimulation {
    /// A simulation with a generated name, no parameters, [`DuplicateAction::Raise`].
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> NewSimulation {
        NewSimulation::default()
    }

    /// The name (directory name); without one, 10 random hexadecimal characters.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn name(mut self, name: &str) -> NewSimulation {
        self.name = Some(name.to_owned());
        self
    }

    /// The parameters.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn parameters(mut self, parameters: Parameters) -> NewSimulation {
        self.parameters = parameters;
        self
    }

    /// The description.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn description(mut self, description: &str) -> NewSimulation {
        self.description = Some(description.to_owned());
        self
    }

    /// The tags (de-duplicated, empty ones dropped).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> NewSimulation {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// A link `name` to the simulation `target` (`<COLLECTION_UID>:<name>`).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn link(mut self, name: &str, target: &str) -> NewSimulation {
        self.links.insert(name.to_owned(), target.to_owned());
        self
    }

    /// Files and directories to copy into the simulation directory.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn files<P: Into<PathBuf>>(mut self, files: impl IntoIterator<Item = P>) -> NewSimulation {
        self.files = files.into_iter().map(Into::into).collect();
        self
    }

    /// What to do when a simulation with the same parameters and links exists.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn duplicate_action(mut self, action: DuplicateAction) -> NewSimulation {
        self.duplicate_action = action;
        self
    }

    /// Replace a simulation of the same name instead of failing.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn override_existing(mut self, yes: bool) -> NewSimulation {
        self.override_existing = yes;
        self
    }
}

/// Rank 0's decision in [`Collection::add`].
#[derive(Serialize, Deserialize)]
enum Prepared {
    Created,
    Existing(String),
}

impl HasComm for Collection {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

impl Collection {
    /// Opens the collection in directory `path`, creating the directory and its identifier
    /// file (with a new UID made on rank 0) if needed. Uses the world communicator.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directory or the identifier file cannot be created or read;
    /// [`Error::InvalidUid`] if the identifier file's name holds no valid UID.
    ///
    /// # MPI
    ///
    /// Collective: every rank gets the same UID.
    pub fn open(path: impl AsRef<Path>) -> Result<Collection> {
        Collection::open_in(path, CommSlot::new(), true)
    }

    /// As [`Collection::open`], with the given communicator slot (see
    /// [`CommSlot`]): the collection and everything opened from it use it.
    ///
    /// # Errors
    ///
    /// As [`Collection::open`].
    ///
    /// # MPI
    ///
    /// Collective on the slot's communicator.
    pub fn open_with(path: impl AsRef<Path>, comm: CommSlot) -> Result<Collection> {
        Collection::open_in(path, comm, true)
    }

    /// Opens an existing collection; nothing is created.
    ///
    /// # Errors
    ///
    /// [`Error::NotACollection`] if `path` holds no identifier file; otherwise as
    /// [`Collection::open`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn open_existing(path: impl AsRef<Path>, comm: CommSlot) -> Result<Collection> {
        Collection::open_in(path, comm, false)
    }

    fn open_in(path: impl AsRef<Path>, comm: CommSlot, create: bool) -> Result<Collection> {
        let path = std::path::absolute(path.as_ref()).map_err(|e| io(path.as_ref(), e))?;
        let world = comm.try_get()?;
        let found = world.bcast_from(0, || find_identifier(&path, create))??;
        let identifier = match found {
            Some(identifier) => identifier,
            None if !create => return Err(Error::NotACollection { path }),
            None => {
                let uid = CollectionUid::generate(&world)?;
                world.bcast_from(0, || write_identifier(&path, &uid))??
            }
        };
        Ok(Collection {
            uid: uid_of(&identifier)?,
            path,
            identifier,
            comm,
            filters: Vec::new(),
            sort_keys: Vec::new(),
        })
    }

    /// The collection's UID (upper case).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn uid(&self) -> &CollectionUid {
        &self.uid
    }

    /// The collection's directory (absolute).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The collection's communicator slot; objects opened from the collection use a child of
    /// it, so a communicator set here reaches them.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn comm_slot(&self) -> &CommSlot {
        &self.comm
    }

    /// A view of the simulations satisfying `filter` too (filters chain with AND). Adding,
    /// duplicate checks and deleting still see the whole collection.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn filter(&self, filter: Filter) -> Collection {
        let mut view = self.clone();
        view.filters.push(filter);
        view
    }

    /// A view sorted by `key` too (see [`SimulationRecord::get`]); the first sort is the
    /// primary key. Missing values come last.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn sort(&self, key: &str, ascending: bool) -> Collection {
        let mut view = self.clone();
        view.sort_keys.push((key.to_owned(), ascending));
        view
    }

    fn is_view(&self) -> bool {
        !(self.filters.is_empty() && self.sort_keys.is_empty())
    }

    fn handle(&self, name: &str) -> Simulation {
        Simulation::at(&self.path, name, self.uid.clone(), self.comm.child())
    }

    /// The simulation `name`, read-only.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchSimulation`].
    ///
    /// # MPI
    ///
    /// Collective (rank 0 checks that it exists).
    pub fn simulation(&self, name: &str) -> Result<Simulation> {
        if !self.contains(name)? {
            return Err(Error::NoSuchSimulation {
                path: self.path.clone(),
                name: name.to_owned(),
            });
        }
        Ok(self.handle(name))
    }

    /// The simulations of this view, in its order.
    ///
    /// # Errors
    ///
    /// As [`Collection::records`].
    ///
    /// # MPI
    ///
    /// Collective (rank 0 reads).
    pub fn simulations(&self) -> Result<Vec<Simulation>> {
        Ok(self
            .simulation_names()?
            .iter()
            .map(|name| self.handle(name))
            .collect())
    }

    /// Creates a simulation and returns its writer: a name (given, or generated on rank 0 and
    /// broadcast), the directory and `data.h5` with Python bamboost's skeleton, the
    /// description, tags, parameters and links, and the copied files. If anything fails after
    /// the directory was made, the directory is removed again.
    ///
    /// Duplicates are simulations whose parameters and links are exactly the new ones: every
    /// given key equal (numbers by value, lists element-wise, a `None` value equal to a missing
    /// key) and no other key. They are looked for in the whole collection, whatever the view.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (reserved key, key with `.`, unstorable value) and
    /// [`Error::InvalidUid`] (bad name or link) before anything is created;
    /// [`Error::SimulationExists`]; [`Error::DuplicateSimulation`]; [`Error::Io`];
    /// [`Error::Hdf5`].
    ///
    /// # MPI
    ///
    /// Collective: every rank gets the same writer (rank 0 does the file-system work).
    pub fn add(&self, spec: NewSimulation) -> Result<SimulationWriter> {
        spec.parameters.validate()?;
        spec.links.values().try_for_each(|t| check_link(t))?;
        let name = match &spec.name {
            Some(name) => SimulationName::new(name.as_str())?,
            None => SimulationName::generate(&self.comm())?,
        };
        match self.prepare(name.as_str(), &spec)? {
            Prepared::Existing(existing) => Ok(self.handle(&existing).edit()),
            Prepared::Created => {
                let writer = self.handle(name.as_str()).edit();
                self.fill(&writer, &spec)?;
                Ok(writer)
            }
        }
    }
}

#[root_process]
impl Collection {
    /// Reads the metadata from the identifier file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; [`Error::CollectionMetadata`] if it is not
    /// YAML or not a mapping.
    ///
    /// # MPI
    ///
    /// Root-only: read on rank 0, every rank returns the same value.
    pub fn metadata(&self) -> Result<CollectionMetadata> {
        let text =
            std::fs::read_to_string(&self.identifier).map_err(|e| io(&self.identifier, e))?;
        CollectionMetadata::from_yaml(&text).map_err(|message| Error::CollectionMetadata {
            path: self.identifier.clone(),
            message,
        })
    }

    /// Writes `metadata` to the identifier file (keys in their order, `null` values left out,
    /// the `uid` key set to this collection's UID). The file is replaced in one step, so a
    /// reader never sees it half written.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be written.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn save_metadata(&self, metadata: &CollectionMetadata) -> Result<()> {
        let mut metadata = metadata.clone();
        metadata.set("uid", YamlValue::from(self.uid.as_str()));
        let text = metadata.to_yaml();
        let name = self
            .identifier
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = self.path.join(format!("{name}.saving"));
        std::fs::write(&temporary, text).map_err(|e| io(&temporary, e))?;
        std::fs::rename(&temporary, &self.identifier).map_err(|e| io(&self.identifier, e))
    }

    /// The names of the simulations of this view: the subdirectories holding a `data.h5`,
    /// sorted by name unless the view is sorted otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directory cannot be listed; as [`Collection::records`] for a
    /// filtered or sorted view.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn simulation_names(&self) -> Result<Vec<String>> {
        if self.is_view() {
            return Ok(self.records()?.into_iter().map(|r| r.name).collect());
        }
        self.all_simulation_names()
    }

    /// Whether the whole collection (whatever the view) has a simulation `name`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn contains(&self, name: &str) -> Result<bool> {
        Ok(SimulationName::new(name).is_ok() && self.path.join(name).join(DATA_FILE).is_file())
    }

    /// One record per simulation of this view (filtered, in its order): Python bamboost's
    /// DataFrame.
    ///
    /// # Errors
    ///
    /// [`Error::Io`]; [`Error::Hdf5`] or [`Error::NotFound`] for a damaged `data.h5`.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn records(&self) -> Result<Vec<SimulationRecord>> {
        let mut records: Vec<SimulationRecord> = self
            .all_records()?
            .into_iter()
            .filter(|r| self.filters.iter().all(|f| f.matches(r)))
            .collect();
        query::sort(&mut records, &self.sort_keys);
        Ok(records)
    }

    /// Deletes the simulations `names` (their directories). Every name is checked first, in
    /// the whole collection: if one is unknown, nothing is deleted.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchSimulation`]; [`Error::Io`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn delete(&self, names: Vec<String>) -> Result<()> {
        if let Some(unknown) = names.iter().find(|n| !self.contains(n).unwrap_or(false)) {
            return Err(Error::NoSuchSimulation {
                path: self.path.clone(),
                name: unknown.clone(),
            });
        }
        for name in &names {
            let dir = self.path.join(name);
            std::fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
        }
        Ok(())
    }

    /// The records of every simulation, by name.
    fn all_records(&self) -> Result<Vec<SimulationRecord>> {
        self.all_simulation_names()?
            .iter()
            .map(|name| Ok(read_record(&self.handle(name), &OpenOptions::new())?.record))
            .collect()
    }

    /// Rank 0's part of [`Collection::add`]: name and duplicate checks, then the directory.
    fn prepare(&self, name: &str, spec: &NewSimulation) -> Result<Prepared> {
        let dir = self.path.join(name);
        if dir.exists() && !spec.override_existing {
            return Err(Error::SimulationExists {
                path: self.path.clone(),
                name: name.to_owned(),
            });
        }
        if spec.duplicate_action != DuplicateAction::Ignore {
            let wanted = SimulationRecord::comparable_columns(&spec.parameters, &spec.links);
            let duplicates: Vec<String> = self
                .all_records()?
                .into_iter()
                .filter(|r| r.name != name)
                .filter(|r| SimulationRecord::comparable_columns(&r.parameters, &r.links) == wanted)
                .map(|r| r.name)
                .collect();
            match (spec.duplicate_action, duplicates.first()) {
                (_, None) | (DuplicateAction::Ignore, _) => {}
                (DuplicateAction::Raise, Some(_)) => {
                    return Err(Error::DuplicateSimulation {
                        path: self.path.clone(),
                        names: duplicates,
                    });
                }
                (DuplicateAction::Skip, Some(first)) => {
                    return Ok(Prepared::Existing(first.clone()));
                }
                (DuplicateAction::Replace, Some(_)) => self.delete(duplicates)?,
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| io(&dir, e))?;
        Ok(Prepared::Created)
    }

    /// Rank 0's second part of [`Collection::add`]: `data.h5` and the files; on failure the
    /// directory is removed.
    fn fill(&self, writer: &SimulationWriter, spec: &NewSimulation) -> Result<()> {
        let filled = (|| {
            writer.initialize()?;
            writer.set_description(spec.description.as_deref().unwrap_or(""))?;
            writer.set_tags(spec.tags.clone())?;
            writer.set_parameters(&spec.parameters)?;
            for (name, target) in &spec.links {
                writer.set_link(name, target)?;
            }
            writer.copy_files(spec.files.clone())
        })();
        if filled.is_err() {
            let _ = std::fs::remove_dir_all(writer.path());
        }
        filled
    }

    /// The names of every simulation, whatever the view, sorted.
    fn all_simulation_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.path).map_err(|e| io(&self.path, e))? {
            let entry = entry.map_err(|e| io(&self.path, e))?;
            if entry.path().join(DATA_FILE).is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The number of simulations.
    ///
    /// # Errors
    ///
    /// As [`Collection::simulation_names`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn len(&self) -> Result<usize> {
        Ok(self.simulation_names()?.len())
    }

    /// Whether the collection holds no simulation.
    ///
    /// # Errors
    ///
    /// As [`Collection::simulation_names`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// What [`read_record`] found in one `data.h5`.
pub(crate) struct ReadRecord {
    pub(crate) record: SimulationRecord,
    /// The `submitted` flag.
    pub(crate) submitted: bool,
    /// A `created_at` attribute that is present but not a datetime.
    pub(crate) odd_created_at: Option<String>,
}

/// Reads a simulation's record with one open of its file (nested reads share the handle).
pub(crate) fn read_record(sim: &Simulation, options: &OpenOptions) -> Result<ReadRecord> {
    let _open = sim.file().open_with(options)?;
    let metadata = sim.metadata()?;
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let created_at = created_at_of(&metadata);
    let odd_created_at = match metadata.get("created_at") {
        Some(value) if created_at.is_none() => Some(format!("{value:?}")),
        _ => None,
    };
    Ok(ReadRecord {
        record: SimulationRecord {
            name: sim.name().to_owned(),
            status: text("status")
                .map_or(StatusInfo::new(Status::Unknown), |s| StatusInfo::parse(&s)),
            description: text("description").unwrap_or_default(),
            tags: metadata.get("tags").map(tag_list).unwrap_or_default(),
            created_at,
            parameters: sim.parameters()?,
            links: sim.links()?,
        },
        submitted: matches!(metadata.get("submitted"), Some(AttrValue::Bool(true))),
        odd_created_at,
    })
}

/// An [`Error::Io`] for `path`.
pub(crate) fn io(path: &Path, error: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        message: error.to_string().to_lowercase(),
    }
}

/// Creates `dir` when asked, then finds its identifier file (the first by name if there are
/// several, as Python bamboost's glob does in practice).
fn find_identifier(dir: &Path, create: bool) -> Result<Option<PathBuf>> {
    if create {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    } else if !dir.is_dir() {
        return Err(Error::NotACollection {
            path: dir.to_path_buf(),
        });
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(IDENTIFIER_PREFIX) && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    if found.len() > 1 {
        tracing::warn!(
            "{} holds {} collection identifier files; using {}",
            dir.display(),
            found.len(),
            found[0].display()
        );
    }
    Ok(found.into_iter().next())
}

/// Writes a new identifier file as Python bamboost does: one line `created_at: <local time>`,
/// without a trailing newline.
fn write_identifier(dir: &Path, uid: &CollectionUid) -> Result<PathBuf> {
    let path = dir.join(format!("{IDENTIFIER_PREFIX}{uid}"));
    let created = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.6f");
    std::fs::write(&path, format!("created_at: {created}")).map_err(|e| io(&path, e))?;
    Ok(path)
}

fn uid_of(identifier: &Path) -> Result<CollectionUid> {
    let name = identifier
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    CollectionUid::new(name.trim_start_matches(IDENTIFIER_PREFIX))
}

/// The metadata of a collection: the YAML mapping of its identifier file, with typed access to
/// the known fields (`uid`, `created_at`, `tags`, `aliases`, `author`, `description`). Other
/// keys and the order of all keys are kept.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CollectionMetadata {
    fields: serde_norway::Mapping,
}

impl CollectionMetadata {
    /// Parses the text of an identifier file; an empty file is empty metadata.
    ///
    /// # Errors
    ///
    /// A message if the text is not YAML or not a mapping.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn from_yaml(text: &str) -> std::result::Result<CollectionMetadata, String> {
        if text.trim().is_empty() {
            return Ok(CollectionMetadata::default());
        }
        match serde_norway::from_str::<YamlValue>(text) {
            Ok(YamlValue::Mapping(fields)) => Ok(CollectionMetadata { fields }),
            Ok(YamlValue::Null) => Ok(CollectionMetadata::default()),
            Ok(other) => Err(format!(
                "the document is {}, not a mapping of keys to values",
                kind(&other)
            )),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The YAML text, keys in order, `null` values left out (as Python bamboost saves it).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn to_yaml(&self) -> String {
        let mut fields = self.fields.clone();
        fields.retain(|_, value| !value.is_null());
        serde_norway::to_string(&fields).unwrap_or_default()
    }

    /// The value of `key`, known field or not.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn get(&self, key: &str) -> Option<&YamlValue> {
        self.fields.get(key)
    }

    /// Sets `key` (kept in place if present, else appended); `null` removes it on save.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn set(&mut self, key: &str, value: YamlValue) {
        self.fields.insert(YamlValue::from(key), value);
    }

    /// Removes `key`, returning its value.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn remove(&mut self, key: &str) -> Option<YamlValue> {
        self.fields.shift_remove(key)
    }

    /// The keys, in order.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn keys(&self) -> Vec<String> {
        self.fields
            .keys()
            .map(|key| as_text(key).unwrap_or_default())
            .collect()
    }

    fn text(&self, key: &str) -> Option<String> {
        as_text(self.fields.get(key)?)
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.fields.get(key) {
            Some(YamlValue::Sequence(items)) => items.iter().filter_map(as_text).collect(),
            Some(YamlValue::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    fn set_list(&mut self, key: &str, items: Vec<String>) {
        self.set(
            key,
            YamlValue::Sequence(items.into_iter().map(YamlValue::from).collect()),
        );
    }

    /// The `uid` field, if saved.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn uid(&self) -> Option<String> {
        self.text("uid")
    }

    /// When the collection was created, as written (`2026-11-21 11:21:40.711612`); the legacy
    /// key `Date of creation` is read too.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn created_at(&self) -> Option<String> {
        self.text("created_at")
            .or_else(|| self.text("Date of creation"))
    }

    /// The description.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn description(&self) -> Option<String> {
        self.text("description")
    }

    /// Sets the description (`None` removes it).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn set_description(&mut self, description: Option<&str>) {
        self.set(
            "description",
            description.map_or(YamlValue::Null, YamlValue::from),
        );
    }

    /// The tags, in order.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn tags(&self) -> Vec<String> {
        self.list("tags")
    }

    /// Sets the tags; repeated tags are kept once, in their first position.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn set_tags<S: AsRef<str>>(&mut self, tags: impl IntoIterator<Item = S>) {
        let mut unique: Vec<String> = Vec::new();
        for tag in tags {
            let tag = tag.as_ref();
            if !unique.iter().any(|t| t == tag) {
                unique.push(tag.to_string());
            }
        }
        self.set_list("tags", unique);
    }

    /// The aliases, in order.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn aliases(&self) -> Vec<String> {
        self.list("aliases")
    }

    /// Adds an alias unless one equal to it ignoring case is present; returns whether it was
    /// added.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn add_alias(&mut self, alias: &str) -> bool {
        let mut aliases = self.aliases();
        if aliases.iter().any(|a| a.eq_ignore_ascii_case(alias)) {
            return false;
        }
        aliases.push(alias.to_string());
        self.set_list("aliases", aliases);
        true
    }

    /// Removes the aliases equal to `alias` ignoring case; returns whether one was removed.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn remove_alias(&mut self, alias: &str) -> bool {
        let mut aliases = self.aliases();
        let before = aliases.len();
        aliases.retain(|a| !a.eq_ignore_ascii_case(alias));
        let removed = aliases.len() != before;
        if removed {
            self.set_list("aliases", aliases);
        }
        removed
    }

    /// The author: a name, or a mapping such as `{name, email}`.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn author(&self) -> Option<&YamlValue> {
        self.fields.get("author").filter(|a| !a.is_null())
    }
}

/// A value as text: a string as it is, anything else as its YAML; `null` as nothing.
fn as_text(value: &YamlValue) -> Option<String> {
    match value {
        YamlValue::String(s) => Some(s.clone()),
        YamlValue::Null => None,
        other => Some(
            serde_norway::to_string(other)
                .unwrap_or_default()
                .trim_end()
                .to_string(),
        ),
    }
}

fn kind(value: &YamlValue) -> &'static str {
    match value {
        YamlValue::Null => "empty",
        YamlValue::Bool(_) => "a boolean",
        YamlValue::Number(_) => "a number",
        YamlValue::String(_) => "a string",
        YamlValue::Sequence(_) => "a list",
        YamlValue::Mapping(_) => "a mapping",
        YamlValue::Tagged(_) => "a tagged value",
    }
}

// Sent between ranks as its YAML text: the YAML value type needs a self-describing format,
// which the broadcast codec is not.
impl Serialize for CollectionMetadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&serde_norway::to_string(&self.fields).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for CollectionMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CollectionMetadata::from_yaml(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identifier file Python bamboost 0.14 writes after `metadata.save()` (reference §2.2).
    const PYTHON_SAVED: &str = "created_at: 2026-11-21 11:21:40.711612
uid: 19B1497240
aliases:
- myalias
tags:
- x
- y
description: A collection
author:
  name: me
  email: e@x
custom:
  foo: 1
";

    fn identifier(dir: &Path) -> PathBuf {
        find_identifier(dir, false)
            .expect("listable")
            .expect("an identifier file")
    }

    #[test]
    fn open_creates_once_and_reopens_with_the_same_uid() -> Result<()> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("nested/sweep");
        let created = Collection::open(&path)?;
        assert_eq!(created.uid().as_str().len(), 10);
        assert_eq!(created.path(), path);
        let text = std::fs::read_to_string(identifier(&path)).expect("readable");
        // One line, no trailing newline, Python's `str(datetime.now())`.
        let stamp = text
            .strip_prefix("created_at: ")
            .expect("the creation time");
        assert!(
            chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.6f").is_ok(),
            "{text:?}"
        );
        let again = Collection::open_existing(&path, CommSlot::new())?;
        assert_eq!(again.uid(), created.uid());
        assert_eq!(std::fs::read_dir(&path).expect("listable").count(), 1);
        assert!(created.metadata()?.created_at().is_some());
        Ok(())
    }

    #[test]
    fn open_existing_refuses_a_plain_or_missing_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for path in [dir.path().to_path_buf(), dir.path().join("missing")] {
            assert_eq!(
                Collection::open_existing(&path, CommSlot::new()).err(),
                Some(Error::NotACollection { path: path.clone() })
            );
        }
        assert!(!dir.path().join("missing").exists());
    }

    #[test]
    fn a_lower_case_identifier_gives_an_upper_case_uid() -> Result<()> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join(".bamboost-collection-ab12cd");
        std::fs::write(&file, "description: old").expect("writable");
        let collection = Collection::open(dir.path())?;
        assert_eq!(collection.uid().as_str(), "AB12CD");
        assert_eq!(collection.metadata()?.description().as_deref(), Some("old"));
        Ok(())
    }

    #[test]
    fn python_metadata_reads_and_saves_with_order_and_extras_kept() -> Result<()> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join(".bamboost-collection-19B1497240"),
            PYTHON_SAVED,
        )
        .expect("writable");
        let collection = Collection::open(dir.path())?;
        let mut metadata = collection.metadata()?;
        assert_eq!(metadata.uid().as_deref(), Some("19B1497240"));
        assert_eq!(
            metadata.created_at().as_deref(),
            Some("2026-11-21 11:21:40.711612")
        );
        assert_eq!(metadata.aliases(), ["myalias"]);
        assert_eq!(metadata.tags(), ["x", "y"]);
        assert_eq!(metadata.description().as_deref(), Some("A collection"));
        let author = metadata.author().expect("an author");
        assert_eq!(author.get("email").and_then(|e| e.as_str()), Some("e@x"));
        assert_eq!(
            metadata.get("custom").and_then(|c| c.get("foo")),
            Some(&YamlValue::from(1))
        );
        // Unchanged, it saves to the same text.
        assert_eq!(metadata.to_yaml(), PYTHON_SAVED);
        assert!(!metadata.add_alias("MYALIAS"));
        assert!(metadata.add_alias("second"));
        metadata.set_tags(["y", "z", "y"]);
        metadata.set_description(None);
        metadata.set("new", YamlValue::from(true));
        collection.save_metadata(&metadata)?;
        let saved = std::fs::read_to_string(identifier(dir.path())).expect("readable");
        assert_eq!(
            saved,
            "created_at: 2026-11-21 11:21:40.711612
uid: 19B1497240
aliases:
- myalias
- second
tags:
- y
- z
author:
  name: me
  email: e@x
custom:
  foo: 1
new: true
"
        );
        assert!(metadata.remove_alias("Second"));
        assert_eq!(metadata.aliases(), ["myalias"]);
        Ok(())
    }

    #[test]
    fn bad_metadata_is_a_typed_error_and_the_file_is_kept() -> Result<()> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let collection = Collection::open(dir.path())?;
        let file = identifier(dir.path());
        for (text, expected) in [("- a\n- b\n", "a list"), ("key: [unclosed\n", "")] {
            std::fs::write(&file, text).expect("writable");
            match collection.metadata() {
                Err(Error::CollectionMetadata { path, message }) => {
                    assert_eq!(path, file);
                    assert!(message.contains(expected), "{message}");
                }
                other => panic!("expected a metadata error, got {other:?}"),
            }
            assert_eq!(std::fs::read_to_string(&file).expect("readable"), text);
        }
        std::fs::write(&file, "").expect("writable");
        assert_eq!(collection.metadata()?, CollectionMetadata::default());
        Ok(())
    }

    #[test]
    fn simulations_are_the_directories_with_a_data_file() -> Result<()> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let collection = Collection::open(dir.path())?;
        assert!(collection.is_empty()?);
        for name in ["b", "a", "no-data"] {
            std::fs::create_dir(dir.path().join(name)).expect("a directory");
        }
        for name in ["a", "b"] {
            std::fs::write(dir.path().join(name).join(DATA_FILE), b"").expect("writable");
        }
        std::fs::write(dir.path().join(DATA_FILE), b"").expect("writable");
        assert_eq!(collection.simulation_names()?, ["a", "b"]);
        assert_eq!(collection.len()?, 2);
        Ok(())
    }

    #[test]
    fn metadata_travels_through_the_codec() -> Result<()> {
        let metadata = CollectionMetadata::from_yaml(PYTHON_SAVED).expect("valid");
        let bytes = crate::codec::encode(&metadata)?;
        assert_eq!(
            crate::codec::decode::<CollectionMetadata>(&bytes)?,
            metadata
        );
        Ok(())
    }
}
