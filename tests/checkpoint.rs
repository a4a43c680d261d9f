//! `#[differentiable(checkpoint = K)]`: recurrences save their state every `K` iterations and
//! the reverse sweep recomputes each stretch from its checkpoint. The recomputation runs the
//! same operations in the same order as the forward loop did, so every gradient must equal the
//! one saved in full bit for bit; central differences check the pair against the function.
//! Loop lengths around multiples of `K` (0, 1, K − 1, K, K + 1, 2K + 1, …) test the stretches'
//! bounds.

#![allow(clippy::needless_range_loop)] // index loops are the language under test

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
