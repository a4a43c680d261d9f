//! Arrays carried from one iteration of a loop to the next (a hidden-state vector) in
//! vector-valued functions (`-> [f64; M]`, `-> (f64, f64)`, `-> Vec<f64>`): `_jacobian`,
//! `_vjp`, `_jvp`, `checkpoint = K`, and callers chaining through them.
//!
//! Oracles: num-dual's forward mode on generic twins written on their own (1e-12), each row of
//! the Jacobian bit for bit equal to the gradient of the same output written as a scalar
//! function of its own, central differences of the function itself, `_vjp` and `_jvp` against
//! the Jacobian's products, and `checkpoint = K` bit for bit equal to without. Sequences of
//! length 0, 1, 2 and 5, one and two layers.
#![allow(clippy::needless_range_loop, clippy::useless_vec)] // index loops and `vec![v; n]` states are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, jacobian};
use symgrad::{Gradient, differentiable};

/// One function per output spec, all with the same parameters and body: the vector-valued
/// function and the scalar functions of its outputs, written out by the same tokens.
macro_rules! with_outputs {
    (($($params:tt)*) $body:tt; ) => {};
    (($($params:tt)*) $body:tt; #[$attr:meta] $name:ident -> $ret:tt = $out:tt; $($rest:tt)*) => {
        with_outputs!(@one #[$attr] $name ($($params)*) $ret, $body, $out);
        with_outputs!(($($params)*) $body; $($rest)*);
    };
    (@one #[$attr:meta] $name:ident ($($params:tt)*) $ret:tt, { $($body:tt)* }, $out:tt) => {
        #[$attr]
        // (The scalar functions of one output: `(h[0])`, and a loss they do not return.)
        #[allow(unused_parens, unused_variables, unused_assignments)]
        fn $name($($params)*) -> $ret { $($body)* $out }
    };
}

/// The sequences every test runs over: lengths 0, 1, 2 and 5.
const SEQUENCES: [&[f64]; 4] = [&[], &[0.4], &[0.4, -0.7], &[0.4, -0.7, 1.1, 0.2, -0.5]];

/// Asserts `a` and `b` are the same floats, bit for bit.
fn same_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}[{i}]: {x} vs {y}");
    }
}

/// num-dual's values and Jacobian (rows) of `f` at `p`.
fn dual_jacobian<const N: usize, const M: usize>(
    f: impl Fn(&[DualSVec64<N>]) -> [DualSVec64<N>; M],
    p: &[f64],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (value, j) = jacobian(
        |q: SVector<DualSVec64<N>, N>| SVector::from(f(q.as_slice())),
        &SVector::from_column_slice(p),
    );
    let rows = (0..M)
        .map(|k| (0..N).map(|i| j[(k, i)]).collect())
        .collect();
    (value.iter().copied().collect(), rows)
}

// ---- one layer, the state replaced each step (`h = next;`), a loss summed beside it

with_outputs! {
    (w: &[f64], u: f64, x: &[f64]) {
        let n = w.len();
        let mut h = vec![0.1; n];
        let mut loss = 0.0;
        for t in 0..x.len() {
            let mut next = vec![0.0; n];
            for j in 0..n {
                next[j] = (w[j] * h[j] + u * x[t] + 0.2 * h[(j + 1) % n]).tanh();
            }
            h = next;
            loss += h[0] * x[t];
        }
    };
    #[differentiable] rnn -> [f64; 3] = [h[0], h[n - 1] * u, loss];
    #[differentiable(checkpoint = 2)] rnn_k2 -> [f64; 3] = [h[0], h[n - 1] * u, loss];
    #[differentiable] rnn_0 -> f64 = (h[0]);
    #[differentiable] rnn_1 -> f64 = (h[n - 1] * u);
    #[differentiable] rnn_2 -> f64 = (loss);
}

fn rnn_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], u: T, x: &[T]) -> [T; 3] {
    let n = w.len();
    let mut h = vec![T::from(0.1); n];
    let mut loss = T::zero();
    for &xt in x {
        h = (0..n)
            .map(|j| (w[j] * h[j] + u * xt + h[(j + 1) % n] * 0.2).tanh())
            .collect();
        loss += h[0] * xt;
    }
    [h[0], h[n - 1] * u, loss]
}

