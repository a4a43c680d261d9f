use symgrad::differentiable;

// Elements lent by `iter_mut`, skipped, then counted: the count is not their index.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    for (i, v) in z.iter_mut().skip(1).enumerate() {
        *v *= w * x[i];
    }
    z[0] + z[1]
}

fn main() {}
