use symgrad::differentiable;

// One real error (the `while` loop); the uses of `loss_grad` and `LossGrad` below compile
// against the stub, so no "cannot find function" errors follow.
#[differentiable]
fn loss(w: f64, x: f64) -> f64 {
    let mut y = w * x;
    while y > 1.0 {
        y = y / 2.0;
    }
    y
}

fn main() {
    let (_value, grad): (f64, LossGrad) = loss_grad(1.0, 2.0);
    let _w: f64 = grad.w;
}
