//! Identifiers made on rank 0 and broadcast, so that every rank names the same directories.

use crate::error::{Error, Result};
use crate::mpi::Comm;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Length of generated identifiers.
const GENERATED_LEN: usize = 10;

fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..GENERATED_LEN].to_string()
}

fn check(what: &str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some("it is empty")
    } else if value == "." || value == ".." {
        Some("it is not a directory name")
    } else if value.contains(['/', '\\', ':', '\0']) {
        Some("it must not contain `/`, `\\`, `:` or NUL")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidUid {
            what: what.into(),
            value: value.into(),
            reason: reason.into(),
        }),
        None => Ok(()),
    }
}

/// The identifier of a collection: upper-case, 10 hexadecimal characters when generated.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, uid::CollectionUid};
///
/// let uid = CollectionUid::generate(&Comm::world())?; // the same on every rank
/// assert_eq!(uid.as_str().len(), 10);
/// assert_eq!(CollectionUid::new("a1b2")?.as_str(), "A1B2");
/// # Ok::<(), bamboost::Error>(())
/// ```
///
/// # MPI
///
/// Local: a plain value; [`CollectionUid::generate`] is collective.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CollectionUid(String);

impl CollectionUid {
    /// A new random UID, made on rank 0 of `comm` and broadcast.
    ///
    /// # Errors
    ///
    /// As [`Comm::bcast`].
    ///
    /// # MPI
    ///
    /// Collective on `comm`.
    pub fn generate(comm: &Comm) -> Result<CollectionUid> {
        comm.bcast_from(0, || CollectionUid(random_hex().to_uppercase()))
    }

    /// An existing UID, upper-cased as Python bamboost does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUid`] if it is empty or contains `/`, `\`, `:` or NUL.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new(uid: impl Into<String>) -> Result<CollectionUid> {
        let uid = uid.into().to_uppercase();
        check("collection uid", &uid)?;
        Ok(CollectionUid(uid))
    }

    /// The UID as text.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a simulation (its directory name): lower-case, 10 hexadecimal characters when
/// generated.
///
/// # Examples
///
/// ```
/// use bamboost::{Comm, uid::SimulationName};
///
/// let name = SimulationName::generate(&Comm::world())?; // the same on every rank
/// assert!(name.as_str().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
/// # Ok::<(), bamboost::Error>(())
/// ```
///
/// # MPI
///
/// Local: a plain value; [`SimulationName::generate`] is collective.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SimulationName(String);

impl SimulationName {
    /// A new random name, made on rank 0 of `comm` and broadcast.
    ///
    /// # Errors
    ///
    /// As [`Comm::bcast`].
    ///
    /// # MPI
    ///
    /// Collective on `comm`.
    pub fn generate(comm: &Comm) -> Result<SimulationName> {
        comm.bcast_from(0, || SimulationName(random_hex()))
    }

    /// An existing name, kept as given.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUid`] if it is empty, `.` or `..`, or contains `/`, `\`, `:` or NUL.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn new(name: impl Into<String>) -> Result<SimulationName> {
        let name = name.into();
        check("simulation name", &name)?;
        Ok(SimulationName(name))
    }

    /// The name as text.
    ///
    /// # MPI
    ///
    /// Local.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CollectionUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SimulationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_are_rejected_with_the_reason() {
        for bad in ["", ".", "..", "a/b", "a:b"] {
            let err = SimulationName::new(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidUid { .. }), "{bad:?}: {err}");
        }
        assert_eq!(
            SimulationName::new("run-1").map(|n| n.to_string()),
            Ok("run-1".to_string())
        );
    }
}
