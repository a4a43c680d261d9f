//! `#[differentiable(checkpoint = K)]`: recurrences save their state every `K` iterations and
//! the reverse sweep recomputes each stretch from its checkpoint. The recomputation runs the
//! same operations in the same order as the forward loop did, so every gradient must equal the
//! one saved in full bit for bit; central differences check the pair against the function.
//! Loop lengths around multiples of `K` (0, 1, K − 1, K, K + 1, 2K + 1, …) test the stretches'
//! bounds.

#![allow(clippy::needless_range_loop, clippy::manual_memcpy)] // index loops and copy loops are the language under test

use symgrad::differentiable;

/// One body, differentiated twice: `$plain` saving every state, `$checked` with
/// `checkpoint = $k` (both with the attribute's other arguments, `[$($args)*]`, if given).
macro_rules! twins {
    ($plain:ident, $checked:ident, $k:literal, ($($params:tt)*) $body:block) => {
        twins!($plain, $checked, [], $k, ($($params)*) $body);
    };
    ($plain:ident, $checked:ident, [$($args:tt)*], $k:literal, ($($params:tt)*) $body:block) => {
        #[differentiable($($args)*)]
        fn $plain($($params)*) -> f64 $body

        #[differentiable(checkpoint = $k, $($args)*)]
        fn $checked($($params)*) -> f64 $body
    };
}

twins!(product, product_k3, 3, (w: f64, x: &[f64]) {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= (w * x[i]).sin() + 1.5;
    }
    p
});

// A recurrence read by a sum along the way: coupled state (the filtered signal and the loss).
twins!(filtered_loss, filtered_loss_k4, 4, (a: f64, w: &[f64], y: &[f64]) {
    let mut s = 0.0;
    let mut loss = 0.0;
    for i in 0..y.len() {
        s = a * s + (w[i % w.len()] * y[i]).tanh();
        loss += (s - y[i]).powi(2);
    }
    loss
});

// Symplectic Euler: position and velocity update each other; a loss along the trajectory.
twins!(trajectory, trajectory_k5, 5, (k: f64, v0: f64, target: &[f64]) {
    let dt = 0.1;
    let mut x = 1.0;
    let mut v = v0;
    let mut loss = 0.0;
    for i in 0..target.len() {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
        loss += (x - target[i]).powi(2);
    }
    loss
});

// The online softmax: a running maximum and a rescaled sum.
twins!(online_lse, online_lse_k2, 2, (z: &[f64]) {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        let mn = m.max(z[i]);
        s = s * (m - mn).exp() + (z[i] - mn).exp();
        m = mn;
    }
    m + s.ln()
});

// A recurrence per row, nested in a loop over rows.
twins!(row_products, row_products_k2, 2, (w: &[f64], x: &[f64]) {
    let cols = w.len();
    let mut total = 0.0;
    for r in 0..x.len() / cols {
        let mut p = 1.0;
        for j in 0..cols {
            p *= 1.0 + w[j] * x[r * cols + j];
        }
        total += p.ln();
    }
    total
});

// A recurrence the function computes only when no early `return` is taken: a guarded sweep.
twins!(guarded_product, guarded_product_k3, 3, (x: &[f64], n: usize) {
    if n > x.len() {
        return x[0];
    }
    let mut p = 1.0;
    for i in 0..n {
        p *= x[n - 1 - i] + 0.5;
    }
    p
});

// A running maximum saves one iteration, not a trace: `checkpoint` changes nothing.
twins!(running_max, running_max_k3, 3, (x: &[f64]) {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(x[i] * x[i]);
    }
    m
});

/// `n` points of a smooth test signal.
fn signal(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + 0.5 * (0.7 * i as f64 + phase).sin())
        .collect()
}

/// The lengths around multiples of `k` that a stretch's bounds must get right.
fn lengths(k: usize) -> Vec<usize> {
    vec![0, 1, k - 1, k, k + 1, 2 * k, 2 * k + 1, 3 * k + 2, 50]
}

/// The central difference of `f` along coordinate `i` of `x`.
fn central(f: &dyn Fn(&[f64]) -> f64, x: &[f64], i: usize) -> f64 {
    let h = 1e-6;
    let (mut up, mut down) = (x.to_vec(), x.to_vec());
    up[i] += h;
    down[i] -= h;
    (f(&up) - f(&down)) / (2.0 * h)
}

