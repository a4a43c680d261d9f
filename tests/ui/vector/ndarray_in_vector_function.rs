use ndarray::Array1;
use symgrad::differentiable;

#[differentiable]
fn moments(x: &Array1<f64>) -> [f64; 2] {
    [x.sum(), x.mapv(|v| v * v).sum()]
}

fn main() {}
