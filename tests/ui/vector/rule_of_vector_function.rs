use symgrad::differentiable;

fn residuals_rule(a: f64) -> ([f64; 2], [[f64; 1]; 2]) {
    ([a, a * a], [[1.0], [2.0 * a]])
}

#[differentiable(rule = residuals_rule)]
fn residuals(a: f64) -> [f64; 2] {
    [a, a * a]
}

fn main() {}
