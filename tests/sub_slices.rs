//! Runs of a differentiated slice passed to differentiable functions (`dot(&x[a..b], w)`):
//! each gradient lands in its range. Checked against hand-derived gradients (exact) and
//! central differences, directly and through a function that passes on a run of its own
//! parameter (whose hidden vector-Jacobian product then adds into an offset sink).

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// `Σ x[i+1]·y[i]` over the shifted runs, plus `x[0]x[2] + x[1]x[3]` (two runs of one slice).
#[differentiable]
fn shifted(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    dot(&x[1..n], &y[..n - 1]) + dot(&x[..2], &x[2..=3])
}

#[test]
fn runs_of_a_slice_get_their_gradient_in_their_range() {
    let x = [0.5, -1.25, 2.0, 0.75, 1.5];
    let y = [1.0, 2.0, -0.5, 0.25, 3.0];
    let (value, g) = shifted_grad(&x, &y);
    assert!((value - shifted(&x, &y)).abs() < 1e-12);
    // ∂/∂x[j] = y[j-1] (j ≥ 1) + the pairs' partner: x0↔x2, x1↔x3.
    let mut hand = [0.0, y[0], y[1], y[2], y[3]];
    hand[0] += x[2];
    hand[2] += x[0];
    hand[1] += x[3];
    hand[3] += x[1];
    // ∂/∂y[i] = x[i+1] for i < n − 1.
    let hand_y = [x[1], x[2], x[3], x[4], 0.0];
    assert_all_close(&g.x, &hand, 1e-12);
    assert_all_close(&g.y, &hand_y, 1e-12);
    let mut at = x.to_vec();
    at.extend(y);
    let numeric = numeric_gradient(|p| shifted(&p[..5], &p[5..]), &at);
    let mut got = g.x.clone();
    got.extend(&g.y);
    assert_all_close(&got, &numeric, 1e-6);
}

/// Rows of a flat matrix, each passed as a run (bundle adjustment's `&cams[i * 11..]` shape).
#[differentiable]
fn rows_times_w(x: &[f64], w: &[f64]) -> f64 {
    let d = w.len();
    let mut s = 0.0;
    for r in 0..x.len() / d {
        let v = dot(&x[r * d..(r + 1) * d], w);
        s += v * v;
    }
    s
}

#[test]
fn runs_in_a_loop_over_rows() {
    let w = [0.5, -1.0, 2.0];
    let x = [1.0, 2.0, 3.0, -1.0, 0.5, 0.25, 2.0, 0.0, -2.0];
    let (value, g) = rows_times_w_grad(&x, &w);
    assert!((value - rows_times_w(&x, &w)).abs() < 1e-12);
    let mut hand_x = vec![0.0; 9];
    let mut hand_w = [0.0; 3];
    for r in 0..3 {
        let v: f64 = (0..3).map(|j| x[r * 3 + j] * w[j]).sum();
        for j in 0..3 {
            hand_x[r * 3 + j] = 2.0 * v * w[j];
            hand_w[j] += 2.0 * v * x[r * 3 + j];
        }
    }
    assert_all_close(&g.x, &hand_x, 1e-12);
    assert_all_close(&g.w, &hand_w, 1e-12);
}

/// A function passing a run of its own parameter on, called with a run of the caller's: the
/// inner call's sink is an offset of a generic sink.
#[differentiable]
fn head_dot(a: &[f64], b: &[f64]) -> f64 {
    dot(&a[1..], b) * a[0]
}

#[differentiable]
fn outer(x: &[f64], w: &[f64]) -> f64 {
    head_dot(&x[2..], w) + x[0] * x[1]
}

#[test]
fn a_run_passed_on_through_a_second_function() {
    let x = [0.3, -0.7, 1.5, 2.0, -1.0, 0.5];
    let w = [0.25, -2.0, 1.0];
    let (value, g) = outer_grad(&x, &w);
    assert!((value - outer(&x, &w)).abs() < 1e-12);
    // head_dot(a = x[2..], w) = a0 · Σ a[1+i] w[i].
    let inner: f64 = (0..3).map(|i| x[3 + i] * w[i]).sum();
    let mut hand_x = [x[1], x[0], inner, 0.0, 0.0, 0.0];
    for i in 0..3 {
        hand_x[3 + i] = x[2] * w[i];
    }
    let hand_w: Vec<f64> = (0..3).map(|i| x[2] * x[3 + i]).collect();
    assert_all_close(&g.x, &hand_x, 1e-12);
    assert_all_close(&g.w, &hand_w, 1e-12);
    let mut at = x.to_vec();
    at.extend(w);
    let numeric = numeric_gradient(|p| outer(&p[..6], &p[6..]), &at);
    let mut got = g.x.clone();
    got.extend(&g.w);
    assert_all_close(&got, &numeric, 1e-6);
}
