use ndarray::Array1;
use symgrad::differentiable;

#[differentiable]
fn loss(w: &Array1<f64>) -> f64 {
    w.mean().unwrap()
}

fn main() {}
