//! The harness: programs in batches, each batch written as a standalone crate under
//! `target/symgrad-fuzz/`, built with cargo (programs whose build fails are classified from
//! rustc's errors, removed, and the rest rebuilt), run (a crash or a hang is pinned on its
//! program and the rest rerun), and judged into a [`Report`].

mod build;
mod driver;
mod execute;
pub mod report;
mod results;
mod slot;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use build::{Diagnostic, cargo};
pub use report::{BatchStat, Class, Finding, Issue, Report};
pub use results::{GRAD_TOL, VALUE_TOL, close};
pub use slot::Slot;
pub use write::{Role, program_file};

use crate::ast::Program;
use crate::r#gen::{self, Weights};
use results::Outcome;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The run's seed: program `k` of seed `s` is the same in every run.
    pub seed: u64,
    /// The first program id.
    pub first: u64,
    /// How many programs.
    pub programs: u64,
    /// Programs per crate build.
    pub batch: u64,
    /// The generator's weights.
    pub weights: Weights,
    /// The symgrad workspace (the generated crates depend on it, and copy its `Cargo.lock`).
    pub root: PathBuf,
    /// Where batches, their shared target directory and the failures go.
    pub work: PathBuf,
    /// The time limit of one run of a batch's checks.
    pub limit: Duration,
    /// The time limit of one build of a batch (past it, the parts still compiling are split
    /// into one crate per program, and a program still compiling alone is too slow).
    pub build_limit: Duration,
    /// The address space of each rustc, in bytes (0: unlimited). A part whose rustc runs out
    /// is split like a slow one.
    pub memory_limit: u64,
    /// Print each batch's line.
    pub verbose: bool,
}

impl Config {
    /// `programs` programs of seed `seed` in batches of `batch`, in this workspace's
    /// `target/symgrad-fuzz/`.
    #[must_use]
    pub fn new(seed: u64, programs: u64, batch: u64) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let work = root.join("target").join("symgrad-fuzz");
        Self {
            seed,
            first: 0,
            programs,
            batch: batch.max(1),
            weights: Weights::default(),
            root,
            work,
            limit: Duration::from_secs(300),
            build_limit: Duration::from_secs(240),
            memory_limit: 3 << 30,
            verbose: true,
        }
    }

    /// Where the failing programs are written.
    #[must_use]
    pub fn failures_dir(&self) -> PathBuf {
        self.work.join("failures")
    }
}

