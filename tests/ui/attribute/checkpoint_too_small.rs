use symgrad::differentiable;

// A checkpoint every iteration is the full trace: the macro asks for K ≥ 2.
#[differentiable(checkpoint = 1)]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

fn main() {}
