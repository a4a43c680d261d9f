//! The reverse sweep of an array carried across a loop whose new value replaces one stretch in
//! place (`h[s + i] = …` in a loop over `i`), where the function reads the old value only in
//! that patch and the new value only as the next iteration's: the array's adjoint `λ` steps back
//! by clearing the stretch in place, its elements going to the written values' adjoint, O(the
//! stretch) an iteration rather than a copy and a pass over the whole vector (ADBench's LSTM:
//! a layer's `hidden[s + i]` and `cell[s + i]`). These check that step, and a shape that must
//! keep the pass over the whole vector (the new stretch read by a loss in the same loop),
//! against num-dual's forward mode on twins written on their own (1e-12), central differences
//! (1e-7), num-dual's Hessian (1e-10), `checkpoint = K` bit for bit, and loops that run zero
//! times (no steps, no layers).
#![allow(clippy::needless_range_loop, clippy::useless_vec)] // index loops and `vec!` states are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, dual_hessian};

const P: [f64; 8] = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3];

/// The sequences every test runs over: lengths 0, 1, 2 and 5.
const SEQUENCES: [&[f64]; 4] = [&[], &[0.4], &[0.4, -0.7], &[0.4, -0.7, 1.1, 0.2, -0.5]];

/// num-dual's gradient of `f` at `P`.
fn dual_gradient(f: impl Fn(&[DualSVec64<8>]) -> DualSVec64<8>) -> Vec<f64> {
    let (_, g) = gradient(
        |q: SVector<DualSVec64<8>, 8>| f(q.as_slice()),
        &SVector::from_column_slice(&P),
    );
    g.as_slice().to_vec()
}

/// Asserts `a` and `b` are the same floats, bit for bit.
fn same_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}[{i}]: {x} vs {y}");
    }
}

// ---- one loop filling a stretch of the array per step (rows of a table), read after it

/// Each step rewrites its own two elements from their values (no earlier step wrote them):
/// `λ`'s step clears them.
#[differentiable(hessian, wrt(p))]
fn rows(p: &[f64], x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.5; 2 * n + 1];
    for t in 0..n {
        for i in 0..2 {
            h[2 * t + i] = (p[i] * x[t] + p[2] * h[2 * t + i]).sin() * p[3 + i];
        }
    }
    let mut s = 0.0;
    for j in 0..h.len() {
        s += h[j] * h[j] * p[5];
    }
    s + h[0] * h[2 * n] * p[6] + h[n] * p[7]
}

fn rows_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let n = x.len();
    let mut h = vec![T::from(0.5); 2 * n + 1];
    for (t, &xt) in x.iter().enumerate() {
        for i in 0..2 {
            h[2 * t + i] = (p[i] * xt + p[2] * h[2 * t + i]).sin() * p[3 + i];
        }
    }
    let s = h.iter().fold(T::zero(), |s, v| s + *v * *v * p[5]);
    s + h[0] * h[2 * n] * p[6] + h[n] * p[7]
}

#[test]
fn rows_filled_a_stretch_at_a_time_match_num_dual_differences_and_the_hessian() {
    for x in SEQUENCES {
        let (value, g) = rows_grad(&P, x);
        assert_eq!(value, rows(&P, x));
        assert_all_close(&g.p, &dual_gradient(|q| rows_twin(q, x)), 1e-12);
        assert_all_close(&g.p, &numeric_gradient(|q| rows(q, x), &P), 1e-7);
        let (h_value, h_grad, h) = rows_hessian(&P, x);
        assert_eq!(h_value, value);
        same_bits(&h_grad.p, &g.p, "∇ of _hessian");
        let (_, dual_g, dual_h) = dual_hessian::<8>(|q| rows_twin(q, x), &P);
        close(&h_grad.p, &dual_g, 1e-12, "∇");
        close(&h, &dual_h, 1e-10, "H");
    }
}

// ---- layers × time as ADBench's LSTM writes them: each layer its stretch of two states

