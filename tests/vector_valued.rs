//! Vector-valued functions (`-> [T; M]`): `_jacobian`, `_jacobian_into`, `_vjp`, `_vjp_into`,
//! `_jvp`, and calls of such functions from other differentiable functions.
//!
//! The oracles: Jacobians derived by hand (a reprojection-like residual with 9 camera
//! parameters, BA's shape; a curve-fitting residual with 100 outputs), central finite
//! differences of the function itself, num-dual's forward-mode Jacobian, and the identities
//! `_vjp(seed) = seedᵀ·J` and `_jvp(t) = J·t` checked against a Jacobian that is itself checked.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;
#[path = "../benches/common/vector_residuals.rs"]
mod vector_residuals;

use common::assert_all_close;
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, jacobian};
use symgrad::{Gradient, differentiable};

/// `|a − b| ≤ tol·max(1, |b|)` for every entry.
fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0),
            "{what}[{i}]: {a} vs {b} (difference {})",
            (a - b).abs()
        );
    }
}

/// The Jacobian's rows, each flattened in the order of the gradient struct's fields.
fn rows<G: Gradient<f64>>(jac: &[G]) -> Vec<Vec<f64>> {
    jac.iter().map(Gradient::to_flat_vec).collect()
}

/// Central differences of every output of `f` with respect to every element of `x`: row `k`
/// is `∇f_k`.
fn numeric_jacobian(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<Vec<f64>> {
    let m = f(x).len();
    let mut j = vec![vec![0.0; x.len()]; m];
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[i] += h;
        down[i] -= h;
        let (fu, fd) = (f(&up), f(&down));
        for k in 0..m {
            j[k][i] = (fu[k] - fd[k]) / (2.0 * h);
        }
    }
    j
}

/// `seedᵀ·J` and `J·t` of a Jacobian given by its rows.
fn seed_times(j: &[Vec<f64>], seed: &[f64]) -> Vec<f64> {
    (0..j[0].len())
        .map(|i| (0..j.len()).map(|k| seed[k] * j[k][i]).sum())
        .collect()
}

fn times_tangent(j: &[Vec<f64>], t: &[f64]) -> Vec<f64> {
    j.iter()
        .map(|row| row.iter().zip(t).map(|(a, b)| a * b).sum())
        .collect()
}

// ---- a reprojection-like residual: 2 outputs, 9 camera parameters, derived by hand

/// A pinhole camera turned by `cam[0]` about its axis, translated by `cam[1..4]`, with focal
/// length `cam[4]`, principal point `cam[5..7]` and radial distortion `cam[7..9]`, seeing the
/// point `p` at pixel `(u, v)`.
#[differentiable(wrt(cam))]
fn pinhole(cam: &[f64; 9], p: &[f64; 3], u: f64, v: f64) -> [f64; 2] {
    let (s, c) = (cam[0].sin(), cam[0].cos());
    let px = c * p[0] - s * p[1] + cam[1];
    let py = s * p[0] + c * p[1] + cam[2];
    let pz = p[2] + cam[3];
    let (xn, yn) = (px / pz, py / pz);
    let r2 = xn * xn + yn * yn;
    let d = 1.0 + cam[7] * r2 + cam[8] * r2 * r2;
    [cam[4] * d * xn + cam[5] - u, cam[4] * d * yn + cam[6] - v]
}

