use symgrad::{differentiable, sigmoid};

#[differentiable(hessian)]
fn loss(x: f64) -> f64 {
    sigmoid(x) * x
}

fn main() {}
