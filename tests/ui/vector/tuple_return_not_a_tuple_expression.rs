use symgrad::differentiable;

#[differentiable]
fn polar(r: f64, t: f64) -> (f64, f64) {
    let p = (r * t.cos(), r * t.sin());
    p
}

fn main() {}
