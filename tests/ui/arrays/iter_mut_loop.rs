use symgrad::differentiable;

// Elements written through the references `iter_mut` lends.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    for v in z.iter_mut() {
        *v *= w * x[0];
    }
    z[0] + z[1]
}

fn main() {}
