use symgrad::differentiable;

// Elements reading a float the loop carries together with another (a Fibonacci-like pair):
// an element may read a carried float whose update reads only itself.
#[differentiable]
fn loss(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    let mut a = 0.0;
    let mut b = 1.0;
    for c in 0..n {
        let t = a + b * w[c];
        a = b;
        b = t;
        z[c] = a;
    }
    z.iter().sum::<f64>()
}

fn main() {}
