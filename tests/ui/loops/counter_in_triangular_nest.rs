use symgrad::differentiable;

// A counter stepped in an inner loop whose length changes with the outer loop: how far it has
// gone is a sum over the outer iterations, not a step times the index.
#[differentiable]
fn loss(w: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for i in 0..n {
        for j in 0..i {
            s += w[k] * (j as f64);
            k += 1;
        }
    }
    s
}

fn main() {}
