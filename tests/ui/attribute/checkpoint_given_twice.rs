use symgrad::differentiable;

// One stretch length per function.
#[differentiable(checkpoint = 2, checkpoint = 3)]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

fn main() {}
