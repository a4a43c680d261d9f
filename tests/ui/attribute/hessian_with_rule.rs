use symgrad::differentiable;

fn rule(x: f64) -> (f64, [f64; 1]) {
    (x, [1.0])
}

#[differentiable(rule = rule, hessian)]
fn loss(x: f64) -> f64 {
    x
}

fn main() {}
