//! Building a batch crate with cargo and reading rustc's diagnostics: each error mapped to its
//! file and line, with its code (`E0308`) when rustc gives one — the macro's own errors have
//! none.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use super::execute;

/// One error from the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file of its primary span (`src/p3.rs`), if it has one.
    pub file: Option<String>,
    /// The line of its primary span.
    pub line: usize,
    /// rustc's error code (`E0308`), `None` for the macro's errors and lints.
    pub code: Option<String>,
    /// The whole rendered diagnostic.
    pub text: String,
}

impl Diagnostic {
    /// The first line of the message.
    #[must_use]
    pub fn headline(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// The result of one `cargo build`.
#[derive(Debug, Clone)]
pub struct Built {
    /// Whether the build succeeded.
    pub ok: bool,
    /// The errors (empty on success).
    pub errors: Vec<Diagnostic>,
    /// The wall time of the build.
    pub time: Duration,
    /// cargo's whole stderr (for errors that map to no program).
    pub stderr: String,
    /// Whether it was killed at the time limit.
    pub timed_out: bool,
    /// The part crates that were still compiling when it was killed, or crashed.
    pub unfinished: Vec<usize>,
}

/// Cargo: `$CARGO` when run under cargo, else `cargo` on the path, with the variables that
/// describe *our* build removed (they would point the batch's build at our package).
#[must_use]
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let ours = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_")
            || key.starts_with("CARGO_CRATE_")
            || key.starts_with("CARGO_PRIMARY_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                key,
                "CARGO_TARGET_DIR" | "CARGO_BUILD_TARGET_DIR" | "OUT_DIR" | "CARGO_TARGET_TMPDIR"
            );
        if ours {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `cargo build --offline --keep-going` of the workspace in `dir` into `target` (every part
/// that can be built is, so one build reports the errors of all parts), killed after `limit`.
pub fn build(dir: &Path, target: &Path, limit: Duration, memory: u64) -> Result<Built, String> {
    let start = Instant::now();
    let since = SystemTime::now();
    let mut cmd = limited(memory);
    cmd.arg("build")
        .args(["--offline", "--keep-going"])
        .args(["--color", "never", "--message-format", "human"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target);
    let out = execute::output(cmd, limit).map_err(|e| format!("cannot run cargo: {e}"))?;
    let errors = parse(&out.stderr);
    let unfinished = if out.success {
        Vec::new()
    } else {
        unfinished(&out.stderr, &errors, target, since)
    };
    Ok(Built {
        ok: out.success,
        errors,
        time: start.elapsed(),
        stderr: out.stderr,
        timed_out: out.timed_out,
        unfinished,
    })
}

/// Cargo, and the rustc processes it starts, limited to `memory` bytes of address space each
/// (on Unix, through `sh`'s `ulimit -v`; 0: no limit): a macro expansion that blows up makes
/// its rustc fail instead of the machine.
fn limited(memory: u64) -> Command {
    if memory == 0 || !cfg!(unix) {
        return cargo();
    }
    let mut cmd = cargo();
    let program = cmd.get_program().to_os_string();
    cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v \"$0\" && exec \"$@\"")
        .arg((memory / 1024).to_string())
        .arg(program);
    for (key, value) in cargo().get_envs() {
        if value.is_none() {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The parts cargo started compiling (`Compiling part3 ...`) that neither produced a library
/// since `since` nor reported an error: still compiling at the time limit, or crashed (out of
/// memory).
fn unfinished(stderr: &str, errors: &[Diagnostic], target: &Path, since: SystemTime) -> Vec<usize> {
    let started = stderr.lines().filter_map(|l| {
        l.trim_start()
            .strip_prefix("Compiling part")?
            .split(' ')
            .next()?
            .parse()
            .ok()
    });
    let failed = |k: usize| {
        errors.iter().any(|e| {
            e.file
                .as_deref()
                .is_some_and(|f| f.starts_with(&format!("part{k}/")))
        })
    };
    started
        .filter(|&k| !failed(k) && !fresh_library(target, k, since))
        .collect()
}

/// Whether `libpart<k>-*.rlib` was written since `since`.
fn fresh_library(target: &Path, k: usize, since: SystemTime) -> bool {
    let Ok(entries) = fs::read_dir(target.join("debug").join("deps")) else {
        return false;
    };
    let prefix = format!("libpart{k}-");
    entries.filter_map(Result::ok).any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(&prefix)
            && Path::new(&name).extension().is_some_and(|x| x == "rlib")
            && e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
    })
}

/// The errors in rustc's human-readable output.
#[must_use]
pub fn parse(stderr: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in stderr.lines() {
        let starts = line.starts_with("error")
            || line.starts_with("warning")
            || line.starts_with("   Compiling");
        if starts {
            if let Some(lines) = current.take() {
                out.extend(diagnostic(&lines));
            }
        }
        match current.as_mut() {
            Some(lines) => lines.push(line),
            None if starts => current = Some(vec![line]),
            None => {}
        }
    }
    if let Some(lines) = current {
        out.extend(diagnostic(&lines));
    }
    out
}

/// One rendered error (warnings, progress and cargo's summary lines give `None`).
fn diagnostic(lines: &[&str]) -> Option<Diagnostic> {
    let head = lines.first()?;
    if !head.starts_with("error")
        || head.starts_with("error: could not compile")
        || head.starts_with("error: aborting")
    {
        return None;
    }
    let code = head
        .strip_prefix("error[")
        .and_then(|r| r.split(']').next())
        .map(str::to_string);
    let location = lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("--> "));
    let (file, line) = match location.map(|l| l.rsplitn(3, ':').collect::<Vec<_>>()) {
        Some(parts) if parts.len() == 3 => {
            (Some(parts[2].to_string()), parts[1].parse().unwrap_or(0))
        }
        _ => (None, 0),
    };
    Some(Diagnostic {
        file,
        line,
        code,
        text: lines.join("\n").trim_end().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn errors_map_to_file_line_and_code() {
        let stderr = "   Compiling batch v0.0.0 (/tmp/b)\n\
            error[E0308]: mismatched types\n  --> src/p3.rs:10:5\n   |\n10 |     x\n\n\
            error: `while` is not supported\n\n       = help: write a `for` loop\n --> src/p12.rs:4:9\n  |\n\n\
            warning: unused variable\n --> src/p1.rs:1:1\n\n\
            error: could not compile `batch` (bin \"batch\") due to 2 previous errors\n";
        let d = parse(stderr);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].file.as_deref(), d[0].line, d[0].code.as_deref()),
            (Some("src/p3.rs"), 10, Some("E0308"))
        );
        assert_eq!(
            (d[1].file.as_deref(), d[1].line, d[1].code.as_deref()),
            (Some("src/p12.rs"), 4, None)
        );
        assert_eq!(d[1].headline(), "error: `while` is not supported");
    }
}
