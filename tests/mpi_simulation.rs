//! Simulations on every rank: run by `cargo test` (one rank) and under `mpirun -np 1..4` by
//! `.ci/test`, which also runs the series check 20 times in a row on 3 ranks
//! (`MPI_SIMULATION_SERIES_ONLY=1`).

use bamboost::Comm;
use bamboost::collection::{Collection, NewSimulation};
use bamboost::mpi::CommSlot;
use bamboost::simulation::{CellType, FieldOptions, NodeNumbering, Parameters, Status};
use bamboost_tests::{Checks, ensure, ensure_eq, fail, shared_path};
use ndarray::{Array1, Array2, arr1};
use std::path::PathBuf;

/// A directory path shared by all ranks, under a directory rank 0 made.
fn shared_dir(c: &Comm, dir: &Option<tempfile::TempDir>, name: &str) -> Result<PathBuf, String> {
    shared_path(c, dir.as_ref().map(|d| d.path()), name)
}

/// A 3-step series with a node field (rows rank after rank), a cell field through a dof map
/// and globals, checked on every rank.
fn series_check(c: &Comm, path: PathBuf) -> Result<(), String> {
    let collection = Collection::open(&path).map_err(fail)?;
    let sim = collection.add(NewSimulation::new()).map_err(fail)?;
    let (rank, size) = (c.rank(), c.size());
    let mut series = sim.data().map_err(fail)?;
    for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
        // Ranks disagree on the value on purpose: rank 0 decides.
        let step = series
            .require_step(Some(t + rank as f64), None)
            .map_err(fail)?;
        ensure_eq!(step.number(), i);
        ensure_eq!(step.value(), t);
        // Rank r holds r + 1 rows of value 100 i + r.
        let rows = Array1::from_elem(rank + 1, 100.0 * i as f64 + rank as f64);
        step.add_field("u", &rows, FieldOptions::new())
            .map_err(fail)?;
        // One cell per rank, stored in reverse rank order.
        let index = [(size - 1 - rank) as u64];
        step.add_field(
            "c",
            &arr1(&[rank as f64]),
            FieldOptions::new().cell().indices(&index),
        )
        .map_err(fail)?;
        step.add_scalar("energy", i as f64 * 2.0).map_err(fail)?;
        step.add_global("pair", vec![i as f64, -(i as f64)], vec![2])
            .map_err(fail)?;
    }
    ensure_eq!(series.len().map_err(fail)?, 3);
    ensure_eq!(series.values().map_err(fail)?, [0.0, 0.5, 1.0]);
    let u = series.read_field::<f64>("u", -1).map_err(fail)?;
    let expected: Vec<f64> = (0..size)
        .flat_map(|r| std::iter::repeat_n(200.0 + r as f64, r + 1))
        .collect();
    ensure_eq!(u.iter().copied().collect::<Vec<_>>(), expected);
    let cells = series.read_field::<f64>("c", 0).map_err(fail)?;
    let reversed: Vec<f64> = (0..size).rev().map(|r| r as f64).collect();
    ensure_eq!(cells.iter().copied().collect::<Vec<_>>(), reversed);
    let globals = series.globals().map_err(fail)?;
    ensure_eq!(
        globals["energy"].iter().copied().collect::<Vec<_>>(),
        [0.0, 2.0, 4.0]
    );
    ensure_eq!(globals["pair"].shape(), [3, 2]);
    Ok(())
}

