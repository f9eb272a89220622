//! Configuration files: `bamboost.toml` in the project, merged over the user's global file.
//!
//! The project root is the nearest directory, from the current one upward, that holds `.git`,
//! `pyproject.toml` or `Cargo.toml`. Its `bamboost.toml` (or, without one, the
//! `[tool.bamboost]` table of its `pyproject.toml`, as Python bamboost reads it) is merged key by
//! key over `~/.config/bamboost/config.toml`. The layout is Python bamboost's, so one file
//! serves both libraries.
//!
//! ```toml
//! [options]
//! mpi = false   # use the serial back end even under mpirun
//! ```

//! ```toml
//! [options]
//! mpi = false                 # use the serial back end even under mpirun
//! file_lock_timeout = 5       # seconds (integers and floats both work)
//!
//! [index]
//! searchPaths = ["~/sims"]    # where `bamboost scan` looks for collections (default ["~"])
//! isolated = true             # a project-local index in <project>/.bamboost/
//! ```
//!
//! The key names and defaults are Python bamboost's (`[paths]`, `[options]`, `[index]`).
//! Unknown tables are kept in [`Config::extra`]; unknown keys and values of the wrong type are
//! reported in [`Config::warnings`] (and logged), never dropped silently.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The directory names a scan never enters (Python bamboost's list).
///
/// # MPI
///
/// Local: a constant.
pub const DEFAULT_EXCLUDE_DIRS: [&str; 35] = [
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".cvs",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    ".yarn",
    ".pnp",
    "build",
    "dist",
    ".eggs",
    ".idea",
    ".vscode",
    ".vs",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".cache",
    ".cargo",
    ".gocache",
    ".next",
    ".nuxt",
    ".terser-cache",
    ".parcel-cache",
    ".vercel",
    ".serverless",
    ".aws-sam",
    ".terraform",
    "vendor",
];

/// The index file name shared with Python bamboost 0.11 to 0.14.
///
/// # MPI
///
/// Local: a constant.
pub const DATABASE_FILE_NAME: &str = "bamboost.0.11.sqlite";

/// The merged configuration.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// The `[paths]` table.
    pub paths: Paths,
    /// The `[options]` table.
    pub options: Options,
    /// The `[index]` table.
    pub index: IndexConfig,
    /// Unknown top-level tables (for example `[tui]`), kept as read.
    pub extra: toml::Table,
    /// What was rejected or not understood, one message per key (also logged as warnings).
    pub warnings: Vec<String>,
    /// The project root that was found, if any.
    pub project_root: Option<PathBuf>,
}

/// The `[paths]` table.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Paths {
    /// `localDir`: where the index lives (default `~/.local/share/bamboost`). Unlike Python
    /// bamboost, setting it moves the index.
    pub local_dir: PathBuf,
    /// `cacheDir` (default `~/.cache/bamboost-next`).
    pub cache_dir: PathBuf,
}

/// The `[options]` table.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// `mpi = true|false`: whether bamboost uses MPI when started by an MPI launcher. `None`
    /// when no file sets it (then a build with the `mpi` feature uses MPI).
    pub mpi: Option<bool>,
    /// `file_lock_timeout = <seconds>`: how long to wait for an HDF5 file that another process
    /// has locked. `0` fails at once, a negative value waits forever; integers and floats are
    /// both accepted (Python bamboost rejects integers). Default 60.
    pub file_lock_timeout: Option<f64>,
    /// `sortTableKey` (default `"created_at"`): the default sort of `bamboost list <UID>`.
    pub sort_table_key: String,
    /// `sortTableOrder`, `"asc"` or `"desc"` (default).
    pub sort_table_order: String,
    /// `log_file_lock_severity` (default `"WARNING"`).
    pub log_file_lock_severity: String,
    /// `logLevel` (default `"WARNING"`).
    pub log_level: String,
    /// `clipboardCommand` (default none).
    pub clipboard_command: Option<String>,
}

/// The `[index]` table.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IndexConfig {
    /// `searchPaths` (alias `paths`), `~` expanded (default `["~"]`; the project directory
    /// when `isolated`).
    pub search_paths: Vec<PathBuf>,
    /// `excludeDirs` plus `extendDefaultExcludeDirs`: directory names a scan skips.
    pub exclude_dirs: Vec<String>,
    /// `syncTables` (default true).
    pub sync_tables: bool,
    /// `databaseFileName` (default `bamboost.0.11.sqlite`).
    pub database_file_name: String,
    /// `databaseFile`: the index file (default `<localDir>/<databaseFileName>`, or
    /// `<project>/.bamboost/<databaseFileName>` when `isolated`). Settable from the file.
    pub database_file: PathBuf,
    /// `isolated`: a project-local index (default false).
    pub isolated: bool,
    /// `strictLinks` (default true): a link to a simulation the index cannot find is an error.
    pub strict_links: bool,
    /// `strictLinksWhenSyncing` (default false).
    pub strict_links_when_syncing: bool,
}

