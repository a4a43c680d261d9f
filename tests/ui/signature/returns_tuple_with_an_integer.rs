use symgrad::differentiable;

#[differentiable]
fn fit(w: f64, b: f64) -> (f64, usize) {
    (w * w + b, 3)
}

fn main() {}
