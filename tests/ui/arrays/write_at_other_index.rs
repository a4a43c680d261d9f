use symgrad::differentiable;

// A loop writing an element that is not its own index.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for c in 0..n {
        z[n - 1 - c] = w[c] * x;
    }
    z[0]
}

fn main() {}
