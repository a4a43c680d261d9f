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

// The same for slices and arrays: their stub fields have the gradients' types.
#[differentiable]
fn over_data(x: &[f64], a: [f64; 2]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        s += x[i] * a[0];
        i += 1;
    }
    s
}

fn uses_over_data() {
    let (_value, grad) = over_data_grad(&[1.0], [1.0, 2.0]);
    let _x: Vec<f64> = grad.x;
    let _a: [f64; 2] = grad.a;
}
