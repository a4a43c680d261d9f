//! `<name>_grad_into` allocates nothing once the gradient's vectors have room: the second call
//! with the same lengths (or shorter ones) makes no allocation at all, counted by a global
//! allocator. Run without libtest's harness (`harness = false`), on the main thread alone, so no
//! other thread allocates while it counts.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use symgrad::differentiable;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[path = "../benches/common/adbench_ba.rs"]
mod adbench_ba;
#[path = "../benches/common/adbench_lstm.rs"]
mod adbench_lstm;
#[path = "../benches/common/small_calls.rs"]
mod small_calls;
use small_calls::{
    ReprojectionGrad, SpringsGrad, reprojection_grad, reprojection_grad_into, reprojection_input,
    springs_grad_into, springs_input,
};

#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

#[differentiable(wrt(w, b))]
fn mse32(w: &[f32], b: f32, x: &[f32], y: &[f32]) -> f32 {
    let d = w.len();
    let mut total = 0.0;
    for i in 0..y.len() {
        let mut p = b;
        for j in 0..d {
            p += w[j] * x[i * d + j];
        }
        total += (p - y[i]).powi(2);
    }
    total / y.len() as f32
}

#[differentiable]
fn weighted(w: &[f64], x: [f64; 3]) -> f64 {
    w.iter()
        .zip(x.iter())
        .map(|(a, b)| (a * b).powi(2))
        .sum::<f64>()
}

/// A `Vec`-valued residual: one output per observation.
#[differentiable(wrt(p))]
fn decay(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

/// [`product`] with `checkpoint = 100`: its trace is every 100th value.
#[differentiable(checkpoint = 100)]
fn product_checkpointed(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

/// A time loop around a layer loop: `h` carried across both, a float (`gain`) across the layers
/// of a step, whose values the layers' sweep reads. Twice: saving every state, and with
/// `checkpoint = 4` (the time loop only).
macro_rules! stacked {
    ($name:ident, [$($args:tt)*]) => {
        #[differentiable(wrt(w), $($args)*)]
        fn $name(w: &[f64], x: &[f64], n: usize, layers: usize) -> f64 {
            let mut h = vec![0.0; n];
            let mut loss = 0.0;
            for t in 0..x.len() {
                let mut gain = 1.0;
                for l in 0..layers {
                    for j in 0..n {
                        h[j] = (w[j] * h[j] * gain + x[t] + w[n + l]).tanh();
                    }
                    gain = gain * 0.5 + h[0];
                }
                loss += (h[0] - x[t]).powi(2) * gain;
            }
            loss
        }
    };
}
stacked!(stacked, []);
stacked!(stacked_checkpointed, [checkpoint = 4]);

/// A K-class log-softmax loss per row, each row's log-sum-exp in one pass (coupled state: the
/// running maximum and the rescaled sum), as a new user writes it.
#[differentiable]
fn softmax_rows(z: &[f64], k: usize, labels: &[usize]) -> f64 {
    let mut loss = 0.0;
    for r in 0..labels.len() {
        let mut m = f64::NEG_INFINITY;
        let mut s = 0.0;
        for c in 0..k {
            let mn = m.max(z[r * k + c]);
            s = s * (m - mn).exp() + (z[r * k + c] - mn).exp();
            m = mn;
        }
        loss += m + s.ln() - z[r * k + labels[r]];
    }
    loss
}

/// The bytes `f` allocates (reallocations counted by their new size).
fn bytes<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let region = Region::new(GLOBAL);
    let r = f();
    let change = region.change();
    (
        change.bytes_allocated + change.bytes_reallocated.unsigned_abs(),
        r,
    )
}

/// The allocations (and reallocations) `f` makes.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let region = Region::new(GLOBAL);
    let r = f();
    let change = region.change();
    (change.allocations + change.reallocations, r)
}

