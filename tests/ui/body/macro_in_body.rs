use symgrad::differentiable;

#[differentiable]
fn loss(x: f64) -> f64 {
    println!("x = {x}");
    x * x
}

fn main() {}
