//! Second derivatives through arrays carried from one iteration of a loop to the next (a
//! hidden-state vector), under `#[differentiable(hessian)]`: `_hessian` and `_hvp`. The state's
//! tangent is a second array carried beside it in the same loop, and the reverse pass sweeps
//! both back.
//!
//! Oracles: the Hessian of a two-step recurrence derived by hand (1e-12), num-dual's
//! second-order forward mode (`num_dual::hessian`) on generic twins written on their own
//! (1e-10), central differences of the generated `_grad`, `_hvp` against `H·v`, symmetry, and
//! `checkpoint = K` bit for bit equal to without. Sequences of length 0, 1, 2 and 5; one layer
//! and two (two arrays, the second reading the first).
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use num_dual::DualNum;
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, dual_hessian, hessian_by_differences, mat_vec};

/// The sequences every test runs over: lengths 0, 1, 2 and 5.
const SEQUENCES: [&[f64]; 4] = [&[], &[0.4], &[0.4, -0.7], &[0.4, -0.7, 1.1, 0.2, -0.5]];

/// Asserts `a` and `b` are the same floats, bit for bit.
fn same_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}[{i}]: {x} vs {y}");
    }
}

/// Asserts the row-major `n × n` matrix `h` is symmetric, bit for bit.
fn symmetric(h: &[f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            assert_eq!(
                h[i * n + j].to_bits(),
                h[j * n + i].to_bits(),
                "H[{i}][{j}]"
            );
        }
    }
}

// ---- a scalar weight only: the symbolic `[[f64; K]; K]` Hessian

/// The state updated in place, read after the loop (the shape `hessian` refused).
#[differentiable(hessian, wrt(w, u))]
fn in_place(w: f64, u: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + u * x[t]).tanh();
        }
    }
    h[0] * h[n - 1]
}

#[test]
fn a_two_step_state_has_the_hessian_derived_by_hand() {
    // n = 1, u = 1: h₁ = tanh(w·h₀ + x₀), h₂ = tanh(w·h₁ + x₁), f = h₂².
    let (w, x, h0) = (0.8, [0.3, -0.5], 0.1);
    let h1 = (w * h0 + x[0]).tanh();
    let d1 = 1.0 - h1 * h1;
    let (h1w, h1ww) = (d1 * h0, -2.0 * h1 * d1 * h0 * h0);
    // (h₁' = d₁·h₀, h₁'' = −2·h₁·h₁'·h₀.) z = w·h₁ + x₁: z' = h₁ + w·h₁', z'' = 2·h₁' + w·h₁''.
    let (zw, zww) = (h1 + w * h1w, 2.0 * h1w + w * h1ww);
    let h2 = (w * h1 + x[1]).tanh();
    let d2 = 1.0 - h2 * h2;
    let (h2w, h2ww) = (d2 * zw, d2 * zww - 2.0 * h2 * d2 * zw * zw);
    // f = h₂²: f' = 2·h₂·h₂', f'' = 2·h₂'² + 2·h₂·h₂''.
    let (value, g, h) = in_place_hessian(w, 1.0, &x, 1);
    assert_relative_eq!(value, h2 * h2, epsilon = 1e-12);
    assert_relative_eq!(g.w, 2.0 * h2 * h2w, epsilon = 1e-12);
    assert_relative_eq!(h[0][0], 2.0 * h2w * h2w + 2.0 * h2 * h2ww, epsilon = 1e-12);
}

fn in_place_twin<T: DualNum<Primitive = f64> + Copy>(q: &[T], x: &[f64], n: usize) -> T {
    let (w, u) = (q[0], q[1]);
    let mut h = vec![T::from(0.1); n];
    for &xt in x {
        for j in 0..n {
            h[j] = (w * h[j] + u * xt).tanh();
        }
    }
    h[0] * h[n - 1]
}

