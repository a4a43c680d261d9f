use symgrad::differentiable;

#[differentiable]
fn loss(n: usize, flag: bool) -> f64 {
    n as f64
}

fn main() {}
