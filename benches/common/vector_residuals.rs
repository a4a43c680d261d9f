//! Vector-valued residuals, each with a twin generic over num-dual's numbers: bundle
//! adjustment's reprojection residual (2 outputs, the 9 camera parameters differentiated) and a
//! curve fit (100 outputs, 10 parameters). Shared by `benches/jacobian.rs` and
//! `tests/vector_valued.rs`, so the Jacobians timed are the ones checked.
#![allow(dead_code)] // each user takes its own subset

use num_dual::DualNum;
use symgrad::differentiable;

/// The reprojection residual of `point` seen by `cam` at pixel `(u, v)`, in the camera model of
/// the Bundle Adjustment in the Large data sets (angle-axis rotation, translation, focal length,
/// two radial distortion coefficients): the two residuals `benches/common/small_calls.rs`'s
/// `reprojection` squares and sums. The camera is differentiated, the point is data.
#[differentiable(wrt(cam))]
pub fn ba_residual(cam: &[f64; 9], point: &[f64; 3], u: f64, v: f64) -> [f64; 2] {
    let theta = (cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let k0 = cam[0] / theta;
    let k1 = cam[1] / theta;
    let k2 = cam[2] / theta;
    let (x, y, z) = (point[0], point[1], point[2]);
    let kp = k0 * x + k1 * y + k2 * z;
    // Rodrigues: p cos θ + (k × p) sin θ + k (k·p)(1 − cos θ), then the translation.
    let px = x * c + (k1 * z - k2 * y) * s + k0 * kp * (1.0 - c) + cam[3];
    let py = y * c + (k2 * x - k0 * z) * s + k1 * kp * (1.0 - c) + cam[4];
    let pz = z * c + (k0 * y - k1 * x) * s + k2 * kp * (1.0 - c) + cam[5];
    let xp = -px / pz;
    let yp = -py / pz;
    let r2 = xp * xp + yp * yp;
    let distortion = 1.0 + r2 * (cam[7] + cam[8] * r2);
    [cam[6] * distortion * xp - u, cam[6] * distortion * yp - v]
}

/// [`ba_residual`] on num-dual's numbers (the camera dual, the point and pixel data).
pub fn ba_residual_dual<D: DualNum<Primitive = f64> + Copy>(
    cam: &[D; 9],
    point: &[f64; 3],
    u: f64,
    v: f64,
) -> [D; 2] {
    let theta = (cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let k0 = cam[0] / theta;
    let k1 = cam[1] / theta;
    let k2 = cam[2] / theta;
    let (x, y, z) = (point[0], point[1], point[2]);
    let kp = k0 * x + k1 * y + k2 * z;
    let one_c = D::from(1.0) - c;
    let px = c * x + (k1 * z - k2 * y) * s + k0 * kp * one_c + cam[3];
    let py = c * y + (k2 * x - k0 * z) * s + k1 * kp * one_c + cam[4];
    let pz = c * z + (k0 * y - k1 * x) * s + k2 * kp * one_c + cam[5];
    let xp = -px / pz;
    let yp = -py / pz;
    let r2 = xp * xp + yp * yp;
    let distortion = D::from(1.0) + r2 * (cam[7] + cam[8] * r2);
    [cam[6] * distortion * xp - u, cam[6] * distortion * yp - v]
}

/// A camera, a point and the pixel it is observed at (not exactly where the camera puts it).
pub fn ba_input() -> ([f64; 9], [f64; 3], f64, f64) {
    (
        [0.01, -0.02, 0.03, 0.1, -0.2, -3.0, 500.0, 1e-4, 1e-8],
        [0.5, -0.3, 1.2],
        -85.0,
        52.0,
    )
}

/// Samples of the curve fit.
pub const SAMPLES: usize = 100;

/// The residuals at 100 samples of three Gaussian peaks on a constant background: heights `a`,
/// centres `m`, widths `s`, background `c` (10 parameters).
#[differentiable(wrt(a1, m1, s1, a2, m2, s2, a3, m3, s3, c))]
#[allow(clippy::too_many_arguments)] // the parameters are the fit's
pub fn peaks(
    a1: f64,
    m1: f64,
    s1: f64,
    a2: f64,
    m2: f64,
    s2: f64,
    a3: f64,
    m3: f64,
    s3: f64,
    c: f64,
    t: &[f64; 100],
    y: &[f64; 100],
) -> [f64; 100] {
    std::array::from_fn(|i| {
        let g1 = a1 * (-0.5 * ((t[i] - m1) / s1).powi(2)).exp();
        let g2 = a2 * (-0.5 * ((t[i] - m2) / s2).powi(2)).exp();
        let g3 = a3 * (-0.5 * ((t[i] - m3) / s3).powi(2)).exp();
        g1 + g2 + g3 + c - y[i]
    })
}

/// [`peaks`] on num-dual's numbers, the parameters as one array.
pub fn peaks_dual<D: DualNum<Primitive = f64> + Copy>(
    p: &[D; 10],
    t: &[f64; 100],
    y: &[f64; 100],
) -> [D; 100] {
    std::array::from_fn(|i| {
        let peak = |a: D, m: D, s: D| a * ((-(m - t[i]) / s).powi(2) * -0.5).exp();
        peak(p[0], p[1], p[2]) + peak(p[3], p[4], p[5]) + peak(p[6], p[7], p[8]) + p[9] - y[i]
    })
}

/// Parameters near the fit, and the samples.
pub fn peaks_input() -> ([f64; 10], [f64; 100], [f64; 100]) {
    let p = [1.0, 2.0, 0.5, 0.7, 5.0, 1.0, 0.4, 7.5, 0.3, 0.1];
    let t: [f64; 100] = std::array::from_fn(|i| i as f64 * 0.1);
    let y = std::array::from_fn(|i| {
        let g = |a: f64, m: f64, s: f64| a * (-0.5 * ((t[i] - m) / s).powi(2)).exp();
        g(1.1, 2.1, 0.45)
            + g(0.65, 4.9, 1.1)
            + g(0.45, 7.4, 0.35)
            + 0.12
            + 0.01 * (3.0 * t[i]).sin()
    });
    (p, t, y)
}

/// [`peaks_jacobian`] with the parameters as one array.
pub fn peaks_jacobian_of(
    p: &[f64; 10],
    t: &[f64; 100],
    y: &[f64; 100],
) -> ([f64; 100], [PeaksGrad; 100]) {
    peaks_jacobian(
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], t, y,
    )
}

/// [`peaks`] with the parameters as one array.
pub fn peaks_of(p: &[f64; 10], t: &[f64; 100], y: &[f64; 100]) -> [f64; 100] {
    peaks(
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], t, y,
    )
}
