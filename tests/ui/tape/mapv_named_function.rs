use ndarray::Array1;
use symgrad::differentiable;

fn gelu(v: f64) -> f64 {
    0.5 * v * (1.0 + (0.797_884_6 * (v + 0.044_715 * v.powi(3))).tanh())
}

#[differentiable]
fn loss(x: &Array1<f64>) -> f64 {
    x.mapv(gelu).sum()
}

fn main() {}
