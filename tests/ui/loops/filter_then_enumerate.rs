use symgrad::differentiable;

// `enumerate` after `filter` numbers only the items the filter keeps: the filter is not the
// last adaptor, so it is not read as a condition on each item.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    x.iter()
        .filter(|v| **v > 0.0)
        .enumerate()
        .map(|(i, v)| v * w * i as f64)
        .sum::<f64>()
}

fn main() {}
