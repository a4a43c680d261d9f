use symgrad::differentiable;

#[differentiable]
struct Loss {
    x: f64,
}

fn main() {}
