use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    (f64::sin)(x)
}

fn main() {}
