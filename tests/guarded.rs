//! Elements read under a condition (`if i > 0 { x[i - 1] }`, `if k < x.len() { x[k] }`): their
//! gradients are scattered, and the calls they go through are differentiated, under the same
//! condition, so the generated gradient evaluates only what the function itself evaluates (an
//! index that is invalid on the other path neither panics nor overflows). Oracles: hand-derived
//! gradients and central finite differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};

#[differentiable]
fn neighbours_if(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if i == 0 {
            s += x[i];
        } else {
            s += x[i] * x[i - 1];
        }
    }
    s
}

#[differentiable]
fn neighbours_map(x: &[f64]) -> f64 {
    (0..x.len())
        .map(|i| match i {
            0 => x[0],
            _ => x[i] * x[i - 1],
        })
        .sum::<f64>()
}

#[differentiable]
fn forward_differences(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if i + 1 < x.len() {
            s += (x[i + 1] - x[i]).powi(2);
        }
    }
    s
}

#[differentiable]
fn guarded_product_and_max(x: &[f64]) -> f64 {
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        if i > 0 {
            p *= x[i - 1] + x[i];
            m = m.max(x[i - 1] * x[i]);
        }
    }
    p + m
}

#[differentiable]
fn scalar_guard(x: &[f64], k: usize, w: f64) -> f64 {
    let t = if k < x.len() { x[k] } else { 0.0 };
    let u = if k > 0 { x[k - 1] * x[0] } else { x[0] * x[0] };
    t * w + u
}

#[differentiable]
fn square_at(x: &[f64], j: usize) -> f64 {
    x[j] * x[j]
}

#[differentiable]
fn guarded_call(x: &[f64], k: usize) -> f64 {
    if k > 0 { square_at(x, k - 1) } else { x[0] }
}

/// The right operand of `&&` is only read when the left one holds.
#[differentiable]
fn positive_second(x: &[f64]) -> f64 {
    if x.len() > 1 && x[1] > 0.0 {
        x[1] * x[1]
    } else {
        0.0
    }
}

/// `&&` and `||` guards inside a loop and a running max.
#[differentiable]
fn descents(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        if i > 0 && x[i - 1] > x[i] {
            s += x[i - 1] - x[i];
        }
        if i + 1 >= x.len() || x[i + 1] < x[i] {
            s += x[i];
        } else {
            s += x[i + 1] * x[i];
        }
        if i > 0 && x[i - 1] > m {
            m = x[i - 1];
        }
    }
    s + m
}

/// A read that does not change with the loop, under a condition in the loop: not hoisted
/// before the loop, where its index may be out of range.
#[differentiable]
fn invariant_under_guard(x: &[f64], y: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        if k < x.len() {
            s += x[k] * y[i];
        } else {
            s += y[i];
        }
    }
    s
}

/// An invariant evaluated only in a branch (`√w` under `w > 0`): where the branch is never
/// taken its chain-rule factor (`1/(2√w)`, NaN at `w < 0`) must not reach the gradient.
#[differentiable]
fn branch_with_invariant(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if w > 0.0 {
            s += w.sqrt() * x[i];
        } else {
            s += w * x[i];
        }
    }
    s
}

/// A loop that adds an invariant: `n · ln(w)`, which is 0, not NaN, when the loop is empty.
#[differentiable]
fn repeated_log(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for _ in 0..x.len() {
        s += w.ln();
    }
    s
}

/// Reads and integer arithmetic that do not change with a loop, inside a loop that may not run:
/// evaluated only when it does (`n = 0` with `k` out of range, `k - 1` with `k = 0`).
#[differentiable]
fn invariants_in_empty_loops(x: &[f64], n: usize, k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += x[k] * (i as f64 + 1.0);
    }
    for i in 0..x.len() {
        s += x[i] * ((k - 1) as f64);
        for j in 0..i {
            s += x[j] * x[k];
        }
    }
    s
}

/// Early returns in a row: each later condition is only evaluated where no earlier `return`
/// happened (`10 / k` with `k = 0`, `x[k - 1]` with `k = 0`).
#[differentiable(hessian)]
fn returns_in_a_row(x: f64, k: usize) -> f64 {
    if k == 0 {
        return x;
    }
    if 10 / k > 2 {
        return x * x;
    }
    x.sin()
}

#[differentiable]
fn returns_guarding_an_index(x: &[f64], k: usize) -> f64 {
    if k == 0 || k > x.len() {
        return 0.0;
    }
    let a = x[k - 1];
    if a < 0.0 {
        return a * a;
    }
    a.sqrt() * x[0]
}

fn neighbours_hand(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    g[0] = 1.0;
    for i in 1..x.len() {
        g[i] += x[i - 1];
        g[i - 1] += x[i];
    }
    g
}

#[test]
fn guarded_neighbours_match_the_hand_derived_gradient() {
    let x = [0.3, -1.2, 0.8, 1.5, -0.4];
    assert_all_close(&neighbours_if_grad(&x).1.x, &neighbours_hand(&x), 1e-15);
    assert_all_close(&neighbours_map_grad(&x).1.x, &neighbours_hand(&x), 1e-15);
    assert_eq!(neighbours_if_grad(&[2.0]).1.x, vec![1.0]);
}

