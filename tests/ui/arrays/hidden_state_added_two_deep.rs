use symgrad::differentiable;

// A state array updated in place and added into from a loop nested two deep.
#[differentiable]
fn loss(m: &[f64], x: &[f64]) -> f64 {
    let n = 2;
    let mut h = vec![0.1; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (h[j] * m[j]).tanh();
        }
        for j in 0..n {
            for k in 0..n {
                h[j] += m[j * n + k] * x[t];
            }
        }
    }
    h[0] * h[n - 1]
}

fn main() {}
