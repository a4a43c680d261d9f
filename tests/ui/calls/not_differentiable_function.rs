use symgrad::differentiable;

fn plain(x: f64) -> f64 {
    x * 3.0
}

#[differentiable]
fn loss(x: f64) -> f64 {
    plain(x) * x
}

fn main() {}
