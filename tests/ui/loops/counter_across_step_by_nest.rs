use symgrad::differentiable;

// A counter stepped in an inner loop over `step_by`: the help says which nested loops count.
#[differentiable(wrt(w))]
fn loss(w: &[f64], x: &[f64], n: usize, m: usize) -> f64 {
    let mut k = 0;
    let mut s = 0.0;
    for i in 0..n {
        for j in (0..m).step_by(2) {
            s += w[k] * x[i * m + j];
            k += 1;
        }
    }
    s
}

fn main() {}
