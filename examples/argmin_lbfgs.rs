//! argmin's solvers on `#[differentiable]` functions, through `symgrad::argmin`: exact
//! gradients, Hessians and Jacobians where argmin's own examples use finite differences or
//! derivatives written by hand.
//!
//! ```sh
//! cargo run --release --example argmin_lbfgs --features argmin
//! ```
//!
//! 1. Rosenbrock's function with L-BFGS, on `Vec<f64>`.
//! 2. A logistic regression with L-BFGS (`Vec<f64>`), then Newton's method and a Steihaug trust
//!    region with the Hessian of `#[differentiable(hessian)]` (nalgebra's `DVector<f64>`).
//! 3. NIST's Misra1a fitted by argmin's Gauss–Newton, its Jacobian from the generated `_grad`
//!    of one residual per observation; the parameters next to NIST's certified ones.

// argmin 0.11, the version the adapter implements the traits of (or depend on `argmin = "0.11"`).
use symgrad::argmin::argmin;

use argmin::core::{Executor, State};
use argmin::solver::gaussnewton::GaussNewton;
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::Newton;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use symgrad::argmin::nalgebra::DVector;
use symgrad::argmin::{LeastSquares, Objective};
use symgrad::differentiable;

type Result<T> = std::result::Result<T, argmin::core::Error>;

#[differentiable]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

/// The mean logistic loss of a linear model `w₀x₀ + w₁x₁ + b` with an L2 penalty on the weights.
#[differentiable(wrt(w0, w1, b), hessian)]
fn log_loss(w0: f64, w1: f64, b: f64, x0: &[f64], x1: &[f64], y: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..y.len() {
        let z = w0 * x0[i] + w1 * x1[i] + b;
        acc += (1.0 + z.exp()).ln() - y[i] * z;
    }
    acc / y.len() as f64 + 0.01 * (w0 * w0 + w1 * w1)
}

/// Misra1a's residual at one observation: y = b₁·(1 − exp(−b₂·x)).
#[differentiable(wrt(b))]
fn misra1a(b: &[f64], x: f64, y: f64) -> f64 {
    b[0] * (1.0 - (-b[1] * x).exp()) - y
}

pub fn main() -> Result<()> {
    let (p, iters) = rosenbrock_lbfgs()?;
    println!("Rosenbrock, L-BFGS from (-1.2, 1): {p:?} after {iters} iterations (minimum (1, 1))");

    let data = Classes::new(200);
    let fits = logistic_fits(&data)?;
    println!(
        "\nLogistic regression on {} points, (w0, w1, b):",
        data.y.len()
    );
    for (solver, p, iters) in &fits {
        println!(
            "  {solver:<22} {:+.12} {:+.12} {:+.12}  ({iters} iterations)",
            p[0], p[1], p[2]
        );
    }

    let (b, rss, iters) = misra1a_gauss_newton()?;
    println!("\nNIST Misra1a, Gauss-Newton from Start 2 ({iters} iterations):");
    println!("  b1  = {:.15e}  certified 2.3894212918e2", b[0]);
    println!("  b2  = {:.15e}  certified 5.5015643181e-4", b[1]);
    println!("  RSS = {rss:.15e}  certified 1.2455138894e-1");
    Ok(())
}

/// L-BFGS on Rosenbrock's function from (−1.2, 1): the minimum and the iterations taken.
pub fn rosenbrock_lbfgs() -> Result<(Vec<f64>, u64)> {
    let problem = Objective::new(|p: &[f64]| rosenbrock_grad(p[0], p[1]));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(1e-12)?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![-1.2, 1.0]).max_iters(200))
        .run()?;
    let state = result.state();
    Ok((
        state.get_best_param().cloned().unwrap_or_default(),
        state.get_iter(),
    ))
}

/// Two classes of points in the plane, separated (with some overlap) by the line
/// 1.5·x₀ − 2·x₁ + 0.5 = 0; made by a fixed linear congruential generator.
pub struct Classes {
    pub x0: Vec<f64>,
    pub x1: Vec<f64>,
    pub y: Vec<f64>,
}

