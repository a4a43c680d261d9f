use symgrad::differentiable;

// Layers × time under `hessian`: the state of every layer in one array carried across the
// time steps, the layer's input carried across the layers of a step (a recurrence nested in
// the time loop's).
#[differentiable(hessian, wrt(p))]
fn loss(p: &[f64], x: &[f64], layers: usize, b: usize) -> f64 {
    let mut state = vec![0.0; layers * b];
    for t in 0..x.len() {
        let mut input = vec![0.0; b];
        for i in 0..b {
            input[i] = x[t] * p[i];
        }
        for layer in 0..layers {
            let mut out = vec![0.0; b];
            for i in 0..b {
                out[i] = (p[b + layer * b + i] * state[layer * b + i] + input[i]).tanh();
            }
            for i in 0..b {
                state[layer * b + i] = out[i];
            }
            input = out;
        }
    }
    state[0]
}

fn main() {}
