//! The SQLite index on one process: the behaviours of Python bamboost's
//! `tests/index/test_index_*.py`, plus what 0.14 gets wrong (stale parameter keys, one damaged
//! simulation breaking a whole collection, `clean` dropping collections outside the search
//! paths, aliases in `drop`), on real SQLite files and real collections.

use bamboost::Error;
use bamboost::collection::{Collection, Filter, NewSimulation};
use bamboost::config::IndexConfig;
use bamboost::h5::AttrValue;
use bamboost::index::{Index, Query};
use bamboost::simulation::{Parameter, Parameters};
use bamboost_tests::hold_file;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn index_in(dir: &Path) -> Index {
    Index::open(&IndexConfig::new(dir.join("index.sqlite"), [dir])).expect("open the index")
}

fn sql(dir: &Path, query: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(dir.join("index.sqlite")).expect("open with rusqlite");
    let mut statement = conn.prepare(query).expect("prepare");
    let columns = statement.column_count();
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                        rusqlite::types::ValueRef::Integer(v) => format!("int:{v}"),
                        rusqlite::types::ValueRef::Real(v) => format!("real:{v}"),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        rusqlite::types::ValueRef::Blob(_) => "blob".to_owned(),
                    })
                })
                .collect()
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A collection of people with assorted parameter types.
fn people(dir: &Path) -> bamboost::Result<Collection> {
    let collection = Collection::open(dir.join("people"))?;
    for (name, first, age, tags) in [
        ("john", "John", Some(20), vec!["a"]),
        ("jane", "Jane", Some(30), vec!["a", "b"]),
        ("jack", "Jack", Some(40), vec!["b"]),
        ("anon", "Anon", None, vec![]),
    ] {
        let mut params = Parameters::new()
            .with("first_name", first)
            .with("list", AttrValue::from(vec![1_i64, 2, 3]))
            .with(
                "solver",
                Parameters::new().with("tol", 1e-6).with("kind", "cg"),
            );
        if let Some(age) = age {
            params.insert("age", age);
        }
        // Strings stored with JSON escapes, and an infinite number (text in the index).
        match name {
            "john" => params.insert("city", "Zurich"),
            "jane" => params.insert("city", "Zürich"),
            "anon" => params.insert("city", "say \"hi\""),
            _ => params.insert("limit", f64::INFINITY),
        };
        if name == "jack" {
            params.insert("list", AttrValue::from(vec![1_i64, 2]));
            params.insert("flag", true);
            params.insert("ratio", f64::NAN);
        }
        collection.add(
            NewSimulation::new()
                .name(name)
                .parameters(params)
                .tags(tags)
                .description(&format!("{first}'s run")),
        )?;
    }
    Ok(collection)
}

#[test]
fn a_new_index_has_python_bamboosts_tables() -> TestResult {
    let dir = tempfile::tempdir()?;
    let _index = index_in(dir.path());
    let tables = sql(
        dir.path(),
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    let tables: Vec<&str> = tables.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        tables,
        [
            "collections",
            "parameters",
            "simulation_links",
            "simulations"
        ]
    );
    let ddl = sql(
        dir.path(),
        "SELECT sql FROM sqlite_master WHERE name = 'simulations'",
    );
    assert!(ddl[0][0].contains("CONSTRAINT uix_collection_name UNIQUE (collection_uid, name)"));
    // The indexes for queries, beyond Python's schema.
    let indexes = sql(
        dir.path(),
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%' ORDER BY name",
    );
    let indexes: Vec<&str> = indexes.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        indexes,
        [
            "ix_parameters_lookup",
            "ix_parameters_value",
            "ix_simulations_listing"
        ]
    );
    let memory = Index::open(&IndexConfig::new(":memory:", [dir.path()]))?;
    assert!(memory.collections()?.is_empty());
    Ok(())
}

