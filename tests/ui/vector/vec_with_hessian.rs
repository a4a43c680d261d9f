use symgrad::differentiable;

#[differentiable(hessian)]
fn residuals(w: f64, y: &[f64]) -> Vec<f64> {
    y.iter().map(|yi| w - yi).collect()
}

fn main() {}
