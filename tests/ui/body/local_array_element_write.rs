use symgrad::differentiable;

// A K-class softmax written with a buffer of logits.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut z = [0.0; 3];
    for c in 0..3 {
        z[c] += w[c] * x;
    }
    z[0] + z[1] + z[2]
}

fn main() {}
