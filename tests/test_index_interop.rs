//! The SQLite index shared with Python bamboost 0.14.0, both ways: the file
//! `~/.local/share/bamboost/bamboost.0.11.sqlite` that Python writes is read by
//! [`bamboost::index::Index`], and the file this crate writes is read by Python's index API.
//!
//! The Python interpreter is `BAMBOOST_PYTHON`, else `target/pyenv/bin/python`;
//! `.ci/install.sh` creates that virtual environment with `bamboost==0.14.0`. Every Python run
//! gets a temporary `HOME`, so its default index is `<home>/.local/share/bamboost/
//! bamboost.0.11.sqlite` and its default search path is `<home>`; the Rust index here opens
//! that same file.
//!
//! - Python writes (`python/index_write_collection.py`): collections, records, parameters of
//!   every kind, tags, statuses, links, SQL filters and sorts, read here without a sync; a
//!   sync afterwards adds nothing.
//! - This crate writes: `python/index_read.py` reads the index through `bamboost.index.Index`
//!   and `Collection(uid=...)` without syncing, and prints what it finds as JSON; the test
//!   compares with what it wrote.
//! - Both write the same file in turn, each syncing over the other's rows.
//! - Tags Python stored unsorted come back sorted, as `SimulationRecord::tags` promises, and
//!   the SQL tag filter agrees with the in-memory one on them.
//!
//! Both sides describe a collection with the same JSON (`python_view` and `rust_view` below),
//! values in one canonical form (`python/index_common.py` and `canonical` below).

use bamboost::collection::{Collection, Filter, NewSimulation, SimulationRecord};
use bamboost::config::IndexConfig;
use bamboost::h5::{ArrayData, AttrArray, AttrValue};
use bamboost::index::{Index, Link, Query};
use bamboost::simulation::{Parameter, Parameters, Status, StatusInfo};
use bamboost_tests::{run_python, run_python_file};
use ndarray::{ArrayD, IxDyn};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// --- running Python bamboost -------------------------------------------------------------------

fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("no JSON from python ({e}): {text}"))
}

// --- the shared index file ---------------------------------------------------------------------

/// Python bamboost's default index inside `home`.
fn database_file(home: &Path) -> PathBuf {
    home.join(".local/share/bamboost/bamboost.0.11.sqlite")
}

/// The index Python uses with `HOME=home`, searching `home` as Python does.
fn open_index(home: &Path) -> Index {
    Index::open(&IndexConfig::new(database_file(home), [home])).expect("open the shared index")
}