fn main() {
    let mut t = Checks::new("mpi_simulation");
    let dir = (t.comm().rank() == 0).then(|| tempfile::tempdir().expect("temporary directory"));

    if std::env::var_os("MPI_SIMULATION_SERIES_ONLY").is_some() {
        t.check("3-step series with fields and globals", |c| {
            series_check(c, shared_dir(c, &dir, "series")?)
        });
        t.finish();
    }

    t.check("collective add: one generated name on every rank", |c| {
        let collection = Collection::open(shared_dir(c, &dir, "add")?).map_err(fail)?;
        let sim = collection.add(NewSimulation::new()).map_err(fail)?;
        let names = c.allgather(sim.name().to_owned()).map_err(fail)?;
        ensure!(names.iter().all(|n| n == sim.name()), "names {names:?}");
        let uids = c.allgather(sim.uid()).map_err(fail)?;
        ensure!(uids.iter().all(|u| *u == sim.uid()), "uids {uids:?}");
        ensure_eq!(collection.len().map_err(fail)?, 1);
        ensure_eq!(sim.status().map_err(fail)?.status, Status::Initialized);
        Ok(())
    });

    t.check("parameters written by rank 0 are read on every rank", |c| {
        let collection = Collection::open(shared_dir(c, &dir, "params")?).map_err(fail)?;
        let params = Parameters::new()
            .with("rank", c.rank() as i64)
            .with("nested", Parameters::new().with("a", 1.5));
        let sim = collection
            .add(NewSimulation::new().name("p").parameters(params))
            .map_err(fail)?;
        sim.set_parameter("nested.b", "x".into()).map_err(fail)?;
        let read = sim.parameters().map_err(fail)?;
        ensure_eq!(read.value("rank").and_then(|v| v.as_i64()), Some(0));
        ensure_eq!(read.value("nested.a").and_then(|v| v.as_f64()), Some(1.5));
        ensure_eq!(read.value("nested.b").and_then(|v| v.as_str()), Some("x"));
        // A duplicate is refused on every rank.
        let again = collection.add(
            NewSimulation::new().parameters(
                Parameters::new()
                    .with("rank", 0)
                    .with("nested", Parameters::new().with("a", 1.5).with("b", "x")),
            ),
        );
        ensure!(
            matches!(again, Err(bamboost::Error::DuplicateSimulation { .. })),
            "{again:?}"
        );
        Ok(())
    });

    t.check("3-step series with fields and globals", |c| {
        series_check(c, shared_dir(c, &dir, "series")?)
    });

    t.check("a distributed mesh with local node numbers", |c| {
        let collection = Collection::open(shared_dir(c, &dir, "mesh")?).map_err(fail)?;
        let sim = collection
            .add(NewSimulation::new().name("m"))
            .map_err(fail)?;
        // Each rank owns one triangle of its own three nodes, at x = rank.
        let x = c.rank() as f64;
        let nodes =
            Array2::from_shape_vec((3, 2), vec![x, 0.0, x + 1.0, 0.0, x, 1.0]).map_err(fail)?;
        let cells = Array2::from_shape_vec((1, 3), vec![0_i64, 1, 2]).map_err(fail)?;
        sim.add_mesh(
            "default",
            nodes.view(),
            cells.view(),
            CellType::Triangle,
            NodeNumbering::Local,
        )
        .map_err(fail)?;
        let mesh = sim.mesh("default").map_err(fail)?;
        ensure_eq!(mesh.coordinates.nrows(), 3 * c.size());
        for r in 0..c.size() {
            let first = 3 * r as i64;
            ensure_eq!(mesh.topology.row(r).to_vec(), [first, first + 1, first + 2]);
            ensure_eq!(mesh.coordinates[[3 * r, 0]], r as f64);
        }
        Ok(())
    });

    t.check("a run failing on one rank fails on every rank", |c| {
        let collection = Collection::open(shared_dir(c, &dir, "run")?).map_err(fail)?;
        let sim = collection
            .add(NewSimulation::new().name("r"))
            .map_err(fail)?;
        let last = c.size() - 1;
        let result = sim.run(|_| {
            if c.rank() == last {
                Err("diverged")
            } else {
                Ok(())
            }
        });
        ensure!(
            matches!(result, Err(bamboost::Error::RunFailed { .. })),
            "{result:?}"
        );
        let status = sim.status().map_err(fail)?;
        ensure_eq!(status.status, Status::Failed);
        let message = status.message.unwrap_or_default();
        ensure!(message.contains("diverged"), "{message}");
        Ok(())
    });

    t.check(
        "a collection's communicator reaches its simulations and files",
        |c| {
            // Every rank has its own collection on the self communicator: no rank waits for another.
            let slot = CommSlot::with(Comm::self_comm());
            let path = shared_dir(c, &dir, &format!("own-{}", c.rank()))?;
            let collection = Collection::open_with(&path, slot).map_err(fail)?;
            let sim = collection
                .add(NewSimulation::new().name("solo"))
                .map_err(fail)?;
            ensure_eq!(bamboost::mpi::HasComm::comm(&sim).size(), 1);
            ensure_eq!(bamboost::mpi::HasComm::comm(sim.file()).size(), 1);
            let mut series = sim.data().map_err(fail)?;
            let step = series.require_step(Some(1.0), None).map_err(fail)?;
            step.add_field("u", &arr1(&[c.rank() as f64]), FieldOptions::new())
                .map_err(fail)?;
            ensure_eq!(
                series
                    .read_field::<f64>("u", 0)
                    .map_err(fail)?
                    .into_raw_vec_and_offset()
                    .0,
                [c.rank() as f64]
            );
            Ok(())
        },
    );

    t.finish();
}
