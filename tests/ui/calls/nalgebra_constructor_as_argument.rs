use nalgebra::Matrix2;
use symgrad::differentiable;

#[differentiable]
fn det(m: &[f64]) -> f64 {
    m[0] * m[3] - m[1] * m[2]
}

// A matrix built in a function without nalgebra parameters or result: pass the elements.
#[differentiable]
fn det_of_elements(r: &[f64]) -> f64 {
    det(Matrix2::new(r[0], r[2], r[1], r[3]).as_slice())
}

fn main() {}
