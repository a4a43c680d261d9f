use nalgebra::DMatrix;
use symgrad::differentiable;

#[differentiable]
fn loss(a: &DMatrix<f64>, s: f64) -> f64 {
    a[(0, 1)] * s
}

fn main() {}
