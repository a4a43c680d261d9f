use symgrad::differentiable;

#[differentiable]
fn soft(r: f64) -> f64 {
    (1.0 + r * r).ln()
}

#[differentiable(hessian)]
fn loss(w: f64, y: f64) -> f64 {
    soft(w - y) * w
}

fn main() {}
