//! Writing a batch as a standalone cargo workspace (its own `[workspace]`, outside ours): the
//! programs spread over small library crates `part<k>` (rustc's front end is single-threaded:
//! parts build in parallel, and a rebuild after removing a program rebuilds only its part), one
//! file `p<id>.rs` per program (a compile error maps to its program by file name), and a binary
//! crate `run` calling every program's checks. Each part depends on symgrad by path and holds
//! the oracle's support files; the workspace's `Cargo.lock` is copied so that cargo resolves
//! nothing and needs no network.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use super::driver;
use crate::ast::Program;
use crate::print::{self, Mode};

/// Programs per part crate.
pub const PART_SIZE: usize = 25;

/// How a program takes part in a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Under the macro, with its checks.
    Test,
    /// Without the attribute and without checks: does the generated Rust itself compile?
    Control,
}

/// Where each part of a program's file starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMap {
    /// The first line (1-based) of the oracle and driver: errors from there on are the
    /// fuzzer's own.
    pub oracle_line: usize,
}

const PROFILE: &str = "[profile.dev]\nopt-level = 0\ndebug = false\nincremental = false\n";

/// Writes the workspace manifest (with `parts` part crates), `Cargo.lock`, each part's manifest
/// and support files, and the `run` crate's manifest, for a binary named `package`.
pub fn skeleton(dir: &Path, package: &str, root: &Path, parts: usize) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut members = vec!["\"run\"".to_string()];
    members.extend((0..parts).map(|k| format!("\"part{k}\"")));
    let manifest = format!(
        "# A symgrad-fuzz batch (generated); not part of the symgrad workspace.\n[workspace]\n\
         members = [{}]\nresolver = \"3\"\n\n{PROFILE}",
        members.join(", ")
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(
        &dir.join("Cargo.lock"),
        &fs::read_to_string(root.join("Cargo.lock"))?,
    )?;
    let symgrad = format!("symgrad = {{ path = {:?} }}", root.display().to_string());
    let mut run_deps = String::new();
    for k in 0..parts {
        let part = dir.join(format!("part{k}"));
        fs::create_dir_all(part.join("src"))?;
        let m = format!(
            "[package]\nname = \"part{k}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{symgrad}\n"
        );
        write_if_changed(&part.join("Cargo.toml"), &m)?;
        write_if_changed(&part.join("src/dual.rs"), include_str!("../dual.rs"))?;
        write_if_changed(
            &part.join("src/check_support.rs"),
            include_str!("../check_support.rs"),
        )?;
        let _ = writeln!(run_deps, "part{k} = {{ path = \"../part{k}\" }}");
    }
    fs::create_dir_all(dir.join("run/src"))?;
    let m = format!(
        "[package]\nname = \"run\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [[bin]]\nname = \"{package}\"\npath = \"src/main.rs\"\n\n[dependencies]\n{run_deps}"
    );
    write_if_changed(&dir.join("run/Cargo.toml"), &m)
}

/// Writes every part's `lib.rs` and program files and the `run` binary's `main.rs`.
/// `programs` holds each program's part, itself and its role; a program keeps its part from
/// build to build, so removing one leaves the other parts unchanged.
pub fn programs(
    dir: &Path,
    parts: usize,
    programs: &[(usize, &Program, Role)],
) -> io::Result<Vec<FileMap>> {
    let mut libs =
        vec![String::from("#![allow(warnings)]\n\npub mod check_support;\npub mod dual;\n"); parts];
    let mut table = String::new();
    let mut maps = Vec::new();
    for &(part, p, role) in programs {
        let _ = writeln!(libs[part], "pub mod {};", p.name());
        if role == Role::Test {
            let _ = writeln!(
                table,
                "        ({}, part{part}::{}::driver::check),",
                p.id,
                p.name()
            );
        }
        let (text, map) = program_file(p, role);
        write_if_changed(&dir.join(format!("part{part}/src/{}.rs", p.name())), &text)?;
        maps.push(map);
    }
    for (k, lib) in libs.iter().enumerate() {
        write_if_changed(&dir.join(format!("part{k}/src/lib.rs")), lib)?;
    }
    let main = format!(
        "//! A symgrad-fuzz batch (generated).\n#![allow(warnings)]\n\nfn main() {{\n    \
         part0::check_support::quiet_panics();\n    \
         let only: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();\n    \
         let all: &[(u64, fn())] = &[\n{table}    ];\n    \
         for &(id, check) in all {{\n        if only.is_empty() || only.contains(&id) {{\n            \
         check();\n            println!(\"D {{id}}\");\n        }}\n    }}\n}}\n"
    );
    write_if_changed(&dir.join("run/src/main.rs"), &main)?;
    Ok(maps)
}

/// A program's file: its functions, then (for a test) the oracle and the driver.
#[must_use]
pub fn program_file(p: &Program, role: Role) -> (String, FileMap) {
    let mut text = format!("//! Program {} (generated by symgrad-fuzz).\n\n", p.id);
    let mode = if role == Role::Test {
        Mode::Plain
    } else {
        Mode::Bare
    };
    text.push_str(&print::functions(p, mode));
    let oracle_line = text.lines().count() + 1;
    if role == Role::Test {
        text.push_str("pub mod oracle {\n    use crate::dual::*;\n\n");
        text.push_str(&print::functions(p, Mode::Oracle));
        text.push_str("}\n\n");
        text.push_str(&driver::module(p));
    }
    (text, FileMap { oracle_line })
}

/// Writes `text` unless the file already holds it (unchanged parts are not rebuilt).
fn write_if_changed(path: &Path, text: &str) -> io::Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text)
}

/// Removes the program files of an earlier batch in the same directory, but those of the
/// programs `keep` (rewritten only if they changed: a rerun of the same programs against the
/// same symgrad builds nothing).
pub fn clear_programs(dir: &Path, keep: &[u64]) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for part in entries {
        let part = part?.path();
        let is_part = part
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("part"));
        let Ok(files) = fs::read_dir(part.join("src")) else {
            continue;
        };
        for e in files.filter(|_| is_part) {
            let path = e?.path();
            if program_id(&path.to_string_lossy()).is_some_and(|id| !keep.contains(&id)) {
                fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// The program id of a path ending in `p<id>.rs`.
#[must_use]
pub fn program_id(path: &str) -> Option<u64> {
    let name = path.rsplit(['/', '\\']).next()?;
    name.strip_prefix('p')?.strip_suffix(".rs")?.parse().ok()
}
