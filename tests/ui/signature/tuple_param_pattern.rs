use symgrad::differentiable;

#[differentiable]
fn loss((x, y): (f64, f64)) -> f64 {
    x * y
}

fn main() {}
