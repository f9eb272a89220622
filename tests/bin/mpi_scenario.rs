//! One process of a scenario that `test_mpi_launch.rs` starts (under mpirun or alone) to check
//! how whole jobs behave: which back end is chosen, and that panics and desyncs end the job.
//!
//! Usage: `mpi-scenario <report|setter-off|root-panic|rank-panic|desync|desync-again|explicit>`

use bamboost::mpi::{self, CommSlot, HasComm};
use bamboost::{Comm, root_process};

struct Job {
    comm: CommSlot,
}

impl HasComm for Job {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Job {
    fn explode(&self, step: u32) -> u32 {
        panic!("boom at step {step}");
    }

    fn first(&self) -> u32 {
        1
    }

    fn second(&self) -> u32 {
        2
    }
}

fn world_or_exit() -> Comm {
    Comm::try_world().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    })
}

fn report(world: &Comm) {
    println!(
        "rank={} size={} mpi={}",
        world.rank(),
        world.size(),
        world.is_mpi()
    );
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "report" => report(&world_or_exit()),
        "setter-off" => {
            mpi::set_enabled(false).expect("set before first use");
            report(&world_or_exit());
            if let Err(e) = mpi::set_enabled(true) {
                println!("late setter: {e}");
            }
        }
        "root-panic" => {
            let job = Job {
                comm: CommSlot::with(world_or_exit()),
            };
            job.explode(3);
        }
        "rank-panic" => {
            let world = world_or_exit();
            // The last rank panics outside any `#[root_process]` method.
            assert!(
                world.rank() != world.size() - 1,
                "rank {} gives up",
                world.rank()
            );
            world.barrier();
        }
        // As `desync`, after a first call in step: rank 0's message then leaves out the label.
        "desync" | "desync-again" => {
            let world = world_or_exit();
            let job = Job {
                comm: CommSlot::with(world.clone()),
            };
            if scenario == "desync-again" {
                job.first();
            }
            if world.rank() == 0 {
                job.first()
            } else {
                job.second()
            };
            world.barrier();
        }
        // Holds an HDF5 file open for writing (and so locked) for a while.
        "hold-h5" => {
            let path = std::env::args().nth(2).expect("a path");
            let seconds: f64 = std::env::args()
                .nth(3)
                .and_then(|s| s.parse().ok())
                .unwrap_or(2.0);
            let file = bamboost::h5::File::new(path, CommSlot::with(Comm::self_comm()));
            let open = file.open_mut().expect("open the file");
            println!("holding");
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
            open.close().expect("close the file");
        }
        // Adds simulations to a collection one by one, syncing a shared index after each.
        "index-worker" => {
            let arg = |i: usize| {
                std::env::args()
                    .nth(i)
                    .expect("index-worker DIR DB ID COUNT")
            };
            let collection = bamboost::collection::Collection::open(arg(2)).expect("collection");
            let settings = bamboost::config::IndexConfig::new(arg(3), Vec::<String>::new());
            let index = bamboost::index::Index::open(&settings).expect("index");
            index.add_collection(collection.path()).expect("register");
            let count: usize = arg(5).parse().expect("a count");
            for i in 0..count {
                let params = bamboost::simulation::Parameters::new()
                    .with("worker", arg(4).as_str())
                    .with("i", i as i64);
                collection
                    .add(
                        bamboost::collection::NewSimulation::new()
                            .name(&format!("w{}-{i}", arg(4)))
                            .parameters(params),
                    )
                    .expect("add");
                index.sync(collection.uid().as_str(), false).expect("sync");
            }
        }
        #[cfg(feature = "mpi")]
        "explicit" => {
            let world = world_or_exit();
            let explicit = Comm::mpi_world().expect("MPI initialises");
            let uid = bamboost::uid::CollectionUid::generate(&explicit).expect("broadcast");
            let all = explicit.allgather(uid.clone()).expect("allgather");
            println!(
                "world_size={} explicit_size={} uids_equal={}",
                world.size(),
                explicit.size(),
                all.iter().all(|u| *u == uid)
            );
        }
        other => {
            eprintln!("unknown scenario {other:?}");
            std::process::exit(64);
        }
    }
}