#[test]
fn an_old_schema_gets_its_missing_columns() -> TestResult {
    let dir = tempfile::tempdir()?;
    let conn = rusqlite::Connection::open(dir.path().join("index.sqlite"))?;
    conn.execute_batch(
        "CREATE TABLE collections (uid VARCHAR NOT NULL PRIMARY KEY, path VARCHAR NOT NULL);
         CREATE TABLE simulations (id INTEGER NOT NULL PRIMARY KEY, collection_uid VARCHAR, name VARCHAR NOT NULL,
           created_at DATETIME NOT NULL, modified_at DATETIME NOT NULL);
         INSERT INTO collections VALUES ('ABCDEF1234', '/old');",
    )?;
    drop(conn);
    let index = index_in(dir.path());
    let columns = sql(
        dir.path(),
        "SELECT name FROM pragma_table_info('simulations')",
    );
    let columns: Vec<&str> = columns.iter().map(|r| r[0].as_str()).collect();
    for column in ["tags", "status", "submitted", "links", "description"] {
        assert!(columns.contains(&column), "{column} missing: {columns:?}");
    }
    let kept = index.collections()?;
    assert_eq!(kept[0].uid, "ABCDEF1234");
    assert_eq!(kept[0].aliases, Vec::<String>::new());
    Ok(())
}

#[test]
fn a_corrupted_or_foreign_file_is_a_clear_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("index.sqlite"),
        "this is not a database, just text".repeat(100),
    )?;
    let err = Index::open(&IndexConfig::new(
        dir.path().join("index.sqlite"),
        [dir.path()],
    ))
    .expect_err("garbage is refused");
    assert!(matches!(err, Error::NotAnIndex { .. }), "{err}");
    assert!(
        err.to_string().contains("bamboost scan"),
        "says how to rebuild: {err}"
    );
    let foreign = dir.path().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)?.execute_batch("CREATE TABLE invoices (id INTEGER)")?;
    let err = Index::open(&IndexConfig::new(&foreign, [dir.path()])).expect_err("foreign");
    assert!(
        matches!(err, Error::NotAnIndex { .. }) && err.to_string().contains("invoices"),
        "{err}"
    );
    // The foreign file is untouched.
    let conn = rusqlite::Connection::open(&foreign)?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    assert_eq!(tables, 1);
    Ok(())
}

#[test]
fn scan_finds_collections_with_their_metadata_and_skips_excluded_dirs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = Collection::open(dir.path().join("a"))?;
    let b = Collection::open(dir.path().join("deep/er/b"))?;
    let hidden = Collection::open(dir.path().join("node_modules/c"))?;
    let mut metadata = a.metadata()?;
    metadata.set_description(Some("first"));
    metadata.set_tags(["x", "y", "x"]);
    metadata.add_alias("Alias-One");
    a.save_metadata(&metadata)?;
    let index = index_in(dir.path());
    let found = index.scan()?;
    let mut uids: Vec<&str> = found.iter().map(|e| e.uid.as_str()).collect();
    uids.sort();
    let mut expected = vec![a.uid().as_str(), b.uid().as_str()];
    expected.sort();
    assert_eq!(uids, expected);
    assert!(!uids.contains(&hidden.uid().as_str()));
    let entry = index.collection(a.uid().as_str())?;
    assert_eq!(entry.description, "first");
    assert_eq!(entry.tags, ["x", "y"]);
    assert_eq!(entry.aliases, ["Alias-One"]);
    assert!(
        entry.created_at.is_some(),
        "created_at from the identifier file"
    );
    // Aliases resolve case-insensitively; the path comes back.
    assert_eq!(index.collection("alias-one")?.path, a.path());
    assert_eq!(
        index.collection(&b.uid().as_str().to_lowercase())?.path,
        b.path()
    );
    let err = index.collection("nope").expect_err("unknown");
    assert!(matches!(err, Error::UnknownCollection { .. }), "{err}");
    Ok(())
}

