use symgrad::differentiable;

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

// `dot` is given the differentiated `w`: the Hessian needs `dot`'s second derivatives.
#[differentiable(hessian)]
fn loss(w: &[f64], x: &[f64]) -> f64 {
    (dot(w, x) - 1.0).powi(2)
}

fn main() {}
