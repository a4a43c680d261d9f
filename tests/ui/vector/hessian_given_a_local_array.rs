use symgrad::differentiable;

#[differentiable]
fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

// `hessian` on a vector-valued function passing a local array on: its second derivatives
// through that call are not built yet.
#[differentiable(hessian)]
fn offset_cross(r: &[f64], x: &[f64]) -> [f64; 3] {
    let xo = [x[0] - 1.0, x[1], x[2]];
    cross(r, &xo)
}

fn main() {}
