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
    fn name(&self) -> &str {
        "thing"
    }

    fn names(&self) -> Vec<&'static str> {
        vec!["thing"]
    }
}

fn main() {}
