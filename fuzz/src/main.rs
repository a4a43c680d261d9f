//! `symgrad-fuzz`: long differential-fuzzing runs of `#[differentiable]`.
//!
//! ```text
//! cargo run -p symgrad-fuzz --release -- --seed 1 --programs 10000 --batch 400
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use symgrad_fuzz::shrink::{self, Limits, Signature};
use symgrad_fuzz::{Config, Report, run};

const USAGE: &str = "usage: symgrad-fuzz [--seed S] [--programs N] [--batch B] [--first ID] \
[--weight NAME=VALUE]... [--show K] [--shrink K] [--quiet] [--list-weights]

  --seed S            the run's seed (program k of seed S is always the same)  [1]
  --programs N        how many programs                                       [400]
  --batch B           programs per crate build                                [400]
  --first ID          the first program id                                     [0]
  --weight NAME=V     a generator weight (see --list-weights)
  --show K            print the first K failing programs in full              [10]
  --shrink K          reduce up to K failing programs (one per kind of failure
                      first) while they fail the same way; written as *.min.rs [0]
  --symgrad PATH      the symgrad checkout the programs are built against
                      (its Cargo.lock is copied)                    [this workspace]
  --work DIR          where batches, target directories and failures go
                                              [<workspace>/target/symgrad-fuzz]
  --build-limit SECS  kill a build after this long; a program still compiling
                      alone in its crate is reported as too slow          [240]
  --quiet             no per-batch progress lines";

/// The options besides the configuration.
struct Options {
    show: usize,
    shrink: usize,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, options) = match parse(&args) {
        Ok(Some(c)) => c,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(report) => finish(&config, &report, &options),
        Err(e) => {
            eprintln!("symgrad-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

/// The configuration and options; `None` when only listing weights.
fn parse(args: &[String]) -> Result<Option<(Config, Options)>, String> {
    let mut config = Config::new(1, 400, 400);
    let mut options = Options {
        show: 10,
        shrink: 0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: &String| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--seed" => config.seed = number(value()?)?,
            "--programs" => config.programs = number(value()?)?,
            "--batch" => config.batch = number(value()?)?.max(1),
            "--first" => config.first = number(value()?)?,
            "--show" => options.show = usize::try_from(number(value()?)?).unwrap_or(usize::MAX),
            "--shrink" => options.shrink = usize::try_from(number(value()?)?).unwrap_or(usize::MAX),
            "--weight" => set_weight(&mut config, value()?)?,
            "--quiet" => config.verbose = false,
            "--symgrad" => config.root = PathBuf::from(value()?),
            "--work" => config.work = PathBuf::from(value()?),
            "--build-limit" => {
                config.build_limit = Duration::from_secs(number(value()?)?);
            }
            "--list-weights" => {
                for (name, v) in config.weights.table() {
                    println!("{name} = {v}");
                }
                return Ok(None);
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some((config, options)))
}

fn set_weight(config: &mut Config, spec: &str) -> Result<(), String> {
    let (name, v) = spec
        .split_once('=')
        .ok_or_else(|| format!("--weight {spec}: want NAME=VALUE"))?;
    let v = v.parse().map_err(|e| format!("--weight {spec}: {e}"))?;
    config.weights.set(name, v)
}

fn finish(config: &Config, report: &Report, options: &Options) -> ExitCode {
    for f in report.findings.iter().take(options.show) {
        println!("\n{}", f.render());
    }
    if report.failures() > 0 {
        println!(
            "failing programs written to {}",
            config.failures_dir().display()
        );
    }
    if options.shrink > 0 {
        shrink_some(config, report, options.shrink);
    }
    println!("\nsymgrad-fuzz seed {}: {}", config.seed, report.summary());
    if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Shrinks up to `count` findings, one per signature first, printing and writing each.
fn shrink_some(config: &Config, report: &Report, count: usize) {
    let mut order: Vec<usize> = Vec::new();
    let mut seen: Vec<Signature> = Vec::new();
    for (k, f) in report.findings.iter().enumerate() {
        let sig = Signature::of(f);
        if !seen.contains(&sig) {
            seen.push(sig);
            order.push(k);
        }
    }
    let rest: Vec<usize> = (0..report.findings.len())
        .filter(|k| !order.contains(k))
        .collect();
    order.extend(rest);
    for &k in order.iter().take(count) {
        let f = &report.findings[k];
        println!(
            "\nshrinking program {} ({})...",
            f.program.id,
            f.class.describe()
        );
        match shrink::shrink(config, f, Limits::default()) {
            Ok(small) => {
                let text = small.render();
                let path = config
                    .failures_dir()
                    .join(format!("seed{}-p{}.min.rs", config.seed, f.program.id));
                if let Err(e) = std::fs::write(&path, &text) {
                    eprintln!("writing {}: {e}", path.display());
                }
                println!("{text}");
            }
            Err(e) => eprintln!("shrinking program {}: {e}", f.program.id),
        }
    }
}
