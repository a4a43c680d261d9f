use symgrad::differentiable;

const N: usize = 3;

#[differentiable]
fn constant(a: f64) -> [f64; N] {
    [a; N]
}

fn main() {}