#[test]
fn a_state_in_place_matches_num_dual_and_differences() {
    let (w, u) = (0.7, -1.1);
    for n in [1, 3] {
        for x in SEQUENCES {
            let (value, g, h) = in_place_hessian(w, u, x, n);
            let (dual_value, dual_g, dual_h) =
                dual_hessian::<2>(|q| in_place_twin(q, x, n), &[w, u]);
            assert_relative_eq!(value, dual_value, epsilon = 1e-12);
            close(&[g.w, g.u], &dual_g, 1e-12, "∇");
            let flat = [h[0][0], h[0][1], h[1][0], h[1][1]];
            close(&flat, &dual_h, 1e-10, "H");
            symmetric(&flat, 2);
            let numeric = hessian_by_differences(
                |q| {
                    let g = in_place_grad(q[0], q[1], x, n).1;
                    vec![g.w, g.u]
                },
                &[w, u],
            );
            close(&flat, &numeric, 1e-6, "H by differences");
            let v = InPlaceGrad { w: 0.3, u: -1.7 };
            let (_, _, hv) = in_place_hvp(w, u, x, n, &v);
            close(&[hv.w, hv.u], &mat_vec(&flat, &[0.3, -1.7]), 1e-12, "H·v");
        }
    }
}

// ---- a slice of weights, the state replaced each step, a loss summed beside it

macro_rules! twins {
    ($plain:ident, $checked:ident, ($($attr:tt)*), $k:literal, ($($params:tt)*) $body:block) => {
        #[differentiable($($attr)*)]
        fn $plain($($params)*) -> f64 $body

        #[differentiable($($attr)*, checkpoint = $k)]
        fn $checked($($params)*) -> f64 $body
    };
}

twins!(rnn, rnn_k2, (hessian), 2, (w: &[f64], u: f64, x: &[f64]) {
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
    loss + h[n - 1] * h[n - 1] * u
});

fn rnn_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], u: T, x: &[T]) -> T {
    let n = w.len();
    let mut h = vec![T::from(0.1); n];
    let mut loss = T::zero();
    for &xt in x {
        h = (0..n)
            .map(|j| (w[j] * h[j] + u * xt + h[(j + 1) % n] * 0.2).tanh())
            .collect();
        loss += h[0] * xt;
    }
    loss + h[n - 1] * h[n - 1] * u
}

const W: [f64; 3] = [0.7, -0.4, 1.2];
const U: f64 = 0.9;

fn check_rnn<const N: usize>(x: &[f64]) {
    assert_eq!(N, 4 + x.len());
    let mut p = W.to_vec();
    p.push(U);
    p.extend(x);
    let (value, g, h) = rnn_hessian(&W, U, x);
    let (dual_value, dual_g, dual_h) = dual_hessian::<N>(|q| rnn_twin(&q[..3], q[3], &q[4..]), &p);
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    close(&g.to_flat_vec(), &dual_g, 1e-12, "∇");
    close(&h, &dual_h, 1e-10, "H");
    symmetric(&h, N);
    let numeric = hessian_by_differences(|q| rnn_grad(&q[..3], q[3], &q[4..]).1.to_flat_vec(), &p);
    close(&h, &numeric, 1e-6, "H by differences");
    let direction: Vec<f64> = (0..N).map(|i| 0.3 - 0.17 * i as f64).collect();
    let v = RnnGrad {
        w: direction[..3].to_vec(),
        u: direction[3],
        x: direction[4..].to_vec(),
    };
    let (hv_value, hv_g, hv) = rnn_hvp(&W, U, x, &v);
    assert_eq!(hv_value, value);
    same_bits(&hv_g.to_flat_vec(), &g.to_flat_vec(), "∇ of _hvp");
    close(
        &hv.to_flat_vec(),
        &mat_vec(&dual_h, &direction),
        1e-10,
        "H·v",
    );
    // `checkpoint = 2`: the same, bit for bit.
    let (value_k, g_k, h_k) = rnn_k2_hessian(&W, U, x);
    assert_eq!(value_k.to_bits(), value.to_bits());
    same_bits(&g_k.to_flat_vec(), &g.to_flat_vec(), "checkpointed ∇");
    same_bits(&h_k, &h, "checkpointed H");
    same_bits(
        &rnn_k2_hvp(
            &W,
            U,
            x,
            &RnnK2Grad {
                w: v.w.clone(),
                u: v.u,
                x: v.x.clone(),
            },
        )
        .2
        .to_flat_vec(),
        &hv.to_flat_vec(),
        "checkpointed H·v",
    );
}

#[test]
fn a_replaced_state_matches_num_dual_and_differences() {
    check_rnn::<4>(SEQUENCES[0]);
    check_rnn::<5>(SEQUENCES[1]);
    check_rnn::<6>(SEQUENCES[2]);
    check_rnn::<9>(SEQUENCES[3]);
}

// ---- an LSTM-like cell: `cell` and `hidden` updating each other in place

twins!(lstm, lstm_k3, (hessian, wrt(p)), 3, (p: &[f64], x: &[f64], n: usize) {
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
});

