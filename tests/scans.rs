//! Recurrences through an array's elements (scans): `z[c] = z[c - 1] * w[c]` in `for c in
//! a..b`, conditional writes, a scan per row of an outer loop, `checkpoint`.
//! Oracles: gradients derived by hand (1e-12), the same function written with a carried float
//! (bit for bit), num-dual's forward mode on generic twins (1e-12) and central differences
//! (1e-6 relative), at the lengths 0, 1, 2 and 7 where the function is defined there.
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop)]

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

fn data(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.7 + 0.13 * i as f64 - 0.02 * (i * i) as f64)
        .collect()
}

// ---- A cumulative product, its last element read.

#[differentiable]
fn cumprod_last(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![1.0; n];
    for c in 1..n {
        z[c] = z[c - 1] * w[c];
    }
    z[n - 1]
}

/// The same with the running product in a float.
#[differentiable]
fn cumprod_float(w: &[f64]) -> f64 {
    let n = w.len();
    let mut p = 1.0;
    for c in 1..n {
        p *= w[c];
    }
    p
}

#[test]
fn cumulative_product_matches_the_product_rule() {
    for n in [1, 2, 7] {
        let w = data(n);
        let (value, g) = cumprod_last_grad(&w);
        assert_eq!(value, cumprod_last(&w));
        assert_eq!(g.w[0], 0.0);
        for c in 1..n {
            let others: f64 = (1..n).filter(|k| *k != c).map(|k| w[k]).product();
            assert_relative_eq!(g.w[c], others, epsilon = 1e-12);
        }
        // The carried float's gradient, bit for bit.
        let (pv, pg) = cumprod_float_grad(&w);
        assert_eq!(value.to_bits(), pv.to_bits());
        for (a, b) in g.w.iter().zip(&pg.w) {
            assert_eq!(a.to_bits(), b.to_bits(), "n = {n}");
        }
    }
}

// ---- Prefix sums, every element read after the loop.

#[differentiable]
fn prefix_squares(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = vec![0.0; n];
    if n > 0 {
        s[0] = x[0];
    }
    for i in 1..n {
        s[i] = s[i - 1] + x[i];
    }
    let mut t = 0.0;
    for i in 0..n {
        t += s[i] * s[i];
    }
    t
}

#[test]
fn prefix_sums_match_the_gradient_by_hand() {
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = prefix_squares_grad(&x);
        assert_eq!(value, prefix_squares(&x));
        // s_i = Σ_{k≤i} x_k, t = Σ s_i²: ∂t/∂x_j = Σ_{i≥j} 2 s_i.
        let s: Vec<f64> = (0..n).map(|i| x[..=i].iter().sum()).collect();
        for j in 0..n {
            let want: f64 = (j..n).map(|i| 2.0 * s[i]).sum();
            assert_relative_eq!(g.x[j], want, epsilon = 1e-12, max_relative = 1e-12);
        }
        assert_eq!(g.x.len(), n);
    }
}

// ---- A nonlinear scan with a conditional write, a scan per row, `checkpoint`.

#[differentiable]
fn tanh_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.5; n];
    for i in 1..n {
        if x[i] > 0.8 {
            h[i] = (a * h[i - 1] + x[i]).tanh();
        }
    }
    let mut loss = 0.0;
    for i in 0..n {
        loss += h[i] * x[i];
    }
    loss
}

fn tanh_scan_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut h = vec![T::from(0.5); n];
    for i in 1..n {
        if x[i].re() > 0.8 {
            h[i] = (a * h[i - 1] + x[i]).tanh();
        }
    }
    (0..n).fold(T::zero(), |s, i| s + h[i] * x[i])
}

#[test]
fn a_conditional_nonlinear_scan_matches_num_dual_and_differences() {
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let a = 0.7;
        let (value, g) = tanh_scan_grad(a, &x);
        assert_eq!(value, tanh_scan(a, &x));
        let numeric = numeric_gradient(|q| tanh_scan(a, q), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
        let da = numeric_gradient(|q| tanh_scan(q[0], &x), &[a]);
        assert_all_close(&[g.a], &da, 1e-6);
        if n == 7 {
            let (dv, d) = gradient(
                |q: SVector<DualSVec64<8>, 8>| tanh_scan_twin(q[0], &q.as_slice()[1..]),
                &SVector::from_iterator([a].into_iter().chain(x.iter().copied())),
            );
            assert_relative_eq!(value, dv, epsilon = 1e-12);
            assert_relative_eq!(g.a, d[0], epsilon = 1e-12);
            assert_all_close(&g.x, &d.as_slice()[1..], 1e-12);
        }
    }
}

