use symgrad::differentiable;

// Two scans reading each other's previous elements.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut y = vec![0.5; n];
    for i in 1..n {
        z[i] = y[i - 1] * a + x[i];
        y[i] = z[i - 1] * x[i];
    }
    z[n - 1] + y[n - 1]
}

fn main() {}
