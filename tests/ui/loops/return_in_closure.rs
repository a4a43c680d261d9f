use symgrad::differentiable;

// `return` in a closure returns from the closure, not from `loss`.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| {
            if *v < 0.0 {
                return 0.0;
            }
            v * v
        })
        .sum::<f64>()
}

fn main() {}
