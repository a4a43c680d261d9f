//! A fixed-seed sample of the differential fuzzer: 300 random programs built with the real
//! macro, every emitted `_grad` checked against the dual-number oracle at three points. Any
//! failure — a wrong gradient or value, emitted code that does not compile, a rejection, a
//! panic — fails the test, with each failing program printed (and written to
//! `target/symgrad-fuzz/failures/`). Long runs: `cargo run -p symgrad-fuzz --release -- --help`.

use symgrad_fuzz::{Config, run};

/// The sample's seed: fixed, so a failure here reproduces with
/// `cargo run -p symgrad-fuzz --release -- --seed 1 --programs 300`.
const SEED: u64 = 1;
/// Programs in the sample: one batch.
const PROGRAMS: u64 = 300;
/// Knobs held at 0 in the sample (none: the shapes of `break` the macro rejects by design are
/// off by default, see `exit_after_continue` and `inner_exit_floats` in `gen/weights.rs`, and
/// so are the two shapes of local arrays it rejects, `local_array_break_reads` and
/// `local_array_in_recurrence`; local arrays themselves are on, `local_array` and
/// `local_array_loop`, in about a third of the programs).
const HELD: [&str; 0] = [];

#[test]
fn a_fixed_seed_sample_of_random_programs_matches_the_oracle() {
    let mut config = Config::new(SEED, PROGRAMS, PROGRAMS);
    for knob in HELD {
        config
            .weights
            .set(knob, 0)
            .expect("a weight of the generator");
    }
    config.verbose = true;
    let report = run(&config).expect("the fuzzer's harness runs");
    let summary = report.summary();
    println!("{summary}");
    let shown: Vec<String> = report
        .findings
        .iter()
        .take(12)
        .map(symgrad_fuzz::harness::Finding::render)
        .collect();
    assert!(
        report.failures() == 0,
        "{summary}{} failing programs (all in {}); the first {}:\n\n{}",
        report.failures(),
        config.failures_dir().display(),
        shown.len(),
        shown.join("\n")
    );
    assert!(
        report.checked >= 250 && report.checks > 2000,
        "too few checks ran:\n{summary}"
    );
}
