//! Arrays carried from one iteration of a loop to the next (a hidden-state vector): `h = next;`
//! and updates in place, two arrays updating each other (an LSTM cell's `cell` and `hidden`), a
//! matrix recurrence (`next[j] += W[j·n + k]·h[k]`), sums reading the state along the sequence,
//! the state started from `vec![v; n]` or copied from a slice, and read after the loop.
//! Oracles: the gradient of a two-step recurrence derived by hand (exact to 1e-12), num-dual's
//! forward mode on generic twins of the functions (1e-12), central differences, and
//! `checkpoint = K` bit for bit equal to without.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)] // index loops and copy loops are the language under test

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

/// `h = next;`: a new vector each step, `h[0]` read after the loop.
#[differentiable]
fn elementwise(w: f64, x: &[f64], n: usize) -> f64 {
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

/// The same recurrence, updated in place.
#[differentiable]
fn elementwise_in_place(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.5; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
        }
    }
    h[0]
}

#[test]
fn a_two_step_vector_recurrence_matches_its_hand_derived_gradient() {
    let (w, x) = (0.8, [0.3, -0.2]);
    // a₁ = tanh(w·h₀ + x₀), a₂ = tanh(w·a₁ + x₁), h₀ = 0.5.
    let h0 = 0.5;
    let a1 = (w * h0 + x[0]).tanh();
    let a2 = (w * a1 + x[1]).tanh();
    let (d1, d2) = (1.0 - a1 * a1, 1.0 - a2 * a2);
    let dw = d2 * (a1 + w * d1 * h0);
    let dx = [d2 * w * d1, d2];
    for n in [1, 2, 3] {
        let (value, g) = elementwise_grad(w, &x, n);
        assert_relative_eq!(value, a2, epsilon = 1e-12);
        assert_relative_eq!(g.w, dw, epsilon = 1e-12);
        assert_relative_eq!(g.x[0], dx[0], epsilon = 1e-12);
        assert_relative_eq!(g.x[1], dx[1], epsilon = 1e-12);
        let (value_in_place, g_in_place) = elementwise_in_place_grad(w, &x, n);
        assert_eq!(value_in_place, value);
        assert_eq!((g_in_place.w, &g_in_place.x), (g.w, &g.x));
    }
    // No step: the state as it started; no element: nothing read but `h[0]`, which panics as
    // the function does.
    let (value, g) = elementwise_grad(w, &[], 2);
    assert_eq!((value, g.w), (0.5, 0.0));
    assert!(std::panic::catch_unwind(|| elementwise_grad(w, &x, 0)).is_err());
    assert!(std::panic::catch_unwind(|| elementwise(w, &x, 0)).is_err());
}

/// An LSTM-like cell per element: `cell` and `hidden` update each other in place, gates from
/// weights per element, a loss summed along the sequence reading every element of the state.
#[differentiable(wrt(p))]
fn cell_and_hidden(p: &[f64], x: &[f64], n: usize) -> f64 {
    let mut hidden = vec![0.0; n];
    let mut cell = vec![0.1; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for i in 0..n {
            let gate = 1.0 / (1.0 + (-(hidden[i] * p[i] + x[t])).exp());
            let change = (hidden[i] * p[n + i] - x[t]).tanh();
            cell[i] = cell[i] * gate + (1.0 - gate) * change;
            hidden[i] = p[2 * n + i] * cell[i].tanh();
        }
        for i in 0..n {
            loss += (hidden[i] - x[t]).powi(2);
        }
    }
    loss + cell[n - 1]
}

fn cell_and_hidden_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], n: usize) -> T {
    let mut hidden = vec![T::zero(); n];
    let mut cell = vec![T::from(0.1); n];
    let mut loss = T::zero();
    for &xt in x {
        for i in 0..n {
            let gate = (T::one() + (-(hidden[i] * p[i] + xt)).exp()).recip();
            let change = (hidden[i] * p[n + i] - xt).tanh();
            cell[i] = cell[i] * gate + (T::one() - gate) * change;
            hidden[i] = p[2 * n + i] * cell[i].tanh();
        }
        loss += hidden
            .iter()
            .map(|&h| (h - xt).powi(2))
            .fold(T::zero(), |a, b| a + b);
    }
    loss + cell[n - 1]
}

