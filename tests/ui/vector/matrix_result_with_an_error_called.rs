use nalgebra::Matrix2;
use symgrad::differentiable;

// A matrix-valued function with an error in its body (`%` on floats): its callers, which read
// its outputs, get no error of their own.
#[differentiable]
fn turn(a: f64) -> Matrix2<f64> {
    Matrix2::new(a.cos(), -a.sin(), a.sin(), a % 2.0)
}

#[differentiable]
fn trace_of_turn(a: f64) -> f64 {
    let m = turn(a);
    m[0] + m[3]
}

fn main() {}
