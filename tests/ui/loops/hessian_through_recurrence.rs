use symgrad::differentiable;

#[differentiable(wrt(w), hessian)]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= w * x[i];
    }
    p
}

fn main() {}
