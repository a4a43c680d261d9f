use symgrad::differentiable;

// Elements reading a float the loop updates together with an array it carries across the
// iterations (a hidden-state vector): floats updated together are taken, not beside an array.
#[differentiable]
fn loss(x: &[f64], m: usize) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; m];
    let mut z = vec![0.0; n];
    let mut s = 0.0;
    for t in 0..n {
        let mut next = vec![0.0; m];
        for j in 0..m {
            next[j] = (h[j] * 0.5 + x[t] + s).tanh();
        }
        h = next;
        s = s * 0.9 + h[0];
        z[t] = s;
    }
    z.iter().sum()
}

fn main() {}
