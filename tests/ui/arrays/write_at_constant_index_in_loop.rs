use symgrad::differentiable;

// Two elements of a state array updated at constant indices in a time loop (a cascade of two
// filters): a loop writes an array at its own index, one element an iteration.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; 2];
    let mut loss = 0.0;
    for t in 0..n {
        h[0] = h[0] * w + x[t];
        h[1] = h[1] * w + h[0];
        loss += h[1];
    }
    loss
}

fn main() {}
