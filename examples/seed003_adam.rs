//! Seed 003 ("tensorflow2实现梯度下降"): minimize `(x − 50)²` from `x = 3` with
//! `tf.keras.optimizers.Adam(1)` for 200 steps, printing every step as the tutorial does.
//!
//! Run: `cargo run --release --example seed003_adam`

use symgrad::differentiable;
use symgrad::optim::{Adam, Optimizer};

/// The tutorial's stand-in for a loss function.
#[differentiable]
fn loss_fun(x: f64) -> f64 {
    (x - 50.0).powi(2)
}

fn main() {
    // "函数(x-50)**2的导数是2(x-50),代入x=3,结果为:-94"
    let (_, g) = loss_fun_grad(3.0);
    println!("d/dx (x-50)^2 at x = 3: {}   (tutorial: -94)", g.x);
    println!("formula: {:?}\n", LossFunGrad::FORMULAS);

    // The tutorial's loop: record the point, take the gradient, let Adam update x.
    let mut adam = Adam::keras(1.0); // Keras defaults: β = (0.9, 0.999), ε = 1e-7 (ε-hat form)
    let mut x = [3.0];
    let mut points = Vec::with_capacity(200);
    for i in 0..200 {
        let last_x = x[0];
        let (last_y, g) = loss_fun_grad(last_x);
        points.push((last_x, last_y));
        adam.step(&mut x, &[g.x]);
        println!("第{i}次:::x={:.7},last_x={last_x:.7},导数={:.7}", x[0], g.x);
    }
    println!("最小值x: {:.7}", x[0]);
    println!("最小值y: {:.7}", loss_fun(x[0]));
    println!(
        "\n{} points visited; the plot is drawn by the `seed003_plot` example (feature `plot`).",
        points.len()
    );
}
