use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    let y = x * x;
}

fn main() {}