/// Gradients equal bit for bit; and each against a central difference (relative 1e-6).
fn same(plain: &[f64], checked: &[f64], what: &str) {
    assert_eq!(plain.len(), checked.len(), "{what}");
    for (i, (a, b)) in plain.iter().zip(checked).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "{what}: component {i}: {a} vs {b}"
        );
    }
}

fn near(analytic: f64, numeric: f64, what: &str) {
    let tolerance = 1e-6 * (1.0 + analytic.abs());
    assert!(
        (analytic - numeric).abs() <= tolerance,
        "{what}: {analytic} vs central difference {numeric}"
    );
}

#[test]
fn a_product_swept_from_checkpoints_equals_the_full_trace() {
    for n in lengths(3) {
        let x = signal(n, 0.2);
        let (v, g) = product_grad(0.8, &x);
        let (vk, gk) = product_k3_grad(0.8, &x);
        assert_eq!(v.to_bits(), vk.to_bits(), "value, n = {n}");
        assert_eq!(g.w.to_bits(), gk.w.to_bits(), "∂w, n = {n}");
        let f = |p: &[f64]| product_k3(p[0], &x);
        near(gk.w, central(&f, &[0.8], 0), &format!("∂w, n = {n}"));
    }
}

#[test]
fn coupled_state_read_by_a_sum_is_recomputed_exactly() {
    let w = [0.4, -0.3, 0.9];
    for n in lengths(4) {
        let y = signal(n, 1.0);
        let (v, g) = filtered_loss_grad(0.7, &w, &y);
        let (vk, gk) = filtered_loss_k4_grad(0.7, &w, &y);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        assert_eq!(g.a.to_bits(), gk.a.to_bits(), "∂a, n = {n}");
        same(&g.w, &gk.w, &format!("∂w, n = {n}"));
        same(&g.y, &gk.y, &format!("∂y, n = {n}"));
        let f = |p: &[f64]| filtered_loss_k4(p[0], &p[1..], &y);
        let point = [0.7, w[0], w[1], w[2]];
        near(gk.a, central(&f, &point, 0), &format!("∂a, n = {n}"));
        for j in 0..3 {
            near(
                gk.w[j],
                central(&f, &point, j + 1),
                &format!("∂w[{j}], n = {n}"),
            );
        }
    }
}

#[test]
fn an_integrator_swept_from_checkpoints_equals_the_full_trace() {
    for n in lengths(5) {
        let target = signal(n, 0.5);
        let (v, g) = trajectory_grad(2.0, 0.1, &target);
        let (vk, gk) = trajectory_k5_grad(2.0, 0.1, &target);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        assert_eq!(g.k.to_bits(), gk.k.to_bits(), "∂k, n = {n}");
        assert_eq!(g.v0.to_bits(), gk.v0.to_bits(), "∂v0, n = {n}");
        same(&g.target, &gk.target, &format!("∂target, n = {n}"));
        let f = |p: &[f64]| trajectory_k5(p[0], p[1], &target);
        near(gk.k, central(&f, &[2.0, 0.1], 0), &format!("∂k, n = {n}"));
        near(gk.v0, central(&f, &[2.0, 0.1], 1), &format!("∂v0, n = {n}"));
    }
}

#[test]
fn the_online_softmax_from_checkpoints_is_the_softmax() {
    for n in lengths(2).into_iter().filter(|n| *n > 0) {
        let z = signal(n, 0.1);
        let (v, g) = online_lse_grad(&z);
        let (vk, gk) = online_lse_k2_grad(&z);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        same(&g.z, &gk.z, &format!("n = {n}"));
        // ∂/∂z = softmax(z).
        let total: f64 = z.iter().map(|zi| zi.exp()).sum();
        for (i, zi) in z.iter().enumerate() {
            let softmax = zi.exp() / total;
            assert!((gk.z[i] - softmax).abs() < 1e-12, "n = {n}, i = {i}");
        }
    }
}

