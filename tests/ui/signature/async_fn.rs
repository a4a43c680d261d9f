use symgrad::differentiable;

#[differentiable]
async fn loss(x: f64) -> f64 {
    x * x
}

fn main() {}
