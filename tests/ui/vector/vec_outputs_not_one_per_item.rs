use symgrad::differentiable;

#[differentiable]
fn pair(a: f64, b: f64) -> Vec<f64> {
    let r = vec![a * b, a + b];
    r
}

fn main() {}
