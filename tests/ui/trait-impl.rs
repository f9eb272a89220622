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

trait Named {
    fn name(&self) -> String;
}

#[root_process]
impl Named for Thing {
    fn name(&self) -> String {
        "thing".into()
    }
}

fn main() {}
