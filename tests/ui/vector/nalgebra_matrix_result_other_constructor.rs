use nalgebra::Matrix2;
use symgrad::differentiable;

#[differentiable]
fn scaled(x: f64) -> Matrix2<f64> {
    Matrix2::from_diagonal_element(x)
}

fn main() {}
