//! ADBench's bundle adjustment objective (github.com/microsoft/ADBench, `src/cpp/shared/ba.h`),
//! written as the C++ reference writes it: small helpers that take a camera's parameters as
//! sub-slices (`&cam[ROT_IDX..]`, `&cam[RAD_IDX..]`), a scratch array (`Xo`, `w`) passed to the
//! next helper, each helper's outputs fed to the next. The reprojection error of one
//! observation, `-> [f64; 2]`, is differentiated with respect to its 15 inputs (11 camera
//! parameters, the 3 coordinates of the point, the weight); `reproj_error_jacobian_into` is the
//! 2 × 15 block a bundle adjuster asks for a million times.
//!
//! Also a generic twin of the same objective, for num-dual's forward mode (an independent
//! oracle: written on its own, differentiated by dual numbers), and a deterministic problem
//! with the shape of ADBench's data (`ba_problem`).
#![allow(dead_code)] // each user (test, bench, example) takes part of it

use symgrad::differentiable;

/// The parameters of one camera: `[r1 r2 r3 C1 C2 C3 f u0 v0 k1 k2]`.
pub const N_CAM_PARAMS: usize = 11;
/// The angle-axis rotation (Rodrigues).
pub const ROT_IDX: usize = 0;
/// The camera centre.
pub const C_IDX: usize = 3;
/// The focal length.
pub const F_IDX: usize = 6;
/// The principal point.
pub const X0_IDX: usize = 7;
/// The radial distortion parameters.
pub const RAD_IDX: usize = 9;

/// `a × b`.
#[differentiable]
pub fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `pt` rotated by the angle-axis vector `rot` (Ceres' evaluation, as ADBench's C++).
#[differentiable]
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

/// `proj · (1 + k1·r² + k2·r⁴)`, `r² = |proj|²`.
#[differentiable]
pub fn radial_distort(rad_params: &[f64], proj: &[f64]) -> [f64; 2] {
    let rsq = proj[0] * proj[0] + proj[1] * proj[1];
    let l = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq;
    [proj[0] * l, proj[1] * l]
}

/// The pixel the camera `cam` sees the point `x` at.
#[differentiable]
pub fn project(cam: &[f64], x: &[f64]) -> [f64; 2] {
    let xo = [
        x[0] - cam[C_IDX],
        x[1] - cam[C_IDX + 1],
        x[2] - cam[C_IDX + 2],
    ];
    let xcam = rodrigues_rotate_point(&cam[ROT_IDX..], &xo);
    let proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
    let distorted = radial_distort(&cam[RAD_IDX..], &proj);
    [
        distorted[0] * cam[F_IDX] + cam[X0_IDX],
        distorted[1] * cam[F_IDX] + cam[X0_IDX + 1],
    ]
}

/// ADBench's `computeReprojError`: the weighted distance between the projection and the
/// feature `feat` (data).
#[differentiable(wrt(cam, x, w))]
pub fn reproj_error(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64]) -> [f64; 2] {
    let proj = project(cam, x);
    [w * (proj[0] - feat[0]), w * (proj[1] - feat[1])]
}

/// ADBench's `computeZachWeightError`: `1 − w²`.
#[differentiable]
pub fn weight_error(w: f64) -> f64 {
    1.0 - w * w
}

/// The whole objective's residuals, as `ba_objective`: `2·p` reprojection errors, `p` weight
/// errors. Without derivatives: the baseline the Jacobian is timed against.
pub fn ba_objective(problem: &BaProblem, reproj_err: &mut [f64], w_err: &mut [f64]) {
    for (i, obs) in problem.obs.iter().enumerate() {
        let e = reproj_error(
            problem.camera(obs[0]),
            problem.point(obs[1]),
            problem.w[i],
            &problem.feats[2 * i..2 * i + 2],
        );
        reproj_err[2 * i..2 * i + 2].copy_from_slice(&e);
    }
    for (e, w) in w_err.iter_mut().zip(&problem.w) {
        *e = weight_error(*w);
    }
}

/// The Jacobian's blocks, as ADBench's `ba_objective` derivative returns them: per observation,
/// the 2 × 15 block of its reprojection error (camera, point, weight), and per weight its
/// derivative. No allocation: the rows are written into `rows` (`2·p` of them).
pub fn ba_jacobian(
    problem: &BaProblem,
    reproj_err: &mut [f64],
    rows: &mut [[ReprojErrorGrad; 2]],
    w_err: &mut [f64],
    w_jac: &mut [f64],
) {
    for (i, obs) in problem.obs.iter().enumerate() {
        let e = reproj_error_jacobian_into(
            problem.camera(obs[0]),
            problem.point(obs[1]),
            problem.w[i],
            &problem.feats[2 * i..2 * i + 2],
            &mut rows[i],
        );
        reproj_err[2 * i..2 * i + 2].copy_from_slice(&e);
    }
    for ((e, d), w) in w_err.iter_mut().zip(w_jac.iter_mut()).zip(&problem.w) {
        let (value, g) = weight_error_grad(*w);
        *e = value;
        *d = g.w;
    }
}

