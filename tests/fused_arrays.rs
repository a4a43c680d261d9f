//! Local arrays filled over one loop: the generated code fills them in one `for`, what their
//! elements share computed once (an LSTM layer's gates, read by its new `cell` and its new
//! `hidden`); and an array carried across a loop's iterations of which each iteration rewrites
//! a stretch, written in place. Oracles: gradients derived by hand (exact, 1e-12), num-dual's
//! forward mode on generic twins (1e-12), central differences; the value against the
//! function's own.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
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

/// A state `h` of which step `t` rewrites the stretch `off..off + m`, `off` moving with `t`,
/// from the old stretch; the loss reads `h` before the write, at an element the write may
/// change (the old value), and all of it after the loop. Two such states, one also reading
/// the other's new stretch (`g` after `h`, as an LSTM's `hidden` after its `cell`).
#[differentiable(wrt(w))]
fn moving_stretch(w: &[f64], x: &[f64], n: usize) -> f64 {
    let m = w.len();
    let mut h = vec![0.25; n];
    let mut g = vec![-0.5; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let off = t % (n - m + 1);
        loss += h[off] * x[t] + g[n - 1 - off];
        for i in 0..m {
            h[off + i] = (w[i] * h[off + i] + x[t]).tanh();
            g[off + i] = g[off + i] * w[i] + h[off + i];
        }
    }
    for k in 0..n {
        loss += h[k] * h[k] + g[k];
    }
    loss
}

fn moving_stretch_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64], n: usize) -> T {
    let m = w.len();
    let mut h = vec![T::from(0.25); n];
    let mut g = vec![T::from(-0.5); n];
    let mut loss = T::zero();
    for (t, &xt) in x.iter().enumerate() {
        let off = t % (n - m + 1);
        loss += h[off] * xt + g[n - 1 - off];
        let old_h: Vec<T> = h[off..off + m].to_vec();
        let old_g: Vec<T> = g[off..off + m].to_vec();
        for i in 0..m {
            let new_h = (w[i] * old_h[i] + xt).tanh();
            h[off + i] = new_h;
            g[off + i] = old_g[i] * w[i] + new_h;
        }
    }
    h.iter()
        .zip(&g)
        .fold(loss, |a, (&hk, &gk)| a + hk * hk + gk)
}

#[test]
fn a_stretch_rewritten_in_place_matches_num_dual_and_differences() {
    let w = [0.7, -0.4, 1.2];
    let x = [0.2, -0.5, 0.9, 0.1, -0.3, 0.6, -0.8];
    let n = 5;
    let (value, g) = moving_stretch_grad(&w, &x, n);
    assert_eq!(value, moving_stretch(&w, &x, n));
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<3>, 3>| moving_stretch_twin(q.as_slice(), &x, n),
        &SVector::from_column_slice(&w),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.w, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| moving_stretch(q, &x, n), &w);
    assert_all_close(&g.w, &numeric, 1e-7);
}