fn lstm_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], n: usize) -> T {
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
        for i in 0..n {
            loss += (hidden[i] - xt).powi(2);
        }
    }
    loss + cell[n - 1]
}

#[test]
fn an_lstm_cell_matches_num_dual() {
    let p = [0.7, -0.4, 1.2, 0.3, -0.9, 0.5, 1.1, 0.8, -0.6];
    for x in SEQUENCES {
        let (value, g, h) = lstm_hessian(&p, x, 3);
        let (dual_value, dual_g, dual_h) = dual_hessian::<9>(|q| lstm_twin(q, x, 3), &p);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&g.p, &dual_g, 1e-12, "∇");
        close(&h, &dual_h, 1e-10, "H");
        symmetric(&h, 9);
        let v = LstmGrad {
            p: (0..9).map(|i| (f64::from(i) * 0.7).sin()).collect(),
        };
        let (_, _, hv) = lstm_hvp(&p, x, 3, &v);
        close(&hv.p, &mat_vec(&dual_h, &v.p), 1e-10, "H·v");
        let (_, _, h_k) = lstm_k3_hessian(&p, x, 3);
        same_bits(&h_k, &h, "checkpointed H");
    }
}

// ---- two layers: two arrays carried across the steps, the second reading the first

#[differentiable(hessian, wrt(p))]
fn two_layers(p: &[f64], x: &[f64], b: usize) -> f64 {
    let mut first = vec![0.0; b];
    let mut second = vec![0.2; b];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for i in 0..b {
            first[i] = (p[i] * first[i] + x[t]).tanh();
        }
        for i in 0..b {
            second[i] = (p[b + i] * second[i] + p[2 * b + i] * first[i]).tanh();
        }
        loss += second[0] * x[t];
    }
    loss + second[b - 1] * first[0]
}

fn two_layers_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], b: usize) -> T {
    let mut first = vec![T::zero(); b];
    let mut second = vec![T::from(0.2); b];
    let mut loss = T::zero();
    for &xt in x {
        for i in 0..b {
            first[i] = (p[i] * first[i] + xt).tanh();
        }
        for i in 0..b {
            second[i] = (p[b + i] * second[i] + p[2 * b + i] * first[i]).tanh();
        }
        loss += second[0] * xt;
    }
    loss + second[b - 1] * first[0]
}

#[test]
fn two_layers_match_num_dual() {
    let p = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7];
    for x in SEQUENCES {
        let (value, g, h) = two_layers_hessian(&p, x, 2);
        let (dual_value, dual_g, dual_h) = dual_hessian::<6>(|q| two_layers_twin(q, x, 2), &p);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&g.p, &dual_g, 1e-12, "∇");
        close(&h, &dual_h, 1e-10, "H");
        symmetric(&h, 6);
    }
}

// ---- a recurrent network's matrix-vector product, each element a sum in a float

#[differentiable(hessian, wrt(m, u))]
fn matrix_rnn(m: &[f64], u: &[f64], x: &[f64]) -> f64 {
    let n = u.len();
    let mut h = vec![0.0; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            let mut z = 0.0;
            for k in 0..n {
                z += m[j * n + k] * h[k];
            }
            next[j] = (z + u[j] * x[t]).tanh();
        }
        h = next;
        loss += h[0] * x[t];
    }
    loss + h[n - 1] * h[n - 1]
}

fn matrix_rnn_twin<T: DualNum<Primitive = f64> + Copy>(q: &[T], x: &[f64]) -> T {
    let (m, u) = q.split_at(4);
    let n = 2;
    let mut h = vec![T::zero(); n];
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
    loss + h[n - 1] * h[n - 1]
}

#[test]
fn a_matrix_recurrence_matches_num_dual() {
    let m = [0.5, -0.3, 0.2, 0.6];
    let u = [0.9, -0.5];
    for x in SEQUENCES {
        let (value, g, h) = matrix_rnn_hessian(&m, &u, x);
        let mut p = m.to_vec();
        p.extend(u);
        let (dual_value, dual_g, dual_h) = dual_hessian::<6>(|q| matrix_rnn_twin(q, x), &p);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&g.to_flat_vec(), &dual_g, 1e-12, "∇");
        close(&h, &dual_h, 1e-10, "H");
        symmetric(&h, 6);
    }
}

// ---- a vector-valued function with a hidden state, called by functions with `hessian`
// (through its hidden `__hvp_outputs`)

