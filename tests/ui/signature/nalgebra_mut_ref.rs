use nalgebra::Vector3;
use symgrad::differentiable;

#[differentiable]
fn loss(v: &mut Vector3<f64>) -> f64 {
    v.x * v.y
}

fn main() {}
