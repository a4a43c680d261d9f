use symgrad::differentiable;

// A `break` inside a branch of a branch: the loop may only end by one `if c { …; break; }`
// that is a statement of its body.
#[differentiable]
fn loss(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        if y[i] > 0.0 {
            if y[i] > 1.0 {
                break;
            }
            acc += x[i];
        }
        acc += x[i] * x[i];
    }
    acc
}

fn main() {}
