use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    x * 2.0;
    x * x
}

fn main() {}