#[test]
fn a_uid_missing_from_the_index_is_found_on_disk_and_a_moved_collection_follows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = Collection::open(dir.path().join("a"))?;
    let index = index_in(dir.path());
    // Not scanned: resolved by walking the search paths, then recorded.
    assert_eq!(index.collection(a.uid().as_str())?.path, a.path());
    assert_eq!(index.collections()?.len(), 1);
    std::fs::rename(dir.path().join("a"), dir.path().join("moved"))?;
    assert_eq!(
        index.collection(a.uid().as_str())?.path,
        dir.path().join("moved")
    );
    assert_eq!(index.collections()?.len(), 1, "upserted, not duplicated");
    let err = index.add_collection(&dir.path().join("empty-dir-that-does-not-exist"));
    assert!(matches!(err, Err(Error::NotACollection { .. })), "{err:?}");
    Ok(())
}

#[test]
fn sync_stores_simulations_as_python_does_and_reads_only_changed_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let people = people(dir.path())?;
    let index = index_in(dir.path());
    let uid = people.uid().as_str();
    let report = index.sync(uid, false)?;
    assert_eq!((report.added, report.updated, report.unchanged), (4, 0, 0));
    let rows = sql(
        dir.path(),
        "SELECT s.name, p.\"key\", p.value, typeof(p.value) FROM parameters p JOIN simulations s \
         ON s.id = p.simulation_id WHERE s.name = 'jack' ORDER BY p.\"key\"",
    );
    let rows: Vec<String> = rows
        .iter()
        .map(|r| format!("{}={} ({})", r[1], r[2], r[3]))
        .collect();
    assert_eq!(
        rows,
        [
            "age=int:40 (integer)",
            "first_name=\"Jack\" (text)",
            "flag=true (text)",
            "limit=Infinity (text)",
            "list=[1, 2] (text)",
            "ratio=NaN (text)",
            "solver={\"kind\": \"cg\", \"tol\": 1e-06} (text)",
        ]
    );
    let sims = sql(
        dir.path(),
        "SELECT description, tags, status, submitted, links, created_at FROM simulations WHERE name = 'jane'",
    );
    assert_eq!(
        sims[0][..5],
        [
            "Jane's run",
            "[\"a\", \"b\"]",
            "initialized",
            "int:0",
            "NULL"
        ]
    );
    assert_eq!(
        sims[0][5].len(),
        "2026-11-21 11:21:40.771003".len(),
        "{}",
        sims[0][5]
    );

    // Nothing changed: no file is read.
    let again = index.sync(uid, false)?;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 4));
    // One file changes, one simulation goes away, a parameter key is removed.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let jane = people.simulation("jane")?.edit();
    jane.set_parameters(&Parameters::new().with("age", 31).with("first_name", "Jane"))?;
    let file = jane.file().open_mut()?;
    file.root().group(".parameters")?.delete_attr("list")?;
    file.close()?;
    people.delete(vec!["john".into()])?;
    let report = index.sync(uid, false)?;
    assert_eq!(
        (report.updated, report.removed, report.unchanged),
        (1, 1, 2)
    );
    let jane = index.simulation(uid, "jane")?;
    assert_eq!(jane.parameters.value("age"), Some(&AttrValue::Int(31)));
    assert_eq!(
        jane.parameters.get("list"),
        None,
        "a key deleted from the file leaves the index"
    );
    assert!(matches!(
        index.simulation(uid, "john"),
        Err(Error::NoSuchSimulation { .. })
    ));
    let full = index.sync(uid, true)?;
    assert_eq!(full.updated, 3);
    Ok(())
}

#[test]
fn damaged_and_locked_simulations_are_reported_and_the_rest_indexed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let collection = Collection::open(dir.path().join("c"))?;
    for name in ["good", "nolinks", "oddtime", "locked"] {
        collection.add(
            NewSimulation::new()
                .name(name)
                .parameters(Parameters::new().with("which", name)),
        )?;
    }
    let broken = collection.simulation("nolinks")?;
    broken.file().open_mut()?.root().delete(".links")?;
    collection
        .simulation("oddtime")?
        .edit()
        .set_metadata("created_at", AttrValue::Str("last tuesday".into()))?;
    let holder = hold_file(
        env!("CARGO_BIN_EXE_mpi-scenario"),
        &collection.path().join("locked/data.h5"),
        5.0,
    );
    let index = index_in(dir.path());
    let report = index.sync(collection.uid().as_str(), false)?;
    drop(holder);
    assert_eq!(report.added, 1);
    assert_eq!(report.locked, ["locked"]);
    let invalid: Vec<&str> = report.invalid.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(invalid, ["nolinks", "oddtime"]);
    assert!(
        report.invalid[0].1.contains(".links"),
        "{:?}",
        report.invalid
    );
    // Once released, the next sync picks the locked one up.
    let later = index.sync(collection.uid().as_str(), false)?;
    assert_eq!(later.added, 1);
    assert_eq!(index.count(collection.uid().as_str(), None)?, 2);
    Ok(())
}

