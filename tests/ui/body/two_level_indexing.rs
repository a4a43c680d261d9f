use symgrad::differentiable;

// A slice of pairs read at a loop index: two-level indexing, not the loop index, is the problem.
#[differentiable(wrt(w))]
fn loss(w: f64, inputs: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for k in 0..inputs.len() {
        s += (w * inputs[k][0] - inputs[k][1]).powi(2);
    }
    s
}

fn main() {}
