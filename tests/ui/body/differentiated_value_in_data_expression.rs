use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    x.sin_cos().0
}

fn main() {}
