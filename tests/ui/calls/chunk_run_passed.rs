use symgrad::differentiable;

#[differentiable]
fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>()
}

// A row from `chunks` passed to a function: the help writes the index form, which works.
#[differentiable(wrt(w))]
fn loss(x: &[f64], w: &[f64]) -> f64 {
    x.chunks(w.len()).map(|row| dot(row, w).powi(2)).sum::<f64>()
}

fn main() {}