/// The same body under several attributes (the plain function and `checkpoint = 2`).
macro_rules! layered {
    ($(#[$attr:meta] $name:ident;)*) => {$(
        /// Layers of two cells over the time steps, each layer updating its stretch `s..s + b`
        /// of `hidden` and `cell` in place (`cell` read before it is written, `hidden` written
        /// from the new `cell`), and handing its output to the next as `input`.
        #[$attr]
        fn $name(p: &[f64], x: &[f64], layers: usize) -> f64 {
            let b = 2;
            let mut hidden = vec![0.1; layers * b];
            let mut cell = vec![-0.2; layers * b];
            let mut loss = 0.0;
            for t in 0..x.len() {
                let mut input = vec![0.0; b];
                for i in 0..b {
                    input[i] = x[t] * p[i];
                }
                for layer in 0..layers {
                    let s = b * layer;
                    for i in 0..b {
                        let f = (p[2 + i] * input[i] + p[4] * hidden[s + i]).tanh();
                        cell[s + i] = cell[s + i] * f + p[5] * input[i];
                        hidden[s + i] = (cell[s + i] * p[6]).tanh();
                        input[i] = hidden[s + i];
                    }
                }
                loss += (input[0] - x[t]).powi(2) + input[1] * p[7];
            }
            let mut end = 0.0;
            for k in 0..layers * b {
                end += hidden[k] * cell[k];
            }
            loss + end
        }
    )*};
}

layered! {
    #[differentiable(wrt(p))] layered;
    #[differentiable(wrt(p), checkpoint = 2)] layered_k2;
}

fn layered_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], layers: usize) -> T {
    let mut hidden = vec![vec![T::from(0.1); 2]; layers];
    let mut cell = vec![vec![T::from(-0.2); 2]; layers];
    let mut loss = T::zero();
    for &xt in x {
        let mut input: Vec<T> = (0..2).map(|i| p[i] * xt).collect();
        for (h, c) in hidden.iter_mut().zip(&mut cell) {
            for i in 0..2 {
                let f = (p[2 + i] * input[i] + p[4] * h[i]).tanh();
                c[i] = c[i] * f + p[5] * input[i];
                h[i] = (c[i] * p[6]).tanh();
                input[i] = h[i];
            }
        }
        loss += (input[0] - xt).powi(2) + input[1] * p[7];
    }
    let end = hidden
        .iter()
        .flatten()
        .zip(cell.iter().flatten())
        .fold(T::zero(), |e, (h, c)| e + *h * *c);
    loss + end
}

#[test]
fn layers_over_time_match_num_dual_differences_and_their_checkpointed_twin() {
    for layers in [0, 1, 3] {
        for x in SEQUENCES {
            let (value, g) = layered_grad(&P, x, layers);
            assert_eq!(value, layered(&P, x, layers));
            let dual = dual_gradient(|q| layered_twin(q, x, layers));
            assert_all_close(&g.p, &dual, 1e-12);
            let numeric = numeric_gradient(|q| layered(q, x, layers), &P);
            assert_all_close(&g.p, &numeric, 1e-7);
            let (value_k, g_k) = layered_k2_grad(&P, x, layers);
            assert_eq!(value_k.to_bits(), value.to_bits());
            same_bits(&g_k.p, &g.p, "checkpoint = 2");
        }
    }
}

/// The new stretch read by a loss in the layer loop itself: the stretch's adjoint takes the
/// loss's part too, so `λ` keeps its pass over the whole vector.
#[differentiable(wrt(p))]
fn loss_in_the_layers(p: &[f64], x: &[f64], layers: usize) -> f64 {
    let b = 2;
    let mut hidden = vec![0.1; layers * b];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for layer in 0..layers {
            let s = b * layer;
            for i in 0..b {
                hidden[s + i] = (p[i] * hidden[s + i] + p[2 + layer % 3] * x[t]).tanh();
            }
            loss += hidden[s] * hidden[s + 1] * p[5];
        }
    }
    loss + hidden[0] * p[6]
}

fn loss_in_the_layers_twin<T: DualNum<Primitive = f64> + Copy>(
    p: &[T],
    x: &[f64],
    layers: usize,
) -> T {
    let mut hidden = vec![vec![T::from(0.1); 2]; layers];
    let mut loss = T::zero();
    for &xt in x {
        for (layer, h) in hidden.iter_mut().enumerate() {
            for i in 0..2 {
                h[i] = (p[i] * h[i] + p[2 + layer % 3] * xt).tanh();
            }
            loss += h[0] * h[1] * p[5];
        }
    }
    match hidden.first() {
        Some(h) => loss + h[0] * p[6],
        None => loss,
    }
}

#[test]
fn a_loss_reading_the_new_stretch_matches_num_dual_and_differences() {
    for layers in [1, 3] {
        for x in SEQUENCES {
            let (value, g) = loss_in_the_layers_grad(&P, x, layers);
            assert_eq!(value, loss_in_the_layers(&P, x, layers));
            let dual = dual_gradient(|q| loss_in_the_layers_twin(q, x, layers));
            assert_all_close(&g.p, &dual, 1e-12);
            let numeric = numeric_gradient(|q| loss_in_the_layers(q, x, layers), &P);
            assert_all_close(&g.p, &numeric, 1e-7);
        }
    }
}