#[test]
fn recurrences_nested_in_a_loop_over_rows_use_checkpoints_per_row() {
    let w = [0.5, -0.2, 0.3, 0.8, -0.6];
    for rows in [0, 1, 2, 7] {
        let x = signal(rows * w.len(), 0.3);
        let (v, g) = row_products_grad(&w, &x);
        let (vk, gk) = row_products_k2_grad(&w, &x);
        assert_eq!(v.to_bits(), vk.to_bits(), "rows = {rows}");
        same(&g.w, &gk.w, &format!("∂w, rows = {rows}"));
        same(&g.x, &gk.x, &format!("∂x, rows = {rows}"));
        let f = |p: &[f64]| row_products_k2(p, &x);
        for j in 0..w.len() {
            near(
                gk.w[j],
                central(&f, &w, j),
                &format!("∂w[{j}], rows = {rows}"),
            );
        }
    }
}

#[test]
fn a_guarded_sweep_recomputes_from_its_checkpoints() {
    let x = signal(11, 0.9);
    for n in [0, 1, 2, 3, 4, 7, 11, 12] {
        let (v, g) = guarded_product_grad(&x, n);
        let (vk, gk) = guarded_product_k3_grad(&x, n);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        same(&g.x, &gk.x, &format!("n = {n}"));
        let f = |p: &[f64]| guarded_product_k3(p, n);
        for j in 0..x.len() {
            near(gk.x[j], central(&f, &x, j), &format!("∂x[{j}], n = {n}"));
        }
    }
}

#[test]
fn a_running_max_is_unchanged_by_checkpoints() {
    for n in lengths(3).into_iter().filter(|n| *n > 0) {
        let x = signal(n, 2.0);
        let (v, g) = running_max_grad(&x);
        let (vk, gk) = running_max_k3_grad(&x);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        same(&g.x, &gk.x, &format!("n = {n}"));
    }
}

// Second order: the tangent of a recurrence is a second recurrence carried beside it, swept
// from the same checkpoints.
twins!(spring_h, spring_h_k3, [wrt(k, v0), hessian], 3, (k: f64, v0: f64, target: &[f64]) {
    let dt = 0.1;
    let mut x = 1.0;
    let mut v = v0;
    let mut loss = 0.0;
    for i in 0..target.len() {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
        loss += (x - target[i]).powi(2);
    }
    loss
});

#[test]
fn hessians_through_checkpointed_recurrences_equal_the_full_trace() {
    for n in lengths(3) {
        let target = signal(n, 0.4);
        let (v, g, h) = spring_h_hessian(2.0, 0.3, &target);
        let (vk, gk, hk) = spring_h_k3_hessian(2.0, 0.3, &target);
        assert_eq!(v.to_bits(), vk.to_bits(), "n = {n}");
        assert_eq!(
            (g.k.to_bits(), g.v0.to_bits()),
            (gk.k.to_bits(), gk.v0.to_bits())
        );
        for (r, rk) in h.iter().zip(&hk) {
            same(r, rk, &format!("Hessian row, n = {n}"));
        }
        // Against central differences of the gradient.
        let h_step = 1e-6;
        let (_, up) = spring_h_k3_grad(2.0 + h_step, 0.3, &target);
        let (_, down) = spring_h_k3_grad(2.0 - h_step, 0.3, &target);
        near(
            hk[0][0],
            (up.k - down.k) / (2.0 * h_step),
            &format!("∂²/∂k², n = {n}"),
        );
        near(
            hk[0][1],
            (up.v0 - down.v0) / (2.0 * h_step),
            &format!("∂²/∂k∂v0, n = {n}"),
        );
    }
}

// A stretch longer than any loop it meets: the recomputation allocates for the loop, not for K.
#[differentiable(checkpoint = 1000000000000)]
fn product_huge_k(w: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= (w * x[i]).sin() + 1.5;
    }
    p
}

#[test]
fn a_stretch_longer_than_the_loop_costs_only_the_loop() {
    for n in [0, 1, 3, 40] {
        let x = signal(n, 0.7);
        let (v, g) = product_grad(0.8, &x);
        let (vk, gk) = product_huge_k_grad(0.8, &x);
        assert_eq!(
            (v.to_bits(), g.w.to_bits()),
            (vk.to_bits(), gk.w.to_bits()),
            "n = {n}"
        );
    }
}

// Arrays carried from one iteration to the next (hidden states): with `checkpoint = K` the
// forward loop saves their rows every `K`-th step only, and the sweep recomputes each stretch
// from its checkpoint into a scratch of `K` rows. `K` = 2, 3, 7 and 8 against loop lengths
// 0, 1, 2, 5, 7, 8 and 13: not multiples of `K`, equal to `K` (7 at K = 7), one short of it (7
// at K = 8), shorter than it and empty.

