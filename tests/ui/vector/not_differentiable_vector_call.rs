use symgrad::differentiable;

fn project(a: f64, b: f64) -> [f64; 2] {
    [a / b, b / a]
}

#[differentiable]
fn cost(a: f64, b: f64) -> f64 {
    let [u, v] = project(a, b);
    u * u + v * v
}

fn main() {}
