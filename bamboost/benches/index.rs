//! The index against Python bamboost 0.14, measured side by side in one run.
//!
//! One collection of `BENCH_SIMS` simulations (default 10 000) is written once with the Rust
//! library into a temporary directory `<dir>/home/sweep`: every simulation a real `data.h5`
//! with a few parameters (`n` an int, `x` a float, `solver` a string, a nested map `mesh`, a
//! list `loads`, a bool). Both implementations then index it, each into its own files:
//!
//! - **cold sync**: a fresh index file; open it, scan the search path (`<dir>/home`), sync the
//!   collection (every `data.h5` read); scan and sync are also timed on their own;
//! - **warm reopen**: open that index again and sync with nothing changed;
//! - **queries** on an open index: the whole collection, `n > 50`, `n > 50 and solver == "cg"`,
//!   `n > 95` (Rust only)
//!   (Rust: [`Index::query`] sorted by `created_at` descending, as Python's `coll.df` is;
//!   Python: `coll.df`, `coll.filter(...).df`, `coll.filter(...).all_simulation_names()`);
//! - **`bamboost list <UID>`** and **`bamboost list <UID> -n 10`**: the whole process, spawned
//!   `BENCH_CLI_REPEAT` times for each program (alternating), stdout to `/dev/null`,
//!   `HOME=<dir>/home`, each reading the index its own implementation synced (copied to
//!   `~/.local/share/bamboost/bamboost.0.11.sqlite` before each run); `bamboost --version`
//!   gives the Rust binary's start-up time.
//!
//! The Python figures come from `scripts/bench_index_python.py`, run by this program with the
//! interpreter `BENCH_PYTHON` (skipped when unset), one process per cold sync and one for the
//! rest. Every `data.h5` is read once before the timing, so both find them in the page cache.
//! Every figure is a median; the table shows the range too. `bash scripts/bench_index.sh`
//! builds everything and runs it.
//!
//! Environment (all optional):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BENCH_SIMS` | simulations in the collection | 10000 |
//! | `BENCH_REPEAT` | repetitions of cold and warm syncs | 5 |
//! | `BENCH_PY_COLD_REPEAT` | repetitions of Python's cold sync | 3 |
//! | `BENCH_QUERY_REPEAT` | repetitions of a Rust query (Python: `BENCH_REPEAT`) | 20 |
//! | `BENCH_CLI_REPEAT` | runs of each `bamboost list` | 10 |
//! | `BENCH_PYTHON` | Python with bamboost 0.14 | none: Rust only |
//! | `BENCH_PY_SCRIPT` | the Python side | `scripts/bench_index_python.py` |
//! | `BENCH_PY_BAMBOOST` | Python's `bamboost` entry script | next to `BENCH_PYTHON` |
//! | `BENCH_BAMBOOST_BIN` | the Rust `bamboost` binary | `target/release/bamboost` |
//! | `BENCH_DIR` | where the data go (kept, reused when it holds the collection) | a temporary directory |

use bamboost::collection::{Collection, DuplicateAction, Filter, NewSimulation};
use bamboost::config::IndexConfig;
use bamboost::index::{Index, Query};
use bamboost::simulation::Parameters;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The threshold of the `n > T` filters (`n` runs over 0..100, so about half match).
const THRESHOLD: i64 = 50;

/// The threshold of the selective filter `n > S` (4 % of the simulations match).
const SELECTIVE: i64 = 95;

/// The index file both command-line programs read, relative to `HOME`.
const DEFAULT_INDEX: &str = ".local/share/bamboost/bamboost.0.11.sqlite";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Settings {
    sims: usize,
    repeat: usize,
    py_cold_repeat: usize,
    query_repeat: usize,
    cli_repeat: usize,
    python: Option<PathBuf>,
    py_script: PathBuf,
    py_bamboost: Option<PathBuf>,
    bin: PathBuf,
    dir: Option<PathBuf>,
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Settings {
    fn from_env() -> Settings {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the package lies in the workspace")
            .to_path_buf();
        let python = env_path("BENCH_PYTHON");
        let py_bamboost = env_path("BENCH_PY_BAMBOOST").or_else(|| {
            python
                .as_ref()
                .and_then(|p| p.parent())
                .map(|bin| bin.join("bamboost"))
        });
        Settings {
            sims: env_usize("BENCH_SIMS", 10_000),
            repeat: env_usize("BENCH_REPEAT", 5).max(1),
            py_cold_repeat: env_usize("BENCH_PY_COLD_REPEAT", 3).max(1),
            query_repeat: env_usize("BENCH_QUERY_REPEAT", 20).max(1),
            cli_repeat: env_usize("BENCH_CLI_REPEAT", 10).max(1),
            python,
            py_script: env_path("BENCH_PY_SCRIPT")
                .unwrap_or_else(|| workspace.join("scripts/bench_index_python.py")),
            py_bamboost,
            bin: env_path("BENCH_BAMBOOST_BIN")
                .unwrap_or_else(|| workspace.join("target/release/bamboost")),
            dir: env_path("BENCH_DIR"),
        }
    }
}

/// Median, minimum and maximum of `samples` (seconds).
#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

impl Stats {
    fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s[mid]
        } else {
            (s[mid - 1] + s[mid]) / 2.0
        };
        Some(Stats {
            median,
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        })
    }
}

