use symgrad::differentiable;

// The online softmax normaliser: `m` and `s` update each other in one loop.
#[differentiable]
fn loss(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        let m_new = m.max(z[i]);
        s = s * (m - m_new).exp() + (z[i] - m_new).exp();
        m = m_new;
    }
    m + s.ln()
}

fn main() {}
