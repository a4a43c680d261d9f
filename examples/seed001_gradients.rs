//! Seed 001 ("梯度的理解", PyTorch): derivative, partial derivatives and gradient of the
//! per-sample loss `(x·w − y)²`, the hand-derived gradient `2x(xw − y)` printed beside the
//! generated one, then batch and stochastic gradient descent on `x = [1, 2, 3]`, `y = [2, 4, 6]`,
//! both converging to the exact solution `w = 2`.
//!
//! Run: `cargo run --release --example seed001_gradients`

use symgrad::differentiable;

/// `loss(x, y)` of the tutorial, with `w` as a parameter.
#[differentiable]
fn loss(w: f64, x: f64, y: f64) -> f64 {
    let y_pred = x * w; // forward(x)
    (y_pred - y) * (y_pred - y)
}

/// The batch cost J(w) = 1/(2m) Σ (x·w − y)², as a loop over the data.
#[differentiable(wrt(w))]
fn batch_cost(w: f64, x: &[f64], y: &[f64]) -> f64 {
    let m = x.len() as f64;
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += (x[i] * w - y[i]).powi(2);
    }
    acc / (2.0 * m)
}

/// The same cost as an iterator sum.
#[differentiable(wrt(w))]
fn batch_cost_iter(w: f64, x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| (xi * w - yi).powi(2))
        .sum::<f64>()
        / (2.0 * x.len() as f64)
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

    println!("\nbatch gradient descent on J(w) = 1/(2m) Σ (x·w − y)², lr = 0.1:");
    println!("  ∂J/∂w = {}", BatchCostGrad::FORMULAS[0].1);
    let mut w_bgd = 1.0;
    for epoch in 0..20 {
        let (j, g) = batch_cost_grad(w_bgd, &x_data, &y_data);
        let (j2, g2) = batch_cost_iter_grad(w_bgd, &x_data, &y_data);
        assert!(
            (j - j2).abs() < 1e-15 && (g.w - g2.w).abs() < 1e-15,
            "the two forms agree"
        );
        w_bgd -= 0.1 * g.w;
        if epoch % 4 == 0 || epoch == 19 {
            println!(
                "  epoch {epoch:2}: J = {j:.6}  ∂J/∂w = {:+.6}  w = {w_bgd:.6}",
                g.w
            );
        }
    }

    // The tutorial's per-sample loop for 100 epochs (`tests/seeds.rs` checks that it ends at
    // w = 2): the gradients of the first three epochs, then the progress every 20 epochs.
    println!("\nstochastic gradient descent, lr = 0.01, 100 epochs:");
    println!("predict (before training): x = 4 → {:.4}", 4.0 * w);
    for epoch in 0..100 {
        let mut l = 0.0;
        for (&x, &y) in x_data.iter().zip(&y_data) {
            let (value, g) = loss_grad(w, x, y);
            w -= 0.01 * g.w;
            l = value;
            if epoch < 3 {
                print!("  grad: {x} {y} {:+.2}", g.w);
            }
        }
        if epoch < 3 {
            println!();
        }
        if epoch < 3 || (epoch + 1) % 20 == 0 {
            println!("progress: epoch {epoch}  w = {w:.4}  loss = {l:.4}");
        }
    }
    println!("predict (after training): x = 4 → {:.4}", 4.0 * w);

    println!(
        "\nboth descents converge to the exact solution w = 2 (y = 2x): batch w = {w_bgd:.6} \
         after 20 epochs, stochastic w = {w:.6} after 100"
    );
}
