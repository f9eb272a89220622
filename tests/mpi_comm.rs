//! Communicator collectives on every rank: run by `cargo test` (one rank, serial back end) and
//! under `mpirun -np 1..4` by `.ci/test`.

use bamboost::mpi::op::{Max, Min, Prod, Sum};
use bamboost::mpi::{self, CommSlot, HasComm};
use bamboost::uid::{CollectionUid, SimulationName};
use bamboost::{Comm, Error};
use bamboost_tests::{Checks, ensure, ensure_eq, fail};

/// A parent object and a child built from it, as a simulation and its file.
struct Parent {
    comm: CommSlot,
}

struct Child {
    comm: CommSlot,
}

impl Parent {
    fn child(&self) -> Child {
        Child {
            comm: self.comm.child(),
        }
    }
}

impl HasComm for Child {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

fn main() {
    let mut t = Checks::new("mpi_comm");

    t.check("backend matches the launcher", |c| {
        if let Ok(n) = std::env::var("OMPI_COMM_WORLD_SIZE") {
            ensure!(c.is_mpi(), "started by mpirun but the world is serial");
            ensure_eq!(c.size().to_string(), n);
        } else {
            ensure_eq!(c.size(), 1);
        }
        Ok(())
    });

    t.check("world and self", |c| {
        let me = Comm::self_comm();
        ensure!(*c != me, "world and self must be distinct");
        ensure_eq!((me.rank(), me.size()), (0, 1));
        ensure_eq!(Comm::world(), *c);
        ensure_eq!(
            c.allgather(c.rank()).map_err(fail)?,
            (0..c.size()).collect::<Vec<_>>()
        );
        Ok(())
    });

    t.check("bcast from every root", |c| {
        for root in 0..c.size() {
            let got = c.bcast(format!("from {}", c.rank()), root).map_err(fail)?;
            ensure_eq!(got, format!("from {root}"));
        }
        let mut ran = false;
        let v = c.bcast_from(c.size() - 1, || {
            ran = true;
            vec![1.5f64; 1000]
        });
        ensure_eq!(v.map_err(fail)?, vec![1.5f64; 1000]);
        let runs = c.allreduce(usize::from(ran), Sum).map_err(fail)?;
        ensure_eq!(runs, 1);
        ensure_eq!(
            c.bcast(0u8, c.size()),
            Err(Error::InvalidRank {
                rank: c.size(),
                size: c.size()
            })
        );
        Ok(())
    });

    t.check("large bcast crosses the inline limit", |c| {
        let data: Vec<u64> = if c.rank() == 0 {
            (0..100_000).collect()
        } else {
            Vec::new()
        };
        let got = c.bcast(data, 0).map_err(fail)?;
        ensure_eq!(got.len(), 100_000);
        ensure_eq!(got[99_999], 99_999);
        Ok(())
    });

    t.check("scatter", |c| {
        let values = if c.rank() == 0 {
            (0..c.size()).map(|r| r * 10).collect()
        } else {
            Vec::new()
        };
        ensure_eq!(c.scatter(values, 0).map_err(fail)?, c.rank() * 10);
        let wrong = if c.rank() == 0 {
            vec![1; c.size() + 1]
        } else {
            Vec::new()
        };
        ensure_eq!(
            c.scatter(wrong, 0),
            Err(Error::ScatterCount {
                got: c.size() + 1,
                size: c.size()
            })
        );
        Ok(())
    });

    t.check("gather and allgather", |c| {
        let got = c.gather(c.rank() as u32, 0).map_err(fail)?;
        if c.rank() == 0 {
            ensure_eq!(got, Some((0..c.size() as u32).collect()));
        } else {
            ensure_eq!(got, None);
        }
        let names = c.allgather(format!("r{}", c.rank())).map_err(fail)?;
        ensure_eq!(
            names,
            (0..c.size()).map(|r| format!("r{r}")).collect::<Vec<_>>()
        );
        Ok(())
    });

    t.check("reductions with predefined and custom operators", |c| {
        let r = c.rank() as i64;
        let n = c.size() as i64;
        ensure_eq!(c.allreduce(r, Sum).map_err(fail)?, n * (n - 1) / 2);
        ensure_eq!(c.allreduce(r, Max).map_err(fail)?, n - 1);
        ensure_eq!(c.allreduce(r + 3, Min).map_err(fail)?, 3);
        ensure_eq!(
            c.allreduce(r + 1, Prod).map_err(fail)?,
            (1..=n).product::<i64>()
        );
        let reduced = c.reduce(r as f64 * 0.5, Sum, 0).map_err(fail)?;
        ensure_eq!(reduced.is_some(), c.rank() == 0);
        // Not commutative: proves the rank order.
        let joined = c
            .allreduce(r.to_string(), |a: String, b: String| format!("{a},{b}"))
            .map_err(fail)?;
        ensure_eq!(
            joined,
            (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        ensure_eq!(c.scan(1u32, Sum).map_err(fail)?, c.rank() as u32 + 1);
        Ok(())
    });

    t.check("send and recv in a ring with tags", |c| {
        let next = (c.rank() + 1) % c.size();
        let prev = (c.rank() + c.size() - 1) % c.size();
        c.send(&("hello", c.rank()), next, 7).map_err(fail)?;
        c.send(&vec![c.rank(); 3], next, 8).map_err(fail)?;
        let b: Vec<usize> = c.recv(prev, 8).map_err(fail)?;
        let a: (String, usize) = c.recv(prev, 7).map_err(fail)?;
        ensure_eq!(a, ("hello".to_string(), prev));
        ensure_eq!(b, vec![prev; 3]);
        ensure_eq!(
            c.send(&1, 0, 1 << 20),
            Err(Error::InvalidTag { tag: 1 << 20 })
        );
        Ok(())
    });

    t.check("buffer collectives", |c| {
        let mut buf = if c.rank() == 0 {
            [1.0, 2.0, 3.0]
        } else {
            [0.0; 3]
        };
        c.bcast_into(&mut buf, 0).map_err(fail)?;
        ensure_eq!(buf, [1.0, 2.0, 3.0]);
        let mine = vec![c.rank() as u32; c.rank() + 1];
        let all = c.allgatherv(&mine).map_err(fail)?;
        let expected: Vec<u32> = (0..c.size() as u32)
            .flat_map(|r| vec![r; r as usize + 1])
            .collect();
        ensure_eq!(all, expected);
        let mut sums = [0i64; 2];
        c.allreduce_into(&[1, c.rank() as i64], &mut sums, Sum)
            .map_err(fail)?;
        ensure_eq!(
            sums,
            [c.size() as i64, (c.size() * (c.size() - 1) / 2) as i64]
        );
        let mut max = [0.0f32];
        c.allreduce_into(&[c.rank() as f32], &mut max, Max)
            .map_err(fail)?;
        ensure_eq!(max, [(c.size() - 1) as f32]);
        Ok(())
    });

    t.check("alltoallv with varying counts", |c| {
        // Rank r sends d + 1 copies of r * 100 + d to rank d.
        let counts: Vec<usize> = (0..c.size()).map(|d| d + 1).collect();
        let send: Vec<i32> = (0..c.size())
            .flat_map(|d| vec![(c.rank() * 100 + d) as i32; d + 1])
            .collect();
        let got = c.alltoallv(&send, &counts).map_err(fail)?;
        let expected: Vec<i32> = (0..c.size())
            .flat_map(|s| vec![(s * 100 + c.rank()) as i32; c.rank() + 1])
            .collect();
        ensure_eq!(got, expected);
        // The last rank sends nothing but receives; rank 0 sends to everyone.
        let counts: Vec<usize> = (0..c.size())
            .map(|_| {
                if c.rank() + 1 == c.size() && c.size() > 1 {
                    0
                } else {
                    3
                }
            })
            .collect();
        let send = vec![c.rank() as u8; counts.iter().sum()];
        // Into a kept buffer that holds more than what arrives: it is replaced, not appended.
        let mut got = vec![7u8; 40];
        c.alltoallv_into(&send, &counts, &mut got).map_err(fail)?;
        let senders = if c.size() > 1 { c.size() - 1 } else { 1 };
        ensure_eq!(
            got,
            (0..senders)
                .flat_map(|s| vec![s as u8; 3])
                .collect::<Vec<_>>()
        );
        // Bad counts on one rank are an error on every rank, not a hang.
        let bad: Vec<usize> = if c.rank() == c.size() - 1 {
            vec![1; c.size() + 1]
        } else {
            vec![0; c.size()]
        };
        ensure!(
            matches!(
                c.alltoallv::<u8>(&[], &bad),
                Err(Error::InvalidCounts { .. })
            ),
            "every rank must see the bad counts"
        );
        // Nothing to send at all works too.
        ensure_eq!(
            c.alltoallv::<u8>(&[], &vec![0; c.size()]).map_err(fail)?,
            Vec::<u8>::new()
        );
        Ok(())
    });

    t.check("split by color and key, undefined color, dup", |c| {
        let sub = c
            .split(Some((c.rank() % 2) as u32), -(c.rank() as i32))
            .map_err(fail)?;
        let sub = sub.ok_or("a defined color must give a communicator")?;
        let same_color = (0..c.size()).filter(|r| r % 2 == c.rank() % 2).count();
        ensure_eq!(sub.size(), same_color);
        // The key is minus the old rank, so the order is reversed.
        let members = sub.allgather(c.rank()).map_err(fail)?;
        let mut expected: Vec<usize> = (0..c.size()).filter(|r| r % 2 == c.rank() % 2).collect();
        expected.reverse();
        ensure_eq!(members, expected);
        let only_even = c.split((c.rank() % 2 == 0).then_some(0), 0).map_err(fail)?;
        ensure_eq!(only_even.is_some(), c.rank() % 2 == 0);
        let dup = c.dup();
        ensure!(dup != *c, "dup must be a new communicator");
        ensure_eq!(dup.allreduce(1, Sum).map_err(fail)?, c.size());
        Ok(())
    });

    t.check("uids are made on rank 0 and equal everywhere", |c| {
        let uid = CollectionUid::generate(c).map_err(fail)?;
        let name = SimulationName::generate(c).map_err(fail)?;
        ensure!(
            uid.as_str().len() == 10
                && uid
                    .as_str()
                    .chars()
                    .all(|ch| matches!(ch, '0'..='9' | 'A'..='F')),
            "{uid}"
        );
        ensure!(
            name.as_str().len() == 10
                && name
                    .as_str()
                    .chars()
                    .all(|ch| matches!(ch, '0'..='9' | 'a'..='f')),
            "{name}"
        );
        let all = c.allgather((uid.clone(), name.clone())).map_err(fail)?;
        ensure!(
            all.iter().all(|x| *x == (uid.clone(), name.clone())),
            "ranks disagree: {all:?}"
        );
        Ok(())
    });

    t.check("communicator propagation and the self scope", |c| {
        let parent = Parent {
            comm: CommSlot::new(),
        };
        let child = parent.child();
        ensure_eq!(child.comm(), *c);
        let sub = c
            .split(Some(0), 0)
            .map_err(fail)?
            .ok_or("no communicator")?;
        parent.comm.set(sub.clone());
        ensure_eq!(child.comm(), sub);
        let inside = mpi::self_scope(|| (child.comm(), parent.comm.get(), c.size()));
        ensure_eq!(inside, (Comm::self_comm(), Comm::self_comm(), 1));
        ensure_eq!((child.comm(), parent.comm.get()), (sub.clone(), sub));
        parent.comm.clear();
        ensure_eq!(child.comm(), *c);
        Ok(())
    });

    t.check(
        "collectives on one rank complete inside a self scope",
        |c| {
            if c.rank() == c.size() - 1 {
                let (sum, all) = mpi::self_scope(|| (c.allreduce(41, Sum), c.allgather('x')));
                ensure_eq!((sum.map_err(fail)?, all.map_err(fail)?), (41, vec!['x']));
            }
            Ok(())
        },
    );

    t.finish();
}
