//! The index: an SQLite file that finds every collection by UID or alias and answers queries
//! over their simulations without opening any `data.h5`.
//!
//! The file is Python bamboost's `bamboost.0.11.sqlite` (same tables, columns, unique keys and
//! encodings), so both libraries can share one index. The collections on disk stay the source
//! of truth: the index is a cache, brought up to date by [`Index::scan`] (which collections
//! exist) and [`Index::sync`] (their simulations, incrementally), and it can always be rebuilt
//! from the disk by deleting the file and scanning again.
//!
//! `Index` is a `#[root_process]` type: only rank 0 opens the SQLite file; every method runs
//! there and all ranks receive the result (errors included).
//!
//! ```
//! use bamboost::collection::{Collection, Filter, NewSimulation};
//! use bamboost::config::IndexConfig;
//! use bamboost::index::{Index, Query};
//! use bamboost::simulation::Parameters;
//!
//! let dir = tempfile::tempdir()?;
//! let collection = Collection::open(dir.path().join("sweep"))?;
//! for n in [10, 20, 40] {
//!     collection.add(NewSimulation::new().parameters(Parameters::new().with("n", n)))?;
//! }
//! let index = Index::open(&IndexConfig::new(dir.path().join("index.sqlite"), [dir.path()]))?;
//! index.scan()?;
//! let report = index.sync(collection.uid().as_str(), false)?;
//! assert_eq!(report.added, 3);
//! let big = index.query(collection.uid().as_str(), &Query::new().filter(Filter::gt("n", 15)))?;
//! assert_eq!(big.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod json;
mod rows;
mod schema;
mod sql;

use crate::collection::{
    Collection, CollectionMetadata, Filter, IDENTIFIER_PREFIX, SimulationRecord, YamlValue,
    read_record,
};
use crate::config::{Config, IndexConfig};
use crate::error::{Error, Result};
use crate::h5::{AttrValue, LockTimeout, OpenOptions};
use crate::mpi::{CommSlot, HasComm};
use crate::simulation::{DATA_FILE, Parameter, Parameters, Simulation, StatusInfo};
use crate::uid::CollectionUid;
use crate::{Comm, root_process};
use json::Json;
use rows::{Cell, Column, RawSimulation};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a statement waits for another process's lock on the index before failing. Long
/// enough that concurrent jobs queue rather than fail; every write is a short transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a sync waits for a `data.h5` that a running job has locked (then skips it).
const SYNC_LOCK_TIMEOUT: f64 = 0.1;

/// A progress report of a long operation, for a progress bar.
///
/// # MPI
///
/// Local: a plain value, reported on rank 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What is being done: `"scan"` (directories searched) or `"sync"` (files read).
    pub task: &'static str,
    /// Items done so far.
    pub done: u64,
    /// Items in all, when known.
    pub total: Option<u64>,
}

/// A callback receiving [`Progress`] reports.
///
/// # MPI
///
/// Local.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A collection as the index knows it.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionEntry {
    /// The UID (upper case).
    pub uid: String,
    /// The directory (absolute).
    pub path: PathBuf,
    /// The creation time from the identifier file, if any.
    pub created_at: Option<chrono::NaiveDateTime>,
    /// The description (`""` if none).
    pub description: String,
    /// The tags.
    pub tags: Vec<String>,
    /// The aliases.
    pub aliases: Vec<String>,
}

/// What [`Index::sync`] did.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Simulations new to the index.
    pub added: usize,
    /// Simulations whose file changed since the last sync, read again.
    pub updated: usize,
    /// Simulations whose file did not change (not opened).
    pub unchanged: usize,
    /// Rows of simulations whose directory is gone, removed.
    pub removed: usize,
    /// Simulations skipped because a running job holds their file's lock.
    pub locked: Vec<String>,
    /// Simulations skipped because their file is damaged: (name, reason).
    pub invalid: Vec<(String, String)>,
}

/// A link between two simulations.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The link's name.
    pub name: String,
    /// The simulation holding the link, `<COLLECTION_UID>:<name>`.
    pub source: String,
    /// The simulation it points to, `<COLLECTION_UID>:<name>`.
    pub target: String,
}

/// A query over the simulations of one collection: a filter, sort keys and a row limit.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Filter>,
    sort: Vec<(String, bool)>,
    limit: Option<usize>,
}

impl Query {
    /// Every simulation, by name.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new() -> Query {
        Query::default()
    }

    /// Keeps the simulations matching `filter` (and any earlier filter).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = Some(match self.filter.take() {
            Some(earlier) => earlier.and(filter),
            None => filter,
        });
        self
    }

    /// Sorts by `key` (after earlier sort keys); missing values last.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn sort(mut self, key: &str, ascending: bool) -> Query {
        self.sort.push((key.to_owned(), ascending));
        self
    }

    /// Returns at most `n` simulations.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn limit(mut self, n: usize) -> Query {
        self.limit = Some(n);
        self
    }
}

/// One simulation as a table row shows it, lent by [`Index::for_each_row`]. The same value
/// is refilled for every simulation, so reading many rows allocates little.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug)]
pub struct SimulationRow {
    name: String,
    status: StatusInfo,
    created_at: Option<chrono::NaiveDateTime>,
    /// Dotted key and value of each leaf. Only the first `leaves` are this row's; the others
    /// keep their key buffers for later rows.
    parameters: Vec<(String, Parameter)>,
    leaves: usize,
}

