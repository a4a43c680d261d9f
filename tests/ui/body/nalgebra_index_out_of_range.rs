use nalgebra::Matrix3;
use symgrad::differentiable;

#[differentiable]
fn corner(m: Matrix3<f64>, s: f64) -> f64 {
    m[(3, 0)] * s
}

fn main() {}