/// A cumulative product per row of `m` columns.
#[differentiable]
fn row_scans(w: &[f64], m: usize) -> f64 {
    let rows = w.len() / m;
    let mut total = 0.0;
    for r in 0..rows {
        let mut z = vec![1.0; m];
        z[0] = w[r * m];
        for c in 1..m {
            z[c] = z[c - 1] * w[r * m + c];
        }
        total += z[m - 1];
    }
    total
}

#[test]
fn a_scan_per_row_matches_the_product_rule() {
    let m = 3;
    let w = data(3 * m);
    let (value, g) = row_scans_grad(&w, m);
    assert_eq!(value, row_scans(&w, m));
    for r in 0..3 {
        for c in 0..m {
            let others: f64 = (0..m).filter(|k| *k != c).map(|k| w[r * m + k]).product();
            assert_relative_eq!(g.w[r * m + c], others, epsilon = 1e-12);
        }
    }
}

#[differentiable(checkpoint = 2)]
fn cumprod_checkpointed(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![1.0; n];
    for c in 1..n {
        z[c] = z[c - 1] * w[c];
    }
    z[n - 1]
}

#[test]
fn checkpointing_changes_no_bit() {
    for n in [1, 2, 7] {
        let w = data(n);
        let (a, ga) = cumprod_last_grad(&w);
        let (b, gb) = cumprod_checkpointed_grad(&w);
        assert_eq!(a.to_bits(), b.to_bits());
        for (x, y) in ga.w.iter().zip(&gb.w) {
            assert_eq!(x.to_bits(), y.to_bits());
        }
    }
}

// ---- Reversed scans: discounted returns `g[t] = r[t] + γ·g[t + 1]`.

/// The returns summed, the element past the end read as zero.
#[differentiable]
fn returns_guarded(gamma: f64, r: &[f64]) -> f64 {
    let n = r.len();
    let mut g = vec![0.0; n];
    for t in (0..n).rev() {
        let next = if t + 1 < n { gamma * g[t + 1] } else { 0.0 };
        g[t] = r[t] + next;
    }
    let mut total = 0.0;
    for t in 0..n {
        total += g[t];
    }
    total
}

/// The same, the last return set before the loop, which starts one before it; every return
/// weighed by `w[t]` after.
#[differentiable]
fn returns_weighted(gamma: f64, r: &[f64], w: &[f64]) -> f64 {
    let n = r.len();
    let mut g = vec![0.0; n];
    g[n - 1] = r[n - 1];
    for t in (0..n - 1).rev() {
        g[t] = r[t] + gamma * g[t + 1];
    }
    g.iter().zip(w).map(|(a, b)| a * b).sum::<f64>()
}

fn returns_twin<T: DualNum<Primitive = f64> + Copy>(gamma: T, r: &[T], w: &[f64]) -> T {
    let n = r.len();
    let mut g = vec![T::zero(); n];
    g[n - 1] = r[n - 1];
    for t in (0..n - 1).rev() {
        g[t] = r[t] + gamma * g[t + 1];
    }
    (0..n).fold(T::zero(), |s, t| s + g[t] * w[t])
}

/// `γ^k`, by `k` products.
fn pow(gamma: f64, k: usize) -> f64 {
    (0..k).fold(1.0, |p, _| p * gamma)
}

/// `G_t = Σ_{k≥t} γ^{k−t} r_k`.
fn returns_by_hand(gamma: f64, r: &[f64]) -> Vec<f64> {
    let n = r.len();
    (0..n)
        .map(|t| (t..n).map(|k| pow(gamma, k - t) * r[k]).sum())
        .collect()
}

