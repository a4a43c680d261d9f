//! Second order over vectors: `_hvp` (`H·v`) and the dense `_hessian` of functions with slice,
//! `Vec` and array parameters, against hand-derived Hessians (exact up to rounding, 1e-12),
//! num-dual's second-order forward mode (`num_dual::hessian`), and central differences of the
//! generated `_grad` at pseudo-random points.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use approx::assert_relative_eq;
use nalgebra::SVector;
use num_dual::{Dual2SVec64, DualNum, hessian};
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{Lcg, close, hessian_by_differences, mat_vec};

// ---- ½ xᵀAx: H = (A + Aᵀ)/2

#[differentiable(wrt(x), hessian)]
fn quadratic(x: &[f64], a: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            s += 0.5 * x[i] * a[i * n + j] * x[j];
        }
    }
    s
}

#[test]
fn the_hessian_of_a_quadratic_form_is_its_symmetric_part() {
    let mut r = Lcg(7);
    let n = 5;
    let a = r.vec(n * n);
    let x = r.vec(n);
    let (value, grad, h) = quadratic_hessian(&x, &a);
    let (v0, g0) = quadratic_grad(&x, &a);
    assert_eq!(value, v0);
    assert_eq!(grad, g0);
    assert_eq!(h.len(), n * n);
    for i in 0..n {
        for j in 0..n {
            let want = 0.5 * (a[i * n + j] + a[j * n + i]);
            assert_relative_eq!(h[i * n + j], want, epsilon = 1e-12);
        }
    }
    // H·v without the matrix: (A + Aᵀ)v/2.
    let v = r.vec(n);
    let (value, grad, hv) = quadratic_hvp(&x, &a, &QuadraticGrad { x: v.clone() });
    assert_eq!(value, v0);
    assert_eq!(grad, g0);
    let want: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 0.5 * (a[i * n + j] + a[j * n + i]) * v[j])
                .sum()
        })
        .collect();
    close(&hv.x, &want, 1e-12, "H·v");
}

// ---- logistic regression: H = X̃ᵀ diag(p(1 − p)) X̃, X̃ = [X | 1]

#[differentiable(wrt(w, b), hessian)]
fn logistic(w: &[f64], b: f64, x: &[f64], y: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for i in 0..y.len() {
        let mut z = b;
        for j in 0..d {
            z += x[i * d + j] * w[j];
        }
        // ln(1 + eᶻ) − y·z
        loss += z.exp().ln_1p() - y[i] * z;
    }
    loss
}

#[test]
fn the_logistic_hessian_is_xt_diag_p_1_minus_p_x() {
    let mut r = Lcg(11);
    let (n, d) = (7, 3);
    let x = r.vec(n * d);
    let y: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
    let w = r.vec(d);
    let b = 0.3;
    let (_, grad, h) = logistic_hessian(&w, b, &x, &y);
    // Flat order: w[0..d], then b.
    let m = d + 1;
    assert_eq!(h.len(), m * m);
    let row = |i: usize| -> Vec<f64> {
        let mut r: Vec<f64> = x[i * d..(i + 1) * d].to_vec();
        r.push(1.0);
        r
    };
    let mut want = vec![0.0; m * m];
    let mut want_grad = vec![0.0; m];
    for i in 0..n {
        let xi = row(i);
        let z: f64 = b + (0..d).map(|j| x[i * d + j] * w[j]).sum::<f64>();
        let p = 1.0 / (1.0 + (-z).exp());
        for a in 0..m {
            want_grad[a] += (p - y[i]) * xi[a];
            for c in 0..m {
                want[a * m + c] += p * (1.0 - p) * xi[a] * xi[c];
            }
        }
    }
    close(&h, &want, 1e-12, "H");
    close(&grad.to_flat_vec(), &want_grad, 1e-12, "∇");
    let v = LogisticGrad {
        w: r.vec(d),
        b: r.next(),
    };
    let (_, _, hv) = logistic_hvp(&w, b, &x, &y, &v);
    close(
        &hv.to_flat_vec(),
        &mat_vec(&want, &v.to_flat_vec()),
        1e-12,
        "H·v",
    );
}

