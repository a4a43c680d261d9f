use symgrad::differentiable;

#[differentiable]
fn loss(w: f64, xs: &[f64]) -> f64 {
    w * xs[0]
}

fn main() {}