fn main() {
    a_second_call_with_the_same_lengths_allocates_nothing();
    println!("grad_into_alloc: a second call with the same lengths allocates nothing: ok");
    checkpoints_keep_a_recurrence_s_trace_short();
    println!("grad_into_alloc: a checkpointed recurrence allocates n/K + K values, not n: ok");
    a_recurrence_per_row_reuses_one_trace();
    println!("grad_into_alloc: a coupled recurrence per row reuses one trace: ok");
    a_layer_loop_reuses_its_trace_from_step_to_step();
    println!("grad_into_alloc: a layer loop in a (checkpointed) time loop reuses its trace: ok");
    carried_arrays_allocate_the_same_whatever_the_sequence();
    println!("grad_into_alloc: ADBench's LSTM allocates as much for 4 steps as for 64: ok");
    checkpoints_keep_carried_arrays_rows_short();
    println!(
        "grad_into_alloc: ADBench's LSTM with checkpoint = 32 keeps ⌈T/32⌉ + 2·32 rows and 32 steps' layer rows at most: ok"
    );
}

/// ADBench's LSTM at l, c, b = 2, 1024, 14 (T = 1023 steps): saving every step's `hidden` and
/// `cell` allocates their T rows (2·l·b floats each), and the layer loop's rows and value kept
/// per step for the time loop's sweep (l rows of its `input`, b floats each, and the `input`
/// of its value, which the prediction reads: (l + 1)·b floats a step; no rows of `hidden` and
/// `cell`, whose stretch a layer reads is the one the step started with, and not their value
/// after the layers, which the sweep reads for no more than its length); `checkpoint = 32`
/// (≈ √T) allocates ⌈T/32⌉ checkpoint rows and a stretch of 32 rows and of 32 steps' layer rows
/// (and a working vector per array, the stretch's indices and floats), the rest of the call the
/// same. As many allocations at c = 4 as at c = 64 either way; gradients equal bit for bit.
fn checkpoints_keep_carried_arrays_rows_short() {
    use adbench_lstm::{
        LstmObjectiveCheckpointedGrad, LstmObjectiveGrad, lstm_input,
        lstm_objective_checkpointed_grad_into, lstm_objective_grad_into,
    };
    let (l, b) = (2, 14);
    let mut counts = Vec::new();
    for c in [4, 64] {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        let mut g = LstmObjectiveCheckpointedGrad::default();
        lstm_objective_checkpointed_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut g);
        let (n, _) = allocations(|| {
            lstm_objective_checkpointed_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut g)
        });
        counts.push(n);
    }
    assert_eq!(
        counts[0], counts[1],
        "allocations with c = 4 and with c = 64"
    );
    let c = 1024;
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let (mut full, mut checked) = (
        LstmObjectiveGrad::default(),
        LstmObjectiveCheckpointedGrad::default(),
    );
    lstm_objective_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut full);
    lstm_objective_checkpointed_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut checked);
    let (plain, v) =
        bytes(|| lstm_objective_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut full));
    let (saved, v_k) = bytes(|| {
        lstm_objective_checkpointed_grad_into(
            &main,
            &extra,
            &state,
            &sequence,
            l,
            c,
            b,
            &mut checked,
        )
    });
    let (f, t, row) = (std::mem::size_of::<f64>(), c - 1, 2 * l * b);
    // Per step, the layer loop's rows of `input` (`b` per layer; `hidden` and `cell` keep none:
    // a layer reads only its own stretch of them, which no layer before it wrote) and of its
    // value the `input` the prediction reads (not `hidden` and `cell`, whose adjoint vectors
    // take the length of the step's).
    let layers = l * b + b;
    println!(
        "grad_into_alloc: ADBench's LSTM (l, c, b = {l}, {c}, {b}): {plain} bytes per call saving \
         every step, {saved} with checkpoint = 32 ({counts:?} allocations at c = 4, 64)"
    );
    // Every step's row and layer rows saved, at least; with checkpoints, the rest of the call
    // (what the full trace's call allocates besides them), at most ⌈T/32⌉ + 2·32 rows' worth
    // (the checkpoints, the stretch's rows, its indices and floats, the working vectors), and
    // 32 steps' layer rows.
    // And not much more: the working vectors, adjoint vectors and gradients (about 5 KB).
    assert!(
        plain >= t * (row + layers) * f && plain <= t * (row + layers) * f + 64 * 1024,
        "the full rows: {plain} bytes"
    );
    let most =
        plain - t * (row + layers) * f + (t.div_ceil(32) + 2 * 32) * row * f + 32 * layers * f;
    assert!(saved <= most, "{saved} bytes, more than {most}");
    assert_eq!(v.to_bits(), v_k.to_bits());
    for (a, k) in full
        .main_params
        .iter()
        .chain(&full.extra_params)
        .zip(checked.main_params.iter().chain(&checked.extra_params))
    {
        assert_eq!(a.to_bits(), k.to_bits());
    }
}

