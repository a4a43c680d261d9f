use symgrad::differentiable;

// A hidden-state vector in a vector-valued function: its Jacobian does not go through it yet.
#[differentiable]
fn outputs(w: f64, x: &[f64]) -> [f64; 2] {
    let mut h = vec![0.0; 2];
    for t in 0..x.len() {
        for j in 0..2 {
            h[j] = (w * h[j] + x[t]).tanh();
        }
    }
    [h[0], h[1]]
}

fn main() {}
