use symgrad::differentiable;

// The filter reads `v` from around the loop, and the loop names its item `v`: the condition,
// tested in the loop's body, would read the item instead, so the filter is not taken apart.
#[differentiable]
fn loss(x: &[f64], w: f64) -> f64 {
    let v = 2.0 * w;
    let mut s = 0.0;
    for v in x.iter().filter(|q| **q < v) {
        s += v * w;
    }
    s + v
}

fn main() {}
