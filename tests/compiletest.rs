//! Compile-time diagnostics of `#[root_process]` and `#[exclude]`, and the type safety of
//! read-only HDF5 handles (trybuild UI tests).
//! Bless changed messages with `TRYBUILD=overwrite cargo test -p bamboost-tests --test compiletest`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    // rustc spells a type with its full path when another type of that name is in the
    // dependency graph; the `mpi` build links rsmpi's `Group` and `Collection`, so these
    // snapshots, of rustc's own text, are taken in the default build only. What they check
    // does not depend on it.
    #[cfg(not(feature = "mpi"))]
    t.compile_fail("ui-default-build/*.rs");
}
