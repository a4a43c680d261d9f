use symgrad::{differentiable, stop_gradient};

#[differentiable]
fn loss(x: f64, y: f64) -> f64 {
    x * stop_gradient(x, y)
}

fn main() {}

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>()
}

// `stop_gradient` of a slice: not a float.
#[differentiable]
fn held_dot(w: &[f64], x: &[f64]) -> f64 {
    dot(stop_gradient(w), x)
}
