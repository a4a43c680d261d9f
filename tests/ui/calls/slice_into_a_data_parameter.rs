use symgrad::differentiable;

// `weighted` takes `x` as data (`wrt(w)`): the caller cannot differentiate through it.
#[differentiable(wrt(w))]
fn weighted(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable]
fn loss(w: &[f64], x: &[f64]) -> f64 {
    weighted(w, x)
}

fn main() {}
