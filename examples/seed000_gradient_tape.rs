//! Seed 000 ("自定义训练循环与自动求导"): the `tf.GradientTape` loop that minimizes
//! `J(w) = (w·x − y)²` from `w = 3` with `x = y = 1`, `α = 0.01`, 30 iterations — with the
//! gradient generated at compile time instead of recorded on a tape at run time.
//!
//! Run: `cargo run --release --example seed000_gradient_tape`

use symgrad::differentiable;

/// `costJ = (fwb - y) ** 2` with `fwb = w * x`.
#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

fn main() {
    let (x, y, alpha) = (1.0, 1.0, 0.01);
    let mut w = 3.0;
    println!("dJ/dw = {}\n", CostGrad::FORMULAS[0].1);
    for iter in 0..30 {
        let (cost_j, dj) = cost_grad(w, x, y); // tape.gradient(costJ, w)
        w -= alpha * dj.w; // w.assign_sub(alpha * dJdw)
        println!(
            "iter {iter:2}: J = {cost_j:.6}  dJ/dw = {:+.6}  w = {w:.6}",
            dj.w
        );
    }
    // Closed form: w_k − 1 = 2 · 0.98^k.
    println!(
        "\nw after 30 steps: {w:.12} (closed form 1 + 2·0.98³⁰ = {:.12})",
        1.0 + 2.0 * 0.98f64.powi(30)
    );
}
