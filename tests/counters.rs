//! Integer counters updated in a loop (`count += 1`, `at += d`): checked against the same
//! function written with the index, and central differences, at sizes 0..=6.

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// A mean with a counted length, and a strided read through a running offset.
#[differentiable]
fn counted(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut count = 0;
    let mut at = 0;
    for i in 0..x.len() / 2 {
        s += x[at] * x[at + 1] + (i as f64) * x[count];
        at += 2;
        count += 1;
    }
    if count > 0 { s / count as f64 } else { 0.0 }
}

#[differentiable]
fn counted_by_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let n = x.len() / 2;
    for i in 0..n {
        s += x[2 * i] * x[2 * i + 1] + (i as f64) * x[i];
    }
    if n > 0 { s / n as f64 } else { 0.0 }
}

/// A counter that starts elsewhere, counts down, is read after its update, and a loop that
/// starts at 1.
#[differentiable]
fn countdown(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = x.len();
    for i in 1..x.len() {
        k -= 1;
        s += x[k] * (i as f64);
    }
    s + k as f64
}

#[differentiable]
fn countdown_by_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let n = x.len();
    for i in 1..n {
        s += x[n - i] * (i as f64);
    }
    let left = if n > 1 { 1 } else { n };
    s + left as f64
}

#[test]
fn counters_match_the_index_form() {
    type Form = fn(&[f64]) -> (f64, Vec<f64>);
    type Value = fn(&[f64]) -> f64;
    let pairs: [(Form, Form, Value); 2] = [
        (
            |x| {
                let (v, g) = counted_grad(x);
                (v, g.x)
            },
            |x| {
                let (v, g) = counted_by_index_grad(x);
                (v, g.x)
            },
            counted,
        ),
        (
            |x| {
                let (v, g) = countdown_grad(x);
                (v, g.x)
            },
            |x| {
                let (v, g) = countdown_by_index_grad(x);
                (v, g.x)
            },
            countdown,
        ),
    ];
    for (form, index, f) in pairs {
        for n in 0..=6_u32 {
            let x: Vec<f64> = (0..n).map(|i| 0.4 + 0.3 * f64::from(i)).collect();
            let (v, g) = form(&x);
            let (v_ref, g_ref) = index(&x);
            assert!((v - v_ref).abs() < 1e-12, "n = {n}: {v} vs {v_ref}");
            assert_eq!(v, f(&x));
            assert_all_close(&g, &g_ref, 1e-12);
            assert_all_close(&g, &numeric_gradient(f, &x), 1e-6);
        }
    }
}