/// The arrays carried across the time steps (ADBench's LSTM): their vectors, rows and adjoint
/// vectors, and those of the layer loop inside (reused from one step to the next), are as many
/// allocations for a short sequence as for a long one.
fn carried_arrays_allocate_the_same_whatever_the_sequence() {
    use adbench_lstm::{LstmObjectiveGrad, lstm_input, lstm_objective_grad_into};
    let (l, b) = (2, 14);
    let mut counts = Vec::new();
    for c in [4, 64] {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        let mut g = LstmObjectiveGrad::default();
        lstm_objective_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut g);
        let (n, _) = allocations(|| {
            lstm_objective_grad_into(&main, &extra, &state, &sequence, l, c, b, &mut g)
        });
        counts.push(n);
    }
    println!("grad_into_alloc: ADBench's LSTM (l, b = 2, 14): {counts:?} allocations per call");
    assert_eq!(
        counts[0], counts[1],
        "allocations with c = 4 and with c = 64"
    );
}

/// The per-row recurrence's saved states go back to a pool at the end of each row: a call
/// allocates the same with 1 row as with 50.
/// The layer loop's saved floats and rows, with or without `checkpoint` on the time loop
/// around it, are reused from one step to the next: as many allocations for 64 steps as for 4,
/// the gradients equal bit for bit, and against central differences.
fn a_layer_loop_reuses_its_trace_from_step_to_step() {
    let (n, layers) = (3, 3);
    let w = [0.6, -0.4, 0.8, 0.1, -0.2, 0.3];
    let mut counts = Vec::new();
    for steps in [4, 64] {
        let x: Vec<f64> = (0..steps)
            .map(|i| (f64::from(u32::try_from(i).unwrap_or(0)) * 0.37).sin())
            .collect();
        let (mut full, mut checked) = (StackedGrad::default(), StackedCheckpointedGrad::default());
        stacked_grad_into(&w, &x, n, layers, &mut full);
        stacked_checkpointed_grad_into(&w, &x, n, layers, &mut checked);
        let (a, v) = allocations(|| stacked_grad_into(&w, &x, n, layers, &mut full));
        let (b, v_k) =
            allocations(|| stacked_checkpointed_grad_into(&w, &x, n, layers, &mut checked));
        counts.push((a, b));
        assert_eq!(v.to_bits(), v_k.to_bits());
        for (i, (g, g_k)) in full.w.iter().zip(&checked.w).enumerate() {
            assert_eq!(g.to_bits(), g_k.to_bits(), "∂/∂w{i} at {steps} steps");
            let h = 1e-6;
            let (mut up, mut down) = (w.to_vec(), w.to_vec());
            up[i] += h;
            down[i] -= h;
            let numeric = (stacked(&up, &x, n, layers) - stacked(&down, &x, n, layers)) / (2.0 * h);
            assert!(
                (g - numeric).abs() <= 1e-6 * (1.0 + g.abs()),
                "∂/∂w{i} at {steps} steps: {g} vs central difference {numeric}"
            );
        }
    }
    assert_eq!(counts[0], counts[1], "allocations at 4 steps and at 64");
}

