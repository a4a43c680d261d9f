use symgrad::differentiable;

#[differentiable]
fn corners(w: f64, b: f64) -> ((f64, f64), f64) {
    ((w, b), w * b)
}

fn main() {}
