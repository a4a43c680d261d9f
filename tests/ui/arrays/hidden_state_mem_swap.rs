use symgrad::differentiable;

// A state array and the next one swapped through `&mut` instead of assigned.
#[differentiable]
fn loss(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![0.1; n];
    let mut next = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            next[j] = (w[j] * h[j] + x[t]).tanh();
        }
        std::mem::swap(&mut h, &mut next);
    }
    h[0]
}

fn main() {}
