//! Linear regression with two parameters of different types, a weight `Vec<f64>` and a bias
//! `f64`, trained together by `Minimizer::run_params` without packing them into one slice; the
//! fit printed beside the closed-form least-squares solution.
//!
//! ```sh
//! cargo run --release --example linear_regression_params
//! ```
//!
//! The tuple `(&mut w, &mut b)` is read and written in its order, `w`'s elements then `b`: the
//! order of the generated `LossGrad`'s fields (`w`, then `b`, as the function declares them).

use symgrad::optim::Adam;
use symgrad::{Minimizer, Report, differentiable};

/// Mean squared error of `y ≈ X·w + b`, `X` row-major with `w.len()` columns.
#[differentiable(wrt(w, b))]
pub(crate) fn loss(w: &[f64], b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        let mut p = b;
        for j in 0..w.len() {
            p += w[j] * x[i * w.len() + j];
        }
        s += (p - y[i]).powi(2);
    }
    s / y.len() as f64
}

/// `n` rows of 3 features, `y = 1.5·x₀ − 2·x₁ + 0.5·x₂ + 0.7` plus noise, from a fixed seed.
pub(crate) fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let x: Vec<f64> = (0..3 * n).map(|_| 2.0 * uniform()).collect();
    let y = (0..n)
        .map(|i| 1.5 * x[3 * i] - 2.0 * x[3 * i + 1] + 0.5 * x[3 * i + 2] + 0.7 + 0.1 * uniform())
        .collect();
    (x, y)
}

/// The least-squares solution `(w, b)` from the normal equations `[X 1]ᵀ[X 1]·θ = [X 1]ᵀy`,
/// solved by Gaussian elimination with partial pivoting.
pub(crate) fn closed_form(x: &[f64], y: &[f64], d: usize) -> (Vec<f64>, f64) {
    let k = d + 1;
    let row = |i: usize, j: usize| if j < d { x[i * d + j] } else { 1.0 };
    let mut a = vec![vec![0.0; k + 1]; k];
    for (i, yi) in y.iter().enumerate() {
        let features: Vec<f64> = (0..k).map(|j| row(i, j)).collect();
        for (fr, a_r) in features.iter().zip(&mut a) {
            for (fc, a_rc) in features.iter().zip(a_r.iter_mut()) {
                *a_rc += fr * fc;
            }
            a_r[k] += fr * yi;
        }
    }
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        for r in col + 1..k {
            let f = a[r][col] / a[col][col];
            let pivot_row = a[col].clone();
            for (v, p) in a[r].iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
        }
    }
    let mut theta = vec![0.0; k];
    for r in (0..k).rev() {
        let known: f64 = (r + 1..k).map(|c| a[r][c] * theta[c]).sum();
        theta[r] = (a[r][k] - known) / a[r][r];
    }
    let b = theta.pop().unwrap_or_default();
    (theta, b)
}

/// Trains `w` and `b` from zeros with Adam; prints the loss every `every` steps.
pub(crate) fn train(x: &[f64], y: &[f64], every: u64) -> (Vec<f64>, f64, Report<f64>) {
    let (mut w, mut b) = (vec![0.0; 3], 0.0);
    let report = Minimizer::new(Adam::new(0.02))
        .max_steps(20_000)
        .tol_grad_norm(1e-12)
        .callback(|info| {
            if info.step % every == 0 {
                println!("step {:>5}: loss {:.9}", info.step, info.loss);
            }
        })
        .run_params((&mut w, &mut b), |(w, b)| loss_grad(w, **b, x, y))
        .expect("the loss stays finite");
    (w, b, report)
}

fn main() {
    let (x, y) = data(200);
    let (w, b, report) = train(&x, &y, 100);
    println!("stopped after {} steps: {}", report.steps, report.stop);
    let (w_exact, b_exact) = closed_form(&x, &y, 3);
    println!("            trained            closed form");
    for j in 0..3 {
        println!("w[{j}]   {:>16.12} {:>18.12}", w[j], w_exact[j]);
    }
    println!("b      {b:>16.12} {b_exact:>18.12}");
    let gap = w
        .iter()
        .zip(&w_exact)
        .map(|(a, e)| (a - e).abs())
        .fold((b - b_exact).abs(), f64::max);
    println!("largest difference: {gap:.1e}");
}
