use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    let a = x.rem_euclid(2.0);
    let b = x % 3.0;
    let mut c = x;
    while c > 1.0 {
        c = c / 2.0;
    }
    a + b + c
}

fn main() {}
