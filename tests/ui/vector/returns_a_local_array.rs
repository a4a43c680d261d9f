use symgrad::differentiable;

#[differentiable]
fn residuals(a: f64, b: f64) -> [f64; 2] {
    let r = [a * b - 1.0, a + b];
    r
}

fn main() {}
