use symgrad::differentiable;

#[differentiable]
fn residuals(a: f64, b: f64) -> (f64, f64) {
    (a * b - 1.0, a + b)
}

#[differentiable]
fn cost(a: f64, b: f64) -> f64 {
    let (u, ref v) = residuals(a, b);
    u * u + v * v
}

fn main() {}
