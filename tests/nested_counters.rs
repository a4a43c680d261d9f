//! Integer counters stepped across a nest of loops (`let mut k = 0; for i { for j { … w[k] …;
//! k += 1; } }`): in iteration `(i, j)` the counter is `k₀ + step·(i·m + j)`, computed from the
//! indices. Checked against gradients derived by hand (1e-12), the same function written with
//! the index (1e-12) and central differences, at several sizes, empty loops among them.
#![allow(clippy::needless_range_loop, clippy::cast_lossless)] // index loops and `as` casts are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// `Σ_{i,j} w[i·m + j]·x[i]·y[j]`, the weight read through a counter, and the counter after
/// the nest reading a bias.
#[differentiable(wrt(w, x))]
fn bilinear(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for i in 0..x.len() {
        for j in 0..y.len() {
            s += w[k] * x[i] * y[j];
            k += 1;
        }
    }
    s + w[k]
}

/// A three-deep nest with a counter that starts at 1 and steps by 2, read before and after
/// its update, beside a loop-level `let`.
#[differentiable]
fn strided(w: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    let mut k = 1;
    for a in 0..n {
        let scale = 1.0 + a as f64;
        for b in 1..3 {
            for c in 0..=1 {
                s += scale * (w[k] * w[k - 1]).sin() + (b * c) as f64 * w[k];
                k += 2;
                s += 0.5 * w[k - 1] * w[k - 1];
            }
        }
    }
    s
}

#[differentiable]
fn strided_by_index(w: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for a in 0..n {
        let scale = 1.0 + a as f64;
        for b in 1..3 {
            for c in 0..2 {
                let k = 1 + 2 * (4 * a + 2 * (b - 1) + c);
                s += scale * (w[k] * w[k - 1]).sin() + (b * c) as f64 * w[k];
                s += 0.5 * w[k + 1] * w[k + 1];
            }
        }
    }
    s
}

/// A counter indexing a local array added into across the nest (`z[k] += …`).
#[differentiable]
fn binned(x: &[f64], m: usize) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n * m];
    let mut k = 0;
    for i in 0..n {
        for j in 0..m {
            z[k] += x[i] * (j as f64 + 1.0);
            k += 1;
        }
    }
    let mut s = 0.0;
    for t in 0..n * m {
        s += z[t] * z[t] * (t as f64 + 0.5);
    }
    s
}

#[test]
fn bilinear_gradient_is_exact() {
    for (n, m) in [(0, 3), (2, 0), (1, 1), (3, 2), (2, 4)] {
        let x: Vec<f64> = (0..n).map(|i| 0.3 + 0.7 * i as f64).collect();
        let y: Vec<f64> = (0..m).map(|j| -0.4 + 0.9 * j as f64).collect();
        let w: Vec<f64> = (0..=n * m).map(|k| (k as f64 * 0.37).sin()).collect();
        let (value, g) = bilinear_grad(&w, &x, &y);
        let mut want_value = w[n * m];
        let mut want_w = vec![0.0; n * m + 1];
        let mut want_x = vec![0.0; n];
        want_w[n * m] = 1.0;
        for i in 0..n {
            for j in 0..m {
                want_value += w[i * m + j] * x[i] * y[j];
                want_w[i * m + j] = x[i] * y[j];
                want_x[i] += w[i * m + j] * y[j];
            }
        }
        assert!((value - want_value).abs() < 1e-12, "{n}×{m}: value");
        assert_all_close(&g.w, &want_w, 1e-12);
        assert_all_close(&g.x, &want_x, 1e-12);
    }
}

#[test]
fn strided_matches_the_index_form_and_differences() {
    for n in 0..=3 {
        let w: Vec<f64> = (0..8 * n + 2)
            .map(|k| 0.2 + (k as f64 * 0.61).cos())
            .collect();
        let (value, g) = strided_grad(&w, n);
        let (want, h) = strided_by_index_grad(&w, n);
        assert!((value - want).abs() < 1e-12, "n = {n}: {value} vs {want}");
        assert_all_close(&g.w, &h.w, 1e-12);
        let numeric = numeric_gradient(|w| strided(w, n), &w);
        assert_all_close(&g.w, &numeric, 1e-6);
    }
}

#[test]
fn binned_gradient_is_exact() {
    for (n, m) in [(0, 2), (3, 0), (2, 3), (4, 1)] {
        let x: Vec<f64> = (0..n).map(|i| 0.5 - 0.3 * i as f64).collect();
        let (value, g) = binned_grad(&x, m);
        // z[i·m + j] = x_i·(j + 1): s = Σ x_i²·(j + 1)²·(i·m + j + 1/2).
        let (mut want_value, mut want) = (0.0, vec![0.0; n]);
        for i in 0..n {
            for j in 0..m {
                let c = (j as f64 + 1.0).powi(2) * ((i * m + j) as f64 + 0.5);
                want_value += x[i] * x[i] * c;
                want[i] += 2.0 * x[i] * c;
            }
        }
        assert!((value - want_value).abs() < 1e-12, "{n}×{m}: value");
        assert_all_close(&g.x, &want, 1e-12);
        let numeric = numeric_gradient(|x| binned(x, m), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
    }
}
