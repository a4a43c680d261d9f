use symgrad::differentiable;

// A scan built in the body of a loop that updates a recurrence (a running `max` over rows):
// the error points at the scan's loop, not at the attribute.
#[differentiable]
fn loss(x: &[f64], d: usize) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        let mut z = vec![0.0; d];
        for j in 1..d {
            z[j] = z[j - 1] * 0.5 + x[i];
        }
        m = m.max(z[d - 1]);
    }
    m
}

fn main() {}
