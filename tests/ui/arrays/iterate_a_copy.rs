use symgrad::differentiable;

// Iterating over a copy made in the expression.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut h = vec![0.0; x.len()];
    for i in 0..x.len() {
        h[i] = (w * x[i]).tanh();
    }
    let mut s = 0.0;
    for (j, &v) in h.clone().iter().enumerate() {
        s += v * (j as f64);
    }
    s
}

fn main() {}
