//! Losses as a new user writes them on the first day, each the way a textbook or a tutorial
//! writes it in plain Rust (rows bound by `let`, `filter`, folds after `map`, `if let` on the
//! last element, a local array returned by name): the value is the function's, bit for bit,
//! and the gradient matches central differences.
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

fn data(n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.4 + shift + 0.23 * i as f64 - 0.05 * (i * i) as f64)
        .collect()
}

/// Logistic regression over rows of a flat matrix.
#[differentiable]
fn logistic(w: &[f64], x: &[f64], y: &[f64], b: f64) -> f64 {
    let d = w.len();
    let n = y.len();
    let mut loss = 0.0;
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        let z: f64 = w.iter().zip(xi).map(|(a, c)| a * c).sum::<f64>() + b;
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln();
    }
    loss / n as f64
}

/// A one-hidden-layer network with a buffer of activations.
#[differentiable]
fn mlp(w1: &[f64], w2: &[f64], x: &[f64]) -> f64 {
    let h = w2.len();
    let d = x.len();
    let mut hidden = vec![0.0; h];
    for j in 0..h {
        let mut s = 0.0;
        for k in 0..d {
            s += w1[j * d + k] * x[k];
        }
        hidden[j] = s.tanh();
    }
    hidden.iter().zip(w2).map(|(a, b)| a * b).sum::<f64>()
}

/// Kullback–Leibler divergence over the support of `p`, with a filter.
#[differentiable]
fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q.iter())
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, b)| a * (a / b).ln())
        .sum()
}

/// The largest absolute error, a fold after a map, plus the last residual if there is one.
#[differentiable]
fn worst_and_last(pred: &[f64], target: &[f64]) -> f64 {
    let worst = pred
        .iter()
        .zip(target)
        .map(|(p, t)| (p - t).abs())
        .fold(0.0, f64::max);
    let last = if let Some(&l) = pred.last() {
        l * l
    } else {
        0.0
    };
    worst + last
}

/// A 1-d convolution into a buffer, then its energy.
#[differentiable]
fn conv1d(x: &[f64], k: &[f64]) -> f64 {
    let n = x.len() - k.len() + 1;
    let mut out = vec![0.0; n];
    for i in 0..n {
        for j in 0..k.len() {
            out[i] += x[i + j] * k[j];
        }
    }
    out.iter().map(|v| v * v).sum()
}

/// A spring integrated by Euler steps, position and velocity coupled.
#[differentiable]
fn euler(v0: f64, k: f64, dt: f64, steps: usize) -> f64 {
    let mut x = 0.0;
    let mut v = v0;
    for _ in 0..steps {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
    }
    x
}

/// Residuals of a point and its image, interleaved, returned by name.
#[differentiable]
fn residuals(p: &[f64; 2], t: f64) -> [f64; 4] {
    let mut r = [0.0; 4];
    for i in 0..2 {
        r[2 * i] = p[i] * t.cos() - 1.0;
        r[2 * i + 1] = p[i] * t.sin();
    }
    r
}

#[differentiable]
fn residual_loss(p: &[f64; 2], t: f64) -> f64 {
    let r = residuals(p, t);
    r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3]
}

#[test]
fn logistic_regression() {
    let (d, n) = (3, 4);
    let (w, x) = (data(d, -0.2), data(d * n, 0.1));
    let y = [1.0, 0.0, 1.0, 0.0];
    let b = 0.3;
    let (v, g) = logistic_grad(&w, &x, &y, b);
    assert_eq!(v, logistic(&w, &x, &y, b));
    assert_all_close(
        &g.w,
        &numeric_gradient(|w| logistic(w, &x, &y, b), &w),
        1e-6,
    );
    assert_all_close(
        &g.x,
        &numeric_gradient(|x| logistic(&w, x, &y, b), &x),
        1e-6,
    );
    assert_all_close(
        &[g.b],
        &numeric_gradient(|p| logistic(&w, &x, &y, p[0]), &[b]),
        1e-6,
    );
}

#[test]
fn network_with_a_buffer() {
    let (w1, w2, x) = (data(6, -0.3), data(2, 0.2), data(3, -0.1));
    let (v, g) = mlp_grad(&w1, &w2, &x);
    assert_eq!(v, mlp(&w1, &w2, &x));
    assert_all_close(&g.w1, &numeric_gradient(|w| mlp(w, &w2, &x), &w1), 1e-6);
    assert_all_close(&g.w2, &numeric_gradient(|w| mlp(&w1, w, &x), &w2), 1e-6);
    assert_all_close(&g.x, &numeric_gradient(|x| mlp(&w1, &w2, x), &x), 1e-6);
}

#[test]
fn divergence_errors_and_convolution() {
    let p = [0.2, 0.0, 0.5, 0.3];
    let q = [0.25, 0.25, 0.25, 0.25];
    let (v, g) = kl_grad(&p, &q);
    assert_eq!(v, kl(&p, &q));
    // ∂/∂p_i = ln(p_i/q_i) + 1 where p_i > 0, 0 elsewhere; ∂/∂q_i = −p_i/q_i.
    let want: Vec<f64> = p
        .iter()
        .zip(&q)
        .map(|(a, b)| if *a > 0.0 { (a / b).ln() + 1.0 } else { 0.0 })
        .collect();
    assert_all_close(&g.p, &want, 1e-12);
    let want_q: Vec<f64> = p.iter().zip(&q).map(|(a, b)| -a / b).collect();
    assert_all_close(&g.q, &want_q, 1e-12);

    let pred = data(5, 0.0);
    let target: Vec<f64> = (0..5).map(|i| pred[i] + 0.05 + 0.1 * i as f64).collect();
    let (v, g) = worst_and_last_grad(&pred, &target);
    assert_eq!(v, worst_and_last(&pred, &target));
    let numeric = numeric_gradient(|p| worst_and_last(p, &target), &pred);
    assert_all_close(&g.pred, &numeric, 1e-6);
    let (v, _) = worst_and_last_grad(&[], &[]);
    assert_eq!(v, 0.0);

    let (x, k) = (data(7, -0.2), data(3, 0.1));
    let (v, g) = conv1d_grad(&x, &k);
    assert_eq!(v, conv1d(&x, &k));
    assert_all_close(&g.x, &numeric_gradient(|x| conv1d(x, &k), &x), 1e-6);
    assert_all_close(&g.k, &numeric_gradient(|k| conv1d(&x, k), &k), 1e-6);
}

#[test]
fn coupled_integrator_and_interleaved_residuals() {
    let (v0, k, dt) = (0.8, 1.3, 0.05);
    let (v, g) = euler_grad(v0, k, dt, 40);
    assert_eq!(v, euler(v0, k, dt, 40));
    let numeric = numeric_gradient(|p| euler(p[0], p[1], p[2], 40), &[v0, k, dt]);
    assert_all_close(&[g.v0, g.k, g.dt], &numeric, 1e-6);

    let (p, t) = ([0.7, -0.4], 0.3);
    let (v, g) = residual_loss_grad(&p, t);
    assert_eq!(v, residual_loss(&p, t));
    // Σ (p_i cos t − 1)² + (p_i sin t)²: ∂/∂p_i = 2(p_i − cos t), ∂/∂t = Σ 2 p_i sin t.
    assert_all_close(
        &g.p,
        &[2.0 * (p[0] - t.cos()), 2.0 * (p[1] - t.cos())],
        1e-12,
    );
    assert_all_close(&[g.t], &[2.0 * (p[0] + p[1]) * t.sin()], 1e-12);
}
