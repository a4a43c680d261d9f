use symgrad::differentiable;

// `hessian` through a scan whose element is a recurrence of a loop nested in the scan's.
#[differentiable(hessian)]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.4; n];
    for i in 1..n {
        let mut p = z[i - 1];
        for j in 0..n {
            p = p * a + x[j];
        }
        z[i] = p;
    }
    z[n - 1]
}

fn main() {}