#[differentiable(hessian)]
fn outputs(w: &[f64], u: f64, x: &[f64]) -> [f64; 2] {
    let n = w.len();
    let mut h = vec![0.1; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w[j] * h[j] + u * x[t]).tanh();
        }
    }
    [h[0], h[n - 1] * u]
}

fn outputs_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], u: T, x: &[T]) -> [T; 2] {
    let n = w.len();
    let mut h = vec![T::from(0.1); n];
    for &xt in x {
        for j in 0..n {
            h[j] = (w[j] * h[j] + u * xt).tanh();
        }
    }
    [h[0], h[n - 1] * u]
}

/// The outputs read by a caller given the differentiated slices.
#[differentiable(hessian)]
fn through_outputs(w: &[f64], u: f64, x: &[f64]) -> f64 {
    let [a, b] = outputs(w, u, x);
    a * b + b.sin()
}

/// A local array built from the caller's scalars passed as the weights.
#[differentiable(hessian)]
fn through_local(w: f64, u: f64, x: &[f64]) -> f64 {
    let ws = [w, w * u];
    let [a, b] = outputs(&ws, u, x);
    a * b
}

fn check_callers<const N: usize, const M: usize>(x: &[f64]) {
    let w = [0.7, -0.4];
    let u = 0.9;
    let mut p = w.to_vec();
    p.push(u);
    p.extend(x);
    let (value, g, h) = through_outputs_hessian(&w, u, x);
    let (dual_value, dual_g, dual_h) = dual_hessian::<N>(
        |q| {
            let [a, b] = outputs_twin(&q[..2], q[2], &q[3..]);
            a * b + b.sin()
        },
        &p,
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    close(&g.to_flat_vec(), &dual_g, 1e-12, "∇ through the outputs");
    close(&h, &dual_h, 1e-10, "H through the outputs");
    symmetric(&h, N);
    let mut p = vec![w[0], u];
    p.extend(x);
    let (value, g, h) = through_local_hessian(w[0], u, x);
    let (dual_value, dual_g, dual_h) = dual_hessian::<M>(
        |q| {
            let ws = [q[0], q[0] * q[1]];
            let [a, b] = outputs_twin(&ws, q[1], &q[2..]);
            a * b
        },
        &p,
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    close(&g.to_flat_vec(), &dual_g, 1e-12, "∇ through a local array");
    close(&h, &dual_h, 1e-10, "H through a local array");
    symmetric(&h, M);
}

#[test]
fn callers_with_hessian_go_through_the_outputs_second_derivatives() {
    check_callers::<3, 2>(SEQUENCES[0]);
    check_callers::<4, 3>(SEQUENCES[1]);
    check_callers::<5, 4>(SEQUENCES[2]);
    check_callers::<8, 7>(SEQUENCES[3]);
}

// ---- the state started from a differentiated slice: its tangent starts from the slice's

#[differentiable(hessian)]
fn from_initial_state(h0: &[f64], w: f64, x: &[f64]) -> f64 {
    let n = h0.len();
    let mut h = vec![0.0; n];
    for j in 0..n {
        h[j] = h0[j] * w;
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

fn from_initial_state_twin<T: DualNum<Primitive = f64> + Copy>(q: &[T], x: &[f64]) -> T {
    let (h0, w) = (&q[..3], q[3]);
    let n = h0.len();
    let mut h: Vec<T> = h0.iter().map(|&v| v * w).collect();
    for &xt in x {
        h = (0..n)
            .map(|j| (w * h[j]).sin() + h[(j + 1) % n] * xt)
            .collect();
    }
    h[0] * h[n - 1]
}

#[test]
fn a_state_started_from_a_slice_matches_num_dual() {
    let (h0, w) = ([0.4, -0.7, 1.3], 0.9);
    for x in SEQUENCES {
        let (value, g, h) = from_initial_state_hessian(&h0, w, x);
        let mut p = h0.to_vec();
        p.push(w);
        let (dual_value, dual_g, dual_h) = dual_hessian::<4>(|q| from_initial_state_twin(q, x), &p);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&g.h0, &dual_g[..3], 1e-12, "∇h0");
        // (`x` is differentiated too: the first 4 rows and columns are the ones compared.)
        let m = 4 + x.len();
        let top: Vec<f64> = (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| h[i * m + j])
            .collect();
        close(&top, &dual_h, 1e-10, "H");
        symmetric(&h, m);
    }
}
