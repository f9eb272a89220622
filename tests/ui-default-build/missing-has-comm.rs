use bamboost::root_process;

struct NoComm;

#[root_process]
impl NoComm {
    fn value(&self) -> u8 {
        1
    }
}

fn main() {
    NoComm.value();
}
