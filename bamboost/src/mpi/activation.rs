//! Choosing the back end of `Comm::world()`: the Rust form of Python bamboost's MPI detection.
//!
//! Priority, highest first:
//! 1. `BAMBOOST_MPI=1|true|True` forces MPI on, `0|false|False` forces it off; other values are
//!    ignored with a warning.
//! 2. [`set_enabled`], called before the first use of a communicator.
//! 3. `[options] mpi` in the configuration files (see [`crate::config`]).
//! 4. The default: on when bamboost is built with the `mpi` feature, off otherwise.
//!
//! When MPI is on through 2–4, MPI is initialised only if an MPI launcher variable is present;
//! otherwise bamboost warns and uses the serial back end. `BAMBOOST_MPI=1` initialises MPI even
//! without one (a singleton MPI run).

use crate::config::Config;
use crate::error::{Error, Result};
use std::sync::{Mutex, OnceLock};

/// Environment variables set by MPI launchers (Open MPI's mpirun, MPICH/PMI, MVAPICH2,
/// Intel MPI, Slurm). When MPI is enabled, bamboost initialises it only if one is set.
///
/// # MPI
///
/// Local: a constant.
pub const LAUNCHER_VARIABLES: [&str; 12] = [
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_COMM_WORLD_RANK",
    "PMI_SIZE",
    "PMI_RANK",
    "MV2_COMM_WORLD_SIZE",
    "MV2_COMM_WORLD_RANK",
    "I_MPI_RANK",
    "I_MPI_SIZE",
    "SLURM_PROCID",
    "SLURM_NTASKS",
    "MPI_LOCALNRANKS",
    "MPI_LOCALRANKID",
];

/// The back end chosen for `Comm::world()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Serial,
    Mpi,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Serial => "serial",
            Backend::Mpi => "mpi",
        }
    }
}

/// Everything the choice depends on, gathered so that the rule itself is a pure function.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// The value of `BAMBOOST_MPI`, if set.
    pub(crate) env: Option<String>,
    /// The value given to `set_enabled`, if called.
    pub(crate) requested: Option<bool>,
    /// `[options] mpi` from the configuration files.
    pub(crate) config: Option<bool>,
    /// The first launcher variable found in the environment.
    pub(crate) launcher: Option<&'static str>,
    /// Whether this build has the `mpi` feature.
    pub(crate) compiled: bool,
}

/// The outcome of the rule: a back end (or an error) and warnings to log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub(crate) backend: Result<Backend>,
    pub(crate) warnings: Vec<String>,
}

