use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    x.iter().map(|v| v * 2.0).product()
}

fn main() {}