fn a_recurrence_per_row_reuses_one_trace() {
    let k = 4;
    let z: Vec<f64> = (0..50 * k)
        .map(|i| (f64::from(u32::try_from(i).unwrap_or(0)) * 0.37).sin())
        .collect();
    let labels: Vec<usize> = (0..50).map(|r| r % k).collect();
    let mut g = SoftmaxRowsGrad::default();
    softmax_rows_grad_into(&z[..k], k, &labels[..1], &mut g);
    let (one, _) = allocations(|| softmax_rows_grad_into(&z[..k], k, &labels[..1], &mut g));
    softmax_rows_grad_into(&z, k, &labels, &mut g);
    let (fifty, _) = allocations(|| softmax_rows_grad_into(&z, k, &labels, &mut g));
    assert_eq!(one, fifty, "allocations with 1 row and with 50");
    // ∂loss/∂z[r·k + c] = softmax(z_r)[c] − [c = label_r].
    for r in 0..50 {
        let row = &z[r * k..(r + 1) * k];
        let total: f64 = row.iter().map(|v| v.exp()).sum();
        for c in 0..k {
            let want = row[c].exp() / total - if c == labels[r] { 1.0 } else { 0.0 };
            assert!((g.z[r * k + c] - want).abs() < 1e-12, "row {r}, class {c}");
        }
    }
}

/// A product over n = 10,000 values: saving every state allocates the n values' trace;
/// `checkpoint = 100` allocates n/100 + 1 checkpoints and one stretch of 100 (index, value)
/// pairs. The gradients are equal bit for bit.
fn checkpoints_keep_a_recurrence_s_trace_short() {
    let x: Vec<f64> = (0..10_000u32)
        .map(|i| 1.0 + 1e-5 * f64::from(i % 7))
        .collect();
    let n = x.len();
    let (mut full, mut checked) = (ProductGrad::default(), ProductCheckpointedGrad::default());
    product_grad_into(&x, &mut full);
    product_checkpointed_grad_into(&x, &mut checked);
    let (plain, a) = bytes(|| product_grad_into(&x, &mut full));
    let (saved, b) = bytes(|| product_checkpointed_grad_into(&x, &mut checked));
    let f = std::mem::size_of::<f64>();
    assert!(plain >= n * f, "the full trace: {plain} bytes");
    let most = (n / 100 + 1) * f + 100 * (std::mem::size_of::<usize>() + f);
    assert!(saved <= most, "{saved} bytes, more than {most}");
    assert_eq!(a.to_bits(), b.to_bits());
    assert!(
        full.x
            .iter()
            .zip(&checked.x)
            .all(|(p, q)| p.to_bits() == q.to_bits())
    );
}

