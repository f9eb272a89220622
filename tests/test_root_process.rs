//! `#[root_process]` on the serial back end: every kind of method, run as users write them.

use bamboost::mpi::{self, CommSlot, HasComm};
use bamboost::{Comm, Error, root_process};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum StoreError {
    Missing(String),
}

struct Store<T> {
    comm: CommSlot,
    items: Vec<T>,
}

impl<T> HasComm for Store<T> {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl<T: Clone + Serialize + serde::de::DeserializeOwned + PartialEq> Store<T> {
    /// Constructor: no `self`, untouched.
    fn new() -> Self {
        Store {
            comm: CommSlot::new(),
            items: Vec::new(),
        }
    }

    fn push(&mut self, item: T) -> usize {
        self.items.push(item);
        self.items.len()
    }

    fn get(&self, index: usize) -> Result<T, StoreError> {
        self.items
            .get(index)
            .cloned()
            .ok_or_else(|| StoreError::Missing(format!("index {index}")))
    }

    fn first_or_default(&self, default: T) -> T {
        if let Some(first) = self.items.first() {
            return first.clone();
        }
        default
    }

    fn find(&self, item: &T) -> Result<usize, StoreError> {
        let index = self.items.iter().position(|i| i == item);
        let index = index.ok_or_else(|| StoreError::Missing("item".into()))?;
        Ok(index)
    }

    fn map_len<F: Fn(usize) -> usize>(&self, f: F) -> usize {
        f(self.items.len())
    }

    fn in_scope(&self) -> bool {
        mpi::in_self_scope()
    }

    fn crate_result(&self) -> bamboost::Result<usize> {
        Comm::world().bcast(1usize, 9)
    }

    fn into_items(self) -> Vec<T> {
        self.items
    }

    fn boxed_len(self: Box<Self>) -> usize {
        self.items.len()
    }

    fn nothing(&mut self) {
        self.items.clear();
    }

    #[exclude]
    fn items(&self) -> &[T] {
        &self.items
    }

    #[exclude]
    async fn excluded_async(&self) -> usize {
        self.items.len()
    }
}

/// Return types that travel as raw memory under MPI: the same values on the serial back end.
struct Mesh {
    comm: CommSlot,
}

impl HasComm for Mesh {
    fn comm(&self) -> Comm {
        self.comm.get()
    }
}

#[root_process]
impl Mesh {
    fn nodes(&self) -> Vec<[f64; 2]> {
        vec![[0.0, 1.0], [2.0, 3.0]]
    }

    fn edges(&self) -> Vec<(u32, u32)> {
        vec![(0, 1), (1, 0)]
    }

    fn weights(&self) -> Vec<(f64, u8)> {
        vec![(0.5, 1)]
    }

    fn particles(&self) -> Vec<Particle> {
        vec![Particle {
            position: [1.0, 2.0, 3.0],
            mass: 4.0,
        }]
    }

    fn load(&self, fail: bool) -> bamboost::Result<Vec<Particle>> {
        if fail {
            return Err(Error::InvalidRank { rank: 9, size: 1 });
        }
        Ok(self.particles())
    }

    fn tags(&self) -> Vec<Tag> {
        vec![Tag {
            name: "inlet".into(),
            id: 7,
        }]
    }
}

/// Plain data (`bytemuck::Pod`): vectors of it travel as raw memory under MPI.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Particle {
    position: [f64; 3],
    mass: f64,
}

/// Not plain data (it owns a `String`): vectors of it are encoded.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Tag {
    name: String,
    id: u32,
}

#[test]
fn vectors_of_number_rows_and_tuples() {
    let mesh = Mesh {
        comm: CommSlot::new(),
    };
    assert_eq!(mesh.nodes(), [[0.0, 1.0], [2.0, 3.0]]);
    assert_eq!(mesh.edges(), [(0, 1), (1, 0)]);
    assert_eq!(mesh.weights(), [(0.5, 1)]);
    assert_eq!(mesh.particles()[0].position, [1.0, 2.0, 3.0]);
    assert_eq!(mesh.tags()[0].name, "inlet");
    assert_eq!(mesh.load(false).map(|p| p.len()), Ok(1));
    assert!(matches!(
        mesh.load(true),
        Err(Error::InvalidRank { rank: 9, .. })
    ));
}

#[test]
fn values_and_mutation() {
    let mut store = Store::new();
    assert_eq!(store.push(3), 1);
    assert_eq!(store.push(4), 2);
    assert_eq!(store.items(), &[3, 4]);
    assert_eq!(store.map_len(|n| n * 10), 20);
    store.nothing();
    assert!(store.items().is_empty());
}

#[test]
fn results_and_question_mark_and_early_return() {
    let mut store = Store::new();
    store.push("a".to_string());
    assert_eq!(store.get(0), Ok("a".to_string()));
    assert_eq!(store.get(5), Err(StoreError::Missing("index 5".into())));
    assert_eq!(store.find(&"a".to_string()), Ok(0));
    assert_eq!(
        store.find(&"b".to_string()),
        Err(StoreError::Missing("item".into()))
    );
    assert_eq!(store.first_or_default("z".into()), "a");
    assert_eq!(Store::<String>::new().first_or_default("z".into()), "z");
    assert_eq!(
        store.crate_result(),
        Err(Error::InvalidRank { rank: 9, size: 1 })
    );
}

#[test]
fn receivers_by_value_and_box() {
    let mut store = Store::new();
    store.push(1.5);
    assert_eq!(Box::new(Store::<u8>::new()).boxed_len(), 0);
    assert_eq!(store.into_items(), vec![1.5]);
}

#[test]
fn the_body_runs_in_a_root_only_scope() {
    let store = Store::<u8>::new();
    assert!(!mpi::in_self_scope());
    assert!(store.in_scope());
    assert!(!mpi::in_self_scope());
}

#[test]
fn excluded_methods_keep_their_signature() {
    let store = Store::<u8>::new();
    let future = store.excluded_async();
    drop(future); // It is a plain `async fn`: a future, untouched by the macro.
}
