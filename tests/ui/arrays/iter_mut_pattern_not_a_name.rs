use symgrad::differentiable;

// An element lent by `iter_mut` bound by a reference pattern (a copy, not the element).
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    for (i, &mut v) in z.iter_mut().enumerate() {
        let _ = v * w * x[i];
    }
    z[0] + z[1]
}

fn main() {}
