use nalgebra::DMatrix;
use symgrad::differentiable;

#[differentiable]
fn outer(x: f64, y: f64) -> DMatrix<f64> {
    DMatrix::from_row_slice(2, 2, &[x * x, x * y, y * x, y * y])
}

fn main() {}
