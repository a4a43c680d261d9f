use symgrad::differentiable;

#[differentiable(wrt())]
fn loss(w: f64, x: f64) -> f64 {
    w * x
}

fn main() {}
