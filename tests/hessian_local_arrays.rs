//! Second derivatives through calls given a local array built from expressions (`let z = [a·b,
//! a + b]; weigh(&z, w)`): the array's tangent is the array of its elements' tangents, the
//! callee's direction there, and the callee's `__hvp` (`__hvp_outputs` for a vector-valued one)
//! adds its part of `H·ż` into the array's adjoint. Checked against the Hessian derived by hand
//! (exactly, 1e-12), num-dual's second-order forward mode on generic twins (1e-12) and central
//! differences of the generated gradient (1e-6); `_hvp` against the dense Hessian times `v`.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use num_dual::DualNum;
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{Lcg, close, dual_hessian, hessian_by_differences, mat_vec};

// ---- a scalar helper given a literal local array, derived by hand

/// `w·Σᵢ zᵢ²`.
#[differentiable(hessian)]
fn weigh(z: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..z.len() {
        s += z[i] * z[i] * w;
    }
    s
}

/// `w·((a·b)² + (a + b)²)`.
#[differentiable(hessian)]
fn weigh_pair(a: f64, b: f64, w: f64) -> f64 {
    let z = [a * b, a + b];
    weigh(&z, w)
}

#[test]
fn a_literal_local_array_gives_the_hessian_derived_by_hand() {
    for (a, b, w) in [(0.7, -1.3, 0.4), (-2.0, 0.25, 1.5), (1.5, 3.0, -0.8)] {
        let (value, grad, h) = weigh_pair_hessian(a, b, w);
        let q = a * a * b * b + (a + b) * (a + b);
        assert_relative_eq!(value, w * q, epsilon = 1e-12);
        assert_relative_eq!(
            grad.a,
            w * (2.0 * a * b * b + 2.0 * (a + b)),
            epsilon = 1e-12
        );
        assert_relative_eq!(
            grad.b,
            w * (2.0 * a * a * b + 2.0 * (a + b)),
            epsilon = 1e-12
        );
        assert_relative_eq!(grad.w, q, epsilon = 1e-12);
        let (faw, fbw) = (
            2.0 * a * b * b + 2.0 * (a + b),
            2.0 * a * a * b + 2.0 * (a + b),
        );
        let want = [
            [w * (2.0 * b * b + 2.0), w * (4.0 * a * b + 2.0), faw],
            [w * (4.0 * a * b + 2.0), w * (2.0 * a * a + 2.0), fbw],
            [faw, fbw, 0.0],
        ];
        for i in 0..3 {
            for j in 0..3 {
                assert_relative_eq!(h[i][j], want[i][j], epsilon = 1e-12);
            }
        }
        let v = WeighPairGrad {
            a: 0.3,
            b: -1.1,
            w: 0.7,
        };
        let (_, _, hv) = weigh_pair_hvp(a, b, w, &v);
        let vv = [v.a, v.b, v.w];
        let got = [hv.a, hv.b, hv.w];
        for i in 0..3 {
            let want_i: f64 = (0..3).map(|j| want[i][j] * vv[j]).sum();
            assert_relative_eq!(got[i], want_i, epsilon = 1e-12);
        }
    }
}

// ---- a local array written element by element in a loop, beside a differentiated slice

/// `Σᵢ tanh(w·xᵢ)²·w`, through `weigh` given `z = [tanh(w·xᵢ)]`, written in a loop of its own.
#[differentiable(hessian)]
fn weigh_squashed(x: &[f64], w: f64) -> f64 {
    let mut z = vec![0.0; x.len()];
    for c in 0..x.len() {
        z[c] = (w * x[c]).tanh();
    }
    weigh(&z, w) + x[0] * w
}

fn weigh_squashed_dual<D: DualNum<Primitive = f64> + Copy>(x: &[D], w: D) -> D {
    let mut s = D::from(0.0);
    for xi in x {
        let z = (w * *xi).tanh();
        s += z * z * w;
    }
    s + x[0] * w
}

