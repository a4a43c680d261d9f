use symgrad::differentiable;

// `lin` differentiates only `w`; its one slice is data.
#[differentiable(wrt(w))]
fn lin(w: f64, a: &[f64]) -> f64 {
    a.iter().map(|&v| (w * v).powi(2)).sum::<f64>()
}

#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    lin(w, x)
}

fn main() {}
