//! Second derivatives through the two shapes whose generated code once did work twice:
//!
//! - a call given a differentiated slice: `ridge(w) = (dot(w, x) − y)²` over 10⁴ weights, its
//!   `H·v` through `dot`'s hidden `__hvp`, and its Hessian (n = 200) built from `n` of them;
//! - a recurrence: the online log-sum-exp over 10⁴ elements (two coupled running values), its
//!   `H·v` carried beside the loop, and its Hessian (n = 200).
//!
//! Each function is timed interleaved with the others (one batch of each in turn, 15 rounds);
//! a row prints the best and the median batch. To compare two versions of the macro, build this
//! bench on each and run the two binaries alternately, comparing the rows.
//! Run: `cargo bench --bench second_order`.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use std::hint::black_box;

use symgrad::differentiable;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved, pretty};

const N: usize = 10_000;
const HESSIAN_N: usize = 200;
const ROUNDS: usize = 15;

#[differentiable(hessian)]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable(wrt(w), hessian)]
fn ridge(w: &[f64], x: &[f64], y: f64) -> f64 {
    (dot(w, x) - y).powi(2)
}

#[differentiable(hessian)]
fn online_log_sum_exp(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        let mn = m.max(z[i]);
        s = s * (m - mn).exp() + (z[i] - mn).exp();
        m = mn;
    }
    m + s.ln()
}

fn wobble(n: usize, scale: f64, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 * 0.37 + phase).sin() * scale)
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` checks and runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (w, x) = (wobble(N, 0.01, 0.5), wobble(N, 1.0, 2.0));
    let (hw, hx) = (wobble(HESSIAN_N, 0.01, 0.5), wobble(HESSIAN_N, 1.0, 2.0));
    let rv = RidgeGrad {
        w: wobble(N, 1.0, 3.0),
    };
    let z = wobble(N, 3.0, 1.0);
    let hz = wobble(HESSIAN_N, 3.0, 1.0);
    let ov = OnlineLogSumExpGrad {
        z: wobble(N, 1.0, 4.0),
    };
    let (mut rg, mut rhv) = (RidgeGrad::default(), RidgeGrad::default());
    let (mut og, mut ohv) = (
        OnlineLogSumExpGrad::default(),
        OnlineLogSumExpGrad::default(),
    );
    let names = [
        "ridge through `dot`, `_hvp_into`, n = 10⁴",
        "ridge through `dot`, `_hessian`, n = 200",
        "online log-sum-exp, `_hvp_into`, n = 10⁴",
        "online log-sum-exp, `_hessian`, n = 200",
    ];
    let reps = if quick { 1 } else { 20 };
    let schedule = Schedule {
        rounds: if quick { 1 } else { ROUNDS },
        reps,
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(
        &schedule,
        &mut [
            &mut || {
                let f = ridge_hvp_into(black_box(&w), &x, 0.3, &rv, &mut rg, &mut rhv);
                black_box((&rg, &rhv));
                f
            },
            &mut || {
                let (f, g, h) = ridge_hessian(black_box(&hw), &hx, 0.3);
                black_box((&g, &h));
                f
            },
            &mut || {
                let f = online_log_sum_exp_hvp_into(black_box(&z), &ov, &mut og, &mut ohv);
                black_box((&og, &ohv));
                f
            },
            &mut || {
                let (f, g, h) = online_log_sum_exp_hessian(black_box(&hz));
                black_box((&g, &h));
                f
            },
        ],
    );
    println!("\n| function | best | median |");
    println!("|---|---|---|");
    for (name, times) in names.iter().zip(&t) {
        let median = times[times.len() / 2];
        println!("| {name} | {} | {} |", pretty(times[0]), pretty(median));
    }
}
