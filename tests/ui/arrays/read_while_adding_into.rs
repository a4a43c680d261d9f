use symgrad::differentiable;

// A histogram read while it is being filled.
#[differentiable]
fn loss(w: &[f64], bin: &[usize]) -> f64 {
    let mut h = vec![0.0; 4];
    let mut s = 0.0;
    for i in 0..w.len() {
        s += h[i % 4] * w[i];
        h[bin[i]] += w[i];
    }
    s + h[0]
}

fn main() {}