impl IndexConfig {
    /// Settings for the index file `database_file` (`":memory:"` for one in memory) that
    /// scans `search_paths`, with the other defaults (the excluded directory names, strict
    /// links).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new<P: Into<PathBuf>>(
        database_file: impl Into<PathBuf>,
        search_paths: impl IntoIterator<Item = P>,
    ) -> IndexConfig {
        IndexConfig {
            search_paths: search_paths.into_iter().map(Into::into).collect(),
            database_file: database_file.into(),
            ..Config::default().index
        }
    }
}

impl Config {
    /// Reads the configuration for the current directory and the user's home directory.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if a file exists but cannot be read or is not valid TOML. Values of
    /// the wrong type are not errors: they are reported in [`Config::warnings`].
    ///
    /// # MPI
    ///
    /// Local: every rank reads the files itself.
    pub fn load() -> Result<Config> {
        let cwd = std::env::current_dir().map_err(|e| Error::Config {
            path: PathBuf::from("."),
            message: format!("cannot determine the current directory: {e}"),
        })?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Config::load_from(&cwd, home.as_deref())
    }

    /// Reads the configuration as [`Config::load`] does, starting the project-root search at
    /// `start` and reading the global file under `home` (if given).
    ///
    /// # Errors
    ///
    /// As [`Config::load`].
    ///
    /// # MPI
    ///
    /// Local.
    pub fn load_from(start: &Path, home: Option<&Path>) -> Result<Config> {
        let mut merged = toml::Table::new();
        if let Some(home) = home {
            let global = home.join(".config/bamboost/config.toml");
            if let Some(table) = read_table(&global)? {
                merge(&mut merged, table);
            }
        }
        let project_root = project_root(start);
        if let Some(root) = &project_root {
            let own = root.join("bamboost.toml");
            if let Some(table) = read_table(&own)? {
                merge(&mut merged, table);
            } else if let Some(table) =
                read_table(&root.join("pyproject.toml"))?.and_then(tool_bamboost)
            {
                merge(&mut merged, table);
            }
        }
        let config = Reader::new(home, project_root).read(merged);
        for warning in &config.warnings {
            tracing::warn!("configuration: {warning}");
        }
        Ok(config)
    }

    /// The configuration as TOML, with every key under its Python bamboost name.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn to_toml(&self) -> String {
        let path = |p: &Path| toml::Value::String(p.display().to_string());
        let text = |s: &str| toml::Value::String(s.to_owned());
        let mut paths = toml::Table::new();
        paths.insert("localDir".into(), path(&self.paths.local_dir));
        paths.insert("cacheDir".into(), path(&self.paths.cache_dir));
        let mut options = toml::Table::new();
        if let Some(mpi) = self.options.mpi {
            options.insert("mpi".into(), toml::Value::Boolean(mpi));
        }
        options.insert(
            "file_lock_timeout".into(),
            toml::Value::Float(self.options.file_lock_timeout.unwrap_or(60.0)),
        );
        options.insert("sortTableKey".into(), text(&self.options.sort_table_key));
        options.insert(
            "sortTableOrder".into(),
            text(&self.options.sort_table_order),
        );
        options.insert(
            "log_file_lock_severity".into(),
            text(&self.options.log_file_lock_severity),
        );
        options.insert("logLevel".into(), text(&self.options.log_level));
        if let Some(command) = &self.options.clipboard_command {
            options.insert("clipboardCommand".into(), text(command));
        }
        let mut index = toml::Table::new();
        let list = |items: Vec<toml::Value>| toml::Value::Array(items);
        index.insert(
            "searchPaths".into(),
            list(self.index.search_paths.iter().map(|p| path(p)).collect()),
        );
        index.insert(
            "excludeDirs".into(),
            list(self.index.exclude_dirs.iter().map(|d| text(d)).collect()),
        );
        index.insert(
            "syncTables".into(),
            toml::Value::Boolean(self.index.sync_tables),
        );
        index.insert(
            "databaseFileName".into(),
            text(&self.index.database_file_name),
        );
        index.insert("databaseFile".into(), path(&self.index.database_file));
        index.insert("isolated".into(), toml::Value::Boolean(self.index.isolated));
        index.insert(
            "strictLinks".into(),
            toml::Value::Boolean(self.index.strict_links),
        );
        index.insert(
            "strictLinksWhenSyncing".into(),
            toml::Value::Boolean(self.index.strict_links_when_syncing),
        );
        let mut root = self.extra.clone();
        root.insert("paths".into(), toml::Value::Table(paths));
        root.insert("options".into(), toml::Value::Table(options));
        root.insert("index".into(), toml::Value::Table(index));
        toml::to_string(&root).unwrap_or_default()
    }
}

