//! Small functions whose gradient is called many times: bundle adjustment's reprojection
//! residual (a camera of 9 parameters and a point of 3, two residuals squared) and a short chain
//! of springs over a slice. Shared by `benches/grad_into.rs` and `tests/grad_into.rs`, so the
//! gradients timed are the ones checked.

use symgrad::differentiable;

/// The squared reprojection error of `point` seen by `cam` at pixel `(u, v)`, in the camera model
/// of the Bundle Adjustment in the Large data sets: `cam` is an angle-axis rotation (3), a
/// translation (3), a focal length and two radial distortion coefficients.
#[differentiable]
pub fn reprojection(cam: &[f64], point: &[f64], u: f64, v: f64) -> f64 {
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
    let ru = cam[6] * distortion * xp - u;
    let rv = cam[6] * distortion * yp - v;
    ru * ru + rv * rv
}

/// A camera, a point and the pixel it is observed at (not exactly where the camera puts it).
pub fn reprojection_input() -> ([f64; 9], [f64; 3], f64, f64) {
    (
        [0.01, -0.02, 0.03, 0.1, -0.2, -3.0, 500.0, 1e-4, 1e-8],
        [0.5, -0.3, 1.2],
        -85.0,
        52.0,
    )
}

/// The energy of springs of rest length `rest` between neighbouring positions `x`.
#[differentiable(wrt(x))]
pub fn springs(x: &[f64], rest: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..x.len() {
        let d = x[i] - x[i - 1] - rest;
        e += d * d;
    }
    e
}

/// `n` positions, spaced a little unevenly.
pub fn springs_input(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| i as f64 * 1.1 + (i as f64).sin() * 0.05)
        .collect()
}
