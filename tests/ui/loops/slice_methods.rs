use symgrad::differentiable;

#[differentiable]
fn ends(x: &[f64]) -> f64 {
    x.first().copied().unwrap_or(0.0) * x.iter().count() as f64
}

fn main() {}
