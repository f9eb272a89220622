//! Compile-time diagnostics of `#[root_process]` and `#[exclude]` (trybuild UI tests).
//! Bless changed messages with `TRYBUILD=overwrite cargo test -p bamboost-tests --test compiletest`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