/// One body, differentiated without checkpoints and with `checkpoint` = 2, 3, 7 and 8.
macro_rules! family {
    ($plain:ident, [$k2:ident, $k3:ident, $k7:ident, $k8:ident], [$($args:tt)*], ($($params:tt)*) $body:block) => {
        #[differentiable($($args)*)]
        fn $plain($($params)*) -> f64 $body
        #[differentiable(checkpoint = 2, $($args)*)]
        fn $k2($($params)*) -> f64 $body
        #[differentiable(checkpoint = 3, $($args)*)]
        fn $k3($($params)*) -> f64 $body
        #[differentiable(checkpoint = 7, $($args)*)]
        fn $k7($($params)*) -> f64 $body
        #[differentiable(checkpoint = 8, $($args)*)]
        fn $k8($($params)*) -> f64 $body
    };
}

/// The loop lengths the carried arrays' checkpoints are tried at.
const STEPS: [usize; 7] = [0, 1, 2, 5, 7, 8, 13];

// Updated in place element by element, a loss summed along the way.
family!(rnn, [rnn_k2, rnn_k3, rnn_k7, rnn_k8], [], (w: &[f64], x: &[f64]) {
    let n = w.len();
    let mut h = vec![0.1; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w[j] * h[j] + x[t]).tanh();
        }
        loss += (h[t % n] - x[t]).powi(2);
    }
    loss + h[n - 1]
});

