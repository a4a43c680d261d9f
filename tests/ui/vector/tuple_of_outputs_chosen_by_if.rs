use symgrad::differentiable;

#[differentiable]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

// The outputs of one of two tuples, chosen by a condition, bound by one pattern.
#[differentiable]
fn loss(r: f64, t: f64, c: f64) -> f64 {
    let (u, v) = if c > 0.0 { polar(r, t) } else { (r, t) };
    u * v
}

fn main() {}