const W: [f64; 3] = [0.7, -0.4, 1.2];
const U: f64 = 0.9;

/// `w`, `u`, then `x`: the flat order of `RnnGrad`.
fn rnn_point(x: &[f64]) -> Vec<f64> {
    let mut p = W.to_vec();
    p.push(U);
    p.extend(x);
    p
}

fn check_rnn<const N: usize>(x: &[f64]) {
    assert_eq!(N, 4 + x.len());
    let (value, jac) = rnn_jacobian(&W, U, x);
    assert_eq!(value, rnn(&W, U, x));
    let (dual_value, dual) = dual_jacobian(
        |q: &[DualSVec64<N>]| rnn_twin(&q[..3], q[3], &q[4..]),
        &rnn_point(x),
    );
    assert_all_close(&value, &dual_value, 1e-12);
    let rows: Vec<Vec<f64>> = jac.iter().map(Gradient::to_flat_vec).collect();
    for k in 0..3 {
        assert_all_close(&rows[k], &dual[k], 1e-12);
        let numeric = numeric_gradient(|q| rnn(&q[..3], q[3], &q[4..])[k], &rnn_point(x));
        assert_all_close(&rows[k], &numeric, 1e-7);
    }
    // Each row is the gradient of its output written on its own, bit for bit.
    let (v0, g0) = rnn_0_grad(&W, U, x);
    let (v1, g1) = rnn_1_grad(&W, U, x);
    let (v2, g2) = rnn_2_grad(&W, U, x);
    let scalar = [
        (v0, g0.to_flat_vec()),
        (v1, g1.to_flat_vec()),
        (v2, g2.to_flat_vec()),
    ];
    for k in 0..3 {
        assert_eq!(scalar[k].0.to_bits(), value[k].to_bits());
        same_bits(&rows[k], &scalar[k].1, &format!("row {k}, T = {}", x.len()));
    }
    // `checkpoint = 2`: the same, bit for bit.
    let (value_k, jac_k) = rnn_k2_jacobian(&W, U, x);
    same_bits(&value_k, &value, "checkpointed value");
    for k in 0..3 {
        same_bits(&jac_k[k].to_flat_vec(), &rows[k], "checkpointed row");
    }
    // `_vjp` = seedᵀ·J and `_jvp` = J·t.
    let seed = [0.6, -1.3, 0.25];
    let (vjp_value, vjp) = rnn_vjp(&W, U, x, &seed);
    assert_eq!(vjp_value, value);
    let want: Vec<f64> = (0..N)
        .map(|i| (0..3).map(|k| seed[k] * rows[k][i]).sum())
        .collect();
    assert_all_close(&vjp.to_flat_vec(), &want, 1e-12);
    let direction: Vec<f64> = (0..N).map(|i| 0.3 - 0.17 * i as f64).collect();
    let tangent = RnnGrad {
        w: [direction[0], direction[1], direction[2]].to_vec(),
        u: direction[3],
        x: direction[4..].to_vec(),
    };
    let (jvp_value, dots) = rnn_jvp(&W, U, x, &tangent);
    assert_eq!(jvp_value, value);
    let want: Vec<f64> = (0..3)
        .map(|k| (0..N).map(|i| rows[k][i] * direction[i]).sum())
        .collect();
    assert_all_close(&dots, &want, 1e-12);
    let (vjp_k, _) = rnn_k2_vjp(&W, U, x, &seed);
    same_bits(&vjp_k, &value, "checkpointed vjp value");
    same_bits(
        &rnn_k2_vjp(&W, U, x, &seed).1.to_flat_vec(),
        &vjp.to_flat_vec(),
        "checkpointed vjp",
    );
}

#[test]
fn a_replaced_state_matches_num_dual_its_scalar_rows_and_differences() {
    check_rnn::<4>(SEQUENCES[0]);
    check_rnn::<5>(SEQUENCES[1]);
    check_rnn::<6>(SEQUENCES[2]);
    check_rnn::<9>(SEQUENCES[3]);
}

