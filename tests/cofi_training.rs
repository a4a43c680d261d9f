//! Seed 000's collaborative-filtering training path (`examples/seed000_cofi.rs`) on a small
//! synthetic problem: the tape's gradient matches the hand-derived one, and 20 steps of
//! `Adam::keras(0.1)` through the training loop lower the cost.

use ndarray::{Array2, ArrayView2, Axis};
use symgrad::optim::Adam;
use symgrad::tape::Tape;
use symgrad::train::Minimizer;

const MOVIES: usize = 30;
const USERS: usize = 12;
const FEATURES: usize = 4;
const LAMBDA: f64 = 1.0;

/// Deterministic pseudo-random numbers in [-1, 1) (splitmix64).
fn numbers(seed: u64, count: usize) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            2.0 * ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 1.0
        })
        .collect()
}

/// Ratings Y (0.5..=5 where rated) and R (about a third ones).
fn ratings() -> (Array2<f64>, Array2<f64>) {
    let u = numbers(7, 2 * MOVIES * USERS);
    let r = Array2::from_shape_fn((MOVIES, USERS), |(i, j)| {
        f64::from(u[i * USERS + j] < -0.33)
    });
    let y = Array2::from_shape_fn((MOVIES, USERS), |(i, j)| {
        r[[i, j]] * (2.75 + 2.25 * u[MOVIES * USERS + i * USERS + j])
    });
    (y, r)
}

fn split(
    p: &[f64],
) -> (
    ArrayView2<'_, f64>,
    ArrayView2<'_, f64>,
    ArrayView2<'_, f64>,
) {
    let (x, rest) = p.split_at(MOVIES * FEATURES);
    let (w, b) = rest.split_at(USERS * FEATURES);
    (
        ArrayView2::from_shape((MOVIES, FEATURES), x).unwrap(),
        ArrayView2::from_shape((USERS, FEATURES), w).unwrap(),
        ArrayView2::from_shape((1, USERS), b).unwrap(),
    )
}

/// The example's objective: `cofiCostFuncV` on the tape, parameters and gradient flat.
fn cofi_cost_grad(p: &[f64], y: &Array2<f64>, r: &Array2<f64>) -> (f64, Vec<f64>) {
    let (x0, w0, b0) = split(p);
    let tape = Tape::new();
    let (x, w, b) = (tape.watch(x0), tape.watch(w0), tape.watch(b0));
    let e = (x.dot(&w.t()) + &b - y) * r;
    let j = e.powi(2).sum() * 0.5 + (x.powi(2).sum() + w.powi(2).sum()) * (LAMBDA / 2.0);
    let grads = tape.gradient(&j);
    let flat = [grads.wrt(&x), grads.wrt(&w), grads.wrt(&b)]
        .iter()
        .flat_map(|g| g.iter().copied().collect::<Vec<_>>())
        .collect();
    (j.item(), flat)
}

fn start() -> Vec<f64> {
    numbers(1234, (MOVIES + USERS) * FEATURES + USERS)
}

#[test]
fn the_tape_gradient_is_the_hand_derived_one() {
    let (y, r) = ratings();
    let p = start();
    let (j, grad) = cofi_cost_grad(&p, &y, &r);
    let (x, w, b) = split(&p);
    let e = (x.dot(&w.t()) + b - &y) * &r;
    let j_hand = 0.5 * e.mapv(|v| v * v).sum()
        + 0.5 * LAMBDA * (x.mapv(|v| v * v).sum() + w.mapv(|v| v * v).sum());
    // ∂J/∂X = E W + λX, ∂J/∂W = Eᵀ X + λW, ∂J/∂b = Σ_rows E.
    let hand: Vec<f64> = [
        e.dot(&w) + &x * LAMBDA,
        e.t().dot(&x) + &w * LAMBDA,
        e.sum_axis(Axis(0)).insert_axis(Axis(0)),
    ]
    .iter()
    .flat_map(|g| g.iter().copied().collect::<Vec<_>>())
    .collect();
    assert!((j - j_hand).abs() < 1e-12 * j_hand);
    assert_eq!(grad.len(), hand.len());
    for (k, (a, b)) in grad.iter().zip(&hand).enumerate() {
        assert!((a - b).abs() < 1e-12, "component {k}: {a} vs {b}");
    }
}

#[test]
fn twenty_keras_adam_steps_lower_the_cost() {
    let (y, r) = ratings();
    let mut params = start();
    let report = Minimizer::new(Adam::keras(0.1))
        .max_steps(20)
        .run(&mut params, |p| cofi_cost_grad(p, &y, &r))
        .expect("training runs");
    let losses = &report.history.losses;
    assert_eq!(losses.len(), 21);
    assert!(
        losses[20] < 0.5 * losses[0],
        "cost {} after 20 steps, {} at the start",
        losses[20],
        losses[0]
    );
    let rises = losses.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        rises <= 2,
        "the cost rose at {rises} of 20 steps: {losses:?}"
    );
}
