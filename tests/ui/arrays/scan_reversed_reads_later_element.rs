use symgrad::differentiable;

// A reversed loop reading the element a later iteration writes (`z[j - 1]`).
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for j in (1..n).rev() {
        z[j] = z[j - 1] * a + x[j];
    }
    z[n - 1]
}

fn main() {}