#[test]
fn a_two_step_state_has_the_jacobian_derived_by_hand() {
    // n = 1: h₁ = tanh(w·h₀ + u·x₀ + 0.2·h₀), h₂ = tanh(w·h₁ + u·x₁ + 0.2·h₁), h₀ = 0.1;
    // outputs h₂, u·h₂ and h₁·x₀ + h₂·x₁.
    let (w, u, x) = (0.8, 0.6, [0.3, -0.5]);
    let h0 = 0.1;
    let h1 = ((w + 0.2) * h0 + u * x[0]).tanh();
    let h2 = ((w + 0.2) * h1 + u * x[1]).tanh();
    let (d1, d2) = (1.0 - h1 * h1, 1.0 - h2 * h2);
    // ∂h₁ = d₁·(h₀ dw + x₀ du + u dx₀); ∂h₂ = d₂·(h₁ dw + (w + 0.2)·∂h₁ + x₁ du + u dx₁).
    let dh1 = [d1 * h0, d1 * x[0], d1 * u, 0.0];
    let own = [h1, x[1], 0.0, u];
    let dh2: Vec<f64> = (0..4).map(|i| d2 * (own[i] + (w + 0.2) * dh1[i])).collect();
    let (value, jac) = rnn_jacobian(&[w], u, &x);
    approx::assert_relative_eq!(value[0], h2, epsilon = 1e-12);
    approx::assert_relative_eq!(value[2], h1 * x[0] + h2 * x[1], epsilon = 1e-12);
    let want = [
        dh2.clone(),
        vec![u * dh2[0], h2 + u * dh2[1], u * dh2[2], u * dh2[3]],
        (0..4)
            .map(|i| {
                x[0] * dh1[i]
                    + x[1] * dh2[i]
                    + if i == 2 { h1 } else { 0.0 }
                    + if i == 3 { h2 } else { 0.0 }
            })
            .collect(),
    ];
    for k in 0..3 {
        assert_all_close(&jac[k].to_flat_vec(), &want[k], 1e-12);
    }
}

// ---- an LSTM-like cell: `cell` and `hidden` updating each other in place, a tuple of outputs

with_outputs! {
    (p: &[f64], x: &[f64], n: usize) {
        let mut hidden = vec![0.0; n];
        let mut cell = vec![0.1; n];
        for t in 0..x.len() {
            for i in 0..n {
                let gate = 1.0 / (1.0 + (-(hidden[i] * p[i] + x[t])).exp());
                let change = (hidden[i] * p[n + i] - x[t]).tanh();
                cell[i] = cell[i] * gate + (1.0 - gate) * change;
                hidden[i] = p[2 * n + i] * cell[i].tanh();
            }
        }
    };
    #[differentiable(wrt(p))] lstm -> (f64, f64) = (hidden[0] * hidden[n - 1], cell[n - 1]);
    #[differentiable(wrt(p), checkpoint = 3)] lstm_k3 -> (f64, f64) = (hidden[0] * hidden[n - 1], cell[n - 1]);
    #[differentiable(wrt(p))] lstm_0 -> f64 = (hidden[0] * hidden[n - 1]);
    #[differentiable(wrt(p))] lstm_1 -> f64 = (cell[n - 1]);
}

fn lstm_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], n: usize) -> [T; 2] {
    let mut hidden = vec![T::zero(); n];
    let mut cell = vec![T::from(0.1); n];
    for &xt in x {
        for i in 0..n {
            let gate = (T::one() + (-(hidden[i] * p[i] + xt)).exp()).recip();
            let change = (hidden[i] * p[n + i] - xt).tanh();
            cell[i] = cell[i] * gate + (T::one() - gate) * change;
            hidden[i] = p[2 * n + i] * cell[i].tanh();
        }
    }
    [hidden[0] * hidden[n - 1], cell[n - 1]]
}

