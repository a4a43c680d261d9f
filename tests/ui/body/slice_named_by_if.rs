use symgrad::differentiable;

#[differentiable]
fn sumsq(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

#[differentiable]
fn loss(x: &[f64], y: &[f64], flag: bool) -> f64 {
    let s = if flag { x } else { y };
    sumsq(s)
}

fn main() {}
