//! ADBench's LSTM objective written as the C++ reference writes it (`hidden` and `cell` carried
//! across the time steps, updated in place): the objective against a one-cell step derived by
//! hand, against its independent generic twin, and the twin's num-dual forward-mode gradient
//! (the reference gradient of the benchmark) against hand-derived partials and central
//! differences of the objective; the gradient `#[differentiable]` generates against that
//! forward-mode gradient (1e-10) and the adjoint written by hand (1e-12).

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualSVec64, gradient};

#[path = "../benches/common/adbench_lstm.rs"]
mod adbench_lstm;
use adbench_lstm::{
    lstm_input, lstm_objective, lstm_objective_checkpointed_grad, lstm_objective_dual,
    lstm_objective_grad, lstm_objective_grad_by_hand,
};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One layer of one cell, two characters: one step of the recurrence, by hand.
#[test]
fn one_cell_one_step_is_the_lstm_written_out() {
    // weights f, i, o, c; biases f, i, o, c
    let main = [0.3, -0.7, 1.1, 0.4, 0.2, -0.1, 0.5, -0.6];
    let extra = [0.9, -1.3, 0.25]; // in_weight, out_weight, out_bias
    let state = [0.35, -0.8]; // hidden, cell
    let sequence = [1.0, 1.0]; // the characters' single bits
    let (h0, c0) = (state[0], state[1]);
    let x = sequence[0] * extra[0];
    let f = sigmoid(x * main[0] + main[4]);
    let i = sigmoid(h0 * main[1] + main[5]);
    let o = sigmoid(x * main[2] + main[6]);
    let g = (h0 * main[3] + main[7]).tanh();
    let c1 = c0 * f + i * g;
    let h1 = o * c1.tanh();
    let y = h1 * extra[1] + extra[2];
    let expected = -(sequence[1] * (y - (y.exp() + 2.0).ln()));
    let value = lstm_objective(&main, &extra, &state, &sequence, 1, 2, 1);
    assert!((value - expected).abs() <= 1e-15, "{value} vs {expected}");

    // ∂/∂out_bias = −(1 − eʸ/(eʸ + 2)); ∂/∂out_weight = h1 · ∂/∂out_bias.
    let d_bias = -(1.0 - y.exp() / (y.exp() + 2.0));
    let mut p = main.to_vec();
    p.extend(extra);
    let (_, dual) = gradient(
        |v: SVector<DualSVec64<11>, 11>| lstm_objective_dual(v.as_slice(), &state, &sequence, 1, 1),
        &SVector::<f64, 11>::from_column_slice(&p),
    );
    assert!(
        (dual[10] - d_bias).abs() <= 1e-12,
        "{} vs {d_bias}",
        dual[10]
    );
    assert!((dual[9] - h1 * d_bias).abs() <= 1e-12);
    // ∂/∂(cell bias) through c1 = c0·f + i·tanh(h0·w_c + b_c): out_weight·o·(1 − tanh²c1)·i·(1 − g²).
    let d_bc = d_bias * extra[1] * o * (1.0 - c1.tanh().powi(2)) * i * (1.0 - g * g);
    assert!((dual[7] - d_bc).abs() <= 1e-12, "{} vs {d_bc}", dual[7]);
}

#[test]
fn the_generic_twin_is_the_objective() {
    for (l, c, b) in [(1, 3, 2), (2, 5, 3), (2, 32, 14), (4, 16, 14)] {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        let value = lstm_objective(&main, &extra, &state, &sequence, l, c, b);
        let mut p = main.clone();
        p.extend(&extra);
        let twin = lstm_objective_dual(&p, &state, &sequence, l, b);
        assert!(
            (value - twin).abs() <= 1e-13 * value.abs(),
            "l, c, b = {l}, {c}, {b}: {value} vs {twin}"
        );
    }
}

#[test]
fn forward_mode_matches_central_differences() {
    // 2 layers of 3 cells, 6 characters: 2·8·3 + 3·3 = 57 parameters.
    let (l, c, b) = (2, 6, 3);
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let mut p = main.clone();
    p.extend(&extra);
    let (value, dual) = gradient(
        |v: SVector<DualSVec64<57>, 57>| lstm_objective_dual(v.as_slice(), &state, &sequence, l, b),
        &SVector::<f64, 57>::from_column_slice(&p),
    );
    let objective =
        |q: &[f64]| lstm_objective(&q[..8 * l * b], &q[8 * l * b..], &state, &sequence, l, c, b);
    assert!((value - objective(&p)).abs() <= 1e-13 * value.abs());
    let numeric = numeric_gradient(objective, &p);
    assert_all_close(dual.as_slice(), &numeric, 1e-7);
    // Every parameter reaches the loss: no partial derivative is zero.
    assert!(dual.iter().all(|d| d.abs() > 1e-9), "{dual:?}");
}