impl SimulationRow {
    /// The simulation name.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The status.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn status(&self) -> &StatusInfo {
        &self.status
    }

    /// The creation time, if stored.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn created_at(&self) -> Option<chrono::NaiveDateTime> {
        self.created_at
    }

    /// Every parameter that is not a map, under its dotted key (`mesh.size`), as
    /// [`Parameters::flatten`] names them: top-level keys sorted, a nested map's keys sorted
    /// within it. Empty maps have no entry.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn parameters(&self) -> &[(String, Parameter)] {
        &self.parameters[..self.leaves]
    }

    /// Refills the row from a simulation of [`Index::read_rows`].
    fn fill(&mut self, raw: &RawSimulation<'_>) -> rusqlite::Result<()> {
        self.name.clear();
        self.name
            .push_str(raw.text(Column::Name)?.unwrap_or_default());
        self.status = StatusInfo::parse(raw.text(Column::Status)?.unwrap_or_default());
        self.created_at = raw.text(Column::CreatedAt)?.and_then(parse_datetime);
        self.leaves = 0;
        let mut path = String::new();
        for (key, value) in raw.parameters() {
            path.clear();
            path.push_str(key.as_str()?);
            match value {
                // A nested map: its leaves straight from the JSON, no `Parameters` built.
                Cell::Text(text) if text.starts_with('{') => match Json::parse(text) {
                    Some(json) => self.push_json_leaves(&mut path, json),
                    None => self.push_leaves(&mut path, decode_parameter(value)),
                },
                value => self.push_leaves(&mut path, decode_parameter(value)),
            }
        }
        Ok(())
    }

    /// [`SimulationRow::push_leaves`] of the parameter `json` stands for: an object (not an
    /// envelope) as its leaves, ordered as [`Parameters`] orders them (by key; of repeated keys
    /// the last).
    fn push_json_leaves(&mut self, path: &mut String, json: Json) {
        match json {
            Json::Obj(mut fields) if !json::is_envelope(&fields) => {
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                let mut fields = fields.into_iter().peekable();
                while let Some((key, value)) = fields.next() {
                    if fields.peek().is_some_and(|(next, _)| *next == key) {
                        continue;
                    }
                    let len = path.len();
                    path.push('.');
                    path.push_str(&key);
                    self.push_json_leaves(path, value);
                    path.truncate(len);
                }
            }
            other => self.push_leaves(path, json::to_parameter(other)),
        }
    }

    /// Adds `value` under `path`; a map as its leaves, under `path.key`.
    fn push_leaves(&mut self, path: &mut String, value: Parameter) {
        match value {
            Parameter::Map(map) => {
                for (key, value) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&key);
                    self.push_leaves(path, value);
                    path.truncate(len);
                }
            }
            leaf => {
                if self.leaves == self.parameters.len() {
                    self.parameters.push((String::new(), leaf));
                } else {
                    self.parameters[self.leaves].1 = leaf;
                }
                let key = &mut self.parameters[self.leaves].0;
                key.clear();
                key.push_str(path);
                self.leaves += 1;
            }
        }
    }
}

impl Default for SimulationRow {
    fn default() -> Self {
        SimulationRow {
            name: String::new(),
            status: StatusInfo::new(crate::simulation::Status::Unknown),
            created_at: None,
            parameters: Vec::new(),
            leaves: 0,
        }
    }
}

/// The SQLite index of collections and simulations.
///
/// # MPI
///
/// [`Index::open`] and [`Index::open_with`] are collective; every other method is root-only:
/// it runs on rank 0 (the only rank that touches SQLite) and every rank returns its result.
pub struct Index {
    settings: IndexConfig,
    comm: CommSlot,
    progress: Option<ProgressFn>,
    /// Opened on rank 0 at the first use.
    connection: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("file", &self.settings.database_file)
            .field("search_paths", &self.settings.search_paths)
            .finish_non_exhaustive()
    }
}

impl HasComm for Index {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

impl Index {
    /// Opens (creating it if needed) the index `settings.database_file`, on the world
    /// communicator. The file is created with Python bamboost's tables; an older file gets its
    /// missing columns.
    ///
    /// # Errors
    ///
    /// [`Error::NotAnIndex`] for a corrupted file or another program's database;
    /// [`Error::Index`] if SQLite cannot open or write it; [`Error::Io`] if its directory
    /// cannot be created.
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn open(settings: &IndexConfig) -> Result<Index> {
        Index::open_with(settings, CommSlot::new())
    }

    /// As [`Index::open`], on the communicator of `comm`.
    ///
    /// # Errors
    ///
    /// As [`Index::open`].
    ///
    /// # MPI
    ///
    /// Collective on the slot's communicator.
    pub fn open_with(settings: &IndexConfig, comm: CommSlot) -> Result<Index> {
        let index = Index {
            settings: settings.clone(),
            comm,
            progress: None,
            connection: Mutex::new(None),
        };
        index.prepare()?;
        Ok(index)
    }

    /// Opens the index the configuration names (`[index] databaseFile`, by default
    /// `~/.local/share/bamboost/bamboost.0.11.sqlite`).
    ///
    /// # Errors
    ///
    /// As [`Config::load`] and [`Index::open`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn open_default() -> Result<Index> {
        Index::open(&Config::cached()?.index)
    }

