//! Seed 001 ("梯度的理解", PyTorch): derivative, partial derivatives and gradient of the
//! per-sample loss `(x·w − y)²`, the hand-derived gradient `2x(xw − y)` printed beside the
//! generated one, then stochastic gradient descent on `x = [1, 2, 3]`, `y = [2, 4, 6]`.
//!
//! Run: `cargo run --release --example seed001_gradients`

use symgrad::differentiable;

/// `loss(x, y)` of the tutorial, with `w` as a parameter.
#[differentiable]
fn loss(w: f64, x: f64, y: f64) -> f64 {
    let y_pred = x * w; // forward(x)
    (y_pred - y) * (y_pred - y)
}

/// The tutorial's hand-written `gradient(x, y)`: d_loss/d_w.
fn gradient(w: f64, x: f64, y: f64) -> f64 {
    2.0 * x * (x * w - y)
}

fn main() {
    let x_data = [1.0, 2.0, 3.0];
    let y_data = [2.0, 4.0, 6.0];
    let mut w = 1.0; // a random guess

    println!("the gradient, generated at compile time:");
    for (p, f) in LossGrad::FORMULAS {
        println!("  ∂loss/∂{p} = {f}");
    }
    println!("  (hand-derived in the tutorial: ∂loss/∂w = 2x(xw - y))\n");

    println!(
        "{:>4} {:>4} {:>16} {:>16}",
        "x", "y", "2x(xw - y)", "generated ∂/∂w"
    );
    for (&x, &y) in x_data.iter().zip(&y_data) {
        let (_, g) = loss_grad(w, x, y);
        println!("{x:>4} {y:>4} {:>16} {:>16}", gradient(w, x, y), g.w);
    }

    println!("\nstochastic gradient descent, lr = 0.01:");
    for epoch in 0..10 {
        let mut l = 0.0;
        for (&x, &y) in x_data.iter().zip(&y_data) {
            let (value, g) = loss_grad(w, x, y);
            w -= 0.01 * g.w;
            l = value;
            print!("  grad: {x} {y} {:+.2}", g.w);
        }
        println!("\nprogress: epoch {epoch}  w = {w:.4}  loss = {l:.4}");
    }
    println!("\npredict (after training): x = 4 → {:.4}", 4.0 * w);
}
