use nalgebra::SMatrix;
use symgrad::differentiable;

const ROWS: usize = 2;

#[differentiable]
fn scaled(x: f64) -> SMatrix<f64, ROWS, 3> {
    SMatrix::from_fn(|r, c| x * (r + c) as f64)
}

fn main() {}
