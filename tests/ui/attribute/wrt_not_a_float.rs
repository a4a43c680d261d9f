use symgrad::differentiable;

#[differentiable(wrt(w, n))]
fn loss(w: f64, n: usize) -> f64 {
    w * n as f64
}

fn main() {}
