use symgrad::differentiable;

// A state array whose name a `let` in the loop's body declares again.
#[differentiable]
fn loss(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![0.3; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w[j] * h[j] + x[t]).tanh();
        }
        for j in 0..n {
            let h = h[j] * 2.0;
            loss += h * h;
        }
    }
    loss
}

fn main() {}
