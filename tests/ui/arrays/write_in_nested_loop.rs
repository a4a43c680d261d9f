use symgrad::differentiable;

// Every iteration of the outer loop overwrites the whole array.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    for i in 0..xs.len() {
        for c in 0..k {
            z[c] = w[c] * xs[i];
        }
    }
    z[0] * z[1]
}

fn main() {}