/// Queries give the records the files hold, whole or streamed, and as flattened rows.
#[test]
fn query_records_equal_the_files_for_small_and_large_results() -> TestResult {
    let dir = tempfile::tempdir()?;
    let collection = Collection::open(dir.path().join("many"))?;
    for i in 0..100_i64 {
        collection.add(
            NewSimulation::new().name(&format!("s{i:03}")).parameters(
                Parameters::new()
                    .with("i", i)
                    // Not whole: SQLite stores 2.0 as the integer 2 (see `Index::query`).
                    .with("half", i as f64 / 2.0 + 0.25)
                    .with("word", ["a", "ä", "\"q\""][i as usize % 3])
                    .with(
                        "grid",
                        Parameters::new()
                            .with("n", i % 7)
                            // Envelopes inside a nested map stay values.
                            .with(
                                "when",
                                chrono::NaiveDate::from_ymd_opt(2024, 1, 1 + (i % 28) as u32)
                                    .and_then(|d| d.and_hms_opt(12, 0, 0))
                                    .ok_or("date")?,
                            )
                            .with(
                                "z",
                                bamboost::h5::AttrValue::Complex {
                                    re: 1.0,
                                    im: i as f64,
                                },
                            ),
                    )
                    .with("loads", vec![1.0, i as f64]),
            ),
        )?;
    }
    let index = index_in(dir.path());
    let uid = collection.uid().as_str();
    index.sync(uid, false)?;
    for filter in [
        None,
        Some(Filter::ge("i", 30)),
        Some(Filter::eq("i", 3).or(Filter::eq("i", 90))),
        Some(Filter::eq("word", "ä")),
        Some(Filter::eq("grid.n", 2)),
    ] {
        let mut query = Query::new().sort("name", true);
        let mut in_memory = collection.sort("name", true);
        if let Some(filter) = &filter {
            query = query.filter(filter.clone());
            in_memory = in_memory.filter(filter.clone());
        }
        let from_index = index.query(uid, &query)?;
        let from_files = in_memory.records()?;
        assert!(!from_files.is_empty(), "{filter:?}");
        assert_eq!(from_index.len(), from_files.len(), "{filter:?}");
        for (a, b) in from_index.iter().zip(&from_files) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.parameters, b.parameters, "{}", a.name);
            assert_eq!(a.created_at, b.created_at, "{}", a.name);
        }
        // Streaming gives the same records in the same order.
        let mut streamed = Vec::new();
        let count = index.for_each_record(uid, &query, |r| streamed.push(r))?;
        assert_eq!(count, streamed.len());
        assert_eq!(streamed, from_index, "{filter:?}");
        // Rows give the same simulations, their parameters flattened.
        let mut rows = Vec::new();
        let count = index.for_each_row(uid, &query, |row| {
            let mut parameters = row.parameters().to_vec();
            parameters.sort_by(|a, b| a.0.cmp(&b.0));
            rows.push((
                row.name().to_owned(),
                row.status().clone(),
                row.created_at(),
                parameters,
            ));
        })?;
        assert_eq!(count, from_index.len());
        let expected: Vec<_> = from_index
            .iter()
            .map(|r| {
                let flat = r.parameters.flatten().into_iter().collect::<Vec<_>>();
                (r.name.clone(), r.status.clone(), r.created_at, flat)
            })
            .collect();
        assert_eq!(rows, expected, "{filter:?}");
    }
    // The callback cannot use the index it is called from: an error, not a deadlock.
    let mut inner = Vec::new();
    index.for_each_record(uid, &Query::new().limit(2), |_| {
        inner.push(index.count(uid, None));
    })?;
    assert_eq!(inner.len(), 2);
    for result in inner {
        let err = result.expect_err("re-entered");
        assert!(matches!(err, Error::Index { .. }), "{err}");
        assert!(err.to_string().contains("for_each_record"), "{err}");
    }
    assert_eq!(index.count(uid, None)?, 100, "usable again afterwards");
    // A panicking callback stops the reading (done on a helper thread) and leaves the index
    // usable; the panic reaches the caller.
    let mut seen = 0;
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        index.for_each_row(uid, &Query::new().sort("name", true), |row| {
            seen += 1;
            assert_ne!(row.name(), "s010", "stop here");
        })
    }));
    assert!(stopped.is_err());
    assert_eq!(seen, 11);
    assert_eq!(index.count(uid, None)?, 100, "usable after a panic");
    Ok(())
}

