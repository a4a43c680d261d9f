use symgrad::differentiable;

#[differentiable]
fn residual(p: &[f64; 2], t: f64) -> [f64; 2] {
    [p[0] * t - 1.0, p[1] * t]
}

#[differentiable]
fn cost(p: &[f64; 2], t: f64) -> f64 {
    let [u, v] = residual(p, t);
    u * u + v * v
}

fn main() {}
