//! The run's report: counts per failure class, per-batch build times, and each failing program
//! written out with what failed and where.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ast::{Program, Value};
use crate::print::{self, Mode};

/// What went wrong with a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A partial derivative (or a gradient field's length) disagrees with the oracle.
    Wrong,
    /// `_grad`'s value disagrees with the function's.
    Value,
    /// `_grad` panicked where the function did not.
    Panic,
    /// The macro accepted the function but its emitted code does not compile.
    NoCompile,
    /// The macro rejected the function (an error of its own, no rustc code).
    Rejected,
    /// The macro itself panicked.
    MacroPanic,
    /// Building the program alone took longer than the build time limit, or more memory than
    /// the limit (the macro, or rustc on its expansion).
    Slow,
    /// The fuzzer's own fault: invalid Rust generated, an oracle that disagrees with the
    /// function's value, a panic outside `_grad`, a timeout.
    Harness,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 8] = [
        Class::Wrong,
        Class::Value,
        Class::Panic,
        Class::NoCompile,
        Class::Rejected,
        Class::MacroPanic,
        Class::Slow,
        Class::Harness,
    ];

    /// A short description.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Class::Wrong => "wrong gradient",
            Class::Value => "wrong value",
            Class::Panic => "panicking _grad",
            Class::NoCompile => "emitted code did not compile",
            Class::Rejected => "rejected by the macro",
            Class::MacroPanic => "macro panicked",
            Class::Slow => "too slow or too big to build",
            Class::Harness => "fuzzer's own fault",
        }
    }
}

/// One disagreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Its class.
    pub class: Class,
    /// The input point (index into the program's points), `None` for build errors.
    pub point: Option<usize>,
    /// What disagreed, or the compiler's message.
    pub detail: String,
}

/// A failing program.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The program.
    pub program: Program,
    /// Its class (the most serious of its issues).
    pub class: Class,
    /// What failed.
    pub issues: Vec<Issue>,
}

impl Finding {
    /// A finding from its issues (not empty), classed by the fuzzer's own fault if any, else
    /// by the first of its classes in [`Class::ALL`] order.
    #[must_use]
    pub fn new(program: Program, issues: Vec<Issue>) -> Self {
        let class = if issues.iter().any(|i| i.class == Class::Harness) {
            Class::Harness
        } else {
            issues
                .iter()
                .map(|i| i.class)
                .min()
                .unwrap_or(Class::Harness)
        };
        Self {
            program,
            class,
            issues,
        }
    }

    /// The program's source, what failed (at most 8 issues) and the points involved.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = format!(
            "// symgrad-fuzz: program {}: {}\n",
            self.program.id,
            self.class.describe()
        );
        for issue in self.issues.iter().take(8) {
            let at = issue
                .point
                .map(|k| format!("[point {k}] "))
                .unwrap_or_default();
            for (i, line) in issue.detail.lines().enumerate() {
                let at = if i == 0 { at.as_str() } else { "" };
                let _ = writeln!(out, "//   {at}{line}");
            }
        }
        if self.issues.len() > 8 {
            let _ = writeln!(out, "//   ... and {} more", self.issues.len() - 8);
        }
        let mut points: Vec<usize> = self.issues.iter().filter_map(|i| i.point).collect();
        points.dedup();
        for k in points.into_iter().take(3) {
            if let Some(p) = self.program.points.get(k) {
                let _ = writeln!(out, "// point {k}: {}", point_text(&self.program, p));
            }
        }
        out.push('\n');
        out.push_str(&print::functions(&self.program, Mode::Plain));
        out
    }
}

/// `s` with each `` `quoted` `` part replaced by `` `…` `` (`cannot find value `…` in this
/// scope`): one kind of error, whatever the names.
#[must_use]
pub fn blank_quoted(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(k, part)| if k % 2 == 1 { "…" } else { part })
        .collect::<Vec<_>>()
        .join("`")
}

/// `n = 2, x = [0.1, -0.3], a = 0.5`.
#[must_use]
pub fn point_text(program: &Program, point: &[Value]) -> String {
    let parts: Vec<String> = program
        .main
        .params
        .iter()
        .zip(point)
        .map(|(p, v)| match v {
            Value::Size(n) => format!("{} = {n}", p.name),
            Value::Scalar(x) => format!("{} = {x:?}", p.name),
            Value::Slice(xs) => format!("{} = {xs:?}", p.name),
        })
        .collect();
    parts.join(", ")
}

/// One batch's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStat {
    /// Programs in it.
    pub programs: usize,
    /// Total build time (all rebuilds).
    pub build: Duration,
    /// How many times it was built (1 + rebuilds after removing failing programs).
    pub builds: usize,
    /// Time running the checks.
    pub run: Duration,
}

