use symgrad::differentiable;

// Another name for a slice (here shadowing the other parameter) is rejected: the generated code
// reads slices by their parameters' names.
#[differentiable]
fn loss(x: &[f64], y: &[f64]) -> f64 {
    let x = y;
    x.iter().map(|&v| v * v).sum::<f64>()
}

#[differentiable(wrt(w))]
fn fit(w: f64, xs: &[f64]) -> f64 {
    let data = &xs;
    let mut s = 0.0;
    for i in 0..data.len() {
        s += (w * data[i]).powi(2);
    }
    s
}

fn main() {}
