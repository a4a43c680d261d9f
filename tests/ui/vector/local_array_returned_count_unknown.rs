use symgrad::differentiable;

const M: usize = 3;

// A local array returned by its name where the return type names its length: the macro needs
// the number of outputs as a literal to read the array's elements.
#[differentiable]
fn features(p: &[f64], t: f64) -> [f64; M] {
    let mut out = [0.0; M];
    for k in 0..M {
        out[k] = p[k] * t;
    }
    out
}

fn main() {}