/// Turns the merged TOML into a [`Config`], collecting a warning for every rejected value.
struct Reader {
    home: PathBuf,
    project_root: Option<PathBuf>,
    warnings: Vec<String>,
}

impl Reader {
    fn new(home: Option<&Path>, project_root: Option<PathBuf>) -> Reader {
        Reader {
            home: home
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/")),
            project_root,
            warnings: Vec::new(),
        }
    }

    fn expand(&self, text: &str) -> PathBuf {
        match text.strip_prefix('~') {
            Some(rest) => self.home.join(rest.trim_start_matches('/')),
            None => PathBuf::from(text),
        }
    }

    /// Removes table `name` from `root` (a non-table value is reported).
    fn table(&mut self, root: &mut toml::Table, name: &str) -> toml::Table {
        match root.remove(name) {
            Some(toml::Value::Table(t)) => t,
            Some(other) => {
                self.reject(name, "a table", &other);
                toml::Table::new()
            }
            None => toml::Table::new(),
        }
    }

    fn reject(&mut self, key: &str, expected: &str, value: &toml::Value) {
        self.warnings.push(format!(
            "`{key}` must be {expected}, not {} `{value}`; using the default",
            value.type_str()
        ));
    }

    fn bool(&mut self, table: &mut toml::Table, section: &str, key: &str) -> Option<bool> {
        match table.remove(key)? {
            toml::Value::Boolean(b) => Some(b),
            other => {
                self.reject(&format!("{section}.{key}"), "true or false", &other);
                None
            }
        }
    }

    fn string(&mut self, table: &mut toml::Table, section: &str, key: &str) -> Option<String> {
        match table.remove(key)? {
            toml::Value::String(s) => Some(s),
            other => {
                self.reject(&format!("{section}.{key}"), "a string", &other);
                None
            }
        }
    }

    fn strings(
        &mut self,
        table: &mut toml::Table,
        section: &str,
        key: &str,
    ) -> Option<Vec<String>> {
        match table.remove(key)? {
            toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => Some(
                items
                    .into_iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
            ),
            toml::Value::String(s) => Some(vec![s]),
            other => {
                self.reject(&format!("{section}.{key}"), "a list of strings", &other);
                None
            }
        }
    }

