use symgrad::differentiable;

#[differentiable(wrt(w))]
fn weighted(z: &[f64], w: &[f64]) -> f64 {
    z[0] * w[0]
}

// A local array that depends on `x`, passed where `weighted` takes data.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for i in 0..x.len() {
        z[i] = x[i] * x[i];
    }
    weighted(&z, x)
}

fn main() {}
