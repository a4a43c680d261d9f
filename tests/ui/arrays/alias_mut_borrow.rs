use symgrad::differentiable;

// A second name for a local array's elements, written through: `r[0] = …` changes `z`.
#[differentiable]
fn loss(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; 3];
    let r = &mut z;
    r[0] = w * x[0];
    z[0] + z[1]
}

fn main() {}
