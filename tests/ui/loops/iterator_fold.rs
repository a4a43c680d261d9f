use symgrad::differentiable;

// `reduce` has no start value: its first item is the accumulator.
#[differentiable]
fn loss(z: &[f64]) -> f64 {
    z.iter().cloned().reduce(f64::max).unwrap_or(0.0)
}

fn main() {}
