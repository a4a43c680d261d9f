use nalgebra::Matrix2;
use symgrad::differentiable;

// A 2 × 2 matrix given three elements.
#[differentiable]
fn rotation(t: f64) -> Matrix2<f64> {
    Matrix2::new(t.cos(), -t.sin(), t.sin())
}

fn main() {}
