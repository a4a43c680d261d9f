use symgrad::differentiable;

#[differentiable]
fn loss(x: f64, out: &mut f64) -> f64 {
    x * x
}

fn main() {}
