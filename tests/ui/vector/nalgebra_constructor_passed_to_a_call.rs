use nalgebra::{Matrix2, Vector2};
use symgrad::differentiable;

fn det(m: &Matrix2<f64>) -> f64 {
    m.determinant()
}

// In a function with nalgebra parameters or result, a matrix built in place and passed to a
// call: pass the elements.
#[differentiable]
fn scaled_by_det(a: f64, b: f64) -> Vector2<f64> {
    let d = det(&Matrix2::new(a, b, b, a));
    Vector2::new(a * d, b * d)
}

fn main() {}
