use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

fn main() {}
