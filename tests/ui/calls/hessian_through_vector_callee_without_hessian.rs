use symgrad::differentiable;

#[differentiable]
fn residual(p: &[f64], t: f64) -> [f64; 2] {
    [p[0] * t - 1.0, p[1] * t.exp()]
}

#[differentiable(hessian)]
fn loss(p: &[f64], t: f64) -> f64 {
    let r = residual(p, t);
    r[0] * r[0] + r[1] * r[1]
}

fn main() {}
