use nalgebra::Matrix2;
use symgrad::differentiable;

fn det(m: &Matrix2<f64>) -> f64 {
    m.determinant()
}

// A matrix built in place and lent, in a function without nalgebra parameters or result:
// pass the elements.
#[differentiable]
fn det_of_elements(r: &[f64]) -> f64 {
    det(&Matrix2::new(r[0], r[2], r[1], r[3]))
}

fn main() {}
