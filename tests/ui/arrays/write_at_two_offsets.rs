use symgrad::differentiable;

// One loop writing two blocks of an array, at `i` and at `n + i`.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; 2 * n];
    for i in 0..n {
        z[i] = w[i] * x;
        z[n + i] = w[i] * w[i];
    }
    z[0] + z[2 * n - 1]
}

fn main() {}
