use symgrad::differentiable;

#[differentiable]
fn shifted(x: [f64; 2], s: f64) -> [f64; 2] {
    if s == 0.0 {
        return x;
    }
    [x[0] + s, x[1] + s]
}

fn main() {}
