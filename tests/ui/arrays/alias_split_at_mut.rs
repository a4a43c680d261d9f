use symgrad::differentiable;

// Two parts of a local array lent mutably and written through their own names.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; 3];
    let (a, b) = z.split_at_mut(1);
    a[0] = w;
    b[0] = w * x[0];
    z[0] + z[1]
}

fn main() {}
