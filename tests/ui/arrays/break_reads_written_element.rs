use symgrad::differentiable;

// A loop that breaks on the element it has just written.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for c in 0..n {
        z[c] = w[c] * x;
        if z[c] > 1.0 {
            break;
        }
    }
    z[0] + z[n - 1]
}

fn main() {}
