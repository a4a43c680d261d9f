use symgrad::differentiable;

// A recurrence two elements back (`z[i - 2]`): a scan reads the element one step back only.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 2..n {
        z[i] = z[i - 1] * a + z[i - 2] * x[i];
    }
    z[n - 1]
}

fn main() {}
