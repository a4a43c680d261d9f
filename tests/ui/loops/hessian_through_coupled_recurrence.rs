use symgrad::differentiable;

// Symplectic Euler: `x` and `v` update each other; its `hessian` would need the tangent of the
// coupled recurrence.
#[differentiable(hessian)]
fn loss(k: f64, x0: f64, v0: f64, dt: f64, target: &[f64]) -> f64 {
    let mut x = x0;
    let mut v = v0;
    let mut loss = 0.0;
    for i in 0..target.len() {
        v -= k * x * dt;
        x += v * dt;
        loss += (x - target[i]).powi(2);
    }
    loss
}

fn main() {}