/// Generates, builds, runs and judges every program of `config`, batch after batch, writing
/// each batch's failing programs to [`Config::failures_dir`].
pub fn run(config: &Config) -> Result<Report, String> {
    let end = config.first + config.programs;
    report::clear_failures(&config.failures_dir(), config.seed, config.first..end)
        .map_err(|e| format!("clearing failures: {e}"))?;
    let slot = claim(config)?;
    let mut report = Report::default();
    let mut id = config.first;
    while id < end {
        let count = config.batch.min(end - id);
        let programs: Vec<Program> = (id..id + count)
            .map(|i| r#gen::program(config.seed, i, &config.weights))
            .collect();
        let batch = run_batch(config, &slot, &programs)?;
        if config.verbose {
            let stat = batch.batches.last().cloned();
            let (build, builds, run) = stat.map_or((0.0, 0, 0.0), |b| {
                (b.build.as_secs_f64(), b.builds, b.run.as_secs_f64())
            });
            println!(
                "symgrad-fuzz: programs {id}..{}: build {build:.1} s ({builds} builds), checks {run:.1} s, {} failing",
                id + count,
                batch.failures()
            );
        }
        batch
            .write_failures(&config.failures_dir(), config.seed)
            .map_err(|e| format!("writing failures: {e}"))?;
        report.absorb(batch);
        id += count;
    }
    Ok(report)
}

/// Claims a batch directory and target directory of its own for `config`'s seed (released when
/// the slot is dropped).
pub fn claim(config: &Config) -> Result<Slot, String> {
    slot::claim(&config.work, config.seed).map_err(|e| format!("claiming a batch directory: {e}"))
}

/// Builds and runs one batch in `slot`.
pub fn run_batch(config: &Config, slot: &Slot, programs: &[Program]) -> Result<Report, String> {
    let ids: Vec<u64> = programs.iter().map(|p| p.id).collect();
    write::clear_programs(&slot.dir, &ids)
        .map_err(|e| format!("writing {}: {e}", slot.dir.display()))?;
    let mut compiled = compile(config, slot, programs)?;
    let start = Instant::now();
    let outcomes = if compiled.tested.is_empty() {
        BTreeMap::new()
    } else {
        check(config, slot, &compiled.tested)?
    };
    let mut report = Report {
        generated: programs.len(),
        hvp_programs: programs.iter().filter(|p| p.main.hessian).count(),
        hvp_call_programs: programs
            .iter()
            .filter(|p| p.main.hessian)
            .filter(|p| {
                crate::second_order::helper_calls(&p.main, &p.helpers).is_some_and(|n| n > 0)
            })
            .count(),
        local_array_programs: programs
            .iter()
            .filter(|p| p.main.passes_local_array())
            .count(),
        hvp_scan_programs: programs
            .iter()
            .filter(|p| p.main.hessian && p.has_scan())
            .count(),
        hvp_local_array_programs: programs
            .iter()
            .filter(|p| p.main.hessian && p.main.passes_local_array())
            .count(),
        ..Report::default()
    };
    for (k, p) in programs.iter().enumerate() {
        let mut issues = std::mem::take(&mut compiled.issues[k]);
        if let Some(o) = outcomes.get(&p.id) {
            report.checks += o.checks;
            report.hvp_checks += o.hvp_checks;
            if p.main.hessian && p.has_scan() {
                report.hvp_scan_checks += o.hvp_checks;
            }
            report.skipped += o.skipped;
            report.ill += o.ill;
            issues.extend(o.issues.iter().cloned());
            if o.done && !o.issues.iter().any(|i| i.class == Class::Harness) {
                report.checked += 1;
            }
        }
        if !issues.is_empty() {
            report.findings.push(Finding::new(p.clone(), issues));
        }
    }
    report.batches.push(BatchStat {
        programs: programs.len(),
        build: compiled.time,
        builds: compiled.builds,
        run: start.elapsed(),
    });
    Ok(report)
}

/// What compiling a batch left.
struct Compiled {
    /// The ids of the programs built with their checks.
    tested: Vec<u64>,
    /// The build issues, per program (by position).
    issues: Vec<Vec<Issue>>,
    /// Total build time.
    time: Duration,
    /// Number of builds.
    builds: usize,
}

/// At most this many builds per batch (each removes at least one program or splits a part).
const MAX_BUILDS: usize = 16;

/// Builds the batch, removing the programs rustc reports errors in until the rest build.
/// A program whose emitted code does not compile is rebuilt once without the attribute: if
/// that fails too, the generator wrote invalid Rust. A part still compiling at the build time
/// limit is split into one part per program; a program still compiling alone is too slow.
fn compile(config: &Config, slot: &Slot, programs: &[Program]) -> Result<Compiled, String> {
    let dir = &slot.dir;
    let mut roles: Vec<Option<Role>> = vec![Some(Role::Test); programs.len()];
    let mut part_of: Vec<usize> = (0..programs.len()).map(|k| k / write::PART_SIZE).collect();
    let mut c = Compiled {
        tested: Vec::new(),
        issues: vec![Vec::new(); programs.len()],
        time: Duration::ZERO,
        builds: 0,
    };
    while c.builds < MAX_BUILDS {
        let active: Vec<(usize, Role)> = roles
            .iter()
            .enumerate()
            .filter_map(|(k, r)| r.map(|r| (k, r)))
            .collect();
        if active.is_empty() {
            return Ok(c);
        }
        let listed: Vec<(usize, &Program, Role)> = active
            .iter()
            .map(|&(k, r)| (part_of[k], &programs[k], r))
            .collect();
        let parts = part_of.iter().max().map_or(1, |m| m + 1);
        let io = |e: std::io::Error| format!("writing {}: {e}", dir.display());
        write::skeleton(dir, &slot.package, &config.root, parts).map_err(io)?;
        let maps = write::programs(dir, parts, &listed).map_err(io)?;
        let built = build::build(dir, &slot.target, config.build_limit, config.memory_limit)?;
        c.builds += 1;
        c.time += built.time;
        if built.ok {
            c.tested = active
                .iter()
                .filter(|(_, r)| *r == Role::Test)
                .map(|&(k, _)| programs[k].id)
                .collect();
            return Ok(c);
        }
        if built.timed_out || !built.unfinished.is_empty() {
            split_slow(
                config,
                &built,
                &active,
                &mut part_of,
                &mut roles,
                &mut c.issues,
            )?;
        }
        for (pos, diags) in errors_by_program(&built, &listed)? {
            let (k, role) = active[pos];
            let issues = classify(&diags, role, maps[pos].oracle_line);
            let retry = role == Role::Test && issues.iter().all(|i| i.class == Class::NoCompile);
            roles[k] = if retry { Some(Role::Control) } else { None };
            c.issues[k].extend(issues);
        }
        // Controls that built with no error of their own stay until a build succeeds.
    }
    Err(format!("batch still failing after {MAX_BUILDS} builds"))
}

/// After a build killed at the time limit or with a crashed rustc: each part still compiling
/// (or crashed) becomes one part per program, and a program that was alone in its part is too
/// slow or too big to build (removed).
fn split_slow(
    config: &Config,
    built: &build::Built,
    active: &[(usize, Role)],
    part_of: &mut [usize],
    roles: &mut [Option<Role>],
    issues: &mut [Vec<Issue>],
) -> Result<(), String> {
    if built.unfinished.is_empty() {
        return Err(format!(
            "build timed out after {:?} with no part compiling",
            config.build_limit
        ));
    }
    let mut next = part_of.iter().max().map_or(0, |m| m + 1);
    for &part in &built.unfinished {
        let members: Vec<usize> = active
            .iter()
            .map(|&(k, _)| k)
            .filter(|&k| part_of[k] == part)
            .collect();
        if let [k] = members[..] {
            roles[k] = None;
            let detail = if built.timed_out {
                format!(
                    "still compiling after {:?}, alone in its crate",
                    config.build_limit
                )
            } else {
                format!(
                    "rustc crashed on it, alone in its crate (address space limit {} MiB):\n{}",
                    config.memory_limit >> 20,
                    crash_excerpt(&built.stderr)
                )
            };
            issues[k].push(Issue {
                class: Class::Slow,
                point: None,
                detail,
            });
            continue;
        }
        for k in members {
            part_of[k] = next;
            next += 1;
        }
    }
    Ok(())
}

/// cargo's lines about a crashed rustc.
fn crash_excerpt(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains("memory allocation")
                || l.contains("signal")
                || l.contains("could not compile")
        })
        .take(6)
        .collect();
    lines.join("\n")
}