#[test]
fn discounted_returns_match_the_gradient_by_hand() {
    let gamma = 0.9;
    for n in [0, 1, 2, 7] {
        let r = data(n);
        let (value, g) = returns_guarded_grad(gamma, &r);
        assert_eq!(value, returns_guarded(gamma, &r));
        assert_relative_eq!(
            value,
            returns_by_hand(gamma, &r).iter().sum::<f64>(),
            epsilon = 1e-12,
            max_relative = 1e-12
        );
        assert_eq!(g.r.len(), n);
        // Σ_t G_t = Σ_k r_k Σ_{t≤k} γ^{k−t}: ∂/∂r_k = Σ_{j=0}^{k} γ^j.
        for k in 0..n {
            let want: f64 = (0..=k).map(|j| pow(gamma, j)).sum();
            assert_relative_eq!(g.r[k], want, epsilon = 1e-12, max_relative = 1e-12);
        }
        // ∂/∂γ = Σ_t Σ_{k>t} (k − t) γ^{k−t−1} r_k.
        let dgamma: f64 = (0..n)
            .flat_map(|t| (t + 1..n).map(move |k| (t, k)))
            .map(|(t, k)| (k - t) as f64 * pow(gamma, k - t - 1) * r[k])
            .sum();
        assert_relative_eq!(g.gamma, dgamma, epsilon = 1e-12, max_relative = 1e-12);
    }
}

#[test]
fn weighted_returns_match_the_gradient_by_hand_num_dual_and_differences() {
    let gamma = 0.8;
    for n in [1, 2, 7] {
        let r = data(n);
        let w: Vec<f64> = (0..n).map(|t| 1.0 - 0.1 * t as f64).collect();
        let (value, g) = returns_weighted_grad(gamma, &r, &w);
        assert_eq!(value, returns_weighted(gamma, &r, &w));
        // Σ_t w_t G_t: ∂/∂r_k = Σ_{t≤k} w_t γ^{k−t}; ∂/∂γ = Σ_t w_t Σ_{k>t} (k − t) γ^{k−t−1} r_k.
        for k in 0..n {
            let want: f64 = (0..=k).map(|t| w[t] * pow(gamma, k - t)).sum();
            assert_relative_eq!(g.r[k], want, epsilon = 1e-12, max_relative = 1e-12);
        }
        let dgamma: f64 = (0..n)
            .flat_map(|t| (t + 1..n).map(move |k| (t, k)))
            .map(|(t, k)| w[t] * (k - t) as f64 * pow(gamma, k - t - 1) * r[k])
            .sum();
        assert_relative_eq!(g.gamma, dgamma, epsilon = 1e-12, max_relative = 1e-12);
        let numeric = numeric_gradient(|q| returns_weighted(gamma, q, &w), &r);
        assert_all_close(&g.r, &numeric, 1e-6);
        let dg = numeric_gradient(|q| returns_weighted(q[0], &r, &w), &[gamma]);
        assert_all_close(&[g.gamma], &dg, 1e-6);
        if n == 7 {
            let (dv, d) = gradient(
                |q: SVector<DualSVec64<8>, 8>| returns_twin(q[0], &q.as_slice()[1..], &w),
                &SVector::from_iterator([gamma].into_iter().chain(r.iter().copied())),
            );
            assert_relative_eq!(value, dv, epsilon = 1e-12);
            assert_relative_eq!(g.gamma, d[0], epsilon = 1e-12);
            assert_all_close(&g.r, &d.as_slice()[1..], 1e-12);
        }
    }
}

// ---- A scan read in the loop that writes it: a sum of its current or previous element.

/// `acc` reads the element this iteration wrote.
#[differentiable]
fn scan_read_now(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut acc = 0.0;
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
        acc += z[i] * x[i];
    }
    acc
}

/// `acc` reads the element the previous iteration wrote.
#[differentiable]
fn scan_read_previous(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut acc = 0.0;
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
        acc += z[i - 1] * x[i];
    }
    acc
}

/// The two-loop forms: the scan first, then the sum in a loop of its own.
#[differentiable]
fn scan_then_now(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
    }
    let mut acc = 0.0;
    for i in 1..n {
        acc += z[i] * x[i];
    }
    acc
}

#[differentiable]
fn scan_then_previous(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
    }
    let mut acc = 0.0;
    for i in 1..n {
        acc += z[i - 1] * x[i];
    }
    acc
}

#[differentiable(checkpoint = 2)]
fn scan_read_now_checkpointed(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut acc = 0.0;
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
        acc += z[i] * x[i];
    }
    acc
}

#[differentiable(checkpoint = 2)]
fn scan_read_previous_checkpointed(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut acc = 0.0;
    for i in 1..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
        acc += z[i - 1] * x[i];
    }
    acc
}

/// `z_i = Σ_{1≤k≤i} ½^{i−k} a x_k` (`z_0 = 0`) and `u_i = z_i / a`, by hand.
fn half_scan(a: f64, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let u: Vec<f64> = (0..n)
        .map(|i| (1..=i).map(|k| pow(0.5, i - k) * x[k]).sum())
        .collect();
    (u.iter().map(|v| a * v).collect(), u)
}

