use symgrad::differentiable;

// A scan whose update reads a float the loop carries (write the float as a scan of its own).
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut p = 1.0;
    for i in 1..n {
        p = p * a + x[i];
        z[i] = z[i - 1] * x[i] + p;
    }
    z[n - 1]
}

fn main() {}
