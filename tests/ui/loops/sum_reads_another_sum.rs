use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut a = 0.0;
    let mut b = 0.0;
    for i in 0..x.len() {
        a += x[i];
        b += a * x[i];
    }
    b
}

fn main() {}
