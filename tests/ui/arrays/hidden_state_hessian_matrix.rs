use symgrad::differentiable;

// A recurrent network's matrix-vector product added into the new state under `hessian`.
#[differentiable(hessian, wrt(m))]
fn loss(m: &[f64], x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            for k in 0..n {
                next[j] += m[j * n + k] * h[k];
            }
        }
        for j in 0..n {
            next[j] = (next[j] + x[t]).tanh();
        }
        h = next;
    }
    h[0]
}

fn main() {}