/// Parses `BAMBOOST_MPI` as Python bamboost does.
fn parse_flag(value: &str) -> Option<bool> {
    match value {
        "1" | "true" | "True" => Some(true),
        "0" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The activation rule (see the module documentation).
pub(crate) fn decide(inputs: &Inputs) -> Decision {
    let mut warnings = Vec::new();
    let env = inputs.env.as_deref().and_then(|value| {
        let flag = parse_flag(value);
        if flag.is_none() {
            warnings.push(format!(
                "ignoring BAMBOOST_MPI={value:?}: use 1, true or True to force MPI on, 0, false or False to force it off"
            ));
        }
        flag
    });
    let backend = match env {
        Some(false) => Ok(Backend::Serial),
        Some(true) if inputs.compiled => Ok(Backend::Mpi),
        Some(true) => Err(Error::MpiNotCompiled {
            source_of_request: format!("BAMBOOST_MPI={}", inputs.env.as_deref().unwrap_or("1")),
        }),
        None => {
            let wanted = inputs
                .requested
                .or(inputs.config)
                .unwrap_or(inputs.compiled);
            if !wanted {
                Ok(Backend::Serial)
            } else if !inputs.compiled {
                warnings.push(
                    "MPI is enabled in the configuration, but bamboost was built without the `mpi` feature; using the serial back end"
                        .into(),
                );
                Ok(Backend::Serial)
            } else if inputs.launcher.is_some() {
                Ok(Backend::Mpi)
            } else {
                warnings.push(
                    "MPI is enabled but no MPI launcher variable is set (not started by mpirun/srun?); using the serial back end"
                        .into(),
                );
                Ok(Backend::Serial)
            }
        }
    };
    Decision { backend, warnings }
}

static REQUESTED: Mutex<Option<bool>> = Mutex::new(None);
static CHOSEN: OnceLock<Result<Backend>> = OnceLock::new();

fn gather_inputs() -> Result<Inputs> {
    let env = std::env::var("BAMBOOST_MPI").ok();
    let requested = *REQUESTED.lock().unwrap_or_else(|e| e.into_inner());
    // The files are read only when they can matter.
    let config = if env.as_deref().and_then(parse_flag).is_none() && requested.is_none() {
        Config::cached()?.options.mpi
    } else {
        None
    };
    let launcher = LAUNCHER_VARIABLES
        .into_iter()
        .find(|v| std::env::var_os(v).is_some());
    Ok(Inputs {
        env,
        requested,
        config,
        launcher,
        compiled: cfg!(feature = "mpi"),
    })
}

/// The back end of `Comm::world()`, chosen once, at the first call.
pub(crate) fn chosen() -> Result<Backend> {
    CHOSEN
        .get_or_init(|| {
            let decision = decide(&gather_inputs()?);
            for warning in &decision.warnings {
                tracing::warn!("{warning}");
            }
            let backend = decision.backend?;
            #[cfg(feature = "mpi")]
            if backend == Backend::Mpi {
                super::native::ensure_initialized()?;
            }
            Ok(backend)
        })
        .clone()
}

/// Turns MPI on or off for this process, overriding the configuration files (but not the
/// `BAMBOOST_MPI` variable). Python bamboost's `config.options.mpi = …`.
///
/// Call it before the first use of a communicator: the back end is chosen once.
///
/// # Errors
///
/// - [`Error::MpiAlreadyChosen`] if the back end was already chosen.
/// - [`Error::MpiNotCompiled`] for `set_enabled(true)` in a build without the `mpi` feature.
///
/// # MPI
///
/// Local: call it on every rank, with the same value.
///
/// # Examples
///
/// ```
/// // Decide before anything uses a communicator.
/// bamboost::mpi::set_enabled(false)?;
/// assert!(!bamboost::mpi::is_enabled());
/// # Ok::<(), bamboost::Error>(())
/// ```
pub fn set_enabled(enabled: bool) -> Result<()> {
    if enabled && !cfg!(feature = "mpi") {
        return Err(Error::MpiNotCompiled {
            source_of_request: "`bamboost::mpi::set_enabled(true)`".into(),
        });
    }
    let mut requested = REQUESTED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(chosen) = CHOSEN.get() {
        let active = chosen
            .as_ref()
            .map_or("none: the choice failed", |b| b.name());
        return Err(Error::MpiAlreadyChosen {
            active: active.into(),
        });
    }
    *requested = Some(enabled);
    Ok(())
}

/// Chooses the back end now (if not yet chosen) and initialises MPI when it is chosen.
///
/// Calling it at the start of `main` surfaces configuration problems as an error instead of a
/// panic in the first [`Comm::world`](crate::Comm::world).
///
/// # Errors
///
/// [`Error::MpiNotCompiled`], [`Error::MpiThreading`] or [`Error::Config`]; see the module
/// documentation for the rules.
///
/// # MPI
///
/// Collective when MPI is chosen (it calls `MPI_Init_thread`), local otherwise.
pub fn init() -> Result<()> {
    chosen().map(drop)
}

/// Whether `Comm::world()` is an MPI communicator. Chooses the back end if not yet chosen;
/// `false` if that fails.
///
/// # MPI
///
/// As [`init`].
pub fn is_enabled() -> bool {
    chosen() == Ok(Backend::Mpi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(
        env: Option<&str>,
        requested: Option<bool>,
        config: Option<bool>,
        launcher: bool,
        compiled: bool,
    ) -> Inputs {
        Inputs {
            env: env.map(String::from),
            requested,
            config,
            launcher: launcher.then_some("PMI_SIZE"),
            compiled,
        }
    }

    fn backend(i: Inputs) -> Result<Backend> {
        decide(&i).backend
    }

    #[test]
    fn environment_has_the_highest_priority() {
        for on in ["1", "true", "True"] {
            assert_eq!(
                backend(inputs(Some(on), Some(false), Some(false), false, true)),
                Ok(Backend::Mpi)
            );
        }
        for off in ["0", "false", "False"] {
            assert_eq!(
                backend(inputs(Some(off), Some(true), Some(true), true, true)),
                Ok(Backend::Serial)
            );
        }
    }

    #[test]
    fn other_environment_values_warn_and_fall_through() {
        let d = decide(&inputs(Some("yes"), None, Some(true), true, true));
        assert_eq!(d.backend, Ok(Backend::Mpi));
        assert!(
            d.warnings[0].contains("BAMBOOST_MPI=\"yes\""),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn forcing_mpi_without_the_feature_is_an_error() {
        let err = backend(inputs(Some("1"), None, None, true, false)).unwrap_err();
        assert!(
            err.to_string().contains("BAMBOOST_MPI=1") && err.to_string().contains("`mpi` feature"),
            "{err}"
        );
    }

    #[test]
    fn setter_beats_configuration() {
        assert_eq!(
            backend(inputs(None, Some(false), Some(true), true, true)),
            Ok(Backend::Serial)
        );
        assert_eq!(
            backend(inputs(None, Some(true), Some(false), true, true)),
            Ok(Backend::Mpi)
        );
    }

    #[test]
    fn configuration_and_default() {
        assert_eq!(
            backend(inputs(None, None, Some(false), true, true)),
            Ok(Backend::Serial)
        );
        assert_eq!(
            backend(inputs(None, None, None, true, true)),
            Ok(Backend::Mpi),
            "the feature turns MPI on"
        );
        assert_eq!(
            backend(inputs(None, None, None, true, false)),
            Ok(Backend::Serial)
        );
    }

    #[test]
    fn enabled_without_launcher_warns_and_is_serial() {
        let d = decide(&inputs(None, None, Some(true), false, true));
        assert_eq!(d.backend, Ok(Backend::Serial));
        assert!(d.warnings[0].contains("launcher"), "{:?}", d.warnings);
    }

    #[test]
    fn configuration_asking_for_mpi_in_a_serial_build_warns() {
        let d = decide(&inputs(None, None, Some(true), true, false));
        assert_eq!(d.backend, Ok(Backend::Serial));
        assert!(d.warnings[0].contains("`mpi` feature"), "{:?}", d.warnings);
    }
}
