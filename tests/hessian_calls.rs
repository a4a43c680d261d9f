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

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{Lcg, close, hessian_by_differences, mat_vec};

fn flat<const K: usize>(h: &[[f64; K]; K]) -> Vec<f64> {
    h.iter().flatten().copied().collect()
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

// ---- two levels, and one callee called twice with different arguments

/// A callee calling a callee: `soft(u)·v + (v − u)²`.
#[differentiable(hessian)]
fn inner(u: f64, v: f64) -> f64 {
    soft(u) * v + (v - u).powi(2)
}

/// Two levels (`outer → inner → soft`), `soft` called here too, at other arguments.
#[differentiable(hessian)]
fn outer(a: f64, b: f64, c: f64) -> f64 {
    inner(a * b, c.sin()) + soft(b - c) * soft(a)
}

#[differentiable(hessian)]
fn outer_inline(a: f64, b: f64, c: f64) -> f64 {
    let u = a * b;
    let v = c.sin();
    (1.0 + u * u).ln() * v + (v - u).powi(2) + (1.0 + (b - c) * (b - c)).ln() * (1.0 + a * a).ln()
}

fn outer_dual<D: DualNum<Primitive = f64> + Copy>(a: D, b: D, c: D) -> D {
    let soft = |r: D| (D::from(1.0) + r * r).ln();
    let (u, v) = (a * b, c.sin());
    soft(u) * v + (v - u).powi(2) + soft(b - c) * soft(a)
}

#[test]
fn two_levels_of_calls_match_the_inlined_function_and_num_dual() {
    let mut rng = Lcg(5);
    for _ in 0..8 {
        let t = [2.0 * rng.next(), 2.0 * rng.next(), 2.0 * rng.next()];
        let (value, grad, h) = outer_hessian(t[0], t[1], t[2]);
        let (value_i, grad_i, h_i) = outer_inline_hessian(t[0], t[1], t[2]);
        assert_relative_eq!(value, value_i, epsilon = 1e-12);
        close(
            &grad.to_flat_vec(),
            &grad_i.to_flat_vec(),
            1e-12,
            "∇ vs inline",
        );
        close(&flat(&h), &flat(&h_i), 1e-12, "H vs inline");
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<3>, 3>| outer_dual(z[0], z[1], z[2]),
            &SVector::from(t),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        let g: Vec<f64> = g.iter().copied().collect();
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        let want: Vec<f64> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| hd[(i, j)])
            .collect();
        close(&flat(&h), &want, 1e-12, "H vs num-dual");
        let v = OuterGrad {
            a: rng.next(),
            b: rng.next(),
            c: rng.next(),
        };
        let (_, _, hv) = outer_hvp(t[0], t[1], t[2], &v);
        let (_, _, hv_i) = outer_inline_hvp(
            t[0],
            t[1],
            t[2],
            &OuterInlineGrad {
                a: v.a,
                b: v.b,
                c: v.c,
            },
        );
        close(
            &hv.to_flat_vec(),
            &hv_i.to_flat_vec(),
            1e-12,
            "H·v vs inline",
        );
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v vs num-dual",
        );
        // The callee's own second derivatives, as `inner_hessian` gives them.
        let (_, _, hi) = inner_hessian(t[0] * t[1], t[2].sin());
        let (_, _, hs) = soft_hessian(t[0]);
        let r = t[0];
        assert_relative_eq!(
            hs[0][0],
            2.0 * (1.0 - r * r) / (1.0 + r * r).powi(2),
            epsilon = 1e-12
        );
        assert!(hi[0][1].is_finite());
    }
}

// ---- a slice's elements passed to callees as scalars: the dense `_hessian`

/// A chain of springs with a robust energy: `Σᵢ soft(x[i] − x[i−1]) · k + inner(x[0], k)`.
#[differentiable(hessian)]
fn springs(x: &[f64], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..x.len() {
        e += soft(x[i] - x[i - 1]) * k;
    }
    e + inner(x[0], k)
}

fn springs_dual<D: DualNum<Primitive = f64> + Copy>(x: &[D], k: D) -> D {
    let soft = |r: D| (D::from(1.0) + r * r).ln();
    let mut e = D::from(0.0);
    for i in 1..x.len() {
        e += soft(x[i] - x[i - 1]) * k;
    }
    let (u, v) = (x[0], k);
    e + soft(u) * v + (v - u).powi(2)
}

