use nalgebra::Matrix2;
use symgrad::differentiable;

#[differentiable]
fn scaled(x: f64, y: f64) -> Matrix2<f64> {
    let v = [x, y, x * y, 1.0];
    Matrix2::from_column_slice(&v)
}

fn main() {}
