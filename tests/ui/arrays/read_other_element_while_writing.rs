use symgrad::differentiable;

// A loop reading the element the previous iteration wrote.
#[differentiable]
fn loss(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![1.0; n];
    for c in 1..n {
        z[c] = z[c - 1] * w[c];
    }
    z[n - 1]
}

fn main() {}
