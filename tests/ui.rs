//! Compile-fail tests: every construct the macro rejects, with the message users see. One
//! mistake per file, grouped by category; the `.stderr` files are generated with
//! `TRYBUILD=overwrite cargo test --test ui` and reviewed.

/// The case whose message names a type nalgebra makes ambiguous (`Dim`: rustc then writes
/// `ndarray::Dim`) when a feature links it (`nalgebra`, or the adapters' `argmin` and
/// `levenberg-marquardt`; see `tests/ui-with-nalgebra/`).
const NAMES_DIM: &str = "tests/ui/tape/mapv_named_function.rs";

#[test]
fn rejected_constructs_get_spanned_errors_that_teach() {
    let t = trybuild::TestCases::new();
    if cfg!(any(
        feature = "nalgebra",
        feature = "argmin",
        feature = "levenberg-marquardt"
    )) {
        for case in cases().iter().filter(|case| *case != NAMES_DIM) {
            t.compile_fail(case);
        }
        t.compile_fail("tests/ui-with-nalgebra/mapv_named_function.rs");
    } else {
        t.compile_fail("tests/ui/*/*.rs");
    }
}

/// Every `tests/ui/*/*.rs`, sorted.
fn cases() -> Vec<String> {
    let mut cases = Vec::new();
    for dir in std::fs::read_dir("tests/ui").unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "rs") {
                cases.push(file.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    cases.sort();
    assert!(cases.iter().any(|c| c == NAMES_DIM), "{NAMES_DIM} moved");
    cases
}