impl Classes {
    #[must_use]
    pub fn new(n: usize) -> Self {
        let mut state = 12_345_u64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1_u64 << 53) as f64 * 4.0 - 2.0 // in [−2, 2)
        };
        let (mut x0, mut x1, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let (a, b, noise) = (uniform(), uniform(), uniform());
            x0.push(a);
            x1.push(b);
            y.push(f64::from(u8::from(1.5 * a - 2.0 * b + 0.5 + noise > 0.0)));
        }
        Self { x0, x1, y }
    }
}

impl Classes {
    /// The loss at `(w0, w1, b)`: the original function, which the macro keeps unchanged.
    #[must_use]
    pub fn loss(&self, p: &[f64]) -> f64 {
        log_loss(p[0], p[1], p[2], &self.x0, &self.x1, &self.y)
    }
}

/// The logistic regression solved three ways: `(solver, (w0, w1, b), iterations)`.
pub fn logistic_fits(data: &Classes) -> Result<Vec<(&'static str, Vec<f64>, u64)>> {
    let Classes { x0, x1, y } = data;
    let grad = |p: &[f64]| log_loss_grad(p[0], p[1], p[2], x0, x1, y);
    let hessian = |p: &[f64]| log_loss_hessian(p[0], p[1], p[2], x0, x1, y);

    let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-12)?
        .with_tolerance_cost(0.0)?;
    let result = Executor::new(Objective::new(grad), lbfgs)
        .configure(|state| state.param(vec![0.0; 3]).max_iters(100))
        .run()?;
    let lbfgs = (
        result.state().get_best_param().cloned().unwrap_or_default(),
        result.state().get_iter(),
    );

    let newton: Newton<f64> = Newton::new();
    let result = Executor::new(Objective::new(grad).with_hessian(hessian), newton)
        .configure(|state| state.param(DVector::zeros(3)).max_iters(8))
        .run()?;
    let newton = (
        result
            .state()
            .get_param()
            .map(|p| p.as_slice().to_vec())
            .unwrap_or_default(),
        result.state().get_iter(),
    );

    let trust = TrustRegion::new(Steihaug::new().with_max_iters(10));
    let result = Executor::new(Objective::new(grad).with_hessian(hessian), trust)
        .configure(|state| state.param(vec![0.0; 3]).max_iters(50))
        .run()?;
    let trust = (
        result.state().get_best_param().cloned().unwrap_or_default(),
        result.state().get_iter(),
    );

    Ok(vec![
        ("L-BFGS (Vec<f64>)", lbfgs.0, lbfgs.1),
        ("Newton (DVector<f64>)", newton.0, newton.1),
        ("trust region, Steihaug", trust.0, trust.1),
    ])
}

/// Misra1a fitted by Gauss–Newton from NIST's Start 2: `(b, Σ rᵢ², iterations)`.
pub fn misra1a_gauss_newton() -> Result<(Vec<f64>, f64, u64)> {
    let x = [
        77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1,
        760.0,
    ];
    let y = [
        10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47,
        81.78,
    ];
    let problem = LeastSquares::rows(x.len(), |b: &[f64], i| misra1a_grad(b, x[i], y[i]));
    // Each step solves the normal equations JᵀJ·δ = Jᵀr with JᵀJ inverted: with b₁ ≈ 240 and
    // b₂ ≈ 5e-4 its condition number is 6e13 (J's: 8e6), which limits the digits of b₂ to about
    // 9 (Levenberg–Marquardt, which factors J itself, gets all 11).
    let result = Executor::new(problem, GaussNewton::new())
        .configure(|state| {
            state
                .param(DVector::from_vec(vec![250.0, 5e-4]))
                .max_iters(50)
        })
        .run()?;
    let state = result.state();
    let b = state
        .get_param()
        .map(|p| p.as_slice().to_vec())
        .unwrap_or_default();
    let rss = (0..x.len()).map(|i| misra1a(&b, x[i], y[i]).powi(2)).sum();
    Ok((b, rss, state.get_iter()))
}
