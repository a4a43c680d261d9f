//! The loop workloads' ratios, measured robustly on a shared machine: the function alone, the
//! generated `*_grad` and the hand-written gradient are timed *interleaved* (one batch of each in
//! turn, 15 rounds), so a change of the machine's speed during the run hits all three alike; the
//! ratios of the best batches are printed, then those of the medians.
//! Run: `cargo bench --bench loop_ratios`.

use std::hint::black_box;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved, pretty};
#[path = "common/loop_workloads.rs"]
mod workloads;
use workloads::{
    data, linreg, linreg_grad, linreg_hand, log_sum_exp, log_sum_exp_grad, log_sum_exp_hand,
    log_sum_exp_stable, log_sum_exp_stable_grad, log_sum_exp_stable_hand, log_sum_exp_stopped,
    log_sum_exp_stopped_grad, lse_input, rosenbrock, rosenbrock_grad, rosenbrock_hand,
    rosenbrock_input,
};

const ROUNDS: usize = 15;

/// Times the three interleaved and prints one table row. Each closure passes its whole result
/// through `black_box` (a discarded gradient would be optimised away) and returns the value.
fn row(
    name: &str,
    reps: usize,
    mut function: impl FnMut() -> f64,
    mut generated: impl FnMut() -> f64,
    mut hand: impl FnMut() -> f64,
) {
    let schedule = Schedule {
        rounds: ROUNDS,
        reps,
        warm_call: false,
        rotate: false,
    };
    let t = interleaved(&schedule, &mut [&mut function, &mut generated, &mut hand]);
    let (best, median) = (|k: usize| t[k][0], |k: usize| t[k][ROUNDS / 2]);
    println!(
        "| {name} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        pretty(best(0)),
        pretty(best(1)),
        pretty(best(2)),
        best(1) / best(2),
        best(1) / best(0),
        median(1) / median(2),
        median(1) / median(0),
    );
}

/// A hand-written gradient as a caller uses it: into a new vector, returned with the value.
fn into_fresh_vector(hand: fn(&[f64], &mut [f64]) -> f64, x: &[f64]) -> f64 {
    let mut g = vec![0.0; x.len()];
    let v = hand(black_box(x), &mut g);
    black_box(g);
    v
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let scale = if quick { 1000 } else { 1 };
    println!(
        "| workload | function (best) | generated (best) | hand-written (best) | grad / hand | grad / function | grad / hand (medians) | grad / function (medians) |"
    );
    println!("|---|---|---|---|---|---|---|---|");

    let (x, y) = data(1_000_000 / scale);
    let (w, b) = (1.7, 0.2);
    row(
        "W1 linear regression, m = 10⁶",
        10,
        || linreg(black_box(w), black_box(b), black_box(&x), black_box(&y)),
        || {
            black_box(linreg_grad(
                black_box(w),
                black_box(b),
                black_box(&x),
                black_box(&y),
            ))
            .0
        },
        || {
            black_box(linreg_hand(
                black_box(w),
                black_box(b),
                black_box(&x),
                black_box(&y),
            ))
            .0
        },
    );

    for (n, reps) in [(1000, 2000), (1_000_000, 3)] {
        let x = rosenbrock_input(n / scale.min(n / 10));
        row(
            &format!("W2 Rosenbrock, n = {n}"),
            reps,
            || rosenbrock(black_box(&x)),
            || black_box(rosenbrock_grad(black_box(&x))).0,
            || into_fresh_vector(rosenbrock_hand, &x),
        );
    }

    let z = lse_input();
    row(
        "log Σ exp, n = 10⁴",
        200,
        || log_sum_exp(black_box(&z)),
        || black_box(log_sum_exp_grad(black_box(&z))).0,
        || into_fresh_vector(log_sum_exp_hand, &z),
    );
    row(
        "stable log Σ exp, n = 10⁴",
        200,
        || log_sum_exp_stable(black_box(&z)),
        || black_box(log_sum_exp_stable_grad(black_box(&z))).0,
        || into_fresh_vector(log_sum_exp_stable_hand, &z),
    );
    row(
        "stable log Σ exp, `stop_gradient(m)`, n = 10⁴",
        200,
        || log_sum_exp_stopped(black_box(&z)),
        || black_box(log_sum_exp_stopped_grad(black_box(&z))).0,
        || into_fresh_vector(log_sum_exp_stable_hand, &z),
    );
}
