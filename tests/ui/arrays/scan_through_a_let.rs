use symgrad::differentiable;

// A scan reading the element one step back through a `let` (`let j = i - 1;`): a scan is found
// where its index is written `i - 1` in place.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 1..n {
        let j = i - 1;
        z[i] = z[j] * x[i];
    }
    z[n - 1]
}

fn main() {}
