//! `stop_gradient(x)`: the value of `x`, derivative zero, checked against hand-derived gradients;
//! and the stable log-sum-exp with its shift stopped, whose gradient is then exactly the softmax
//! a person writes.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use symgrad::{differentiable, stop_gradient};

mod common;
use common::{assert_all_close, numeric_gradient};

/// `x·y` with `y` held constant: `∂/∂x = y`, `∂/∂y = 0`.
#[differentiable]
fn held(x: f64, y: f64) -> f64 {
    x * stop_gradient(y * y) + symgrad::stop_gradient(x.sin())
}

#[test]
fn a_stopped_value_counts_in_the_value_but_not_in_the_gradient() {
    let (v, g) = held_grad(1.5, -2.0);
    assert_eq!(v, 1.5 * 4.0 + 1.5_f64.sin());
    assert_eq!((g.x, g.y), (4.0, 0.0));
    assert!(HeldGrad::FORMULAS[0].1.contains("stop_gradient"));
}

/// `x · stop(x) + y²·stop(y)`: the gradient `(stop(x), 2y·stop(y))`, and second derivatives only
/// where a non-stopped factor remains (JAX gives the same).
#[differentiable(hessian)]
fn half_stopped(x: f64, y: f64) -> f64 {
    x * stop_gradient(x) + y * y * stop_gradient(y)
}

#[test]
fn second_derivatives_see_the_stopped_factors_as_constants() {
    let (v, g, h) = half_stopped_hessian(3.0, -2.0);
    assert_eq!(v, 9.0 - 8.0);
    assert_eq!((g.x, g.y), (3.0, 2.0 * -2.0 * -2.0));
    assert_eq!(h, [[0.0, 0.0], [0.0, 2.0 * -2.0]]);
}

/// The stable log-sum-exp with the max stopped, as JAX's `logsumexp` does.
#[differentiable]
fn log_sum_exp_stopped(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let m = stop_gradient(m);
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

#[test]
fn the_stopped_shift_leaves_exactly_the_softmax() {
    for z in [
        vec![0.3, -1.2, 2.5, 0.9],
        vec![1000.0, 1001.0, 999.0],
        vec![-4.0],
    ] {
        let (v, g) = log_sum_exp_stopped_grad(&z);
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = z.iter().map(|t| (t - m).exp()).sum();
        assert_relative_eq!(v, m + total.ln(), max_relative = 1e-15);
        let softmax: Vec<f64> = z.iter().map(|t| (t - m).exp() / total).collect();
        assert_all_close(&g.z, &softmax, 1e-15);
        if z.len() > 1 && z[0] < 100.0 {
            assert_all_close(&g.z, &numeric_gradient(log_sum_exp_stopped, &z), 1e-8);
        }
    }
}

/// A stopped value inside a loop, read by the sum beside it.
#[differentiable]
fn normalized_by_stopped_norm(x: &[f64]) -> f64 {
    let mut n = 0.0;
    for i in 0..x.len() {
        n += x[i] * x[i];
    }
    let n = stop_gradient(n.sqrt());
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] / n).powi(3);
    }
    s
}

#[test]
fn a_stopped_norm_is_a_constant_for_the_gradient() {
    let x = [0.5, -1.5, 2.0];
    let n = x.iter().map(|t| t * t).sum::<f64>().sqrt();
    let (_, g) = normalized_by_stopped_norm_grad(&x);
    let want: Vec<f64> = x.iter().map(|t| 3.0 * t * t / (n * n * n)).collect();
    assert_all_close(&g.x, &want, 1e-15);
}
