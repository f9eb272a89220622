use bamboost::exclude;

struct Thing;

impl Thing {
    #[exclude]
    fn local(&self) -> u8 {
        1
    }
}

fn main() {
    Thing.local();
}
