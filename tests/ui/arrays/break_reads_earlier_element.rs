use symgrad::differentiable;

// A `break` on an element an earlier iteration wrote (a running total that stops past a
// limit): the condition would be tested on the array as it was before the loop.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = x.to_vec();
    for i in 1..n {
        if z[i - 1] > 1.0 {
            break;
        }
        z[i] = z[i - 1] + x[i];
    }
    z[n - 1]
}

fn main() {}
