use symgrad::differentiable;

// A table filled row by row, another loop in the outer body adding into it.
#[differentiable]
fn loss(w: &[f64], xs: &[f64]) -> f64 {
    let m = w.len();
    let mut z = vec![0.0; m];
    for i in 0..xs.len() {
        for j in 0..m {
            z[j] = w[j] * xs[i];
        }
        for j in 0..m {
            z[j] += xs[i];
        }
    }
    z[0] * z[1]
}

fn main() {}