    /// Reports progress of scans and syncs to `callback` (on rank 0).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn with_progress(mut self, callback: ProgressFn) -> Index {
        self.progress = Some(callback);
        self
    }

    /// The index file.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn file(&self) -> &Path {
        &self.settings.database_file
    }

    /// The settings the index was opened with.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn settings(&self) -> &IndexConfig {
        &self.settings
    }

    /// Opens the collection `uid_or_alias` on the index's communicator.
    ///
    /// # Errors
    ///
    /// As [`Index::collection`] and [`Collection::open_existing`].
    ///
    /// # MPI
    ///
    /// Collective.
    pub fn open_collection(&self, uid_or_alias: &str) -> Result<Collection> {
        let entry = self.collection(uid_or_alias)?;
        Collection::open_existing(&entry.path, self.comm.child())
    }

    fn report(&self, task: &'static str, done: u64, total: Option<u64>) {
        if let Some(progress) = &self.progress {
            progress(Progress { task, done, total });
        }
    }

    /// Steps through the simulations of collection `key` matching `query`, in its order, in
    /// one read transaction (SQLite on a helper thread, see [`rows`]), calling `visit` with
    /// each on this thread. `columns` is [`rows::COLUMNS`] or [`rows::ROW_COLUMNS`]. Returns
    /// the number of simulations.
    fn read_rows(
        &self,
        key: &str,
        query: &Query,
        columns: &str,
        mut visit: impl FnMut(RawSimulation<'_>) -> rusqlite::Result<()>,
    ) -> Result<usize> {
        let uid = self.collection_uid(key)?;
        let compiled = sql::compile(query.filter.as_ref(), &query.sort);
        let statement = format!(
            "SELECT {columns} FROM simulations s{} WHERE s.collection_uid = ? AND ({}) ORDER BY {}{}",
            compiled.joins,
            compiled.condition,
            compiled.order,
            match query.limit {
                Some(n) => format!(" LIMIT {n}"),
                None => String::new(),
            }
        );
        let mut values = compiled.join_params;
        values.push(Value::Text(uid));
        values.extend(compiled.condition_params);
        values.extend(compiled.order_params);
        self.with(|conn| {
            rows::for_each(conn, &statement, &values, |simulation| {
                let _callback = Visiting::enter(self);
                visit(simulation)
            })
        })
    }

    fn sql_error(&self, error: rusqlite::Error) -> Error {
        let path = self.settings.database_file.clone();
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Error::NotAnIndex {
                    path,
                    message: error.to_string().to_lowercase(),
                }
            }
            _ => Error::Index {
                path,
                message: error.to_string().to_lowercase(),
            },
        }
    }

    /// Runs `f` with the connection, opening it first if needed.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        if Visiting::is(self) {
            // The connection's lock is held by the caller: waiting for it would never end.
            return Err(Error::Index {
                path: self.settings.database_file.clone(),
                message: "the index cannot be used from inside its own for_each_record or \
                          for_each_row callback"
                    .into(),
            });
        }
        let mut guard = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            *guard = Some(self.connect()?);
        }
        match guard.as_mut() {
            Some(conn) => f(conn).map_err(|e| self.sql_error(e)),
            None => Err(self.sql_error(rusqlite::Error::InvalidQuery)),
        }
    }

    fn connect(&self) -> Result<Connection> {
        let file = &self.settings.database_file;
        if file.as_os_str() != ":memory:"
            && let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| crate::collection::io(dir, e))?;
        }
        let mut conn = Connection::open(file).map_err(|e| self.sql_error(e))?;
        let setup = |conn: &mut Connection| -> rusqlite::Result<()> {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Up to 32 MiB of pages kept between queries (SQLite's default is 2 MiB).
            conn.pragma_update(None, "cache_size", -32768)?;
            conn.pragma_update(None, "foreign_keys", true)?;
            // Reads the header: a file that is not SQLite fails here.
            conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
        };
        setup(&mut conn).map_err(|e| self.sql_error(e))?;
        schema::prepare(&mut conn).map_err(|e| match e {
            schema::SchemaError::Sql(e) => self.sql_error(e),
            schema::SchemaError::Foreign(message) => Error::NotAnIndex {
                path: file.clone(),
                message,
            },
        })?;
        Ok(conn)
    }
}

