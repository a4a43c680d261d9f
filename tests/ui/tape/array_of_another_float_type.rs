use ndarray::Array1;
use symgrad::differentiable;

#[differentiable]
fn loss(w: &Array1<f32>) -> f64 {
    1.0
}

fn main() {}