#[test]
fn elements_passed_to_callees_give_the_dense_hessian_of_num_dual() {
    let mut rng = Lcg(17);
    for _ in 0..4 {
        let t = rng.vec(5);
        let (x, k) = (&t[..4], t[4]);
        let (value, grad, h) = springs_hessian(x, k);
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<5>, 5>| springs_dual(&[z[0], z[1], z[2], z[3]], z[4]),
            &SVector::from([t[0], t[1], t[2], t[3], t[4]]),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        let g: Vec<f64> = g.iter().copied().collect();
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        let want: Vec<f64> = (0..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .map(|(i, j)| hd[(i, j)])
            .collect();
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences =
            hessian_by_differences(|s| springs_grad(&s[..4], s[4]).1.to_flat_vec(), &t);
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = SpringsGrad {
            x: rng.vec(4),
            k: rng.next(),
        };
        let (_, _, hv) = springs_hvp(x, k, &v);
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

// ---- a callee with `wrt`: its second partials cover its data parameters too

/// Differentiates `w` only; a caller may still pass a differentiated value as `c`.
#[differentiable(wrt(w), hessian)]
fn scaled(w: f64, c: f64) -> f64 {
    (w * c).exp() + w * w * c
}

#[differentiable(hessian)]
fn through_data(p: f64, q: f64) -> f64 {
    scaled(p, q * q)
}

#[test]
fn a_callees_data_parameter_gets_second_derivatives_too() {
    let (p, q) = (0.3, -0.8);
    let (_, _, h) = through_data_hessian(p, q);
    // f = e^{p·q²} + p²q²
    let (c, e) = (q * q, (p * q * q).exp());
    let hpp = c * c * e + 2.0 * c;
    let hpq = 2.0 * q * e + 2.0 * q * p * c * e + 4.0 * p * q;
    let hqq = 2.0 * p * e + 4.0 * p * p * q * q * e + 2.0 * p * p;
    close(&flat(&h), &[hpp, hpq, hpq, hqq], 1e-12, "H");
}

// ---- a piecewise callee, under a condition, in f32

/// Huber's loss: second derivative 1 inside `[-d, d]`, 0 outside.
#[differentiable(hessian)]
fn huber(r: f64, d: f64) -> f64 {
    if r.abs() <= d {
        0.5 * r * r
    } else {
        d * (r.abs() - 0.5 * d)
    }
}

#[differentiable(wrt(w), hessian)]
fn robust(w: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += huber(w * x[i] - y[i], 1.0);
        }
    }
    s
}

#[test]
fn a_piecewise_callee_under_a_condition_counts_the_points_inside() {
    let x = [1.0, 2.0, -1.0, 0.5, 3.0];
    let y = [0.5, 4.0, 7.0, 0.0, 0.0];
    let w = 0.7;
    let (_, _, h) = robust_hessian(w, &x, &y);
    // Σ over x > 0 with |w·x − y| ≤ 1 of x²: 1 (x = 1), 0.25 (x = 0.5); 2 and 3 are outside.
    assert_relative_eq!(h[0][0], 1.0 + 0.25, epsilon = 1e-15);
    let (_, _, hv) = robust_hvp(w, &x, &y, &RobustGrad { w: 2.0 });
    assert_relative_eq!(hv.w, 2.0 * 1.25, epsilon = 1e-15);
}

#[differentiable(hessian)]
fn cube32(x: f32) -> f32 {
    x * x * x
}

#[differentiable(hessian)]
fn twice32(a: f32, b: f32) -> f32 {
    cube32(a * b) + cube32(b)
}

#[test]
fn f32_callees() {
    let (a, b) = (0.5f32, 1.5f32);
    let (_, _, h) = twice32_hessian(a, b);
    // f = (ab)³ + b³: f_aa = 6ab³, f_ab = 9a²b², f_bb = 6a³b + 6b
    assert!((h[0][0] - 6.0 * a * b.powi(3)).abs() < 1e-5);
    assert!((h[0][1] - 9.0 * a * a * b * b).abs() < 1e-5);
    assert!((h[1][0] - h[0][1]).abs() == 0.0);
    assert!((h[1][1] - (6.0 * a.powi(3) * b + 6.0 * b)).abs() < 1e-5);
}

// ---- the runtime's helpers: `sigmoid` and friends have second derivatives

/// The logistic loss through `sigmoid`: `H = Σᵢ pᵢ(1 − pᵢ)·x̃ᵢx̃ᵢᵀ` over `x̃ᵢ = (xᵢ, 1)`.
#[differentiable(wrt(w, b), hessian)]
fn logistic(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let p = symgrad::sigmoid(w * x[i] + b);
        s -= y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln();
    }
    s
}

