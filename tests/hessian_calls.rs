//! Second derivatives through calls of other `#[differentiable(hessian)]` functions: the
//! symbolic `_hessian` and `_hvp` of callers, one and two levels deep, against the same function
//! written inline (the same derivative rules on the same expressions: equal to 1e-12, most
//! often exactly), num-dual's second-order forward mode (`num_dual::hessian`, 1e-12) and
//! central differences of the generated `_grad` (1e-6).
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use nalgebra::SVector;
use num_dual::{Dual2SVec64, DualNum, hessian};
use symgrad::{Gradient, differentiable};

/// A small deterministic generator of points in `[-1, 1)`.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: {a} vs {b}"
        );
    }
}

fn flat<const K: usize>(h: &[[f64; K]; K]) -> Vec<f64> {
    h.iter().flatten().copied().collect()
}

/// `H·v` for a row-major `n × n` matrix.
fn mat_vec(h: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * v[j]).sum())
        .collect()
}

/// Central differences of a flat gradient `grad(θ)`, row-major.
fn hessian_by_differences(grad: impl Fn(&[f64]) -> Vec<f64>, theta: &[f64]) -> Vec<f64> {
    let n = theta.len();
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        let step = 1e-5 * theta[i].abs().max(1.0);
        let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
        up[i] += step;
        down[i] -= step;
        let (gu, gd) = (grad(&up), grad(&down));
        for j in 0..n {
            h[j * n + i] = (gu[j] - gd[j]) / (2.0 * step);
        }
    }
    h
}

// ---- the helpers

/// A smooth robust loss: `ln(1 + r²)`.
#[differentiable(hessian)]
fn soft(r: f64) -> f64 {
    (1.0 + r * r).ln()
}

/// A residual with data: a float, an index and a data slice among the parameters.
#[differentiable(hessian)]
fn residual(w: f64, b: f64, x: &[f64], i: usize, y: f64) -> f64 {
    (w * x[i]).tanh() + b - y
}

/// One level: `Σᵢ soft(residual(w, b, x, i, y[i]))`.
#[differentiable(wrt(w, b), hessian)]
fn fit(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += soft(residual(w, b, x, i, y[i]));
    }
    s
}

/// `fit` written out by hand.
#[differentiable(wrt(w, b), hessian)]
fn fit_inline(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        let r = (w * x[i]).tanh() + b - y[i];
        s += (1.0 + r * r).ln();
    }
    s
}

fn fit_dual<D: DualNum<Primitive = f64> + Copy>(w: D, b: D, x: &[f64], y: &[f64]) -> D {
    let mut s = D::from(0.0);
    for i in 0..y.len() {
        let r = (w * D::from(x[i])).tanh() + b - D::from(y[i]);
        s += (D::from(1.0) + r * r).ln();
    }
    s
}

#[test]
fn a_call_in_a_loop_over_data_matches_the_inlined_function_and_num_dual() {
    let mut rng = Lcg(11);
    let x = rng.vec(20);
    let y = rng.vec(20);
    for _ in 0..5 {
        let (w, b) = (2.0 * rng.next(), rng.next());
        let (value, grad, h) = fit_hessian(w, b, &x, &y);
        let (value_i, grad_i, h_i) = fit_inline_hessian(w, b, &x, &y);
        assert_relative_eq!(value, value_i, epsilon = 1e-12);
        close(&[grad.w, grad.b], &[grad_i.w, grad_i.b], 1e-12, "∇");
        close(&flat(&h), &flat(&h_i), 1e-12, "H vs inline");
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<2>, 2>| fit_dual(z[0], z[1], &x, &y),
            &SVector::from([w, b]),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&[grad.w, grad.b], &[g[0], g[1]], 1e-12, "∇ vs num-dual");
        let want = [hd[(0, 0)], hd[(0, 1)], hd[(1, 0)], hd[(1, 1)]];
        close(&flat(&h), &want, 1e-12, "H vs num-dual");
        let v = FitGrad {
            w: rng.next(),
            b: rng.next(),
        };
        let (value_v, grad_v, hv) = fit_hvp(w, b, &x, &y, &v);
        assert_eq!((value_v, grad_v), fit_grad(w, b, &x, &y));
        close(
            &[hv.w, hv.b],
            &mat_vec(&want, &[v.w, v.b]),
            1e-12,
            "H·v vs num-dual",
        );
        let by_differences = hessian_by_differences(
            |t| {
                let (_, g) = fit_grad(t[0], t[1], &x, &y);
                vec![g.w, g.b]
            },
            &[w, b],
        );
        close(&flat(&h), &by_differences, 1e-6, "H vs differences of ∇");
    }
}
