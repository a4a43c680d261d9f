use symgrad::differentiable;

pub struct Data {
    pub xs: Vec<f64>,
}

#[differentiable(wrt(w))]
fn loss(w: f64, data: &Data) -> f64 {
    let mut s = 0.0;
    for i in 0..data.xs.len() {
        s += (w * data.xs[i]).powi(2);
    }
    s
}

fn main() {}
