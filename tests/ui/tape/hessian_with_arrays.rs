use ndarray::Array1;
use symgrad::differentiable;

#[differentiable(hessian)]
fn loss(w: &Array1<f64>) -> f64 {
    w.powi(2).sum()
}

fn main() {}