// ---- Rust arrays and a scalar, against num-dual's second-order forward mode

#[differentiable(hessian)]
fn ring(p: &[f64; 4], q: [f64; 2], s: f64) -> f64 {
    let mut e = 0.0;
    for i in 0..4 {
        let j = (i + 1) % 4;
        e += (p[i] * p[j] - s).powi(2) + (p[i] * q[i % 2]).sin();
    }
    e + (q[0] * q[1]).exp() * s.cosh()
}

fn ring_dual<D: DualNum<Primitive = f64> + Copy>(p: &[D; 4], q: [D; 2], s: D) -> D {
    let mut e = D::from(0.0);
    for i in 0..4 {
        let j = (i + 1) % 4;
        e += (p[i] * p[j] - s).powi(2) + (p[i] * q[i % 2]).sin();
    }
    e + (q[0] * q[1]).exp() * s.cosh()
}

#[test]
fn arrays_match_num_dual_hessian() {
    let mut r = Lcg(3);
    for _ in 0..5 {
        let t = r.vec(7);
        let p = [t[0], t[1], t[2], t[3]];
        let q = [t[4], t[5]];
        let s = t[6];
        let (value, grad, h) = ring_hessian(&p, q, s);
        let (f, g, hd) = hessian(
            |z: SVector<Dual2SVec64<7>, 7>| {
                let z: [Dual2SVec64<7>; 7] = z.into();
                ring_dual(&[z[0], z[1], z[2], z[3]], [z[4], z[5]], z[6])
            },
            &SVector::from([t[0], t[1], t[2], t[3], t[4], t[5], t[6]]),
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        let want_g: Vec<f64> = g.iter().copied().collect();
        close(&grad.to_flat_vec(), &want_g, 1e-12, "∇");
        let want: Vec<f64> = (0..7)
            .flat_map(|i| (0..7).map(move |j| (i, j)))
            .map(|(i, j)| hd[(i, j)])
            .collect();
        close(&h, &want, 1e-12, "H");
        // The array fields of `v` and of `H·v`.
        let v = RingGrad {
            p: [r.next(), r.next(), r.next(), r.next()],
            q: [r.next(), r.next()],
            s: r.next(),
        };
        let (_, _, hv) = ring_hvp(&p, q, s, &v);
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

// ---- loops, `if`, element loops, iterator sums and an early return, against central
// differences of the generated gradient

#[differentiable(wrt(w, x), hessian)]
fn mixed(w: f64, x: &[f64], y: &[f64]) -> f64 {
    if x.is_empty() {
        return w * w;
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        let r = w * x[i] - y[i];
        if r > 0.0 {
            s += r * r * x[i];
        } else {
            s += (r * x[i]).sin();
        }
    }
    for (a, b) in x.iter().zip(x.iter().skip(1)) {
        s += (a * b).tanh();
    }
    let q: f64 = x.iter().map(|v| v * v).sum::<f64>();
    s + w.exp() * (q + 1.0).sqrt()
}

fn mixed_flat_grad(theta: &[f64], y: &[f64]) -> Vec<f64> {
    mixed_grad(theta[0], &theta[1..], y).1.to_flat_vec()
}

#[test]
fn loops_and_branches_match_central_differences_of_the_gradient() {
    let mut r = Lcg(5);
    for n in [1, 2, 6] {
        let y = r.vec(n);
        for _ in 0..4 {
            let theta = r.vec(n + 1);
            // Away from the kink `r = 0` of the `if`, which differences would straddle.
            if (0..n).any(|i| (theta[0] * theta[i + 1] - y[i]).abs() < 1e-3) {
                continue;
            }
            let (_, _, h) = mixed_hessian(theta[0], &theta[1..], &y);
            let want = hessian_by_differences(|t| mixed_flat_grad(t, &y), &theta);
            close(&h, &want, 1e-6, &format!("H, n = {n}"));
        }
    }
    // The early return: H = [[2]], and `x`'s block is empty.
    let (value, _, h) = mixed_hessian(1.5, &[], &[]);
    assert_eq!(value, 2.25);
    assert_eq!(h, [2.0]);
}

#[differentiable(hessian)]
fn chain(x: &[f64], k: f64) -> f64 {
    if x.len() < 2 {
        return k * k;
    }
    let mut e = 0.0;
    for i in 1..x.len() {
        let d = x[i] - x[i - 1];
        e += k * match d.abs() {
            a if a < 1.0 => 0.5 * d * d * d.cos(),
            a => a.ln() + 0.5 * 1f64.cos(),
        };
    }
    e + k * k * x[0].cos()
}

#[test]
fn neighbours_and_match_arms_match_central_differences() {
    let mut r = Lcg(9);
    for n in [2, 3, 8] {
        for _ in 0..4 {
            let mut theta = r.vec(n + 1);
            // Some neighbours more than 1 apart, in the other arm.
            for t in theta.iter_mut().step_by(3) {
                *t *= 3.0;
            }
            if (1..n).any(|i| ((theta[i] - theta[i - 1]).abs() - 1.0).abs() < 1e-3) {
                continue;
            }
            let (_, _, h) = chain_hessian(&theta[..n], theta[n]);
            let want =
                hessian_by_differences(|t| chain_grad(&t[..n], t[n]).1.to_flat_vec(), &theta);
            close(&h, &want, 1e-6, &format!("H, n = {n}"));
        }
    }
}

// ---- symmetry, and `H·v` against the dense Hessian

#[test]
fn products_with_unit_vectors_are_symmetric_and_the_dense_hessian_exactly() {
    let mut r = Lcg(13);
    let n = 6;
    let y = r.vec(n);
    let theta = r.vec(n + 1);
    let unit = |i: usize| {
        let mut e = vec![0.0; n + 1];
        e[i] = 1.0;
        MixedGrad {
            w: e[0],
            x: e[1..].to_vec(),
        }
    };
    let columns: Vec<Vec<f64>> = (0..=n)
        .map(|i| {
            mixed_hvp(theta[0], &theta[1..], &y, &unit(i))
                .2
                .to_flat_vec()
        })
        .collect();
    for i in 0..=n {
        for j in 0..i {
            let (a, b) = (columns[i][j], columns[j][i]);
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + a.abs()),
                "H[{i}][{j}]: {a} vs {b}"
            );
        }
    }
    let (_, _, h) = mixed_hessian(theta[0], &theta[1..], &y);
    let m = n + 1;
    for i in 0..m {
        for j in 0..m {
            assert_eq!(h[i * m + j], h[j * m + i]);
        }
    }
    let v = r.vec(m);
    let hv = mixed_hvp(
        theta[0],
        &theta[1..],
        &y,
        &MixedGrad {
            w: v[0],
            x: v[1..].to_vec(),
        },
    )
    .2;
    close(&hv.to_flat_vec(), &mat_vec(&h, &v), 1e-12, "H·v");
}

// ---- scalar parameters only: `_hessian` keeps its `[[T; K]; K]`, `_hvp` is that times `v`

#[differentiable(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[test]
fn scalar_hvp_is_the_symbolic_hessian_times_v() {
    let (x, y) = (-1.2, 1.0);
    let (_, _, h): (f64, RosenbrockGrad, [[f64; 2]; 2]) = rosenbrock_hessian(x, y);
    // Hand-derived: [[2 − 400(y − x²) + 800x², −400x], [−400x, 200]].
    assert_relative_eq!(
        h[0][0],
        2.0 - 400.0 * (y - x * x) + 800.0 * x * x,
        epsilon = 1e-12
    );
    assert_relative_eq!(h[0][1], -400.0 * x, epsilon = 1e-12);
    assert_relative_eq!(h[1][1], 200.0, epsilon = 1e-12);
    let v = RosenbrockGrad { x: 0.3, y: -2.0 };
    let (value, grad, hv) = rosenbrock_hvp(x, y, &v);
    assert_eq!((value, grad), rosenbrock_grad(x, y));
    assert_relative_eq!(hv.x, h[0][0] * v.x + h[0][1] * v.y, epsilon = 1e-12);
    assert_relative_eq!(hv.y, h[1][0] * v.x + h[1][1] * v.y, epsilon = 1e-12);
}

/// `wrt` leaving the slice as data: the scalar form of `_hessian`.
#[differentiable(wrt(w), hessian)]
fn scaled(w: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (w * x[i]).exp();
    }
    s
}

