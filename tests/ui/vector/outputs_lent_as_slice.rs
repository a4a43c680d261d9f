use symgrad::differentiable;

#[differentiable]
fn rotate(a: &[f64], p: &[f64]) -> [f64; 3] {
    [a[0] * p[0] + p[1], a[1] * p[1] * p[2], (a[2] * p[2]).sin()]
}

#[differentiable]
fn project(c: &[f64], q: &[f64]) -> [f64; 2] {
    [q[0] / q[2] * c[0], q[1] / q[2] * c[1]]
}

// The rotated point goes on to the projection: the outputs, lent as a slice.
#[differentiable]
fn error(cam: &[f64], x: &[f64]) -> f64 {
    let r = rotate(&cam[..3], x);
    let e = project(&cam[3..], &r);
    e[0] * e[0] + e[1] * e[1]
}

fn main() {}
