use symgrad::differentiable;

// `k` steps only in the iterations that do not `continue`: not once per iteration, so it is not
// a counter the macro can compute from the index.
#[differentiable]
fn loss(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for i in 0..y.len() {
        if y[i] < 0.0 {
            continue;
        }
        s += x[k] * y[i];
        k += 1;
    }
    s
}

fn main() {}
