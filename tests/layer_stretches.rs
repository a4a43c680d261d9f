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

/// The layers' value read only under a condition (`hs[1]` times a sum over `i + 1..n`, empty
/// at the last step): the sweep runs the layer loop in two places, which must not both read
/// back the step's kept rows. (Found by the fuzzer: an overflow reading them twice.)
#[differentiable]
fn value_read_under_a_condition(y: &[f64], w: f64) -> f64 {
    let n = y.len();
    let mut hs = vec![0.59; 6];
    let mut loss = 0.0;
    for i in 0..n {
        let mut inp = vec![0.0; 2];
        for j in 0..2 {
            inp[j] = w / (1.0 + y[i] * y[i]);
        }
        for ly in 0..3 {
            for j in 0..2 {
                hs[2 * ly + j] = (-0.69 * inp[j] + 0.59 * hs[j + 2 * ly] + y[i].sin()).tanh();
                inp[j] = hs[j + 2 * ly];
            }
        }
        loss += hs[1] * (i + 1..n).map(|_| y[i]).sum::<f64>();
    }
    hs[3] * 1.42 - loss * loss
}

#[test]
fn a_layer_value_read_under_a_condition_matches_differences() {
    check(
        |p, x| {
            let (v, g) = value_read_under_a_condition_grad(x, p[0]);
            let mut all = vec![0.0; P.len()];
            all[0] = g.w;
            (v, all)
        },
        |p, x| value_read_under_a_condition(x, p[0]),
    );
    let (_, g) = value_read_under_a_condition_grad(&X, P[0]);
    let numeric = numeric_gradient(|y| value_read_under_a_condition(y, P[0]), &X);
    assert_all_close(&g.y, &numeric, 1e-7);
}

/// Three layered blocks as the fuzzer wrote them (seed 2902, program 6), the middle one
/// handing nothing up and read after its loop only through `hs11[3]` and `cs12[0]`: the sweep
/// keeps no value of a layer loop but what it reads, the others read back as empty vectors.
/// (Found by the fuzzer: where a layer loop ran in two places of the sweep, both read back,
/// and those vectors had no type.)
#[allow(clippy::all, unused)] // the program as the fuzzer wrote it
#[differentiable]
fn fuzz_seed_2902_p6(n: usize, d: usize, x: &[f64], a: f64, b: f64, g: f64) -> f64 {
    let mut hs1: Vec<f64> = vec![0.44; 6];
    let mut cs2: Vec<f64> = vec![-0.39; 6];
    let mut l6 = 0.0;
    for i in 0..n * d {
        let mut inp3: Vec<f64> = vec![0.0; 3];
        for j5 in 0..3 {
            inp3[j5] = x[n * d - 1] * x[n * d - 1];
        }
        for ly4 in 0..2 {
            for j5 in 0..3 {
                cs2[3 * ly4 + j5] = (0.06 * inp3[j5]
                    + (0.08 * hs1[3 * ly4 + j5]
                        + (0.86 * cs2[3 * ly4 + j5]
                            + x.windows(x.len())
                                .rev()
                                .map(|r7| r7[0].tanh())
                                .product::<f64>())))
                .tanh();
                hs1[3 * ly4 + j5] = 0.5
                    * (0.37 * inp3[j5]
                        + (0.09 * cs2[3 * ly4 + j5] + (-0.41 * hs1[3 * ly4 + j5] + (x[i] - b))))
                        .sin();
                inp3[j5] = hs1[3 * ly4 + j5];
            }
        }
        l6 += inp3[0] * (g - x[0]);
    }
    let r8 = hs1[1] * 0.93 + cs2[4];
    let mut f9 = a.tanh();
    if -r8 >= 0.48 {
        f9 *= x[0].min(x[0]) + l6;
    } else {
        let t10 = x[0];
        f9 = x[n * d - 1];
    }
    let mut hs11: Vec<f64> = vec![0.72; 4];
    let mut cs12: Vec<f64> = vec![-0.84; 4];
    let mut l16 = 0.0;
    for i in 0..n {
        let mut inp13: Vec<f64> = vec![0.0; 2];
        for j15 in 0..2 {
            inp13[j15] = r8 + 0.16 * (x.len() as f64);
        }
        for ly14 in 0..2 {
            for j15 in 0..2 {
                cs12[2 * ly14 + j15] = (0.14 * inp13[j15]
                    + (-0.24 * hs11[2 * ly14 + j15]
                        + (0.12 * cs12[2 * ly14 + j15] + x[n * d - 1])))
                    .tanh();
                hs11[2 * ly14 + j15] = (0.03 * inp13[j15]
                    + (-0.57 * cs12[2 * ly14 + j15] + (-0.33 * hs11[2 * ly14 + j15] + -0.26)))
                    .tanh();
            }
        }
        l16 += inp13[1] * x[n * d - 1];
    }
    let r17 = hs11[3] * 0.78 + cs12[0];
    let mut hs18: Vec<f64> = vec![0.47; 9];
    let mut cs19: Vec<f64> = vec![-0.88; 9];
    let mut l23 = 0.0;
    for i in 0..n {
        let mut inp20: Vec<f64> = vec![0.0; 3];
        for j22 in 0..3 {
            inp20[j22] = if -0.93 - 1.35 <= 0.27 {
                x[0]
            } else {
                x[n * d - 1]
            };
        }
        for ly21 in 0..3 {
            for j22 in 0..3 {
                hs18[3 * ly21 + j22] = 0.5
                    * (0.49 * inp20[j22]
                        + (0.01 * cs19[3 * ly21 + j22] + (0.92 * hs18[3 * ly21 + j22] + r17)))
                        .sin();
                cs19[3 * ly21 + j22] = (0.16 * inp20[j22]
                    + (0.07 * hs18[3 * ly21 + j22]
                        + (-0.61 * cs19[3 * ly21 + j22] + (0.3 * x[n * d - 1].tanh()).exp())))
                .tanh();
            }
        }
        l23 += inp20[2] * x[0];
    }
    let r24 = hs18[0] * 1.07 + cs19[3];
    (r24 * r24 + 0.5).sqrt() + l23 + r17
}

#[test]
fn layer_values_the_steps_do_not_read_match_differences() {
    let (n, d) = (2, 2);
    let x = [0.4, -0.9, 0.2, 0.7];
    let (a, b, g) = (0.3, -0.6, 0.8);
    let (value, grad) = fuzz_seed_2902_p6_grad(n, d, &x, a, b, g);
    assert!((value - fuzz_seed_2902_p6(n, d, &x, a, b, g)).abs() <= 1e-12);
    let numeric = numeric_gradient(|x| fuzz_seed_2902_p6(n, d, x, a, b, g), &x);
    assert_all_close(&grad.x, &numeric, 1e-7);
    let abg = numeric_gradient(
        |q| fuzz_seed_2902_p6(n, d, &x, q[0], q[1], q[2]),
        &[a, b, g],
    );
    assert_all_close(&[grad.a, grad.b, grad.g], &abg, 1e-7);
}
