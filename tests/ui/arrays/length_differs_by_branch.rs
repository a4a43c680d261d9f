use symgrad::differentiable;

// A vector one element longer where a condition holds: its length after the `if` is not one.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut z = vec![w[0], w[1]];
    if x > 0.0 {
        z.push(x);
    }
    z[0] * z[1]
}

fn main() {}
