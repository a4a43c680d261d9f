use symgrad::differentiable;

// An element written in a loop, only in some iterations.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut z = vec![0.0; w.len()];
    for c in 0..w.len() {
        if w[c] > 0.0 {
            z[c] = w[c] * x;
        }
    }
    z[0] + z[1]
}

fn main() {}
