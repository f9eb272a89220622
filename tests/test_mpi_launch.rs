//! Whole-job behaviour, checked by starting real processes: which back end each activation rule
//! chooses, and that panics and desynchronised ranks end an MPI job promptly instead of hanging.
//! Jobs run under `timeout`, so a hang fails the test instead of freezing it.

use bamboost::mpi::LAUNCHER_VARIABLES;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SCENARIO: &str = env!("CARGO_BIN_EXE_mpi-scenario");

#[cfg_attr(not(feature = "mpi"), allow(dead_code))] // `elapsed` is read by the MPI-build tests.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs a scenario, alone (`ranks: None`) or under `mpirun -np ranks`, in a fresh directory
/// with a fresh `HOME`, so no configuration file of the machine applies.
fn run(
    ranks: Option<usize>,
    scenario: &str,
    env: &[(&str, &str)],
    setup: impl FnOnce(&Path, &Path),
) -> Run {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let (home, work) = (tmp.path().join("home"), tmp.path().join("work"));
    std::fs::create_dir_all(&home).expect("home");
    std::fs::create_dir_all(&work).expect("work");
    setup(&home, &work);
    let mut cmd = Command::new("timeout");
    cmd.arg("60");
    if let Some(n) = ranks {
        cmd.args(["mpirun", "--oversubscribe", "-np", &n.to_string()]);
    }
    cmd.args([SCENARIO, scenario])
        .current_dir(&work)
        .env("HOME", &home)
        .env("RUST_BACKTRACE", "0")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env_remove("BAMBOOST_MPI");
    for var in LAUNCHER_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let out = cmd.output().expect("start the scenario");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn no_setup(_: &Path, _: &Path) {}

/// Sorted `rank=… size=… mpi=…` lines of a `report` run.
fn reports(run: &Run) -> Vec<String> {
    let mut lines: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("rank="))
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn expected(ranks: usize, size: usize, mpi: bool) -> Vec<String> {
    (0..ranks)
        .map(|r| {
            format!(
                "rank={} size={size} mpi={mpi}",
                if size == 1 { 0 } else { r }
            )
        })
        .collect()
}

#[test]
fn a_plain_start_is_serial() {
    let run = run(None, "report", &[], no_setup);
    assert_eq!(reports(&run), expected(1, 1, false), "{}", run.stderr);
}

#[test]
fn bamboost_mpi_0_is_serial() {
    let run = run(None, "report", &[("BAMBOOST_MPI", "0")], no_setup);
    assert_eq!(reports(&run), expected(1, 1, false), "{}", run.stderr);
}

#[cfg(not(feature = "mpi"))]
mod serial_build {
    use super::*;

    #[test]
    fn forcing_mpi_without_the_feature_is_a_clear_error() {
        for value in ["1", "true", "True"] {
            let run = run(None, "report", &[("BAMBOOST_MPI", value)], no_setup);
            assert_eq!(run.code, Some(2), "{}", run.stderr);
            assert!(
                run.stdout.is_empty(),
                "no silent serial run: {}",
                run.stdout
            );
            assert!(
                run.stderr.contains(&format!("BAMBOOST_MPI={value}"))
                    && run.stderr.contains("`mpi` feature"),
                "{}",
                run.stderr
            );
        }
    }

    #[test]
    fn a_config_asking_for_mpi_warns_and_runs_serially() {
        let run = run(None, "report", &[], |_, work| {
            std::fs::create_dir(work.join(".git")).expect(".git");
            std::fs::write(work.join("bamboost.toml"), "[options]\nmpi = true\n").expect("config");
        });
        assert_eq!(reports(&run), expected(1, 1, false));
        assert!(run.stderr.contains("`mpi` feature"), "{}", run.stderr);
    }
}

#[cfg(feature = "mpi")]
mod mpi_build {
    use super::*;

    /// The job failed, and on its own: not killed by the 60 s `timeout`, and well before it.
    fn assert_ended_promptly(run: &Run, np: usize) {
        assert_ne!(
            run.code,
            Some(0),
            "np {np}: the job succeeded: {}",
            run.stdout
        );
        assert_ne!(
            run.code,
            Some(124),
            "np {np}: the job hung until the timeout"
        );
        assert!(
            run.elapsed < Duration::from_secs(30),
            "np {np}: took {:?}",
            run.elapsed
        );
    }

    fn project_config(text: &'static str) -> impl FnOnce(&Path, &Path) {
        move |_, work| {
            std::fs::create_dir(work.join(".git")).expect(".git");
            std::fs::write(work.join("bamboost.toml"), text).expect("config");
        }
    }

    #[test]
    fn under_mpirun_every_rank_joins_the_world() {
        for n in 1..=4 {
            let run = run(Some(n), "report", &[], no_setup);
            assert_eq!(
                reports(&run),
                expected(n, n, true),
                "np {n}: {}",
                run.stderr
            );
        }
    }

    #[test]
    fn without_a_launcher_it_warns_and_runs_serially() {
        let run = run(None, "report", &[], no_setup);
        assert_eq!(reports(&run), expected(1, 1, false));
        assert!(
            run.stderr.contains("no MPI launcher variable"),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn a_launcher_variable_starts_mpi() {
        let run = run(None, "report", &[("MPI_LOCALNRANKS", "1")], no_setup);
        assert_eq!(reports(&run), expected(1, 1, true), "{}", run.stderr);
    }

    #[test]
    fn bamboost_mpi_1_forces_mpi_without_a_launcher() {
        let run = run(None, "report", &[("BAMBOOST_MPI", "True")], no_setup);
        assert_eq!(reports(&run), expected(1, 1, true), "{}", run.stderr);
    }

    #[test]
    fn bamboost_mpi_0_wins_over_mpirun() {
        let run = run(Some(2), "report", &[("BAMBOOST_MPI", "false")], no_setup);
        assert_eq!(reports(&run), expected(2, 1, false), "{}", run.stderr);
    }

    #[test]
    fn other_bamboost_mpi_values_warn_and_are_ignored() {
        let run = run(Some(2), "report", &[("BAMBOOST_MPI", "maybe")], no_setup);
        assert_eq!(reports(&run), expected(2, 2, true));
        assert!(
            run.stderr.contains("ignoring BAMBOOST_MPI=\"maybe\""),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn project_config_switches_mpi_off_and_the_environment_wins_over_it() {
        let run1 = run(
            Some(2),
            "report",
            &[],
            project_config("[options]\nmpi = false\n"),
        );
        assert_eq!(reports(&run1), expected(2, 1, false), "{}", run1.stderr);
        let run2 = run(
            Some(2),
            "report",
            &[("BAMBOOST_MPI", "1")],
            project_config("[options]\nmpi = false\n"),
        );
        assert_eq!(reports(&run2), expected(2, 2, true), "{}", run2.stderr);
    }

    #[test]
    fn global_config_applies_and_the_project_config_overrides_it() {
        let global = |home: &Path| {
            let dir = home.join(".config/bamboost");
            std::fs::create_dir_all(&dir).expect("config dir");
            std::fs::write(dir.join("config.toml"), "[options]\nmpi = false\n")
                .expect("global config");
        };
        let run1 = run(Some(2), "report", &[], |home, _| global(home));
        assert_eq!(reports(&run1), expected(2, 1, false), "{}", run1.stderr);
        let run2 = run(Some(2), "report", &[], |home, work| {
            global(home);
            project_config("[options]\nmpi = true\n")(home, work);
        });
        assert_eq!(reports(&run2), expected(2, 2, true), "{}", run2.stderr);
    }

    #[test]
    fn a_wrong_config_value_is_a_warning_and_broken_toml_an_error_naming_the_file() {
        let run = run(
            Some(2),
            "report",
            &[],
            project_config("[options]\nmpi = \"often\"\n"),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stderr.contains("options.mpi"), "{}", run.stderr);
        let run = run_broken();
        assert_eq!(run.code.map(|c| c != 0), Some(true));
        assert!(run.stderr.contains("bamboost.toml"), "{}", run.stderr);
    }

    fn run_broken() -> Run {
        run(Some(2), "report", &[], project_config("[options\n"))
    }

    #[test]
    fn the_runtime_setter_works_before_first_use_only() {
        let run = run(Some(2), "setter-off", &[], no_setup);
        assert_eq!(reports(&run), expected(2, 1, false), "{}", run.stderr);
        assert_eq!(
            run.stdout
                .matches("late setter: the MPI back end is already chosen (serial)")
                .count(),
            2,
            "{}",
            run.stdout
        );
    }

    #[test]
    fn an_explicit_mpi_communicator_works_when_mpi_is_off() {
        let run = run(Some(3), "explicit", &[("BAMBOOST_MPI", "0")], no_setup);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines,
            vec!["world_size=1 explicit_size=3 uids_equal=true"; 3],
            "{}",
            run.stderr
        );
    }

    #[test]
    fn a_panic_on_rank_0_in_a_root_process_method_reaches_every_rank_and_ends_the_job() {
        for n in 1..=4 {
            let run = run(Some(n), "root-panic", &[], no_setup);
            assert_ended_promptly(&run, n);
            assert!(
                run.stderr.contains("boom at step 3"),
                "np {n}: {}",
                run.stderr
            );
            if n > 1 {
                for r in 0..n {
                    let report = format!(
                        "bamboost: rank {r}: rank 0 panicked in `mpi_scenario::Job::explode`: boom at step 3"
                    );
                    assert!(
                        run.stderr.contains(&report),
                        "np {n}: rank {r} did not report: {}",
                        run.stderr
                    );
                }
            }
        }
    }

    #[test]
    fn a_panic_on_any_rank_ends_the_job() {
        for n in 2..=4 {
            let run = run(Some(n), "rank-panic", &[], no_setup);
            assert_ended_promptly(&run, n);
            assert!(
                run.stderr.contains(&format!("rank {} gives up", n - 1)),
                "{}",
                run.stderr
            );
        }
    }

    #[test]
    fn ranks_calling_different_methods_fail_with_both_names() {
        for n in 2..=4 {
            // `desync-again`: rank 0's frame leaves out the label it repeats.
            for scenario in ["desync", "desync-again"] {
                let run = run(Some(n), scenario, &[], no_setup);
                assert_ended_promptly(&run, n);
                assert!(
                    run.stderr.contains(
                        "called `mpi_scenario::Job::second`, but rank 0 ran `mpi_scenario::Job::first`"
                    ),
                    "{scenario} np {n}: {}",
                    run.stderr
                );
            }
        }
    }
}
