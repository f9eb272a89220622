//! `#[root_process]` on every rank: run by `cargo test` (one rank) and under
//! `mpirun -np 1..4` by `.ci/test`.

use bamboost::mpi::op::Sum;
use bamboost::mpi::{self, CommSlot, HasComm};
use bamboost::{Comm, Error, root_process};
use bamboost_tests::{Checks, ensure, ensure_eq, fail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Summary {
    rank_that_ran: usize,
    entries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum LedgerError {
    Full { capacity: usize },
}

/// Plain data (`bytemuck::Pod`, no padding: 24 + 4 + 4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Particle {
    position: [f64; 3],
    id: u32,
    rank: u32,
}

/// Not plain data: owns a `String`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Tag {
    name: String,
    id: u32,
}

type Real = f64;

/// An object whose methods only rank 0 should run, like the index or the XDMF writer.
struct Ledger {
    comm: CommSlot,
    entries: Vec<String>,
    body_runs: usize,
    /// World rank of the process that owns this copy.
    world_rank: usize,
}

impl HasComm for Ledger {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Ledger {
    fn new(comm: Comm) -> Self {
        Ledger {
            comm: CommSlot::with(comm),
            entries: Vec::new(),
            body_runs: 0,
            world_rank: Comm::world().rank(),
        }
    }

    fn add(&mut self, entry: &str) -> usize {
        self.body_runs += 1;
        self.entries.push(entry.to_string());
        self.entries.len()
    }

    fn summary(&self) -> Summary {
        Summary {
            rank_that_ran: self.world_rank,
            entries: self.entries.clone(),
        }
    }

    fn add_checked(&mut self, entry: &str, capacity: usize) -> Result<usize, LedgerError> {
        if self.entries.len() >= capacity {
            return Err(LedgerError::Full { capacity });
        }
        Ok(self.add(entry))
    }

    /// Inside the body every communicator behaves as one rank, so rank 5 does not exist.
    fn crate_error(&self) -> bamboost::Result<u8> {
        let world = Comm::world();
        world.bcast(1u8, 5)?;
        Ok(0)
    }

    fn ranks_seen_inside(&self) -> (usize, usize) {
        let world = Comm::world();
        (world.rank(), world.size())
    }

    /// Nested wrapped calls and collectives inside the body must not deadlock.
    fn nested(&mut self) -> (usize, usize, usize) {
        let n = self.add("nested");
        let summary = self.summary();
        let world = Comm::world();
        let sum = world.allreduce(10, Sum).unwrap_or(0);
        (n, summary.entries.len(), sum)
    }

    fn generic<T: Serialize + serde::de::DeserializeOwned + Clone>(&self, value: T) -> Vec<T> {
        vec![value; self.entries.len()]
    }

    /// A vector of numbers travels as raw memory (inline when small).
    fn samples(&self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| i as f64 * 0.5 + self.world_rank as f64)
            .collect()
    }

    /// Rows of numbers travel as raw memory too (a named length included).
    fn points(&self, n: usize) -> Vec<[f64; DIM]> {
        (0..n)
            .map(|i| [i as f64, -(i as f64), self.world_rank as f64])
            .collect()
    }