#[test]
fn the_logistic_hessian_through_sigmoid_is_xt_diag_p_1_minus_p_x() {
    let x = [0.5, -1.5, 2.0, 0.25, -0.75];
    let y = [1.0, 0.0, 1.0, 0.0, 1.0];
    let (w, b) = (0.8, -0.3);
    let (_, grad, h) = logistic_hessian(w, b, &x, &y);
    let (mut hww, mut hwb, mut hbb, mut gw, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..x.len() {
        let p = 1.0 / (1.0 + (-(w * x[i] + b)).exp());
        let q = p * (1.0 - p);
        hww += q * x[i] * x[i];
        hwb += q * x[i];
        hbb += q;
        gw += (p - y[i]) * x[i];
        gb += p - y[i];
    }
    close(&[grad.w, grad.b], &[gw, gb], 1e-12, "∇");
    close(&flat(&h), &[hww, hwb, hwb, hbb], 1e-12, "H");
    let (_, _, hv) = logistic_hvp(w, b, &x, &y, &LogisticGrad { w: 1.0, b: -2.0 });
    close(
        &[hv.w, hv.b],
        &[hww - 2.0 * hwb, hwb - 2.0 * hbb],
        1e-12,
        "H·v",
    );
}

// ---- a callee differentiating a slice, given data there by a caller differentiating scalars

/// `t² · Σ w[i]²` (differentiates `w` and `t`).
#[differentiable(hessian)]
fn weighted(w: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * w[i];
    }
    t * t * s
}

#[differentiable(wrt(a), hessian)]
fn scale_of(a: f64, data: &[f64]) -> f64 {
    weighted(data, a.exp())
}

#[test]
fn a_callee_differentiating_a_slice_given_data() {
    let data = [0.5, -2.0, 1.5];
    let a = 0.3;
    let (_, grad, h) = scale_of_hessian(a, &data);
    // f = e^{2a} · Σ w²: f' = 2f, f'' = 4f.
    let s: f64 = data.iter().map(|w| w * w).sum();
    let f = (2.0 * a).exp() * s;
    assert_relative_eq!(grad.a, 2.0 * f, epsilon = 1e-12);
    assert_relative_eq!(h[0][0], 4.0 * f, epsilon = 1e-12);
}

// ---- calls given a differentiated slice: through the callee's hidden `__hvp`

#[differentiable(hessian)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// A scalar and a slice, a nonlinear body, a product: `(s·Σ tanh(xᵢ)·xᵢ)·Πx`.
#[differentiable(hessian)]
fn shaped(s: f64, x: &[f64]) -> f64 {
    let mut t = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        t += x[i].tanh() * x[i];
        p *= x[i];
    }
    (s * t).sin() * p
}

fn shaped_dual<D: DualNum<Primitive = f64> + Copy>(s: D, x: &[D]) -> D {
    let mut t = D::zero();
    let mut p = D::one();
    for &xi in x {
        t += xi.tanh() * xi;
        p *= xi;
    }
    (s * t).sin() * p
}

/// `dot(w, x)` with `w` differentiated and `x` data, `dot(w, w)` (one slice in two positions),
/// `shaped` given a scalar expression and a differentiated slice, and runs `&w[1..]`.
#[differentiable(wrt(w, c), hessian)]
fn sliced(w: &[f64], c: f64, x: &[f64]) -> f64 {
    let r = dot(w, x) - 1.0;
    let n = w.len();
    r * r + 0.5 * dot(w, w) * c + shaped(c * c, &w[1..]) + dot(&w[..n - 1], &w[1..]) * c
}

