use symgrad::differentiable;

// A scan whose previous element and a float the loop carries update each other.
#[differentiable]
fn loss(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut p = 1.0;
    for i in 1..n {
        p = p * a + z[i - 1];
        z[i] = z[i - 1] * x[i] + p;
    }
    z[n - 1] + p
}

fn main() {}
