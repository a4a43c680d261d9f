use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let (s, c) = x.iter().fold((0.0, 0usize), |(s, c), &v| (s + v * v, c + 1));
    s / c as f64
}

fn main() {}