/// `pinhole`'s Jacobian, by hand: the chain rule through `(px, py, pz) → (xn, yn) → r2 → d`.
fn pinhole_jacobian_by_hand(cam: &[f64; 9], p: &[f64; 3]) -> [[f64; 9]; 2] {
    let (s, c) = (cam[0].sin(), cam[0].cos());
    let px = c * p[0] - s * p[1] + cam[1];
    let py = s * p[0] + c * p[1] + cam[2];
    let pz = p[2] + cam[3];
    let (xn, yn) = (px / pz, py / pz);
    let r2 = xn * xn + yn * yn;
    let (k1, k2, f) = (cam[7], cam[8], cam[4]);
    let d = 1.0 + k1 * r2 + k2 * r2 * r2;
    // ∂(px, py, pz)/∂q for q = θ, t0, t1, t2 (the others do not move the point).
    let dp = [
        [-s * p[0] - c * p[1], c * p[0] - s * p[1], 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ];
    let mut j = [[0.0; 9]; 2];
    for (q, [dpx, dpy, dpz]) in dp.into_iter().enumerate() {
        let dxn = (dpx * pz - px * dpz) / (pz * pz);
        let dyn_ = (dpy * pz - py * dpz) / (pz * pz);
        let dr2 = 2.0 * xn * dxn + 2.0 * yn * dyn_;
        let dd = (k1 + 2.0 * k2 * r2) * dr2;
        j[0][q] = f * (dd * xn + d * dxn);
        j[1][q] = f * (dd * yn + d * dyn_);
    }
    j[0][4] = d * xn;
    j[1][4] = d * yn;
    j[0][5] = 1.0;
    j[1][6] = 1.0;
    j[0][7] = f * r2 * xn;
    j[1][7] = f * r2 * yn;
    j[0][8] = f * r2 * r2 * xn;
    j[1][8] = f * r2 * r2 * yn;
    j
}

fn pinhole_input() -> ([f64; 9], [f64; 3], f64, f64) {
    (
        [0.3, 0.1, -0.2, 4.0, 500.0, 320.0, 240.0, -0.1, 0.02],
        [0.5, -0.3, 1.2],
        400.0,
        200.0,
    )
}

#[test]
fn a_reprojection_residual_has_the_hand_derived_jacobian() {
    let (cam, p, u, v) = pinhole_input();
    let (value, jac) = pinhole_jacobian(&cam, &p, u, v);
    assert_eq!(value, pinhole(&cam, &p, u, v));
    let want = pinhole_jacobian_by_hand(&cam, &p);
    for k in 0..2 {
        close(&jac[k].cam, &want[k], 1e-12, &format!("row {k}"));
    }
    let fd = numeric_jacobian(
        |x| {
            let cam: [f64; 9] = x.try_into().expect("nine parameters");
            pinhole(&cam, &p, u, v).to_vec()
        },
        &cam,
    );
    for k in 0..2 {
        assert_all_close(&jac[k].cam, &fd[k], 1e-6);
    }
}

#[test]
fn a_reprojection_residuals_vjp_and_jvp_are_the_jacobians_products() {
    let (cam, p, u, v) = pinhole_input();
    let j = pinhole_jacobian_by_hand(&cam, &p)
        .map(|r| r.to_vec())
        .to_vec();
    for seed in [[1.0, 0.0], [0.0, 1.0], [0.7, -2.5]] {
        let (value, g) = pinhole_vjp(&cam, &p, u, v, &seed);
        assert_eq!(value, pinhole(&cam, &p, u, v));
        close(&g.cam, &seed_times(&j, &seed), 1e-12, "seedᵀ·J");
    }
    let t = [0.2, -1.0, 0.5, 0.3, 2.0, -0.7, 1.1, 0.05, -0.4];
    let (value, dots) = pinhole_jvp(&cam, &p, u, v, &PinholeGrad { cam: t });
    assert_eq!(value, pinhole(&cam, &p, u, v));
    close(&dots, &times_tangent(&j, &t), 1e-12, "J·t");
}

// ---- a curve-fitting residual: 100 outputs, 3 parameters, derived by hand

const SAMPLES: usize = 100;

/// The residuals of an exponential decay `a·e^(−k t) + c` at 100 samples.
#[differentiable(wrt(a, k, c))]
fn decay(a: f64, k: f64, c: f64, t: &[f64; 100], y: &[f64; 100]) -> [f64; 100] {
    std::array::from_fn(|i| a * (-k * t[i]).exp() + c - y[i])
}

fn samples() -> ([f64; SAMPLES], [f64; SAMPLES]) {
    let t: [f64; SAMPLES] = std::array::from_fn(|i| i as f64 * 0.05);
    let y = t.map(|t| 2.0 * (-0.8 * t).exp() + 0.3 + 0.01 * (7.0 * t).sin());
    (t, y)
}

#[test]
fn a_curve_fit_with_100_outputs_has_the_hand_derived_jacobian() {
    let (t, y) = samples();
    let (a, k, c) = (1.7, 0.6, 0.2);
    let (value, jac) = decay_jacobian(a, k, c, &t, &y);
    assert_eq!(value, decay(a, k, c, &t, &y));
    for i in 0..SAMPLES {
        let e = (-k * t[i]).exp();
        let want = [e, -a * t[i] * e, 1.0];
        close(
            &[jac[i].a, jac[i].k, jac[i].c],
            &want,
            1e-12,
            &format!("row {i}"),
        );
    }
    let seed: [f64; SAMPLES] = std::array::from_fn(|i| (i as f64 * 0.3).cos());
    let j: Vec<Vec<f64>> = rows(&jac);
    let (_, g) = decay_vjp(a, k, c, &t, &y, &seed);
    close(&g.to_flat_vec(), &seed_times(&j, &seed), 1e-12, "seedᵀ·J");
    let tangent = DecayGrad {
        a: 0.3,
        k: -1.2,
        c: 2.0,
    };
    let (_, dots) = decay_jvp(a, k, c, &t, &y, &tangent);
    close(&dots, &times_tangent(&j, &[0.3, -1.2, 2.0]), 1e-12, "J·t");
}

/// Gauss–Newton on the curve fit: the Jacobian is what the normal equations need, and the fit
/// finds the decay the data came from.
#[test]
fn gauss_newton_fits_the_decay_with_the_jacobian() {
    let (t, y) = samples();
    let mut p = [1.0, 1.0, 0.0];
    for _ in 0..20 {
        let (r, jac) = decay_jacobian(p[0], p[1], p[2], &t, &y);
        // JᵀJ δ = −Jᵀr, 3 × 3.
        let mut jtj = nalgebra::Matrix3::<f64>::zeros();
        let mut jtr = nalgebra::Vector3::<f64>::zeros();
        for (row, r) in jac.iter().zip(r) {
            let g = nalgebra::Vector3::new(row.a, row.k, row.c);
            jtj += g * g.transpose();
            jtr += g * r;
        }
        let step = jtj.lu().solve(&(-jtr)).expect("JᵀJ is invertible");
        for i in 0..3 {
            p[i] += step[i];
        }
    }
    close(&p, &[2.0, 0.8, 0.3], 2e-2, "fitted parameters");
}

// ---- bundle adjustment's residual (Rodrigues, 9 + 3 parameters) against num-dual

/// The reprojection residual of the Bundle Adjustment in the Large camera model (angle-axis
/// rotation, translation, focal length, two distortion coefficients): the two residuals that
/// `benches/common/small_calls.rs`' `reprojection` squares and sums.
#[differentiable]
fn ba_residual(cam: &[f64; 9], point: &[f64; 3], u: f64, v: f64) -> [f64; 2] {
    let theta = (cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let k0 = cam[0] / theta;
    let k1 = cam[1] / theta;
    let k2 = cam[2] / theta;
    let (x, y, z) = (point[0], point[1], point[2]);
    let kp = k0 * x + k1 * y + k2 * z;
    let px = x * c + (k1 * z - k2 * y) * s + k0 * kp * (1.0 - c) + cam[3];
    let py = y * c + (k2 * x - k0 * z) * s + k1 * kp * (1.0 - c) + cam[4];
    let pz = z * c + (k0 * y - k1 * x) * s + k2 * kp * (1.0 - c) + cam[5];
    let xp = -px / pz;
    let yp = -py / pz;
    let r2 = xp * xp + yp * yp;
    let distortion = 1.0 + r2 * (cam[7] + cam[8] * r2);
    [cam[6] * distortion * xp - u, cam[6] * distortion * yp - v]
}

/// The same residual, generic over num-dual's numbers.
fn ba_residual_dual<D: DualNum<Primitive = f64> + Copy>(q: &[D; 12], u: f64, v: f64) -> [D; 2] {
    let (cam, point) = (&q[..9], &q[9..]);
    let theta = (cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let k0 = cam[0] / theta;
    let k1 = cam[1] / theta;
    let k2 = cam[2] / theta;
    let (x, y, z) = (point[0], point[1], point[2]);
    let kp = k0 * x + k1 * y + k2 * z;
    let one_c = D::from(1.0) - c;
    let px = x * c + (k1 * z - k2 * y) * s + k0 * kp * one_c + cam[3];
    let py = y * c + (k2 * x - k0 * z) * s + k1 * kp * one_c + cam[4];
    let pz = z * c + (k0 * y - k1 * x) * s + k2 * kp * one_c + cam[5];
    let xp = -px / pz;
    let yp = -py / pz;
    let r2 = xp * xp + yp * yp;
    let distortion = D::from(1.0) + r2 * (cam[7] + cam[8] * r2);
    [cam[6] * distortion * xp - u, cam[6] * distortion * yp - v]
}

fn ba_input() -> ([f64; 9], [f64; 3], f64, f64) {
    (
        [0.01, -0.02, 0.03, 0.1, -0.2, -3.0, 500.0, 1e-4, 1e-8],
        [0.5, -0.3, 1.2],
        -85.0,
        52.0,
    )
}

#[test]
fn bundle_adjustments_residual_matches_num_dual_forward_mode() {
    let (cam, point, u, v) = ba_input();
    let (value, jac) = ba_residual_jacobian(&cam, &point, u, v);
    let mut q = [0.0; 12];
    q[..9].copy_from_slice(&cam);
    q[9..].copy_from_slice(&point);
    let (f, j) = jacobian(
        |x: SVector<DualSVec64<12>, 12>| {
            let x: [DualSVec64<12>; 12] = x.into();
            SVector::from(ba_residual_dual(&x, u, v))
        },
        &SVector::from(q),
    );
    close(&value, &[f[0], f[1]], 1e-12, "value");
    for k in 0..2 {
        // Row k: the 9 camera parameters, the 3 point coordinates, then u and v.
        let want: Vec<f64> = (0..12).map(|i| j[(k, i)]).collect();
        let mut got = jac[k].cam.to_vec();
        got.extend(jac[k].point);
        close(&got, &want, 1e-12, &format!("row {k}"));
        assert_eq!(
            [jac[k].u, jac[k].v],
            if k == 0 { [-1.0, 0.0] } else { [0.0, -1.0] }
        );
    }
}

/// The residuals `benches/jacobian.rs` times, against num-dual there too.
#[test]
fn the_benchmarked_jacobians_match_num_dual() {
    use vector_residuals::{
        ba_input, ba_residual_dual, ba_residual_jacobian, peaks_dual, peaks_input,
        peaks_jacobian_of, peaks_of,
    };
    let (cam, point, u, v) = ba_input();
    let (_, jac) = ba_residual_jacobian(&cam, &point, u, v);
    let (_, j) = jacobian(
        |x: SVector<DualSVec64<9>, 9>| {
            let cam: [DualSVec64<9>; 9] = x.into();
            SVector::from(ba_residual_dual(&cam, &point, u, v))
        },
        &SVector::from(cam),
    );
    for k in 0..2 {
        let want: Vec<f64> = (0..9).map(|i| j[(k, i)]).collect();
        close(&jac[k].cam, &want, 1e-12, &format!("BA row {k}"));
    }
    let (p, t, y) = peaks_input();
    let (value, jac) = peaks_jacobian_of(&p, &t, &y);
    close(&value, &peaks_of(&p, &t, &y), 1e-15, "peaks' value");
    let (f, j) = jacobian(
        |x: SVector<DualSVec64<10>, 10>| {
            let p: [DualSVec64<10>; 10] = x.into();
            SVector::from(peaks_dual(&p, &t, &y))
        },
        &SVector::from(p),
    );
    close(&value, f.as_slice(), 1e-12, "peaks' value (num-dual)");
    for k in 0..vector_residuals::SAMPLES {
        let want: Vec<f64> = (0..10).map(|i| j[(k, i)]).collect();
        close(
            &jac[k].to_flat_vec(),
            &want,
            1e-12,
            &format!("peaks row {k}"),
        );
    }
}

/// Outputs sharing a costly function of the parameters: here one tangent sweep per parameter
/// (forward mode) computes its derivative once, where one reverse sweep per output would
/// repeat it; the Jacobian is the hand-derived one either way.
#[differentiable(wrt(a, b, c))]
fn scaled(a: f64, b: f64, c: f64, t: &[f64; 6]) -> [f64; 6] {
    let s = (a * b).exp() + c.sin();
    std::array::from_fn(|k| s * t[k] - a)
}

#[test]
fn outputs_sharing_a_subexpression() {
    let t = [0.5, -1.0, 2.0, 0.25, 3.0, -0.75];
    let (a, b, c) = (0.4, -0.9, 1.3);
    let (value, jac) = scaled_jacobian(a, b, c, &t);
    close(&value, &scaled(a, b, c, &t), 1e-15, "value");
    let e = (a * b).exp();
    let j: Vec<Vec<f64>> = t
        .iter()
        .map(|tk| vec![tk * b * e - 1.0, tk * a * e, tk * c.cos()])
        .collect();
    close(&rows(&jac).concat(), &j.concat(), 1e-14, "J");
    let seed = [1.0, -2.0, 0.5, 0.0, 3.0, -1.0];
    close(
        &scaled_vjp(a, b, c, &t, &seed).1.to_flat_vec(),
        &seed_times(&j, &seed),
        1e-13,
        "seedᵀ·J",
    );
    let tangent = ScaledGrad {
        a: 0.3,
        b: 1.0,
        c: -2.0,
    };
    close(
        &scaled_jvp(a, b, c, &t, &tangent).1,
        &times_tangent(&j, &[0.3, 1.0, -2.0]),
        1e-13,
        "J·t",
    );
}

/// One output: the Jacobian is the gradient.
#[differentiable]
fn single_output(x: f64, y: f64) -> [f64; 1] {
    [x * y.sin()]
}

#[test]
fn one_output_is_a_gradient() {
    let (value, jac) = single_output_jacobian(2.0, 0.5);
    assert_eq!(value, [2.0 * 0.5f64.sin()]);
    assert_eq!(
        jac,
        [SingleOutputGrad {
            x: 0.5f64.sin(),
            y: 2.0 * 0.5f64.cos()
        }]
    );
}

// ---- the language: loops, branches, early returns, recurrences, f32, wrt subsets

/// Loops over a differentiated slice, an early `return [0.0; 2]`, and an `if` between arrays.
#[differentiable]
fn moments(w: &[f64], x: &[f64], c: f64) -> [f64; 2] {
    if c < 0.0 {
        return [0.0; 2];
    }
    let mut s = 0.0;
    let mut q = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
        q += (w[i] * c).sin();
    }
    if s > 10.0 {
        [s * c, q]
    } else {
        [q * c, s.exp()]
    }
}

/// A recurrence (a product) beside a sum: no forward sweep for the recurrence, so `_jvp` takes
/// the reverse rows.
#[differentiable]
fn product_and_sum(x: &[f64], c: f64) -> [f64; 3] {
    let mut p = 1.0;
    let mut s = 0.0;
    for i in 0..x.len() {
        p *= x[i];
        s += c * x[i] * x[i];
    }
    [p * c, p + s, s]
}

/// A `match`, `return` in a branch, and a `from_fn` reading a loop's result.
#[differentiable(wrt(a, b))]
fn piecewise(a: f64, b: f64, data: &[f64; 4], mode: u8) -> [f64; 4] {
    let mut total = 0.0;
    for i in 0..4 {
        total += data[i] * a;
    }
    match mode {
        0 => return [a, b, a * b, total],
        1 => {}
        _ => return std::array::from_fn(|k| (k as f64 + a) * b),
    }
    std::array::from_fn(|k| data[k] * total.sin() + b * b)
}

/// Every output of `f` at `x` (a flat vector of its differentiated parameters) against central
/// differences, and `_vjp`, `_jvp` against the Jacobian.
fn check_all(
    f: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    jac: &[Vec<f64>],
    vjp: impl Fn(&[f64]) -> Vec<f64>,
    jvp: impl Fn(&[f64]) -> Vec<f64>,
) {
    let fd = numeric_jacobian(&f, x);
    assert_eq!(jac.len(), fd.len());
    for (k, (row, want)) in jac.iter().zip(&fd).enumerate() {
        assert_eq!(row.len(), want.len(), "row {k}");
        for (i, (a, b)) in row.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "J[{k}][{i}]: {a} vs {b}"
            );
        }
    }
    let m = jac.len();
    let seed: Vec<f64> = (0..m).map(|k| 1.0 - 0.7 * k as f64).collect();
    close(&vjp(&seed), &seed_times(jac, &seed), 1e-12, "seedᵀ·J");
    let t: Vec<f64> = (0..x.len()).map(|i| 0.5 - 0.3 * i as f64).collect();
    close(&jvp(&t), &times_tangent(jac, &t), 1e-12, "J·t");
}

