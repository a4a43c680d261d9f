use symgrad::differentiable;

#[differentiable(hessian)]
fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

// `hessian` on a vector-valued function passing on a local array chosen by a condition: its
// second derivatives through that call are not built yet. (`[x[0] - 1.0, x[1], x[2]]` goes
// through.)
#[differentiable(hessian)]
fn chosen_cross(r: &[f64], x: &[f64]) -> [f64; 3] {
    let xo = if r[0] > 0.0 {
        [x[0], x[1], x[2]]
    } else {
        [x[2], x[1], x[0]]
    };
    cross(r, &xo)
}

fn main() {}
