use symgrad::differentiable;

// Every iteration of the outer loop overwrites the whole array, reading only its length.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let mut z = vec![0.0; w.len()];
    for i in 0..xs.len() {
        for c in 0..z.len() {
            z[c] = w[c] * xs[i];
        }
    }
    z[0] * z[1]
}

fn main() {}