#[test]
fn loops_branches_and_early_returns() {
    let (w, x) = ([0.3, -0.5, 0.8], [1.0, 2.0, -1.5]);
    let split = |p: &[f64]| (p[..3].to_vec(), p[3..6].to_vec(), p[6]);
    for c in [0.7, 25.0, -1.0] {
        let mut flat = w.to_vec();
        flat.extend(x);
        flat.push(c);
        let (value, jac) = moments_jacobian(&w, &x, c);
        assert_eq!(value, moments(&w, &x, c));
        check_all(
            |p| {
                let (w, x, c) = split(p);
                moments(&w, &x, c).to_vec()
            },
            &flat,
            &rows(&jac),
            |s| moments_vjp(&w, &x, c, &[s[0], s[1]]).1.to_flat_vec(),
            |t| {
                let (tw, tx, tc) = split(t);
                let tangent = MomentsGrad {
                    w: tw,
                    x: tx,
                    c: tc,
                };
                moments_jvp(&w, &x, c, &tangent).1.to_vec()
            },
        );
    }
}

#[test]
fn a_recurrence_and_a_sum() {
    let x = [0.9, -1.2, 1.5, 0.4];
    let c = 0.8;
    let mut flat = x.to_vec();
    flat.push(c);
    let (value, jac) = product_and_sum_jacobian(&x, c);
    close(&value, &product_and_sum(&x, c), 1e-15, "value");
    check_all(
        |p| product_and_sum(&p[..4], p[4]).to_vec(),
        &flat,
        &rows(&jac),
        |s| {
            product_and_sum_vjp(&x, c, &[s[0], s[1], s[2]])
                .1
                .to_flat_vec()
        },
        |t| {
            let tangent = ProductAndSumGrad {
                x: t[..4].to_vec(),
                c: t[4],
            };
            product_and_sum_jvp(&x, c, &tangent).1.to_vec()
        },
    );
}

