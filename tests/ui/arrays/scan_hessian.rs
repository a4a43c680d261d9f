use symgrad::differentiable;

// `hessian` through a scan.
#[differentiable(hessian)]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 1..n {
        z[i] = z[i - 1] * a + x[i];
    }
    z[n - 1]
}

fn main() {}
