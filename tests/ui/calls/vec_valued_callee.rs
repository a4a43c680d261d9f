use symgrad::differentiable;

#[differentiable]
fn residuals(p: &[f64], x: &[f64]) -> Vec<f64> {
    x.iter().map(|xi| p[0] * xi - 1.0).collect()
}

// A `Vec`-valued function called from another differentiable function: not chained through yet.
#[differentiable(wrt(p))]
fn loss(p: &[f64], x: &[f64]) -> f64 {
    residuals(p, x)[0].powi(2)
}

fn main() {}
