use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    let mut acc = 0.0;
    for k in 0..3 {
        acc += x * k as f64;
    }
    acc
}

fn main() {}
