//! Local arrays filled over one loop: the generated code fills them in one `for`, what their
//! elements share computed once (an LSTM layer's gates, read by its new `cell` and its new
//! `hidden`). Each gradient checked against one derived by hand (exact, 1e-12), and the value
//! against the function's own.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use common::assert_all_close;
use symgrad::differentiable;

/// `a[i] = sin(e)`, `b[i] = cos(e)` with `e = exp(w[i]²)` in one loop, then `c[i] =
/// 2·a[n−1−i]·w[i]` in another (reading `a` at another index), then `Σ a[i]·b[i] + c[i]`.
#[differentiable]
fn two_arrays_one_loop(w: &[f64]) -> f64 {
    let n = w.len();
    let mut a = vec![0.0; n];
    let mut b = vec![0.0; n];
    for i in 0..n {
        let e = (w[i] * w[i]).exp();
        a[i] = e.sin();
        b[i] = e.cos();
    }
    let mut c = vec![0.0; n];
    for i in 0..n {
        c[i] = 2.0 * a[n - 1 - i] * w[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += a[i] * b[i] + c[i];
    }
    s
}

#[test]
fn two_arrays_filled_in_one_loop() {
    let w = [0.3, -0.7, 0.45, 0.9, -0.2];
    let n = w.len();
    let (value, g) = two_arrays_one_loop_grad(&w);
    assert_eq!(value, two_arrays_one_loop(&w));
    // sin(e)·cos(e) = sin(2e)/2, e' = 2w·e; c[j] = 2·a[n−1−j]·w[j]; c[n−1−j] = 2·a[j]·w[n−1−j].
    let hand: Vec<f64> = (0..n)
        .map(|j| {
            let e = (w[j] * w[j]).exp();
            let de = 2.0 * w[j] * e;
            let a_mirror = (w[n - 1 - j] * w[n - 1 - j]).exp().sin();
            (2.0 * e).cos() * de + 2.0 * a_mirror + 2.0 * w[n - 1 - j] * e.cos() * de
        })
        .collect();
    assert_all_close(&g.w, &hand, 1e-12);
}

/// The two arrays built in every iteration of a loop around (their vectors reused from one
/// iteration to the next): `Σₜ Σᵢ a[i]·b[i]` with `a[i] = exp(w[i]·x[t])`, `b[i] = a[i]·w[i]`.
#[differentiable(wrt(w))]
fn two_arrays_per_step(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut total = 0.0;
    for t in 0..x.len() {
        let mut a = vec![0.0; n];
        let mut b = vec![0.0; n];
        for i in 0..n {
            a[i] = (w[i] * x[t]).exp();
            b[i] = a[i] * w[i];
        }
        for i in 0..n {
            total += a[i] * b[i];
        }
    }
    total
}

#[test]
fn two_arrays_filled_in_one_loop_per_step() {
    let w = [0.3, -0.7, 0.45, 0.9];
    let x = [0.5, -1.25, 2.0];
    let (value, g) = two_arrays_per_step_grad(&w, &x);
    assert_eq!(value, two_arrays_per_step(&w, &x));
    // Σₜ w·exp(2w·xₜ): ∂/∂w = Σₜ exp(2w·xₜ)·(1 + 2w·xₜ).
    let hand: Vec<f64> = w
        .iter()
        .map(|wi| {
            x.iter()
                .map(|xt| (2.0 * wi * xt).exp() * (1.0 + 2.0 * wi * xt))
                .sum()
        })
        .collect();
    assert_all_close(&g.w, &hand, 1e-12);
}
