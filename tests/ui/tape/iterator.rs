use ndarray::Array1;
use symgrad::differentiable;

#[differentiable]
fn loss(w: &Array1<f64>) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>()
}

fn main() {}
