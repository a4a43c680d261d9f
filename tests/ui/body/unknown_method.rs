use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    x.rem_euclid(2.0) + x.sqrt()
}

fn main() {}
