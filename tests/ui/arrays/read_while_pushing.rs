use symgrad::differentiable;

// A vector read inside the loop that pushes to it.
#[differentiable]
fn loss(w: &[f64]) -> f64 {
    let mut z = Vec::new();
    let mut s = 0.0;
    for i in 0..w.len() {
        z.push(w[i] * w[i]);
        s += z[i];
    }
    s
}

fn main() {}
