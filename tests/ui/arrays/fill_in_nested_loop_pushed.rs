use symgrad::differentiable;

// A table filled row by row, the outer body also pushing to it.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let m = w.len();
    let mut z = vec![0.0; m];
    for i in 0..xs.len() {
        for j in 0..m {
            z[j] = w[j] * xs[i];
        }
        z.push(xs[i]);
    }
    z[0] * z[1]
}

fn main() {}
