use symgrad::differentiable;

fn scale_by(k: f64) -> impl Fn(&f64) -> f64 {
    move |v| k * v
}

// `map` is given a function made by a call: neither a closure nor a function's name.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    x.iter().map(scale_by(2.0)).sum()
}

fn main() {}
