use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    let y = unsafe { x * 2.0 };
    y * y
}

fn main() {}