#[test]
fn a_vec_filled_in_a_loop_matches_num_dual_and_differences() {
    let mut rng = Lcg(21);
    for _ in 0..4 {
        let t = rng.vec(5);
        let (x, w) = (&t[..4], t[4]);
        let (value, grad, h) = weigh_squashed_hessian(x, w);
        let (f, g, want) = dual_hessian::<5>(|z| weigh_squashed_dual(&z[..4], z[4]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences =
            hessian_by_differences(|s| weigh_squashed_grad(&s[..4], s[4]).1.to_flat_vec(), &t);
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = WeighSquashedGrad {
            x: rng.vec(4),
            w: rng.next(),
        };
        let (_, g2, hv) = weigh_squashed_hvp(x, w, &v);
        close(&g2.to_flat_vec(), &g, 1e-12, "_hvp's ∇");
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

// ---- in a loop over rows, read and passed twice

/// `Σᵢ weigh(zᵢ, w)·z_i[0] + weigh(zᵢ, 1)` with `zᵢ = [w·xᵢ, sin(xᵢ + w), xᵢ²]` built in each
/// iteration: the array read (`z[0]`) and given to two calls, in a loop.
#[differentiable(hessian)]
fn rows_weighed(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let z = [w * x[i], (x[i] + w).sin(), x[i] * x[i]];
        s += weigh(&z, w) * z[0] + weigh(&z, 1.0);
    }
    s
}

fn rows_weighed_dual<D: DualNum<Primitive = f64> + Copy>(x: &[D], w: D) -> D {
    let mut s = D::from(0.0);
    for xi in x {
        let z = [w * *xi, (*xi + w).sin(), *xi * *xi];
        let q = z[0] * z[0] + z[1] * z[1] + z[2] * z[2];
        s += q * w * z[0] + q;
    }
    s
}

#[test]
fn a_local_array_in_a_loop_read_and_passed_twice_matches_num_dual_and_differences() {
    let mut rng = Lcg(24);
    for _ in 0..4 {
        let t = rng.vec(4);
        let (x, w) = (&t[..3], t[3]);
        let (value, grad, h) = rows_weighed_hessian(x, w);
        let (f, g, want) = dual_hessian::<4>(|z| rows_weighed_dual(&z[..3], z[3]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences =
            hessian_by_differences(|s| rows_weighed_grad(&s[..3], s[3]).1.to_flat_vec(), &t);
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = RowsWeighedGrad {
            x: rng.vec(3),
            w: rng.next(),
        };
        let (_, g2, hv) = rows_weighed_hvp(x, w, &v);
        close(&g2.to_flat_vec(), &g, 1e-12, "_hvp's ∇");
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

/// `weigh_pair` as a helper of a caller with `hessian`: its `__partials2` go through the call
/// given the local array (forward over reverse), two levels down.
#[differentiable(hessian)]
fn weigh_pair_twice(a: f64, b: f64) -> f64 {
    weigh_pair(a, b, a * b).exp()
}

#[test]
fn two_levels_down_give_the_hessian_derived_by_hand() {
    for (a, b) in [(0.7, -1.3), (-0.4, 0.25), (0.5, 0.9)] {
        let (value, grad, h) = weigh_pair_twice_hessian(a, b);
        // f = exp(u), u = ab·((ab)² + (a + b)²) = p³ + p·s² with p = ab, s = a + b.
        let (p, s) = (a * b, a + b);
        let u = p.powi(3) + p * s * s;
        let (u_p, u_s) = (3.0 * p * p + s * s, 2.0 * p * s);
        let (u_pp, u_ps, u_ss) = (6.0 * p, 2.0 * s, 2.0 * p);
        // p_a = b, p_b = a, p_ab = 1; s_a = s_b = 1.
        let u_a = u_p * b + u_s;
        let u_b = u_p * a + u_s;
        let u_aa = u_pp * b * b + 2.0 * u_ps * b + u_ss;
        let u_bb = u_pp * a * a + 2.0 * u_ps * a + u_ss;
        let u_ab = u_pp * a * b + u_ps * (a + b) + u_ss + u_p;
        let e = u.exp();
        assert_relative_eq!(value, e, epsilon = 1e-12);
        assert_relative_eq!(grad.a, e * u_a, epsilon = 1e-12);
        assert_relative_eq!(grad.b, e * u_b, epsilon = 1e-12);
        let want = [
            [e * (u_aa + u_a * u_a), e * (u_ab + u_a * u_b)],
            [e * (u_ab + u_a * u_b), e * (u_bb + u_b * u_b)],
        ];
        for i in 0..2 {
            for j in 0..2 {
                assert_relative_eq!(h[i][j], want[i][j], epsilon = 1e-12, max_relative = 1e-12);
            }
        }
    }
}

// ---- a vector-valued helper given a local array (its `__hvp_outputs`)

/// `a × b`.
#[differentiable(hessian)]
fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `c = r × [x₀ − 1, x₁·x₂, sin x₂]`, then `c₀·c₁ + c₂²`: every output read, a product of two.
#[differentiable(hessian)]
fn offset_cross(r: &[f64], x: &[f64]) -> f64 {
    let xo = [x[0] - 1.0, x[1] * x[2], x[2].sin()];
    let c = cross(r, &xo);
    c[0] * c[1] + c[2] * c[2]
}

fn offset_cross_dual<D: DualNum<Primitive = f64> + Copy>(r: &[D], x: &[D]) -> D {
    let b = [x[0] - D::from(1.0), x[1] * x[2], x[2].sin()];
    let c = [
        r[1] * b[2] - r[2] * b[1],
        r[2] * b[0] - r[0] * b[2],
        r[0] * b[1] - r[1] * b[0],
    ];
    c[0] * c[1] + c[2] * c[2]
}

#[test]
fn a_vector_valued_helper_given_a_local_array_matches_num_dual_and_differences() {
    let mut rng = Lcg(22);
    for _ in 0..4 {
        let t = rng.vec(6);
        let (value, grad, h) = offset_cross_hessian(&t[..3], &t[3..]);
        let (f, g, want) = dual_hessian::<6>(|z| offset_cross_dual(&z[..3], &z[3..]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences =
            hessian_by_differences(|s| offset_cross_grad(&s[..3], &s[3..]).1.to_flat_vec(), &t);
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = OffsetCrossGrad {
            r: rng.vec(3),
            x: rng.vec(3),
        };
        let (_, _, hv) = offset_cross_hvp(&t[..3], &t[3..], &v);
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

// ---- ADBench's bundle adjustment chain, with `hessian` on every helper

#[path = "../benches/common/adbench_ba.rs"]
mod adbench_ba;

/// The helpers of `benches/common/adbench_ba.rs`, as written there, with `hessian`: the
/// rotation given the local array `xo`, itself passing `cross` the local array `w` (written
/// in a loop, in a branch), the distortion given the local array `proj`.
mod ba {
    use symgrad::differentiable;

    #[differentiable(hessian)]
    pub fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    }

    #[differentiable(hessian)]
    #[allow(clippy::if_not_else)] // the branches in the C++ reference's order
    pub fn rodrigues_rotate_point(rot: &[f64], pt: &[f64]) -> [f64; 3] {
        let sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
        if sqtheta != 0.0 {
            let theta = sqtheta.sqrt();
            let costheta = theta.cos();
            let sintheta = theta.sin();
            let theta_inverse = 1.0 / theta;
            let mut w = [0.0; 3];
            for i in 0..3 {
                w[i] = rot[i] * theta_inverse;
            }
            let w_cross_pt = cross(&w, pt);
            let tmp = (w[0] * pt[0] + w[1] * pt[1] + w[2] * pt[2]) * (1.0 - costheta);
            [
                pt[0] * costheta + w_cross_pt[0] * sintheta + w[0] * tmp,
                pt[1] * costheta + w_cross_pt[1] * sintheta + w[1] * tmp,
                pt[2] * costheta + w_cross_pt[2] * sintheta + w[2] * tmp,
            ]
        } else {
            let rot_cross_pt = cross(rot, pt);
            [
                pt[0] + rot_cross_pt[0],
                pt[1] + rot_cross_pt[1],
                pt[2] + rot_cross_pt[2],
            ]
        }
    }

    #[differentiable(hessian)]
    pub fn radial_distort(rad_params: &[f64], proj: &[f64]) -> [f64; 2] {
        let rsq = proj[0] * proj[0] + proj[1] * proj[1];
        let l = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq;
        [proj[0] * l, proj[1] * l]
    }

    #[differentiable(hessian)]
    pub fn project(cam: &[f64], x: &[f64]) -> [f64; 2] {
        let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
        let xcam = rodrigues_rotate_point(&cam[..3], &xo);
        let proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
        let distorted = radial_distort(&cam[9..], &proj);
        [
            distorted[0] * cam[6] + cam[7],
            distorted[1] * cam[6] + cam[8],
        ]
    }

    /// The squared reprojection error of one observation: `|w·(project(cam, x) − feat)|²`.
    #[differentiable(wrt(cam, x, w), hessian)]
    pub fn reproj_sq(cam: &[f64], x: &[f64], w: f64, feat: &[f64]) -> f64 {
        let proj = project(cam, x);
        let e0 = w * (proj[0] - feat[0]);
        let e1 = w * (proj[1] - feat[1]);
        e0 * e0 + e1 * e1
    }
}

/// The 15 inputs of one observation: a camera turned by about 0.3 rad, a point in front of it,
/// a weight.
fn ba_point(rng: &mut Lcg) -> Vec<f64> {
    let mut p = vec![
        0.3 + 0.1 * rng.next(),
        -0.2 + 0.1 * rng.next(),
        0.1 + 0.1 * rng.next(),
        0.1 * rng.next(),
        0.1 * rng.next(),
        -0.1 + 0.1 * rng.next(),
        1.0 + 0.1 * rng.next(),
        0.05 * rng.next(),
        0.05 * rng.next(),
        0.01 * rng.next(),
        0.001 * rng.next(),
    ];
    p.extend([0.3 * rng.next(), 0.3 * rng.next(), 3.0 + rng.next()]);
    p.push(0.8 + 0.1 * rng.next());
    p
}

#[test]
fn the_bundle_adjustment_chain_matches_num_dual_and_differences() {
    let mut rng = Lcg(23);
    let feat = [0.1, -0.05];
    for _ in 0..4 {
        let t = ba_point(&mut rng);
        let (cam, x, w) = (&t[..11], &t[11..14], t[14]);
        let (value, grad, h) = ba::reproj_sq_hessian(cam, x, w, &feat);
        let (f, g, want) = dual_hessian::<15>(
            |z| {
                let e = adbench_ba::reproj_error_generic(z, &feat);
                e[0] * e[0] + e[1] * e[1]
            },
            &t,
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences = hessian_by_differences(
            |s| {
                ba::reproj_sq_grad(&s[..11], &s[11..14], s[14], &feat)
                    .1
                    .to_flat_vec()
            },
            &t,
        );
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = ba::ReprojSqGrad {
            cam: rng.vec(11),
            x: rng.vec(3),
            w: rng.next(),
        };
        let (_, _, hv) = ba::reproj_sq_hvp(cam, x, w, &feat, &v);
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

/// At zero rotation the rotation takes its other branch, `pt + rot × pt` (`cross(rot, pt)` given
/// the local array `xo`), as the generic twin does: num-dual only (central differences would
/// straddle the branches).
#[test]
fn the_bundle_adjustment_chain_at_zero_rotation_matches_num_dual() {
    let mut rng = Lcg(25);
    let feat = [0.1, -0.05];
    for _ in 0..3 {
        let mut t = ba_point(&mut rng);
        t[..3].fill(0.0);
        let (cam, x, w) = (&t[..11], &t[11..14], t[14]);
        let (value, grad, h) = ba::reproj_sq_hessian(cam, x, w, &feat);
        let (f, g, want) = dual_hessian::<15>(
            |z| {
                let e = adbench_ba::reproj_error_generic(z, &feat);
                e[0] * e[0] + e[1] * e[1]
            },
            &t,
        );
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
    }
}

/// A local array chosen by a condition, lent to a vector-valued call, under `hessian`:
/// `|r × xo|²`, `xo` `x` or `x` reversed by the sign of `r[0]`.
#[differentiable(hessian)]
fn chosen_cross_norm(r: &[f64], x: &[f64]) -> f64 {
    let xo = if r[0] > 0.0 {
        [x[0], x[1], x[2]]
    } else {
        [x[2], x[1], x[0]]
    };
    let c = cross(r, &xo);
    c[0] * c[0] + c[1] * c[1] + c[2] * c[2]
}

fn chosen_cross_norm_dual<D: DualNum<Primitive = f64> + Copy>(r: &[D], x: &[D]) -> D {
    let xo = if r[0].re() > 0.0 {
        [x[0], x[1], x[2]]
    } else {
        [x[2], x[1], x[0]]
    };
    let c = [
        r[1] * xo[2] - r[2] * xo[1],
        r[2] * xo[0] - r[0] * xo[2],
        r[0] * xo[1] - r[1] * xo[0],
    ];
    c[0] * c[0] + c[1] * c[1] + c[2] * c[2]
}

#[test]
fn a_chosen_array_lent_to_a_call_has_the_hessian_of_num_dual() {
    for r0 in [0.7, -0.4] {
        let (r, x) = ([r0, -1.1, 0.3], [0.5, 2.0, -1.5]);
        let t: Vec<f64> = r.iter().chain(&x).copied().collect();
        let (value, grad, h) = chosen_cross_norm_hessian(&r, &x);
        let (f, g, want) = dual_hessian::<6>(|z| chosen_cross_norm_dual(&z[..3], &z[3..]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences = hessian_by_differences(
            |s| chosen_cross_norm_grad(&s[..3], &s[3..]).1.to_flat_vec(),
            &t,
        );
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
    }
}
