use nalgebra::SMatrix;
use symgrad::differentiable;

const ROWS: usize = 2;

#[differentiable]
fn outer(x: f64, y: f64) -> SMatrix<f64, ROWS, 2> {
    SMatrix::from_row_slice(&[x * x, x * y, y * x, y * y])
}

fn main() {}
