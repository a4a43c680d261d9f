//! The facts the runtime examples print, kept true: `seed003_plot` (Keras Adam on (x − 50)²)
//! and `seed000_descent_vs_adam` (plain descent against Keras Adam on (w·x − y)²), and
//! `linear_regression_params` (a weight vector and a bias trained together, against the
//! closed-form least-squares solution).

#[path = "../examples/linear_regression_params.rs"]
#[allow(dead_code)] // Its `main` is the example's own; the tests call its parts.
mod linear_regression;

use symgrad::optim::{Adam, Optimizer};
use symgrad::{Minimizer, StopReason, differentiable};

/// Seed 003's stand-in loss.
#[differentiable]
fn loss_fun(x: f64) -> f64 {
    (x - 50.0).powi(2)
}

/// Seed 000's cost.
#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

#[test]
fn seed003_adam_reaches_50_and_records_every_point() {
    let mut x = [3.0];
    let report = Minimizer::new(Adam::keras(1.0))
        .max_steps(200)
        .record_params(true)
        .run(&mut x, |p| loss_fun_grad(p[0]))
        .unwrap();
    assert!((x[0] - 50.0).abs() < 0.1, "x = {}", x[0]);
    assert!(
        (x[0] - 50.002_735_7).abs() < 1e-6,
        "printed 50.0027357, got {}",
        x[0]
    );
    assert_eq!(report.stop, StopReason::MaxSteps);
    assert_eq!(report.history.losses.len(), 201);
    assert_eq!(report.history.params.len(), 201);
    assert_eq!(report.history.params[0], [3.0]);
    assert_eq!(report.history.losses[0], 2209.0);
    assert_eq!(report.history.params[200], x);
}

#[test]
fn seed003_minimizer_visits_the_points_of_the_tutorials_loop() {
    let mut adam = Adam::keras(1.0);
    let mut x = [3.0];
    let mut points = vec![x[0]];
    for _ in 0..200 {
        let (_, g) = loss_fun_grad(x[0]);
        adam.step(&mut x, &[g.x]);
        points.push(x[0]);
    }
    let mut p = [3.0];
    let report = Minimizer::new(Adam::keras(1.0))
        .max_steps(200)
        .record_params(true)
        .run(&mut p, |p| loss_fun_grad(p[0]))
        .unwrap();
    let recorded: Vec<f64> = report.history.params.iter().map(|p| p[0]).collect();
    assert_eq!(recorded, points);
}

/// `(J(w_k), w_k)` for `k = 0..=30`, from `w = 3` with `x = y = 1`.
fn seed000_run(mut update: impl FnMut(&mut f64, f64)) -> Vec<(f64, f64)> {
    let mut w = 3.0;
    let mut trajectory = vec![(cost(w, 1.0, 1.0), w)];
    for _ in 0..30 {
        let (_, dj) = cost_grad(w, 1.0, 1.0);
        update(&mut w, dj.w);
        trajectory.push((cost(w, 1.0, 1.0), w));
    }
    trajectory
}

fn seed000_descent() -> Vec<(f64, f64)> {
    seed000_run(|w, dj| *w -= 0.01 * dj)
}

fn seed000_adam() -> Vec<(f64, f64)> {
    let mut adam = Adam::keras(0.1);
    seed000_run(|w, dj| {
        let mut p = [*w];
        adam.step(&mut p, &[dj]);
        *w = p[0];
    })
}

#[test]
fn seed000_descent_matches_the_closed_form() {
    let descent = seed000_descent();
    for (k, &(j, w)) in descent.iter().enumerate() {
        let closed_form = 1.0 + 2.0 * 0.98_f64.powi(i32::try_from(k).unwrap());
        assert!(
            (w - closed_form).abs() < 1e-12,
            "step {k}: {w} vs {closed_form}"
        );
        assert!((j - (closed_form - 1.0).powi(2)).abs() < 1e-12);
    }
    assert!((descent[30].1 - 2.090_968_639).abs() < 1e-9);
    assert!((descent[30].0 - 1.190_212_57).abs() < 1e-8);
}

#[test]
fn seed000_adam_ends_28_times_lower_after_overshooting_at_step_24() {
    let (descent, adam) = (seed000_descent(), seed000_adam());
    let (j_gd, j_adam) = (descent[30].0, adam[30].0);
    assert!((j_adam - 0.042_181_17).abs() < 1e-8, "J_adam = {j_adam}");
    assert!(
        (adam[30].1 - 0.794_619_461).abs() < 1e-9,
        "w_adam = {}",
        adam[30].1
    );
    assert!(j_adam < j_gd);
    assert!((j_gd - j_adam - 1.148_031).abs() < 1e-6);
    assert!(
        (j_gd / j_adam - 28.2).abs() < 0.05,
        "ratio {}",
        j_gd / j_adam
    );
    // Steps of about lr = 0.1: it crosses w = 1 at iteration 24 (its lowest loss) and overshoots.
    assert_eq!(adam.iter().position(|&(_, w)| w < 1.0), Some(24));
    let best = (0..=30).min_by(|&a, &b| adam[a].0.total_cmp(&adam[b].0));
    assert_eq!(best, Some(24));
    assert!(adam[24].0 < 3e-6);
    assert!(adam[24..].windows(2).all(|w| w[1].1 < w[0].1));
}

#[test]
fn weights_and_bias_trained_together_reach_the_closed_form() {
    let (x, y) = linear_regression::data(200);
    let (w, b, report) = linear_regression::train(&x, &y, u64::MAX);
    let (w_exact, b_exact) = linear_regression::closed_form(&x, &y, 3);
    assert_eq!(
        report.stop,
        StopReason::GradNorm {
            norm: report.final_grad_norm
        }
    );
    for (got, want) in w.iter().zip(&w_exact) {
        assert!((got - want).abs() < 1e-10, "{w:?} vs {w_exact:?}");
    }
    assert!((b - b_exact).abs() < 1e-10, "{b} vs {b_exact}");
    // The loss went down from the start, and the closed form is its minimum: the gradient of
    // the loss vanishes there (central differences of the loss itself).
    assert!(report.history.losses[0] > 100.0 * report.final_loss);
    let mut point = w_exact.clone();
    point.push(b_exact);
    for j in 0..4 {
        let h = 1e-5;
        let at = |d: f64| {
            let mut p = point.clone();
            p[j] += d;
            linear_regression::loss(&p[..3], p[3], &x, &y)
        };
        assert!(((at(h) - at(-h)) / (2.0 * h)).abs() < 1e-8);
    }
}
