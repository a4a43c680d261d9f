use symgrad::differentiable;

#[differentiable(wrt(w))]
fn loss(w: f64, data: &[f64]) -> f64 {
    let i = 2;
    w * data[i]
}

fn main() {}
