//! The HDF5 layer on every rank: run by `cargo test` (one rank) and under `mpirun -np 1..4` by
//! `.ci/test`, which also runs it 20 times on 3 ranks for the queue scenarios.

use bamboost::h5::{AttrValue, File, OpenOptions, Transfer};
use bamboost::mpi::{self, CommSlot};
use bamboost::{Comm, Error};
use bamboost_tests::{Checks, ensure, ensure_eq, fail, shared_path};
use ndarray::{Array1, Array2, Array3, ArrayD};

/// A file path shared by all ranks, in a directory rank 0 made.
fn shared_file(c: &Comm, dir: &Option<tempfile::TempDir>, name: &str) -> Result<File, String> {
    let path = shared_path(c, dir.as_ref().map(|d| d.path()), name)?;
    Ok(File::new(path, CommSlot::new()))
}

/// A permutation of `0..n`, the same on every rank (a seeded LCG shuffle).
fn permutation(n: usize, seed: u64) -> Vec<u64> {
    let mut state = seed;
    let mut out: Vec<u64> = (0..n as u64).collect();
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.swap(i, (state >> 33) as usize % (i + 1));
    }
    out
}

fn value(row: u64, col: usize) -> f64 {
    row as f64 * 10.0 + col as f64
}

fn main() {
    // Scattered writes in many small rounds, so that the tests cover rounds; rank 0's value
    // counts. SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("BAMBOOST_SCATTER_ROUND_BYTES", "200") };
    let mut t = Checks::new("mpi_h5");
    let dir = (t.comm().rank() == 0).then(|| tempfile::tempdir().expect("temporary directory"));
    let repeat: usize = std::env::var("MPI_H5_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);

    t.check(
        "contiguous 1-D with uneven and empty ranks, read on every rank",
        |c| {
            let file = shared_file(c, &dir, "contiguous.h5")?;
            // Rank 1 has no rows; the others have rank + 1 rows.
            let rows = if c.rank() == 1 { 0 } else { c.rank() + 1 };
            let first: usize = (0..c.rank()).map(|r| if r == 1 { 0 } else { r + 1 }).sum();
            let local = Array1::from_iter((first..first + rows).map(|i| i as i64));
            let f = file.open_mut().map_err(fail)?;
            ensure_eq!(f.is_parallel(), c.size() > 1);
            f.root()
                .write_distributed_array("x", &local, None)
                .map_err(fail)?;
            f.close().map_err(fail)?;
            let f = file.open().map_err(fail)?;
            let all = f
                .root()
                .dataset("x")
                .map_err(fail)?
                .read::<i64>()
                .map_err(fail)?;
            let total: usize = (0..c.size()).map(|r| if r == 1 { 0 } else { r + 1 }).sum();
            ensure_eq!(
                all.into_raw_vec_and_offset().0,
                (0..total as i64).collect::<Vec<_>>()
            );
            f.close().map_err(fail)
        },
    );

    t.check("contiguous 3-D", |c| {
        let file = shared_file(c, &dir, "cube.h5")?;
        let r = c.rank();
        let local = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| {
            ((2 * r + i) * 100 + j * 10 + k) as f32
        });
        let f = file.open_mut().map_err(fail)?;
        f.root()
            .write_distributed_array("cube", &local, None)
            .map_err(fail)?;
        f.close().map_err(fail)?;
        let f = file.open().map_err(fail)?;
        let cube = f
            .root()
            .dataset("cube")
            .map_err(fail)?
            .read::<f32>()
            .map_err(fail)?;
        ensure_eq!(cube.shape(), &[2 * c.size(), 3, 2]);
        let expected =
            ArrayD::from_shape_fn(cube.shape(), |ix| (ix[0] * 100 + ix[1] * 10 + ix[2]) as f32);
        ensure_eq!(cube, expected);
        f.close().map_err(fail)
    });

    t.check(
        "scattered: random permutation, FEM-like interleaving, gaps, empty ranks",
        |c| {
            let file = shared_file(c, &dir, "scattered.h5")?;
            let f = file.open_mut().map_err(fail)?;
            let (rank, size) = (c.rank(), c.size());
            let n = 10 * size + 3;
            // 1. A random permutation split in uneven pieces.
            let perm = permutation(n, c.bcast(0x5eed_u64, 0).map_err(fail)?);
            let cuts: Vec<usize> = (0..=size).map(|r| r * r * n / (size * size)).collect();
            let mine = &perm[cuts[rank]..cuts[rank + 1]];
            let local = Array2::from_shape_fn((mine.len(), 3), |(i, j)| value(mine[i], j));
            f.root()
                .write_distributed_array("perm", &local, Some(mine))
                .map_err(fail)?;
            // 2. Interleaved owners, as a round-robin degree-of-freedom map, given in reverse.
            let owned: Vec<u64> = (0..n as u64)
                .rev()
                .filter(|i| *i as usize % size == rank)
                .collect();
            let local = Array1::from_iter(owned.iter().map(|&i| i as u32));
            f.root()
                .write_distributed_array("interleaved", &local, Some(&owned))
                .map_err(fail)?;
            // 3. Gaps (every third row is missing) and the last rank has nothing.
            let gappy: Vec<u64> = (0..n as u64)
                .filter(|i| i % 3 != 1 && *i as usize % size == rank && rank + 1 != size.max(2))
                .collect();
            let local = Array3::from_shape_fn((gappy.len(), 2, 2), |(i, j, k)| {
                gappy[i] as f64 + (j * 2 + k) as f64 / 10.0
            });
            f.root()
                .write_distributed_array("gaps", &local, Some(&gappy))
                .map_err(fail)?;
            f.close().map_err(fail)?;

            let f = file.open().map_err(fail)?;
            let perm = f
                .root()
                .dataset("perm")
                .map_err(fail)?
                .read::<f64>()
                .map_err(fail)?;
            ensure_eq!(perm.shape(), &[n, 3]);
            ensure!(
                perm.indexed_iter()
                    .all(|(ix, v)| *v == value(ix[0] as u64, ix[1])),
                "perm rows out of place"
            );
            let interleaved = f
                .root()
                .dataset("interleaved")
                .map_err(fail)?
                .read::<u32>()
                .map_err(fail)?;
            ensure_eq!(
                interleaved.into_raw_vec_and_offset().0,
                (0..n as u32).collect::<Vec<_>>()
            );
            let gaps = f
                .root()
                .dataset("gaps")
                .map_err(fail)?
                .read::<f64>()
                .map_err(fail)?;
            let given: Vec<u64> = c.allgather(gappy).map_err(fail)?.concat();
            let len = given.iter().max().map_or(0, |m| m + 1) as usize;
            ensure_eq!(gaps.shape(), &[len, 2, 2]);
            for row in 0..len as u64 {
                let expected_given = given.contains(&row);
                let v = gaps[[row as usize, 1, 1]];
                if expected_given {
                    ensure_eq!(v, row as f64 + 0.3);
                } else {
                    ensure!(
                        v.is_nan(),
                        "row {row} was never written and must read as NaN, got {v}"
                    );
                }
            }
            f.close().map_err(fail)
        },
    );

    t.check("errors reach every rank and leave the file usable", |c| {
        let file = shared_file(c, &dir, "errors.h5")?;
        let f = file.open_mut().map_err(fail)?;
        let width = if c.rank() == 0 { 2 } else { 3 };
        let local = Array2::<f64>::zeros((1, width));
        match f.root().write_distributed_array("bad", &local, None) {
            Err(Error::Shape { .. }) if c.size() > 1 => {}
            Ok(_) if c.size() == 1 => {}
            other => {
                return Err(format!(
                    "expected a shape error on every rank, got {:?}",
                    other.map(|_| ())
                ));
            }
        }
        // A valid array first: the failing write below must leave it as it was.
        let own = [c.rank() as u64];
        f.root()
            .write_distributed_array("dup", &Array1::from(vec![7.0]), Some(&own))
            .map_err(fail)?;
        let dup = [0u64];
        match f
            .root()
            .write_distributed_array("dup", &Array1::from(vec![1.0]), Some(&dup))
        {
            Err(Error::Shape { message, .. }) if c.size() > 1 => {
                ensure!(message.contains("global row 0"), "{message}")
            }
            Ok(_) if c.size() == 1 => {}
            other => {
                return Err(format!(
                    "expected a duplicate error, got {:?}",
                    other.map(|_| ())
                ));
            }
        }
        if c.size() > 1 && c.rank() == 0 {
            let inside = mpi::self_scope(|| f.root().create_group("alone").map(|_| ()));
            ensure!(
                matches!(inside, Err(Error::NotCollective { .. })),
                "a collective call in a root-only scope must be refused: {inside:?}"
            );
        }
        f.root()
            .write_distributed_array("good", &Array1::from(vec![c.rank() as u8]), None)
            .map_err(fail)?;
        let kept = f
            .root()
            .dataset("dup")
            .map_err(fail)?
            .read::<f64>()
            .map_err(fail)?;
        // On one rank the second write was valid and replaced the first.
        let expected = if c.size() == 1 { 1.0 } else { 7.0 };
        ensure_eq!(kept.into_raw_vec_and_offset().0, vec![expected; c.size()]);
        let names = f.root().datasets().map_err(fail)?;
        ensure!(
            names.iter().all(|n| !n.contains("partial")),
            "a failed write leaves nothing behind: {names:?}"
        );
        f.close().map_err(fail)
    });

    t.check(
        "a file that is not HDF5 fails to open on every rank and is left as it was",
        |c| {
            let file = shared_file(c, &dir, "notes.h5")?;
            let text = "these are notes, not HDF5\n".repeat(50);
            if c.rank() == 0 {
                std::fs::write(file.path(), &text).map_err(fail)?;
            }
            c.barrier();
            for write in [false, true] {
                // The last rank starts waiting late: every rank must still give up together
                // (one retrying the collective open alone would hang).
                if c.size() > 1 && c.rank() == c.size() - 1 {
                    std::thread::sleep(std::time::Duration::from_millis(1500));
                }
                let opened = if write {
                    file.open_mut().map(drop)
                } else {
                    file.open().map(drop)
                };
                ensure!(
                    matches!(opened, Err(Error::Hdf5 { .. })),
                    "write {write}: expected an HDF5 error, got {opened:?}"
                );
            }
            c.barrier();
            ensure_eq!(std::fs::read_to_string(file.path()).map_err(fail)?, text);
            Ok(())
        },
    );

    t.check(
        "a dataset write over a group is refused on every rank and keeps the group",
        |c| {
            let file = shared_file(c, &dir, "group-kept.h5")?;
            let f = file.open_mut().map_err(fail)?;
            f.root()
                .create_group("x")
                .and_then(|g| g.create_group("inner"))
                .map_err(fail)?;
            let local = Array1::from(vec![c.rank() as f64; 2]);
            let contiguous = f.root().write_distributed_array("x", &local, None);
            ensure!(
                matches!(contiguous, Err(Error::AlreadyExists { .. })),
                "contiguous: {contiguous:?}"
            );
            let rows: Vec<u64> = vec![2 * c.rank() as u64 + 1, 2 * c.rank() as u64];
            let scattered = f.root().write_distributed_array("x", &local, Some(&rows));
            ensure!(
                matches!(scattered, Err(Error::AlreadyExists { .. })),
                "scattered: {scattered:?}"
            );
            // Root-only: queued while the file is open in parallel, refused when applied.
            let queued = f.root().add_dataset("x", &local);
            let closed = f.close();
            let refused = if c.size() > 1 { closed } else { queued };
            ensure!(
                matches!(refused, Err(Error::AlreadyExists { .. })),
                "add_dataset: {refused:?}"
            );
            let f = file.open().map_err(fail)?;
            ensure!(
                f.root().group("x").map_err(fail)?.contains("inner"),
                "the group and its contents are kept"
            );
            f.close().map_err(fail)
        },
    );

    t.check("atomic mode and independent transfer", |c| {
        let file = shared_file(c, &dir, "atomic.h5")?;
        let f = file
            .open_mut_with(
                &OpenOptions::new()
                    .atomic(true)
                    .transfer(Transfer::Independent),
            )
            .map_err(fail)?;
        ensure_eq!(f.atomic().map_err(fail)?, c.size() > 1);
        // In atomic mode, every rank sees the others' independent writes once they are done.
        let local = Array1::from(vec![c.rank() as u64; 2]);
        f.root()
            .write_distributed_array("ranks", &local, None)
            .map_err(fail)?;
        c.barrier();
        let read = f
            .root()
            .dataset("ranks")
            .map_err(fail)?
            .read::<u64>()
            .map_err(fail)?;
        ensure_eq!(
            read.into_raw_vec_and_offset().0,
            (0..c.size() as u64)
                .flat_map(|r| [r, r])
                .collect::<Vec<_>>()
        );
        f.set_atomic(false).map_err(fail)?;
        ensure_eq!(f.atomic().map_err(fail)?, false);
        f.close().map_err(fail)?;
        // Atomic mode survives the upgrade of a read-only open to a writable one.
        let reader = file
            .open_with(&OpenOptions::new().atomic(true))
            .map_err(fail)?;
        let writer = file.open_mut().map_err(fail)?;
        ensure_eq!(writer.atomic().map_err(fail)?, c.size() > 1);
        writer.close().map_err(fail)?;
        reader.close().map_err(fail)
    });

    t.check(
        "resizable datasets: a root-only resize is applied after the parallel close",
        |c| {
            let file = shared_file(c, &dir, "resize.h5")?;
            let f = file.open_mut().map_err(fail)?;
            let energy = f
                .root()
                .create_resizable_dataset::<f64>("energy", &[1])
                .map_err(fail)?;
            energy.resize(&[4]).map_err(fail)?;
            f.close().map_err(fail)?;
            let f = file.open().map_err(fail)?;
            ensure_eq!(
                f.root()
                    .dataset("energy")
                    .map_err(fail)?
                    .shape()
                    .map_err(fail)?,
                vec![4]
            );
            f.close().map_err(fail)
        },
    );

    for round in 0..repeat {
        t.check(
            &format!("queued metadata while the file is held open in parallel (round {round})"),
            |c| {
                // Python 0.14 deadlocks here: a step is added while the file is open with MPI-IO.
                let file = shared_file(c, &dir, &format!("held-{round}.h5"))?;
                let outer = file.open_mut().map_err(fail)?;
                for step in 0..3u32 {
                    let inner = file.open_mut().map_err(fail)?;
                    let steps = inner.root().require_group("data").map_err(fail)?;
                    steps
                        .set_attr(&format!("step{step}"), f64::from(step) * 0.5)
                        .map_err(fail)?;
                    steps
                        .add_dataset(
                            &format!("scalar{step}"),
                            &Array1::from(vec![f64::from(step)]),
                        )
                        .map_err(fail)?;
                    let field = steps
                        .write_distributed_array(
                            &format!("field{step}"),
                            &Array1::from(vec![c.rank() as f64; 2]),
                            None,
                        )
                        .map_err(fail)?;
                    field.set_attr("type", "Node").map_err(fail)?;
                    if c.size() > 1 {
                        ensure!(
                            steps.attr(&format!("step{step}")).is_err(),
                            "queued while open in parallel"
                        );
                    }
                    inner.close().map_err(fail)?;
                }
                outer.close().map_err(fail)?;
                // Right after the collective close, every rank sees everything (Python 0.14 has a
                // KeyError race here on 3 ranks).
                let f = file.open().map_err(fail)?;
                let steps = f.root().group("data").map_err(fail)?;
                for step in 0..3u32 {
                    ensure_eq!(
                        steps.attr(&format!("step{step}")).map_err(fail)?,
                        AttrValue::Float(f64::from(step) * 0.5)
                    );
                    let scalar = steps
                        .dataset(&format!("scalar{step}"))
                        .map_err(fail)?
                        .read::<f64>()
                        .map_err(fail)?;
                    ensure_eq!(scalar.into_raw_vec_and_offset().0, vec![f64::from(step)]);
                    let field = steps.dataset(&format!("field{step}")).map_err(fail)?;
                    ensure_eq!(
                        field.attr("type").map_err(fail)?,
                        AttrValue::Str("Node".into())
                    );
                    ensure_eq!(field.shape().map_err(fail)?, vec![2 * c.size()]);
                }
                f.close().map_err(fail)
            },
        );
    }

    t.finish();
}
