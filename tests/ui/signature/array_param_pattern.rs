use symgrad::differentiable;

#[differentiable]
fn loss([a, b]: [f64; 2]) -> f64 {
    a * b
}

fn main() {}
