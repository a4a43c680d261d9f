use symgrad::differentiable;

// `zip` counts both sides from their first item: `1..4` would pair `x[0]` with 1.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    x.iter().zip(1..4).map(|(&a, i)| a * a * (i as f64)).sum::<f64>()
}

fn main() {}