    /// Tuples of one number type travel as their numbers; mixed tuples are encoded.
    fn spans(&self, n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| (i as f64, self.world_rank as f64 - i as f64))
            .collect()
    }

    fn cells(&self, n: usize) -> Vec<(i64, i64, i64, i64)> {
        (0..n as i64)
            .map(|i| (i, i + 1, -i, self.world_rank as i64))
            .collect()
    }

    fn mixed(&self, n: usize) -> Vec<(f64, u8)> {
        (0..n)
            .map(|i| (i as f64, (i + self.world_rank) as u8))
            .collect()
    }

    /// A user's plain-data struct travels as raw memory; one owning a `String` is encoded; an
    /// alias of a number type and `Complex<f64>` travel as raw memory too.
    fn particles(&self, n: usize) -> Vec<Particle> {
        (0..n)
            .map(|i| Particle {
                position: [i as f64, 0.5, self.world_rank as f64],
                id: i as u32,
                rank: self.world_rank as u32,
            })
            .collect()
    }

    fn tags(&self, n: usize) -> Vec<Tag> {
        (0..n)
            .map(|i| Tag {
                name: format!("tag {i} from rank {}", self.world_rank),
                id: i as u32,
            })
            .collect()
    }

    fn spectrum(&self, n: usize) -> Vec<num_complex::Complex<f64>> {
        (0..n)
            .map(|i| num_complex::Complex::new(i as f64, self.world_rank as f64))
            .collect()
    }

    /// A `Result` of a vector of plain data: `Ok` as raw memory, `Err` encoded.
    fn load(&self, n: usize, capacity: usize) -> Result<Vec<Particle>, LedgerError> {
        if n > capacity {
            return Err(LedgerError::Full { capacity });
        }
        Ok(self.particles(n))
    }

    fn load_samples(&self, n: usize) -> bamboost::Result<Vec<f64>> {
        let world = Comm::world();
        world.bcast(1u8, 5)?; // One rank inside the body: rank 5 is an error.
        Ok(self.samples(n))
    }

    /// A zero-sized `Pod` type: only the length travels.
    fn units(&self, n: usize) -> Vec<()> {
        vec![(); n]
    }

    fn reals(&self, n: usize) -> Vec<Real> {
        (0..n)
            .map(|i| i as Real + self.world_rank as Real)
            .collect()
    }

    fn bytes(&self, n: usize) -> std::vec::Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    /// A string travels as its bytes (inline when short); made on rank 0 from its rank.
    fn text(&self, n: usize) -> String {
        format!("rank {} ", self.world_rank).repeat(n)
    }

    fn echo(&self, text: std::string::String) -> std::string::String {
        text
    }

    fn into_entries(self) -> Vec<String> {
        self.entries
    }

    #[exclude]
    fn local_rank(&self) -> usize {
        self.comm.get().rank()
    }

    #[exclude]
    fn entries(&self) -> &[String] {
        &self.entries
    }
}

/// The length of a point.
const DIM: usize = 3;