#[test]
fn cell_and_hidden_updating_each_other_match_num_dual_and_differences() {
    let p = [0.7, -0.4, 1.2, 0.3, -0.9, 0.5, 1.1, 0.8, -0.6];
    let x = [0.2, -0.5, 0.9, 0.1, -0.3];
    let (value, g) = cell_and_hidden_grad(&p, &x, 3);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<9>, 9>| cell_and_hidden_twin(q.as_slice(), &x, 3),
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.p, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| cell_and_hidden(q, &x, 3), &p);
    assert_all_close(&g.p, &numeric, 1e-7);
}

/// A recurrent network: `next = tanh(W·h + u·x[t])`, the matrix-vector product added into a
/// vector, the state started from a slice of data and read whole after the loop.
#[differentiable(wrt(m, u))]
fn matrix_rnn(m: &[f64], u: &[f64], x: &[f64], state: &[f64]) -> f64 {
    let n = u.len();
    let mut h = vec![0.0; n];
    for j in 0..n {
        h[j] = state[j];
    }
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            for k in 0..n {
                next[j] += m[j * n + k] * h[k];
            }
        }
        for j in 0..n {
            next[j] = (next[j] + u[j] * x[t]).tanh();
        }
        h = next;
        loss += h[0] * x[t];
    }
    let mut end = 0.0;
    for j in 0..n {
        end += h[j] * h[j];
    }
    loss + end
}

fn matrix_rnn_twin<T: DualNum<Primitive = f64> + Copy>(
    m: &[T],
    u: &[T],
    x: &[f64],
    state: &[f64],
) -> T {
    let n = u.len();
    let mut h: Vec<T> = state[..n].iter().map(|&s| T::from(s)).collect();
    let mut loss = T::zero();
    for &xt in x {
        h = (0..n)
            .map(|j| {
                let z = (0..n).fold(T::zero(), |a, k| a + m[j * n + k] * h[k]);
                (z + u[j] * xt).tanh()
            })
            .collect();
        loss += h[0] * xt;
    }
    loss + h.iter().fold(T::zero(), |a, &v| a + v * v)
}

#[test]
fn a_matrix_recurrence_matches_num_dual_and_differences() {
    let m = [0.5, -0.3, 0.2, 0.1, 0.6, -0.4, -0.2, 0.3, 0.7];
    let u = [0.9, -0.5, 0.4];
    let x = [0.3, -0.8, 0.5, 1.1];
    let state = [0.1, -0.2, 0.3, 9.0];
    let (value, g) = matrix_rnn_grad(&m, &u, &x, &state);
    let mut p = m.to_vec();
    p.extend(u);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<12>, 12>| {
            matrix_rnn_twin(&q.as_slice()[..9], &q.as_slice()[9..], &x, &state)
        },
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.m, &dual.as_slice()[..9], 1e-12);
    assert_all_close(&g.u, &dual.as_slice()[9..], 1e-12);
    let numeric = numeric_gradient(|q| matrix_rnn(&q[..9], &q[9..], &x, &state), &p);
    assert_all_close(&g.m, &numeric[..9], 1e-7);
    assert_all_close(&g.u, &numeric[9..], 1e-7);
}

/// The state started from a differentiated slice: its gradient is the adjoint of the state
/// before the first step.
#[differentiable]
fn from_initial_state(h0: &[f64], w: f64, x: &[f64]) -> f64 {
    let n = h0.len();
    let mut h = vec![0.0; n];
    for j in 0..n {
        h[j] = h0[j];
    }
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * h[j]).sin() + x[t] * h[(j + 1) % n];
        }
        h = next;
    }
    h[0] * h[n - 1]
}

