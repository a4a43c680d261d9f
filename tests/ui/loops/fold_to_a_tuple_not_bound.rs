use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let t = x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v));
    t.0 * t.1
}

fn main() {}
