use nalgebra::Matrix2;
use symgrad::differentiable;

#[differentiable]
fn rotation(theta: f64) -> Matrix2<f64> {
    Matrix2::new(theta.cos(), -theta.sin(), theta.sin(), theta.cos())
}

#[differentiable]
fn loss(theta: f64) -> f64 {
    let r = rotation(theta);
    r[(0, 1)] * r[(1, 0)]
}

fn main() {}
