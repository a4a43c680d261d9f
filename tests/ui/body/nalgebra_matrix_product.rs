use nalgebra::{Matrix3, Vector3};
use symgrad::differentiable;

#[differentiable]
fn loss(a: Matrix3<f64>, x: Vector3<f64>) -> f64 {
    (a * x).norm_squared()
}

fn main() {}