fn from_initial_state_twin<T: DualNum<Primitive = f64> + Copy>(h0: &[T], w: T, x: &[f64]) -> T {
    let n = h0.len();
    let mut h = h0.to_vec();
    for &xt in x {
        h = (0..n)
            .map(|j| (w * h[j]).sin() + h[(j + 1) % n] * xt)
            .collect();
    }
    h[0] * h[n - 1]
}

#[test]
fn the_initial_state_gets_the_adjoint_of_the_first_step() {
    let h0 = [0.4, -0.7, 1.3];
    let (w, x) = (0.9, [0.5, -0.2, 0.8]);
    let (value, g) = from_initial_state_grad(&h0, w, &x);
    let mut p = h0.to_vec();
    p.push(w);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<4>, 4>| from_initial_state_twin(&q.as_slice()[..3], q[3], &x),
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.h0, &dual.as_slice()[..3], 1e-12);
    assert_relative_eq!(g.w, dual[3], epsilon = 1e-12);
}

/// Layers × time: each layer's state carried across the time steps (in place, per layer), and
/// the input of a layer carried across the layers of one time step.
#[differentiable(wrt(p))]
fn layered(p: &[f64], x: &[f64], layers: usize, b: usize) -> f64 {
    let mut state = vec![0.0; layers * b];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut input = vec![0.0; b];
        for i in 0..b {
            input[i] = x[t] * p[i];
        }
        for layer in 0..layers {
            let mut next = vec![0.0; layers * b];
            for k in 0..layers * b {
                next[k] = state[k];
            }
            let mut out = vec![0.0; b];
            for i in 0..b {
                let h = (p[b + layer * b + i] * state[layer * b + i] + input[i]).tanh();
                out[i] = h;
            }
            for i in 0..b {
                next[layer * b + i] = out[i];
            }
            state = next;
            input = out;
        }
        for i in 0..b {
            loss += (input[i] - x[t]).powi(2);
        }
    }
    loss
}

fn layered_twin<T: DualNum<Primitive = f64> + Copy>(
    p: &[T],
    x: &[f64],
    layers: usize,
    b: usize,
) -> T {
    let mut state = vec![T::zero(); layers * b];
    let mut loss = T::zero();
    for &xt in x {
        let mut input: Vec<T> = (0..b).map(|i| p[i] * xt).collect();
        for layer in 0..layers {
            for i in 0..b {
                let h = (p[b + layer * b + i] * state[layer * b + i] + input[i]).tanh();
                state[layer * b + i] = h;
                input[i] = h;
            }
        }
        loss += input
            .iter()
            .map(|&v| (v - xt).powi(2))
            .fold(T::zero(), |a, v| a + v);
    }
    loss
}

/// `grad` and `f` (a function of [`layered_twin`]'s parameters computing the same loss) at one
/// point, against num-dual on the twin (1e-12) and central differences of `f`.
fn check_against_layered_twin(
    grad: impl Fn(&[f64], &[f64], usize, usize) -> (f64, Vec<f64>),
    f: impl Fn(&[f64], &[f64], usize, usize) -> f64,
) {
    let (layers, b) = (3, 2);
    let p = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3];
    let x = [0.4, -0.9, 0.2, 0.7];
    let (value, g) = grad(&p, &x, layers, b);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<8>, 8>| layered_twin(q.as_slice(), &x, layers, b),
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| f(q, &x, layers, b), &p);
    assert_all_close(&g, &numeric, 1e-7);
}

#[test]
fn layers_by_time_match_num_dual_and_differences() {
    check_against_layered_twin(
        |p, x, l, b| {
            let (v, g) = layered_grad(p, x, l, b);
            (v, g.p)
        },
        layered,
    );
}

/// [`layered`] updating each layer's stretch of the state in place, its offset spelled a
/// different way at each access (`layer * b + i`, `i + b * layer`, `b * layer + i`): the same
/// element, so one stretch written in place and read back where it was written.
#[differentiable(wrt(p))]
fn layered_in_place_spellings(p: &[f64], x: &[f64], layers: usize, b: usize) -> f64 {
    let mut state = vec![0.0; layers * b];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut input = vec![0.0; b];
        for i in 0..b {
            input[i] = x[t] * p[i];
        }
        for layer in 0..layers {
            for i in 0..b {
                state[layer * b + i] =
                    (p[b + layer * b + i] * state[i + b * layer] + input[i]).tanh();
                input[i] = state[b * layer + i];
            }
        }
        for i in 0..b {
            loss += (input[i] - x[t]).powi(2);
        }
    }
    loss
}

