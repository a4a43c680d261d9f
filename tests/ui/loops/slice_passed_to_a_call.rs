use symgrad::differentiable;

fn total(v: &[f64]) -> f64 {
    v.iter().sum()
}

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    total(x) * 2.0
}

fn main() {}
