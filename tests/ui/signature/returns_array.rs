use symgrad::differentiable;

#[differentiable]
fn residuals(w: f64) -> [f64; 2] {
    [w - 1.0, 2.0 * w - 3.0]
}

fn main() {}