#[test]
fn an_offset_spelled_differently_at_each_access_is_one_element() {
    check_against_layered_twin(
        |p, x, l, b| {
            let (v, g) = layered_in_place_spellings_grad(p, x, l, b);
            (v, g.p)
        },
        layered_in_place_spellings,
    );
}

/// Layers × time whose input does not change across the time steps (`inp[j] = s` reads no
/// index of the time loop: the array is built once, before it): the layer loop's initial value
/// takes the adjoint of every step. (Found by the fuzzer: this adjoint was dropped.)
#[differentiable]
#[allow(clippy::useless_vec)] // the program as the fuzzer wrote it: a `vec!` state
fn invariant_input(u: &[f64], x: &[f64]) -> f64 {
    let s = u[0];
    let mut hs = vec![-0.72; 4];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut inp = vec![0.0; 2];
        for j in 0..2 {
            inp[j] = s;
        }
        for layer in 0..2 {
            for j in 0..2 {
                hs[2 * layer + j] = (0.59 * inp[j] - 0.63 * hs[2 * layer + j] - 1.02 * x[t]).tanh();
                inp[j] = hs[2 * layer + j];
            }
        }
        loss += (inp[0] - u[1]).powi(2);
    }
    hs[0] * 1.11 - loss
}

fn invariant_input_twin<T: DualNum<Primitive = f64> + Copy>(u: &[T], x: &[T]) -> T {
    let mut hs = [T::from(-0.72); 4];
    let mut loss = T::zero();
    for &xt in x {
        let mut inp = [u[0]; 2];
        for layer in 0..2 {
            for j in 0..2 {
                let h = (inp[j] * 0.59 - hs[2 * layer + j] * 0.63 - xt * 1.02).tanh();
                hs[2 * layer + j] = h;
                inp[j] = h;
            }
        }
        loss += (inp[0] - u[1]).powi(2);
    }
    hs[0] * 1.11 - loss
}

#[test]
fn an_input_built_before_the_time_loop_gets_the_adjoint_of_every_step() {
    let (u, x) = ([0.3, -0.5], [0.7, 0.2, -0.4]);
    let (value, g) = invariant_input_grad(&u, &x);
    let p: Vec<f64> = u.iter().chain(&x).copied().collect();
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<5>, 5>| invariant_input_twin(&q.as_slice()[..2], &q.as_slice()[2..]),
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    let ours: Vec<f64> = g.u.iter().chain(&g.x).copied().collect();
    assert_all_close(&ours, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| invariant_input(&q[..2], &q[2..]), &p);
    assert_all_close(&ours, &numeric, 1e-7);
}

/// The same function twice, the second with `checkpoint = K`.
macro_rules! twins {
    ($plain:ident, $checked:ident, $k:literal, ($($params:tt)*) $body:block) => {
        #[differentiable]
        fn $plain($($params)*) -> f64 $body

        #[differentiable(checkpoint = $k)]
        fn $checked($($params)*) -> f64 $body
    };
}

// A hidden-state vector beside a product recurrence; `checkpoint = 3` saves both every third
// iteration (the array's rows and the loss beside it, and the product). More shapes, at more
// values of `K` and loop lengths: `tests/checkpoint.rs`.
twins!(state_and_product, state_and_product_k3, 3, (w: &[f64], x: &[f64]) {
    let n = w.len();
    let mut h = vec![0.1; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w[j] * h[j] + x[t]).tanh();
        }
        loss += h[t % n] * x[t];
    }
    let mut p = 1.0;
    for t in 0..x.len() {
        p *= (w[t % n] * x[t]).sin() + 1.5;
    }
    loss + p + h[n - 1]
});

