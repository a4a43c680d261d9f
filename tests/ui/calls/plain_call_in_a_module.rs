use symgrad::differentiable;

mod losses {
    pub fn huber(r: f64) -> f64 {
        if r.abs() < 1.0 { 0.5 * r * r } else { r.abs() - 0.5 }
    }
}

// Reached by a path, called twice: one error, at the first call.
#[differentiable]
fn loss(x: f64, y: f64) -> f64 {
    losses::huber(x - y) + losses::huber(2.0 * x)
}

// On data only, or through `stop_gradient`, no derivative is needed: any function may be called.
#[differentiable]
fn weighted(x: f64, n: usize) -> f64 {
    losses::huber(n as f64) * x + symgrad::stop_gradient(losses::huber(x))
}

fn main() {
    let _ = weighted_grad(1.0, 2);
}
