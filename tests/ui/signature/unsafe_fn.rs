use symgrad::differentiable;

#[differentiable]
unsafe fn loss(x: f64) -> f64 {
    x * x
}

fn main() {}
