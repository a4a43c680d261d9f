use symgrad::differentiable;

// A write at `enumerate`'s count after `windows(2)`, whose items' index starts at 1: the count
// is not the loop's own index.
#[differentiable]
fn loss(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for (c, w) in x.windows(2).enumerate() {
        z[c] = w[1] - w[0];
    }
    z.iter().map(|v| v * v).sum::<f64>()
}

fn main() {}
