//! The cost of a Hessian-vector product against the gradient's, for losses over a slice of
//! 10⁴ elements:
//!
//! - the extended Rosenbrock function, `Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²`;
//! - a logistic loss over 10⁴ weights and 16 samples, `Σₛ ln(1 + e^{zₛ}) − yₛzₛ`, `z = Xw`;
//! - a product scan from its first element, `z₀ = x₀`, `zᵢ = zᵢ₋₁xᵢ + a`, read as `Σᵢ zᵢ²xᵢ`
//!   (its `H·v` sweeps the scan's tangent back, then the scan: linear in n).
//!
//! `_hvp_into` (value, gradient and `H·v` in one pass) and `_grad_into` (value and gradient) are
//! timed interleaved (one batch of each in turn, 15 rounds), both into structs kept across
//! calls; the ratios `_hvp_into / _grad_into` of the best and the median batches are printed.
//! Run: `cargo bench --bench hvp`.

use std::hint::black_box;

use criterion::Criterion;
use symgrad::differentiable;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved, pretty};

const N: usize = 10_000;
const SAMPLES: usize = 16;

#[differentiable(hessian)]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

#[differentiable(wrt(w), hessian)]
fn logistic(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for s in 0..y.len() {
        let mut z = 0.0;
        for j in 0..d {
            z += x[s * d + j] * w[j];
        }
        loss += z.exp().ln_1p() - y[s] * z;
    }
    loss
}

#[differentiable(hessian)]
fn product_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    z[0] = x[0];
    for i in 1..n {
        z[i] = z[i - 1] * x[i] + a;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i] * x[i];
    }
    s
}

fn wobble(n: usize, scale: f64, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 * 0.37 + phase).sin() * scale)
        .collect()
}

/// `_hvp_into` and `_grad_into` timed interleaved; one table row of times and ratios.
fn row(name: &str, reps: usize, hvp: &mut dyn FnMut() -> f64, grad: &mut dyn FnMut() -> f64) {
    const ROUNDS: usize = 15;
    let schedule = Schedule {
        rounds: ROUNDS,
        reps,
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(&schedule, &mut [hvp, grad]);
    println!(
        "| {name} | {} | {} | {:.2} | {:.2} |",
        pretty(t[0][0]),
        pretty(t[1][0]),
        t[0][0] / t[1][0],
        t[0][ROUNDS / 2] / t[1][ROUNDS / 2],
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` checks and runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let x = wobble(N, 1.2, 0.0);
    let v = RosenbrockGrad {
        x: wobble(N, 1.0, 1.0),
    };
    let w = wobble(N, 0.01, 0.5);
    let data = wobble(SAMPLES * N, 1.0, 2.0);
    let y: Vec<f64> = (0..SAMPLES)
        .map(|s| f64::from(u8::from(s % 2 == 0)))
        .collect();
    let lv = LogisticGrad {
        w: wobble(N, 1.0, 3.0),
    };

    let mut c = Criterion::default().configure_from_args();
    if quick {
        c = c
            .sample_size(10)
            .warm_up_time(std::time::Duration::from_millis(1))
            .measurement_time(std::time::Duration::from_millis(10));
    }
    let (mut g, mut hv) = (RosenbrockGrad::default(), RosenbrockGrad::default());
    let mut group = c.benchmark_group("rosenbrock_n10000");
    group.bench_function("_grad_into", |b| {
        b.iter(|| rosenbrock_grad_into(black_box(&x), &mut g));
    });
    group.bench_function("_hvp_into", |b| {
        b.iter(|| rosenbrock_hvp_into(black_box(&x), &v, &mut g, &mut hv));
    });
    group.finish();
    let (mut lg, mut lhv) = (LogisticGrad::default(), LogisticGrad::default());
    let mut group = c.benchmark_group("logistic_d10000_s16");
    group.bench_function("_grad_into", |b| {
        b.iter(|| logistic_grad_into(black_box(&w), &data, &y, &mut lg));
    });
    group.bench_function("_hvp_into", |b| {
        b.iter(|| logistic_hvp_into(black_box(&w), &data, &y, &lv, &mut lg, &mut lhv));
    });
    group.finish();
    c.final_summary();

    let reps = if quick { 2 } else { 200 };
    println!(
        "\n| loss | `_hvp_into` (best) | `_grad_into` (best) | ratio (best) | ratio (medians) |"
    );
    println!("|---|---|---|---|---|");
    let (mut g2, mut hv2, mut g3) = (
        RosenbrockGrad::default(),
        RosenbrockGrad::default(),
        RosenbrockGrad::default(),
    );
    row(
        "Rosenbrock, n = 10⁴",
        reps,
        &mut || {
            let f = rosenbrock_hvp_into(black_box(&x), &v, &mut g2, &mut hv2);
            black_box((&g2, &hv2));
            f
        },
        &mut || {
            let f = rosenbrock_grad_into(black_box(&x), &mut g3);
            black_box(&g3);
            f
        },
    );
    let (mut lg2, mut lhv2, mut lg3) = (
        LogisticGrad::default(),
        LogisticGrad::default(),
        LogisticGrad::default(),
    );
    row(
        "logistic, 10⁴ weights × 16 samples",
        reps,
        &mut || {
            let f = logistic_hvp_into(black_box(&w), &data, &y, &lv, &mut lg2, &mut lhv2);
            black_box((&lg2, &lhv2));
            f
        },
        &mut || {
            let f = logistic_grad_into(black_box(&w), &data, &y, &mut lg3);
            black_box(&lg3);
            f
        },
    );
    product_scan_row(reps);
}

/// The product scan's row: values near 1, so the products stay finite over 10⁴ steps.
fn product_scan_row(reps: usize) {
    let px: Vec<f64> = wobble(N, 0.05, 0.7).iter().map(|e| 0.97 + e).collect();
    let pv = ProductScanGrad {
        a: 0.3,
        x: wobble(N, 1.0, 1.5),
    };
    let (mut pg2, mut phv2, mut pg3) = (
        ProductScanGrad::default(),
        ProductScanGrad::default(),
        ProductScanGrad::default(),
    );
    row(
        "product scan from its first element, n = 10⁴",
        reps,
        &mut || {
            let f = product_scan_hvp_into(0.01, black_box(&px), &pv, &mut pg2, &mut phv2);
            black_box((&pg2, &phv2));
            f
        },
        &mut || {
            let f = product_scan_grad_into(0.01, black_box(&px), &mut pg3);
            black_box(&pg3);
            f
        },
    );
}