#[test]
fn match_arms_and_from_fn() {
    let data = [0.5, -1.0, 2.0, 0.25];
    for mode in [0, 1, 2] {
        let (a, b) = (0.6, -1.3);
        let (value, jac) = piecewise_jacobian(a, b, &data, mode);
        close(&value, &piecewise(a, b, &data, mode), 1e-15, "value");
        check_all(
            |p| piecewise(p[0], p[1], &data, mode).to_vec(),
            &[a, b],
            &rows(&jac),
            |s| {
                piecewise_vjp(a, b, &data, mode, &[s[0], s[1], s[2], s[3]])
                    .1
                    .to_flat_vec()
            },
            |t| {
                piecewise_jvp(a, b, &data, mode, &PiecewiseGrad { a: t[0], b: t[1] })
                    .1
                    .to_vec()
            },
        );
    }
}

/// `f32`, and a subset of the parameters: the struct has fields for `a` and `c` only.
#[differentiable(wrt(a, c))]
fn single(a: f32, b: f32, c: f32) -> [f32; 2] {
    [a * b + c.sin(), (a - c) * (a - c) * b]
}

#[test]
fn f32_and_a_wrt_subset() {
    let (a, b, c) = (0.5f32, 2.0f32, -0.25f32);
    let (value, jac) = single_jacobian(a, b, c);
    assert_eq!(value, single(a, b, c));
    let want = [[b, c.cos()], [2.0 * (a - c) * b, -2.0 * (a - c) * b]];
    for k in 0..2 {
        assert!((jac[k].a - want[k][0]).abs() <= 1e-6 * want[k][0].abs().max(1.0));
        assert!((jac[k].c - want[k][1]).abs() <= 1e-6 * want[k][1].abs().max(1.0));
    }
    let (_, g) = single_vjp(a, b, c, &[2.0, -1.0]);
    assert!((g.a - (2.0 * want[0][0] - want[1][0])).abs() < 1e-5);
    assert!((g.c - (2.0 * want[0][1] - want[1][1])).abs() < 1e-5);
    let (_, d) = single_jvp(a, b, c, &SingleGrad { a: 1.0, c: 3.0 });
    for k in 0..2 {
        assert!((d[k] - (want[k][0] + 3.0 * want[k][1])).abs() < 1e-5);
    }
}

