use symgrad::differentiable;

// A vector pushed to only where a condition holds: its length is not known before the loop.
#[differentiable]
fn loss(w: &[f64]) -> f64 {
    let mut kept = Vec::new();
    for i in 0..w.len() {
        if w[i] > 0.0 {
            kept.push(w[i]);
        }
    }
    kept[0]
}

fn main() {}
