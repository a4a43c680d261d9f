use symgrad::differentiable;

#[differentiable]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

#[differentiable]
fn scaled(r: f64, t: f64) -> (f64, f64) {
    polar(2.0 * r, t)
}

fn main() {}
