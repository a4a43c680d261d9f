use symgrad::differentiable;

// An element written only where a condition holds.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut z = vec![0.0; w.len()];
    if x > 0.0 {
        z[0] = w[0] * x;
    }
    z[0] + z[1]
}

fn main() {}
