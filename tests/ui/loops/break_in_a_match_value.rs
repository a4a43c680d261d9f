use symgrad::differentiable;

// A `break` as an arm of a `match` whose value a `let` binds: a loop may end by a `match`
// that is a statement of its body (`match i { 3 => break, _ => {} }`), not by a value.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        let v = match i {
            3 => break,
            _ => x[i] * w,
        };
        acc += v * v;
    }
    acc
}

fn main() {}
