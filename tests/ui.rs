//! Compile-fail tests: every construct the macro rejects, with the message users see. One
//! mistake per file, grouped by category; the `.stderr` files are generated with
//! `TRYBUILD=overwrite cargo test --test ui` and reviewed.

#[test]
fn rejected_constructs_get_spanned_errors_that_teach() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
