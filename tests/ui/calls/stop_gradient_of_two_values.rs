use symgrad::{differentiable, stop_gradient};

#[differentiable]
fn loss(x: f64, y: f64) -> f64 {
    x * stop_gradient(x, y)
}

fn main() {}
