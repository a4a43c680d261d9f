use symgrad::differentiable;

const W: [f64; 3] = [0.5, -1.0, 2.0];

// A `const` array defined outside the function, read at the loop's index.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += W[i] * x[i];
    }
    s
}

fn main() {}
