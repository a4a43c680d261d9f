use symgrad::differentiable;

pub struct Data {
    pub group: Vec<usize>,
}

// The macro cannot see the type of `data.group`'s elements: `g` must say it.
#[differentiable(wrt(theta))]
fn loss(theta: &[f64], data: &Data) -> f64 {
    let mut s = 0.0;
    for i in 0..data.group.len() {
        let g = data.group[i];
        s += theta[g] * theta[g];
    }
    s
}

fn main() {}
