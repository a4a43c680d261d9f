use symgrad::differentiable;

// A loop over a chain that breaks: the loop over the second part would run after the first
// broke, so the chain is not taken apart.
#[differentiable]
fn loss(x: &[f64], y: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for v in x.iter().chain(y) {
        if *v < 0.0 {
            break;
        }
        s += v * w;
    }
    s
}

fn main() {}