/// A bundle adjustment problem with the shape of ADBench's data (`n` cameras, `m` points, `p`
/// observations), generated deterministically (ADBench's own files are too large to ship):
/// cameras looking at points in front of them, small distortion, weights near 1.
pub struct BaProblem {
    pub cams: Vec<[f64; 11]>,
    pub x: Vec<[f64; 3]>,
    pub w: Vec<f64>,
    /// Per observation, `[camera, point]`.
    pub obs: Vec<[usize; 2]>,
    pub feats: Vec<f64>,
}

impl BaProblem {
    pub fn camera(&self, i: usize) -> &[f64; 11] {
        &self.cams[i]
    }

    pub fn point(&self, j: usize) -> &[f64; 3] {
        &self.x[j]
    }
}

/// A deterministic pseudo-random number in `[-1, 1)` (a linear congruential generator).
fn next(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    // The top 53 bits, as a fraction.
    #[allow(clippy::cast_precision_loss)] // 53 bits: exact
    let unit = (*state >> 11) as f64 / (1u64 << 53) as f64;
    2.0 * unit - 1.0
}

/// `n` cameras, `m` points, `p` observations (camera `i mod n` sees point `i mod m`, as
/// ADBench's generator pairs them).
pub fn ba_problem(n: usize, m: usize, p: usize) -> BaProblem {
    let mut s = 42u64;
    let cams = (0..n)
        .map(|_| {
            let mut c = [0.0; 11];
            for r in &mut c[ROT_IDX..ROT_IDX + 3] {
                *r = 0.3 * next(&mut s);
            }
            for r in &mut c[C_IDX..C_IDX + 3] {
                *r = next(&mut s);
            }
            c[C_IDX + 2] -= 10.0;
            c[F_IDX] = 500.0 + 50.0 * next(&mut s);
            c[X0_IDX] = 10.0 * next(&mut s);
            c[X0_IDX + 1] = 10.0 * next(&mut s);
            c[RAD_IDX] = 0.01 * next(&mut s);
            c[RAD_IDX + 1] = 0.001 * next(&mut s);
            c
        })
        .collect();
    let x = (0..m)
        .map(|_| [next(&mut s), next(&mut s), 2.0 + next(&mut s)])
        .collect();
    let w = (0..p).map(|_| 1.0 + 0.1 * next(&mut s)).collect();
    let obs = (0..p).map(|i| [i % n, i % m]).collect();
    let feats = (0..2 * p).map(|_| 5.0 * next(&mut s)).collect();
    BaProblem {
        cams,
        x,
        w,
        obs,
        feats,
    }
}

/// The same reprojection error on any number type (num-dual's duals), written on its own from
/// ADBench's C++: an independent oracle for the Jacobian. `p` is the 15 inputs, camera, point,
/// weight.
pub fn reproj_error_generic<T: num_dual::DualNum<Primitive = f64> + Copy>(
    p: &[T],
    feat: &[f64],
) -> [T; 2] {
    let (cam, x, w) = (&p[..11], &p[11..14], p[14]);
    // Xcam = R · (X − C), Rodrigues' formula.
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let rot = &cam[..3];
    let sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
    let cross3 = |a: [T; 3], b: [T; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let xcam = if sqtheta.re() == 0.0 {
        let c = cross3([rot[0], rot[1], rot[2]], xo);
        [xo[0] + c[0], xo[1] + c[1], xo[2] + c[2]]
    } else {
        let theta = sqtheta.sqrt();
        let (s, c) = (theta.sin(), theta.cos());
        let n = [rot[0] / theta, rot[1] / theta, rot[2] / theta];
        let nx = cross3(n, xo);
        let dot = (n[0] * xo[0] + n[1] * xo[1] + n[2] * xo[2]) * (T::one() - c);
        [
            xo[0] * c + nx[0] * s + n[0] * dot,
            xo[1] * c + nx[1] * s + n[1] * dot,
            xo[2] * c + nx[2] * s + n[2] * dot,
        ]
    };
    let (u, v) = (xcam[0] / xcam[2], xcam[1] / xcam[2]);
    let rsq = u * u + v * v;
    let l = T::one() + cam[9] * rsq + cam[10] * rsq * rsq;
    [
        w * (u * l * cam[6] + cam[7] - T::from(feat[0])),
        w * (v * l * cam[6] + cam[8] - T::from(feat[1])),
    ]
}
