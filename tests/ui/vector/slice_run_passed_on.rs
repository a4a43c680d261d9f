use symgrad::differentiable;

#[differentiable]
fn sq_norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

#[differentiable]
fn halves(x: &[f64]) -> [f64; 2] {
    let n = x.len() / 2;
    [sq_norm(&x[..n]), sq_norm(&x[n..])]
}

fn main() {}
