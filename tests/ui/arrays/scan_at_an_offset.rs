use symgrad::differentiable;

// A scan written one element ahead of the loop's index (`z[i + 1] = z[i] * x[i]`): a scan
// writes at the loop's own index.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 0..n - 1 {
        z[i + 1] = z[i] * x[i];
    }
    z[n - 1]
}

fn main() {}