#[test]
fn checkpoints_give_the_same_gradient_bit_for_bit() {
    let w = [0.7, -0.3, 1.1];
    let x = [0.5, -0.2, 0.9, 0.4, -0.8, 0.3, 0.6];
    let (value, g) = state_and_product_grad(&w, &x);
    let (value_k, g_k) = state_and_product_k3_grad(&w, &x);
    assert_eq!(value.to_bits(), value_k.to_bits());
    for (a, b) in g.w.iter().zip(&g_k.w).chain(g.x.iter().zip(&g_k.x)) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    let mut p = w.to_vec();
    p.extend(x);
    let numeric = numeric_gradient(|q| state_and_product(&q[..3], &q[3..]), &p);
    let mut got = g.w.clone();
    got.extend(&g.x);
    assert_all_close(&got, &numeric, 1e-7);
}

/// A caller chaining through a function with a hidden-state vector (its `__vjp`).
#[differentiable]
fn caller(w: &[f64], x: &[f64]) -> f64 {
    let s = state_and_product(w, x);
    s * s + w[0]
}

#[test]
fn a_caller_chains_through_the_vector_jacobian_product() {
    let w = [0.7, -0.3, 1.1];
    let x = [0.5, -0.2, 0.9, 0.4];
    let (value, g) = caller_grad(&w, &x);
    let (inner, gi) = state_and_product_grad(&w, &x);
    assert_eq!(value, inner * inner + w[0]);
    for j in 0..3 {
        let want = 2.0 * inner * gi.w[j] + if j == 0 { 1.0 } else { 0.0 };
        assert_relative_eq!(g.w[j], want, epsilon = 1e-12);
    }
    for t in 0..4 {
        assert_relative_eq!(g.x[t], 2.0 * inner * gi.x[t], epsilon = 1e-12);
    }
}

/// The state reset to the same array in every iteration, read before the reset: the adjoint of
/// that array is summed over the iterations from the reverse loop.
#[differentiable]
fn reset_each_step(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![0.0; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        loss += h[0] * x[t];
        for j in 0..n {
            h[j] = w[j] * 2.0;
        }
    }
    loss + h[n - 1]
}

#[test]
fn a_state_reset_to_the_same_array_sums_its_adjoint_over_the_iterations() {
    let w = [0.7, -0.3, 1.1];
    let x = [0.5, -0.2, 0.9, 0.4];
    // loss = Σ_{t ≥ 1} 2·w₀·x[t] + 2·w₂.
    let (value, g) = reset_each_step_grad(&w, &x);
    let tail: f64 = x[1..].iter().sum();
    assert_relative_eq!(value, 2.0 * w[0] * tail + 2.0 * w[2], epsilon = 1e-12);
    assert_relative_eq!(g.w[0], 2.0 * tail, epsilon = 1e-12);
    assert_eq!(g.w[1], 0.0);
    assert_relative_eq!(g.w[2], 2.0, epsilon = 1e-12);
    assert_eq!(g.x[0], 0.0);
    for t in 1..4 {
        assert_relative_eq!(g.x[t], 2.0 * w[0], epsilon = 1e-12);
    }
    // No iteration: the state as it started.
    let (value, g) = reset_each_step_grad(&w, &[]);
    assert_eq!((value, g.w.clone()), (0.0, vec![0.0; 3]));
}

/// Updates under a condition, a `continue` and a `break` on the data.
#[differentiable(wrt(w))]
fn guarded_updates(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![0.2; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        if x[t] > 2.0 {
            break;
        }
        if x[t] < -1.0 {
            continue;
        }
        if x[t] > 0.0 {
            for j in 0..n {
                h[j] = (w[j] * h[j] + x[t]).tanh();
            }
        } else {
            let mut next = vec![0.0; n];
            for j in 0..n {
                next[j] = h[j] * w[j] - x[t];
            }
            h = next;
        }
        loss += h[0] * h[n - 1];
    }
    loss + h[1]
}

