use symgrad::differentiable;

// A local array changed in place by a method.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![w, x[0], 1.0];
    z.reverse();
    z[0] + z[1]
}

fn main() {}