#[test]
fn an_lstm_cell_with_a_tuple_of_outputs_matches_num_dual_and_its_scalar_rows() {
    let p = [0.7, -0.4, 1.2, 0.3, -0.9, 0.5, 1.1, 0.8, -0.6];
    for x in SEQUENCES {
        let (value, jac) = lstm_jacobian(&p, x, 3);
        let (a, b) = lstm(&p, x, 3);
        assert_eq!(value, [a, b]);
        let (dual_value, dual) = dual_jacobian(|q: &[DualSVec64<9>]| lstm_twin(q, x, 3), &p);
        assert_all_close(&value, &dual_value, 1e-12);
        let scalar = [lstm_0_grad(&p, x, 3).1.p, lstm_1_grad(&p, x, 3).1.p];
        let (_, jac_k) = lstm_k3_jacobian(&p, x, 3);
        for k in 0..2 {
            assert_all_close(&jac[k].p, &dual[k], 1e-12);
            same_bits(&jac[k].p, &scalar[k], "row against its scalar function");
            same_bits(&jac_k[k].p, &jac[k].p, "checkpointed row");
            let numeric = numeric_gradient(
                |q| {
                    let (a, b) = lstm(q, x, 3);
                    [a, b][k]
                },
                &p,
            );
            assert_all_close(&jac[k].p, &numeric, 1e-7);
        }
        let seed = [1.5, -0.75];
        let (_, vjp) = lstm_vjp(&p, x, 3, &seed);
        let want: Vec<f64> = (0..9)
            .map(|i| seed[0] * jac[0].p[i] + seed[1] * jac[1].p[i])
            .collect();
        assert_all_close(&vjp.p, &want, 1e-12);
        let t: Vec<f64> = (0..9).map(|i| (f64::from(i) * 0.7).sin()).collect();
        let (_, dots) = lstm_jvp(&p, x, 3, &LstmGrad { p: t.clone() });
        for k in 0..2 {
            let want: f64 = (0..9).map(|i| jac[k].p[i] * t[i]).sum();
            approx::assert_relative_eq!(dots[k], want, epsilon = 1e-12);
        }
    }
}

// ---- two layers × time: each layer's state carried across the steps, the layer's input
// carried across the layers of one step

with_outputs! {
    (p: &[f64], x: &[f64], layers: usize, b: usize) {
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
    };
    #[differentiable(wrt(p))] layered -> [f64; 2] = [state[0], state[layers * b - 1]];
    #[differentiable(wrt(p))] layered_0 -> f64 = (state[0]);
    #[differentiable(wrt(p))] layered_1 -> f64 = (state[layers * b - 1]);
}

fn layered_twin<T: DualNum<Primitive = f64> + Copy>(
    p: &[T],
    x: &[f64],
    layers: usize,
    b: usize,
) -> [T; 2] {
    let mut state = vec![T::zero(); layers * b];
    for &xt in x {
        let mut input: Vec<T> = (0..b).map(|i| p[i] * xt).collect();
        for layer in 0..layers {
            for i in 0..b {
                let h = (p[b + layer * b + i] * state[layer * b + i] + input[i]).tanh();
                state[layer * b + i] = h;
                input[i] = h;
            }
        }
    }
    [state[0], state[layers * b - 1]]
}

#[test]
fn one_and_two_layers_by_time_match_num_dual_and_their_scalar_rows() {
    let p = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7];
    for layers in [1, 2] {
        for x in SEQUENCES {
            let (value, jac) = layered_jacobian(&p, x, layers, 2);
            let (dual_value, dual) =
                dual_jacobian(|q: &[DualSVec64<6>]| layered_twin(q, x, layers, 2), &p);
            assert_all_close(&value, &dual_value, 1e-12);
            let scalar = [
                layered_0_grad(&p, x, layers, 2).1.p,
                layered_1_grad(&p, x, layers, 2).1.p,
            ];
            for k in 0..2 {
                assert_all_close(&jac[k].p, &dual[k], 1e-12);
                same_bits(&jac[k].p, &scalar[k], "row against its scalar function");
            }
            let (_, vjp) = layered_vjp(&p, x, layers, 2, &[0.5, 2.0]);
            let want: Vec<f64> = (0..6)
                .map(|i| 0.5 * jac[0].p[i] + 2.0 * jac[1].p[i])
                .collect();
            assert_all_close(&vjp.p, &want, 1e-12);
        }
    }
}

