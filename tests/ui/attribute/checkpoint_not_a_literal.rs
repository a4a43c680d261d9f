use symgrad::differentiable;

const EVERY: usize = 16;

// The stretch length is read by the macro, at compile time: a literal.
#[differentiable(checkpoint = EVERY)]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

fn main() {}