#[test]
fn a_slice_left_as_data_keeps_the_scalar_hessian() {
    let x = [0.5, -1.0, 2.0];
    let w = 0.7;
    let (_, _, h): (f64, ScaledGrad, [[f64; 1]; 1]) = scaled_hessian(w, &x);
    let want: f64 = x.iter().map(|v| v * v * (w * v).exp()).sum();
    assert_relative_eq!(h[0][0], want, epsilon = 1e-12);
    let (_, _, hv) = scaled_hvp(w, &x, &ScaledGrad { w: 2.0 });
    assert_relative_eq!(hv.w, 2.0 * want, epsilon = 1e-12);
}

// ---- `Vec` by value, `&Vec`, a linear function, `f32`

/// `Σ xᵢ²·e^{xᵢ}`: `H = diag(e^{xᵢ}(xᵢ² + 4xᵢ + 2))`.
#[differentiable(hessian)]
#[allow(clippy::needless_pass_by_value, clippy::ptr_arg)] // `Vec` and `&Vec` are the types under test
fn owned(x: Vec<f64>, scale: &Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * x[i].exp() * scale[i];
    }
    s
}

#[test]
fn vec_parameters_by_value_and_by_reference() {
    let x = vec![0.2, -1.1, 0.9];
    let scale = vec![1.0, 2.0, 0.5];
    let (_, grad, h) = owned_hessian(x.clone(), &scale);
    assert_eq!(grad.x.len(), 3);
    assert_eq!(grad.scale.len(), 3);
    // θ = (x, scale): ∂²/∂xᵢ² = sᵢ·e^{xᵢ}(xᵢ² + 4xᵢ + 2), ∂²/∂xᵢ∂sᵢ = e^{xᵢ}(xᵢ² + 2xᵢ).
    let n = 6;
    let mut want = vec![0.0; n * n];
    for i in 0..3 {
        let (xi, si, e) = (x[i], scale[i], x[i].exp());
        want[i * n + i] = si * e * (xi * xi + 4.0 * xi + 2.0);
        want[i * n + 3 + i] = e * (xi * xi + 2.0 * xi);
        want[(3 + i) * n + i] = e * (xi * xi + 2.0 * xi);
    }
    close(&h, &want, 1e-12, "H");
}

