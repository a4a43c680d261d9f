use symgrad::differentiable;

#[differentiable]
fn rotate(a: f64, x: f64, y: f64) -> [f64; 2] {
    [a.cos() * x - a.sin() * y, a.sin() * x + a.cos() * y]
}

#[differentiable]
fn energy(q: [f64; 2]) -> f64 {
    q[0] * q[0] + 4.0 * q[1] * q[1]
}

// The outputs of `rotate` handed on whole: reported at the call, with how to read them.
#[differentiable]
fn loss(a: f64) -> f64 {
    let p = rotate(a, 1.0, 2.0);
    energy(p)
}

fn main() {}