/// `name → modified_at` of the collection's rows, read with plain SQLite.
fn modified_at(home: &Path, uid: &str) -> BTreeMap<String, String> {
    let conn = rusqlite::Connection::open(database_file(home)).expect("open with rusqlite");
    let mut statement = conn
        .prepare("SELECT name, modified_at FROM simulations WHERE collection_uid = ?1")
        .expect("prepare");
    statement
        .query_map([uid], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// SQLite's own checks of the file: structure and foreign keys.
fn assert_sound(home: &Path) {
    let conn = rusqlite::Connection::open(database_file(home)).expect("open with rusqlite");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .expect("foreign_key_check");
    assert_eq!(violations, 0, "rows pointing to missing rows");
}

// --- values as canonical JSON (the form of python/index_common.py) -----------------------------

/// Python's `datetime.isoformat()`.
fn isoformat(t: &chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

fn float(f: f64) -> Json {
    if f.is_nan() {
        json!("NaN")
    } else if f.is_infinite() {
        json!(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(f)
    }
}

/// Nested lists of `items` in the row-major `shape`.
fn nest(shape: &[usize], items: &mut impl Iterator<Item = Json>) -> Json {
    match shape.split_first() {
        None => items.next().unwrap_or(Json::Null),
        Some((&n, rest)) => Json::Array((0..n).map(|_| nest(rest, items)).collect()),
    }
}

fn array(a: &AttrArray) -> Json {
    let items: Vec<Json> = match &a.data {
        ArrayData::Bool(v) => v.iter().map(|x| json!(x)).collect(),
        ArrayData::Int(v) => v.iter().map(|x| json!(x)).collect(),
        ArrayData::Float(v) => v.iter().map(|x| float(*x)).collect(),
        ArrayData::Complex(v) => v
            .iter()
            .map(|(re, im)| json!({"complex": [re, im]}))
            .collect(),
        ArrayData::Str(v) => v.iter().map(|x| json!(x)).collect(),
        other => panic!("unexpected array {other:?}"),
    };
    nest(&a.shape, &mut items.into_iter())
}

fn value(v: &AttrValue) -> Json {
    match v {
        AttrValue::None => Json::Null,
        AttrValue::Bool(b) => json!(b),
        AttrValue::Int(i) => json!(i),
        AttrValue::Float(f) => float(*f),
        AttrValue::Str(s) => json!(s),
        AttrValue::DateTime(t) => json!({"datetime": isoformat(t)}),
        AttrValue::Complex { re, im } => json!({"complex": [re, im]}),
        AttrValue::Set(items) => Json::Array(items.iter().map(value).collect()),
        AttrValue::Array(a) => array(a),
        other => panic!("unexpected value {other:?}"),
    }
}

fn canonical(p: &Parameters) -> Json {
    Json::Object(
        p.iter()
            .map(|(k, v)| {
                let v = match v {
                    Parameter::Value(v) => value(v),
                    Parameter::Array(a) => array(a),
                    Parameter::Map(m) => canonical(m),
                };
                (k.to_owned(), v)
            })
            .collect(),
    )
}

// --- one collection as both sides see it -------------------------------------------------------

/// What `python/index_read.py` prints for collection `key` (UID or alias).
fn python_view(home: &Path, key: &str) -> Json {
    parse_json(&run_python_file(home, "index_read.py", &[key]))
}

fn simulation_json(record: &SimulationRecord) -> Json {
    // Sorted here: the order Python stores follows a set's (see
    // `tags_of_python_rows_come_back_sorted` for what this crate makes of it).
    let mut tags = record.tags.clone();
    tags.sort();
    json!({
        "parameters": canonical(&record.parameters),
        "tags": tags,
        "description": record.description,
        "status": record.status.to_string(),
        "created_at": record.created_at.as_ref().map(isoformat),
        "links": record.links,
    })
}

fn link_rows(links: &[Link], with_target: bool) -> Vec<Json> {
    let mut rows: Vec<Json> = links
        .iter()
        .map(|l| {
            if with_target {
                json!([l.source, l.name, l.target])
            } else {
                json!([l.source, l.name])
            }
        })
        .collect();
    rows.sort_by_key(|row| row.to_string());
    rows
}

/// The JSON of `python/index_read.py`, built from this crate's index (without syncing).
fn rust_view(index: &Index, key: &str) -> bamboost::Result<Json> {
    let entry = index.collection(key)?;
    let records = index.query(key, &Query::new())?;
    let mut simulations = serde_json::Map::new();
    let mut backlinks = serde_json::Map::new();
    for record in &records {
        simulations.insert(record.name.clone(), simulation_json(record));
        let found = index.backlinks(&format!("{}:{}", entry.uid, record.name))?;
        if !found.is_empty() {
            backlinks.insert(record.name.clone(), json!(link_rows(&found, false)));
        }
    }
    let opened = index.open_collection(key)?;
    let names = |records: Vec<SimulationRecord>| -> Vec<String> {
        let mut names: Vec<String> = records.into_iter().map(|r| r.name).collect();
        names.sort();
        names
    };
    let a_gt_1 = index.query(key, &Query::new().filter(Filter::gt("a", 1)))?;
    Ok(json!({
        "collection": {
            "uid": entry.uid,
            "path": entry.path.to_string_lossy(),
            "description": entry.description,
            "tags": entry.tags,
            "aliases": entry.aliases,
            "created_at": entry.created_at.as_ref().map(isoformat),
        },
        "simulations": simulations,
        "links": link_rows(&index.collection_links(key)?, true),
        "backlinks": backlinks,
        "opened": {
            "uid": opened.uid().as_str(),
            "path": opened.path().to_string_lossy(),
            "names": names(records),
            "a_gt_1": names(a_gt_1),
        },
    }))
}

fn names_of(records: &[SimulationRecord]) -> Vec<&str> {
    records.iter().map(|r| r.name.as_str()).collect()
}

// --- Python writes, this crate reads -----------------------------------------------------------

#[test]
fn an_index_written_by_python_reads_the_same_here() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("coll");
    let path_text = path.to_string_lossy().into_owned();
    let wrote = parse_json(&run_python_file(
        home.path(),
        "index_write_collection.py",
        &[&path_text],
    ));
    let uid = wrote["uid"].as_str().expect("the UID").to_owned();
    assert!(
        database_file(home.path()).is_file(),
        "python wrote no index"
    );

    // Opened without any scan or sync: everything below is what Python wrote.
    let index = open_index(home.path());
    let collections = index.collections()?;
    assert_eq!(collections.len(), 1, "{collections:?}");
    let entry = &collections[0];
    assert_eq!(entry.uid, uid);
    assert_eq!(entry.path, path);
    assert_eq!(entry.description, "written by python");
    assert_eq!(entry.tags, ["pyc"]);
    assert_eq!(entry.aliases, ["pyalias"]);
    assert!(entry.created_at.is_some(), "no creation time");
    assert_eq!(index.collection("PyAlias")?.uid, uid, "alias, any case");

    let records = index.query(&uid, &Query::new())?;
    assert_eq!(names_of(&records), ["sim1", "sim2", "target"]);
    for record in &records {
        let written = &wrote["written"][&record.name];
        assert_eq!(
            canonical(&record.parameters),
            written["parameters"],
            "parameters of {}",
            record.name
        );
        let mut tags = record.tags.clone();
        tags.sort();
        assert_eq!(json!(tags), written["tags"], "tags of {}", record.name);
        assert_eq!(json!(record.description), written["description"]);
        assert_eq!(json!(record.status.to_string()), written["status"]);
        assert_eq!(json!(record.links), written["links"]);
        assert!(
            record.created_at.is_some(),
            "{} has no created_at",
            record.name
        );
    }
    // The types behind the canonical JSON.
    let sim1 = index.simulation(&uid, "sim1")?;
    let p = &sim1.parameters;
    assert_eq!(p.value("a"), Some(&AttrValue::Int(2)));
    assert_eq!(p.value("b"), Some(&AttrValue::Float(2.5)));
    assert_eq!(p.value("s"), Some(&AttrValue::Str("héllo".into())));
    assert_eq!(p.value("flag"), Some(&AttrValue::Bool(true)));
    assert_eq!(p.value("none"), Some(&AttrValue::None));
    assert_eq!(p.value("lst"), Some(&AttrValue::from(vec![1_i64, 2, 3])));
    assert_eq!(p.value("strs"), Some(&AttrValue::from(vec!["p", "q"])));
    assert_eq!(p.value("arr"), Some(&AttrValue::from(vec![1.0, 2.0, 3.0])));
    assert_eq!(p.value("nested.k"), Some(&AttrValue::Int(1)));
    assert_eq!(p.value("nested.deep.z"), Some(&AttrValue::Str("v".into())));
    let when = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
        .and_then(|d| d.and_hms_micro_opt(11, 21, 40, 719_201))
        .expect("a valid date");
    assert_eq!(p.value("when"), Some(&AttrValue::DateTime(when)));
    assert_eq!(
        p.value("z"),
        Some(&AttrValue::Complex { re: 1.0, im: -2.0 })
    );
    assert_eq!(sim1.status, StatusInfo::new(Status::Finished));
    let sim2 = index.simulation(&uid, "sim2")?;
    assert_eq!(sim2.status.status, Status::Failed);
    assert_eq!(sim2.status.message.as_deref(), Some("boom"));

    // Python's own reading of its index is what this crate reads.
    assert_eq!(rust_view(&index, &uid)?, python_view(home.path(), &uid));

    // Links: the JSON column and the resolved `simulation_links` rows.
    let link = Link {
        name: "ref".into(),
        source: format!("{uid}:sim1"),
        target: format!("{uid}:target"),
    };
    assert_eq!(index.links(&format!("{uid}:sim1"))?, vec![link.clone()]);
    assert_eq!(index.backlinks(&format!("{uid}:target"))?, vec![link]);
    assert!(index.backlinks(&format!("{uid}:sim1"))?.is_empty());

    // SQL filters and sorts over Python's JSON values.
    let query = |filter: Filter| -> bamboost::Result<Vec<String>> {
        Ok(index
            .query(&uid, &Query::new().filter(filter))?
            .into_iter()
            .map(|r| r.name)
            .collect())
    };
    assert_eq!(query(Filter::gt("a", 1))?, ["sim1", "sim2"]);
    assert_eq!(query(Filter::le("b", 2.5))?, ["sim1", "target"]);
    assert_eq!(
        query(Filter::gt("b", 2))?,
        ["sim1", "sim2"],
        "int against real"
    );
    assert_eq!(query(Filter::eq("s", "héllo"))?, ["sim1"], "escaped text");
    assert_eq!(query(Filter::eq("flag", false))?, ["sim2"]);
    assert_eq!(query(Filter::eq("nested.k", 5))?, ["sim2"]);
    assert_eq!(query(Filter::eq("nested.deep.z", "v"))?, ["sim1"]);
    assert_eq!(query(Filter::eq("lst", vec![1_i64, 2, 3]))?, ["sim1"]);
    assert_eq!(query(Filter::eq("when", when))?, ["sim1"]);
    assert_eq!(
        query(Filter::eq("none", AttrValue::None))?,
        ["sim1", "sim2", "target"],
        "null or missing"
    );
    assert_eq!(query(Filter::eq("status", "failed"))?, ["sim2"]);
    assert_eq!(query(Filter::tags(["y"]))?, ["sim1", "sim2"]);
    assert_eq!(
        query(Filter::eq("links.ref", format!("{uid}:target").as_str()))?,
        ["sim1"]
    );
    assert_eq!(
        index.count(&uid, Some(Filter::eq("s", "world").or(Filter::eq("a", 1))))?,
        2
    );
    let by_b = index.query(&uid, &Query::new().sort("b", false).limit(2))?;
    assert_eq!(names_of(&by_b), ["sim2", "sim1"]);
    let sim2_parameters = Parameters::new()
        .with("a", 3)
        .with("b", 7.25)
        .with("s", "world")
        .with("flag", false)
        .with("nested", Parameters::new().with("k", 5));
    assert_eq!(
        index.duplicates(&uid, &sim2_parameters, &BTreeMap::new())?,
        ["sim2"]
    );

    // A sync adds nothing: every simulation is known. Python writes a row before it closes
    // the simulation's file, so each `data.h5` is newer than its row's `modified_at`; such a
    // simulation is read again (as Python's own next sync does), the others are unchanged.
    let report = index.sync(&uid, false)?;
    assert_eq!(report.added, 0, "{report:?}");
    assert_eq!(report.removed, 0, "{report:?}");
    assert_eq!(report.updated + report.unchanged, 3, "{report:?}");
    assert!(
        report.locked.is_empty() && report.invalid.is_empty(),
        "{report:?}"
    );
    // Read again from the files, the simulations are what Python wrote in the index.
    let synced = index.query(&uid, &Query::new())?;
    assert_eq!(
        synced.iter().map(simulation_json).collect::<Vec<_>>(),
        records.iter().map(simulation_json).collect::<Vec<_>>()
    );
    assert_eq!(index.links(&format!("{uid}:sim1"))?.len(), 1);
    assert_sound(home.path());
    Ok(())
}

/// `SimulationRecord::tags` are sorted, and the SQL filter agrees with the in-memory one,
/// also for rows Python wrote with its tags in another order. Python keeps the order it is
/// given (`["zeta", "alpha"]` here) in both `data.h5` and the index; this crate sorts the tags
/// it reads from `data.h5` and writes them sorted, but `Index::query` returns a Python row's
/// tags as stored, and `Filter::eq("tags", ...)` in SQL compares them in stored order.
#[test]
fn tags_of_python_rows_come_back_sorted() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("tagged");
    // `metadata["tags"] = ...` keeps the order given (`add(tags=...)` goes through a set).
    let uid = run_python(
        home.path(),
        &format!(
            r#"
from bamboost import Collection
c = Collection({path:?})
sim = c.add("s")
sim.metadata["tags"] = ["zeta", "alpha"]
print(c.uid)
"#,
            path = path.to_string_lossy()
        ),
    );
    let uid = uid.trim();
    let index = open_index(home.path());
    let record = index.simulation(uid, "s")?;
    assert_eq!(
        record.tags,
        ["alpha", "zeta"],
        "sorted, as `SimulationRecord::tags` promises"
    );
    let both = Filter::eq("tags", vec!["alpha", "zeta"]);
    let in_memory: Vec<String> = Collection::open(&path)?
        .filter(both.clone())
        .records()?
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(in_memory, ["s"]);
    let in_sql = index.query(uid, &Query::new().filter(both))?;
    assert_eq!(
        names_of(&in_sql),
        ["s"],
        "the SQL filter as the in-memory one"
    );
    Ok(())
}

// --- this crate writes, Python reads -----------------------------------------------------------

/// A collection like Python's of `index_write_collection.py`, written by this crate, plus
/// values only JSON tokens of Python carry (NaN, -Infinity). Returns it and the parameters of
/// each simulation.
fn write_rust_collection(
    path: &Path,
) -> bamboost::Result<(Collection, BTreeMap<String, Parameters>)> {
    let collection = Collection::open(path)?;
    let mut metadata = collection.metadata()?;
    metadata.set_description(Some("written by rust"));
    metadata.set_tags(["rsc"]);
    metadata.add_alias("rsalias");
    collection.save_metadata(&metadata)?;

    let when = chrono::NaiveDate::from_ymd_opt(2025, 3, 4)
        .and_then(|d| d.and_hms_micro_opt(5, 6, 7, 890_123))
        .expect("a valid date");
    let grid = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.5]).expect("2×2");
    let parameters = BTreeMap::from([
        (
            "target".to_owned(),
            Parameters::new()
                .with("a", 1)
                .with("b", 0.5)
                .with("s", "target"),
        ),
        (
            "sim1".to_owned(),
            Parameters::new()
                .with("a", 2)
                .with("b", 2.5)
                .with("s", "héllo \"quoted\"")
                .with("flag", true)
                .with("none", AttrValue::None)
                .with("lst", vec![1_i64, 2, 3])
                .with("strs", vec!["p", "q"])
                .with(
                    "arr",
                    Parameter::from(
                        ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, 2.0, 3.0]).expect("3"),
                    ),
                )
                .with(
                    "nested",
                    Parameters::new()
                        .with("k", 1)
                        .with("deep", Parameters::new().with("z", "v"))
                        .with("grid", Parameter::from(grid)),
                )
                .with("when", when)
                .with("z", AttrValue::Complex { re: 1.0, im: -2.0 })
                .with("ratio", f64::NAN)
                .with("low", f64::NEG_INFINITY)
                .with("big", 12_345_678_901_i64),
        ),
        (
            "sim2".to_owned(),
            Parameters::new()
                .with("a", 3)
                .with("b", 7.25)
                .with("s", "world")
                .with("flag", false)
                .with("nested", Parameters::new().with("k", 5)),
        ),
    ]);
    collection.add(
        NewSimulation::new()
            .name("target")
            .parameters(parameters["target"].clone())
            .tags(["t"])
            .description("the target"),
    )?;
    let sim1 = collection.add(
        NewSimulation::new()
            .name("sim1")
            .parameters(parameters["sim1"].clone())
            .tags(["y", "x"])
            .description("first")
            .link("ref", &format!("{}:target", collection.uid())),
    )?;
    sim1.run(|_| Ok::<(), bamboost::Error>(()))?;
    let sim2 = collection.add(
        NewSimulation::new()
            .name("sim2")
            .parameters(parameters["sim2"].clone())
            .tags(["y"]),
    )?;
    sim2.set_status(StatusInfo {
        status: Status::Failed,
        message: Some("boom".into()),
    })?;
    Ok((collection, parameters))
}

