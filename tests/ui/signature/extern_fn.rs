use symgrad::differentiable;

#[differentiable]
extern "C" fn loss(x: f64) -> f64 {
    x * x
}

fn main() {}
