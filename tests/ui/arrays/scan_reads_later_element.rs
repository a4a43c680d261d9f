use symgrad::differentiable;

// A forward loop reading the element the next iteration writes (`z[i + 1]`), not the one the
// previous iteration wrote.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n + 1];
    for i in 0..n {
        z[i] = z[i + 1] * a + x[i];
    }
    z[0]
}

fn main() {}