#[test]
fn an_index_written_here_reads_the_same_in_python() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let (collection, parameters) = write_rust_collection(&home.path().join("coll"))?;
    let uid = collection.uid().as_str().to_owned();
    let index = open_index(home.path());
    let found = index.scan()?;
    assert_eq!(found.len(), 1, "{found:?}");
    let report = index.sync(&uid, false)?;
    assert_eq!(report.added, 3, "{report:?}");
    let before = modified_at(home.path(), &uid);

    // By UID and by alias, through the index only.
    let python = python_view(home.path(), &uid);
    let by_alias = python_view(home.path(), "rsalias");
    assert_eq!(
        modified_at(home.path(), &uid),
        before,
        "python synced the collection again"
    );
    assert_eq!(python, by_alias);
    assert_eq!(python, rust_view(&index, &uid)?);

    // And it is what was written.
    assert_eq!(
        python["collection"],
        json!({
            "uid": uid,
            "path": collection.path().to_string_lossy(),
            "description": "written by rust",
            "tags": ["rsc"],
            "aliases": ["rsalias"],
            "created_at": python["collection"]["created_at"],
        })
    );
    assert!(python["collection"]["created_at"].is_string());
    for (name, written) in &parameters {
        assert_eq!(
            python["simulations"][name]["parameters"],
            canonical(written),
            "parameters of {name}"
        );
        assert!(python["simulations"][name]["created_at"].is_string());
    }
    let sims = &python["simulations"];
    assert_eq!(sims["sim1"]["tags"], json!(["x", "y"]));
    assert_eq!(sims["target"]["description"], "the target");
    assert_eq!(sims["target"]["status"], "initialized");
    assert_eq!(sims["sim1"]["status"], "finished");
    assert_eq!(sims["sim2"]["status"], "failed [boom]");
    assert_eq!(
        sims["sim1"]["links"],
        json!({"ref": format!("{uid}:target")})
    );
    assert_eq!(
        python["links"],
        json!([[format!("{uid}:sim1"), "ref", format!("{uid}:target")]])
    );
    assert_eq!(
        python["backlinks"],
        json!({"target": [[format!("{uid}:sim1"), "ref"]]})
    );
    assert_eq!(
        python["opened"],
        json!({
            "uid": uid,
            "path": collection.path().to_string_lossy(),
            "names": ["sim1", "sim2", "target"],
            "a_gt_1": ["sim1", "sim2"],
        })
    );
    Ok(())
}

