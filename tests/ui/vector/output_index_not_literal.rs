use symgrad::differentiable;

#[differentiable]
fn residual(a: f64, b: f64) -> [f64; 2] {
    [a - 1.0, b - a * a]
}

#[differentiable]
fn cost(a: f64, b: f64) -> f64 {
    let r = residual(a, b);
    let mut s = 0.0;
    for k in 0..2 {
        s += r[k] * r[k];
    }
    s
}

fn main() {}
