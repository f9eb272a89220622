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

// Every problem is reported at once, each on its own token.
#[root_process]
impl Thing {
    async fn a(&self) {}

    fn b(&self) -> &u8 {
        &1
    }

    #[exclude = "yes"]
    fn c(&self) {}
}

fn main() {}