fn assert_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (p, q) in a.iter().zip(b) {
        assert_eq!(p.to_bits(), q.to_bits(), "{what}: {p} ≠ {q}");
    }
}

#[test]
fn a_sum_of_the_scans_current_element_matches_the_gradient_by_hand() {
    let a = 0.9;
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = scan_read_now_grad(a, &x);
        assert_eq!(value.to_bits(), scan_read_now(a, &x).to_bits());
        let (z, u) = half_scan(a, &x);
        // acc = Σ_{i≥1} z_i x_i: ∂/∂a = Σ u_i x_i; ∂/∂x_j = z_j + a Σ_{i≥j} ½^{i−j} x_i (j ≥ 1).
        let want: f64 = (1..n).map(|i| z[i] * x[i]).sum();
        assert_relative_eq!(value, want, epsilon = 1e-12, max_relative = 1e-12);
        let da: f64 = (1..n).map(|i| u[i] * x[i]).sum();
        assert_relative_eq!(g.a, da, epsilon = 1e-12, max_relative = 1e-12);
        assert_eq!(g.x.len(), n);
        for j in 1..n {
            let tail: f64 = (j..n).map(|i| pow(0.5, i - j) * x[i]).sum();
            assert_relative_eq!(
                g.x[j],
                z[j] + a * tail,
                epsilon = 1e-12,
                max_relative = 1e-12
            );
        }
        if n > 0 {
            assert_eq!(g.x[0], 0.0);
        }
        // The two-loop form and `checkpoint = 2`, bit for bit.
        let (tv, tg) = scan_then_now_grad(a, &x);
        assert_eq!(value.to_bits(), tv.to_bits());
        assert_eq!(g.a.to_bits(), tg.a.to_bits(), "n = {n}");
        assert_bits(&g.x, &tg.x, "two loops");
        let (cv, cg) = scan_read_now_checkpointed_grad(a, &x);
        assert_eq!(value.to_bits(), cv.to_bits());
        assert_eq!(g.a.to_bits(), cg.a.to_bits(), "n = {n}");
        assert_bits(&g.x, &cg.x, "checkpoint = 2");
    }
}

#[test]
fn a_sum_of_the_scans_previous_element_matches_the_gradient_by_hand() {
    let a = 0.9;
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = scan_read_previous_grad(a, &x);
        assert_eq!(value.to_bits(), scan_read_previous(a, &x).to_bits());
        let (z, u) = half_scan(a, &x);
        // acc = Σ_{i≥1} z_{i−1} x_i: ∂/∂a = Σ u_{i−1} x_i; ∂/∂x_j = z_{j−1} + a Σ_{i>j} ½^{i−1−j} x_i.
        let want: f64 = (1..n).map(|i| z[i - 1] * x[i]).sum();
        assert_relative_eq!(value, want, epsilon = 1e-12, max_relative = 1e-12);
        let da: f64 = (1..n).map(|i| u[i - 1] * x[i]).sum();
        assert_relative_eq!(g.a, da, epsilon = 1e-12, max_relative = 1e-12);
        assert_eq!(g.x.len(), n);
        for j in 1..n {
            let tail: f64 = (j + 1..n).map(|i| pow(0.5, i - 1 - j) * x[i]).sum();
            assert_relative_eq!(
                g.x[j],
                z[j - 1] + a * tail,
                epsilon = 1e-12,
                max_relative = 1e-12
            );
        }
        if n > 0 {
            assert_eq!(g.x[0], 0.0);
        }
        let (tv, tg) = scan_then_previous_grad(a, &x);
        assert_eq!(value.to_bits(), tv.to_bits());
        assert_eq!(g.a.to_bits(), tg.a.to_bits(), "n = {n}");
        assert_bits(&g.x, &tg.x, "two loops");
        let (cv, cg) = scan_read_previous_checkpointed_grad(a, &x);
        assert_eq!(value.to_bits(), cv.to_bits());
        assert_eq!(g.a.to_bits(), cg.a.to_bits(), "n = {n}");
        assert_bits(&g.x, &cg.x, "checkpoint = 2");
    }
}

// ---- A scan read in its loop by a float recurrence, another array and a second scan.

