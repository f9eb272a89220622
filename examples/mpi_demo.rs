//! The MPI demo: a distributed computation of π, sub-communicators, buffer collectives and a
//! root-only results table. Every rank checks the results. It also runs serially.
//!
//! ```text
//! cargo build -p bamboost-examples --features mpi --example mpi_demo
//! mpirun -np 4 --oversubscribe target/debug/examples/mpi_demo
//! ```
#![deny(warnings)]

use bamboost::mpi::{CommSlot, HasComm, op};
use bamboost::{Comm, root_process};
use std::collections::BTreeMap;

/// Results that rank 0 keeps, e.g. before writing them to a file.
struct Results {
    comm: CommSlot,
    values: BTreeMap<String, f64>,
}

impl HasComm for Results {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Results {
    fn insert(&mut self, key: &str, value: f64) -> usize {
        self.values.insert(key.to_string(), value);
        self.values.len()
    }

    fn table(&self) -> Vec<(String, f64)> {
        self.values.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// The midpoint rule for ∫₀¹ 4/(1+x²) dx = π over the intervals of this rank.
fn pi_share(comm: &Comm, intervals: usize) -> f64 {
    let h = 1.0 / intervals as f64;
    (comm.rank()..intervals)
        .step_by(comm.size())
        .map(|i| {
            let x = (i as f64 + 0.5) * h;
            4.0 / (1.0 + x * x) * h
        })
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let world = Comm::try_world()?;
    let (rank, size) = (world.rank(), world.size());

    // π from all ranks' shares.
    let pi = world.allreduce(pi_share(&world, 1_000_000), op::Sum)?;
    assert!((pi - std::f64::consts::PI).abs() < 1e-9, "pi = {pi}");

    // Even and odd ranks form two groups, each with its own rank 0.
    let color = (rank % 2) as u32;
    let group = world
        .split(Some(color), rank as i32)?
        .ok_or("a defined color gives a communicator")?;
    let group_pi = group.allreduce(pi_share(&group, 10_000), op::Sum)?;
    assert!((group_pi - std::f64::consts::PI).abs() < 1e-6);

    // Buffer collectives: slices of numbers, no encoding.
    let mine = vec![rank as f64; rank + 1];
    let everything = world.allgatherv(&mine)?;
    assert_eq!(everything.len(), size * (size + 1) / 2);
    let mut sums = [0.0; 2];
    world.allreduce_into(&[1.0, rank as f64], &mut sums, op::Sum)?;
    assert_eq!(sums, [size as f64, (size * (size - 1) / 2) as f64]);

    // Rank 0 keeps the table; every rank gets the same copy.
    let mut results = Results {
        comm: CommSlot::with(world.clone()),
        values: BTreeMap::new(),
    };
    results.insert("pi", pi);
    results.insert("ranks", size as f64);
    let table = results.table();
    let copies = world.allgather(table.clone())?;
    assert!(copies.iter().all(|t| *t == table));

    if rank == 0 {
        println!("mpi_demo on {size} rank(s), mpi = {}", world.is_mpi());
        for (key, value) in &table {
            println!("  {key} = {value:.12}");
        }
        println!("mpi_demo: all checks passed");
    }
    Ok(())
}
