#![deny(deprecated)]

use bamboost::mpi::{CommSlot, HasComm};
use bamboost::{Comm, root_process};

struct Thing {
    comm: CommSlot,
}

impl HasComm for Thing {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Thing {
    #[exclude]
    fn new() -> Self {
        Thing { comm: CommSlot::new() }
    }
}

fn main() {
    let _ = Thing::new();
}