#[differentiable(wrt(w, c), hessian)]
fn sliced_inline(w: &[f64], c: f64, x: &[f64]) -> f64 {
    let n = w.len();
    let mut wx = 0.0;
    let mut ww = 0.0;
    let mut t = 0.0;
    let mut p = 1.0;
    let mut lag = 0.0;
    for i in 0..n {
        wx += w[i] * x[i];
        ww += w[i] * w[i];
    }
    for i in 1..n {
        t += w[i].tanh() * w[i];
        p *= w[i];
        lag += w[i - 1] * w[i];
    }
    let r = wx - 1.0;
    r * r + 0.5 * ww * c + (c * c * t).sin() * p + lag * c
}

fn sliced_dual<D: DualNum<Primitive = f64> + Copy>(w: &[D], c: D, x: &[f64]) -> D {
    let n = w.len();
    let wx = (0..n).fold(D::zero(), |s, i| s + w[i] * x[i]);
    let ww = (0..n).fold(D::zero(), |s, i| s + w[i] * w[i]);
    let lag = (1..n).fold(D::zero(), |s, i| s + w[i - 1] * w[i]);
    let r = wx - 1.0;
    r * r + ww * c * 0.5 + shaped_dual(c * c, &w[1..]) + lag * c
}

#[test]
fn calls_given_a_differentiated_slice_match_the_inlined_function_and_num_dual() {
    let mut r = Lcg(11);
    for _ in 0..4 {
        let t = r.vec(5);
        let x = r.vec(4);
        let (w, c) = (&t[..4], t[4]);
        let (value, grad, h) = sliced_hessian(w, c, &x);
        let (value_in, grad_in, h_in) = sliced_inline_hessian(w, c, &x);
        assert_relative_eq!(value, value_in, epsilon = 1e-12);
        close(
            &grad.to_flat_vec(),
            &grad_in.to_flat_vec(),
            1e-12,
            "∇ vs inline",
        );
        close(&h, &h_in, 1e-12, "H vs inline");
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<5>, 5>| {
                let z: [Dual2SVec64<5>; 5] = z.into();
                sliced_dual(&z[..4], z[4], &x)
            },
            &SVector::from([t[0], t[1], t[2], t[3], t[4]]),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), g.as_slice(), 1e-12, "∇ vs num-dual");
        let want: Vec<f64> = (0..25).map(|ij| hd[(ij / 5, ij % 5)]).collect();
        close(&h, &want, 1e-12, "H vs num-dual");
        let numeric =
            hessian_by_differences(|th| sliced_grad(&th[..4], th[4], &x).1.to_flat_vec(), &t);
        close(&h, &numeric, 1e-6, "H vs differences");
        let v = SlicedGrad {
            w: r.vec(4),
            c: r.next(),
        };
        let (value_v, grad_v, hv) = sliced_hvp(w, c, &x, &v);
        assert_relative_eq!(value_v, value, epsilon = 1e-12);
        close(
            &grad_v.to_flat_vec(),
            &grad.to_flat_vec(),
            1e-12,
            "∇ of _hvp",
        );
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

/// Two levels: `outer_sliced` calls `mid`, which gives `dot` its slice.
#[differentiable(hessian)]
fn mid(a: &[f64], k: f64) -> f64 {
    (k * dot(a, a)).exp()
}

#[differentiable(hessian)]
fn outer_sliced(w: &[f64]) -> f64 {
    mid(w, 0.3) * w[0]
}

#[test]
fn two_levels_of_slice_calls_match_num_dual() {
    let w = [0.4, -0.7, 0.2];
    let (value, _, h) = outer_sliced_hessian(&w);
    let (f, _, hd) = hessian(
        |z: SVector<Dual2SVec64<3>, 3>| {
            let ww = z[0] * z[0] + z[1] * z[1] + z[2] * z[2];
            (ww * 0.3).exp() * z[0]
        },
        &SVector::from(w),
    );
    assert_relative_eq!(value, f, epsilon = 1e-12);
    let want: Vec<f64> = (0..9).map(|ij| hd[(ij / 3, ij % 3)]).collect();
    close(&h, &want, 1e-12, "H");
}

/// Row `i` of `x` (rows of `w.len()`) times `w`.
#[differentiable(wrt(w), hessian)]
fn dot_row(w: &[f64], x: &[f64], i: usize) -> f64 {
    let d = w.len();
    let mut s = 0.0;
    for j in 0..d {
        s += w[j] * x[i * d + j];
    }
    s
}