/// `seconds` with a unit and three significant digits.
fn human(seconds: f64) -> String {
    let (value, unit) = if seconds >= 1.0 {
        (seconds, "s")
    } else if seconds >= 1e-3 {
        (seconds * 1e3, "ms")
    } else {
        (seconds * 1e6, "µs")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

fn cell(stats: Option<Stats>) -> String {
    match stats {
        Some(s) if s.n > 1 => format!(
            "{} ({}–{}, n={})",
            human(s.median),
            human(s.min),
            human(s.max),
            s.n
        ),
        Some(s) => format!("{} (n=1)", human(s.median)),
        None => "—".to_owned(),
    }
}

/// Seconds taken by `f`, and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

/// The parameters of simulation `i`.
fn parameters(i: usize) -> Parameters {
    let solvers = ["cg", "gmres", "direct"];
    Parameters::new()
        .with("n", (i % 100) as i64)
        .with("x", i as f64 * 1e-3)
        .with("solver", solvers[i % 3])
        .with("converged", i.is_multiple_of(2))
        .with(
            "mesh",
            Parameters::new()
                .with("size", 0.1 * (1 + i % 7) as f64)
                .with("order", (1 + i % 3) as i64),
        )
        .with("loads", vec![1.0, 2.5, i as f64])
}

/// Opens (creating it) the collection `dir` and fills it up to `sims` simulations.
fn generate(dir: &Path, sims: usize) -> Res<String> {
    let collection = Collection::open(dir)?;
    let uid = collection.uid().as_str().to_owned();
    let have = collection.len()?;
    if have == sims {
        eprintln!("[bench] reusing {} simulations in {}", have, dir.display());
        return Ok(uid);
    }
    if have != 0 {
        return Err(format!(
            "{} holds {have} simulations, not {sims}: remove it or choose another BENCH_DIR",
            dir.display()
        )
        .into());
    }
    let start = Instant::now();
    for i in 0..sims {
        collection.add(
            NewSimulation::new()
                .name(&format!("sim{i:05}"))
                .parameters(parameters(i))
                .duplicate_action(DuplicateAction::Ignore),
        )?;
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "[bench] written {}/{sims} simulations ({:.0} s)",
                i + 1,
                start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "[bench] wrote {sims} simulations in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(uid)
}

/// The Rust measurements; keeps the last cold index as `keep`.
struct RustTimes {
    cold_scan: Vec<f64>,
    cold_sync: Vec<f64>,
    cold_total: Vec<f64>,
    warm: Vec<f64>,
    all: Vec<f64>,
    filter: Vec<f64>,
    filter2: Vec<f64>,
    by_name: Vec<f64>,
    selective: Vec<f64>,
    count: Vec<f64>,
    rows: [usize; 5],
}

fn rust_side(s: &Settings, home: &Path, work: &Path, uid: &str, keep: &Path) -> Res<RustTimes> {
    let mut t = RustTimes {
        cold_scan: vec![],
        cold_sync: vec![],
        cold_total: vec![],
        warm: vec![],
        all: vec![],
        filter: vec![],
        filter2: vec![],
        by_name: vec![],
        selective: vec![],
        count: vec![],
        rows: [0; 5],
    };
    let config = |file: &Path| IndexConfig::new(file, [home]);
    for k in 0..s.repeat {
        let file = work.join(format!("rust-cold-{k}.sqlite"));
        let _ = std::fs::remove_file(&file);
        let start = Instant::now();
        let index = Index::open(&config(&file))?;
        index.scan()?;
        let scanned = start.elapsed().as_secs_f64();
        let report = index.sync(uid, false)?;
        let total = start.elapsed().as_secs_f64();
        drop(index);
        if report.added != s.sims {
            return Err(format!("cold sync added {} of {}", report.added, s.sims).into());
        }
        t.cold_scan.push(scanned);
        t.cold_sync.push(total - scanned);
        t.cold_total.push(total);
        eprintln!("[rust] cold sync {}/{}: {}", k + 1, s.repeat, human(total));
        std::fs::rename(&file, keep)?;
    }

    for _ in 0..s.repeat {
        let (secs, report) = timed(|| -> Res<_> {
            let index = Index::open(&config(keep))?;
            Ok(index.sync(uid, false)?)
        });
        let report = report?;
        if report.unchanged != s.sims || report.added + report.updated + report.removed != 0 {
            return Err(format!("warm sync was not a no-op: {report:?}").into());
        }
        t.warm.push(secs);
    }
    eprintln!(
        "[rust] warm reopen: {}",
        human(Stats::of(&t.warm).unwrap().median)
    );

    let index = Index::open(&config(keep))?;
    let newest_first = || Query::new().sort("created_at", false);
    let big = || Filter::gt("n", THRESHOLD);
    let queries: [(&str, Query, &mut Vec<f64>); 5] = [
        ("all", newest_first(), &mut t.all),
        ("n > 50", newest_first().filter(big()), &mut t.filter),
        (
            "n > 50 and solver == cg",
            newest_first().filter(big().and(Filter::eq("solver", "cg"))),
            &mut t.filter2,
        ),
        ("n > 50 by name", Query::new().filter(big()), &mut t.by_name),
        (
            "n > 95",
            newest_first().filter(Filter::gt("n", SELECTIVE)),
            &mut t.selective,
        ),
    ];
    for (i, (name, query, times)) in queries.into_iter().enumerate() {
        t.rows[i] = index.query(uid, &query)?.len(); // untimed: prepares the statements
        for _ in 0..s.query_repeat {
            let (secs, found) = timed(|| index.query(uid, &query));
            std::hint::black_box(found?);
            times.push(secs);
        }
        eprintln!(
            "[rust] query {name}: {}, {} rows",
            human(Stats::of(times).unwrap().median),
            t.rows[i]
        );
    }
    index.count(uid, Some(big()))?;
    for _ in 0..s.query_repeat {
        let (secs, n) = timed(|| index.count(uid, Some(big())));
        std::hint::black_box(n?);
        t.count.push(secs);
    }
    Ok(t)
}

/// Runs `scripts/bench_index_python.py <phase>` in a fresh process; its JSON object.
fn python_phase(
    s: &Settings,
    python: &Path,
    phase: &str,
    home: &Path,
    uid: &str,
    index: &Path,
) -> Res<Value> {
    let output = Command::new(python)
        .arg(&s.py_script)
        .arg(phase)
        .arg("--home")
        .arg(home)
        .args(["--uid", uid])
        .arg("--index")
        .arg(index)
        .args(["--repeat", &s.repeat.to_string()])
        .args(["--threshold", &THRESHOLD.to_string()])
        .env("HOME", home)
        .current_dir(home)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "{} {phase} failed: {}",
            s.py_script.display(),
            output.status
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The Python side: `py_cold_repeat` cold syncs, each in its own process (Python bamboost 0.14
/// keeps what a sync read alive until the process ends, which slows a second sync), then the
/// warm reopen and the queries on the last one's index, kept as `keep`. One JSON object, the
/// cold series concatenated.
fn python_side(s: &Settings, python: &Path, home: &Path, uid: &str, keep: &Path) -> Res<Value> {
    let mut cold: Option<Value> = None;
    for k in 0..s.py_cold_repeat {
        eprintln!(
            "[python] cold sync {}/{} (a fresh process)",
            k + 1,
            s.py_cold_repeat
        );
        let _ = std::fs::remove_file(keep);
        let run = python_phase(s, python, "cold", home, uid, keep)?;
        match &mut cold {
            None => cold = Some(run),
            Some(all) => {
                for key in ["cold_scan", "cold_sync", "cold_total"] {
                    if let (Some(list), Some(more)) = (all[key].as_array_mut(), run[key].as_array())
                    {
                        list.extend(more.iter().cloned());
                    }
                }
            }
        }
    }
    let mut out = cold.ok_or("no Python cold sync")?;
    let query = python_phase(s, python, "query", home, uid, keep)?;
    if let (Some(out), Some(query)) = (out.as_object_mut(), query.as_object()) {
        for (key, value) in query {
            out.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Ok(out)
}

/// Reads every file of the collection once, so that both implementations find them in the
/// page cache.
fn warm_page_cache(dir: &Path) -> Res<u64> {
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir)?.flatten() {
        if let Ok(data) = std::fs::read(entry.path().join("data.h5")) {
            bytes += data.len() as u64;
        }
    }
    Ok(bytes)
}

fn seconds(value: &Value, key: &str) -> Vec<f64> {
    value[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// `program args` with `HOME=home`, run in `home`.
fn cli_command(program: &[PathBuf], args: &[&str], home: &Path) -> Command {
    let mut command = Command::new(&program[0]);
    command
        .args(&program[1..])
        .args(args)
        .env("HOME", home)
        .current_dir(home)
        .stdin(Stdio::null());
    command
}

/// Runs `command` once with its output captured: (stdout lines, stdout bytes).
fn check_run(mut command: Command, what: &str) -> Res<(usize, usize)> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let lines = output.stdout.iter().filter(|b| **b == b'\n').count();
    Ok((lines, output.stdout.len()))
}

/// Wall time of one run of `command`, stdout to `/dev/null`.
fn time_run(mut command: Command, what: &str) -> Res<f64> {
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output()?;
    let secs = start.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!("{what} failed ({})", output.status).into());
    }
    Ok(secs)
}

fn main() -> Res<()> {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let s = Settings::from_env();
    let temporary;
    let root = match &s.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new()
                .prefix("bamboost-bench-index-")
                .tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    let home = root.join("home");
    let collection = home.join("sweep");
    let work = root.join("work");
    std::fs::create_dir_all(&home)?;
    std::fs::create_dir_all(&work)?;
    eprintln!(
        "[bench] {} simulations in {}; repetitions: sync {}, Python cold sync {}, query {}, \
         list {}",
        s.sims,
        collection.display(),
        s.repeat,
        s.py_cold_repeat,
        s.query_repeat,
        s.cli_repeat
    );
    let (gen_secs, uid) = timed(|| generate(&collection, s.sims));
    let uid = uid?;
    let h5_bytes = warm_page_cache(&collection)?;

    let rust_index = work.join("rust.sqlite");
    let python_index = work.join("python.sqlite");
    let rust = rust_side(&s, &home, &work, &uid, &rust_index)?;

    let python = match &s.python {
        Some(python) => Some(python_side(&s, python, &home, &uid, &python_index)?),
        None => {
            eprintln!("[bench] BENCH_PYTHON unset: Python side skipped");
            None
        }
    };
    if let Some(py) = &python {
        let indexed = py["indexed"].as_u64().unwrap_or(0) as usize;
        if indexed != s.sims {
            return Err(format!("Python indexed {indexed} of {} simulations", s.sims).into());
        }
        for (key, rows) in ["df_rows", "filter_df_rows", "filter2_df_rows"]
            .iter()
            .zip(rust.rows[..3].iter().copied())
        {
            let theirs = py[*key].as_u64().unwrap_or(0) as usize;
            if theirs != rows {
                return Err(format!("Python {key} = {theirs}, Rust {rows}").into());
            }
        }
    }

    // Whole-process `bamboost list <uid>`.
    let default_index = home.join(DEFAULT_INDEX);
    std::fs::create_dir_all(default_index.parent().expect("a file in a directory"))?;
    let rust_program = vec![s.bin.clone()];
    let python_program = match (&s.python, &s.py_bamboost, &python) {
        (Some(py), Some(entry), Some(_)) => Some(vec![py.clone(), entry.clone()]),
        _ => None,
    };
    // (arguments, also run with Python): the listing, the first ten rows, the start-up floor.
    let cli_series: [(Vec<&str>, bool); 3] = [
        (vec!["list", &uid], true),
        (vec!["list", &uid, "-n", "10"], true),
        (vec!["--version"], false),
    ];
    let mut cli_rust = vec![Vec::new(); cli_series.len()];
    let mut cli_python = vec![Vec::new(); cli_series.len()];
    let mut cli_notes = Vec::new();
    if s.bin.is_file() {
        std::fs::copy(&rust_index, &default_index)?;
        let list = &cli_series[0].0;
        let (lines, bytes) = check_run(cli_command(&rust_program, list, &home), "bamboost list")?;
        cli_notes.push(format!("Rust prints {lines} lines ({bytes} bytes)"));
        if let Some(program) = &python_program {
            std::fs::copy(&python_index, &default_index)?;
            let (lines, bytes) =
                check_run(cli_command(program, list, &home), "Python bamboost list")?;
            cli_notes.push(format!("Python prints {lines} lines ({bytes} bytes)"));
        }
        for _ in 0..s.cli_repeat {
            for (i, (args, with_python)) in cli_series.iter().enumerate() {
                std::fs::copy(&rust_index, &default_index)?;
                cli_rust[i].push(time_run(
                    cli_command(&rust_program, args, &home),
                    "bamboost",
                )?);
                if let (Some(program), true) = (&python_program, with_python) {
                    std::fs::copy(&python_index, &default_index)?;
                    cli_python[i].push(time_run(
                        cli_command(program, args, &home),
                        "Python bamboost",
                    )?);
                }
            }
        }
    } else {
        eprintln!(
            "[bench] {} missing (cargo build --release -p bamboost --bin bamboost): \
             `bamboost list` skipped",
            s.bin.display()
        );
    }

    let py = |key: &str| python.as_ref().and_then(|p| Stats::of(&seconds(p, key)));
    let r = |v: &[f64]| Stats::of(v);
    // (metric, Rust, Python)
    let rows = [
        (
            "cold: open + scan + sync",
            r(&rust.cold_total),
            py("cold_total"),
        ),
        ("cold: sync alone", r(&rust.cold_sync), py("cold_sync")),
        ("cold: open + scan", r(&rust.cold_scan), py("cold_scan")),
        (
            "warm reopen: open + sync, nothing changed",
            r(&rust.warm),
            py("warm"),
        ),
        (
            "all simulations (Rust query / Python coll.df)",
            r(&rust.all),
            py("df"),
        ),
        (
            "filter n > 50 (query / coll.filter(...).df)",
            r(&rust.filter),
            py("filter_df"),
        ),
        (
            "filter n > 50 and solver == cg",
            r(&rust.filter2),
            py("filter2_df"),
        ),
        (
            "filter n > 50 (query / .all_simulation_names())",
            r(&rust.filter),
            py("filter_names"),
        ),
        ("filter n > 50, by name (Rust only)", r(&rust.by_name), None),
        (
            "filter n > 95, 4 % match (Rust only)",
            r(&rust.selective),
            None,
        ),
        ("count n > 50 (Rust only)", r(&rust.count), None),
        (
            "`bamboost list <UID>`, whole process",
            r(&cli_rust[0]),
            r(&cli_python[0]),
        ),
        (
            "`bamboost list <UID> -n 10`, whole process",
            r(&cli_rust[1]),
            r(&cli_python[1]),
        ),
        (
            "`bamboost --version` (Rust only: process start)",
            r(&cli_rust[2]),
            None,
        ),
    ];

    println!();
    println!(
        "index benchmark: {} simulations ({:.1} MiB of data.h5, written in {:.1} s), \
         filters match {} / {} rows",
        s.sims,
        h5_bytes as f64 / 1048576.0,
        gen_secs,
        rust.rows[1],
        rust.rows[2]
    );
    if let Some(p) = &python {
        println!(
            "Python bamboost {} on Python {} (SQLite {}); Rust: rusqlite's SQLite {}",
            p["bamboost"].as_str().unwrap_or("?"),
            p["python"].as_str().unwrap_or("?"),
            p["sqlite"].as_str().unwrap_or("?"),
            rusqlite::version()
        );
    }
    if !cli_notes.is_empty() {
        println!("`bamboost list`: {}", cli_notes.join("; "));
    }
    println!("medians (min–max, n = samples)");
    println!();
    println!("| metric | Rust | Python | Python / Rust |");
    println!("|---|---:|---:|---:|");
    for (metric, rust, python) in rows {
        let ratio = match (rust, python) {
            (Some(a), Some(b)) => format!("{:.1}×", b.median / a.median),
            _ => "—".to_owned(),
        };
        println!(
            "| {} | {} | {} | {} |",
            metric,
            cell(rust),
            cell(python),
            ratio
        );
    }
    Ok(())
}
