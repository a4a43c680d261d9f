//! `while` loops decided by an integer counter, and `continue` under a condition: checked
//! against the same function written with a `for` loop and `if`, and central differences.

// The forms as users write them.
#![allow(clippy::needless_range_loop, clippy::cloned_instead_of_copied)]

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

#[differentiable]
fn while_up(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 1;
    while i < x.len() {
        s += x[i] * x[i - 1];
        i += 2;
    }
    s + i as f64
}

#[differentiable]
fn while_up_for(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let n = x.len();
    let mut count: usize = 0;
    for k in 0..n / 2 {
        s += x[2 * k + 1] * x[2 * k];
        count += 1;
    }
    s + (1 + 2 * count) as f64
}

#[differentiable]
fn while_down(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = x.len();
    while k >= 1 {
        k -= 1;
        s = 0.5 * s + x[k].sin();
    }
    s
}

#[differentiable]
fn while_down_for(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let n = x.len();
    for j in 0..n {
        s = 0.5 * s + x[n - 1 - j].sin();
    }
    s
}

#[differentiable]
fn skip_negatives(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        if x[i] < 0.0 {
            s += 0.1 * x[i];
            continue;
        }
        s += x[i].powi(3);
        p *= 1.0 + x[i];
    }
    s + p
}

#[differentiable]
fn skip_negatives_if(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        if x[i] < 0.0 {
            s += 0.1 * x[i];
        } else {
            s += x[i].powi(3);
            p *= 1.0 + x[i];
        }
    }
    s + p
}

type Form = fn(&[f64]) -> (f64, Vec<f64>);
type Value = fn(&[f64]) -> f64;

fn check(form: Form, reference: Form, f: Value) {
    for n in 0..=7_u32 {
        let x: Vec<f64> = (0..n)
            .map(|i| 0.3 + 0.45 * f64::from(i) - 0.2 * f64::from(i % 3))
            .map(|v| if v > 1.0 { -v / 2.0 } else { v })
            .collect();
        let (v, g) = form(&x);
        let (v_ref, g_ref) = reference(&x);
        assert!((v - v_ref).abs() < 1e-12, "n = {n}: {v} vs {v_ref}");
        assert_eq!(v, f(&x));
        assert_all_close(&g, &g_ref, 1e-12);
        assert_all_close(&g, &numeric_gradient(f, &x), 1e-6);
    }
}

#[test]
fn while_loops_match_their_for_loops() {
    check(
        |x| {
            let (v, g) = while_up_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = while_up_for_grad(x);
            (v, g.x)
        },
        while_up,
    );
    check(
        |x| {
            let (v, g) = while_down_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = while_down_for_grad(x);
            (v, g.x)
        },
        while_down,
    );
}

#[test]
fn continue_is_the_rest_of_the_body_under_else() {
    check(
        |x| {
            let (v, g) = skip_negatives_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = skip_negatives_if_grad(x);
            (v, g.x)
        },
        skip_negatives,
    );
}

/// `fold` with a float accumulator: a sum (`acc + …`) and a recurrence (`acc * …`, `max`).
#[differentiable]
fn folds(x: &[f64], a: f64) -> f64 {
    let sq = x.iter().fold(0.0, |acc, v| acc + (a * v).powi(2));
    let prod = x.iter().fold(1.0, |acc, &v| acc * (1.0 + 0.1 * v));
    let m = x.iter().fold(f64::NEG_INFINITY, |m: f64, v| m.max(*v));
    let m = if x.is_empty() { 0.0 } else { m };
    sq + prod + a * m
}

#[differentiable]
fn folds_for(x: &[f64], a: f64) -> f64 {
    let mut sq = 0.0;
    let mut prod = 1.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        sq += (a * x[i]).powi(2);
        prod *= 1.0 + 0.1 * x[i];
        m = m.max(x[i]);
    }
    let m = if x.is_empty() { 0.0 } else { m };
    sq + prod + a * m
}

#[test]
fn fold_with_a_float_accumulator() {
    for n in 0..=6_u32 {
        // (No ties for the max: central differences split a tie.)
        let x: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.3 * f64::from(i * i % 5) + 0.01 * f64::from(i))
            .collect();
        let a = 1.3;
        let (v, g) = folds_grad(&x, a);
        let (v_ref, g_ref) = folds_for_grad(&x, a);
        assert!((v - v_ref).abs() < 1e-12, "n = {n}");
        assert_all_close(&g.x, &g_ref.x, 1e-12);
        assert!((g.a - g_ref.a).abs() < 1e-12);
        let mut at = x.clone();
        at.push(a);
        let numeric = numeric_gradient(|p| folds(&p[..p.len() - 1], p[p.len() - 1]), &at);
        let mut got = g.x.clone();
        got.push(g.a);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// `fold(f64::NEG_INFINITY, f64::max)`: a method path as the folding function.
#[differentiable]
fn max_fold(z: &[f64]) -> f64 {
    z.iter().cloned().fold(f64::NEG_INFINITY, f64::max) + z.iter().copied().fold(0.0, f64::min)
}

#[test]
fn fold_with_a_method_path() {
    let z = [0.3, 1.7, -0.4, 1.2];
    let (v, g) = max_fold_grad(&z);
    assert_eq!(v, max_fold(&z));
    // ∂max/∂z[1] = 1; min(0, …) is -0.4 at z[2].
    assert_all_close(&g.z, &[0.0, 1.0, 1.0, 0.0], 1e-12);
    assert_all_close(&g.z, &numeric_gradient(max_fold, &z), 1e-6);
}

/// `loop` with a final `break` on a counter: runs at least once (`k == 0` and `0 == m` when
/// counting down).
#[differentiable]
fn looped(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    loop {
        s += x[i % x.len()].powi(2) * (i as f64 + 1.0);
        i += 1;
        if i >= n {
            break;
        }
    }
    let mut k = x.len();
    loop {
        k -= 1;
        s += 0.5 * x[k];
        if k == 0 {
            break;
        }
    }
    // The bound on the left of `==`, counting down.
    let mut m = x.len();
    loop {
        m -= 1;
        s += 0.25 * x[m] * x[m];
        if 0 == m {
            break;
        }
    }
    s
}

#[differentiable]
fn looped_for(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    let runs = if n > 1 { n } else { 1 };
    for i in 0..runs {
        s += x[i % x.len()].powi(2) * (i as f64 + 1.0);
    }
    for j in 0..x.len() {
        s += 0.5 * x[x.len() - 1 - j];
    }
    for j in 0..x.len() {
        s += 0.25 * x[x.len() - 1 - j] * x[x.len() - 1 - j];
    }
    s
}

#[test]
fn loops_with_a_final_break() {
    let x = [0.4, -1.1, 0.9];
    for n in 0..6 {
        let (v, g) = looped_grad(&x, n);
        let (v_ref, g_ref) = looped_for_grad(&x, n);
        assert!((v - v_ref).abs() < 1e-12, "n = {n}: {v} vs {v_ref}");
        assert!((v - looped(&x, n)).abs() < 1e-12);
        assert_all_close(&g.x, &g_ref.x, 1e-12);
        assert_all_close(&g.x, &numeric_gradient(|p| looped(p, n), &x), 1e-6);
    }
}
