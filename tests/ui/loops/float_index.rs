use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    x[w]
}

fn main() {}
