//! Passing a differentiated slice to another `#[differentiable]` function: the caller's
//! gradient flows back through the callee's hidden vector-Jacobian product (`__vjp`), checked
//! against hand-derived gradients and central differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use symgrad::differentiable;

#[differentiable]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable]
fn sq_norm(w: &[f64]) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>()
}

/// Ridge regression on one sample, through two calls: one given the weights and the data, one
/// the weights alone (`&w` and `w` both pass the slice).
#[differentiable]
#[allow(clippy::needless_borrow)] // `&w` is one of the forms under test
fn ridge(w: &[f64], x: &[f64], y: f64, lambda: f64) -> f64 {
    (dot(w, x) - y).powi(2) + lambda * sq_norm(&w)
}

#[test]
fn a_slice_passed_to_calls_gets_the_chain_rule_exactly() {
    let w = [0.5, -1.0, 2.0];
    let x = [1.0, 2.0, 3.0];
    let (v, g) = ridge_grad(&w, &x, 1.0, 0.1);
    let r = 3.5; // w·x − y
    assert_relative_eq!(v, r * r + 0.1 * 5.25, max_relative = 1e-15);
    let want_w: Vec<f64> = (0..3).map(|i| 2.0 * r * x[i] + 0.2 * w[i]).collect();
    let want_x: Vec<f64> = (0..3).map(|i| 2.0 * r * w[i]).collect();
    assert_eq!(g.w, want_w);
    assert_eq!(g.x, want_x);
    assert_eq!(g.y, -2.0 * r);
    assert_eq!(g.lambda, 5.25);
}

/// A call per row, inside a loop, with a data slice built per row by the callee's indexing.
#[differentiable]
fn row_dot(w: &[f64], a: &[f64], r: usize) -> f64 {
    let mut s = 0.0;
    for c in 0..w.len() {
        s += w[c] * a[r * w.len() + c];
    }
    s
}

#[differentiable(wrt(w))]
fn least_squares(w: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let mut total = 0.0;
    for r in 0..b.len() {
        total += (row_dot(w, a, r) - b[r]).powi(2);
    }
    total
}

#[test]
fn a_call_in_a_loop_matches_the_normal_equations_gradient() {
    // ∇ = 2 Aᵀ(Aw − b)
    let a = [1.0, 2.0, 0.5, -1.0, 3.0, 1.5];
    let b = [1.0, 0.0, 2.0];
    let w = [0.3, -0.7];
    let (_, g) = least_squares_grad(&w, &a, &b);
    let mut want = [0.0; 2];
    for r in 0..3 {
        let res = a[2 * r] * w[0] + a[2 * r + 1] * w[1] - b[r];
        want[0] += 2.0 * a[2 * r] * res;
        want[1] += 2.0 * a[2 * r + 1] * res;
    }
    for (g, w) in g.w.iter().zip(want) {
        assert_relative_eq!(*g, w, max_relative = 1e-14);
    }
}

/// Arrays and `f32` pass the same way; the callee's own recurrence runs its reverse sweep.
#[differentiable]
fn product(x: &[f32]) -> f32 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
fn scaled_product(x: [f32; 3], k: f32) -> f32 {
    k * product(&x)
}

#[test]
fn arrays_and_f32_pass_through_calls() {
    let (v, g) = scaled_product_grad([1.5, 2.0, -1.0], 2.0);
    assert_eq!(v, -6.0);
    assert_eq!(g.x, [-4.0, -3.0, 6.0]);
    assert_eq!(g.k, -3.0);
}

/// Two levels: a function that passes its slice on to another.
#[differentiable]
fn norm_of_diff(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - y[i]).powi(2);
    }
    s.sqrt()
}

#[differentiable]
fn smooth_norm(x: &[f64], y: &[f64], eps: f64) -> f64 {
    (norm_of_diff(x, y).powi(2) + eps).ln()
}

#[differentiable]
fn outer(x: &[f64], y: &[f64]) -> f64 {
    smooth_norm(x, y, 0.5) * 3.0
}

#[test]
fn slices_pass_through_two_levels_of_calls() {
    let x = [0.3, -1.2, 2.0];
    let y = [1.0, 0.5, -0.5];
    let (_, g) = outer_grad(&x, &y);
    let h = 1e-6;
    for i in 0..3 {
        let (mut up, mut down) = (x, x);
        up[i] += h;
        down[i] -= h;
        let fd = (outer(&up, &y) - outer(&down, &y)) / (2.0 * h);
        assert_relative_eq!(g.x[i], fd, max_relative = 1e-7);
        assert_relative_eq!(g.y[i], -fd, max_relative = 1e-7);
    }
}

