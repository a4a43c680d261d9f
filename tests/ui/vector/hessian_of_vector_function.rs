use symgrad::differentiable;

#[differentiable(hessian)]
fn residuals(a: f64, b: f64) -> [f64; 2] {
    [a * b - 1.0, a + b]
}

fn main() {}
