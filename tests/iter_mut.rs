//! Elements of a local array lent by `iter_mut()` (and `&mut z`, `for_each`), and `z.fill(v)`:
//! the macro reads them as the index loops a person would write (`*zi = e` is `z[i] = e`).
//! Each function against num-dual's forward mode on a twin written with indices (1e-12) and
//! central differences (1e-7), at sequences of length 0, 1, 2 and 5.
// The twins are written with indices; `for_each`, `iter_mut()` and `vec!` states are the
// language under test.
#![allow(
    clippy::needless_range_loop,
    clippy::needless_for_each,
    clippy::explicit_iter_loop,
    clippy::useless_vec
)]

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

const P: [f64; 4] = [0.6, -0.8, 0.9, -0.4];
const SEQUENCES: [&[f64]; 4] = [&[], &[0.4], &[0.4, -0.7], &[0.4, -0.7, 1.1, 0.2, -0.5]];

/// `grad` at `P` against num-dual on `twin` and central differences of `f`, for every sequence.
fn check(
    grad: impl Fn(&[f64], &[f64]) -> (f64, Vec<f64>),
    f: impl Fn(&[f64], &[f64]) -> f64,
    twin: impl Fn(&[DualSVec64<4>], &[f64]) -> DualSVec64<4>,
) {
    for x in SEQUENCES {
        let (value, g) = grad(&P, x);
        // (The same value up to rounding: the macro may divide a sum once where the function
        // divides each term.)
        let want = f(&P, x);
        assert!(
            (value - want).abs() <= 1e-14 * want.abs().max(1.0),
            "value at {x:?}"
        );
        let (_, dual) = gradient(
            |q: SVector<DualSVec64<4>, 4>| twin(q.as_slice(), x),
            &SVector::from_column_slice(&P),
        );
        assert_all_close(&g, dual.as_slice(), 1e-12);
        assert_all_close(&g, &numeric_gradient(|q| f(q, x), &P), 1e-7);
    }
}

/// `enumerate`, the element written from the count; `zip` with data, added into.
#[differentiable(wrt(p))]
fn enumerate_and_zip(p: &[f64], x: &[f64]) -> f64 {
    let mut z = vec![1.0; x.len()];
    for (i, zi) in z.iter_mut().enumerate() {
        *zi = (x[i] * p[0] + p[1]).tanh();
    }
    for (zi, &xi) in z.iter_mut().zip(x) {
        *zi += xi * p[2];
    }
    let mut s = 0.0;
    for i in 0..z.len() {
        s += z[i] * z[i] * p[3];
    }
    s
}

fn enumerate_and_zip_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let mut z = vec![T::one(); x.len()];
    for i in 0..x.len() {
        z[i] = (p[0] * x[i] + p[1]).tanh();
    }
    for i in 0..x.len() {
        z[i] += p[2] * x[i];
    }
    z.iter().fold(T::zero(), |s, v| s + *v * *v * p[3])
}

#[test]
fn enumerate_and_zip_match_num_dual_and_differences() {
    check(
        |p, x| {
            let (v, g) = enumerate_and_zip_grad(p, x);
            (v, g.p)
        },
        enumerate_and_zip,
        enumerate_and_zip_twin,
    );
}

/// `&mut z` with a method called on the element, `for_each` scaling by a sum (a softmax),
/// and `zip` lending the second side.
#[differentiable(wrt(p))]
fn softmax_in_place(p: &[f64], x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for (&xi, zi) in x.iter().zip(z.iter_mut()) {
        *zi = xi * p[0] + p[1];
    }
    for zi in &mut z {
        *zi = zi.exp();
    }
    let total: f64 = z.iter().sum();
    z.iter_mut().for_each(|zi| *zi /= total);
    let mut s = p[3];
    for i in 0..z.len() {
        s += z[i] * x[i] * p[2];
    }
    s
}

fn softmax_in_place_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let z: Vec<T> = x.iter().map(|&xi| (p[0] * xi + p[1]).exp()).collect();
    let total = z.iter().fold(T::zero(), |s, v| s + *v);
    let mut s = p[3];
    for i in 0..z.len() {
        s += z[i] / total * x[i] * p[2];
    }
    s
}

#[test]
fn softmax_in_place_matches_num_dual_and_differences() {
    check(
        |p, x| {
            let (v, g) = softmax_in_place_grad(p, x);
            (v, g.p)
        },
        softmax_in_place,
        softmax_in_place_twin,
    );
}

/// A hidden state updated through `iter_mut` in a time loop (an array carried across its
/// iterations), `skip` and `rev` lending part of it, and `fill` before.
#[differentiable(wrt(p))]
fn carried_through_lent_elements(p: &[f64], x: &[f64]) -> f64 {
    let mut h = vec![0.0; 3];
    h.fill(p[3] * 0.5);
    let mut loss = 0.0;
    for t in 0..x.len() {
        for hj in h.iter_mut() {
            *hj = (*hj * p[0] + x[t] * p[1]).tanh();
        }
        for hj in h.iter_mut().skip(1).rev() {
            *hj *= p[2];
        }
        loss += h[0] * h[2];
    }
    loss + h[1]
}

fn carried_through_lent_elements_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let mut h = vec![p[3] * 0.5; 3];
    let mut loss = T::zero();
    for &xt in x {
        for j in 0..3 {
            h[j] = (h[j] * p[0] + p[1] * xt).tanh();
        }
        for j in 1..3 {
            h[j] *= p[2];
        }
        loss += h[0] * h[2];
    }
    loss + h[1]
}

#[test]
fn a_state_carried_through_lent_elements_matches_num_dual_and_differences() {
    check(
        |p, x| {
            let (v, g) = carried_through_lent_elements_grad(p, x);
            (v, g.p)
        },
        carried_through_lent_elements,
        carried_through_lent_elements_twin,
    );
}

/// Two states carried across a time loop, one written through the elements `enumerate` lends
/// (`take` after it), the other at the same count in the same loop (the loop's own index for
/// both), and an array added into there.
#[differentiable(wrt(p))]
fn two_states_at_the_count(p: &[f64], x: &[f64]) -> f64 {
    let mut acc = vec![-0.39; 2];
    let mut hs = vec![-0.25; 2];
    let mut cs = vec![-0.54; 2];
    for t in 0..x.len() {
        for (j, cj) in cs.iter_mut().enumerate().take(2) {
            *cj = (p[0] * *cj + p[1] * hs[j] + x[t]).tanh();
            hs[j] += 0.5 * (p[2] * hs[j] + 0.52 * *cj).sin();
            acc[j] -= hs[j] * p[3];
        }
    }
    acc[0] * 0.64 + hs[1] * 0.91 + cs[1]
}

fn two_states_at_the_count_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let mut acc = vec![T::from(-0.39); 2];
    let mut hs = vec![T::from(-0.25); 2];
    let mut cs = vec![T::from(-0.54); 2];
    for &xt in x {
        for j in 0..2 {
            cs[j] = (p[0] * cs[j] + p[1] * hs[j] + xt).tanh();
            let step = (p[2] * hs[j] + cs[j] * 0.52).sin() * 0.5;
            hs[j] += step;
            let taken = hs[j] * p[3];
            acc[j] -= taken;
        }
    }
    acc[0] * 0.64 + hs[1] * 0.91 + cs[1]
}

#[test]
fn two_states_written_at_the_count_match_num_dual_and_differences() {
    check(
        |p, x| {
            let (v, g) = two_states_at_the_count_grad(p, x);
            (v, g.p)
        },
        two_states_at_the_count,
        two_states_at_the_count_twin,
    );
}