/// A nonlinear scan read by a float recurrence, by another array's elements and by a second
/// scan, all in the loop that writes it.
#[differentiable]
fn scan_read_everywhere(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    let mut y = vec![0.0; n];
    let mut s = vec![0.1; n];
    let mut m = 0.0;
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
        m = 0.9 * m + z[i - 1] * z[i] * x[i];
        y[i] = z[i] * z[i] - x[i];
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    let mut t = 0.0;
    for i in 0..n {
        t += y[i] * x[i] + s[i];
    }
    m + t
}

/// The same, each reader in a loop of its own after the scan.
#[differentiable]
fn scan_read_everywhere_after(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
    }
    let mut y = vec![0.0; n];
    let mut s = vec![0.1; n];
    let mut m = 0.0;
    for i in 1..n {
        m = 0.9 * m + z[i - 1] * z[i] * x[i];
    }
    for i in 1..n {
        y[i] = z[i] * z[i] - x[i];
    }
    for i in 1..n {
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    let mut t = 0.0;
    for i in 0..n {
        t += y[i] * x[i] + s[i];
    }
    m + t
}

#[differentiable(checkpoint = 2)]
fn scan_read_everywhere_checkpointed(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    let mut y = vec![0.0; n];
    let mut s = vec![0.1; n];
    let mut m = 0.0;
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
        m = 0.9 * m + z[i - 1] * z[i] * x[i];
        y[i] = z[i] * z[i] - x[i];
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    let mut t = 0.0;
    for i in 0..n {
        t += y[i] * x[i] + s[i];
    }
    m + t
}

fn scan_read_everywhere_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.3); n];
    let mut y = vec![T::zero(); n];
    let mut s = vec![T::from(0.1); n];
    let mut m = T::zero();
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
        m = m * 0.9 + z[i - 1] * z[i] * x[i];
        y[i] = z[i] * z[i] - x[i];
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    (0..n).fold(m, |t, i| t + y[i] * x[i] + s[i])
}

#[test]
fn a_scan_read_in_its_loop_matches_num_dual_differences_and_the_loops_after() {
    let a = 0.7;
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = scan_read_everywhere_grad(a, &x);
        assert_eq!(value.to_bits(), scan_read_everywhere(a, &x).to_bits());
        assert_eq!(g.x.len(), n);
        let numeric = numeric_gradient(|q| scan_read_everywhere(a, q), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
        let da = numeric_gradient(|q| scan_read_everywhere(q[0], &x), &[a]);
        assert_all_close(&[g.a], &da, 1e-6);
        if n == 7 {
            let (dv, d) = gradient(
                |q: SVector<DualSVec64<8>, 8>| scan_read_everywhere_twin(q[0], &q.as_slice()[1..]),
                &SVector::from_iterator([a].into_iter().chain(x.iter().copied())),
            );
            assert_relative_eq!(value, dv, epsilon = 1e-12);
            assert_relative_eq!(g.a, d[0], epsilon = 1e-12);
            assert_all_close(&g.x, &d.as_slice()[1..], 1e-12);
        }
        let (cv, cg) = scan_read_everywhere_checkpointed_grad(a, &x);
        assert_eq!(value.to_bits(), cv.to_bits());
        assert_eq!(g.a.to_bits(), cg.a.to_bits(), "n = {n}");
        assert_bits(&g.x, &cg.x, "checkpoint = 2");
        // The loops after: the same values; the gradient to rounding (its sums run in
        // another order).
        let (tv, tg) = scan_read_everywhere_after_grad(a, &x);
        assert_eq!(value.to_bits(), tv.to_bits());
        assert_relative_eq!(g.a, tg.a, epsilon = 1e-13, max_relative = 1e-13);
        assert_all_close(&g.x, &tg.x, 1e-13);
    }
}

/// Discounted returns read by a weighted sum in the reversed loop that writes them.
#[differentiable]
fn returns_read_in_loop(gamma: f64, r: &[f64], w: &[f64]) -> f64 {
    let n = r.len();
    let mut g = vec![0.0; n];
    let mut loss = 0.0;
    for t in (0..n).rev() {
        let next = if t + 1 < n { gamma * g[t + 1] } else { 0.0 };
        g[t] = r[t] + next;
        loss += w[t] * g[t];
    }
    loss
}

