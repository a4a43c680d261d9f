//! The rewrites the helps of refusals write, accepted and differentiated: each against central
//! differences (1e-6 relative), and where it is short, a gradient derived by hand (1e-12).
//! (The refused forms are the UI tests `tests/ui/arrays/scan_in_while_loop.rs`,
//! `scan_at_an_offset.rs`, `write_at_windows_count.rs`, `write_at_constant_index_in_loop.rs`,
//! `const_item_at_loop_index.rs` and `tests/ui/vector/nalgebra_built_lent_in_storage_order.rs`.)
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

fn data(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.6 + 0.11 * i as f64).collect()
}

/// `while i < n { z[i] = z[i - 1] * x[i]; i += 1; }` as the help writes it: a scan.
#[differentiable]
fn cumprod(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 1..n {
        z[i] = z[i - 1] * x[i];
    }
    z[n - 1]
}

/// `for i in 0..n - 1 { z[i + 1] = z[i] * x[i]; }` indexed by the element written.
#[differentiable]
fn cumprod_shifted(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 1..n {
        z[i] = z[i - 1] * x[i - 1];
    }
    z[n - 1]
}

#[test]
fn scans_as_the_helps_write_them() {
    for n in [1, 2, 5] {
        let x = data(n);
        let (value, g) = cumprod_grad(&x);
        assert_eq!(value, cumprod(&x));
        // ∂/∂x[k] of Π_{i ≥ 1} x[i] is the product of the others (k ≥ 1), 0 for k = 0.
        let hand: Vec<f64> = (0..n)
            .map(|k| {
                if k == 0 {
                    0.0
                } else {
                    (1..n).filter(|&i| i != k).map(|i| x[i]).product()
                }
            })
            .collect();
        assert_all_close(&g.x, &hand, 1e-12);
        let (_, g) = cumprod_shifted_grad(&x);
        assert_all_close(&g.x, &numeric_gradient(cumprod_shifted, &x), 1e-6);
    }
}

/// `for (c, w) in x.windows(2).enumerate() { z[c] = w[1] - w[0]; }` over the count.
#[differentiable]
fn squared_steps(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for c in 0..x.len() - 1 {
        z[c] = x[c + 1] - x[c];
    }
    z.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn a_windows_count_as_the_help_writes_it() {
    for n in [1, 2, 6] {
        let x = data(n).iter().map(|v| v * v).collect::<Vec<_>>();
        let (value, g) = squared_steps_grad(&x);
        assert_eq!(value, squared_steps(&x));
        let mut hand = vec![0.0; n];
        for c in 0..n - 1 {
            let d = x[c + 1] - x[c];
            hand[c + 1] += 2.0 * d;
            hand[c] -= 2.0 * d;
        }
        assert_all_close(&g.x, &hand, 1e-12);
    }
}

/// `h[0] = h[0] * w + x[t]; h[1] = h[1] * w + h[0];` with the elements carried in floats.
#[differentiable]
fn cascade(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = [0.0; 2];
    let mut loss = 0.0;
    let mut h0 = h[0];
    let mut h1 = h[1];
    for t in 0..n {
        h0 = h0 * w + x[t];
        h1 = h1 * w + h0;
        loss += h1;
    }
    h[0] = h0;
    h[1] = h1;
    loss + h[0] * h[1]
}

#[test]
fn a_cascade_carried_in_floats() {
    for n in [0, 1, 4] {
        let x = data(n);
        let w = 0.7;
        let (value, g) = cascade_grad(&x, w);
        assert_eq!(value, cascade(&x, w));
        let mut at = x.clone();
        at.push(w);
        let numeric = numeric_gradient(|p| cascade(&p[..n], p[n]), &at);
        assert_all_close(&g.x, &numeric[..n], 1e-6);
        assert_all_close(&[g.w], &numeric[n..], 1e-6);
    }
}

/// `const W: [f64; 3]` outside the function, read at `W[i]`: declared in the body.
#[differentiable]
fn weighted(x: &[f64]) -> f64 {
    const W: [f64; 3] = [0.5, -1.0, 2.0];
    let mut s = 0.0;
    for i in 0..3 {
        s += W[i] * x[i] * x[i];
    }
    s
}

#[test]
fn a_const_array_declared_in_the_body() {
    let x = [0.3, -1.2, 0.8];
    let (value, g) = weighted_grad(&x);
    assert_eq!(value, weighted(&x));
    assert_all_close(&g.x, &[2.0 * 0.5 * 0.3, 2.0 * 1.2, 2.0 * 2.0 * 0.8], 1e-12);
}

#[differentiable]
fn det(m: &[f64; 4]) -> f64 {
    m[0] * m[3] - m[2] * m[1]
}

/// `det(&Matrix2::new(a, b, 2.0 * b, a))` with the elements written out column by column.
#[differentiable]
fn det_of_elements(a: f64, b: f64) -> f64 {
    det(&[a, 2.0 * b, b, a])
}

#[test]
fn a_matrix_passed_as_its_elements_in_storage_order() {
    let (a, b) = (1.3, -0.4);
    let (value, g) = det_of_elements_grad(a, b);
    // det [[a, b], [2b, a]] = a² − 2b².
    assert!((value - (a * a - 2.0 * b * b)).abs() < 1e-12);
    assert!((g.a - 2.0 * a).abs() < 1e-12);
    assert!((g.b + 4.0 * b).abs() < 1e-12);
}