/// Every filter gives the same simulations through SQL as in memory.
#[test]
fn sql_filters_and_sorting_agree_with_the_in_memory_evaluation() -> TestResult {
    let dir = tempfile::tempdir()?;
    let people = people(dir.path())?;
    let index = index_in(dir.path());
    let uid = people.uid().as_str();
    index.sync(uid, false)?;
    let filters = [
        Filter::eq("age", 30),
        Filter::eq("age", 30.0),
        Filter::ne("age", 30),
        Filter::gt("age", 25),
        Filter::le("age", 30).or(Filter::eq("first_name", "Jack")),
        Filter::ge("age", 20).and(Filter::lt("age", 40)).not(),
        Filter::eq("first_name", "Jane"),
        Filter::gt("first_name", "Jack"),
        Filter::eq("age", "30"),
        Filter::eq("solver.kind", "cg"),
        Filter::lt("solver.tol", 1e-3),
        Filter::eq("list", AttrValue::from(vec![1_i64, 2, 3])),
        Filter::eq("list", AttrValue::from(vec![1.0, 2.0])),
        Filter::ne("list", AttrValue::from(vec![1_i64, 2, 3])),
        Filter::eq("flag", true),
        Filter::eq("age", AttrValue::None),
        Filter::ne("age", AttrValue::None),
        Filter::eq("ratio", f64::NAN),
        Filter::ne("ratio", 1.0),
        Filter::tags(["a"]),
        Filter::tags(["a", "b"]),
        Filter::eq(
            "tags",
            AttrValue::from(vec!["b".to_owned(), "a".to_owned()]),
        ),
        Filter::ne("tags", AttrValue::from(vec!["a".to_owned()])),
        Filter::eq("name", "anon"),
        Filter::eq("status", "initialized"),
        Filter::eq("missing", 1),
        Filter::And(vec![]),
        Filter::eq("city", "Zurich"),
        Filter::eq("city", "Zürich"),
        Filter::ne("city", "Zürich"),
        Filter::eq("city", "say \"hi\""),
        Filter::gt("city", "Z"),
        Filter::gt("limit", 1e300),
        Filter::lt("limit", 0),
        Filter::eq("limit", f64::INFINITY),
        Filter::eq("first_name", 1),
        // Comparisons SQLite answers from the value index, alone and combined.
        Filter::ge("age", 30),
        Filter::gt("age", 25.5),
        Filter::ge("limit", 0),
        Filter::eq("age", 40).and(Filter::gt("limit", 0)),
        Filter::gt("age", 25).not(),
        Filter::gt("age", 35).or(Filter::eq("name", "anon")),
        Filter::gt("age", 25).and(Filter::eq("first_name", "Jane")),
    ];
    for filter in filters {
        let in_sql: Vec<String> = index
            .query(uid, &Query::new().filter(filter.clone()))?
            .into_iter()
            .map(|r| r.name)
            .collect();
        let in_memory = people.filter(filter.clone()).simulation_names()?;
        assert_eq!(in_sql, in_memory, "{filter:?}");
    }
    for (key, ascending) in [
        ("age", true),
        ("age", false),
        ("first_name", true),
        ("solver.tol", false),
        // The default table order, which a listing reads from `ix_simulations_listing`.
        ("created_at", false),
        ("created_at", true),
    ] {
        let query = Query::new().sort(key, ascending);
        let in_sql: Vec<String> = index
            .query(uid, &query)?
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            in_sql,
            people.sort(key, ascending).simulation_names()?,
            "{key} {ascending}"
        );
        let mut rows = Vec::new();
        index.for_each_row(uid, &query, |row| rows.push(row.name().to_owned()))?;
        assert_eq!(rows, in_sql, "rows {key} {ascending}");
    }
    let limited = index.query(uid, &Query::new().sort("age", false).limit(2))?;
    let names: Vec<&str> = limited.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["jack", "jane"]);
    assert_eq!(index.count(uid, Some(Filter::gt("age", 25)))?, 2);
    // The stored-text shortcuts neither miss escaped strings nor infinite numbers.
    let names = |filter: Filter| -> bamboost::Result<Vec<String>> {
        let found = index.query(uid, &Query::new().filter(filter))?;
        Ok(found.into_iter().map(|r| r.name).collect())
    };
    assert_eq!(names(Filter::eq("city", "Zürich"))?, ["jane"]);
    assert_eq!(names(Filter::eq("city", "say \"hi\""))?, ["anon"]);
    assert_eq!(names(Filter::gt("limit", 1e300))?, ["jack"]);
    assert_eq!(names(Filter::ge("limit", 0))?, ["jack"]);
    assert_eq!(names(Filter::gt("age", 25).not())?, ["anon", "john"]);
    let records = index.query(uid, &Query::new().sort("name", true))?;
    let cities: Vec<Option<&AttrValue>> =
        records.iter().map(|r| r.parameters.value("city")).collect();
    let text = |s: &str| Some(AttrValue::Str(s.into()));
    assert_eq!(
        cities,
        [text("say \"hi\""), None, text("Zürich"), text("Zurich")]
            .iter()
            .map(Option::as_ref)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        records[1].parameters.value("limit"),
        Some(&AttrValue::Float(f64::INFINITY))
    );
    // Records from SQL carry the parameters as the file does.
    let jack = index.simulation(uid, "jack")?;
    assert_eq!(
        jack.parameters.value("solver.tol"),
        Some(&AttrValue::Float(1e-6))
    );
    assert_eq!(jack.tags, ["b"]);
    assert_eq!(jack.description, "Jack's run");
    Ok(())
}

