use symgrad::differentiable;

// A hidden-state vector with `hessian`: second derivatives do not go through it yet.
#[differentiable(hessian)]
fn loss(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
        }
    }
    h[0]
}

fn main() {}