#[differentiable(hessian)]
fn linear(x: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (i as f64) * x[i];
    }
    s + 3.0 * c
}

#[test]
fn a_linear_function_has_a_zero_hessian() {
    let (value, grad, h) = linear_hessian(&[1.0, 2.0, 3.0], 0.5);
    assert_eq!(value, 9.5);
    assert_eq!(grad.x, [0.0, 1.0, 2.0]);
    assert_eq!(h, vec![0.0; 16]);
    let v = LinearGrad {
        x: vec![1.0, 1.0, 1.0],
        c: 1.0,
    };
    let (_, _, hv) = linear_hvp(&[1.0, 2.0, 3.0], 0.5, &v);
    assert_eq!(hv.x, [0.0; 3]);
    assert_eq!(hv.c, 0.0);
}

#[differentiable(hessian)]
fn single(x: &[f32], k: f32) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (k * x[i]).sin() * x[i];
    }
    s
}

#[differentiable(hessian)]
fn double(x: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (k * x[i]).sin() * x[i];
    }
    s
}

#[test]
fn f32_agrees_with_f64() {
    let x = [0.3f32, -0.8, 1.2];
    let (_, _, h32) = single_hessian(&x, 0.7);
    let x64: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
    let (_, _, h64) = double_hessian(&x64, f64::from(0.7f32));
    let h32: Vec<f64> = h32.iter().map(|v| f64::from(*v)).collect();
    close(&h32, &h64, 1e-5, "H");
}