// Two arrays updating each other (an LSTM cell), a float beside them.
family!(cell, [cell_k2, cell_k3, cell_k7, cell_k8], [wrt(p)], (p: &[f64], x: &[f64], n: usize) {
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

// A matrix recurrence replacing the state (`h = next;`), started from data.
family!(matrix, [matrix_k2, matrix_k3, matrix_k7, matrix_k8], [wrt(m, u)], (m: &[f64], u: &[f64], x: &[f64], state: &[f64]) {
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
});

// Updates under a condition, a `continue` and a `break` on the data.
family!(guarded, [guarded_k2, guarded_k3, guarded_k7, guarded_k8], [], (w: &[f64], x: &[f64]) {
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
});

// Layers × time: each layer's stretch of the state written in place per time step, the input
// of a layer carried across the layers of one step (both carried arrays checkpointed).
family!(layered, [layered_k2, layered_k3, layered_k7, layered_k8], [wrt(p)], (p: &[f64], x: &[f64], layers: usize, b: usize) {
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
});

// Layers × time as ADBench's LSTM writes it: per layer, stretches of `hidden` and `cell` updated
// in place each step, the layer's output handed on as the next layer's input, and a scalar
// recurrence across the layers of a step (`gain`) beside the one across the steps (`total`).
// Only the time loop is checkpointed: the layer loop inside it saves every layer's state.
family!(stacked, [stacked_k2, stacked_k3, stacked_k7, stacked_k8], [wrt(p)], (p: &[f64], x: &[f64], layers: usize, b: usize) {
    let mut hidden = vec![0.0; layers * b];
    let mut cell = vec![0.1; layers * b];
    let mut total = 0.0;
    for t in 0..x.len() {
        let mut input = vec![0.0; b];
        for i in 0..b {
            input[i] = x[t] * p[i];
        }
        let mut gain = 1.0;
        for layer in 0..layers {
            let w = b + 2 * b * layer;
            let s = b * layer;
            for i in 0..b {
                let forget = 1.0 / (1.0 + (-(input[i] * p[w + i] * gain)).exp());
                let change = (hidden[s + i] * p[w + b + i] + input[i]).tanh();
                cell[s + i] = cell[s + i] * forget + (1.0 - forget) * change;
                hidden[s + i] = cell[s + i].tanh();
                input[i] = hidden[s + i];
            }
            gain = gain * 0.9 + 0.2 * input[0] * input[b - 1];
        }
        for i in 0..b {
            total += (input[i] - x[t]).powi(2) * gain;
        }
    }
    total + cell[layers * b - 1]
});

/// A function's value and gradient, flattened.
type Flat<'a> = dyn Fn(&[f64]) -> (f64, Vec<f64>) + 'a;

/// The value and the gradient of each member of a family, flattened, checked bit for bit
/// against the first (no checkpoints), which is checked against central differences.
fn family_agrees(what: &str, plain: &dyn Fn(&[f64]) -> f64, grads: &[&Flat], theta: &[f64]) {
    let (value, g) = grads[0](theta);
    // The generated code may round the value differently from the function (its own order of
    // the same operations), the checkpointed twins not.
    near(value, plain(theta), &format!("{what}: value"));
    for (k, grad) in grads.iter().enumerate().skip(1) {
        let (value_k, g_k) = grad(theta);
        assert_eq!(value.to_bits(), value_k.to_bits(), "{what}: value of #{k}");
        same(&g, &g_k, &format!("{what}: checkpointed #{k}"));
    }
    for i in 0..theta.len() {
        near(g[i], central(plain, theta, i), &format!("{what}: ∂/∂θ{i}"));
    }
}

// A float, `b`, and an array, `g`, that only add into the state (the steps are linear in them):
// a checkpoint holds what an iteration reads, whether or not the sweep's derivatives need it.
family!(drift, [drift_k2, drift_k3, drift_k7, drift_k8], [], (w: &[f64], x: &[f64]) {
    let n = w.len();
    let mut h = vec![0.3; n];
    let mut g = vec![0.1; n];
    let mut b = 0.0;
    let mut loss = 0.0;
    for t in 0..x.len() {
        loss += h[0] * h[n - 1];
        for j in 0..n {
            h[j] = h[j] * w[j] + g[j];
        }
        for j in 0..n {
            g[j] += b;
        }
        b += x[t];
    }
    loss + h[0] + g[1]
});

/// A value and its gradient, the gradient's fields flattened in order.
fn flat<G: symgrad::Gradient<f64>>((value, g): (f64, G)) -> (f64, Vec<f64>) {
    let mut out = Vec::new();
    g.flatten_into(&mut out);
    (value, out)
}

#[test]
fn carried_arrays_swept_from_checkpoints_equal_their_rows_saved_in_full() {
    let w = [0.7, -0.3, 1.1];
    for steps in STEPS {
        let x = signal(steps, 0.4);
        let mut theta = w.to_vec();
        theta.extend(&x);
        family_agrees(
            &format!("in place, {steps} steps"),
            &|q| rnn(&q[..3], &q[3..]),
            &[
                &|q| flat(rnn_grad(&q[..3], &q[3..])),
                &|q| flat(rnn_k2_grad(&q[..3], &q[3..])),
                &|q| flat(rnn_k3_grad(&q[..3], &q[3..])),
                &|q| flat(rnn_k7_grad(&q[..3], &q[3..])),
                &|q| flat(rnn_k8_grad(&q[..3], &q[3..])),
            ],
            &theta,
        );
        family_agrees(
            &format!("drift, {steps} steps"),
            &|q| drift(&q[..3], &q[3..]),
            &[
                &|q| flat(drift_grad(&q[..3], &q[3..])),
                &|q| flat(drift_k2_grad(&q[..3], &q[3..])),
                &|q| flat(drift_k3_grad(&q[..3], &q[3..])),
                &|q| flat(drift_k7_grad(&q[..3], &q[3..])),
                &|q| flat(drift_k8_grad(&q[..3], &q[3..])),
            ],
            &theta,
        );
        let p = [0.7, -0.4, 1.2, 0.3, -0.9, 0.5, 1.1, 0.8, -0.6];
        family_agrees(
            &format!("cell and hidden, {steps} steps"),
            &|q| cell(q, &x, 3),
            &[
                &|q| flat(cell_grad(q, &x, 3)),
                &|q| flat(cell_k2_grad(q, &x, 3)),
                &|q| flat(cell_k3_grad(q, &x, 3)),
                &|q| flat(cell_k7_grad(q, &x, 3)),
                &|q| flat(cell_k8_grad(q, &x, 3)),
            ],
            &p,
        );
        let state = [0.1, -0.2, 0.3];
        let mut mu = vec![0.5, -0.3, 0.2, 0.1, 0.6, -0.4, -0.2, 0.3, 0.7];
        mu.extend([0.9, -0.5, 0.4]);
        family_agrees(
            &format!("matrix, {steps} steps"),
            &|q| matrix(&q[..9], &q[9..], &x, &state),
            &[
                &|q| flat(matrix_grad(&q[..9], &q[9..], &x, &state)),
                &|q| flat(matrix_k2_grad(&q[..9], &q[9..], &x, &state)),
                &|q| flat(matrix_k3_grad(&q[..9], &q[9..], &x, &state)),
                &|q| flat(matrix_k7_grad(&q[..9], &q[9..], &x, &state)),
                &|q| flat(matrix_k8_grad(&q[..9], &q[9..], &x, &state)),
            ],
            &mu,
        );
        let p = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3];
        family_agrees(
            &format!("layers × time, {steps} steps"),
            &|q| layered(q, &x, 3, 2),
            &[
                &|q| flat(layered_grad(q, &x, 3, 2)),
                &|q| flat(layered_k2_grad(q, &x, 3, 2)),
                &|q| flat(layered_k3_grad(q, &x, 3, 2)),
                &|q| flat(layered_k7_grad(q, &x, 3, 2)),
                &|q| flat(layered_k8_grad(q, &x, 3, 2)),
            ],
            &p,
        );
    }
}

/// A time loop around a layer loop (carried arrays and a scalar recurrence in both): the
/// checkpointed time loop and the layer loop saving every layer, against every state saved, bit
/// for bit, at step counts around multiples of each `K`.
#[test]
fn a_layer_loop_inside_a_checkpointed_time_loop_equals_the_full_trace() {
    // 2 + 2·3·2 parameters: the input weights, then per layer two gates' weights.
    let p = [
        0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3, 0.8, -0.2, 0.4, -0.7, 0.5, 0.2,
    ];
    for steps in [0, 1, 2, 3, 6, 7, 8, 9, 14, 15, 16, 17, 22, 25] {
        let x = signal(steps, 0.2);
        family_agrees(
            &format!("stacked layers × time, {steps} steps"),
            &|q| stacked(q, &x, 3, 2),
            &[
                &|q| flat(stacked_grad(q, &x, 3, 2)),
                &|q| flat(stacked_k2_grad(q, &x, 3, 2)),
                &|q| flat(stacked_k3_grad(q, &x, 3, 2)),
                &|q| flat(stacked_k7_grad(q, &x, 3, 2)),
                &|q| flat(stacked_k8_grad(q, &x, 3, 2)),
            ],
            &p,
        );
    }
}

/// A caller chaining through the layered functions (their `__vjp`, whose sweep also reads the
/// layer loop's rows back from what its time loop kept), with a weight on each call.
#[differentiable(wrt(p))]
fn stacked_caller(p: &[f64], x: &[f64]) -> f64 {
    let a = stacked(p, x, 3, 2);
    let k = stacked_k3(p, x, 3, 2);
    0.5 * a + k * k
}

/// The caller's gradient is the chain rule over the callees' gradients, which are checked bit
/// for bit and against central differences above (1e-12); and against its own central
/// differences.
#[test]
fn a_caller_chains_through_a_layer_loop_in_a_time_loop() {
    let p = [
        0.6, -0.8, 0.9, -0.4, 1.1, 0.7, -0.5, 0.3, 0.8, -0.2, 0.4, -0.7, 0.5, 0.2,
    ];
    for steps in [0, 1, 3, 4, 7, 13] {
        let x = signal(steps, 0.6);
        let (value, g) = stacked_caller_grad(&p, &x);
        let (a, ga) = stacked_grad(&p, &x, 3, 2);
        let (k, gk) = stacked_k3_grad(&p, &x, 3, 2);
        near(value, 0.5 * a + k * k, &format!("value, {steps} steps"));
        let f = |q: &[f64]| stacked_caller(q, &x);
        for i in 0..p.len() {
            let want = 0.5 * ga.p[i] + 2.0 * k * gk.p[i];
            let tolerance = 1e-12 * (1.0 + want.abs());
            assert!(
                (g.p[i] - want).abs() <= tolerance,
                "∂/∂p{i}, {steps} steps: {} vs {want}",
                g.p[i]
            );
            near(
                g.p[i],
                central(&f, &p, i),
                &format!("∂/∂p{i}, {steps} steps"),
            );
        }
    }
}

/// `if`, `continue` and `break` in the time loop: the data (scaled so that some steps skip,
/// some break) decides which steps run and which branch each takes.
#[test]
fn carried_arrays_under_conditions_continue_and_break_from_checkpoints() {
    let w = [0.8, -0.6, 1.2];
    for steps in STEPS {
        for (scale, shift) in [(1.0, 0.0), (4.0, -0.4), (6.0, 0.1)] {
            // Kept away from the thresholds (0, −1, 2) so that central differences do not cross.
            let x: Vec<f64> = signal(steps, 0.9)
                .iter()
                .map(|v| scale * v + shift)
                .map(|v: f64| {
                    if [0.0, -1.0, 2.0].iter().any(|c| (v - c).abs() < 1e-3) {
                        v + 0.01
                    } else {
                        v
                    }
                })
                .collect();
            let mut theta = w.to_vec();
            theta.extend(&x);
            family_agrees(
                &format!("guarded, {steps} steps, x = {x:?}"),
                &|q| guarded(&q[..3], &q[3..]),
                &[
                    &|q| flat(guarded_grad(&q[..3], &q[3..])),
                    &|q| flat(guarded_k2_grad(&q[..3], &q[3..])),
                    &|q| flat(guarded_k3_grad(&q[..3], &q[3..])),
                    &|q| flat(guarded_k7_grad(&q[..3], &q[3..])),
                    &|q| flat(guarded_k8_grad(&q[..3], &q[3..])),
                ],
                &theta,
            );
        }
    }
}

// Fuzz seed 3, program 9997 (its helper, as found): with `checkpoint = 4`, the hidden
// vector-Jacobian product declared the pool of a recurrence's stretch that it never used
// (the stretch filled fresh there), untyped: `E0282` where the function was compiled.
#[differentiable(checkpoint = 4)]
#[allow(
    clippy::int_plus_one,
    clippy::absurd_extreme_comparisons,
    unused_comparisons
)] // the program as found
fn stretch_pool_unused(u: &[f64], v: &[f64], t: f64) -> f64 {
    let mut m1 = t;
    let mut h2 = t / (2.0 + m1.sin());
    for i in 0..u.len() {
        if i + 1 > 1 {
            break;
        }
        let mut p3 = 1.0;
        for j in (0..u.len()).step_by(2) {
            h2 = 0.02 * h2 + (0..u.len()).step_by(4).map(|_k| -1.07 + t).sum::<f64>();
            p3 /= 1.0
                + v.iter()
                    .zip(v)
                    .map(|(&_a, &_b)| 1.0 + 0.3 * (u[j] + -0.86).cos())
                    .product::<f64>()
                    * v.iter()
                        .zip(v)
                        .map(|(&_a, &_b)| 1.0 + 0.3 * (u[j] + -0.86).cos())
                        .product::<f64>();
        }
        m1 = m1.max(
            p3 * (if (0..u.len())
                .step_by(6)
                .map(|_j| 0.17 * (i as f64) / (2.0 + t.sin()))
                .sum::<f64>()
                < 0.23
            {
                v[i]
            } else {
                p3
            }),
        );
    }
    let fc7 = |v6: f64| 0.65 + 0.39 * (v.len() as f64) + v6;
    let k8 = fc7(-m1);
    k8 + h2.atan() + m1
}

