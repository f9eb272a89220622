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

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The merged configuration.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// The `[options]` table.
    pub options: Options,
    /// The project root that was found, if any.
    pub project_root: Option<PathBuf>,
}

/// The `[options]` table.
///
/// # MPI
///
/// Local: a plain value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Options {
    /// `mpi = true|false`: whether bamboost uses MPI when started by an MPI launcher. `None`
    /// when no file sets it (then a build with the `mpi` feature uses MPI).
    pub mpi: Option<bool>,
    /// `file_lock_timeout = <seconds>`: how long to wait for an HDF5 file that another process
    /// has locked. `0` fails at once, a negative value waits forever; integers and floats are
    /// both accepted (Python bamboost rejects integers). Default 60.
    pub file_lock_timeout: Option<f64>,
}

impl Config {
    /// Reads the configuration for the current directory and the user's home directory.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if a file exists but cannot be read or is not valid TOML, or a known
    /// key has the wrong type.
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
        let options = match merged.remove("options") {
            Some(value) => value
                .try_into()
                .map_err(|e: toml::de::Error| Error::Config {
                    path: project_root
                        .clone()
                        .unwrap_or_default()
                        .join("bamboost.toml"),
                    message: format!("[options]: {}", e.message()),
                })?,
            None => Options::default(),
        };
        Ok(Config {
            options,
            project_root,
        })
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
    fn wrong_type_and_broken_toml_are_errors_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join(".git/HEAD"), "");
        write(
            &tmp.path().join("bamboost.toml"),
            "[options]\nmpi = \"yes\"\n",
        );
        let err = Config::load_from(tmp.path(), None).unwrap_err();
        assert!(err.to_string().contains("bamboost.toml"), "{err}");
        write(&tmp.path().join("bamboost.toml"), "[options\n");
        let err = Config::load_from(tmp.path(), None).unwrap_err();
        assert!(
            matches!(err, Error::Config { .. }) && err.to_string().contains("bamboost.toml"),
            "{err}"
        );
    }
}