/// `_jacobian_into` and `_vjp_into` overwrite what the structs held (stale values, vectors of
/// the wrong length), bitwise as the fresh ones.
#[test]
fn into_overwrites_stale_structs() {
    let (w, x, c) = ([0.3, -0.5, 0.8], [1.0, 2.0, -1.5], 0.7);
    let fresh = moments_jacobian(&w, &x, c);
    let stale = MomentsGrad {
        w: vec![f64::NAN; 7],
        x: vec![],
        c: f64::NAN,
    };
    let mut jac = [stale.clone(), stale.clone()];
    let value = moments_jacobian_into(&w, &x, c, &mut jac);
    assert_eq!(value, fresh.0);
    assert_eq!(format!("{jac:?}"), format!("{:?}", fresh.1));
    let seed = [0.25, -4.0];
    let fresh = moments_vjp(&w, &x, c, &seed);
    let mut g = stale;
    let value = moments_vjp_into(&w, &x, c, &seed, &mut g);
    assert_eq!(value, fresh.0);
    assert_eq!(format!("{g:?}"), format!("{:?}", fresh.1));
}

// ---- calls of vector-valued functions

/// A residual called from scalar losses, each way its outputs can be read.
#[differentiable]
fn residual(a: f64, b: f64, t: f64, y: f64) -> [f64; 2] {
    let e = (b * t).exp();
    [a * e - y, a * t + b]
}

