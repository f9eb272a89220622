//! `bamboost`: find collections and simulations from the shell, through the index.
//!
//! This binary does not link HDF5, so it starts without loading HDF5 and the forty libraries
//! it pulls in (about 8 ms on every call). The two commands that read simulation files,
//! `list --sync` and `list <UID> <name>`, run `bamboost-hdf5` instead: the same tool with
//! HDF5, installed next to it.

mod cli;

use bamboost::index::{Index, SyncReport};
use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main::<Delegate>()
}

/// The binary that reads simulation files, in this binary's directory.
const HDF5_BINARY: &str = "bamboost-hdf5";

/// Hands the commands that read simulation files to [`HDF5_BINARY`].
struct Delegate;

impl cli::SimulationFiles for Delegate {
    fn sync(_: &Index, _: &str) -> cli::Result<SyncReport> {
        Err(delegate())
    }

    fn show(_: &Index, _: &str, _: &str, _: bool) -> cli::Result<()> {
        Err(delegate())
    }
}

/// Replaces this process by [`HDF5_BINARY`] with the same arguments; returns only when that
/// fails, with the reason.
fn delegate() -> Box<dyn std::error::Error> {
    let program = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(HDF5_BINARY),
        Err(e) => return e.into(),
    };
    let mut command = std::process::Command::new(&program);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    let error = std::os::unix::process::CommandExt::exec(&mut command);
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    };
    format!(
        "this command reads simulation files, which `{}` does, but it cannot be run: {error}; \
         install it next to `bamboost` (`cargo install --path bamboost` installs both)",
        program.display()
    )
    .into()
}
