//! A loop carrying an array that each iteration updates at its own stretch (ADBench's layers:
//! `hidden[b * layer + i]`): where the stretches of two iterations are disjoint and an
//! iteration reads the array only inside its own stretch, the macro reads those elements from
//! the array's value before the loop (no earlier iteration wrote them), and the reverse sweep
//! keeps no row of the array per iteration. These check the gradients of that rewrite and of
//! the shapes it must leave alone (stretches that overlap, reads outside the stretch, at the
//! next iteration's stretch), each against central differences and, for the layered ones, a
//! num-dual twin written with one vector per layer.
#![allow(clippy::needless_range_loop, clippy::useless_vec)] // index loops and `vec!` states are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

const P: [f64; 8] = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3];
const X: [f64; 4] = [0.4, -0.9, 0.2, 0.7];

/// `grad` against central differences of `f` at `P`, `X` (1e-7).
fn check(grad: impl Fn(&[f64], &[f64]) -> (f64, Vec<f64>), f: impl Fn(&[f64], &[f64]) -> f64) {
    let (value, g) = grad(&P, &X);
    assert!((value - f(&P, &X)).abs() <= 1e-12 * value.abs().max(1.0));
    let numeric = numeric_gradient(|q| f(q, &X), &P);
    assert_all_close(&g, &numeric, 1e-7);
}

/// Three layers of two cells over the time steps, each layer updating its stretch of `hs` in
/// place (read there, and the stretch offset bound in a `let`), a loss along the way: the
/// rewrite applies.
#[differentiable(wrt(p))]
fn disjoint(p: &[f64], x: &[f64]) -> f64 {
    let (layers, b) = (3, 2);
    let mut hs = vec![0.3; layers * b];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut input = vec![0.0; b];
        for i in 0..b {
            input[i] = x[t] * p[i];
        }
        for layer in 0..layers {
            let s = b * layer;
            for i in 0..b {
                hs[s + i] = (p[2 + s] * hs[s + i] + p[7] * input[i]).tanh();
                input[i] = hs[s + i];
            }
        }
        loss += (input[0] - p[1]).powi(2);
    }
    loss + hs[1] * hs[4]
}

/// [`disjoint`] on num-dual's numbers, one vector per layer.
fn disjoint_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let mut hs = vec![vec![T::from(0.3); 2]; 3];
    let mut loss = T::zero();
    for &xt in x {
        let mut input: Vec<T> = (0..2).map(|i| p[i] * xt).collect();
        for (layer, h) in hs.iter_mut().enumerate() {
            for i in 0..2 {
                h[i] = (p[2 + 2 * layer] * h[i] + p[7] * input[i]).tanh();
                input[i] = h[i];
            }
        }
        loss += (input[0] - p[1]).powi(2);
    }
    loss + hs[0][1] * hs[2][0]
}

#[test]
fn disjoint_stretches_match_num_dual_and_differences() {
    check(
        |p, x| {
            let (v, g) = disjoint_grad(p, x);
            (v, g.p)
        },
        disjoint,
    );
    let (_, g) = disjoint_grad(&P, &X);
    let (_, dual) = gradient(
        |q: SVector<DualSVec64<8>, 8>| disjoint_twin(q.as_slice(), &X),
        &SVector::from_column_slice(&P),
    );
    assert_all_close(&g.p, dual.as_slice(), 1e-12);
}

/// The stretch at a constant offset (`2 * layer + 1 + i`, element 0 never written) and read in
/// a sum over it before it is written: still disjoint, still inside.
#[differentiable(wrt(p))]
fn offset_and_sum(p: &[f64], x: &[f64]) -> f64 {
    let mut hs = vec![0.2; 7];
    for t in 0..x.len() {
        for layer in 0..3 {
            let mut m = 0.0;
            for i in 0..2 {
                m += hs[2 * layer + 1 + i];
            }
            for i in 0..2 {
                hs[2 * layer + 1 + i] = (p[layer] * hs[2 * layer + 1 + i] + m * x[t] + p[6]).sin();
            }
        }
    }
    hs.iter().map(|v| v * v).sum::<f64>() + hs[0] * p[7]
}

#[test]
fn an_offset_stretch_read_in_a_sum_matches_differences() {
    check(
        |p, x| {
            let (v, g) = offset_and_sum_grad(p, x);
            (v, g.p)
        },
        offset_and_sum,
    );
}

/// Stretches that overlap (`2 * layer + i` for `i` in `0..3`: each layer rewrites the first
/// element of the next): a layer reads what the one before it wrote, not the initial value.
#[differentiable(wrt(p))]
fn overlapping(p: &[f64], x: &[f64]) -> f64 {
    let mut hs = vec![0.4; 7];
    for t in 0..x.len() {
        for layer in 0..3 {
            for i in 0..3 {
                hs[2 * layer + i] = (p[layer + i] * hs[2 * layer + i] + x[t]).tanh();
            }
        }
    }
    hs[2] + hs[4] * hs[6] + p[7] * hs[0]
}

#[test]
fn overlapping_stretches_match_differences() {
    check(
        |p, x| {
            let (v, g) = overlapping_grad(p, x);
            (v, g.p)
        },
        overlapping,
    );
}

/// A layer reading an element outside its stretch (`hs[0]`, which the first layer rewrites):
/// the later layers read the new value.
#[differentiable(wrt(p))]
fn reads_outside(p: &[f64], x: &[f64]) -> f64 {
    let mut hs = vec![0.1; 6];
    for t in 0..x.len() {
        for layer in 0..3 {
            let first = hs[0];
            for i in 0..2 {
                hs[2 * layer + i] = (p[2 * layer + i] * hs[2 * layer + i] + first * x[t]).tanh();
            }
        }
    }
    hs[1] * p[6] + hs[5] * p[7] + hs[0]
}

#[test]
fn a_read_outside_the_stretch_matches_differences() {
    check(
        |p, x| {
            let (v, g) = reads_outside_grad(p, x);
            (v, g.p)
        },
        reads_outside,
    );
}

/// Stretches of a stride larger than their width (`3 * layer + i`, `i` in `0..2`) and a layer
/// reading, before its stretch loop, the element between stretches (`3 * layer + 2`, which no
/// layer writes) and the first of the next layer's stretch (`3 * layer + 3`, not yet written
/// this step: the previous step's value).
#[differentiable(wrt(p))]
fn reads_ahead(p: &[f64], x: &[f64]) -> f64 {
    let mut hs = vec![0.25; 12];
    for t in 0..x.len() {
        for layer in 0..3 {
            let between = hs[3 * layer + 2];
            let ahead = hs[3 * layer + 3];
            for i in 0..2 {
                hs[3 * layer + i] =
                    (p[2 * layer + i] * hs[3 * layer + i] + between * ahead + x[t] * p[6]).tanh();
            }
        }
    }
    hs[0] + hs[4] * p[7] + hs[7]
}

#[test]
fn reads_between_and_ahead_match_differences() {
    check(
        |p, x| {
            let (v, g) = reads_ahead_grad(p, x);
            (v, g.p)
        },
        reads_ahead,
    );
}
