use symgrad::differentiable;

// Elements lent by `iter_mut` to an iterator chain (not a `for` loop's source).
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    let s: f64 = z.iter_mut().map(|v| *v * w).sum();
    s + z[0] * x[0]
}

fn main() {}
