use symgrad::differentiable;

// `continue` as the value of an `if` inside an expression: only `if c { …; continue; }` as a
// statement of the loop body is supported.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        let v = if x[i] < 0.0 { continue } else { x[i] };
        acc += v * v;
    }
    acc
}

fn main() {}
