use symgrad::differentiable;

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

// A run of a data slice (`x` is not differentiated) passed to a call by its name.
#[differentiable(wrt(w))]
fn loss(x: &[f64], w: &[f64]) -> f64 {
    let (head, _tail) = x.split_at(w.len());
    dot(head, w)
}

fn main() {}
