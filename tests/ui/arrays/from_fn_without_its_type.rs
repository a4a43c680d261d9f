use symgrad::differentiable;

// A local array from `std::array::from_fn` whose type (and so length) is not written.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let z = std::array::from_fn::<f64, 3, _>(|i| x[i] * 2.0);
    z[0] * z[2]
}

fn main() {}
