use symgrad::differentiable;

#[differentiable]
fn pair(w: f64, b: f32) -> (f64, f32) {
    (w, b)
}

fn main() {}
