//! Compile-fail tests: each `tests/ui/*.rs` must fail with the diagnostics in its `.stderr`;
//! each `tests/ui-pass/*.rs` must build without a warning (they deny warnings) and run.
//!
//! The expected diagnostics are those of the default features: optional dependencies change
//! how rustc abbreviates type paths (with `hdf5`, `Rc<String>` prints as
//! `Rc<std::string::String>`), so the cases run in `cargo test --workspace` only.

#[test]
#[cfg_attr(
    feature = "hdf5",
    ignore = "diagnostics are pinned for the default features"
)]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