#[differentiable(wrt(a, b))]
fn indexed(a: f64, b: f64, t: f64, y: f64) -> f64 {
    let r = residual(a, b, t, y);
    r[0] * r[0] + r[1] * r[1]
}

#[differentiable(wrt(a, b))]
fn destructured(a: f64, b: f64, t: f64, y: f64) -> f64 {
    let [u, v] = residual(a, 2.0 * b, t, y);
    u * v + residual(b, a, t, y)[1]
}

/// Outputs read in a loop over data, from a call made before it.
#[differentiable(wrt(a, b))]
fn in_a_loop(a: f64, b: f64, ts: &[f64], y: f64) -> f64 {
    let r = residual(a, b, ts[0], y);
    let mut s = 0.0;
    for i in 0..ts.len() {
        let [u, v] = residual(a, b, ts[i], y);
        s += u * r[0] + v * v;
    }
    s
}

/// A vector-valued function returning another's outputs, and one returning them transformed.
#[differentiable]
fn passed_on(a: f64, b: f64) -> [f64; 2] {
    residual(b, a, 0.5, 1.0)
}

#[differentiable]
fn transformed(a: f64, b: f64) -> [f64; 3] {
    let [u, v] = residual(a, b, 0.5, 1.0);
    [u * v, u.sin(), v]
}