/// The errors of a failed build grouped by the position (in `listed`) of their program; an
/// error elsewhere (symgrad itself, the batch's `main.rs`) stops the run.
fn errors_by_program(
    built: &build::Built,
    listed: &[(usize, &Program, Role)],
) -> Result<BTreeMap<usize, Vec<Diagnostic>>, String> {
    if built.timed_out && built.errors.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut out: BTreeMap<usize, Vec<Diagnostic>> = BTreeMap::new();
    for d in &built.errors {
        let id = d.file.as_deref().and_then(write::program_id);
        let pos = id.and_then(|id| listed.iter().position(|(_, p, _)| p.id == id));
        match pos {
            Some(pos) => out.entry(pos).or_default().push(d.clone()),
            None => return Err(format!("build failed outside the programs:\n{}", d.text)),
        }
    }
    if out.is_empty() && !built.timed_out && built.unfinished.is_empty() {
        let tail: Vec<&str> = built.stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "build failed with no error mapped to a program:\n{}",
            tail.join("\n")
        ));
    }
    Ok(out)
}

/// The issues of one program's build errors.
fn classify(diags: &[Diagnostic], role: Role, oracle_line: usize) -> Vec<Issue> {
    let excerpt = |d: &Diagnostic| {
        let lines = d
            .text
            .lines()
            .filter(|l| !l.starts_with("For more information"));
        lines
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string()
    };
    diags
        .iter()
        .map(|d| {
            let class = match (role, &d.code) {
                (Role::Control, _) => Class::Harness,
                _ if d.line >= oracle_line => Class::Harness,
                (_, Some(_)) => Class::NoCompile,
                _ if d.text.contains("panicked") => Class::MacroPanic,
                _ if d.text.contains("#[deny(") => Class::NoCompile,
                _ => Class::Rejected,
            };
            let note = match role {
                Role::Control => "the generated Rust does not compile even without the macro:\n",
                Role::Test => "",
            };
            Issue {
                class,
                point: None,
                detail: format!("{note}{}", excerpt(d)),
            }
        })
        .collect()
}

/// Runs the checks of the programs `ids`; a crash or a hang is pinned on the program that was
/// running (the first not done) and the rest are rerun.
fn check(config: &Config, slot: &Slot, ids: &[u64]) -> Result<BTreeMap<u64, Outcome>, String> {
    let bin = slot.target.join("debug").join(&slot.package);
    let mut outcomes: BTreeMap<u64, Outcome> =
        ids.iter().map(|&id| (id, Outcome::default())).collect();
    let mut remaining: Vec<u64> = ids.to_vec();
    let mut first = true;
    while !remaining.is_empty() {
        let only = if first { Vec::new() } else { remaining.clone() };
        first = false;
        let ran = execute::run(&bin, &only, config.limit)?;
        for line in ran.stdout.lines() {
            if let Some(o) = results::program_of(line).and_then(|id| outcomes.get_mut(&id)) {
                results::judge(o, line);
            }
        }
        remaining.retain(|id| !outcomes[id].done);
        let Some(&culprit) = remaining.first() else {
            break;
        };
        let o = outcomes
            .get_mut(&culprit)
            .expect("remaining ids have outcomes");
        let point = o.issues.last().and_then(|i| i.point);
        let (class, what) = if ran.timed_out {
            (
                Class::Harness,
                format!("timed out after {:?}", config.limit),
            )
        } else if ran.success {
            (
                Class::Harness,
                "the batch exited before running it".to_string(),
            )
        } else {
            (
                Class::Panic,
                format!("the process aborted: {}", ran.stderr.trim()),
            )
        };
        o.issues.push(Issue {
            class,
            point,
            detail: what,
        });
        o.done = true;
        remaining.remove(0);
    }
    Ok(outcomes)
}
