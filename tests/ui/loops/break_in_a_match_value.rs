use symgrad::differentiable;

// A `break` as an arm of a `match` inside an expression: a loop may end by a `match` that is
// a statement of its body, or one a `let` binds (`let v = match i { 3 => break, _ => … };`),
// not by one inside an addition.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += match i {
            3 => break,
            _ => x[i] * w,
        };
    }
    acc
}

fn main() {}