#[test]
fn a_checkpointed_helper_whose_product_fills_its_stretch_fresh_compiles_and_matches_differences() {
    let h = 1e-6;
    for (u, v, t) in [
        (vec![0.1, 0.2, 0.3], vec![0.4, 0.5, 0.6], 0.3),
        (
            vec![1.1, 0.2, 0.3, 0.5, 0.7],
            vec![0.4, -0.5, 0.6, 0.1, 0.2],
            -0.3,
        ),
    ] {
        let (_, g) = stretch_pool_unused_grad(&u, &v, t);
        let want =
            (stretch_pool_unused(&u, &v, t + h) - stretch_pool_unused(&u, &v, t - h)) / (2.0 * h);
        assert!((g.t - want).abs() < 1e-6, "∂/∂t {} vs {}", g.t, want);
        for i in 0..v.len() {
            let (mut vp, mut vm) = (v.clone(), v.clone());
            vp[i] += h;
            vm[i] -= h;
            let want =
                (stretch_pool_unused(&u, &vp, t) - stretch_pool_unused(&u, &vm, t)) / (2.0 * h);
            assert!(
                (g.v[i] - want).abs() < 1e-6,
                "∂/∂v[{i}] {} vs {}",
                g.v[i],
                want
            );
        }
    }
}
