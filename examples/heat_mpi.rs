//! An explicit heat-equation solver on a partitioned mesh, writing its temperature field every
//! few steps through a degree-of-freedom map — the parallel bamboost workflow.
//!
//! `u_t = Δu` on the unit square, `u = 0` on the boundary, `u(x, y, 0) = sin(πx) sin(πy)`, on an
//! `N × N` grid of nodes. Each rank owns a block of grid rows (plus one ghost row on each side,
//! exchanged every step); the global node number of node `(i, j)` is `i * N + j` (column-major),
//! so a rank's nodes are scattered in the global numbering and its field rows go through a dof
//! map. The exact solution decays as `exp(-2π² t)`; the run checks it, then every rank reads
//! the last step back and compares it with its own values.
//!
//! ```text
//! CARGO_TARGET_DIR=target/mpi cargo build -p bamboost-examples --features mpi --example heat_mpi
//! mpirun -np 4 --oversubscribe target/mpi/debug/examples/heat_mpi [output directory]
//! ```
//!
//! It also runs serially. Open `<dir>/heat/data.xdmf` in ParaView.
#![deny(warnings)]

use bamboost::Comm;
use bamboost::collection::{Collection, NewSimulation};
use bamboost::mpi::op::Max;
use bamboost::simulation::{CellType, FieldOptions, NodeNumbering, Parameters};
use bamboost::xdmf::XdmfOptions;
use ndarray::{Array1, Array2};
use std::f64::consts::PI;

/// Nodes per side.
const N: usize = 33;
/// Time steps, and how often the field is written.
const STEPS: usize = 400;
const OUTPUT_EVERY: usize = 100;

/// The grid rows `j` rank `rank` owns.
fn owned_rows(rank: usize, size: usize) -> std::ops::Range<usize> {
    N * rank / size..N * (rank + 1) / size
}

