//! Keeps `docs/errors.md`, the gallery of every message the macro gives, in step with the
//! trybuild UI tests it is built from. After changing a message: regenerate the `.stderr` files
//! (`TRYBUILD=overwrite cargo test --test ui`), review them, then
//! `SYMGRAD_BLESS=1 cargo test --test error_gallery`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn gallery() -> String {
    let mut out = String::from(
        "# Error gallery\n\nEvery construct `#[differentiable]` rejects, with the message you see. Generated from the\n\
         trybuild UI tests in `tests/ui/` by `tests/error_gallery.rs`; do not edit by hand.\n",
    );
    let ui = Path::new("tests/ui");
    let mut categories: Vec<_> = fs::read_dir(ui)
        .expect("tests/ui exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    categories.sort();
    for dir in categories {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let _ = write!(out, "\n## {name}\n");
        let mut cases: Vec<_> = fs::read_dir(&dir)
            .expect("readable")
            .map(|e| e.expect("readable").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        cases.sort();
        for case in cases {
            let stem = case
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .replace('_', " ");
            let source = fs::read_to_string(&case).expect("readable source");
            let stderr = fs::read_to_string(case.with_extension("stderr"))
                .expect("every UI test has its .stderr");
            let _ = write!(
                out,
                "\n### {stem}\n\n```rust\n{}\n```\n\n```text\n{}\n```\n",
                source.trim_end(),
                stderr.trim_end()
            );
        }
    }
    out
}

#[test]
fn the_error_gallery_is_up_to_date() {
    let want = gallery();
    let path = Path::new("docs/errors.md");
    if std::env::var_os("SYMGRAD_BLESS").is_some() {
        fs::create_dir_all("docs").expect("docs/ can be created");
        fs::write(path, &want).expect("docs/errors.md can be written");
    }
    let have = fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/errors.md is out of date: run `SYMGRAD_BLESS=1 cargo test --test error_gallery`"
    );
}
