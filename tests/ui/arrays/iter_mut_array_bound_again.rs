use symgrad::differentiable;

// The array whose elements the loop lends is declared again in the loop's body.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    for v in z.iter_mut() {
        let z = w * x[0];
        *v *= z;
    }
    z[0] + z[1]
}

fn main() {}
