use symgrad::differentiable;

// A `Vec`-valued function with an error in its body (`%` on floats): its callers, which read
// its outputs, get no error of their own.
#[differentiable(wrt(p))]
fn residuals(p: &[f64], x: &[f64]) -> Vec<f64> {
    x.iter().map(|xi| p[0] * xi % 2.0).collect()
}

#[differentiable(wrt(a))]
fn scaled(a: f64, x: &[f64]) -> Vec<f64> {
    x.iter().map(|xi| a * xi % 2.0).collect()
}

#[differentiable(wrt(p))]
fn first_two(p: &[f64], x: &[f64]) -> f64 {
    let r = residuals(p, x);
    r[0] * r[1]
}

#[differentiable(wrt(a))]
fn first_of_scaled(a: f64, x: &[f64]) -> f64 {
    scaled(a, x)[0].powi(2)
}

fn main() {}
