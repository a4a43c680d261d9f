use symgrad::differentiable;

fn twice(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    f(f(x))
}

// A closure bound by `let` is inlined where it is called (or mapped over an iterator); passed
// to a function as a value it is not.
#[differentiable]
fn loss(x: f64) -> f64 {
    let square = |v: f64| v * v;
    twice(square, x)
}

fn main() {}
