use symgrad::differentiable;

#[differentiable]
fn loss<T: Into<f64>>(x: f64, scale: T) -> f64 {
    x * x
}

fn main() {}
