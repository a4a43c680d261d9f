use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    s
}

fn main() {}
