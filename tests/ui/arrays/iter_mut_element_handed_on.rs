use symgrad::differentiable;

// An element lent by `iter_mut` bound to another name: only `*v` is read as the element.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; 3];
    for v in z.iter_mut() {
        let e = v;
        *e *= w * x[0];
    }
    z[0] + z[1]
}

fn main() {}
