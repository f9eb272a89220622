use bamboost::root_process;

#[root_process]
fn free_function() -> u8 {
    1
}

fn main() {
    free_function();
}
