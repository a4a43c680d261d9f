use symgrad::differentiable;

// A scan written in a `while` loop its counter decides: only a `for` loop over a range writes an
// array element by element (and runs a scan).
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut i = 1;
    while i < n {
        z[i] = z[i - 1] * x[i];
        i += 1;
    }
    z[n - 1]
}

fn main() {}
