//! The `bamboost` command-line tool, run as a process with its own `HOME` (so its own index
//! and configuration) on real collections.

use bamboost::collection::{Collection, NewSimulation};
use bamboost::simulation::{Parameters, Status, StatusInfo};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn bamboost(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bamboost"))
        .args(args)
        .env("HOME", home)
        .env_remove("BAMBOOST_MPI")
        .current_dir(home)
        .output()
        .expect("run the bamboost binary")
}

/// Runs a command that must succeed; its standard output.
fn ok(home: &Path, args: &[&str]) -> String {
    let out = bamboost(home, args);
    assert!(
        out.status.success(),
        "bamboost {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(home: &Path, args: &[&str]) -> Value {
    let text = ok(home, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn new_alias_and_list_of_collections() -> TestResult {
    let home = tempfile::tempdir()?;
    let h = home.path();
    let created = ok(
        h,
        &["new", "sweep", "-a", "Heat", "-d", "a sweep", "-t", "x, y"],
    );
    assert!(created.starts_with("created collection "), "{created}");
    // Written to the identifier file too, so a rebuilt index keeps them.
    let identifier = std::fs::read_dir(h.join("sweep"))?
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".bamboost-collection-")
        })
        .map(|e| e.path())
        .ok_or("no identifier file")?;
    let yaml = std::fs::read_to_string(identifier)?;
    for text in ["description: a sweep", "- Heat", "- x", "- y"] {
        assert!(yaml.contains(text), "{text} missing from\n{yaml}");
    }
    let listed = json(h, &["ls", "--json"]);
    assert_eq!(listed[0]["aliases"], serde_json::json!(["Heat"]));
    assert_eq!(listed[0]["description"], "a sweep");
    let uid = listed[0]["uid"].as_str().ok_or("uid")?.to_owned();
    assert_eq!(ok(h, &["alias", "get", "heat"]).trim(), uid);
    ok(h, &["alias", "add", &uid, "warm"]);
    ok(h, &["alias", "remove", "heat", "Heat"]);
    assert_eq!(
        json(h, &["list", "--json"])[0]["aliases"],
        serde_json::json!(["warm"])
    );
    // Dropped from the index by alias; a scan brings it back with its aliases (from the YAML).
    assert!(ok(h, &["index", "drop", "warm"]).contains(&uid));
    assert_eq!(json(h, &["ls", "--json"]), serde_json::json!([]));
    ok(h, &["scan"]);
    assert_eq!(
        json(h, &["ls", "--json"])[0]["aliases"],
        serde_json::json!(["warm"])
    );
    let again = bamboost(h, &["new", "sweep"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    Ok(())
}

#[test]
fn list_of_simulations_with_sync_filter_sort_and_one_simulation() -> TestResult {
    let home = tempfile::tempdir()?;
    let h = home.path();
    let collection = Collection::open(h.join("runs"))?;
    for n in [10_i64, 20, 30, 40] {
        let writer = collection.add(
            NewSimulation::new()
                .name(&format!("n{n}"))
                .parameters(
                    Parameters::new()
                        .with("n", n)
                        .with("solver", if n < 25 { "cg" } else { "gmres" })
                        .with("mesh", Parameters::new().with("size", n as f64 / 4.0)),
                )
                .tags(if n == 40 { vec!["big"] } else { vec![] }),
        )?;
        if n == 30 {
            writer.set_status(StatusInfo {
                status: Status::Failed,
                message: Some("diverged".into()),
            })?;
        }
    }
    let uid = collection.uid().as_str().to_owned();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Not synced yet: the collection is found on disk, with no simulation indexed.
    assert_eq!(names(&json(h, &["ls", &uid, "--json"])).len(), 0);
    let all = json(h, &["ls", &uid, "--sync", "--json", "--sort", "n"]);
    assert_eq!(names(&all), ["n10", "n20", "n30", "n40"]);
    assert_eq!(all[1]["parameters"]["n"], 20);
    let filtered = json(
        h,
        &[
            "ls",
            &uid,
            "--json",
            "--filter",
            "n>15",
            "--filter",
            "solver==gmres",
            "--sort",
            "-n",
        ],
    );
    assert_eq!(names(&filtered), ["n40", "n30"]);
    assert_eq!(
        names(&json(
            h,
            &["ls", &uid, "--json", "--sort", "n:desc", "-n", "1"]
        )),
        ["n40"]
    );
    assert_eq!(
        names(&json(h, &["ls", &uid, "--json", "--tags", "big"])),
        ["n40"]
    );
    let table = ok(h, &["ls", &uid, "--sort", "n"]);
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("name") && header.contains("solver"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 2 + 4);
    // Every cell as the JSON listing has it: columns split at the header's positions.
    let starts: Vec<usize> = header
        .char_indices()
        .filter(|&(i, c)| c != ' ' && (i == 0 || header.as_bytes()[i - 1] == b' '))
        .map(|(i, _)| i)
        .collect();
    let cells = |line: &str| -> Vec<String> {
        (0..starts.len())
            .map(|c| {
                let end = starts.get(c + 1).map_or(line.len(), |&e| e.min(line.len()));
                line.get(starts[c].min(end)..end)
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        cells(header),
        ["name", "status", "created_at", "mesh.size", "n", "solver"]
    );
    for (line, record) in table.lines().skip(2).zip(all.as_array().ok_or("rows")?) {
        let created = record["created_at"].as_str().ok_or("created_at")?;
        let p = &record["parameters"];
        let expected = [
            record["name"].as_str().unwrap_or_default().to_owned(),
            if record["name"] == "n30" {
                "failed [diverged]".to_owned()
            } else {
                "initialized".to_owned()
            },
            created.replacen('T', " ", 1)[..19].to_owned(),
            format!("{:?}", p["mesh"]["size"].as_f64().unwrap_or_default()),
            p["n"].to_string(),
            p["solver"].as_str().unwrap_or_default().to_owned(),
        ];
        assert_eq!(cells(line), expected, "{table}");
    }
    let one = json(h, &["ls", &uid, "n20", "--json"]);
    assert_eq!(one["parameters"]["solver"], "cg");
    assert_eq!(one["series"]["steps"], 0);
    assert_eq!(one["uid"], format!("{uid}:n20"));
    let missing = bamboost(h, &["ls", &uid, "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    Ok(())
}

#[test]
fn errors_say_what_to_do_and_usage_errors_exit_with_2() -> TestResult {
    let home = tempfile::tempdir()?;
    let h = home.path();
    let unknown = bamboost(h, &["ls", "NOSUCHUID1"]);
    assert_eq!(unknown.status.code(), Some(1));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.starts_with("error: ") && message.contains("bamboost scan"),
        "{message}"
    );
    let bad_filter = bamboost(h, &["ls", "x", "--filter", "no operator"]);
    assert_eq!(bad_filter.status.code(), Some(1));
    assert_eq!(bamboost(h, &["frobnicate"]).status.code(), Some(2));
    // A corrupted index: a clear error naming the file and the way out.
    let db = h.join(".local/share/bamboost/bamboost.0.11.sqlite");
    std::fs::create_dir_all(db.parent().ok_or("parent")?)?;
    std::fs::write(&db, "garbage ".repeat(200))?;
    let corrupted = bamboost(h, &["ls"]);
    assert_eq!(corrupted.status.code(), Some(1));
    let message = String::from_utf8_lossy(&corrupted.stderr);
    assert!(
        message.contains("not a usable bamboost index") && message.contains("bamboost scan"),
        "{message}"
    );
    Ok(())
}

#[test]
fn config_print_clean_and_completions() -> TestResult {
    let home = tempfile::tempdir()?;
    let h = home.path();
    let project = h.join("project");
    std::fs::create_dir_all(project.join(".git"))?;
    std::fs::write(
        project.join("bamboost.toml"),
        "[index]\nisolated = true\n[options]\nfile_lock_timeout = 5\nbogus = 1\n",
    )?;
    let out = bamboost(
        h,
        &["config", "print", "--dir", &project.display().to_string()],
    );
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("file_lock_timeout = 5.0"), "{printed}");
    assert!(
        printed.contains(".bamboost/bamboost.0.11.sqlite"),
        "{printed}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("options.bogus"),
        "rejected keys are reported"
    );
    let gone = Collection::open(h.join("gone"))?;
    ok(h, &["scan"]);
    std::fs::remove_dir_all(gone.path())?;
    let cleaned = json(h, &["clean", "--json"]);
    assert_eq!(cleaned["removed"][0]["uid"], gone.uid().as_str());
    let script = ok(h, &["completions", "bash"]);
    assert!(
        script.contains("bamboost") && script.contains("alias"),
        "{script}"
    );
    Ok(())
}

/// `bamboost` starts without HDF5; the commands that read simulation files run
/// `bamboost-hdf5`, and say so when it is missing.
#[test]
fn bamboost_does_not_load_hdf5_and_hands_file_commands_to_bamboost_hdf5() -> TestResult {
    // What the dynamic loader would load (what `ldd` prints), without running the program.
    let libraries = |program: &str| -> std::io::Result<String> {
        let out = Command::new(program)
            .env("LD_TRACE_LOADED_OBJECTS", "1")
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    if cfg!(target_os = "linux") {
        let front = libraries(env!("CARGO_BIN_EXE_bamboost"))?;
        let full = libraries(env!("CARGO_BIN_EXE_bamboost-hdf5"))?;
        assert!(full.contains("libhdf5"), "{full}");
        assert!(!front.contains("libhdf5"), "{front}");
    }
    // Alone in a directory, `bamboost` cannot hand `--sync` on: a clear error.
    let home = tempfile::tempdir()?;
    let alone = home.path().join("bamboost");
    std::fs::copy(env!("CARGO_BIN_EXE_bamboost"), &alone)?;
    let out = Command::new(&alone)
        .args(["ls", "ABCDEF1234", "--sync"])
        .env("HOME", home.path())
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("bamboost-hdf5") && message.contains("cargo install"),
        "{message}"
    );
    Ok(())
}
