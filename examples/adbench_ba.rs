//! ADBench's bundle adjustment objective as the C++ reference writes it (helpers taking
//! sub-slices of the camera, scratch arrays passed on, each helper's outputs fed to the next;
//! `benches/common/adbench_ba.rs`): the reprojection error of one observation and its 2 × 15
//! Jacobian, checked against central differences, then the camera recovered from 40 points by
//! Levenberg–Marquardt steps on the Jacobian's blocks.
//!
//! Run: `cargo run --release --example adbench_ba`.

#[path = "../benches/common/adbench_ba.rs"]
mod adbench_ba;
use adbench_ba::{ReprojErrorGrad, ba_problem, project, reproj_error, reproj_error_jacobian_into};

/// Central differences of output `k` of the reprojection error along input `i` (of the 15).
fn central(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64], k: usize, i: usize) -> f64 {
    let at = |h: f64| {
        let (mut c, mut p, mut w) = (*cam, *x, w);
        match i {
            0..=10 => c[i] += h,
            11..=13 => p[i - 11] += h,
            _ => w += h,
        }
        reproj_error(&c, &p, w, feat)[k]
    };
    let h = 1e-6;
    (at(h) - at(-h)) / (2.0 * h)
}

/// Solves `a · x = b` (n × n, row-major) by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))
            .unwrap_or(c);
        for j in 0..n {
            a.swap(c * n + j, p * n + j);
        }
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r * n + c] / a[c * n + c];
            for j in c..n {
                a[r * n + j] -= f * a[c * n + j];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|j| a[r * n + j] * x[j]).sum();
        x[r] = (b[r] - s) / a[r * n + r];
    }
    x
}

fn main() {
    let problem = ba_problem(1, 40, 40);
    let (cam, x, w) = (problem.cams[0], problem.x[0], problem.w[0]);
    let feat = &problem.feats[..2];
    let mut rows = [ReprojErrorGrad::default(); 2];
    let e = reproj_error_jacobian_into(&cam, &x, w, feat, &mut rows);
    println!(
        "one observation: reprojection error = [{:.6}, {:.6}]",
        e[0], e[1]
    );
    println!("its Jacobian (2 × 15: camera r1 r2 r3 C1 C2 C3 f u0 v0 k1 k2, point, weight):");
    let mut worst = 0.0f64;
    for (k, row) in rows.iter().enumerate() {
        let mut flat: Vec<f64> = row.cam.to_vec();
        flat.extend(row.x);
        flat.push(row.w);
        let shown: Vec<String> = flat.iter().map(|v| format!("{v:10.3}")).collect();
        println!("  ∂e{k}: {}", shown.join(""));
        for (i, v) in flat.iter().enumerate() {
            let fd = central(&cam, &x, w, feat, k, i);
            worst = worst.max((v - fd).abs() / fd.abs().max(1.0));
        }
    }
    println!("largest relative difference from central differences: {worst:.1e}");
    assert!(
        worst < 1e-6,
        "the Jacobian disagrees with central differences"
    );

    // The camera from 40 observed points: features made by the true camera, the fit starts
    // from a perturbed one and takes Levenberg–Marquardt steps on the camera's 11 columns.
    let truth = problem.cams[0];
    let feats: Vec<[f64; 2]> = problem.x.iter().map(|p| project(&truth, p)).collect();
    let mut cam = truth;
    cam[0] += 0.02;
    cam[4] -= 0.05;
    cam[6] *= 1.03;
    cam[9] += 0.005;
    let cost = |cam: &[f64; 11]| -> f64 {
        (problem.x.iter().zip(&feats))
            .map(|(p, f)| {
                let e = reproj_error(cam, p, 1.0, f);
                e[0] * e[0] + e[1] * e[1]
            })
            .sum()
    };
    let mut lambda = 1e-3;
    println!("\nLevenberg–Marquardt on the camera (40 points):");
    println!("  step 0: Σ e² = {:.3e}", cost(&cam));
    for step in 1..=12 {
        // Normal equations JᵀJ δ = −Jᵀe over the camera's columns, one 2 × 11 block a point.
        let (mut jtj, mut jte) = (vec![0.0; 121], vec![0.0; 11]);
        for (p, f) in problem.x.iter().zip(&feats) {
            let e = reproj_error_jacobian_into(&cam, p, 1.0, f, &mut rows);
            for (k, row) in rows.iter().enumerate() {
                for i in 0..11 {
                    jte[i] += row.cam[i] * e[k];
                    for j in 0..11 {
                        jtj[i * 11 + j] += row.cam[i] * row.cam[j];
                    }
                }
            }
        }
        let before = cost(&cam);
        loop {
            let mut a = jtj.clone();
            for i in 0..11 {
                a[i * 11 + i] *= 1.0 + lambda;
            }
            let delta = solve(a, jte.iter().map(|v| -v).collect());
            let mut next = cam;
            for (c, d) in next.iter_mut().zip(&delta) {
                *c += d;
            }
            if cost(&next) < before {
                cam = next;
                lambda = (lambda / 10.0).max(1e-12);
                break;
            }
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
        println!("  step {step}: Σ e² = {:.3e}", cost(&cam));
    }
    let off = cam
        .iter()
        .zip(&truth)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .fold(0.0, f64::max);
    println!("largest relative distance of the fitted camera from the true one: {off:.1e}");
}