#[test]
fn duplicates_are_found_by_query() -> TestResult {
    let dir = tempfile::tempdir()?;
    let people = people(dir.path())?;
    let index = index_in(dir.path());
    let uid = people.uid().as_str();
    index.sync(uid, false)?;
    let jane = people.simulation("jane")?.parameters()?;
    assert_eq!(index.duplicates(uid, &jane, &Default::default())?, ["jane"]);
    let mut fewer = jane.clone();
    fewer.insert("age", Parameter::Value(AttrValue::None));
    assert!(
        index
            .duplicates(uid, &fewer, &Default::default())?
            .is_empty(),
        "None is missing, not a wildcard"
    );
    let mut more = jane.clone();
    more.insert("extra", 1);
    assert!(
        index
            .duplicates(uid, &more, &Default::default())?
            .is_empty()
    );
    Ok(())
}

#[test]
fn links_backlinks_and_healing_of_stale_links() -> TestResult {
    let dir = tempfile::tempdir()?;
    let meshes = Collection::open(dir.path().join("meshes"))?;
    let runs = Collection::open(dir.path().join("runs"))?;
    let target = format!("{}:fine", meshes.uid());
    runs.add(NewSimulation::new().name("r1").link("mesh", &target))?;
    let index = index_in(dir.path());
    let runs_uid = runs.uid().as_str();
    index.sync(runs_uid, false)?;
    // The target is not indexed yet: the link is kept in JSON only.
    assert!(index.links(&format!("{runs_uid}:r1"))?.is_empty());
    let json = sql(
        dir.path(),
        "SELECT links FROM simulations WHERE name = 'r1'",
    );
    assert_eq!(json[0][0], format!("{{\"mesh\": \"{target}\"}}"));
    meshes.add(NewSimulation::new().name("fine"))?;
    index.sync(meshes.uid().as_str(), false)?;
    let links = index.links(&format!("{runs_uid}:r1"))?;
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].name.as_str(), links[0].target.as_str()),
        ("mesh", target.as_str())
    );
    assert_eq!(
        index.backlinks(&target)?[0].source,
        format!("{runs_uid}:r1")
    );
    assert_eq!(index.collection_links(runs_uid)?, links);
    // Dropping the target removes the relational row by cascade; the JSON stays.
    index.drop_simulation(meshes.uid().as_str(), "fine")?;
    assert!(index.links(&format!("{runs_uid}:r1"))?.is_empty());
    assert_eq!(index.simulation(runs_uid, "r1")?.links["mesh"], target);
    Ok(())
}