#[test]
fn the_adjoint_by_hand_matches_forward_mode() {
    // 2 layers of 4 cells, 9 characters: 2·8·4 + 3·4 = 76 parameters.
    let (l, c, b) = (2, 9, 4);
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let mut p = main.clone();
    p.extend(&extra);
    let (dual_value, dual) = gradient(
        |v: SVector<DualSVec64<76>, 76>| lstm_objective_dual(v.as_slice(), &state, &sequence, l, b),
        &SVector::<f64, 76>::from_column_slice(&p),
    );
    // Stale values in the gradient buffers are overwritten.
    let (mut gm, mut ge) = (vec![7.0; main.len()], vec![-3.0; extra.len()]);
    let value = lstm_objective_grad_by_hand(
        &main,
        &extra,
        &state,
        &sequence,
        (l, c, b),
        &mut gm,
        &mut ge,
    );
    assert!((value - dual_value).abs() <= 1e-13 * value.abs());
    gm.extend(&ge);
    for (i, (a, d)) in gm.iter().zip(dual.iter()).enumerate() {
        assert!(
            (a - d).abs() <= 1e-10 * d.abs().max(1e-3),
            "component {i}: {a} vs {d}"
        );
    }
}

#[test]
fn the_generated_gradient_matches_forward_mode_and_the_adjoint_by_hand() {
    // 2 layers of 4 cells, 9 characters: 2·8·4 + 3·4 = 76 parameters.
    let (l, c, b) = (2, 9, 4);
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let mut p = main.clone();
    p.extend(&extra);
    let (dual_value, dual) = gradient(
        |v: SVector<DualSVec64<76>, 76>| lstm_objective_dual(v.as_slice(), &state, &sequence, l, b),
        &SVector::<f64, 76>::from_column_slice(&p),
    );
    let (value, g) = lstm_objective_grad(&main, &extra, &state, &sequence, l, c, b);
    assert!((value - dual_value).abs() <= 1e-13 * value.abs());
    let mut generated = g.main_params.clone();
    generated.extend(&g.extra_params);
    for (i, (a, d)) in generated.iter().zip(dual.iter()).enumerate() {
        assert!(
            (a - d).abs() <= 1e-10 * d.abs().max(1e-3),
            "component {i}: {a} vs {d}"
        );
    }
    // The adjoint by hand, at ADBench's b = 14 too.
    for (l, c, b) in [(2, 9, 4), (1, 2, 3), (3, 12, 14)] {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        let (value, g) = lstm_objective_grad(&main, &extra, &state, &sequence, l, c, b);
        let (mut gm, mut ge) = (vec![0.0; main.len()], vec![0.0; extra.len()]);
        let by_hand = lstm_objective_grad_by_hand(
            &main,
            &extra,
            &state,
            &sequence,
            (l, c, b),
            &mut gm,
            &mut ge,
        );
        assert!((value - by_hand).abs() <= 1e-14 * value.abs());
        gm.extend(&ge);
        generated = g.main_params.clone();
        generated.extend(&g.extra_params);
        assert_all_close(&generated, &gm, 1e-12);
    }
}

/// `checkpoint = 32` (the state saved every 32nd step, each stretch recomputed for the sweep):
/// the gradient and the value equal [`lstm_objective_grad`]'s bit for bit at c − 1 = 0, 1, 8,
/// 31, 32, 33, 99 and 129 steps (none; shorter than a stretch; one short of it, exactly one, one
/// more; several, not a multiple of 32), one to four layers; and at l, c, b = 2, 9, 4 against
/// forward mode.
#[test]
fn the_checkpointed_gradient_is_the_gradient_bit_for_bit() {
    for (l, c, b) in [
        (2, 1, 4),
        (1, 2, 3),
        (2, 9, 4),
        (2, 32, 3),
        (2, 33, 3),
        (3, 34, 2),
        (2, 100, 5),
        (4, 130, 14),
    ] {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        if c == 1 {
            // No step: `-0 / 0`, a NaN either way, and no gradient to compare but its zeros.
            let (v, g) = lstm_objective_grad(&main, &extra, &state, &sequence, l, c, b);
            let (vk, gk) =
                lstm_objective_checkpointed_grad(&main, &extra, &state, &sequence, l, c, b);
            assert!(v.is_nan() && vk.is_nan());
            assert_eq!(
                (g.main_params, g.extra_params),
                (gk.main_params, gk.extra_params)
            );
            continue;
        }
        let (value, g) = lstm_objective_grad(&main, &extra, &state, &sequence, l, c, b);
        let (value_k, g_k) =
            lstm_objective_checkpointed_grad(&main, &extra, &state, &sequence, l, c, b);
        assert_eq!(
            value.to_bits(),
            value_k.to_bits(),
            "l, c, b = {l}, {c}, {b}"
        );
        for (i, (a, k)) in g
            .main_params
            .iter()
            .chain(&g.extra_params)
            .zip(g_k.main_params.iter().chain(&g_k.extra_params))
            .enumerate()
        {
            assert_eq!(
                a.to_bits(),
                k.to_bits(),
                "l, c, b = {l}, {c}, {b}: component {i}"
            );
        }
    }
    // Against forward mode, independently of the twin above.
    let (l, c, b) = (2, 9, 4);
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let mut p = main.clone();
    p.extend(&extra);
    let (_, dual) = gradient(
        |v: SVector<DualSVec64<76>, 76>| lstm_objective_dual(v.as_slice(), &state, &sequence, l, b),
        &SVector::<f64, 76>::from_column_slice(&p),
    );
    let (_, g) = lstm_objective_checkpointed_grad(&main, &extra, &state, &sequence, l, c, b);
    let mut generated = g.main_params.clone();
    generated.extend(&g.extra_params);
    for (i, (a, d)) in generated.iter().zip(dual.iter()).enumerate() {
        assert!(
            (a - d).abs() <= 1e-10 * d.abs().max(1e-3),
            "component {i}: {a} vs {d}"
        );
    }
}