/// A callee that takes its second slice as data (`wrt(w)`) can still be given data there.
#[differentiable(wrt(w))]
fn weighted(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i] * x[i];
    }
    s
}

#[differentiable(wrt(w))]
fn uses_weighted(w: &[f64], x: &[f64]) -> f64 {
    weighted(w, x).sqrt()
}

#[test]
fn a_data_argument_of_the_callee_takes_data() {
    let w = [1.0, 2.0];
    let x = [3.0, 1.0];
    let (v, g) = uses_weighted_grad(&w, &x);
    assert_relative_eq!(v, 11.0_f64.sqrt(), max_relative = 1e-15);
    let d = 0.5 / 11.0_f64.sqrt();
    assert_relative_eq!(g.w[0], d * 9.0, max_relative = 1e-15);
    assert_relative_eq!(g.w[1], d * 1.0, max_relative = 1e-15);
}

/// The same slice in two argument positions: each position's contribution counts.
#[differentiable]
fn self_dot(w: &[f64]) -> f64 {
    dot(w, w)
}

/// An array passed by value to a function that takes an array.
#[differentiable]
fn triple_product(x: [f64; 3]) -> f64 {
    x[0] * x[1] * x[2]
}

#[differentiable]
fn scaled_triple(x: [f64; 3], k: f64) -> f64 {
    k * triple_product(x)
}

#[test]
fn a_slice_passed_twice_and_an_array_passed_by_value() {
    let (v, g) = self_dot_grad(&[1.0, -2.0, 0.5]);
    assert_eq!(v, 5.25);
    assert_eq!(g.w, vec![2.0, -4.0, 1.0]);
    let (v, g) = scaled_triple_grad([1.0, 2.0, 3.0], 0.5);
    assert_eq!(v, 3.0);
    assert_eq!(g.x, [3.0, 1.5, 1.0]);
    assert_eq!(g.k, 6.0);
}

/// Elements passed as arguments: of a differentiated slice, and of a data slice in a loop
/// (Horner's rule with fitted coefficients).
#[differentiable]
fn square(t: f64) -> f64 {
    t * t
}

#[differentiable]
fn first_squared(x: &[f64]) -> f64 {
    square(x[0]) + square(x[1] * 2.0)
}

#[differentiable]
fn horner(c: &[f64], t: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..c.len() {
        acc = acc * t + c[i];
    }
    acc
}

#[differentiable(wrt(c))]
fn fit(c: &[f64], ts: &[f64], ys: &[f64]) -> f64 {
    let mut loss = 0.0;
    for k in 0..ts.len() {
        loss += (horner(c, ts[k]) - ys[k]).powi(2);
    }
    loss
}

#[test]
fn elements_passed_to_calls_are_numbers() {
    let (v, g) = first_squared_grad(&[3.0, 0.5]);
    assert_eq!(v, 10.0);
    assert_eq!(g.x, vec![6.0, 4.0]);
    // ∂loss/∂c_j = Σ_k 2 (p(t_k) − y_k) t_k^(n−1−j)
    let c = [0.5, -1.0, 2.0];
    let ts = [0.0, 1.0, -2.0, 0.5];
    let ys = [1.0, 2.0, 0.0, -1.0];
    let (_, g) = fit_grad(&c, &ts, &ys);
    let mut want = [0.0; 3];
    for (t, y) in ts.iter().zip(ys) {
        let p = (c[0] * t + c[1]) * t + c[2];
        for (w, power) in want.iter_mut().zip([2, 1, 0]) {
            *w += 2.0 * (p - y) * t.powi(power);
        }
    }
    for (a, b) in g.c.iter().zip(want) {
        assert_relative_eq!(*a, b, max_relative = 1e-14);
    }
}

// An array behind `&`, passed by value with `*a` to a function taking `[f64; 3]`.
#[differentiable]
fn cube_sum(a: [f64; 3]) -> f64 {
    a[0] * a[0] * a[0] + a[1] * a[1] * a[1] + a[2] * a[2] * a[2]
}

#[differentiable]
fn scaled_cubes(a: &[f64; 3], s: f64) -> f64 {
    s * cube_sum(*a)
}

#[test]
fn an_array_behind_a_reference_passed_by_value() {
    let a = [0.5, -2.0, 1.5];
    let (value, g) = scaled_cubes_grad(&a, 3.0);
    assert_eq!(value, 3.0 * (0.125 - 8.0 + 3.375));
    assert_eq!(g.a, [3.0 * 3.0 * 0.25, 3.0 * 3.0 * 4.0, 3.0 * 3.0 * 2.25]);
    assert_eq!(g.s, 0.125 - 8.0 + 3.375);
}
