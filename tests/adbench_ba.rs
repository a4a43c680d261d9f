//! ADBench's bundle adjustment objective written as the C++ reference writes it (helpers taking
//! sub-slices, scratch arrays passed on, outputs fed to the next helper): the 2 × 15 Jacobian of
//! one observation's reprojection error against num-dual's forward mode on an independent twin
//! of the objective (1e-10) and against sixth-order central differences, its `_vjp` and `_jvp`
//! against `sᵀJ` and `J·t` of that Jacobian, the helpers on their own against hand-derived
//! values, and a whole problem's blocks against the per-observation calls.

use nalgebra::SVector;
use num_dual::{DualSVec64, jacobian};

#[path = "../benches/common/adbench_ba.rs"]
mod adbench_ba;
use adbench_ba::{
    BaProblem, ReprojErrorGrad, ba_jacobian, ba_objective, ba_problem, cross_jacobian,
    radial_distort_jacobian, reproj_error, reproj_error_generic, reproj_error_jacobian,
    reproj_error_jacobian_into, reproj_error_jvp, reproj_error_vjp, rodrigues_rotate_point,
    rodrigues_rotate_point_jacobian, weight_error_grad,
};

/// One observation's 15 inputs (camera, point, weight) and its feature.
fn observation(problem: &BaProblem, i: usize) -> ([f64; 15], [f64; 2]) {
    let [c, j] = problem.obs[i];
    let mut p = [0.0; 15];
    p[..11].copy_from_slice(&problem.cams[c]);
    p[11..14].copy_from_slice(&problem.x[j]);
    p[14] = problem.w[i];
    (p, [problem.feats[2 * i], problem.feats[2 * i + 1]])
}

fn ours(p: &[f64; 15], feat: &[f64; 2]) -> ([f64; 2], [[f64; 15]; 2]) {
    let cam: [f64; 11] = p[..11].try_into().unwrap();
    let x: [f64; 3] = p[11..14].try_into().unwrap();
    let (e, jac) = reproj_error_jacobian(&cam, &x, p[14], feat);
    (e, jac.map(|row| flat(&row)))
}

/// A row in the order of the 15 inputs.
fn flat(row: &ReprojErrorGrad) -> [f64; 15] {
    let mut out = [0.0; 15];
    out[..11].copy_from_slice(&row.cam);
    out[11..14].copy_from_slice(&row.x);
    out[14] = row.w;
    out
}

fn value(p: &[f64], feat: &[f64; 2]) -> [f64; 2] {
    let cam: [f64; 11] = p[..11].try_into().unwrap();
    let x: [f64; 3] = p[11..14].try_into().unwrap();
    reproj_error(&cam, &x, p[14], feat)
}

/// Sixth-order central differences of output `k` along input `i`.
fn central(p: &[f64; 15], feat: &[f64; 2], k: usize, i: usize) -> f64 {
    let h = 1e-3 * p[i].abs().max(1.0);
    let at = |s: f64| {
        let mut q = *p;
        q[i] += s * h;
        value(&q, feat)[k]
    };
    (45.0 * (at(1.0) - at(-1.0)) - 9.0 * (at(2.0) - at(-2.0)) + (at(3.0) - at(-3.0))) / (60.0 * h)
}

#[test]
fn the_reprojection_jacobian_matches_forward_mode_and_central_differences() {
    let problem = ba_problem(3, 5, 12);
    for i in 0..problem.obs.len() {
        let (p, feat) = observation(&problem, i);
        let (e, jac) = ours(&p, &feat);
        let (dual_e, dual_jac) = jacobian(
            |v: SVector<DualSVec64<15>, 15>| {
                SVector::from(reproj_error_generic(v.as_slice(), &feat))
            },
            &SVector::<f64, 15>::from_column_slice(&p),
        );
        for k in 0..2 {
            assert!((e[k] - dual_e[k]).abs() <= 1e-10 * dual_e[k].abs().max(1.0));
            for j in 0..15 {
                let (a, b) = (jac[k][j], dual_jac[(k, j)]);
                assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                    "observation {i}, ∂e{k}/∂p{j}: {a} vs num-dual {b}"
                );
                let fd = central(&p, &feat, k, j);
                // Sixth-order differences of a smooth function with O(500) derivatives agree
                // to about 1e-8 relative; the exact oracle above is the tight one.
                assert!(
                    (a - fd).abs() <= 1e-7 * b.abs().max(1.0),
                    "observation {i}, ∂e{k}/∂p{j}: {a} vs central differences {fd}"
                );
            }
        }
    }
}

#[test]
fn the_rotation_at_zero_takes_the_cross_product_branch() {
    // At rot = 0 the C++ takes `pt + rot × pt`: its Jacobian in rot is [pt]ₓᵀ, in pt the
    // identity; derived by hand.
    let pt = [0.5, -1.5, 2.0];
    let (r, jac) = rodrigues_rotate_point_jacobian(&[0.0; 3], &pt);
    assert_eq!(r, pt);
    // ∂(rot × pt)/∂rot = −[pt]ₓ.
    let minus_cross = [
        [0.0, pt[2], -pt[1]],
        [-pt[2], 0.0, pt[0]],
        [pt[1], -pt[0], 0.0],
    ];
    for k in 0..3 {
        assert_eq!(jac[k].rot, minus_cross[k].to_vec(), "row {k}");
        let mut e = [0.0; 3];
        e[k] = 1.0;
        assert_eq!(jac[k].pt, e.to_vec(), "row {k}");
    }
}

