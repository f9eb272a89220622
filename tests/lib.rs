//! Helpers shared by bamboost's integration and MPI tests.
//!
//! MPI may be initialised only once per process, so MPI test targets are `harness = false`
//! programs: [`Checks`] runs named checks in the same order on every rank, counts failures over
//! all ranks, prints `<target>: N passed, N failed` on rank 0 and sets the exit code.

use bamboost::Comm;
use bamboost::mpi::op::Sum;

/// Runs named checks on every rank of the world communicator.
pub struct Checks {
    target: &'static str,
    comm: Comm,
    passed: usize,
    failed: usize,
}

impl Checks {
    /// Starts a target; chooses the back end (and initialises MPI under mpirun).
    pub fn new(target: &'static str) -> Checks {
        let comm = match Comm::try_world() {
            Ok(comm) => comm,
            Err(e) => {
                eprintln!("{target}: cannot set up the world communicator: {e}");
                std::process::exit(2);
            }
        };
        if comm.rank() == 0 {
            println!(
                "{target}: {} rank(s), {}",
                comm.size(),
                if comm.is_mpi() { "mpi" } else { "serial" }
            );
        }
        Checks {
            target,
            comm,
            passed: 0,
            failed: 0,
        }
    }

    /// The world communicator.
    pub fn comm(&self) -> &Comm {
        &self.comm
    }

    /// Runs one check on every rank; it fails on a rank by returning `Err`.
    pub fn check(&mut self, name: &str, check: impl FnOnce(&Comm) -> Result<(), String>) {
        self.comm.barrier();
        match check(&self.comm) {
            Ok(()) => self.passed += 1,
            Err(why) => {
                self.failed += 1;
                eprintln!(
                    "{}: rank {}: FAILED {name}: {why}",
                    self.target,
                    self.comm.rank()
                );
            }
        }
    }

    /// Prints the totals over all ranks and exits with status 1 if any check failed anywhere.
    pub fn finish(self) -> ! {
        let failed = self.comm.allreduce(self.failed, Sum).unwrap_or(usize::MAX);
        if self.comm.rank() == 0 {
            println!("{}: {} passed, {failed} failed", self.target, self.passed);
        }
        std::process::exit(if failed == 0 { 0 } else { 1 });
    }
}

/// Fails a check with a message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// Fails a check unless both sides are equal, showing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{} != {}: {l:?} != {r:?}",
                stringify!($left),
                stringify!($right)
            ));
        }
    }};
}

/// Converts any displayable error into a check failure.
pub fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `name` under rank 0's directory `base` (other ranks pass `None`), the same path on every
/// rank.
pub fn shared_path(
    c: &Comm,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<std::path::PathBuf, String> {
    let base = base.map(std::path::Path::to_path_buf).unwrap_or_default();
    let base: std::path::PathBuf = c.bcast(base, 0).map_err(fail)?;
    Ok(base.join(name))
}

/// A second process holding an HDF5 file open for writing (so locked); waited for (or killed)
/// when dropped.
pub struct Holder(std::process::Child);

impl Holder {
    /// Waits for the holder; whether it exited successfully.
    pub fn exits_cleanly(mut self) -> bool {
        self.0.wait().is_ok_and(|status| status.success())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

/// Starts `scenario_bin hold-h5 <path> <seconds>` and returns once it holds the file.
pub fn hold_file(scenario_bin: &str, path: &std::path::Path, seconds: f64) -> Holder {
    use std::io::BufRead;
    let mut child = std::process::Command::new(scenario_bin)
        .args(["hold-h5", &path.display().to_string(), &seconds.to_string()])
        .env("BAMBOOST_MPI", "0")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the lock holder");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "holding");
    Holder(child)
}

/// The interpreter with Python bamboost 0.14.0: `BAMBOOST_PYTHON`, else the virtual environment
/// `.ci/install.sh` makes in `target/pyenv`.
pub fn python() -> std::path::PathBuf {
    std::env::var_os("BAMBOOST_PYTHON").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin/python"),
        std::path::PathBuf::from,
    )
}

/// Runs `script` with Python bamboost, its home (and so its index) inside `home`; returns the
/// standard output. Panics with the reason if Python fails.
pub fn run_python(home: &std::path::Path, script: &str) -> String {
    run_python_args(home, ["-c", script])
}

/// Runs the script `tests/python/<name>` with `args`, as [`run_python`] does.
pub fn run_python_file<A: AsRef<std::ffi::OsStr>>(
    home: &std::path::Path,
    name: &str,
    args: &[A],
) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name);
    let mut all = vec![script.into_os_string()];
    all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
    run_python_args(home, all)
}

fn run_python_args<A: AsRef<std::ffi::OsStr>>(
    home: &std::path::Path,
    args: impl IntoIterator<Item = A>,
) -> String {
    let python = python();
    let output = std::process::Command::new(&python)
        .args(args)
        .env("HOME", home)
        .env_remove("BAMBOOST_MPI")
        .current_dir(home)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run `source .ci/install.sh` to create the virtual environment with bamboost==0.14.0",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
