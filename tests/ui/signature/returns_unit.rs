use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) {
    let _ = x * x;
}

fn main() {}
