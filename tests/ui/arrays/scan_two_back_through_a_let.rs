use symgrad::differentiable;

// A scan reading two elements back through a `let` of the index: the help writes `z[i - 2]`.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for i in 2..n {
        let j = i - 2;
        z[i] = z[i - 1] * a + z[j] * x[i];
    }
    z[n - 1]
}

fn main() {}
