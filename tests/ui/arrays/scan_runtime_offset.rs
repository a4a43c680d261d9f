use symgrad::differentiable;

// A recurrence at a run-time offset (`z[i - k]`).
#[differentiable]
fn loss(a: f64, x: &[f64], k: usize) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in k..n {
        z[i] = z[i - k] * a + x[i];
    }
    z[n - 1]
}

fn main() {}
