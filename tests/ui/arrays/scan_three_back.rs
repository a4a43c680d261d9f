use symgrad::differentiable;

// A recurrence three elements back (`z[i - 3]`): a scan reads the elements one and two steps
// back only.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 3..n {
        z[i] = z[i - 1] * a + z[i - 3] * x[i];
    }
    z[n - 1]
}

fn main() {}
