use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    let mut y = x;
    loop {
        y = y / 2.0;
        if y < 1.0 {
            break;
        }
    }
    y
}

fn main() {}
