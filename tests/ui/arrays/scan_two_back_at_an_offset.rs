use symgrad::differentiable;

// AR(2) written at an offset from the loop's index, as it is often written: the help indexes
// the loop by the element written.
#[differentiable]
fn loss(a: f64, b: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 0..n - 2 {
        z[i + 2] = a * z[i + 1] + b * z[i] + x[i];
    }
    z[n - 1]
}

fn main() {}
