//! Collections on every rank: run by `cargo test` (one rank) and under `mpirun -np 1..4` by
//! `.ci/test`.

use bamboost::Comm;
use bamboost::collection::{Collection, YamlValue};
use bamboost::mpi::CommSlot;
use bamboost_tests::{Checks, ensure, ensure_eq, fail, shared_path};
use std::path::PathBuf;

/// A directory path shared by all ranks, under a directory rank 0 made.
fn shared_dir(c: &Comm, dir: &Option<tempfile::TempDir>, name: &str) -> Result<PathBuf, String> {
    shared_path(c, dir.as_ref().map(|d| d.path()), name)
}

fn main() {
    let mut t = Checks::new("mpi_collection");
    let dir = (t.comm().rank() == 0).then(|| tempfile::tempdir().expect("temporary directory"));

    t.check("a new collection has one UID on every rank", |c| {
        let path = shared_dir(c, &dir, "new")?;
        let collection = Collection::open(&path).map_err(fail)?;
        let uids = c.allgather(collection.uid().clone()).map_err(fail)?;
        ensure!(uids.iter().all(|u| u == collection.uid()), "uids {uids:?}");
        // Exactly one identifier file, whatever the number of ranks.
        let files = c
            .bcast_from(0, || {
                std::fs::read_dir(&path)
                    .map(|entries| entries.count())
                    .unwrap_or(0)
            })
            .map_err(fail)?;
        ensure_eq!(files, 1);
        let again = Collection::open(&path).map_err(fail)?;
        ensure_eq!(again.uid(), collection.uid());
        Ok(())
    });

    t.check("metadata saved on rank 0 is read on every rank", |c| {
        let path = shared_dir(c, &dir, "meta")?;
        let collection = Collection::open(&path).map_err(fail)?;
        let mut metadata = collection.metadata().map_err(fail)?;
        // Ranks disagree on purpose: only rank 0's value is written.
        metadata.set_description(Some(&format!("written by rank {}", c.rank())));
        metadata.set("ranks", YamlValue::from(c.size() as u64));
        collection.save_metadata(&metadata).map_err(fail)?;
        let read = collection.metadata().map_err(fail)?;
        ensure_eq!(read.description(), Some("written by rank 0".to_string()));
        ensure_eq!(read.get("ranks"), Some(&YamlValue::from(c.size() as u64)));
        ensure_eq!(read.uid(), Some(collection.uid().as_str().to_string()));
        Ok(())
    });

    t.check(
        "simulation names and a missing collection on every rank",
        |c| {
            let path = shared_dir(c, &dir, "sims")?;
            let collection = Collection::open(&path).map_err(fail)?;
            if c.rank() == 0 {
                for name in ["b", "a"] {
                    std::fs::create_dir_all(path.join(name)).map_err(fail)?;
                    std::fs::write(path.join(name).join("data.h5"), b"").map_err(fail)?;
                }
            }
            c.barrier();
            ensure_eq!(collection.simulation_names().map_err(fail)?, ["a", "b"]);
            let missing = shared_dir(c, &dir, "missing")?;
            let error = Collection::open_existing(&missing, CommSlot::new()).err();
            ensure!(
                matches!(error, Some(bamboost::Error::NotACollection { .. })),
                "{error:?}"
            );
            Ok(())
        },
    );

    t.check(
        "the collection's communicator is the one it was given",
        |c| {
            let path = shared_dir(c, &dir, "self")?;
            // Every rank its own collection on `self_comm`: no rank waits for another.
            let path = path.join(format!("rank-{}", c.rank()));
            let collection =
                Collection::open_with(&path, CommSlot::with(Comm::self_comm())).map_err(fail)?;
            ensure_eq!(collection.comm_slot().get().size(), 1);
            let uids = c.allgather(collection.uid().clone()).map_err(fail)?;
            let mut unique = uids.clone();
            unique.sort();
            unique.dedup();
            ensure_eq!(unique.len(), c.size());
            Ok(())
        },
    );

    t.finish();
}
