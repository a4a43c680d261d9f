use symgrad::differentiable;

#[differentiable(hessian)]
fn total(a: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * a[i];
    }
    s
}

// A local array computed from `w`, passed whole: its tangent is an array the Hessian would have
// to reach through the call.
#[differentiable(hessian)]
fn loss(w: f64, b: f64) -> f64 {
    let z = [w * b, w + b];
    total(&z)
}

fn main() {}
