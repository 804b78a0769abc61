//! Compile-fail tests: each `tests/ui/*.rs` must fail with the diagnostics in its `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
