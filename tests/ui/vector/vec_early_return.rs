use symgrad::differentiable;

#[differentiable(wrt(w))]
fn scaled(w: f64, x: &[f64]) -> Vec<f64> {
    if x.is_empty() {
        return Vec::new();
    }
    x.iter().map(|v| w * v).collect()
}

fn main() {}
