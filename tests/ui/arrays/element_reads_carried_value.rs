use symgrad::differentiable;

// A running sum written element by element (a prefix sum).
#[differentiable]
fn loss(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    let mut s = 0.0;
    for c in 0..n {
        s += w[c];
        z[c] = s;
    }
    z[0] * z[n - 1]
}

fn main() {}
