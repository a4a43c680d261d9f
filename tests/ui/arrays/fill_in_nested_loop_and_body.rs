use symgrad::differentiable;

// A table filled row by row, the outer body also writing an element of it itself.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let m = w.len();
    let mut z = vec![0.0; xs.len() * m];
    for i in 0..xs.len() {
        z[i] = xs[i];
        for j in 0..m {
            z[i * m + j] = w[j] * xs[i];
        }
    }
    z[0] * z[1]
}

fn main() {}
