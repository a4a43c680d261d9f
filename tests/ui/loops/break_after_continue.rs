use symgrad::differentiable;

// A `break` after an `if … { continue; }` is tested only in the iterations the `continue` does
// not skip: where the loop ends is not decided by its condition alone.
#[differentiable]
fn loss(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] > 0.0 {
            s += x[i];
            continue;
        }
        if y[i] < 1.0 {
            break;
        }
    }
    s
}

fn main() {}
