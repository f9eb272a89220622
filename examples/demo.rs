//! The serial demo: a run log that only rank 0 writes, identifiers, errors that reach every
//! rank, and collectives. It checks its own results and runs unchanged under `mpirun`.
//!
//! ```text
//! cargo run -p bamboost-examples --example demo
//! ```
#![deny(warnings)]

use bamboost::mpi::{self, CommSlot, HasComm, op};
use bamboost::uid::{CollectionUid, SimulationName};
use bamboost::{Comm, root_process};
use serde::{Deserialize, Serialize};

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    step: u32,
    message: String,
}

/// Why the log refuses an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum LogError {
    StepNotIncreasing { last: u32, given: u32 },
}

/// A run log, written by rank 0 only (like bamboost's index or XDMF writer).
struct RunLog {
    comm: CommSlot,
    entries: Vec<Entry>,
}

impl HasComm for RunLog {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl RunLog {
    /// Every rank builds its own handle; no `self`, so this runs everywhere.
    fn new(comm: Comm) -> Self {
        RunLog {
            comm: CommSlot::with(comm),
            entries: Vec::new(),
        }
    }

    /// Rank 0 appends; every rank gets the same result, `Err` included.
    fn record(&mut self, step: u32, message: &str) -> Result<usize, LogError> {
        if let Some(last) = self.entries.last()
            && step <= last.step
        {
            return Err(LogError::StepNotIncreasing {
                last: last.step,
                given: step,
            });
        }
        self.entries.push(Entry {
            step,
            message: message.to_string(),
        });
        Ok(self.entries.len())
    }

    /// Calls another root-only method: it runs at once, no deadlock.
    fn record_summary(&mut self, total: f64) -> Result<usize, LogError> {
        let next = self.entries.last().map_or(0, |e| e.step + 1);
        self.record(next, &format!("total = {total}"))
    }

    /// Rank 0's entries, on every rank.
    fn entries(&self) -> Vec<Entry> {
        self.entries.clone()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let world = Comm::try_world()?;
    let (rank, size) = (world.rank(), world.size());

    // Names made on rank 0 and broadcast: every rank uses the same directory names.
    let collection = CollectionUid::generate(&world)?;
    let simulation = SimulationName::generate(&world)?;
    let all = world.allgather((collection.clone(), simulation.clone()))?;
    assert!(
        all.iter()
            .all(|ids| *ids == (collection.clone(), simulation.clone()))
    );

    // Each rank computes a share; a reduction combines them.
    let local: f64 = (rank..100).step_by(size).map(|i| i as f64).sum();
    let total = world.allreduce(local, op::Sum)?;
    assert_eq!(total, 4950.0);

    let mut log = RunLog::new(world.clone());
    assert_eq!(log.record(1, "mesh ready"), Ok(1));
    assert_eq!(
        log.record(1, "again"),
        Err(LogError::StepNotIncreasing { last: 1, given: 1 })
    );
    assert_eq!(log.record_summary(total), Ok(2));
    let entries = log.entries();
    assert_eq!(
        entries[1],
        Entry {
            step: 2,
            message: "total = 4950".into()
        }
    );

    // Code only rank 0 runs uses a root-only scope, so bamboost calls in it do not wait for
    // the other ranks.
    if rank == 0 {
        let n = mpi::self_scope(|| log.record(3, "rank 0 only"));
        assert_eq!(n, Ok(3));
    }

    if rank == 0 {
        println!("collection {collection}, simulation {simulation}, {size} rank(s)");
        for e in &entries {
            println!("  step {}: {}", e.step, e.message);
        }
        println!("demo: all checks passed");
    }
    Ok(())
}
