use symgrad::differentiable;

// A `break` in a nested loop whose condition reads a float the outer loop changes.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut t = 0.0;
    let mut s = 0.0;
    for j in 0..2 {
        for k in 0..x.len() {
            if t * (k as f64) > 1.0 {
                break;
            }
            s += (j as f64 + 1.0) * x[k] * x[k];
        }
        t += x[j];
    }
    s
}

fn main() {}