thread_local! {
    /// The index (its address) whose [`Index::for_each_record`] callback runs on this thread.
    static VISITING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks `index` as running a callback on this thread, until dropped (a panic included).
struct Visiting(usize);

impl Visiting {
    fn enter(index: &Index) -> Visiting {
        Visiting(VISITING.replace(std::ptr::from_ref(index) as usize))
    }

    fn is(index: &Index) -> bool {
        VISITING.get() == std::ptr::from_ref(index) as usize
    }
}

impl Drop for Visiting {
    fn drop(&mut self) {
        VISITING.set(self.0);
    }
}

#[root_process]
impl Index {
    /// Opens the file and checks its tables (so a bad file fails at open, on every rank).
    fn prepare(&self) -> Result<()> {
        self.with(|_| Ok(()))
    }

    /// Walks the search paths for collections (directories holding a
    /// `.bamboost-collection-<UID>` file), skipping the excluded directory names, and records
    /// each with the metadata of its identifier file. Simulations are not read (see
    /// [`Index::sync`]).
    ///
    /// # Errors
    ///
    /// [`Error::Index`] if the index cannot be written. Unreadable directories and identifier
    /// files are skipped with a warning.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn scan(&self) -> Result<Vec<CollectionEntry>> {
        let mut found = Vec::new();
        let mut visited = 0;
        for root in &self.settings.search_paths {
            self.walk(
                root,
                &mut |dir, uid| {
                    found.push(entry_from_disk(dir, uid));
                    None::<()>
                },
                &mut visited,
            );
        }
        self.report("scan", visited, Some(visited));
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for entry in &found {
                upsert_collection(&tx, entry)?;
            }
            tx.commit()
        })?;
        Ok(found)
    }

    /// Every collection in the index, by UID.
    ///
    /// # Errors
    ///
    /// [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn collections(&self) -> Result<Vec<CollectionEntry>> {
        self.with(|conn| {
            conn.prepare_cached(&format!("{COLLECTION_SELECT} ORDER BY uid"))?
                .query_map([], collection_from_row)?
                .collect()
        })
    }

    /// The collection with UID or alias `key` (aliases match case-insensitively). Looks in the
    /// index first; only when the answer is not there (or its directory moved) does it search
    /// the search paths — for a UID, up to the first directory with its identifier file; for
    /// an alias, with a full [`Index::scan`].
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCollection`] if no collection has this UID or alias;
    /// [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn collection(&self, key: &str) -> Result<CollectionEntry> {
        if let Some(entry) = self
            .lookup(key)?
            .filter(|e| is_collection_dir(&e.path, &e.uid))
        {
            return Ok(entry);
        }
        if let Ok(uid) = CollectionUid::new(key.to_uppercase()) {
            let mut visited = 0;
            let mut found = None;
            for root in &self.settings.search_paths {
                found = self.walk(
                    root,
                    &mut |dir, found_uid| {
                        (found_uid.as_str() == uid.as_str())
                            .then(|| entry_from_disk(dir, found_uid))
                    },
                    &mut visited,
                );
                if found.is_some() {
                    break;
                }
            }
            if let Some(entry) = found {
                self.with(|conn| upsert_collection(conn, &entry))?;
                return Ok(entry);
            }
        }
        self.scan()?;
        self.lookup(key)?
            .filter(|e| is_collection_dir(&e.path, &e.uid))
            .ok_or_else(|| Error::UnknownCollection {
                key: key.to_owned(),
            })
    }

    /// Records the collection in directory `path` (from its identifier file) and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::NotACollection`] if `path` holds no identifier file; [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn add_collection(&self, path: &Path) -> Result<CollectionEntry> {
        let path = std::path::absolute(path).map_err(|e| crate::collection::io(path, e))?;
        let uid =
            identifier_uid(&path).ok_or_else(|| Error::NotACollection { path: path.clone() })?;
        let entry = entry_from_disk(&path, &uid);
        self.with(|conn| upsert_collection(conn, &entry))?;
        Ok(entry)
    }

    /// Brings the simulations of collection `key` (UID or alias) up to date with the disk:
    /// files changed since the last sync (all of them with `force`) are read again, new ones
    /// added, rows of deleted simulations removed, and parameter keys gone from a file removed.
    /// A file locked by a running job (for more than 0.1 s) or damaged (missing groups, an
    /// odd `created_at`) is skipped and reported; it never stops the others. All changes are
    /// written in one transaction.
    ///
    /// # Errors
    ///
    /// As [`Index::collection`]; [`Error::Io`] if the directory cannot be listed.
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn sync(&self, key: &str, force: bool) -> Result<SyncReport> {
        let entry = self.collection(key)?;
        let dir = &entry.path;
        let on_disk = simulation_dirs(dir)?;
        let known: HashMap<String, (i64, String)> = self.with(|conn| {
            conn.prepare_cached(
                "SELECT name, id, modified_at FROM simulations WHERE collection_uid = ?1",
            )?
            .query_map([&entry.uid], |row| {
                Ok((row.get(0)?, (row.get(1)?, row.get(2)?)))
            })?
            .collect()
        })?;
        let mut report = SyncReport::default();
        let uid = CollectionUid::new(&entry.uid)?;
        let options = OpenOptions::new().lock_timeout(LockTimeout::from_secs(SYNC_LOCK_TIMEOUT));
        let stale: Vec<&(String, chrono::NaiveDateTime)> = on_disk
            .iter()
            .filter(|(name, mtime)| match known.get(name) {
                Some((_, modified)) => force || parse_datetime(modified).is_none_or(|m| *mtime > m),
                None => true,
            })
            .collect();
        report.unchanged = on_disk.len() - stale.len();
        let total = Some(stale.len() as u64);
        let mut read = Vec::new();
        for (done, (name, _)) in stale.iter().enumerate() {
            self.report("sync", done as u64, total);
            // Taken before reading: a write during the read makes the file newer than this.
            let started = chrono::Local::now().naive_local();
            let sim = Simulation::at(dir, name, uid.clone(), self.comm.child());
            match read_record(&sim, &options) {
                Ok(found) => match found.odd_created_at {
                    Some(odd) => report
                        .invalid
                        .push((name.clone(), format!("created_at is not a datetime: {odd}"))),
                    None => read.push((found, started)),
                },
                Err(Error::Locked { .. }) => report.locked.push(name.clone()),
                Err(e) => report.invalid.push((name.clone(), e.to_string())),
            }
        }
        self.report("sync", stale.len() as u64, total);
        for (name, reason) in &report.invalid {
            tracing::warn!("skipped simulation `{name}` of {}: {reason}", dir.display());
        }
        for name in &report.locked {
            tracing::warn!(
                "skipped simulation `{name}` of {}: its file is locked",
                dir.display()
            );
        }
        let present: std::collections::HashSet<&str> =
            on_disk.iter().map(|(n, _)| n.as_str()).collect();
        let gone: Vec<&String> = known
            .keys()
            .filter(|name| !present.contains(name.as_str()))
            .collect();
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (found, started) in &read {
                let written =
                    upsert_simulation(&tx, &entry.uid, &found.record, found.submitted, started)?;
                if written {
                    if known.contains_key(&found.record.name) {
                        report.updated += 1;
                    } else {
                        report.added += 1;
                    }
                }
            }
            for name in gone {
                // Checked again inside the transaction: another process may have added it.
                if !dir.join(name).join(DATA_FILE).is_file() {
                    report.removed += tx.execute(
                        "DELETE FROM simulations WHERE collection_uid = ?1 AND name = ?2",
                        params![entry.uid, name],
                    )?;
                }
            }
            heal_links(&tx)?;
            tx.commit()
        })?;
        Ok(report)
    }

    /// The simulations of collection `key` matching `query`, in its order, evaluated in SQL
    /// (see [`Filter`] for the semantics). The index is not synced first: call
    /// [`Index::sync`] when files may have changed.
    ///
    /// A top-level float parameter with a whole value (`2.0`) comes back as the integer `2`:
    /// the index stores numbers in a column of numeric affinity, which SQLite converts so (in
    /// files Python bamboost writes as well). Filters and sorting compare numbers by value, so
    /// they are not affected; read the simulation's file for the exact type.
    ///
    /// # Errors
    ///
    /// As [`Index::collection`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn query(&self, key: &str, query: &Query) -> Result<Vec<SimulationRecord>> {
        let mut records = Vec::new();
        self.for_each_record(key, query, |record| records.push(record))?;
        Ok(records)
    }

    /// Calls `f` with each simulation of collection `key` matching `query`, in its order, one
    /// record at a time: [`Index::query`] without holding every record in memory. Returns the
    /// number of records.
    ///
    /// The records come from one consistent reading of the index, done by SQLite on a helper
    /// thread a few dozen simulations ahead while `f` runs on the calling thread (decoding and
    /// `f` overlap the reading). Other threads using this `Index` wait until it is done; `f`
    /// itself cannot use it (such calls fail with [`Error::Index`]). If `f` panics, the reading
    /// stops and the panic continues in the caller.
    ///
    /// # Errors
    ///
    /// As [`Index::query`].
    ///
    /// # MPI
    ///
    /// Root-only: `f` runs on rank 0 only; every rank returns the count (or the error).
    pub fn for_each_record(
        &self,
        key: &str,
        query: &Query,
        mut f: impl FnMut(SimulationRecord),
    ) -> Result<usize> {
        self.read_rows(key, query, rows::COLUMNS, |simulation| {
            let mut record = simulation_record(&simulation)?;
            for (key, value) in simulation.parameters() {
                let value = decode_parameter(value);
                record.parameters.insert(key.as_str()?, value);
            }
            f(record);
            Ok(())
        })
    }

    /// Calls `f` with each simulation of collection `key` matching `query`, in its order, as a
    /// table shows it: name, status, creation time and the parameters flattened to dotted keys.
    /// Faster than [`Index::for_each_record`] (what `bamboost list` prints with): no record is
    /// built, and one [`SimulationRow`] is refilled for every simulation. Returns the number of
    /// simulations.
    ///
    /// Reads as [`Index::for_each_record`] does (one consistent reading; `f` cannot use the
    /// index).
    ///
    /// # Errors
    ///
    /// As [`Index::query`].
    ///
    /// # MPI
    ///
    /// Root-only: `f` runs on rank 0 only; every rank returns the count (or the error).
    pub fn for_each_row(
        &self,
        key: &str,
        query: &Query,
        mut f: impl FnMut(&SimulationRow),
    ) -> Result<usize> {
        let mut simulation = SimulationRow::default();
        self.read_rows(key, query, rows::ROW_COLUMNS, |raw| {
            simulation.fill(&raw)?;
            f(&simulation);
            Ok(())
        })
    }

    /// The number of simulations of collection `key` matching `filter` (all with `None`).
    ///
    /// # Errors
    ///
    /// As [`Index::query`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn count(&self, key: &str, filter: Option<Filter>) -> Result<usize> {
        let uid = self.collection_uid(key)?;
        let compiled = sql::compile(filter.as_ref(), &[]);
        let statement = format!(
            "SELECT count(*) FROM simulations s{} WHERE s.collection_uid = ? AND ({})",
            compiled.joins, compiled.condition
        );
        let mut values = compiled.join_params;
        values.push(Value::Text(uid));
        values.extend(compiled.condition_params);
        self.with(|conn| {
            conn.prepare_cached(&statement)?
                .query_row(params_from_iter(values.iter()), |row| row.get::<_, i64>(0))
                .map(|n| n as usize)
        })
    }

    /// One simulation of collection `key`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchSimulation`] if the index has no such simulation; as
    /// [`Index::collection`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn simulation(&self, key: &str, name: &str) -> Result<SimulationRecord> {
        let found = self.query(key, &Query::new().filter(Filter::eq("name", name)).limit(1))?;
        match found.into_iter().next() {
            Some(record) => Ok(record),
            None => Err(Error::NoSuchSimulation {
                path: self.collection(key)?.path,
                name: name.to_owned(),
            }),
        }
    }

    /// The simulations of collection `key` whose parameters and links are exactly these
    /// (the duplicate check of a parameter sweep): one SQL query narrows the candidates by
    /// every value, then the candidates are compared exactly (same keys; `None` counts as
    /// missing).
    ///
    /// # Errors
    ///
    /// As [`Index::query`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn duplicates(
        &self,
        key: &str,
        parameters: &Parameters,
        links: &BTreeMap<String, String>,
    ) -> Result<Vec<String>> {
        let wanted = SimulationRecord::comparable_columns(parameters, links);
        let mut conditions = Vec::new();
        for (key, value) in parameters.flatten() {
            let literal = match value {
                Parameter::Value(v) => v,
                Parameter::Array(a) => AttrValue::Array(a),
                Parameter::Map(_) => continue,
            };
            // `None` is missing and NaN equals nothing: left to the exact comparison.
            if !matches!(literal, AttrValue::None)
                && !matches!(literal, AttrValue::Float(f) if f.is_nan())
            {
                conditions.push(Filter::eq(&key, literal));
            }
        }
        for (name, target) in links {
            conditions.push(Filter::eq(&format!("links.{name}"), target.as_str()));
        }
        let candidates = self.query(key, &Query::new().filter(Filter::And(conditions)))?;
        Ok(candidates
            .into_iter()
            .filter(|r| SimulationRecord::comparable_columns(&r.parameters, &r.links) == wanted)
            .map(|r| r.name)
            .collect())
    }

    /// The resolved links of simulation `uid` (`<COLLECTION_UID>:<name>`).
    ///
    /// # Errors
    ///
    /// [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn links(&self, uid: &str) -> Result<Vec<Link>> {
        self.link_query("src.collection_uid || ':' || src.name = ?1", uid)
    }

    /// The links pointing to simulation `uid`, from any collection.
    ///
    /// # Errors
    ///
    /// [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn backlinks(&self, uid: &str) -> Result<Vec<Link>> {
        self.link_query("dst.collection_uid || ':' || dst.name = ?1", uid)
    }

    /// Every resolved link from a simulation of collection `key`.
    ///
    /// # Errors
    ///
    /// As [`Index::collection`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn collection_links(&self, key: &str) -> Result<Vec<Link>> {
        let uid = self.collection_uid(key)?;
        self.link_query("src.collection_uid = ?1", &uid)
    }

    fn link_query(&self, condition: &str, value: &str) -> Result<Vec<Link>> {
        let statement = format!(
            "SELECT l.name, src.collection_uid || ':' || src.name, dst.collection_uid || ':' || dst.name \
             FROM simulation_links l JOIN simulations src ON src.id = l.source_id \
             JOIN simulations dst ON dst.id = l.target_id WHERE {condition} ORDER BY 2, 1"
        );
        self.with(|conn| {
            conn.prepare_cached(&statement)?
                .query_map([value], |row| {
                    Ok(Link {
                        name: row.get(0)?,
                        source: row.get(1)?,
                        target: row.get(2)?,
                    })
                })?
                .collect()
        })
    }

    /// Removes collection `key` (UID or alias) and its simulations from the index; nothing on
    /// disk is touched. Returns what was removed.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCollection`] if the index has no such collection (the search paths are
    /// not searched); [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn drop_collection(&self, key: &str) -> Result<CollectionEntry> {
        let entry = self.lookup(key)?.ok_or_else(|| Error::UnknownCollection {
            key: key.to_owned(),
        })?;
        self.with(|conn| conn.execute("DELETE FROM collections WHERE uid = ?1", [&entry.uid]))?;
        Ok(entry)
    }

    /// Removes simulation `name` of collection `key` from the index (not from disk).
    /// Returns whether it was there.
    ///
    /// # Errors
    ///
    /// As [`Index::collection`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn drop_simulation(&self, key: &str, name: &str) -> Result<bool> {
        let uid = self.collection_uid(key)?;
        self.with(|conn| {
            conn.execute(
                "DELETE FROM simulations WHERE collection_uid = ?1 AND name = ?2",
                params![uid, name],
            )
            .map(|n| n > 0)
        })
    }

    /// Removes the collections whose directory is gone or no longer holds their identifier
    /// file, with their simulations. A valid collection is kept even when it lies outside the
    /// search paths (Python bamboost drops those). Returns what was removed.
    ///
    /// # Errors
    ///
    /// [`Error::Index`].
    ///
    /// # MPI
    ///
    /// Root-only.
    pub fn check_integrity(&self) -> Result<Vec<CollectionEntry>> {
        let invalid: Vec<CollectionEntry> = self
            .collections()?
            .into_iter()
            .filter(|e| !is_collection_dir(&e.path, &e.uid))
            .collect();
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for entry in &invalid {
                tx.execute("DELETE FROM collections WHERE uid = ?1", [&entry.uid])?;
            }
            tx.commit()
        })?;
        Ok(invalid)
    }

    /// The UID of collection `key` as the index stores it.
    fn collection_uid(&self, key: &str) -> Result<String> {
        Ok(self.collection(key)?.uid)
    }

    /// The index's row for UID or alias `key`, without touching the disk.
    fn lookup(&self, key: &str) -> Result<Option<CollectionEntry>> {
        self.with(|conn| {
            let by_uid = conn
                .prepare_cached(&format!("{COLLECTION_SELECT} WHERE uid = ?1"))?
                .query_row([key.to_uppercase()], collection_from_row)
                .optional()?;
            if by_uid.is_some() {
                return Ok(by_uid);
            }
            conn.prepare_cached(&format!(
                "{COLLECTION_SELECT} WHERE EXISTS (SELECT 1 FROM json_each(CASE WHEN \
                 json_valid(aliases) THEN aliases ELSE '[]' END) a WHERE lower(a.value) = lower(?1)) \
                 ORDER BY uid"
            ))?
            .query_row([key], collection_from_row)
            .optional()
        })
    }
}

