use nalgebra::{Matrix2, Vector2};
use symgrad::differentiable;

fn det(m: &Matrix2<f64>) -> f64 {
    m.determinant()
}

// A matrix built row by row (`Matrix2::new`) and lent to a call: the help writes its elements
// in the order nalgebra stores them, column by column.
#[differentiable]
fn scaled_by_det(a: f64, b: f64) -> Vector2<f64> {
    let m = Matrix2::new(a, b, 2.0 * b, a);
    let d = det(&m);
    Vector2::new(a * d, b * d)
}

fn main() {}
