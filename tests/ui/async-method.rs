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
    async fn fetch(&self) -> u8 {
        1
    }
}

fn main() {}
