//! Arrays carried from one iteration of a loop to the next (a hidden-state vector).
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use symgrad::differentiable;

/// `h = next;`: a new vector each step.
#[differentiable]
fn rnn(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.5; n];
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * h[j] + x[t]).tanh();
        }
        h = next;
    }
    h[0]
}

#[test]
fn scratch() {
    let (v, g) = rnn_grad(0.8, &[0.3, -0.2], 2);
    println!("{v} {g:?}");
}
