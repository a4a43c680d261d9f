use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut count = 0;
    for i in 0..x.len() {
        s += x[i];
        count += 1;
    }
    s / count as f64
}

fn main() {}
