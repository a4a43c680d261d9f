use symgrad::differentiable;

// Two arrays carried across the iterations, one taking the other's value whole.
#[differentiable]
fn loss(w: f64, x: &[f64], n: usize) -> f64 {
    let mut a = vec![0.0; n];
    let mut b = vec![1.0; n];
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * b[j] + a[j] + x[t]).tanh();
        }
        a = b;
        b = next;
    }
    a[0] + b[0]
}

fn main() {}