/// Slice calls in a loop over rows (the row an integer argument), one of them under a
/// condition on the row's prediction.
#[differentiable(wrt(w), hessian)]
fn rows(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        let p = dot_row(w, x, i);
        if p > 0.0 {
            s += (p - y[i]).powi(2);
        } else {
            s += shaped(p, w);
        }
    }
    s
}

fn rows_dual<D: DualNum<Primitive = f64> + Copy>(w: &[D], x: &[f64], y: &[f64]) -> D {
    let d = w.len();
    let mut s = D::zero();
    for i in 0..y.len() {
        let p = (0..d).fold(D::zero(), |a, j| a + w[j] * x[i * d + j]);
        if p.re() > 0.0 {
            s += (p - y[i]).powi(2);
        } else {
            s += shaped_dual(p, w);
        }
    }
    s
}

#[test]
fn slice_calls_in_a_loop_and_under_a_condition_match_num_dual() {
    let mut r = Lcg(5);
    let (w, x, y) = (r.vec(3), r.vec(15), r.vec(5));
    // Both branches are taken.
    let above = (0..5).filter(|&i| dot_row(&w, &x, i) > 0.0).count();
    assert!(0 < above && above < 5, "{above} rows above 0");
    let (value, grad, h) = rows_hessian(&w, &x, &y);
    let (f, g, hd) = hessian(
        |z: SVector<Dual2SVec64<3>, 3>| rows_dual(z.as_slice(), &x, &y),
        &SVector::from([w[0], w[1], w[2]]),
    );
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&grad.w, g.as_slice(), 1e-12, "∇");
    let want: Vec<f64> = (0..9).map(|ij| hd[(ij / 3, ij % 3)]).collect();
    close(&h, &want, 1e-12, "H");
    let numeric = hessian_by_differences(|t| rows_grad(t, &x, &y).1.w, &w);
    close(&h, &numeric, 1e-6, "H vs differences");
    let v = RowsGrad { w: r.vec(3) };
    let (_, _, hv) = rows_hvp(&w, &x, &y, &v);
    close(&hv.w, &mat_vec(&want, &v.w), 1e-12, "H·v");
}

/// Three calls given `w` and an element product between their terms: in `H·v`, the products
/// renamed to `(H·v).w` share one block (each call's `__hvp` along `v` made once, the scatter of
/// `w[0]·w[1]` moved after them).
#[differentiable(wrt(w), hessian)]
fn mixed(w: &[f64], x: &[f64], y: f64) -> f64 {
    (dot(w, x) - y).powi(2) + w[0] * w[1] + dot(w, w).sin() + (dot(x, w) * y).exp()
}

fn mixed_dual<D: DualNum<Primitive = f64> + Copy>(w: &[D], x: &[f64], y: f64) -> D {
    let wx = (0..w.len()).fold(D::zero(), |s, i| s + w[i] * x[i]);
    let ww = (0..w.len()).fold(D::zero(), |s, i| s + w[i] * w[i]);
    (wx - y).powi(2) + w[0] * w[1] + ww.sin() + (wx * y).exp()
}

#[test]
fn products_of_several_calls_in_one_block_match_num_dual_and_differences() {
    let mut r = Lcg(23);
    for _ in 0..4 {
        let w = r.vec(4);
        let x = r.vec(4);
        let y = r.next();
        let (value, grad, h) = mixed_hessian(&w, &x, y);
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<4>, 4>| {
                let z: [Dual2SVec64<4>; 4] = z.into();
                mixed_dual(&z, &x, y)
            },
            &SVector::from([w[0], w[1], w[2], w[3]]),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), g.as_slice(), 1e-12, "∇ vs num-dual");
        let want: Vec<f64> = (0..16).map(|ij| hd[(ij / 4, ij % 4)]).collect();
        close(&h, &want, 1e-12, "H vs num-dual");
        let numeric = hessian_by_differences(|t| mixed_grad(t, &x, y).1.to_flat_vec(), &w);
        close(&h, &numeric, 1e-6, "H vs differences");
        let v = MixedGrad { w: r.vec(4) };
        let (value_v, grad_v, hv) = mixed_hvp(&w, &x, y, &v);
        assert_relative_eq!(value_v, value, epsilon = 1e-12);
        close(&grad_v.to_flat_vec(), g.as_slice(), 1e-12, "∇ of _hvp");
        close(&hv.to_flat_vec(), &mat_vec(&want, &v.w), 1e-12, "H·v");
    }
}
