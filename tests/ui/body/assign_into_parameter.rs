use symgrad::differentiable;

#[differentiable(wrt(x))]
fn loss(x: f64, mut p: [f64; 2]) -> f64 {
    p[0] = x;
    x * p[1]
}

fn main() {}
