use symgrad::differentiable;

#[differentiable(wrt(w, bias))]
fn loss(w: f64, b: f64, x: f64) -> f64 {
    w * x + b
}

fn main() {}
