use symgrad::differentiable;

#[differentiable(wrt(w))]
fn positive(w: f64, x: &[f64]) -> Vec<f64> {
    let mut r = Vec::new();
    for &v in x {
        if v < 0.0 {
            continue;
        }
        r.push(w * v);
    }
    r
}

fn main() {}
