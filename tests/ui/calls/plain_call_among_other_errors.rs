use symgrad::differentiable;

fn huber(r: f64) -> f64 {
    if r.abs() < 1.0 { 0.5 * r * r } else { r.abs() - 0.5 }
}

// A plain call, an unknown method and a `while` loop: three errors, each at its place.
#[differentiable]
fn loss(x: f64, y: f64) -> f64 {
    let r = huber(x - y);
    let s = x.rem_euclid(2.0);
    let mut c = x;
    while c > 1.0 {
        c = c / 2.0;
    }
    r + s + c
}

fn main() {}
