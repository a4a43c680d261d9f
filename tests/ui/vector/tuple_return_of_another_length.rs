use symgrad::differentiable;

// One tuple of three elements where the function returns two: one error from the macro (and
// rustc's own about the tuple), not a second one about lowering it.
#[differentiable]
fn polar(r: f64, th: f64) -> (f64, f64) {
    if r < 0.0 {
        return (0.0, th, r);
    }
    (r * th.cos(), r * th.sin())
}

#[differentiable]
fn short(r: f64) -> (f64, f64, f64) {
    (r, r * r)
}

fn main() {}