impl Index {
    /// Walks `root` depth-first for collection directories, calling `visit` on each; stops
    /// when `visit` returns something. Excluded names and symbolic links are not entered;
    /// inside a collection, simulation directories are not entered either.
    fn walk<T>(
        &self,
        root: &Path,
        visit: &mut impl FnMut(&Path, &CollectionUid) -> Option<T>,
        visited: &mut u64,
    ) -> Option<T> {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            *visited += 1;
            if visited.is_multiple_of(256) {
                self.report("scan", *visited, None);
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                tracing::debug!("cannot list {}; skipped", dir.display());
                continue;
            };
            let mut subdirs = Vec::new();
            let mut uid = None;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    if !self.settings.exclude_dirs.contains(&name) {
                        subdirs.push(entry.path());
                    }
                } else if kind.is_file()
                    && let Some(suffix) = name.strip_prefix(IDENTIFIER_PREFIX)
                {
                    // As Python's scanner: the text after the last `-`, upper-cased.
                    let suffix = suffix.rsplit('-').next().unwrap_or(suffix);
                    match CollectionUid::new(suffix.to_uppercase()) {
                        Ok(found) => uid = Some(found),
                        Err(e) => tracing::warn!("{}: {e}; skipped", entry.path().display()),
                    }
                }
            }
            if let Some(uid) = &uid {
                if let Some(found) = visit(&dir, uid) {
                    return Some(found);
                }
                subdirs.retain(|d| !d.join(DATA_FILE).exists());
            }
            subdirs.sort();
            stack.extend(subdirs.into_iter().rev());
        }
        None
    }
}

