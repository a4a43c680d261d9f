use symgrad::differentiable;

#[differentiable]
fn loss(x: f64, y: f32) -> f64 {
    x * x
}

fn main() {}
