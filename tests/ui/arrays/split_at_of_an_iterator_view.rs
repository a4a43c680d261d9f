use symgrad::differentiable;

// `split_at` of what an iterator views (`Iter::as_slice`), not of a slice, a local array or a
// run of one.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let (a, b) = x.iter().as_slice().split_at(1);
    a[0] * b[0]
}

fn main() {}