// ---- `-> Vec<f64>`: the whole state after the loop, one output per element

#[differentiable(wrt(w))]
fn states(w: &[f64], x: &[f64]) -> Vec<f64> {
    let n = w.len();
    let mut h = vec![0.2; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w[j] * h[j] + x[t] * w[(j + 1) % n]).sin();
        }
    }
    let mut r = vec![0.0; n];
    for i in 0..n {
        r[i] = h[i] * w[i];
    }
    r
}

fn states_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64]) -> [T; 3] {
    let n = w.len();
    let mut h = vec![T::from(0.2); n];
    for &xt in x {
        for j in 0..n {
            h[j] = (w[j] * h[j] + w[(j + 1) % n] * xt).sin();
        }
    }
    [h[0] * w[0], h[1] * w[1], h[2] * w[2]]
}

#[test]
fn a_vec_of_the_states_elements_matches_num_dual() {
    for x in SEQUENCES {
        let (value, jac) = states_jacobian(&W, x);
        assert_eq!(value, states(&W, x));
        let (dual_value, dual) = dual_jacobian(|q: &[DualSVec64<3>]| states_twin(q, x), &W);
        assert_all_close(&value, &dual_value, 1e-12);
        for k in 0..3 {
            assert_all_close(&jac[k].w, &dual[k], 1e-12);
        }
        let (_, vjp) = states_vjp(&W, x, &[1.0, -2.0, 0.5]);
        let want: Vec<f64> = (0..3)
            .map(|i| jac[0].w[i] - 2.0 * jac[1].w[i] + 0.5 * jac[2].w[i])
            .collect();
        assert_all_close(&vjp.w, &want, 1e-12);
    }
}

// ---- callers chaining through a vector-valued function with a hidden state

/// A scalar caller reading the three outputs.
#[differentiable]
fn rnn_caller(w: &[f64], u: f64, x: &[f64]) -> f64 {
    let [a, b, c] = rnn(w, u, x);
    a * b + c.sin()
}

/// A vector-valued caller: two rows, each through the callee's outputs.
#[differentiable]
fn rnn_mix(w: &[f64], u: f64, x: &[f64]) -> [f64; 2] {
    let r = rnn(w, u, x);
    [r[0] * r[2], r[1] + u * r[0]]
}

#[test]
fn callers_chain_through_the_callees_jacobian() {
    for x in SEQUENCES {
        let (value, jac) = rnn_jacobian(&W, U, x);
        let rows: Vec<Vec<f64>> = jac.iter().map(Gradient::to_flat_vec).collect();
        let [a, b, c] = value;
        // d(a·b + sin c) = b·da + a·db + cos c·dc.
        let (got, g) = rnn_caller_grad(&W, U, x);
        assert_eq!(got, a * b + c.sin());
        let want: Vec<f64> = (0..rows[0].len())
            .map(|i| b * rows[0][i] + a * rows[1][i] + c.cos() * rows[2][i])
            .collect();
        assert_all_close(&g.to_flat_vec(), &want, 1e-12);
        // rows of rnn_mix: d(a·c) = c·da + a·dc; d(b + u·a) = db + u·da (+ a du).
        let (mix, mix_jac) = rnn_mix_jacobian(&W, U, x);
        assert_eq!(mix, [a * c, b + U * a]);
        let first: Vec<f64> = (0..rows[0].len())
            .map(|i| c * rows[0][i] + a * rows[2][i])
            .collect();
        let mut second: Vec<f64> = (0..rows[0].len())
            .map(|i| rows[1][i] + U * rows[0][i])
            .collect();
        second[3] += a;
        assert_all_close(&mix_jac[0].to_flat_vec(), &first, 1e-12);
        assert_all_close(&mix_jac[1].to_flat_vec(), &second, 1e-12);
    }
}

// ---- many carried arrays, three outputs: each row's sweeps add loops over the arrays'
// elements (more than 64 loops in all, the limit before masks of 128 bits)