#[test]
fn the_helpers_match_hand_derived_jacobians() {
    let (a, b) = ([1.0, 2.0, 3.0], [-0.5, 0.25, 4.0]);
    let (c, jac) = cross_jacobian(&a, &b);
    assert_eq!(
        c,
        [2.0 * 4.0 - 3.0 * 0.25, 3.0 * -0.5 - 1.0 * 4.0, 0.25 + 1.0]
    );
    // ∂(a × b)_0/∂a = (0, b₂, −b₁), ∂/∂b = (0, −a₂, a₁).
    assert_eq!(jac[0].a, vec![0.0, 4.0, -0.25]);
    assert_eq!(jac[0].b, vec![0.0, -3.0, 2.0]);
    // radial_distort: u·L with L = 1 + k1·r² + k2·r⁴: ∂/∂k1 = u·r², ∂/∂k2 = u·r⁴,
    // ∂/∂u = L + u·(k1 + 2·k2·r²)·2u.
    let (k1, k2, u, v) = (0.1, -0.02, 0.3, -0.7);
    let (d, jac) = radial_distort_jacobian(&[k1, k2], &[u, v]);
    let rsq: f64 = u * u + v * v;
    let l = 1.0 + k1 * rsq + k2 * rsq * rsq;
    assert!((d[0] - u * l).abs() < 1e-15 && (d[1] - v * l).abs() < 1e-15);
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-14 * y.abs().max(1.0);
    assert!(close(jac[0].rad_params[0], u * rsq));
    assert!(close(jac[0].rad_params[1], u * rsq * rsq));
    assert!(close(
        jac[0].proj[0],
        l + u * (k1 + 2.0 * k2 * rsq) * 2.0 * u
    ));
    assert!(close(jac[1].proj[0], v * (k1 + 2.0 * k2 * rsq) * 2.0 * u));
    // A rotation by π/2 about z sends x to y.
    let r = rodrigues_rotate_point(&[0.0, 0.0, std::f64::consts::FRAC_PI_2], &[1.0, 0.0, 0.0]);
    assert!(r[0].abs() < 1e-15 && (r[1] - 1.0).abs() < 1e-15 && r[2].abs() < 1e-15);
}

#[test]
fn vjp_and_jvp_are_the_jacobians_products() {
    let problem = ba_problem(2, 3, 4);
    let (p, feat) = observation(&problem, 1);
    let cam: [f64; 11] = p[..11].try_into().unwrap();
    let x: [f64; 3] = p[11..14].try_into().unwrap();
    let (_, jac) = ours(&p, &feat);
    let seed = [0.7, -1.3];
    let (_, g) = reproj_error_vjp(&cam, &x, p[14], &feat, &seed);
    let g = flat(&g);
    for j in 0..15 {
        let want = seed[0] * jac[0][j] + seed[1] * jac[1][j];
        assert!((g[j] - want).abs() <= 1e-12 * want.abs().max(1.0), "{j}");
    }
    let mut t = ReprojErrorGrad::default();
    for (j, v) in t.cam.iter_mut().enumerate() {
        *v = 0.1 * j as f64 - 0.3;
    }
    t.x = [0.2, -0.4, 0.9];
    t.w = 0.5;
    let tf = flat(&t);
    let (_, dots) = reproj_error_jvp(&cam, &x, p[14], &feat, &t);
    for k in 0..2 {
        let want: f64 = (0..15).map(|j| jac[k][j] * tf[j]).sum();
        assert!((dots[k] - want).abs() <= 1e-12 * want.abs().max(1.0), "{k}");
    }
}

#[test]
fn a_problems_blocks_are_the_observations_jacobians() {
    let problem = ba_problem(3, 7, 20);
    let p = problem.obs.len();
    let (mut e, mut w_err) = (vec![0.0; 2 * p], vec![0.0; p]);
    ba_objective(&problem, &mut e, &mut w_err);
    let mut rows = vec![[ReprojErrorGrad::default(); 2]; p];
    let (mut e2, mut w_err2, mut w_jac) = (vec![0.0; 2 * p], vec![0.0; p], vec![0.0; p]);
    ba_jacobian(&problem, &mut e2, &mut rows, &mut w_err2, &mut w_jac);
    assert_eq!(e, e2);
    assert_eq!(w_err, w_err2);
    for i in 0..p {
        let (q, feat) = observation(&problem, i);
        let (_, jac) = ours(&q, &feat);
        assert_eq!(rows[i].map(|r| flat(&r)), jac);
        // 1 − w²: derivative −2w.
        assert_eq!(w_jac[i], -2.0 * problem.w[i]);
        assert_eq!(weight_error_grad(problem.w[i]).0, w_err[i]);
    }
    // Rows reused from another observation come out the same.
    let mut stale = [ReprojErrorGrad::default(); 2];
    let (q, feat) = observation(&problem, 3);
    let cam: [f64; 11] = q[..11].try_into().unwrap();
    let x: [f64; 3] = q[11..14].try_into().unwrap();
    reproj_error_jacobian_into(&cam, &x, q[14], &feat, &mut stale);
    let (q, feat) = observation(&problem, 5);
    let cam: [f64; 11] = q[..11].try_into().unwrap();
    let x: [f64; 3] = q[11..14].try_into().unwrap();
    reproj_error_jacobian_into(&cam, &x, q[14], &feat, &mut stale);
    assert_eq!(stale.map(|r| flat(&r)), ours(&q, &feat).1);
}
