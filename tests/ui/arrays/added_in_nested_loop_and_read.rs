use symgrad::differentiable;

// An array a doubly nested loop adds into, read in the loop around it after every step.
#[differentiable]
fn loss(m: &[f64], x: &[f64]) -> f64 {
    let n = 2;
    let mut h = vec![0.0; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..n {
            for k in 0..n {
                h[j] += m[j * n + k] * x[t];
            }
        }
        loss += h[0] * h[n - 1];
    }
    loss
}

fn main() {}
