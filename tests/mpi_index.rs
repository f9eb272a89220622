//! The index on every rank: run by `cargo test` (one rank) and under `mpirun -np 1..4` by
//! `.ci/test`. Only rank 0 opens the SQLite file; every rank must get the same answers
//! (errors included) without hanging.

use bamboost::Comm;
use bamboost::collection::{Collection, Filter, NewSimulation};
use bamboost::config::IndexConfig;
use bamboost::index::{Index, Link, Query, SyncReport};
use bamboost::mpi::{CommSlot, HasComm};
use bamboost::simulation::Parameters;
use bamboost_tests::{Checks, ensure, ensure_eq, fail, shared_path};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory path shared by all ranks, under a directory rank 0 made.
fn shared_dir(c: &Comm, dir: &Option<tempfile::TempDir>, name: &str) -> Result<PathBuf, String> {
    shared_path(c, dir.as_ref().map(|d| d.path()), name)
}

/// A collection at `path` with one simulation `s<n>` of parameter `n` for each of `ns`, made
/// collectively on the collection's communicator (every writer closed before returning).
fn sweep(path: &Path, comm: CommSlot, ns: &[i64]) -> Result<Collection, String> {
    let collection = Collection::open_with(path, comm).map_err(fail)?;
    for n in ns {
        collection
            .add(
                NewSimulation::new()
                    .name(&format!("s{n}"))
                    .parameters(Parameters::new().with("n", *n)),
            )
            .map_err(fail)?;
    }
    Ok(collection)
}

/// Fails unless `value` (shown with `Debug`) is the same on every rank of `c`.
fn same_everywhere(c: &Comm, what: &str, value: &impl std::fmt::Debug) -> Result<(), String> {
    let mine = format!("{value:?}");
    let all = c.allgather(mine.clone()).map_err(fail)?;
    ensure!(
        all.iter().all(|v| *v == mine),
        "{what} differs between ranks: {all:?}"
    );
    Ok(())
}

/// The names of `records`.
fn names(records: &[bamboost::collection::SimulationRecord]) -> Vec<String> {
    records.iter().map(|r| r.name.clone()).collect()
}