fn a_second_call_with_the_same_lengths_allocates_nothing() {
    // Bundle adjustment's residual: straight-line code over two slices.
    let (cam, point, u, v) = reprojection_input();
    let mut g = ReprojectionGrad::default();
    let (first, _) = allocations(|| reprojection_grad_into(&cam, &point, u, v, &mut g));
    assert_eq!(first, 2, "the first call allocates the two vectors");
    for _ in 0..3 {
        let (n, value) = allocations(|| reprojection_grad_into(&cam, &point, u, v, &mut g));
        assert_eq!(n, 0);
        assert_eq!(value, reprojection_grad(&cam, &point, u, v).0);
    }
    // `_grad` allocates its vectors at every call: the counter sees them.
    let (n, _) = allocations(|| reprojection_grad(&cam, &point, u, v));
    assert_eq!(n, 2);

    // A loop kernel, reused at the same length and at shorter ones.
    let x: Vec<f64> = (0..1000).map(|i| f64::from(i).sin()).collect();
    let mut g = RosenbrockGrad::default();
    rosenbrock_grad_into(&x, &mut g);
    for n in [1000, 1000, 10, 999] {
        let (count, _) = allocations(|| rosenbrock_grad_into(&x[..n], &mut g));
        assert_eq!(count, 0, "n = {n}");
    }

    // A small slice function called many times, starting from the gradient `_grad` returned.
    let x = springs_input(8);
    let mut g: SpringsGrad = small_calls::springs_grad(&x, 1.0).1;
    let (count, ()) = allocations(|| {
        for _ in 0..1000 {
            springs_grad_into(&x, 1.0, &mut g);
        }
    });
    assert_eq!(count, 0);

    // `f32`, a `wrt` subset with a scalar field beside the vector.
    let (w, xs, ys) = ([0.5_f32, -1.0], [1.0_f32, 2.0, -0.5, 0.25], [1.0_f32, 0.0]);
    let mut g = Mse32Grad::default();
    mse32_grad_into(&w, 0.1, &xs, &ys, &mut g);
    let (count, _) = allocations(|| mse32_grad_into(&w, 0.1, &xs, &ys, &mut g));
    assert_eq!(count, 0);

    // An array field never allocates; the vector beside it, once.
    let mut g = WeightedGrad::default();
    let (first, _) = allocations(|| weighted_grad_into(&[1.0, 2.0, 3.0], [1.0, 0.5, -1.0], &mut g));
    let (second, _) =
        allocations(|| weighted_grad_into(&[1.0, 2.0, 3.0], [1.0, 0.5, -1.0], &mut g));
    assert_eq!((first, second), (1, 0));

    // ADBench's BA residual as the C++ writes it (helpers taking sub-slices, scratch arrays
    // passed on): its 2 × 15 Jacobian block, a million times in a bundle adjuster, allocates
    // nothing, not even at the first call (its rows are arrays).
    let problem = adbench_ba::ba_problem(2, 3, 4);
    let (cam, x) = (problem.cams[0], problem.x[1]);
    let mut rows = [adbench_ba::ReprojErrorGrad::default(); 2];
    let (count, ()) = allocations(|| {
        for i in 0..1000 {
            let w = 1.0 + f64::from(i) * 1e-4;
            adbench_ba::reproj_error_jacobian_into(&cam, &x, w, &[0.5, -0.5], &mut rows);
        }
    });
    assert_eq!(count, 0);
    assert_ne!(rows[0].cam, [0.0; 11]);

    // A `Vec`-valued function's `_jacobian_into`: the first call allocates the outputs, the rows
    // and each row's vector; later calls with as many observations (or fewer), nothing.
    let x: Vec<f64> = (0..50).map(|i| 0.1 * f64::from(i)).collect();
    let y: Vec<f64> = x.iter().map(|v| (-0.3 * v).exp()).collect();
    let (mut out, mut jac) = (Vec::new(), Vec::new());
    let (first, ()) = allocations(|| decay_jacobian_into(&[2.0, 0.5], &x, &y, &mut out, &mut jac));
    assert_eq!(
        first,
        2 + 50,
        "the outputs, the rows, and one vector per row"
    );
    for n in [50, 50, 20] {
        let (count, ()) = allocations(|| {
            decay_jacobian_into(&[2.0, 0.5], &x[..n], &y[..n], &mut out, &mut jac);
        });
        assert_eq!(count, 0, "n = {n}");
        assert_eq!(
            (out.clone(), jac.clone()),
            decay_jacobian(&[2.0, 0.5], &x[..n], &y[..n])
        );
    }

    // The documented exception: a recurrence that saves its values for the reverse sweep
    // (`p *= x[i]`) allocates that trace at every call, and nothing else.
    let x = [1.5, -2.0, 0.5, 3.0];
    let mut g = ProductGrad::default();
    product_grad_into(&x, &mut g);
    let (count, _) = allocations(|| product_grad_into(&x, &mut g));
    assert_eq!(count, 1);
}