/// The whole run's results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Programs generated.
    pub generated: usize,
    /// Programs whose checks all ran.
    pub checked: usize,
    /// Comparisons made.
    pub checks: usize,
    /// Of those, components of `H·v` (programs with `hessian`, the `hvp` weight).
    pub hvp_checks: usize,
    /// Programs generated with `hessian`.
    pub hvp_programs: usize,
    /// Of those, programs whose main function calls a helper (its Hessian goes through calls).
    pub hvp_call_programs: usize,
    /// Of those, programs writing a scan (`z[i] = f(z[i - 1])`, in the main function or a
    /// helper).
    pub hvp_scan_programs: usize,
    /// Components of `H·v` checked in those.
    pub hvp_scan_checks: usize,
    /// Programs whose main function passes a local array to a helper (`&z`, `&[a, b]`).
    pub local_array_programs: usize,
    /// Of those, programs with `hessian`.
    pub hvp_local_array_programs: usize,
    /// Partials skipped (oracle not finite).
    pub skipped: usize,
    /// Checks skipped as ill-conditioned.
    pub ill: usize,
    /// The failing programs.
    pub findings: Vec<Finding>,
    /// Per batch.
    pub batches: Vec<BatchStat>,
}

impl Report {
    /// Failing programs of `class`.
    #[must_use]
    pub fn count(&self, class: Class) -> usize {
        self.findings.iter().filter(|f| f.class == class).count()
    }

    /// Failing programs of any class.
    #[must_use]
    pub fn failures(&self) -> usize {
        self.findings.len()
    }

    /// For build failures of `class`: how many programs per first error line (quoted names
    /// blanked), most frequent first.
    #[must_use]
    pub fn headlines(&self, class: Class) -> Vec<(String, usize)> {
        if !matches!(
            class,
            Class::NoCompile | Class::Rejected | Class::MacroPanic
        ) {
            return Vec::new();
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for f in self.findings.iter().filter(|f| f.class == class) {
            let Some(issue) = f.issues.iter().find(|i| i.class == class) else {
                continue;
            };
            let headline = blank_quoted(issue.detail.lines().next().unwrap_or(""));
            match counts.iter_mut().find(|(h, _)| *h == headline) {
                Some((_, n)) => *n += 1,
                None => counts.push((headline, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// Adds a batch's report to this one.
    pub fn absorb(&mut self, other: Report) {
        self.generated += other.generated;
        self.checked += other.checked;
        self.checks += other.checks;
        self.hvp_checks += other.hvp_checks;
        self.hvp_programs += other.hvp_programs;
        self.hvp_call_programs += other.hvp_call_programs;
        self.hvp_scan_programs += other.hvp_scan_programs;
        self.hvp_scan_checks += other.hvp_scan_checks;
        self.local_array_programs += other.local_array_programs;
        self.hvp_local_array_programs += other.hvp_local_array_programs;
        self.skipped += other.skipped;
        self.ill += other.ill;
        self.findings.extend(other.findings);
        self.batches.extend(other.batches);
    }

    /// A few lines: the counts per class, the build times.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} programs generated, {} checked ({} comparisons; skipped: {} where the oracle is not finite, \
             {} ill-conditioned)\n",
            self.generated, self.checked, self.checks, self.skipped, self.ill
        );
        if self.hvp_checks > 0 {
            let _ = writeln!(
                out,
                "  of the comparisons, {} of `_hvp`'s H·v against differences of `_grad` ({} programs with `hessian`, {} of them calling a helper)",
                self.hvp_checks, self.hvp_programs, self.hvp_call_programs
            );
        }
        if self.hvp_scan_programs > 0 {
            let _ = writeln!(
                out,
                "  {} programs with `hessian` write a scan ({} comparisons of H·v in them)",
                self.hvp_scan_programs, self.hvp_scan_checks
            );
        }
        if self.local_array_programs > 0 {
            let _ = writeln!(
                out,
                "  {} programs pass a local array to a helper ({} of them with `hessian`)",
                self.local_array_programs, self.hvp_local_array_programs
            );
        }
        for class in Class::ALL {
            let _ = writeln!(out, "  {:>5}  {}", self.count(class), class.describe());
            for (headline, n) in self.headlines(class) {
                let _ = writeln!(out, "         {n:>5} × {headline}");
            }
        }
        let builds: Vec<String> = self
            .batches
            .iter()
            .map(|b| {
                format!(
                    "{:.1} s ({} programs, {} builds)",
                    b.build.as_secs_f64(),
                    b.programs,
                    b.builds
                )
            })
            .collect();
        let total: f64 = self.batches.iter().map(|b| b.build.as_secs_f64()).sum();
        let run: f64 = self.batches.iter().map(|b| b.run.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "build {total:.1} s: {}; checks ran {run:.1} s",
            builds.join(", ")
        );
        out
    }

    /// Writes each failing program to `dir/seed<seed>-p<id>.rs`.
    pub fn write_failures(&self, dir: &Path, seed: u64) -> io::Result<Vec<PathBuf>> {
        fs::create_dir_all(dir)?;
        let mut paths = Vec::new();
        for f in &self.findings {
            let path = dir.join(format!("seed{seed}-p{}.rs", f.program.id));
            fs::write(&path, f.render())?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// Removes the files an earlier run of `seed` wrote to `dir` for the programs `ids`.
pub fn clear_failures(dir: &Path, seed: u64, ids: std::ops::Range<u64>) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    let prefix = format!("seed{seed}-p");
    for e in entries {
        let path = e?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let id = name
            .strip_prefix(&prefix)
            .and_then(|r| r.split('.').next())
            .and_then(|n| n.parse::<u64>().ok());
        if id.is_some_and(|id| ids.contains(&id)) {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}
