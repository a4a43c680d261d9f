use symgrad::differentiable;

// An empty vector, to be pushed to.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut z = vec![];
    z[0] = w[0] * x;
    z[0]
}

fn main() {}
