use symgrad::differentiable;

// An LSTM cell's `cell` and `hidden` vectors, updated in place at every time step.
#[differentiable]
fn loss(w: &[f64], x: &[f64], n: usize) -> f64 {
    let mut hidden = vec![0.0; n];
    let mut cell = vec![0.0; n];
    for t in 0..x.len() {
        for i in 0..n {
            let gate = 1.0 / (1.0 + (-(hidden[i] * w[i] + x[t])).exp());
            cell[i] = cell[i] * gate + (1.0 - gate) * x[t];
            hidden[i] = cell[i].tanh();
        }
    }
    hidden[0]
}

fn main() {}
