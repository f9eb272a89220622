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
    fn values(&self) -> impl Iterator<Item = u8> {
        0..3
    }
}

fn main() {}
