use symgrad::differentiable;

// An addition reading the carried state `h` at an index other than the element loop's own.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let n = 3;
    let mut h = vec![0.1; n];
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[n - 1 - j] += h[j] * x[t];
        }
    }
    acc[0]
}

fn main() {}
