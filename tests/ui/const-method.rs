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
    const fn answer(&self) -> u8 {
        42
    }
}

fn main() {}
