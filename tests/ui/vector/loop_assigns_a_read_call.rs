use symgrad::differentiable;

#[differentiable]
fn residual(a: f64, b: f64) -> [f64; 2] {
    [a - 1.0, b - a * a]
}

#[differentiable]
fn cost(a: f64, b: f64, n: usize) -> f64 {
    let mut r = residual(a, b);
    let mut s = 0.0;
    for _ in 0..n {
        s += r[0] * r[1];
        r = residual(b, a);
    }
    s
}

fn main() {}
