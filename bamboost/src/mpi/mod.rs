//! Communicators and MPI safety: [`Comm`], root-only execution, propagation, activation.
//!
//! # Serial and MPI runs
//!
//! The same program runs on a laptop (one process) and under `mpirun`/`srun` (many ranks).
//! [`Comm::world`] is an MPI communicator only when bamboost is built with the `mpi` Cargo
//! feature **and** MPI is active; otherwise it is the serial back end, a single rank on which
//! every collective returns its input. Whether MPI is active is decided once, at the first use
//! of a communicator (or at [`init`]), by these rules, highest priority first:
//!
//! | source | effect |
//! |---|---|
//! | `BAMBOOST_MPI=1`, `true`, `True` | MPI on, initialised even without a launcher (an error without the `mpi` feature) |
//! | `BAMBOOST_MPI=0`, `false`, `False` | MPI off (other values: a warning, then ignored) |
//! | [`set_enabled`] before first use | MPI on or off |
//! | `[options] mpi = true\|false` in `bamboost.toml` | MPI on or off (see [`crate::config`]) |
//! | default | on with the `mpi` feature, off without |
//!
//! When MPI is on by the last three rules, it is initialised only if an MPI launcher variable is
//! set (`OMPI_COMM_WORLD_SIZE`/`RANK`, `PMI_SIZE`/`RANK`, `MV2_COMM_WORLD_SIZE`/`RANK`,
//! `I_MPI_RANK`/`SIZE`, `SLURM_PROCID`/`NTASKS`, `MPI_LOCALNRANKS`/`LOCALRANKID`); without one,
//! bamboost logs a warning (with `tracing`) and runs serially.
//!
//! **Difference from Python bamboost:** there, MPI is off unless configured on. Here the
//! `mpi` Cargo feature is the opt-in, so a build with it uses MPI by default when started by a
//! launcher; `[options] mpi = false` or `BAMBOOST_MPI=0` still switch it off.
//!
//! A communicator passed explicitly (`Comm::mpi_world()`, `Comm::from_mpi(..)`, both with the
//! `mpi` feature) works even when MPI is off for [`Comm::world`].
//!
//! When bamboost initialises MPI it also installs a panic hook: a panic on any rank aborts the
//! whole job (`MPI_Abort`) instead of leaving the other ranks waiting forever.
//!
//! # Root-only work
//!
//! `#[root_process]` (see [`crate::root_process`]) makes methods run on rank 0 only and return
//! rank 0's value on every rank. [`self_scope`] runs a block of code on one rank with every
//! communicator behaving as a single rank, so bamboost calls in `if rank == 0 { … }` do not
//! wait for ranks that never come.
//!
//! # Propagation
//!
//! Objects find their communicator through a [`CommSlot`] that children share with their parent;
//! see there.

mod activation;
mod comm;
mod message;
#[cfg(feature = "mpi")]
mod native;
pub mod op;
pub(crate) mod root;
pub(crate) mod scalar;
mod scope;
mod slot;

pub use activation::{LAUNCHER_VARIABLES, init, is_enabled, set_enabled};
pub use comm::Comm;
pub use root::Broadcast;
pub use scalar::Scalar;
pub use scope::{in_self_scope, self_scope};
pub use slot::{CommSlot, HasComm};

pub(crate) use message::Label;

/// The rsmpi crate bamboost is built on, for code that needs MPI directly (e.g. to make a
/// communicator for [`Comm::from_mpi`]).
///
/// # MPI
///
/// A re-export; see rsmpi's documentation.
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub use rsmpi;
