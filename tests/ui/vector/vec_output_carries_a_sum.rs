use symgrad::differentiable;

#[differentiable(wrt(w))]
fn running(w: f64, x: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    let mut r = vec![0.0; x.len()];
    for i in 0..x.len() {
        acc += w * x[i];
        r[i] = acc;
    }
    r
}

fn main() {}
