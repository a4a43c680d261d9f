use symgrad::differentiable;

#[differentiable(hesian)]
fn loss(x: f64) -> f64 {
    x * x
}

fn main() {}
