use symgrad::differentiable;

#[differentiable]
fn loss(x: f64, k: usize) -> f64 {
    match (x, k) {
        (_, 0) => x,
        pair => pair.0 * 2.0,
    }
}

fn main() {}