fn main() {
    let mut t = Checks::new("mpi_index");
    let dir = (t.comm().rank() == 0).then(|| tempfile::tempdir().expect("temporary directory"));

    t.check("collective scan and sync: one report on every rank", |c| {
        let tree = shared_dir(c, &dir, "scan/tree")?;
        let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1, 2, 3, 4, 5])?;
        let uid = collection.uid().as_str().to_owned();
        let db = shared_dir(c, &dir, "scan/index.sqlite")?;
        let index = Index::open(&IndexConfig::new(&db, [&tree])).map_err(fail)?;
        ensure_eq!(HasComm::comm(&index).size(), c.size());

        let found = index.scan().map_err(fail)?;
        same_everywhere(c, "scan", &found)?;
        ensure_eq!(found.len(), 1);
        ensure_eq!(found[0].uid, uid);
        ensure_eq!(found[0].path, tree.join("sweep"));
        ensure_eq!(index.collections().map_err(fail)?, found);
        ensure_eq!(index.collection(&uid).map_err(fail)?, found[0]);

        let report = index.sync(&uid, false).map_err(fail)?;
        same_everywhere(c, "first sync", &report)?;
        ensure_eq!(
            report,
            SyncReport {
                added: 5,
                ..SyncReport::default()
            }
        );
        let again = index.sync(&uid, false).map_err(fail)?;
        same_everywhere(c, "second sync", &again)?;
        ensure_eq!(
            again,
            SyncReport {
                unchanged: 5,
                ..SyncReport::default()
            }
        );
        let forced = index.sync(&uid, true).map_err(fail)?;
        same_everywhere(c, "forced sync", &forced)?;
        ensure_eq!(
            forced,
            SyncReport {
                updated: 5,
                ..SyncReport::default()
            }
        );

        // The file rank 0 wrote holds the rows, read here without bamboost.
        let rows = c
            .bcast_from(0, || -> Result<i64, String> {
                let conn = rusqlite::Connection::open(&db).map_err(fail)?;
                conn.query_row(
                    "SELECT count(*) FROM simulations WHERE collection_uid = ?1",
                    [&uid],
                    |row| row.get(0),
                )
                .map_err(fail)
            })
            .map_err(fail)??;
        ensure_eq!(rows, 5);
        Ok(())
    });

    t.check(
        "only rank 0 opens the SQLite file and reports progress",
        |c| {
            let tree = shared_dir(c, &dir, "probe/tree")?;
            let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1, 2])?;
            let uid = collection.uid().as_str().to_owned();
            // Ranks name different files on purpose: only rank 0's may appear.
            let dbs = shared_dir(c, &dir, "probe/dbs")?;
            let settings =
                IndexConfig::new(dbs.join(format!("index-{}.sqlite", c.rank())), [&tree]);
            let calls = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&calls);
            let index = Index::open(&settings)
                .map_err(fail)?
                .with_progress(Arc::new(move |_| {
                    counter.fetch_add(1, Ordering::Relaxed);
                }));
            index.scan().map_err(fail)?;
            let report = index.sync(&uid, false).map_err(fail)?;
            ensure_eq!(report.added, 2);
            let files = c
                .bcast_from(0, || {
                    let mut files: Vec<String> = std::fs::read_dir(&dbs)
                        .map(|entries| {
                            entries
                                .flatten()
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    files.sort();
                    files
                })
                .map_err(fail)?;
            ensure_eq!(files, ["index-0.sqlite"]);
            let progress = calls.load(Ordering::Relaxed);
            if c.rank() == 0 {
                ensure!(progress > 0, "no progress reported on rank 0");
            } else {
                ensure_eq!(progress, 0);
            }
            Ok(())
        },
    );

    t.check("a query with filter, sort and limit on every rank", |c| {
        let tree = shared_dir(c, &dir, "query/tree")?;
        let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1, 2, 3, 4, 5, 6])?;
        let uid = collection.uid().as_str().to_owned();
        let db = shared_dir(c, &dir, "query/index.sqlite")?;
        let index = Index::open(&IndexConfig::new(&db, [&tree])).map_err(fail)?;
        // No scan first: the UID is found on the search paths.
        ensure_eq!(index.sync(&uid, false).map_err(fail)?.added, 6);

        let query = Query::new()
            .filter(Filter::gt("n", 2))
            .sort("n", false)
            .limit(3);
        let found = index.query(&uid, &query).map_err(fail)?;
        same_everywhere(c, "query", &found)?;
        ensure_eq!(names(&found), ["s6", "s5", "s4"]);
        let ns: Vec<Option<i64>> = found
            .iter()
            .map(|r| r.parameters.value("n").and_then(|v| v.as_i64()))
            .collect();
        ensure_eq!(ns, [Some(6), Some(5), Some(4)]);
        let ascending = index
            .query(
                &uid,
                &Query::new().filter(Filter::le("n", 3)).sort("n", true),
            )
            .map_err(fail)?;
        ensure_eq!(names(&ascending), ["s1", "s2", "s3"]);
        // Streaming: the callback runs on rank 0 only; every rank gets the count.
        let mut seen = Vec::new();
        let count = index
            .for_each_record(&uid, &query, |r| seen.push(r.name))
            .map_err(fail)?;
        ensure_eq!(count, 3);
        let expected: &[&str] = if c.rank() == 0 {
            &["s6", "s5", "s4"]
        } else {
            &[]
        };
        ensure_eq!(seen, expected);

        ensure_eq!(index.count(&uid, None).map_err(fail)?, 6);
        ensure_eq!(
            index.count(&uid, Some(Filter::gt("n", 2))).map_err(fail)?,
            4
        );
        let one = index.simulation(&uid, "s3").map_err(fail)?;
        ensure_eq!(one.parameters.value("n").and_then(|v| v.as_i64()), Some(3));
        let twins = index
            .duplicates(&uid, &Parameters::new().with("n", 4), &BTreeMap::new())
            .map_err(fail)?;
        ensure_eq!(twins, ["s4"]);
        Ok(())
    });

    t.check("errors on rank 0 are the same errors on every rank", |c| {
        let tree = shared_dir(c, &dir, "errors/tree")?;
        let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1])?;
        let uid = collection.uid().as_str().to_owned();
        let db = shared_dir(c, &dir, "errors/index.sqlite")?;
        let index = Index::open(&IndexConfig::new(&db, [&tree])).map_err(fail)?;

        // A well-formed UID that no collection has, then a key that is no UID at all.
        let unknown_uid = uid.chars().rev().collect::<String>();
        ensure!(unknown_uid != uid, "{uid} is a palindrome");
        for key in [unknown_uid.as_str(), "no-such-alias"] {
            let error = index.sync(key, false).err();
            same_everywhere(c, "sync error", &error)?;
            ensure!(
                matches!(&error, Some(bamboost::Error::UnknownCollection { key: k }) if k == key),
                "{error:?}"
            );
            let error = index.query(key, &Query::new()).err();
            same_everywhere(c, "query error", &error)?;
            ensure!(
                matches!(error, Some(bamboost::Error::UnknownCollection { .. })),
                "{error:?}"
            );
            let error = index.open_collection(key).err();
            same_everywhere(c, "open_collection error", &error)?;
            ensure!(
                matches!(error, Some(bamboost::Error::UnknownCollection { .. })),
                "{error:?}"
            );
            let error = index.drop_collection(key).err();
            ensure!(
                matches!(error, Some(bamboost::Error::UnknownCollection { .. })),
                "{error:?}"
            );
        }
        ensure_eq!(index.sync(&uid, false).map_err(fail)?.added, 1);
        let error = index.simulation(&uid, "nope").err();
        same_everywhere(c, "simulation error", &error)?;
        ensure!(
            matches!(&error, Some(bamboost::Error::NoSuchSimulation { name, .. }) if name == "nope"),
            "{error:?}"
        );
        // The ranks are still in step after the errors.
        ensure_eq!(index.count(&uid, None).map_err(fail)?, 1);

        // A file that is no SQLite database fails at open, on every rank.
        let garbage = shared_dir(c, &dir, "errors/garbage.sqlite")?;
        if c.rank() == 0 {
            std::fs::write(&garbage, "this is not a database, just text".repeat(100))
                .map_err(fail)?;
        }
        c.barrier();
        let error = Index::open(&IndexConfig::new(&garbage, [&tree])).err();
        same_everywhere(c, "open error", &error)?;
        ensure!(
            matches!(error, Some(bamboost::Error::NotAnIndex { .. })),
            "{error:?}"
        );
        Ok(())
    });

    t.check("an index on each rank's self communicator", |c| {
        // Every rank has its own collection and index file: no rank waits for another.
        let base = shared_dir(c, &dir, &format!("own-{}", c.rank()))?;
        let ns: Vec<i64> = (0..=c.rank() as i64).collect();
        let slot = CommSlot::with(Comm::self_comm());
        let collection = sweep(&base.join("tree/sweep"), slot.clone(), &ns)?;
        let uid = collection.uid().as_str().to_owned();
        let settings = IndexConfig::new(base.join("index.sqlite"), [base.join("tree")]);
        let index = Index::open_with(&settings, slot).map_err(fail)?;
        ensure_eq!(HasComm::comm(&index).size(), 1);
        let found = index.scan().map_err(fail)?;
        ensure_eq!(found.len(), 1);
        ensure_eq!(found[0].uid, uid);
        let report = index.sync(&uid, false).map_err(fail)?;
        ensure_eq!(report.added, c.rank() + 1);
        let all = index
            .query(&uid, &Query::new().sort("n", true))
            .map_err(fail)?;
        let expected: Vec<String> = ns.iter().map(|n| format!("s{n}")).collect();
        ensure_eq!(names(&all), expected);
        // An error on this rank stays on this rank.
        let error = index.collection("no-such-alias").err();
        ensure!(
            matches!(error, Some(bamboost::Error::UnknownCollection { .. })),
            "{error:?}"
        );
        ensure!(base.join("index.sqlite").is_file(), "no index file");
        // Every rank's UID is its own.
        let uids = c.allgather(uid.clone()).map_err(fail)?;
        let mut distinct = uids.clone();
        distinct.sort();
        distinct.dedup();
        ensure_eq!(distinct.len(), c.size());
        Ok(())
    });

    t.check(
        "a collection opened through the index, added to and synced",
        |c| {
            let tree = shared_dir(c, &dir, "nested/tree")?;
            let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1, 2, 3])?;
            let uid = collection.uid().as_str().to_owned();
            let mut metadata = collection.metadata().map_err(fail)?;
            metadata.add_alias("Nested-Sweep");
            collection.save_metadata(&metadata).map_err(fail)?;
            drop(collection);
            let db = shared_dir(c, &dir, "nested/index.sqlite")?;
            let index = Index::open(&IndexConfig::new(&db, [&tree])).map_err(fail)?;
            // Found by its alias, case-insensitively, with a scan.
            let entry = index.collection("nested-sweep").map_err(fail)?;
            ensure_eq!(entry.uid, uid);
            ensure_eq!(entry.aliases, ["Nested-Sweep"]);
            ensure_eq!(index.sync("NESTED-SWEEP", false).map_err(fail)?.added, 3);

            let opened = index.open_collection("nested-sweep").map_err(fail)?;
            ensure_eq!(opened.uid().as_str(), uid);
            ensure_eq!(HasComm::comm(&opened).size(), c.size());
            let writer = opened
                .add(
                    NewSimulation::new()
                        .name("late")
                        .parameters(Parameters::new().with("n", 7)),
                )
                .map_err(fail)?;
            drop(writer);
            ensure_eq!(opened.len().map_err(fail)?, 4);

            let report = index.sync(&uid, false).map_err(fail)?;
            same_everywhere(c, "sync after add", &report)?;
            ensure_eq!(
                report,
                SyncReport {
                    added: 1,
                    unchanged: 3,
                    ..SyncReport::default()
                }
            );
            let late = index
                .query(&uid, &Query::new().filter(Filter::gt("n", 3)))
                .map_err(fail)?;
            same_everywhere(c, "query after add", &late)?;
            ensure_eq!(names(&late), ["late"]);
            ensure_eq!(index.count(&uid, None).map_err(fail)?, 4);
            Ok(())
        },
    );

    t.check("links and maintenance answer the same on every rank", |c| {
        let tree = shared_dir(c, &dir, "links/tree")?;
        let collection = sweep(&tree.join("sweep"), CommSlot::new(), &[1, 2])?;
        let uid = collection.uid().as_str().to_owned();
        let base = format!("{uid}:s1");
        collection
            .add(NewSimulation::new().name("t").link("base", &base))
            .map_err(fail)?;
        let gone = Collection::open(tree.join("gone")).map_err(fail)?;
        let gone_uid = gone.uid().as_str().to_owned();
        drop(gone);
        let outside = Collection::open(shared_dir(c, &dir, "links/outside")?).map_err(fail)?;
        let outside_uid = outside.uid().as_str().to_owned();

        let db = shared_dir(c, &dir, "links/index.sqlite")?;
        let index = Index::open(&IndexConfig::new(&db, [&tree])).map_err(fail)?;
        ensure_eq!(index.scan().map_err(fail)?.len(), 2);
        let added = index.add_collection(outside.path()).map_err(fail)?;
        ensure_eq!(added.uid, outside_uid);
        ensure_eq!(index.sync(&uid, false).map_err(fail)?.added, 3);

        let expected = vec![Link {
            name: "base".into(),
            source: format!("{uid}:t"),
            target: base.clone(),
        }];
        let links = index.links(&format!("{uid}:t")).map_err(fail)?;
        same_everywhere(c, "links", &links)?;
        ensure_eq!(links, expected);
        ensure_eq!(index.backlinks(&base).map_err(fail)?, expected);
        ensure_eq!(index.collection_links(&uid).map_err(fail)?, expected);

        ensure!(
            index.drop_simulation(&uid, "s2").map_err(fail)?,
            "s2 not dropped"
        );
        ensure!(
            !index.drop_simulation(&uid, "s2").map_err(fail)?,
            "s2 dropped twice"
        );
        ensure_eq!(index.count(&uid, None).map_err(fail)?, 2);

        // A collection directory removed on disk is cleaned out of the index.
        if c.rank() == 0 {
            std::fs::remove_dir_all(tree.join("gone")).map_err(fail)?;
        }
        c.barrier();
        let removed = index.check_integrity().map_err(fail)?;
        same_everywhere(c, "check_integrity", &removed)?;
        let removed: Vec<&str> = removed.iter().map(|e| e.uid.as_str()).collect();
        ensure_eq!(removed, [gone_uid.as_str()]);

        let dropped = index.drop_collection(&outside_uid).map_err(fail)?;
        ensure_eq!(dropped.uid, outside_uid);
        let left: Vec<String> = index
            .collections()
            .map_err(fail)?
            .into_iter()
            .map(|e| e.uid)
            .collect();
        same_everywhere(c, "collections", &left)?;
        ensure_eq!(left, [uid]);
        Ok(())
    });

    t.finish();
}
