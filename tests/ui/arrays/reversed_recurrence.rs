use symgrad::differentiable;

// A backward recurrence through an array's elements (`z[j]` from `z[j + 1]`).
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    z[n - 1] = x[n - 1];
    for j in (0..n - 1).rev() {
        z[j] = z[j + 1] * a + x[j];
    }
    z[0]
}

fn main() {}
