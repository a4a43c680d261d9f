use symgrad::differentiable;

#[differentiable]
fn product(m: [f64; 2]) -> f64 {
    m[0] * m[1]
}

// The array goes by value: the generated call lends arrays, so the parameter takes `&[f64; 2]`.
#[differentiable]
fn doubled_product(a: f64, b: f64) -> f64 {
    product([a * 2.0, b])
}

fn main() {}