const COLLECTION_SELECT: &str =
    "SELECT uid, path, created_at, description, tags, aliases FROM collections";

fn collection_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CollectionEntry> {
    let text = |i: usize| -> rusqlite::Result<Option<String>> { row.get(i) };
    Ok(CollectionEntry {
        uid: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        created_at: text(2)?.as_deref().and_then(parse_datetime),
        description: text(3)?.unwrap_or_default(),
        tags: json_strings(text(4)?),
        aliases: json_strings(text(5)?),
    })
}

fn json_strings(text: Option<String>) -> Vec<String> {
    text.and_then(|t| Json::parse(&t))
        .map(|j| j.strings())
        .unwrap_or_default()
}

/// Tags as records hold them: sorted, without repeats (Python may store any order).
fn sorted_tags(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

/// The record of `simulation`, without its parameters.
fn simulation_record(simulation: &RawSimulation<'_>) -> rusqlite::Result<SimulationRecord> {
    let text = |column| simulation.text(column);
    let links = match text(Column::Links)? {
        None | Some("{}") => BTreeMap::new(),
        Some(t) => match Json::parse(t) {
            Some(Json::Obj(fields)) => fields
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect(),
            _ => BTreeMap::new(),
        },
    };
    let tags = match text(Column::Tags)? {
        None | Some("[]") => Vec::new(),
        Some(t) => sorted_tags(json_strings(Some(t.to_owned()))),
    };
    Ok(SimulationRecord {
        name: text(Column::Name)?.unwrap_or_default().to_owned(),
        status: crate::simulation::StatusInfo::parse(text(Column::Status)?.unwrap_or_default()),
        description: text(Column::Description)?.unwrap_or_default().to_owned(),
        tags,
        created_at: text(Column::CreatedAt)?.and_then(parse_datetime),
        parameters: Parameters::new(),
        links,
    })
}

/// A stored parameter value: plain numbers, strings and booleans without a JSON parse.
fn decode_parameter(value: Cell<'_>) -> Parameter {
    let text = match value {
        Cell::Integer(i) => return Parameter::Value(AttrValue::Int(i)),
        Cell::Real(f) => return Parameter::Value(AttrValue::Float(f)),
        Cell::Text(text) => std::borrow::Cow::Borrowed(text),
        Cell::InvalidText(bytes) => String::from_utf8_lossy(bytes),
        Cell::Null | Cell::Blob(_) => return Parameter::Value(AttrValue::None),
    };
    let simple = match text.as_ref() {
        "true" => Some(AttrValue::Bool(true)),
        "false" => Some(AttrValue::Bool(false)),
        "null" => Some(AttrValue::None),
        // A JSON string without escapes (what `Json::parse` reads the same way).
        t if t.len() >= 2
            && t.starts_with('"')
            && t.ends_with('"')
            && t.as_bytes()[1..t.len() - 1]
                .iter()
                .all(|&b| b >= 0x20 && b != b'"' && b != b'\\') =>
        {
            Some(AttrValue::Str(t[1..t.len() - 1].to_owned()))
        }
        _ => None,
    };
    match simple {
        Some(value) => Parameter::Value(value),
        None => match Json::parse(&text) {
            Some(json) => json::to_parameter(json),
            None => Parameter::Value(AttrValue::Str(text.into_owned())),
        },
    }
}

/// Inserts or updates a collection row, keyed on the UID.
fn upsert_collection(conn: &Connection, entry: &CollectionEntry) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO collections (uid, path, created_at, description, tags, aliases) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(uid) DO UPDATE SET path = excluded.path, \
         created_at = COALESCE(excluded.created_at, collections.created_at), \
         description = excluded.description, tags = excluded.tags, aliases = excluded.aliases",
    )?
    .execute(params![
        entry.uid,
        entry.path.to_string_lossy(),
        entry.created_at.as_ref().map(sql_datetime),
        entry.description,
        Json::string_list(&entry.tags).dump(),
        Json::string_list(&entry.aliases).dump(),
    ])?;
    Ok(())
}

