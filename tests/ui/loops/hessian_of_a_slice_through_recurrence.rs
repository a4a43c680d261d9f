use symgrad::differentiable;

#[differentiable(hessian)]
fn loss(x: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(x[i]);
    }
    m * m
}

fn main() {}
