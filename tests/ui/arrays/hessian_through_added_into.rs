use symgrad::differentiable;

// Second derivatives through an array added into in a loop.
#[differentiable(hessian)]
fn loss(w: &[f64], bin: &[usize]) -> f64 {
    let mut h = vec![0.0; 3];
    for i in 0..w.len() {
        h[bin[i]] += w[i] * w[i];
    }
    h[0] * h[1]
}

fn main() {}