/// Inserts or updates a simulation row and replaces its parameters and links, unless the
/// row holds a newer read (from a concurrent sync). Returns whether it wrote.
fn upsert_simulation(
    conn: &Connection,
    collection: &str,
    record: &SimulationRecord,
    submitted: bool,
    read_at: &chrono::NaiveDateTime,
) -> rusqlite::Result<bool> {
    let links = (!record.links.is_empty()).then(|| {
        Json::Obj(
            record
                .links
                .iter()
                .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
                .collect(),
        )
        .dump()
    });
    let id: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO simulations (collection_uid, name, created_at, modified_at, description, \
             tags, status, submitted, links) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(collection_uid, name) DO UPDATE SET created_at = excluded.created_at, \
             modified_at = excluded.modified_at, description = excluded.description, \
             tags = excluded.tags, status = excluded.status, submitted = excluded.submitted, \
             links = excluded.links WHERE excluded.modified_at >= simulations.modified_at \
             RETURNING id",
        )?
        .query_row(
            params![
                collection,
                record.name,
                sql_datetime(record.created_at.as_ref().unwrap_or(read_at)),
                sql_datetime(read_at),
                record.description,
                Json::string_list(&record.tags).dump(),
                record.status.to_string(),
                submitted,
                links,
            ],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(false);
    };
    conn.prepare_cached("DELETE FROM parameters WHERE simulation_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO parameters (simulation_id, \"key\", value) VALUES (?1, ?2, ?3)",
    )?;
    for (key, value) in record.parameters.iter() {
        // Numbers are stored as numbers (the column's NUMERIC affinity does so for Python).
        let value = match json::from_parameter(value) {
            Json::Int(Some(i)) => Value::Integer(i),
            Json::Float(f) if f.is_finite() => Value::Real(f),
            other => Value::Text(other.dump()),
        };
        insert.execute(params![id, key, value])?;
    }
    conn.prepare_cached("DELETE FROM simulation_links WHERE source_id = ?1")?
        .execute([id])?;
    Ok(true)
}