#[test]
fn scalar_losses_chain_through_vector_valued_calls() {
    let (t, y) = (1.5, 1.0);
    let at = [0.8, 0.3];
    let fd = |f: &dyn Fn(f64, f64) -> f64| common::numeric_gradient(|p| f(p[0], p[1]), &at);
    let (_, g) = indexed_grad(at[0], at[1], t, y);
    assert_all_close(&[g.a, g.b], &fd(&|a, b| indexed(a, b, t, y)), 1e-6);
    let (_, g) = destructured_grad(at[0], at[1], t, y);
    assert_all_close(&[g.a, g.b], &fd(&|a, b| destructured(a, b, t, y)), 1e-6);
    let ts = [0.5, 1.0, 1.5];
    let (value, g) = in_a_loop_grad(at[0], at[1], &ts, y);
    assert_eq!(value, in_a_loop(at[0], at[1], &ts, y));
    assert_all_close(&[g.a, g.b], &fd(&|a, b| in_a_loop(a, b, &ts, y)), 1e-6);
    // By hand: ∂(r₀² + r₁²)/∂a = 2r₀·e + 2r₁·t.
    let e = (at[1] * t).exp();
    let r = residual(at[0], at[1], t, y);
    let (_, g) = indexed_grad(at[0], at[1], t, y);
    close(
        &[g.a],
        &[2.0 * r[0] * e + 2.0 * r[1] * t],
        1e-14,
        "∂/∂a by hand",
    );
}

#[test]
fn vector_valued_functions_chain_through_each_other() {
    let at = [0.8, 0.3];
    let (_, jac) = passed_on_jacobian(at[0], at[1]);
    let fd = numeric_jacobian(|p| passed_on(p[0], p[1]).to_vec(), &at);
    for k in 0..2 {
        assert_all_close(&[jac[k].a, jac[k].b], &fd[k], 1e-6);
    }
    let (value, jac) = transformed_jacobian(at[0], at[1]);
    assert_eq!(value, transformed(at[0], at[1]));
    check_all(
        |p| transformed(p[0], p[1]).to_vec(),
        &at,
        &rows(&jac),
        |s| {
            transformed_vjp(at[0], at[1], &[s[0], s[1], s[2]])
                .1
                .to_flat_vec()
        },
        |t| {
            transformed_jvp(at[0], at[1], &TransformedGrad { a: t[0], b: t[1] })
                .1
                .to_vec()
        },
    );
}

/// Parameters named like the companions' own (`seed`, `tangent`, `jac`, `grad`) are the user's:
/// the generated names are hygienic.
#[differentiable(wrt(seed, tangent))]
fn named_like_companions(seed: f64, tangent: f64, jac: f64, grad: f64) -> [f64; 2] {
    [seed * tangent + jac, grad * seed]
}

#[test]
fn parameter_names_do_not_collide_with_generated_ones() {
    let (value, jac) = named_like_companions_jacobian(2.0, 3.0, 5.0, 7.0);
    assert_eq!(value, [11.0, 14.0]);
    assert_eq!(
        jac,
        [
            NamedLikeCompanionsGrad {
                seed: 3.0,
                tangent: 2.0
            },
            NamedLikeCompanionsGrad {
                seed: 7.0,
                tangent: 0.0
            },
        ]
    );
    let (_, g) = named_like_companions_vjp(2.0, 3.0, 5.0, 7.0, &[1.0, 10.0]);
    assert_eq!((g.seed, g.tangent), (73.0, 2.0));
    let t = NamedLikeCompanionsGrad {
        seed: 1.0,
        tangent: -1.0,
    };
    let (_, d) = named_like_companions_jvp(2.0, 3.0, 5.0, 7.0, &t);
    assert_eq!(d, [1.0, 7.0]);
}

