use nalgebra::DVector;
use symgrad::differentiable;

#[differentiable(wrt(p))]
fn residuals(p: &[f64], x: &[f64]) -> DVector<f64> {
    let r = DVector::from_element(x.len(), p[0]);
    r
}

fn main() {}
