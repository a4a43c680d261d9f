//! Shrinking a failing program: apply every one-step reduction (`edits`), build the candidates
//! as one batch (smallest first, a chunk at a time), keep the smallest that still fails the same
//! way, and repeat until no reduction does.

mod edits;

use std::time::{Duration, Instant};

pub use edits::{candidates, size};

use crate::ast::Program;
use crate::harness::{self, Class, Config, Finding, report};

/// What "fails the same way" compares: the class, and for build failures the first line of
/// the first error with its quoted names blanked (`cannot find value `…` in this scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    class: Class,
    headline: Option<String>,
}

impl Signature {
    /// The signature of a finding.
    #[must_use]
    pub fn of(f: &Finding) -> Self {
        let build = matches!(
            f.class,
            Class::NoCompile | Class::Rejected | Class::MacroPanic
        );
        let headline = build
            .then(|| f.issues.iter().find(|i| i.class == f.class))
            .flatten()
            .map(|i| report::blank_quoted(i.detail.lines().next().unwrap_or("")));
        Self {
            class: f.class,
            headline,
        }
    }
}

/// Limits of one shrink.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Candidates per build.
    pub chunk: usize,
    /// Stop after this long (keeping the best so far).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            chunk: 48,
            time: Duration::from_secs(600),
        }
    }
}

/// `program` as candidate `k` of a shrink batch (ids must be distinct within a batch).
fn renamed(program: &Program, id: u64) -> Program {
    let mut q = program.clone();
    q.id = id;
    q.main.name = q.name();
    q
}

/// The smallest program found that fails like `finding` (the finding itself if none).
pub fn shrink(config: &Config, finding: &Finding, limits: Limits) -> Result<Finding, String> {
    let start = Instant::now();
    let sig = Signature::of(finding);
    let mut quiet = config.clone();
    quiet.verbose = false;
    // Candidates are small: a build that takes long is a blow-up, not worth waiting for.
    quiet.build_limit = quiet.build_limit.min(Duration::from_secs(60));
    let slot = harness::claim(config)?;
    let mut best = finding.clone();
    let point = finding.issues.iter().find_map(|i| i.point).unwrap_or(0);
    if let Some(p) = finding.program.points.get(point) {
        best.program.points = vec![p.clone()];
    }
    'rounds: while start.elapsed() < limits.time {
        let all = candidates(&best.program);
        for chunk in all.chunks(limits.chunk.max(1)) {
            let batch: Vec<Program> = chunk.iter().zip(0..).map(|(q, k)| renamed(q, k)).collect();
            let report = harness::run_batch(&quiet, &slot, &batch)?;
            let winner = report
                .findings
                .iter()
                .filter(|f| Signature::of(f) == sig)
                .min_by_key(|f| (size(&f.program), f.program.id));
            if let Some(w) = winner {
                best = w.clone();
                if config.verbose {
                    let secs = start.elapsed().as_secs();
                    println!("  {secs:>4} s: {} bytes", size(&best.program));
                }
                continue 'rounds;
            }
            if start.elapsed() >= limits.time {
                break 'rounds;
            }
        }
        break;
    }
    let (from, to) = (
        format!("/{}.rs", best.program.name()),
        format!("/{}.rs", finding.program.name()),
    );
    for issue in &mut best.issues {
        issue.detail = issue.detail.replace(&from, &to);
    }
    best.program = renamed(&best.program, finding.program.id);
    Ok(best)
}

#[cfg(test)]
mod tests {
    use crate::harness::report::blank_quoted;

    #[test]
    fn quoted_names_are_blanked_in_headlines() {
        assert_eq!(
            blank_quoted("error[E0425]: cannot find value `__i12` in this scope"),
            "error[E0425]: cannot find value `…` in this scope"
        );
    }
}