/// Exchanges ghost rows with the neighbouring ranks: `u` holds the ghost row below at index 0,
/// the owned rows, and the ghost row above last.
fn exchange_ghosts(comm: &Comm, u: &mut Array2<f64>) -> bamboost::Result<()> {
    let (rank, size) = (comm.rank(), comm.size());
    let last = u.nrows() - 1;
    let first_owned = u.row(1).to_vec();
    let last_owned = u.row(last - 1).to_vec();
    // Even ranks send first, odd ranks receive first: no cycle of blocked sends.
    let send = || -> bamboost::Result<()> {
        if rank > 0 {
            comm.send(&first_owned, rank - 1, 0)?;
        }
        if rank + 1 < size {
            comm.send(&last_owned, rank + 1, 1)?;
        }
        Ok(())
    };
    let receive = |u: &mut Array2<f64>| -> bamboost::Result<()> {
        if rank + 1 < size {
            let above: Vec<f64> = comm.recv(rank + 1, 0)?;
            u.row_mut(last).assign(&Array1::from(above));
        }
        if rank > 0 {
            let below: Vec<f64> = comm.recv(rank - 1, 1)?;
            u.row_mut(0).assign(&Array1::from(below));
        }
        Ok(())
    };
    if rank % 2 == 0 {
        send()?;
        receive(u)
    } else {
        receive(u)?;
        send()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let comm = Comm::world();
    let (rank, size) = (comm.rank(), comm.size());
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("bamboost-heat"));
    let h = 1.0 / (N - 1) as f64;
    let dt = 0.2 * h * h;

    let collection = Collection::open(&dir)?;
    let sim = collection.add(
        NewSimulation::new()
            .name("heat")
            .parameters(
                Parameters::new()
                    .with("nodes_per_side", N as i64)
                    .with("dt", dt)
                    .with("steps", STEPS as i64)
                    .with("ranks", size as i64),
            )
            .description("explicit heat equation on the unit square")
            .override_existing(true),
    )?;

    // Owned nodes, their global numbers, coordinates and cells.
    let rows = owned_rows(rank, size);
    let global = |i: usize, j: usize| (i * N + j) as u64;
    let mut node_map = Vec::new();
    let mut coordinates = Vec::new();
    for j in rows.clone() {
        for i in 0..N {
            node_map.push(global(i, j));
            coordinates.extend([i as f64 * h, j as f64 * h]);
        }
    }
    let coordinates = Array2::from_shape_vec((node_map.len(), 2), coordinates)?;
    let mut cells = Vec::new();
    for j in rows.clone().filter(|&j| j + 1 < N) {
        for i in 0..N - 1 {
            let (a, b, c, d) = (
                global(i, j),
                global(i + 1, j),
                global(i + 1, j + 1),
                global(i, j + 1),
            );
            cells.extend([a, b, c, a, c, d].map(|n| n as i64));
        }
    }
    let cells = Array2::from_shape_vec((cells.len() / 3, 3), cells)?;

    // Local temperature with one ghost row below and above.
    let mut u = Array2::<f64>::zeros((rows.len() + 2, N));
    for (k, j) in rows.clone().enumerate() {
        for i in 0..N {
            u[[k + 1, i]] = (PI * i as f64 * h).sin() * (PI * j as f64 * h).sin();
        }
    }
    let owned = |u: &Array2<f64>| -> Array1<f64> {
        u.slice(ndarray::s![1..u.nrows() - 1, ..])
            .iter()
            .copied()
            .collect()
    };

    let mut numeric_max = 0.0;
    let mut exact_max = 0.0;
    sim.run(|sim| -> bamboost::Result<()> {
        sim.add_mesh(
            "default",
            coordinates.view(),
            cells.view(),
            CellType::Triangle,
            NodeNumbering::Mapped(&node_map),
        )?;
        let mut series = sim.data()?;
        for n in 0..=STEPS {
            if n % OUTPUT_EVERY == 0 {
                let t = n as f64 * dt;
                let values = owned(&u);
                numeric_max = comm.allreduce(values.iter().copied().fold(0.0, f64::max), Max)?;
                exact_max = (-2.0 * PI * PI * t).exp();
                let step = series.require_step(Some(t), None)?;
                step.add_field(
                    "temperature",
                    &values,
                    FieldOptions::new().indices(&node_map),
                )?;
                step.add_scalar("max_temperature", numeric_max)?;
                step.add_scalar("exact_max", exact_max)?;
            }
            if n == STEPS {
                break;
            }
            exchange_ghosts(&comm, &mut u)?;
            let old = u.clone();
            for (k, j) in rows.clone().enumerate() {
                if j == 0 || j == N - 1 {
                    continue;
                }
                for i in 1..N - 1 {
                    let r = k + 1;
                    let laplacian =
                        old[[r - 1, i]] + old[[r + 1, i]] + old[[r, i - 1]] + old[[r, i + 1]]
                            - 4.0 * old[[r, i]];
                    u[[r, i]] = old[[r, i]] + dt / (h * h) * laplacian;
                }
            }
        }
        Ok(())
    })?;
    let xdmf = sim.create_xdmf(&XdmfOptions::default())?;

    // Check: the decay matches the exact solution, and the stored field is this rank's field.
    let error = (numeric_max - exact_max).abs() / exact_max;
    assert!(error < 0.02, "max {numeric_max} vs exact {exact_max}");
    let series = sim.data()?;
    let stored = series.read_field::<f64>("temperature", -1)?;
    let mine = owned(&u);
    for (value, &index) in mine.iter().zip(&node_map) {
        assert_eq!(stored[index as usize], *value, "node {index}");
    }
    assert_eq!(series.len()?, STEPS / OUTPUT_EVERY + 1);
    if rank == 0 {
        println!(
            "heat equation on {N}x{N} nodes, {size} rank(s): {} outputs, max temperature {numeric_max:.5} \
             (exact {exact_max:.5}, error {:.2}%)\nwrote {} and {}",
            series.len()?,
            100.0 * error,
            sim.file().path().display(),
            xdmf.display()
        );
    }
    Ok(())
}
