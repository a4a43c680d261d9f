use symgrad::differentiable;

#[differentiable]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
}

#[differentiable(wrt(w))]
fn scores(w: &[f64], x: &[f64], b: f64) -> [f64; 2] {
    [dot(w, x) + b, dot(w, x) - b]
}

fn main() {}
