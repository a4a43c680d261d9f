use symgrad::differentiable;

// A hidden-state vector carried across the iterations of a loop (an RNN over vectors).
#[differentiable]
fn loss(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.0; n];
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * h[j] + x[t]).tanh();
        }
        h = next;
    }
    h[0]
}

fn main() {}