#[differentiable]
fn three_states(w: &[f64], x: &[f64], a: f64, d: usize, n: usize) -> [f64; 3] {
    let mut h1 = vec![0.77; 2];
    let mut l1 = 0.0;
    for _i in 0..d {
        for j in 0..w.len() {
            for k in 0..2 {
                h1[k] = (0.67 * h1[k] + w[j]).tanh();
            }
            l1 += (h1[0] - w[0] / (1.0 + w[d - 1] * w[d - 1])).powi(2);
        }
    }
    let r1 = h1[1] * 1.4;
    let mut h2 = vec![0.14; 3];
    let mut c2 = h2.clone();
    let mut l2 = 0.0;
    for i in 0..x.len() {
        for _j in 0..n {
            for k in 0..3 {
                h2[k] = (-0.85 * h2[k] + 0.66 * c2[k] + a * x[i]).tanh();
                c2[k] = (0.87 * c2[k] + 0.51 * h2[k] + r1 * x[i]).tanh();
            }
            l2 += (h2[0] - a).powi(2);
        }
    }
    let r2 = h2[0] * 1.02 + c2[2];
    let mut h3 = vec![-0.45; 2];
    let mut l3 = 0.0;
    for i in 0..n - 1 {
        for j in 0..d {
            for k in 0..2 {
                h3[k] = 0.5 * (0.19 * h3[k] + l1).sin();
            }
            l3 += (h3[1] - x[i * d + j]).powi(2);
        }
    }
    let r3 = h3[1] * 1.15;
    [
        r3 + l3 - r2 * r2,
        r3 * l3 + r2,
        r3 * r3 * l3 + r1.sin() + l2,
    ]
}

fn three_states_twin<T: DualNum<Primitive = f64> + Copy>(q: &[T], d: usize, n: usize) -> [T; 3] {
    let (w, x, a) = (&q[..3], &q[3..7], q[7]);
    let mut h1 = vec![T::from(0.77); 2];
    let mut l1 = T::zero();
    for _ in 0..d {
        for &wj in w {
            for k in 0..2 {
                h1[k] = (h1[k] * 0.67 + wj).tanh();
            }
            l1 += (h1[0] - w[0] / (w[d - 1] * w[d - 1] + 1.0)).powi(2);
        }
    }
    let r1 = h1[1] * 1.4;
    let mut h2 = vec![T::from(0.14); 3];
    let mut c2 = h2.clone();
    let mut l2 = T::zero();
    for &xi in x {
        for _ in 0..n {
            for k in 0..3 {
                h2[k] = (h2[k] * -0.85 + c2[k] * 0.66 + a * xi).tanh();
                c2[k] = (c2[k] * 0.87 + h2[k] * 0.51 + r1 * xi).tanh();
            }
            l2 += (h2[0] - a).powi(2);
        }
    }
    let r2 = h2[0] * 1.02 + c2[2];
    let mut h3 = vec![T::from(-0.45); 2];
    let mut l3 = T::zero();
    for i in 0..n - 1 {
        for j in 0..d {
            for k in 0..2 {
                h3[k] = (h3[k] * 0.19 + l1).sin() * 0.5;
            }
            l3 += (h3[1] - x[i * d + j]).powi(2);
        }
    }
    let r3 = h3[1] * 1.15;
    [
        r3 + l3 - r2 * r2,
        r3 * l3 + r2,
        r3 * r3 * l3 + r1.sin() + l2,
    ]
}

#[test]
fn many_carried_arrays_and_three_outputs_match_num_dual() {
    let (w, x, a) = ([0.6, -0.3, 0.8], [0.2, -0.5, 0.7, 0.1], 0.4);
    let (value, jac) = three_states_jacobian(&w, &x, a, 2, 3);
    let mut p = w.to_vec();
    p.extend(x);
    p.push(a);
    let (dual_value, dual) = dual_jacobian(|q: &[DualSVec64<8>]| three_states_twin(q, 2, 3), &p);
    assert_all_close(&value, &dual_value, 1e-12);
    for k in 0..3 {
        assert_all_close(&jac[k].to_flat_vec(), &dual[k], 1e-12);
    }
}
