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
    #[exclude(always)]
    fn local(&self) -> u8 {
        1
    }

    #[exclude]
    #[exclude]
    fn twice(&self) -> u8 {
        2
    }
}

fn main() {}
