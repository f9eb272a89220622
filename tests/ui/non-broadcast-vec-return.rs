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

struct NotSerializable;

#[root_process]
impl Thing {
    fn make(&self) -> Vec<NotSerializable> {
        vec![NotSerializable]
    }
}

fn main() {}