#[test]
fn returns_read_in_their_loop_match_the_gradient_by_hand() {
    let gamma = 0.8;
    for n in [0, 1, 2, 7] {
        let r = data(n);
        let w: Vec<f64> = (0..n).map(|t| 1.0 - 0.1 * t as f64).collect();
        let (value, g) = returns_read_in_loop_grad(gamma, &r, &w);
        assert_eq!(
            value.to_bits(),
            returns_read_in_loop(gamma, &r, &w).to_bits()
        );
        // Σ_t w_t G_t: ∂/∂r_k = Σ_{t≤k} w_t γ^{k−t}; ∂/∂γ = Σ_t w_t Σ_{k>t} (k − t) γ^{k−t−1} r_k.
        let returns = returns_by_hand(gamma, &r);
        let want: f64 = (0..n).map(|t| w[t] * returns[t]).sum();
        assert_relative_eq!(value, want, epsilon = 1e-12, max_relative = 1e-12);
        assert_eq!(g.r.len(), n);
        for k in 0..n {
            let want: f64 = (0..=k).map(|t| w[t] * pow(gamma, k - t)).sum();
            assert_relative_eq!(g.r[k], want, epsilon = 1e-12, max_relative = 1e-12);
        }
        let dgamma: f64 = (0..n)
            .flat_map(|t| (t + 1..n).map(move |k| (t, k)))
            .map(|(t, k)| w[t] * (k - t) as f64 * pow(gamma, k - t - 1) * r[k])
            .sum();
        assert_relative_eq!(g.gamma, dgamma, epsilon = 1e-12, max_relative = 1e-12);
    }
}

/// The scan's elements read under a condition and in a loop nested in the one writing it.
#[differentiable]
fn scan_read_nested(a: f64, x: &[f64], w: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.2; n];
    let mut acc = 0.0;
    for i in 1..n {
        if x[i] > 0.8 {
            continue;
        }
        z[i] = (a * z[i - 1]).sin() + x[i];
        if z[i - 1] > 0.5 {
            acc += z[i] * z[i - 1];
        }
        for j in 0..w.len() {
            acc += w[j] * z[i - 1] * z[i];
        }
    }
    acc
}

fn scan_read_nested_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T], w: &[f64]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.2); n];
    let mut acc = T::zero();
    for i in 1..n {
        if x[i].re() > 0.8 {
            continue;
        }
        z[i] = (a * z[i - 1]).sin() + x[i];
        if z[i - 1].re() > 0.5 {
            acc += z[i] * z[i - 1];
        }
        for wj in w {
            acc += z[i - 1] * *wj * z[i];
        }
    }
    acc
}

#[test]
fn a_scan_read_under_if_and_in_a_nested_loop_matches_num_dual_and_differences() {
    let a = 0.9;
    let w = [0.3, -0.2];
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = scan_read_nested_grad(a, &x, &w);
        // To rounding: the inner sum is factored (`z[i - 1] · Σ_j w[j]·z[i]`).
        assert_relative_eq!(
            value,
            scan_read_nested(a, &x, &w),
            epsilon = 1e-14,
            max_relative = 1e-14
        );
        let numeric = numeric_gradient(|q| scan_read_nested(a, q, &w), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
        let da = numeric_gradient(|q| scan_read_nested(q[0], &x, &w), &[a]);
        assert_all_close(&[g.a], &da, 1e-6);
        if n == 7 {
            let (dv, d) = gradient(
                |q: SVector<DualSVec64<8>, 8>| scan_read_nested_twin(q[0], &q.as_slice()[1..], &w),
                &SVector::from_iterator([a].into_iter().chain(x.iter().copied())),
            );
            assert_relative_eq!(value, dv, epsilon = 1e-12);
            assert_relative_eq!(g.a, d[0], epsilon = 1e-12);
            assert_all_close(&g.x, &d.as_slice()[1..], 1e-12);
        }
    }
}

// ---- A scan reading a float its loop carries.

/// `z_i = z_{i−1}·x_i + p_i`, `p_i = a·p_{i−1} + x_i` (`p_0 = 1`).
#[differentiable]
fn scan_reads_float(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut p = 1.0;
    for i in 1..n {
        p = p * a + x[i];
        z[i] = z[i - 1] * x[i] + p;
    }
    let mut t = p;
    for i in 0..n {
        t += z[i] * z[i];
    }
    t
}

