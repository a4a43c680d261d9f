use symgrad::differentiable;

const N: usize = 3;

#[differentiable(wrt(a))]
fn powers(a: f64) -> [f64; N] {
    std::array::from_fn(|k| a.powi(k as i32))
}

fn main() {}
