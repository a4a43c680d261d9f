use symgrad::differentiable;

// The state carried across the iterations grows by one element each time.
#[differentiable]
fn loss(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.0; n];
    for t in 0..x.len() {
        let mut next = vec![0.0; h.len() + 1];
        for j in 0..h.len() {
            next[j] = (w * h[j] + x[t]).tanh();
        }
        h = next;
    }
    h[0]
}

fn main() {}
