//! Seed 000's loop twice: `J(w) = (w·x − y)²` with `x = y = 1` from `w = 3`, 30 iterations,
//! once with the tutorial's plain gradient descent (`w.assign_sub(alpha * dJdw)`, `α = 0.01`) and
//! once with the optimizer it recommends next, `tf.keras.optimizers.Adam(learning_rate=0.1)`;
//! the two trajectories side by side, then which got lower and by how much.
//!
//! Run: `cargo run --release --example seed000_descent_vs_adam`

use symgrad::differentiable;
use symgrad::optim::{Adam, Optimizer};

/// `costJ = (fwb - y) ** 2` with `fwb = w * x`.
#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

const X: f64 = 1.0;
const Y: f64 = 1.0;
const W0: f64 = 3.0;
const ITERATIONS: usize = 30;
/// The tutorial's `alpha`.
const ALPHA: f64 = 0.01;
/// `tf.keras.optimizers.Adam(learning_rate=0.1)`.
const LR: f64 = 0.1;

/// `(J(w_k), w_k)` for `k = 0..=ITERATIONS`: the start, then the state after each iteration.
type Trajectory = Vec<(f64, f64)>;

/// The tutorial's loop: `dJdw = tape.gradient(costJ, w)`, `w.assign_sub(alpha * dJdw)`.
fn gradient_descent(alpha: f64) -> Trajectory {
    let mut w = W0;
    let mut trajectory = vec![(cost(w, X, Y), w)];
    for _ in 0..ITERATIONS {
        let (_, dj) = cost_grad(w, X, Y);
        w -= alpha * dj.w;
        trajectory.push((cost(w, X, Y), w));
    }
    trajectory
}

/// The same loop with `optimizer.apply_gradients(zip(grads, [w]))` as the update.
fn with_optimizer(mut optimizer: impl Optimizer) -> Trajectory {
    let mut w = [W0];
    let mut trajectory = vec![(cost(w[0], X, Y), w[0])];
    for _ in 0..ITERATIONS {
        let (_, dj) = cost_grad(w[0], X, Y);
        optimizer.step(&mut w, &[dj.w]);
        trajectory.push((cost(w[0], X, Y), w[0]));
    }
    trajectory
}

fn print_side_by_side(descent: &Trajectory, adam: &Trajectory) {
    println!("        gradient descent, α = {ALPHA}     Adam (Keras), lr = {LR}");
    println!("iter    J             w               J             w");
    for (k, ((j_gd, w_gd), (j_adam, w_adam))) in descent.iter().zip(adam).enumerate() {
        println!("{k:4}    {j_gd:<12.8}  {w_gd:<14.9}  {j_adam:<12.8}  {w_adam:.9}");
    }
}

/// One paragraph, every figure in it read from the two runs.
fn conclusion(descent: &Trajectory, adam: &Trajectory) -> String {
    let (j_gd, j_adam) = (descent[ITERATIONS].0, adam[ITERATIONS].0);
    let (winner, loser, low, high) = if j_adam < j_gd {
        ("Adam", "plain gradient descent", j_adam, j_gd)
    } else {
        ("plain gradient descent", "Adam", j_gd, j_adam)
    };
    format!(
        "After {ITERATIONS} iterations {winner} reached the lower loss: J = {low:.8} against \
         {high:.8} for {loser}, lower by {:.6} ({:.1} times lower). {} {}",
        high - low,
        high / low,
        descent_story(descent),
        adam_story(adam),
    )
}

/// Plain descent multiplies `w − y/x` by `1 − 2αx²` every step.
fn descent_story(descent: &Trajectory) -> String {
    let factor = 1.0 - 2.0 * ALPHA * X * X;
    let closed_form = Y / X + (W0 - Y / X) * factor.powf(ITERATIONS as f64);
    format!(
        "Plain descent shrinks the distance to the minimum w = 1 by the constant factor \
         1 − 2α = {factor} per step, so it is still at w = {:.9} (closed form 1 + 2·0.98³⁰ = \
         {closed_form:.9}).",
        descent[ITERATIONS].1
    )
}

/// Adam's steps are about `lr` long whatever the gradient's size, so it overshoots.
fn adam_story(adam: &Trajectory) -> String {
    let first_steps = 10;
    let mean_step = (adam[0].1 - adam[first_steps].1) / first_steps as f64;
    let (best, (j_best, _)) = adam
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
        .expect("internal error: a trajectory holds the starting point");
    let crossing = adam.iter().position(|&(_, w)| w < Y / X);
    let path = match crossing {
        Some(k) => format!(
            "crossed w = 1 at iteration {k} and overshot, ending at w = {:.9}",
            adam[ITERATIONS].1
        ),
        None => format!(
            "has not reached w = 1, ending at w = {:.9}",
            adam[ITERATIONS].1
        ),
    };
    format!(
        "Adam's first {first_steps} steps averaged {mean_step:.4} in w, close to lr = {LR} \
         whatever the gradient's size; it {path}. Its lowest loss, {j_best:.6e}, was at \
         iteration {best}."
    )
}

fn main() {
    println!(
        "J(w) = (w·x − y)², x = y = 1, from w = 3; dJ/dw = {}\n",
        CostGrad::FORMULAS[0].1
    );
    let descent = gradient_descent(ALPHA);
    let adam = with_optimizer(Adam::keras(LR));
    print_side_by_side(&descent, &adam);
    println!("\n{}", conclusion(&descent, &adam));
}
