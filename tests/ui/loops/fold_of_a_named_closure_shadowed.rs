use symgrad::differentiable;

// A closure given by its name to `fold` after a name it reads is bound again: written in
// place, it would read the new `w`, so it stays named, which `fold` does not take.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    let f = |acc: f64, v: &f64| acc * w + v;
    let w = 2.0 * w;
    x.iter().fold(0.0, f) * w
}

fn main() {}
