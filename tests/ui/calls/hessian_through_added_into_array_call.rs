use symgrad::differentiable;

#[differentiable(hessian)]
fn total(a: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * a[i];
    }
    s
}

// A local array added into in a loop nest, passed whole: its tangent would be a second vector
// added into beside it. (An array built from expressions, `[w * b, w + b]`, goes through.)
#[differentiable(hessian)]
fn loss(x: &[f64], w: f64) -> f64 {
    let mut h = vec![0.0; 2];
    for i in 0..x.len() {
        for j in 0..2 {
            h[j] += w * x[i];
        }
    }
    total(&h)
}

fn main() {}
