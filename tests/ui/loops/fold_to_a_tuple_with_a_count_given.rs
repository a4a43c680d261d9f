use symgrad::differentiable;

// A count that starts from a variable: the fold is written as a loop, which reports it.
#[differentiable]
fn loss(x: &[f64], k: usize) -> f64 {
    let (s, c) = x.iter().fold((0.0, k), |(s, c), &v| (s + v * v, c + 1));
    s / c as f64
}

fn main() {}
