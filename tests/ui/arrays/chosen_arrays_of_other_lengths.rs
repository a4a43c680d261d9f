use symgrad::differentiable;

#[differentiable]
fn loss(x: &[f64], n: usize, flag: bool) -> f64 {
    let z = if flag { x.to_vec() } else { vec![1.0; n] };
    z[0]
}

fn main() {}