fn main() {
    let mut t = Checks::new("mpi_root_process");

    t.check(
        "values reach every rank; the body runs on rank 0 only",
        |c| {
            let mut ledger = Ledger::new(c.clone());
            ensure_eq!(ledger.add("a"), 1);
            ensure_eq!(ledger.add("b"), 2);
            let summary = ledger.summary();
            ensure_eq!(
                summary,
                Summary {
                    rank_that_ran: 0,
                    entries: vec!["a".into(), "b".into()]
                }
            );
            let runs = c.allreduce(ledger.body_runs, Sum).map_err(fail)?;
            ensure_eq!(runs, 2);
            // Only rank 0 holds the state the bodies changed.
            ensure_eq!(ledger.entries().len(), if c.rank() == 0 { 2 } else { 0 });
            ensure_eq!(ledger.local_rank(), c.rank());
            Ok(())
        },
    );

    t.check(
        "vectors of numbers, small and large, equal rank 0's everywhere",
        |c| {
            let ledger = Ledger::new(c.clone());
            for n in [0, 3, 6, 7, 20, 21, 100_000] {
                let samples = ledger.samples(n);
                ensure_eq!(samples, (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>());
                ensure_eq!(
                    ledger.bytes(n),
                    (0..n).map(|i| (i % 251) as u8).collect::<Vec<_>>()
                );
                ensure_eq!(
                    ledger.points(n),
                    (0..n)
                        .map(|i| [i as f64, -(i as f64), 0.0])
                        .collect::<Vec<_>>()
                );
                ensure_eq!(
                    ledger.spans(n),
                    (0..n).map(|i| (i as f64, -(i as f64))).collect::<Vec<_>>()
                );
                ensure_eq!(
                    ledger.cells(n),
                    (0..n as i64).map(|i| (i, i + 1, -i, 0)).collect::<Vec<_>>()
                );
                ensure_eq!(
                    ledger.mixed(n),
                    (0..n).map(|i| (i as f64, i as u8)).collect::<Vec<_>>()
                );
                let particles = ledger.particles(n);
                ensure_eq!(particles.len(), n);
                ensure!(
                    particles.iter().enumerate().all(|(i, p)| *p
                        == Particle {
                            position: [i as f64, 0.5, 0.0],
                            id: i as u32,
                            rank: 0,
                        }),
                    "particles differ from rank 0's ({n})"
                );
                let tags = ledger.tags(n.min(1000));
                ensure!(
                    tags.iter()
                        .enumerate()
                        .all(|(i, t)| t.id == i as u32 && t.name == format!("tag {i} from rank 0")),
                    "tags differ from rank 0's"
                );
                ensure_eq!(
                    ledger.spectrum(n),
                    (0..n)
                        .map(|i| num_complex::Complex::new(i as f64, 0.0))
                        .collect::<Vec<_>>()
                );
                ensure_eq!(ledger.units(n).len(), n);
                ensure_eq!(ledger.load(n, n), Ok(ledger.particles(n)));
                ensure_eq!(
                    ledger.load(n + 1, n),
                    Err(LedgerError::Full { capacity: n })
                );
                ensure_eq!(
                    ledger.reals(n),
                    (0..n).map(|i| i as Real).collect::<Vec<_>>()
                );
            }
            Ok(())
        },
    );

    t.check(
        "strings, short and long, ASCII or not, equal rank 0's everywhere",
        |c| {
            let ledger = Ledger::new(c.clone());
            for n in [0, 1, 22, 23, 10_000] {
                ensure_eq!(ledger.text(n), "rank 0 ".repeat(n));
            }
            ensure_eq!(ledger.echo("Zürich ∂u/∂t".into()), "Zürich ∂u/∂t");
            Ok(())
        },
    );

    t.check("an Err on rank 0 is the same Err everywhere", |c| {
        let mut ledger = Ledger::new(c.clone());
        ensure_eq!(ledger.add_checked("a", 1), Ok(1));
        ensure_eq!(
            ledger.add_checked("b", 1),
            Err(LedgerError::Full { capacity: 1 })
        );
        // The body runs on one rank, where the world behaves as a single rank.
        ensure_eq!(
            ledger.crate_error(),
            Err(Error::InvalidRank { rank: 5, size: 1 })
        );
        // The same through a `Result` of a vector (its `Ok` travels as raw memory).
        ensure_eq!(
            ledger.load_samples(3),
            Err(Error::InvalidRank { rank: 5, size: 1 })
        );
        ensure_eq!(ledger.ranks_seen_inside(), (0, 1));
        Ok(())
    });

    t.check(
        "nested calls and collectives inside a wrapped method",
        |c| {
            let mut ledger = Ledger::new(c.clone());
            ensure_eq!(ledger.nested(), (1, 1, 10));
            ensure_eq!(ledger.generic('z'), vec!['z']);
            ensure_eq!(ledger.into_entries(), vec!["nested".to_string()]);
            Ok(())
        },
    );

    t.check(
        "a wrapped method called on one rank inside a self scope",
        |c| {
            let mut ledger = Ledger::new(c.clone());
            if c.rank() == c.size() - 1 {
                let n = mpi::self_scope(|| ledger.add("alone"));
                ensure_eq!(n, 1);
            }
            Ok(())
        },
    );

    t.check("sub-communicators run their own rank 0", |c| {
        let color = (c.rank() % 2) as u32;
        let sub = c
            .split(Some(color), 0)
            .map_err(fail)?
            .ok_or("no communicator")?;
        let ledger = Ledger::new(sub.clone());
        let summary = ledger.summary();
        // World rank of the sub-communicator's rank 0: the lowest world rank with this color.
        ensure_eq!(summary.rank_that_ran, color as usize);
        Ok(())
    });

    t.check(
        "two handles of one communicator agree on message sizes and labels",
        |c| {
            // Rank 0 uses one handle of the world, the others a second one: each broadcast's
            // header size comes from what the handles remember, which must be shared.
            #[cfg(feature = "mpi")]
            let comm = if c.rank() == 0 || !c.is_mpi() {
                c.clone()
            } else {
                Comm::mpi_world().map_err(fail)?
            };
            #[cfg(not(feature = "mpi"))]
            let comm = c.clone();
            let ledger = Ledger::new(comm);
            for n in [30, 1, 30, 2, 0, 25, 25, 300, 3, 1] {
                ensure_eq!(
                    ledger.samples(n),
                    (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>()
                );
                ensure_eq!(ledger.summary().entries.len(), 0);
            }
            Ok(())
        },
    );

    t.check("desync with a plain collective is detected", |c| {
        let mut ledger = Ledger::new(c.clone());
        // Rank 0's message leaves out a label it repeats; the other ranks still name it.
        ensure_eq!(ledger.add("x"), 1);
        if c.rank() == 0 {
            ensure_eq!(ledger.add("x"), 2);
        } else {
            match c.bcast(0usize, 0) {
                Err(Error::Desync { root_call, .. }) => {
                    ensure!(
                        root_call.contains("Ledger::add"),
                        "names the method: {root_call}"
                    );
                }
                other => return Err(format!("expected a desync error, got {other:?}")),
            }
        }
        Ok(())
    });

    t.finish();
}
