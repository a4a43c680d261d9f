//! The documentation examples use the paths a user has: `symgrad::…`, the facade that re-exports
//! this crate, never `symgrad_runtime::…`, which a user who depends on `symgrad` cannot name.
//!
//! The runtime's doctests link both crates (`symgrad` is a dev-dependency), so an example
//! compiles with either path; this scan is what keeps `symgrad_runtime::…` out.

use std::fs;
use std::path::{Path, PathBuf};

/// Doc-comment lines that may name the runtime crate by its Rust name, as `(file, text)`: e.g. a
/// Cargo.toml snippet for users who depend on `symgrad-runtime` alone. Empty: none does today.
const ALLOWED: &[(&str, &str)] = &[];

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The text of a doc-comment line (`///` or `//!`), without the marker.
fn doc_text(line: &str) -> Option<&str> {
    let line = line.trim_start();
    line.strip_prefix("///")
        .or_else(|| line.strip_prefix("//!"))
        .map(|text| text.strip_prefix(' ').unwrap_or(text))
}

/// `file:line: text` for every doc-comment line of `source` that names `symgrad_runtime` inside a
/// fenced code block, or writes a `symgrad_runtime::` path in prose.
fn offending_lines(file: &str, source: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let Some(text) = doc_text(line) else {
            in_code = false; // a doc comment ends with its last `///` line
            continue;
        };
        if text.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let offends = if in_code {
            text.contains("symgrad_runtime")
        } else {
            text.contains("symgrad_runtime::")
        };
        let allowed = ALLOWED
            .iter()
            .any(|&(f, t)| file.ends_with(f) && text.contains(t));
        if offends && !allowed {
            found.push(format!("{file}:{}: {}", number + 1, text.trim()));
        }
    }
    found
}

#[test]
fn documentation_examples_use_the_facade_paths() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    assert!(
        files.len() > 10,
        "found only {files:?} under {}",
        src.display()
    );
    let offending: Vec<String> = files
        .iter()
        .flat_map(|path| {
            let source = fs::read_to_string(path).expect("readable source file");
            offending_lines(&path.display().to_string(), &source)
        })
        .collect();
    assert!(
        offending.is_empty(),
        "documentation names `symgrad_runtime`; users depend on `symgrad`, which re-exports \
         everything (write `symgrad::…`):\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_scan_sees_examples_and_prose_but_not_code() {
    let source = "\
//! Depend on `symgrad`.
//!
//! ```
//! use symgrad_runtime::optim::Adam;
//! ```
/// See `symgrad_runtime::train`.
/// ```toml
/// symgrad_runtime = \"0.1\"
/// ```
fn f() { symgrad_runtime::train::minimize(); }
";
    assert_eq!(
        offending_lines("x.rs", source),
        [
            "x.rs:4: use symgrad_runtime::optim::Adam;",
            "x.rs:6: See `symgrad_runtime::train`.",
            "x.rs:8: symgrad_runtime = \"0.1\"",
        ]
    );
}