// ---- each row against the scalar machinery (fuzzed on emitted code) on the same body

/// Three outputs through sums, a product, a running maximum and a branch; below, each output as
/// a scalar function of its own, whose `_grad` row `k` must equal.
#[differentiable]
fn trio(w: &[f64], c: f64) -> [f64; 3] {
    let mut s = 0.0;
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..w.len() {
        s += (w[i] * c).tanh();
        p *= w[i];
        m = m.max(w[i] * c);
    }
    [
        s * p,
        if m > 0.5 { m * s } else { p.exp() },
        (s - c).powi(2),
    ]
}

/// One output of `trio` as a scalar function: the same body (the locals' names are given, so
/// that the output expression, written at the call, can read them).
macro_rules! trio_output {
    ($name:ident, $s:ident, $p:ident, $m:ident, $c:ident, $out:expr) => {
        #[differentiable]
        #[allow(unused_variables, unused_assignments)] // each twin reads some of the locals
        fn $name(w: &[f64], $c: f64) -> f64 {
            let mut $s = 0.0;
            let mut $p = 1.0;
            let mut $m = f64::NEG_INFINITY;
            for i in 0..w.len() {
                $s += (w[i] * $c).tanh();
                $p *= w[i];
                $m = $m.max(w[i] * $c);
            }
            $out
        }
    };
}

trio_output!(trio0, s, p, m, c, s * p);
trio_output!(trio1, s, p, m, c, if m > 0.5 { m * s } else { p.exp() });
trio_output!(trio2, s, p, m, c, (s - c).powi(2));

#[test]
fn each_row_is_the_gradient_of_its_output() {
    for (w, c) in [
        (vec![0.3, -0.5, 0.8, 1.2], 0.9),
        (vec![0.3, -0.5, 0.8, 1.2], -0.9),
        (vec![2.0, 0.1], 0.4),
    ] {
        let (value, jac) = trio_jacobian(&w, c);
        let (v0, g0) = trio0_grad(&w, c);
        let (v1, g1) = trio1_grad(&w, c);
        let (v2, g2) = trio2_grad(&w, c);
        let grads = [g0.to_flat_vec(), g1.to_flat_vec(), g2.to_flat_vec()];
        close(&value, &[v0, v1, v2], 1e-14, "values");
        for (k, g) in grads.iter().enumerate() {
            close(&rows(&jac)[k], g, 1e-13, &format!("row {k}"));
        }
        let mut flat = w.clone();
        flat.push(c);
        let n = w.len();
        check_all(
            |p| trio(&p[..n], p[n]).to_vec(),
            &flat,
            &rows(&jac),
            |s| trio_vjp(&w, c, &[s[0], s[1], s[2]]).1.to_flat_vec(),
            |t| {
                let tangent = TrioGrad {
                    w: t[..n].to_vec(),
                    c: t[n],
                };
                trio_jvp(&w, c, &tangent).1.to_vec()
            },
        );
    }
}

/// Scalar parameters, a loop over data and more outputs than parameters: the shape forward mode
/// is for.
#[differentiable(wrt(a, b))]
fn loop_outputs(a: f64, b: f64, x: &[f64]) -> [f64; 4] {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (a * x[i]).sin() * b;
    }
    [s, s * a, s.exp(), b * b - s]
}

#[test]
fn a_loop_with_more_outputs_than_parameters() {
    let x = [0.5, -1.0, 2.0];
    let (a, b) = (0.7, 1.3);
    let (value, jac) = loop_outputs_jacobian(a, b, &x);
    close(&value, &loop_outputs(a, b, &x), 1e-15, "value");
    check_all(
        |p| loop_outputs(p[0], p[1], &x).to_vec(),
        &[a, b],
        &rows(&jac),
        |s| {
            loop_outputs_vjp(a, b, &x, &[s[0], s[1], s[2], s[3]])
                .1
                .to_flat_vec()
        },
        |t| {
            loop_outputs_jvp(a, b, &x, &LoopOutputsGrad { a: t[0], b: t[1] })
                .1
                .to_vec()
        },
    );
}
