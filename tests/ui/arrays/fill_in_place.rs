use symgrad::differentiable;

// A local array changed in place by a method.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; 3];
    z.fill(w * x[0]);
    z[0] + z[1]
}

fn main() {}
