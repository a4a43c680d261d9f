use symgrad::differentiable;

// A counter that steps under a condition: how far it got depends on the data in each iteration.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut count = 0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += x[i];
            count += 1;
        }
    }
    s / count as f64
}

fn main() {}
