use symgrad::differentiable;

// A product restarted from the outer recurrence's value in every iteration: the Hessian would
// need the inner recurrence's tangent inside the outer one's.
#[differentiable(hessian)]
fn loss(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        let mut q = p;
        for j in 0..x.len() {
            q *= x[j] + x[i];
        }
        p = q.sin();
    }
    p
}

fn main() {}