/// Resolves every link stored in `simulations.links` whose target is indexed into a
/// `simulation_links` row, and removes rows whose link is gone.
fn heal_links(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM simulation_links WHERE NOT EXISTS (SELECT 1 FROM simulations s, \
         json_each(CASE WHEN json_valid(s.links) THEN s.links ELSE '{}' END) l \
         WHERE s.id = simulation_links.source_id AND l.key = simulation_links.name);
         INSERT INTO simulation_links (source_id, target_id, name) \
         SELECT s.id, t.id, l.key FROM simulations s \
         JOIN json_each(CASE WHEN json_valid(s.links) THEN s.links ELSE '{}' END) l \
         JOIN simulations t ON t.collection_uid = substr(l.value, 1, instr(l.value, ':') - 1) \
         AND t.name = substr(l.value, instr(l.value, ':') + 1) \
         WHERE s.links IS NOT NULL AND instr(l.value, ':') > 0 \
         ON CONFLICT(source_id, name) DO UPDATE SET target_id = excluded.target_id;",
    )
}

/// The subdirectories of `dir` holding a `data.h5`, with its modification time (local).
fn simulation_dirs(dir: &Path) -> Result<Vec<(String, chrono::NaiveDateTime)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| crate::collection::io(dir, e))? {
        let entry = entry.map_err(|e| crate::collection::io(dir, e))?;
        if let Ok(meta) = std::fs::metadata(entry.path().join(DATA_FILE))
            && meta.is_file()
        {
            let mtime = meta
                .modified()
                .map(|t| chrono::DateTime::<chrono::Local>::from(t).naive_local())
                .unwrap_or_default();
            out.push((entry.file_name().to_string_lossy().into_owned(), mtime));
        }
    }
    out.sort();
    Ok(out)
}

/// The UID of the identifier file in `dir`, if any.
fn identifier_uid(dir: &Path) -> Option<CollectionUid> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        CollectionUid::new(name.strip_prefix(IDENTIFIER_PREFIX)?.to_uppercase()).ok()
    })
}

/// Whether `dir` holds the identifier file of collection `uid`.
fn is_collection_dir(dir: &Path, uid: &str) -> bool {
    dir.join(format!("{IDENTIFIER_PREFIX}{uid}")).is_file()
        || identifier_uid(dir).is_some_and(|found| found.as_str() == uid)
}

/// A collection's entry from its identifier file (metadata left empty if unreadable).
fn entry_from_disk(dir: &Path, uid: &CollectionUid) -> CollectionEntry {
    let file = dir.join(format!("{IDENTIFIER_PREFIX}{uid}"));
    let metadata = std::fs::read_to_string(&file)
        .ok()
        .or_else(|| {
            // The identifier file may carry the UID in lower case.
            let lower = dir.join(format!(
                "{IDENTIFIER_PREFIX}{}",
                uid.as_str().to_lowercase()
            ));
            std::fs::read_to_string(lower).ok()
        })
        .map(|text| {
            CollectionMetadata::from_yaml(&text).unwrap_or_else(|message| {
                tracing::warn!(
                    "{}: {message}; indexed without its metadata",
                    file.display()
                );
                CollectionMetadata::default()
            })
        })
        .unwrap_or_default();
    CollectionEntry {
        uid: uid.as_str().to_owned(),
        path: dir.to_path_buf(),
        created_at: metadata
            .created_at()
            .as_deref()
            .and_then(parse_datetime)
            .or_else(|| match metadata.get("Date of creation") {
                Some(YamlValue::String(s)) => parse_datetime(s),
                _ => None,
            }),
        description: metadata.description().unwrap_or_default(),
        tags: metadata.tags(),
        aliases: metadata.aliases(),
    }
}

/// Reads exactly SQLAlchemy's `YYYY-MM-DD HH:MM:SS.ffffff`, the common case, without chrono's
/// format interpreter.
fn parse_sql_datetime(text: &str) -> Option<chrono::NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 26 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'.' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?
        .and_hms_micro_opt(
            number(11..13)?,
            number(14..16)?,
            number(17..19)?,
            number(20..26)?,
        )
}

/// SQLAlchemy's SQLite DATETIME text: `YYYY-MM-DD HH:MM:SS.ffffff`.
pub(crate) fn sql_datetime(time: &chrono::NaiveDateTime) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Parses a DATETIME as SQLAlchemy or YAML writes it (`T` or space, optional fraction).
fn parse_datetime(text: &str) -> Option<chrono::NaiveDateTime> {
    if let Some(time) = parse_sql_datetime(text) {
        return Some(time);
    }
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}