/// The same with the float written as a scan of its own (the help's rewrite).
#[differentiable]
fn scan_reads_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut ps = vec![1.0; n];
    for i in 1..n {
        ps[i] = ps[i - 1] * a + x[i];
        z[i] = z[i - 1] * x[i] + ps[i];
    }
    let mut t = if n > 1 { ps[n - 1] } else { 1.0 };
    for i in 0..n {
        t += z[i] * z[i];
    }
    t
}

fn scan_reads_float_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::one(); n];
    let mut p = T::one();
    for i in 1..n {
        p = p * a + x[i];
        z[i] = z[i - 1] * x[i] + p;
    }
    (0..n).fold(p, |t, i| t + z[i] * z[i])
}

#[test]
fn a_scan_reading_a_carried_float_matches_num_dual_and_its_rewrite() {
    let a = 0.6;
    for n in [0, 1, 2, 7] {
        let x = data(n);
        let (value, g) = scan_reads_float_grad(a, &x);
        assert_eq!(value.to_bits(), scan_reads_float(a, &x).to_bits());
        let numeric = numeric_gradient(|q| scan_reads_float(a, q), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
        let da = numeric_gradient(|q| scan_reads_float(q[0], &x), &[a]);
        assert_all_close(&[g.a], &da, 1e-6);
        let (sv, sg) = scan_reads_scan_grad(a, &x);
        assert_eq!(value.to_bits(), sv.to_bits());
        assert_relative_eq!(g.a, sg.a, epsilon = 1e-13, max_relative = 1e-13);
        assert_all_close(&g.x, &sg.x, 1e-13);
        if n == 7 {
            let (dv, d) = gradient(
                |q: SVector<DualSVec64<8>, 8>| scan_reads_float_twin(q[0], &q.as_slice()[1..]),
                &SVector::from_iterator([a].into_iter().chain(x.iter().copied())),
            );
            assert_relative_eq!(value, dv, epsilon = 1e-12);
            assert_relative_eq!(g.a, d[0], epsilon = 1e-12);
            assert_all_close(&g.x, &d.as_slice()[1..], 1e-12);
        }
    }
}

// ---- Scans at `enumerate`'s count.

/// Scans whose index is `enumerate`'s count: `enumerate().skip(k)` (a write under `if`), and
/// `enumerate().rev()` reading the element after (a `break` on the data).
#[differentiable]
fn counted_scans(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    for (i, &v) in x.iter().enumerate().skip(2) {
        if v > 0.0 {
            z[i] = (z[i - 1] * a + v).tanh();
        }
    }
    let mut g = vec![0.25; n + 1];
    for (t, &v) in x.iter().enumerate().rev() {
        g[t] = g[t + 1] * a - v * g[t + 1];
        if v < -0.5 {
            break;
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * z[i] * g[i];
    }
    s + g[n] * a
}

/// The twin over ranges.
#[differentiable]
fn ranged_scans(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    for i in 2..n {
        if x[i] > 0.0 {
            z[i] = (z[i - 1] * a + x[i]).tanh();
        }
    }
    let mut g = vec![0.25; n + 1];
    for t in (0..n).rev() {
        g[t] = g[t + 1] * a - x[t] * g[t + 1];
        if x[t] < -0.5 {
            break;
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * z[i] * g[i];
    }
    s + g[n] * a
}

#[test]
fn scans_at_enumerate_count_are_the_scans_over_ranges() {
    // x = [b]: no forward write (it starts at 2), g = [¼(a − b), ¼]:
    // f = 0.3·¼(a − b) + ¼a, ∂/∂a = 0.075 + ¼, ∂/∂b = −0.075.
    let (a, b) = (0.7, 0.4);
    let (value, g) = counted_scans_grad(a, &[b]);
    assert_relative_eq!(value, 0.075 * (a - b) + 0.25 * a, epsilon = 1e-12);
    assert_relative_eq!(g.a, 0.325, epsilon = 1e-12);
    assert_relative_eq!(g.x[0], -0.075, epsilon = 1e-12);
    for x in [
        vec![0.3, -0.4, 1.1, 0.5, -0.9, 0.7, 0.2],
        vec![0.3, 0.4, 1.1, 0.5, 0.9],
        vec![-1.0, 0.4, 0.6],
        vec![0.2],
        vec![],
    ] {
        let (value, g) = counted_scans_grad(a, &x);
        let (twin, gt) = ranged_scans_grad(a, &x);
        assert_eq!(value, counted_scans(a, &x));
        assert_eq!((value, g.a, &g.x), (twin, gt.a, &gt.x), "x = {x:?}");
    }
}