#[test]
fn guarded_loops_match_finite_differences() {
    let x = [0.3, -1.2, 0.8, 1.5, -0.4];
    let (_, g) = forward_differences_grad(&x);
    assert_all_close(&g.x, &numeric_gradient(forward_differences, &x), 1e-8);
    let (_, g) = guarded_product_and_max_grad(&x);
    assert_all_close(&g.x, &numeric_gradient(guarded_product_and_max, &x), 1e-8);
    assert_eq!(guarded_product_and_max_grad(&[3.0]).1.x, vec![0.0]);
}

#[test]
fn a_guarded_index_is_never_evaluated_off_its_path() {
    let x = [0.3, -1.2, 0.8, 1.5, -0.4];
    for k in [0, 2, 4, 5] {
        let (v, g) = scalar_guard_grad(&x, k, 0.7);
        assert_eq!(v, scalar_guard(&x, k, 0.7));
        let fd = numeric_gradient(|x| scalar_guard(x, k, 0.7), &x);
        assert_all_close(&g.x, &fd, 1e-8);
        let (v, g) = guarded_call_grad(&x, k.min(4));
        assert_eq!(v, guarded_call(&x, k.min(4)));
        let fd = numeric_gradient(|x| guarded_call(x, k.min(4)), &x);
        assert_all_close(&g.x, &fd, 1e-8);
    }
}

#[test]
fn short_circuits_and_guarded_invariants_read_only_what_the_function_reads() {
    assert_eq!(positive_second_grad(&[0.5]).1.x, vec![0.0]);
    assert_eq!(positive_second_grad(&[0.5, 3.0]).1.x, vec![0.0, 6.0]);
    let x = [0.3, -1.2, 0.8, 1.5, -0.4, 2.0];
    let (v, g) = descents_grad(&x);
    assert_eq!(v, descents(&x));
    assert_all_close(&g.x, &numeric_gradient(descents, &x), 1e-8);
    let y = [1.0, -2.0, 0.5];
    for k in [1, 9] {
        let (v, g) = invariant_under_guard_grad(&x, &y, k);
        assert_eq!(v, invariant_under_guard(&x, &y, k));
        assert_all_close(
            &g.y,
            &numeric_gradient(|y| invariant_under_guard(&x, y, k), &y),
            1e-8,
        );
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| invariant_under_guard(x, &y, k), &x),
            1e-8,
        );
    }
}

#[test]
fn invariants_under_a_condition_do_not_leak_nan() {
    let x = [0.5, -1.0, 2.0];
    let (_, g) = branch_with_invariant_grad(&x, -1.0);
    assert_eq!(g.w, 1.5);
    let (_, g) = branch_with_invariant_grad(&x, 4.0);
    assert_eq!(g.w, 1.5 / 4.0);
    let (v, g) = repeated_log_grad(&[], -1.0);
    assert_eq!((v, g.w), (0.0, 0.0));
    let (v, g) = repeated_log_grad(&x, 2.0);
    assert_eq!((v, g.w), (3.0 * 2f64.ln(), 1.5));
}

#[test]
fn invariants_of_a_loop_that_does_not_run_are_not_evaluated() {
    let (v, g) = invariants_in_empty_loops_grad(&[], 0, 0);
    assert_eq!((v, g.x.len()), (0.0, 0));
    let (v, g) = invariants_in_empty_loops_grad(&[0.5], 0, 7);
    assert_eq!(v, invariants_in_empty_loops(&[0.5], 0, 7));
    assert_eq!(g.x, vec![6.0]);
    let x = [0.5, -1.0, 2.0];
    let (v, g) = invariants_in_empty_loops_grad(&x, 2, 1);
    assert_eq!(v, invariants_in_empty_loops(&x, 2, 1));
    let fd = numeric_gradient(|x| invariants_in_empty_loops(x, 2, 1), &x);
    assert_all_close(&g.x, &fd, 1e-8);
}

#[test]
fn a_later_return_condition_runs_only_after_the_earlier_ones() {
    for (k, d, dd) in [
        (0, 1.0, 0.0),
        (3, 1.4, 2.0),
        (20, 0.7f64.cos(), -(0.7f64.sin())),
    ] {
        let (v, g, h) = returns_in_a_row_hessian(0.7, k);
        assert_eq!(v, returns_in_a_row(0.7, k));
        assert_eq!((g.x, h[0][0]), (d, dd));
    }
    let x = [0.5, -1.0, 2.0];
    for k in [0, 1, 2, 3, 4] {
        let (v, g) = returns_guarding_an_index_grad(&x, k);
        assert_eq!(v, returns_guarding_an_index(&x, k));
        let fd = numeric_gradient(|x| returns_guarding_an_index(x, k), &x);
        assert_all_close(&g.x, &fd, 1e-8);
    }
}

/// `min` ignores a NaN argument, and so does its derivative.
#[differentiable]
fn min_with_nan(x: f64, y: f64) -> f64 {
    if y < 0.0 {
        return x.min(y.sqrt());
    }
    x.max(y)
}

#[test]
fn a_nan_argument_of_min_or_max_gets_no_derivative() {
    let (v, g) = min_with_nan_grad(0.7, -0.3);
    assert_eq!((v, g.x, g.y), (0.7, 1.0, 0.0));
    let (v, g) = min_with_nan_grad(0.7, 0.3);
    assert_eq!((v, g.x, g.y), (0.7, 1.0, 0.0));
}
