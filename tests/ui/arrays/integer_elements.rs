use symgrad::differentiable;

// A local array of integers.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let idx = [0usize, 1];
    w[idx[1]] * x
}

fn main() {}
