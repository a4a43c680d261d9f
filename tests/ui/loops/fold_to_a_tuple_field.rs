use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v)).0
}

fn main() {}
