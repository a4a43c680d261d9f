//! The loop workloads (PEERS.md's W1 and W2, and log-sum-exp), each beside a hand-written
//! gradient written the same straightforward way, shared by `benches/loops.rs` (criterion) and
//! `benches/loop_ratios.rs` (interleaved best-of timing).
#![allow(dead_code)] // each bench uses its own subset

use symgrad::differentiable;

// ---- W1: linear regression, m = 10⁶, gradient w.r.t. w and b

#[differentiable(wrt(w, b))]
pub fn linreg(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let m = x.len() as f64;
    let mut acc = 0.0;
    for i in 0..x.len() {
        let r = w * x[i] + b - y[i];
        acc += r * r;
    }
    acc / (2.0 * m)
}

pub fn linreg_hand(w: f64, b: f64, x: &[f64], y: &[f64]) -> (f64, [f64; 2]) {
    let m = x.len() as f64;
    let (mut j, mut dw, mut db) = (0.0, 0.0, 0.0);
    for i in 0..x.len() {
        let r = w * x[i] + b - y[i];
        j += r * r;
        dw += r * x[i];
        db += r;
    }
    (j / (2.0 * m), [dw / m, db / m])
}

// ---- W2: Rosenbrock over a slice

#[differentiable]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

pub fn rosenbrock_hand(x: &[f64], g: &mut [f64]) -> f64 {
    let mut f = 0.0;
    g.fill(0.0);
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        let u = 1.0 - x[i];
        f += 100.0 * t * t + u * u;
        g[i] += -400.0 * x[i] * t - 2.0 * u;
        g[i + 1] += 200.0 * t;
    }
    f
}

// ---- log Σ exp

#[differentiable]
pub fn log_sum_exp(z: &[f64]) -> f64 {
    z.iter().map(|v| v.exp()).sum::<f64>().ln()
}

pub fn log_sum_exp_hand(z: &[f64], g: &mut [f64]) -> f64 {
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    for (gi, zi) in g.iter_mut().zip(z) {
        *gi = zi.exp() / s;
    }
    s.ln()
}

/// The stable form: a running `max` (a recurrence), then a sum.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the loops are the point
pub fn log_sum_exp_stable(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

/// The stable form with the shift stopped (`stop_gradient(m)`), as JAX's `logsumexp` does: the
/// gradient is then the softmax the hand-written version computes.
#[differentiable]
#[allow(clippy::needless_range_loop)]
pub fn log_sum_exp_stopped(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let m = symgrad::stop_gradient(m);
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

/// What a careful person writes: the max, the sum, then the softmax (the max's own gradient is
/// zero in exact arithmetic, so it is left out).
pub fn log_sum_exp_stable_hand(z: &[f64], g: &mut [f64]) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
    for (gi, zi) in g.iter_mut().zip(z) {
        *gi = (zi - m).exp() / s;
    }
    m + s.ln()
}

pub fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.618_033_988_75).fract() * 2.0 - 1.0)
        .collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| 2.0 * v + 0.5 + 0.01 * ((i % 7) as f64 - 3.0))
        .collect();
    (x, y)
}

/// Rosenbrock's input: values in (0.1, 0.9), as in PEERS.md.
pub fn rosenbrock_input(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 + 0.4 * ((i as f64) * 0.37).sin())
        .collect()
}

/// Log-sum-exp's input: 10⁴ values in [-3, 3].
pub fn lse_input() -> Vec<f64> {
    (0..10_000)
        .map(|i| (f64::from(i) * 0.731).sin() * 3.0)
        .collect()
}
