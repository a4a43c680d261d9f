use symgrad::differentiable;

// A buffer per iteration of a loop whose carried value is a product.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let k = w.len();
    let mut p = 1.0;
    for i in 0..xs.len() {
        let mut z = vec![0.0; k];
        for c in 0..k {
            z[c] = w[c] * xs[i];
        }
        p *= z[0] + z[k - 1];
    }
    p
}

fn main() {}