// --- both write the same file ------------------------------------------------------------------

#[test]
fn python_and_rust_share_one_index() -> bamboost::Result<()> {
    let home = tempfile::tempdir().expect("a temporary directory");
    let path = home.path().join("shared");
    let path_text = path.to_string_lossy().into_owned();
    let wrote = parse_json(&run_python_file(
        home.path(),
        "index_write_collection.py",
        &[&path_text],
    ));
    let uid = wrote["uid"].as_str().expect("the UID").to_owned();
    // Python syncs: it reads every file again (each is newer than its row).
    run_python(
        home.path(),
        &format!("from bamboost import Collection\nCollection({path_text:?})"),
    );

    // This crate honours Python's `modified_at`: nothing changed since Python's sync.
    let index = open_index(home.path());
    let report = index.sync(&uid, false)?;
    assert_eq!(
        (
            report.added,
            report.updated,
            report.unchanged,
            report.removed
        ),
        (0, 0, 3, 0),
        "{report:?}"
    );

    // This crate adds a simulation, linked to one of Python's, and syncs it in.
    let collection = Collection::open_existing(&path, Default::default())?;
    collection.add(
        NewSimulation::new()
            .name("rust1")
            .parameters(
                Parameters::new()
                    .with("a", 10)
                    .with("b", 0.25)
                    .with("s", "rust")
                    .with("nested", Parameters::new().with("k", 7)),
            )
            .tags(["r"])
            .link("base", &format!("{uid}:sim1")),
    )?;
    let report = index.sync(&uid, false)?;
    assert_eq!(
        (report.added, report.updated, report.unchanged),
        (1, 0, 3),
        "{report:?}"
    );
    let rust1_modified = modified_at(home.path(), &uid).remove("rust1");
    assert!(rust1_modified.is_some(), "rust1 is not in the index");

    // Python opens the collection by UID (a sync over this crate's rows) and adds one more.
    run_python(
        home.path(),
        &format!(
            "from bamboost import Collection\n\
             c = Collection(uid={uid:?})\n\
             assert sorted(c.all_simulation_names()) == ['rust1', 'sim1', 'sim2', 'target']\n\
             c.add('py2', {{'a': 20, 's': 'py', 'nested': {{'k': 9}}}}, tags=['late'])\n"
        ),
    );
    assert_eq!(
        modified_at(home.path(), &uid).remove("rust1"),
        rust1_modified,
        "python read this crate's simulation again"
    );

    // This crate syncs again: Python's new simulation is known already (Python wrote its row),
    // read again at most; the other four are unchanged.
    let report = index.sync(&uid, false)?;
    assert_eq!((report.added, report.removed), (0, 0), "{report:?}");
    assert_eq!(report.updated + report.unchanged, 5, "{report:?}");
    assert!(report.unchanged >= 4, "{report:?}");

    // Both read the same five simulations from the file both wrote.
    let rust = rust_view(&index, &uid)?;
    assert_eq!(python_view(home.path(), &uid), rust);
    assert_eq!(
        rust["opened"]["names"],
        json!(["py2", "rust1", "sim1", "sim2", "target"])
    );
    assert_eq!(
        rust["simulations"]["rust1"]["parameters"],
        json!({"a": 10, "b": 0.25, "s": "rust", "nested": {"k": 7}})
    );
    assert_eq!(
        rust["simulations"]["py2"]["parameters"],
        json!({"a": 20, "s": "py", "nested": {"k": 9}})
    );
    assert_eq!(
        rust["backlinks"]["sim1"],
        json!([[format!("{uid}:rust1"), "base"]])
    );
    for (name, written) in wrote["written"].as_object().expect("an object") {
        assert_eq!(
            rust["simulations"][name]["parameters"], written["parameters"],
            "parameters of {name}"
        );
    }
    let high = index.query(&uid, &Query::new().filter(Filter::ge("nested.k", 7)))?;
    assert_eq!(names_of(&high), ["py2", "rust1"]);
    assert_sound(home.path());
    Ok(())
}
