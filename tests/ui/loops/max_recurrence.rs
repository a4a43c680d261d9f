use symgrad::differentiable;

#[differentiable]
fn loss(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    m
}

fn main() {}