fn guarded_updates_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64]) -> T {
    let n = w.len();
    let mut h = vec![T::from(0.2); n];
    let mut loss = T::zero();
    for &xt in x {
        if xt > 2.0 {
            break;
        }
        if xt < -1.0 {
            continue;
        }
        if xt > 0.0 {
            for j in 0..n {
                h[j] = (w[j] * h[j] + xt).tanh();
            }
        } else {
            h = (0..n).map(|j| h[j] * w[j] - xt).collect();
        }
        loss += h[0] * h[n - 1];
    }
    loss + h[1]
}

#[test]
fn updates_under_conditions_continue_and_break_match_num_dual() {
    let w = [0.8, -0.6, 1.2];
    for x in [
        vec![0.5, -0.4, 1.1, -1.5, 0.3, 2.5, 0.7],
        vec![-0.2, 0.9, -3.0, 0.4],
        vec![3.0, 0.5],
    ] {
        let (value, g) = guarded_updates_grad(&w, &x);
        let (dual_value, dual) = gradient(
            |q: SVector<DualSVec64<3>, 3>| guarded_updates_twin(q.as_slice(), &x),
            &SVector::from_column_slice(&w),
        );
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        assert_all_close(&g.w, dual.as_slice(), 1e-12);
    }
}

/// A state of constant length (`[v; 3]`, on the stack) that only the data drives: no reverse
/// sweep, the forward loop alone.
#[differentiable(wrt(w))]
fn data_driven_state(w: f64, x: &[f64]) -> f64 {
    let mut h = [0.3; 3];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = [0.0; 3];
        for j in 0..3 {
            next[j] = (h[j] + x[t] * (j as f64)).sin();
        }
        h = next;
        loss += w * h[t % 3];
    }
    loss
}

#[test]
fn a_state_only_the_data_drives_gives_its_sum_as_the_gradient() {
    let x = [0.5, -0.2, 0.9, 0.4];
    // The loss is linear in w: its derivative is the loss at w = 1.
    let (value, g) = data_driven_state_grad(0.7, &x);
    let at_one = data_driven_state(1.0, &x);
    assert_relative_eq!(value, 0.7 * at_one, epsilon = 1e-12);
    assert_relative_eq!(g.w, at_one, epsilon = 1e-12);
}

/// The same state, differentiated with respect to the data too, on the stack.
#[differentiable]
fn stack_state(w: f64, x: &[f64]) -> f64 {
    let mut h = [0.3; 3];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..3 {
            h[j] = (w * h[j] + x[t] * (j as f64)).sin();
        }
        loss += h[t % 3] * h[2];
    }
    loss
}

#[test]
fn a_state_on_the_stack_matches_central_differences() {
    let x = [0.5, -0.2, 0.9, 0.4, -0.7];
    let (value, g) = stack_state_grad(0.8, &x);
    assert_eq!(value, stack_state(0.8, &x));
    let mut p = vec![0.8];
    p.extend(x);
    let numeric = numeric_gradient(|q| stack_state(q[0], &q[1..]), &p);
    let mut got = vec![g.w];
    got.extend(&g.x);
    assert_all_close(&got, &numeric, 1e-7);
}

/// A local array written at a fixed offset from the loop's index (`z[1 + c]`), its first
/// element kept.
#[differentiable]
fn shifted(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.5; n + 1];
    for c in 0..n {
        z[1 + c] = w[c] * x;
    }
    z[0] * z[n] + z[1]
}

#[test]
fn a_write_at_an_offset_from_the_index_keeps_the_other_elements() {
    let (w, x) = ([0.7, -0.3, 1.1], 1.3);
    // z = [0.5, w₀x, w₁x, w₂x]: f = 0.5·w₂x + w₀x.
    let (value, g) = shifted_grad(&w, x);
    assert_relative_eq!(value, 0.5 * w[2] * x + w[0] * x, epsilon = 1e-12);
    assert_relative_eq!(g.w[0], x, epsilon = 1e-12);
    assert_eq!(g.w[1], 0.0);
    assert_relative_eq!(g.w[2], 0.5 * x, epsilon = 1e-12);
    assert_relative_eq!(g.x, 0.5 * w[2] + w[0], epsilon = 1e-12);
}