#[test]
fn drop_by_alias_and_integrity_keep_valid_collections_outside_the_search_paths() -> TestResult {
    let dir = tempfile::tempdir()?;
    let inside = dir.path().join("inside");
    let outside = tempfile::tempdir()?;
    let a = Collection::open(inside.join("a"))?;
    let b = Collection::open(inside.join("b"))?;
    let far = Collection::open(outside.path().join("far"))?;
    far.add(NewSimulation::new().name("s"))?;
    let mut metadata = b.metadata()?;
    metadata.add_alias("bee");
    b.save_metadata(&metadata)?;
    let index = Index::open(&IndexConfig::new(
        dir.path().join("index.sqlite"),
        [&inside],
    ))?;
    index.scan()?;
    index.add_collection(far.path())?;
    index.sync(far.uid().as_str(), false)?;
    std::fs::remove_dir_all(a.path())?;
    let removed = index.check_integrity()?;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].uid, a.uid().as_str());
    assert_eq!(
        index.count(far.uid().as_str(), None)?,
        1,
        "outside the search paths, still valid"
    );
    let dropped = index.drop_collection("BEE")?;
    assert_eq!(dropped.uid, b.uid().as_str());
    let left: Vec<String> = index.collections()?.into_iter().map(|c| c.uid).collect();
    assert_eq!(left, [far.uid().as_str()]);
    assert!(matches!(
        index.drop_collection("bee"),
        Err(Error::UnknownCollection { .. })
    ));
    Ok(())
}

/// Several processes add simulations to one collection and sync it at the same time.
#[test]
fn concurrent_processes_adding_and_syncing_lose_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let collection = Collection::open(dir.path().join("shared"))?;
    let db = dir.path().join("index.sqlite");
    let workers: Vec<std::process::Child> = (0..4)
        .map(|w| {
            std::process::Command::new(env!("CARGO_BIN_EXE_mpi-scenario"))
                .args([
                    "index-worker",
                    &collection.path().display().to_string(),
                    &db.display().to_string(),
                    &w.to_string(),
                    "15",
                ])
                .env("BAMBOOST_MPI", "0")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a worker")
        })
        .collect();
    for worker in workers {
        let output = worker.wait_with_output()?;
        assert!(
            output.status.success(),
            "a worker failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let shared = Index::open(&IndexConfig::new(&db, [dir.path()]))?;
    let uid = collection.uid().as_str();
    // Every worker synced after its last add: the shared index already holds everything.
    let before = shared.query(uid, &Query::new())?;
    assert_eq!(before.len(), 60);
    // And equals a fresh index built from the disk.
    let fresh = Index::open(&IndexConfig::new(
        dir.path().join("fresh.sqlite"),
        [dir.path()],
    ))?;
    fresh.sync(uid, false)?;
    assert_eq!(fresh.query(uid, &Query::new())?, before);
    Ok(())
}