    fn read(mut self, mut root: toml::Table) -> Config {
        let mut paths = self.table(&mut root, "paths");
        let mut options = self.table(&mut root, "options");
        let mut index = self.table(&mut root, "index");

        let local_dir = match self.string(&mut paths, "paths", "localDir") {
            Some(dir) => self.expand(&dir),
            None => self.home.join(".local/share/bamboost"),
        };
        let cache_dir = match self.string(&mut paths, "paths", "cacheDir") {
            Some(dir) => self.expand(&dir),
            None => self.home.join(".cache/bamboost-next"),
        };
        self.unknown_keys("paths", paths);

        let mpi = self.bool(&mut options, "options", "mpi");
        let file_lock_timeout = match options.remove("file_lock_timeout") {
            Some(toml::Value::Float(f)) => Some(f),
            Some(toml::Value::Integer(i)) => Some(i as f64),
            Some(other) => {
                self.reject("options.file_lock_timeout", "a number of seconds", &other);
                None
            }
            None => None,
        };
        let sort_table_order = match self.string(&mut options, "options", "sortTableOrder") {
            Some(order) if order == "asc" || order == "desc" => order,
            Some(order) => {
                self.reject(
                    "options.sortTableOrder",
                    "\"asc\" or \"desc\"",
                    &toml::Value::String(order),
                );
                "desc".into()
            }
            None => "desc".into(),
        };
        let options_value = Options {
            mpi,
            file_lock_timeout,
            sort_table_key: self
                .string(&mut options, "options", "sortTableKey")
                .unwrap_or_else(|| "created_at".into()),
            sort_table_order,
            log_file_lock_severity: self
                .string(&mut options, "options", "log_file_lock_severity")
                .unwrap_or_else(|| "WARNING".into()),
            log_level: self
                .string(&mut options, "options", "logLevel")
                .unwrap_or_else(|| "WARNING".into()),
            clipboard_command: self.string(&mut options, "options", "clipboardCommand"),
        };
        // Read by Python bamboost but unused there too.
        options.remove("log_root_only");
        self.unknown_keys("options", options);

        let isolated = self.bool(&mut index, "index", "isolated").unwrap_or(false);
        let project = self.project_root.clone();
        let search_paths = match self
            .strings(&mut index, "index", "searchPaths")
            .or_else(|| self.strings(&mut index, "index", "paths"))
        {
            Some(paths) => paths.iter().map(|p| self.expand(p)).collect(),
            None => match (&project, isolated) {
                (Some(project), true) => vec![project.clone()],
                _ => vec![self.home.clone()],
            },
        };
        let mut exclude_dirs = self
            .strings(&mut index, "index", "excludeDirs")
            .unwrap_or_else(|| DEFAULT_EXCLUDE_DIRS.iter().map(|d| d.to_string()).collect());
        if let Some(extra) = self.strings(&mut index, "index", "extendDefaultExcludeDirs") {
            exclude_dirs.extend(extra);
        }
        let database_file_name = self
            .string(&mut index, "index", "databaseFileName")
            .unwrap_or_else(|| DATABASE_FILE_NAME.into());
        let database_file = match (self.string(&mut index, "index", "databaseFile"), &project) {
            (Some(file), _) => self.expand(&file),
            (None, Some(project)) if isolated => {
                project.join(".bamboost").join(&database_file_name)
            }
            (None, _) => local_dir.join(&database_file_name),
        };
        let index_value = IndexConfig {
            search_paths,
            exclude_dirs,
            sync_tables: self.bool(&mut index, "index", "syncTables").unwrap_or(true),
            database_file_name,
            database_file,
            isolated,
            strict_links: self
                .bool(&mut index, "index", "strictLinks")
                .unwrap_or(true),
            strict_links_when_syncing: self
                .bool(&mut index, "index", "strictLinksWhenSyncing")
                .unwrap_or(false),
        };
        index.remove("convertArrays");
        self.unknown_keys("index", index);

        Config {
            paths: Paths {
                local_dir,
                cache_dir,
            },
            options: options_value,
            index: index_value,
            extra: root,
            warnings: self.warnings,
            project_root: self.project_root,
        }
    }

    fn unknown_keys(&mut self, section: &str, table: toml::Table) {
        for key in table.keys() {
            self.warnings
                .push(format!("unknown key `{section}.{key}` is ignored"));
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Reader::new(None, None).read(toml::Table::new())
    }
}

impl Config {
    /// The configuration of this process, read once (at the first call) by [`Config::load`].
    ///
    /// # Errors
    ///
    /// As [`Config::load`] (the error is kept and returned again by later calls).
    ///
    /// # MPI
    ///
    /// Local.
    pub fn cached() -> Result<&'static Config> {
        static CONFIG: std::sync::OnceLock<Result<Config>> = std::sync::OnceLock::new();
        CONFIG
            .get_or_init(Config::load)
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The nearest directory from `start` upward holding `.git`, `pyproject.toml` or `Cargo.toml`.
///
/// # MPI
///
/// Local.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            [".git", "pyproject.toml", "Cargo.toml"]
                .iter()
                .any(|m| dir.join(m).exists())
        })
        .map(Path::to_path_buf)
}

fn read_table(path: &Path) -> Result<Option<toml::Table>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Config {
                path: path.into(),
                message: e.to_string(),
            });
        }
    };
    text.parse::<toml::Table>()
        .map(Some)
        .map_err(|e| Error::Config {
            path: path.into(),
            message: e.message().to_string(),
        })
}

/// The `[tool.bamboost]` table of a `pyproject.toml`.
fn tool_bamboost(mut pyproject: toml::Table) -> Option<toml::Table> {
    match pyproject.remove("tool")? {
        toml::Value::Table(mut tool) => match tool.remove("bamboost")? {
            toml::Value::Table(table) => Some(table),
            _ => None,
        },
        _ => None,
    }
}

