//! Runnable, self-checking examples of bamboost; see `demo.rs`, `mpi_demo.rs` and `mpi_write.rs`.
//!
//! ```text
//! cargo run -p bamboost-examples --example demo
//! cargo build -p bamboost-examples --features mpi --example mpi_demo
//! mpirun -np 4 --oversubscribe target/debug/examples/mpi_demo
//! mpirun -np 4 --oversubscribe target/debug/examples/mpi_write
//! ```