// ---- `_hvp_into`

#[test]
fn hvp_into_overwrites_stale_structs_of_any_length() {
    let mut r = Lcg(17);
    let y = r.vec(4);
    let theta = r.vec(5);
    let v = MixedGrad {
        w: 0.5,
        x: r.vec(4),
    };
    let (value, grad, hv) = mixed_hvp(theta[0], &theta[1..], &y, &v);
    let mut g = MixedGrad {
        w: 9.0,
        x: vec![9.0; 7],
    };
    let mut h = MixedGrad {
        w: 9.0,
        x: vec![9.0; 1],
    };
    for _ in 0..2 {
        let got = mixed_hvp_into(theta[0], &theta[1..], &y, &v, &mut g, &mut h);
        assert_eq!(got, value);
        assert_eq!(g, grad);
        assert_eq!(h, hv);
    }
}

#[test]
#[should_panic(expected = "`mixed_hvp`: `v.x` must be as long as `x`")]
fn a_direction_of_the_wrong_length_is_refused() {
    let v = MixedGrad {
        w: 0.5,
        x: vec![1.0; 2],
    };
    let _ = mixed_hvp(0.1, &[0.2, 0.3, 0.4], &[0.0; 3], &v);
}

#[test]
fn the_gradient_checker_agrees_with_the_hessian_rows() {
    // Each row of H is the gradient of one component of ∇f: checked by the runtime's
    // finite-difference gradient checker too.
    let y = [0.3, -0.2, 0.5];
    let theta = [0.4, 0.1, -0.6, 0.9];
    let (_, _, h) = mixed_hessian(theta[0], &theta[1..], &y);
    for i in 0..4 {
        let row = common::numeric_gradient(|t| mixed_flat_grad(t, &y)[i], &theta);
        common::assert_all_close(&h[i * 4..(i + 1) * 4], &row, 1e-6);
    }
}

/// Parameters named like the generated functions' own (`v`, `hv`, `grad`): other variables.
#[differentiable(hessian)]
fn named(v: &[f64], hv: f64, grad: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * v[i] * hv;
    }
    s + grad * hv
}

#[test]
fn parameters_named_v_hv_and_grad_are_the_users() {
    // f = hv·Σ vᵢ² + grad·hv: ∂²f/∂vᵢ² = 2hv, ∂²f/∂vᵢ∂hv = 2vᵢ, ∂²f/∂hv∂grad = 1.
    let x = [1.0, -2.0];
    let (_, _, h) = named_hessian(&x, 3.0, 0.5);
    #[rustfmt::skip]
    let want = [
        6.0, 0.0, 2.0, 0.0,
        0.0, 6.0, -4.0, 0.0,
        2.0, -4.0, 0.0, 1.0,
        0.0, 0.0, 1.0, 0.0,
    ];
    assert_eq!(h, want);
    let dir = NamedGrad {
        v: vec![1.0, 0.0],
        hv: 0.0,
        grad: 1.0,
    };
    let (_, _, hvp) = named_hvp(&x, 3.0, 0.5, &dir);
    assert_eq!((hvp.v, hvp.hv, hvp.grad), (vec![6.0, 0.0], 3.0, 0.0));
}