/// Merges `over` into `base`, table by table; other values in `over` replace those in `base`.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn project_file_wins_over_global_file() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        write(
            &home.join(".config/bamboost/config.toml"),
            "[options]\nmpi = true\nother = 1\n",
        );
        write(&project.join("Cargo.toml"), "");
        write(&project.join("bamboost.toml"), "[options]\nmpi = false\n");
        let sub = project.join("src/deep");
        std::fs::create_dir_all(&sub).unwrap();
        let config = Config::load_from(&sub, Some(&home))?;
        assert_eq!(config.options.mpi, Some(false));
        assert_eq!(config.project_root.as_deref(), Some(project.as_path()));
        Ok(())
    }

    #[test]
    fn global_file_applies_without_project_file() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("home/.config/bamboost/config.toml"),
            "[options]\nmpi = true\n",
        );
        write(&tmp.path().join("p/.git/HEAD"), "");
        let config = Config::load_from(&tmp.path().join("p"), Some(&tmp.path().join("home")))?;
        assert_eq!(config.options.mpi, Some(true));
        Ok(())
    }

    #[test]
    fn file_lock_timeout_accepts_integers_and_floats() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join(".git/HEAD"), "");
        for (text, expected) in [("5", 5.0), ("0.25", 0.25), ("-1", -1.0), ("0", 0.0)] {
            write(
                &tmp.path().join("bamboost.toml"),
                &format!("[options]\nfile_lock_timeout = {text}\n"),
            );
            assert_eq!(
                Config::load_from(tmp.path(), None)?
                    .options
                    .file_lock_timeout,
                Some(expected),
                "{text}"
            );
        }
        Ok(())
    }

    #[test]
    fn bamboost_toml_alone_is_not_a_project_anchor() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("a/bamboost.toml"),
            "[options]\nmpi = false\n",
        );
        assert_eq!(project_root(&tmp.path().join("a")), None);
    }

    #[test]
    fn pyproject_tool_table_is_read() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        write(
            &tmp.path().join("pyproject.toml"),
            "[tool.bamboost.options]\nmpi = false\n",
        );
        let config = Config::load_from(tmp.path(), None)?;
        assert_eq!(config.options.mpi, Some(false));
        Ok(())
    }

    #[test]
    fn wrong_types_are_warnings_naming_the_key_and_broken_toml_is_an_error() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join(".git/HEAD"), "");
        write(
            &tmp.path().join("bamboost.toml"),
            "[options]\nmpi = \"yes\"\nnew_key = 1\n[index]\nsearchPaths = 3\n[tui]\ntheme = \"dark\"\n",
        );
        let config = Config::load_from(tmp.path(), Some(&tmp.path().join("home")))?;
        assert_eq!(config.options.mpi, None);
        assert_eq!(config.index.search_paths, [tmp.path().join("home")]);
        let all = config.warnings.join("\n");
        for key in ["options.mpi", "options.new_key", "index.searchPaths"] {
            assert!(all.contains(key), "{key} not reported: {all}");
        }
        assert!(config.extra.contains_key("tui"));
        write(&tmp.path().join("bamboost.toml"), "[options\n");
        let err = Config::load_from(tmp.path(), None).unwrap_err();
        assert!(
            matches!(err, Error::Config { .. }) && err.to_string().contains("bamboost.toml"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn index_defaults_and_isolated_projects() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        write(&tmp.path().join("p/.git/HEAD"), "");
        let config = Config::load_from(&tmp.path().join("p"), Some(&home))?;
        assert_eq!(
            config.index.database_file,
            home.join(".local/share/bamboost/bamboost.0.11.sqlite")
        );
        assert_eq!(config.index.search_paths, std::slice::from_ref(&home));
        assert_eq!(config.index.exclude_dirs.len(), 35);
        write(
            &tmp.path().join("p/bamboost.toml"),
            "[index]\nisolated = true\nextendDefaultExcludeDirs = [\"scratch\"]\n[paths]\nlocalDir = \"~/elsewhere\"\n",
        );
        let config = Config::load_from(&tmp.path().join("p"), Some(&home))?;
        let project = tmp.path().join("p");
        assert_eq!(
            config.index.database_file,
            project.join(".bamboost/bamboost.0.11.sqlite")
        );
        assert_eq!(config.index.search_paths, [project]);
        assert!(config.index.exclude_dirs.iter().any(|d| d == "scratch"));
        assert_eq!(config.paths.local_dir, home.join("elsewhere"));
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        write(
            &tmp.path().join("p/bamboost.toml"),
            "[index]\ndatabaseFile = \"~/db.sqlite\"\nsearchPaths = [\"~/a\", \"/b\"]\n",
        );
        let config = Config::load_from(&tmp.path().join("p"), Some(&home))?;
        assert_eq!(config.index.database_file, home.join("db.sqlite"));
        assert_eq!(
            config.index.search_paths,
            [home.join("a"), PathBuf::from("/b")]
        );
        let printed: toml::Table = config.to_toml().parse().unwrap();
        assert_eq!(printed["index"]["searchPaths"][1].as_str(), Some("/b"));
        Ok(())
    }
}
