//! A guard on the size, then loops whose bounds are only valid past it (`if n == 0 { return
//! 0.0; }` then `0..n - 1`, `x.len() / d` after `if d == 0`, `a % (n - 1)` after `if n < 2`):
//! the gradient must run at every size the function runs at, 0 included, and never evaluate
//! what the function does not. Each of these once panicked in `_grad` (an underflow or a
//! division by zero at the size the guard returns at) while the function returned 0. Oracles:
//! derivatives by hand (exact), central differences, and the function's own value, at every
//! size from 0.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};
#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, hessian_by_differences, mat_vec};

/// A suffix sum filled from the end: `x[i] = d[i] + x[i + 1]` over `(0..n - 1).rev()`.
#[differentiable]
fn suffix_scan(d: &[f64]) -> f64 {
    let n = d.len();
    if n == 0 {
        return 0.0;
    }
    let mut x = vec![0.0; n];
    for i in (0..n - 1).rev() {
        x[i] = d[i] + x[i + 1];
    }
    x.iter().sum()
}

#[test]
fn a_scan_from_the_end_after_a_guard_at_every_size() {
    for n in 0..7usize {
        let d: Vec<f64> = (0..n).map(|i| 0.5 + i as f64).collect();
        let (v, g) = suffix_scan_grad(&d);
        assert_eq!(v, suffix_scan(&d), "n = {n}");
        // Σ_i x[i] = Σ_{k < n-1} (k + 1)·d[k]: d[n - 1] is never read.
        let want: Vec<f64> = (0..n)
            .map(|k| if k + 1 < n { (k + 1) as f64 } else { 0.0 })
            .collect();
        assert_eq!(g.d, want, "n = {n}");
    }
}

/// A state carried over `x.len() / d` steps, each scaling every element by `w`.
#[differentiable]
fn scaled_state(x: &[f64], w: f64, d: usize) -> f64 {
    if d == 0 {
        return 0.0;
    }
    let mut h = vec![1.0; d];
    for _t in 0..x.len() / d {
        for j in 0..d {
            h[j] *= w;
        }
    }
    h[0]
}

/// The same with checkpoints: the forward loop that saves them runs under the guard too.
#[differentiable(checkpoint = 2)]
fn scaled_state_checkpointed(x: &[f64], w: f64, d: usize) -> f64 {
    if d == 0 {
        return 0.0;
    }
    let mut h = vec![1.0; d];
    for _t in 0..x.len() / d {
        for j in 0..d {
            h[j] *= w;
        }
    }
    h[0]
}

#[test]
fn a_carried_array_after_a_guard_on_its_length() {
    let x = [1.0; 7];
    // (d, x.len() / d): 7 steps of 1, 3 of 2, 2 of 3; none at d = 0 (the guard returns 0).
    for (d, steps) in [(0usize, 0i32), (1, 7), (2, 3), (3, 2)] {
        let w: f64 = 1.5;
        let want_v = if d == 0 { 0.0 } else { w.powi(steps) };
        // d/dw w^T = T·w^(T-1).
        let want_w = if steps == 0 {
            0.0
        } else {
            f64::from(steps) * w.powi(steps - 1)
        };
        let (v, g) = scaled_state_grad(&x, w, d);
        assert_eq!((v, g.w), (want_v, want_w), "d = {d}");
        assert_eq!(g.x, vec![0.0; 7]);
        let (v, g) = scaled_state_checkpointed_grad(&x, w, d);
        assert_eq!((v, g.w), (want_v, want_w), "checkpointed, d = {d}");
    }
}

/// An index computed with `%` by the size minus one, after the guard that makes it valid.
#[differentiable]
fn wrapped_prefix(x: &[f64], a: usize) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let k = 1 + a % (n - 1);
    let mut s = 0.0;
    for i in 0..k {
        s += x[i] * x[i];
    }
    s
}

#[test]
fn a_remainder_by_the_size_minus_one_after_a_guard() {
    for n in 0..6usize {
        let x: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        for a in 0..4 {
            let (v, g) = wrapped_prefix_grad(&x, a);
            assert_eq!(v, wrapped_prefix(&x, a));
            let k = if n < 2 { 0 } else { 1 + a % (n - 1) };
            let want: Vec<f64> = (0..n)
                .map(|i| if i < k { 2.0 * x[i] } else { 0.0 })
                .collect();
            assert_eq!(g.x, want, "n = {n}, a = {a}");
        }
    }
}

/// Two guards before the loops: the gradient of each case runs only in its case.
#[differentiable]
fn two_guards(x: &[f64]) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    if n == 1 {
        return x[0] * x[0];
    }
    let mut s = 0.0;
    for i in 0..n - 2 {
        s += x[i] * x[i + 2];
    }
    s + x[n - 1]
}

#[test]
fn two_guards_at_every_size() {
    for n in 0..7usize {
        let x: Vec<f64> = (0..n).map(|i| 0.3 * i as f64 - 0.4).collect();
        let (v, g) = two_guards_grad(&x);
        assert_eq!(v, two_guards(&x), "n = {n}");
        let mut want = vec![0.0; n];
        match n {
            0 => {}
            1 => want[0] = 2.0 * x[0],
            _ => {
                for i in 0..n - 2 {
                    want[i] += x[i + 2];
                    want[i + 2] += x[i];
                }
                want[n - 1] += 1.0;
            }
        }
        assert_all_close(&g.x, &want, 1e-15);
    }
}

/// The Thomas algorithm for a tridiagonal system with constant bands, as written by hand: a
/// forward elimination filling two buffers, then back substitution from the end.
#[differentiable]
fn tridiagonal(d: &[f64], lower: f64, diag: f64, upper: f64) -> f64 {
    let n = d.len();
    if n == 0 {
        return 0.0;
    }
    let mut cp = vec![0.0; n];
    let mut dp = vec![0.0; n];
    cp[0] = upper / diag;
    dp[0] = d[0] / diag;
    for i in 1..n {
        let m = diag - lower * cp[i - 1];
        cp[i] = upper / m;
        dp[i] = (d[i] - lower * dp[i - 1]) / m;
    }
    let mut x = vec![0.0; n];
    x[n - 1] = dp[n - 1];
    for i in (0..n - 1).rev() {
        x[i] = dp[i] - cp[i] * x[i + 1];
    }
    x.iter().map(|v| v * v).sum()
}

#[test]
fn the_thomas_algorithm_at_every_size() {
    for n in 0..8usize {
        let d: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() + 0.2).collect();
        let (lower, diag, upper) = (-0.9, 3.1, 0.6);
        let (v, g) = tridiagonal_grad(&d, lower, diag, upper);
        assert_eq!(v, tridiagonal(&d, lower, diag, upper), "n = {n}");
        let want = numeric_gradient(|d| tridiagonal(d, lower, diag, upper), &d);
        assert_all_close(&g.d, &want, 1e-7);
        let bands = [lower, diag, upper];
        let by_band = numeric_gradient(|p| tridiagonal(&d, p[0], p[1], p[2]), &bands);
        assert_all_close(&[g.lower, g.diag, g.upper], &by_band, 1e-7);
    }
}

/// A caller of a guarded function, through its `__vjp` and `__partials`, at every size.
#[differentiable]
fn calls_the_scan(d: &[f64], s: f64) -> f64 {
    s * suffix_scan(d) + tridiagonal(d, 0.5, 2.0 + s * s, -0.5)
}

#[test]
fn a_caller_of_guarded_functions_at_every_size() {
    for n in 0..6usize {
        let d: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
        let (v, g) = calls_the_scan_grad(&d, 0.8);
        assert_eq!(v, calls_the_scan(&d, 0.8), "n = {n}");
        let want = numeric_gradient(|d| calls_the_scan(d, 0.8), &d);
        assert_all_close(&g.d, &want, 1e-7);
        let by_s = numeric_gradient(|s| calls_the_scan(&d, s[0]), &[0.8]);
        assert_all_close(&[g.s], &by_s, 1e-7);
    }
}

/// Second order through the guards: `_hvp` and `_hessian` split as `_grad` is (they computed
/// the scan's bounds and a division by `d` at the size the guard returns at, and panicked).
#[differentiable(hessian)]
fn suffix_scan_squares(d: &[f64], w: f64) -> f64 {
    let n = d.len();
    if n == 0 {
        return w * w;
    }
    let mut x = vec![0.0; n];
    for i in (0..n - 1).rev() {
        x[i] = w * d[i] * d[i] + x[i + 1];
    }
    x.iter().sum::<f64>() * w
}

#[differentiable(hessian)]
fn scaled_state_by_x0(x: &[f64], w: f64, d: usize) -> f64 {
    if d == 0 {
        return x.iter().map(|v| v * v).sum::<f64>();
    }
    let mut h = vec![1.0; d];
    for _t in 0..x.len() / d {
        for j in 0..d {
            h[j] *= w * x[0];
        }
    }
    h[0] + h[d - 1] * w
}

#[test]
fn hessians_through_guards_at_every_size() {
    for n in 0..=5usize {
        let d: Vec<f64> = [0.4, 0.7, 1.0, 1.3, 1.6][..n].to_vec();
        let w = 0.9;
        let flat = |t: &[f64]| {
            let (_, g) = suffix_scan_squares_grad(&t[..n], t[n]);
            let mut out = g.d.clone();
            out.push(g.w);
            out
        };
        let mut theta = d.clone();
        theta.push(w);
        let want = hessian_by_differences(flat, &theta);
        let (value, _, h) = suffix_scan_squares_hessian(&d, w);
        assert_eq!(value, suffix_scan_squares(&d, w), "n = {n}");
        close(&h, &want, 1e-6, "hessian");
        let v: Vec<f64> = [1.0, 0.75, 0.5, 0.25, 0.0, -0.25][..=n].to_vec();
        let dir = SuffixScanSquaresGrad {
            d: v[..n].to_vec(),
            w: v[n],
        };
        let (_, _, hv) = suffix_scan_squares_hvp(&d, w, &dir);
        let mut got = hv.d.clone();
        got.push(hv.w);
        close(&got, &mat_vec(&want, &v), 1e-6, "H·v");
    }
    let x = [0.8, -0.6, 1.1, 0.5];
    for d in 0..4usize {
        let w = 1.1;
        let flat = |t: &[f64]| {
            let (_, g) = scaled_state_by_x0_grad(&t[..4], t[4], d);
            let mut out = g.x.clone();
            out.push(g.w);
            out
        };
        let mut theta = x.to_vec();
        theta.push(w);
        let want = hessian_by_differences(flat, &theta);
        let (value, _, h) = scaled_state_by_x0_hessian(&x, w, d);
        assert_eq!(value, scaled_state_by_x0(&x, w, d), "d = {d}");
        close(&h, &want, 1e-6, "hessian");
    }
}

/// A guard clause, then a running maximum from `x[0]`, then a `return` on that maximum: the
/// choice is split on the guard (`returned = n == 0 || (m > 1 || …)`), its first operand.
#[differentiable]
fn guard_then_return_on_a_max(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    let mut m = x[0];
    for i in 1..n {
        m = m.max(x[i]);
    }
    if m > 1.0 {
        return m * w;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (x[i] - m).exp();
    }
    s.ln() + m
}

/// A guard whose second operand reads a loop (`n == 0 || s > 2.0`), then a scan from the end.
#[differentiable]
fn guard_or_sum_then_scan(x: &[f64], a: f64) -> f64 {
    let n = x.len();
    let s: f64 = x.iter().sum();
    if n == 0 || s > 2.0 {
        return s;
    }
    let mut z = vec![0.0; n];
    z[n - 1] = x[n - 1];
    for i in (0..n - 1).rev() {
        z[i] = z[i + 1] * a + x[i];
    }
    z[0]
}

/// The same before a carried array over `x.len() / d`.
#[differentiable]
fn guard_or_sum_then_carried(x: &[f64], w: f64, d: usize) -> f64 {
    let s: f64 = x.iter().sum();
    if d == 0 || s > 2.0 {
        return s;
    }
    let mut h = vec![0.0; d];
    for t in 0..x.len() / d {
        for j in 0..d {
            h[j] = (h[j] * w + x[t * d + j]).tanh();
        }
    }
    h[0]
}

#[test]
fn guards_with_a_second_return_or_operand_at_every_size() {
    let data = [0.3, -0.4, 0.2, 0.1, -0.2, 0.25, 0.05];
    for n in 0..=data.len() {
        let x = &data[..n];
        let (v, g) = guard_then_return_on_a_max_grad(x, 0.7);
        assert_eq!(v, guard_then_return_on_a_max(x, 0.7), "n = {n}");
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| guard_then_return_on_a_max(x, 0.7), x),
            1e-6,
        );
        let (v, g) = guard_or_sum_then_scan_grad(x, 0.6);
        assert_eq!(v, guard_or_sum_then_scan(x, 0.6), "n = {n}");
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| guard_or_sum_then_scan(x, 0.6), x),
            1e-6,
        );
        for d in 0..3 {
            let (v, g) = guard_or_sum_then_carried_grad(x, 0.8, d);
            assert_eq!(v, guard_or_sum_then_carried(x, 0.8, d), "n = {n}, d = {d}");
            let want = numeric_gradient(|x| guard_or_sum_then_carried(x, 0.8, d), x);
            assert_all_close(&g.x, &want, 1e-6);
        }
    }
    // The other side of each choice: the maximum above 1, the sum above 2.
    let big = [1.5, 0.2, 0.9];
    let (v, g) = guard_then_return_on_a_max_grad(&big, 0.7);
    assert_eq!((v, g.x, g.w), (1.5 * 0.7, vec![0.7, 0.0, 0.0], 1.5));
    let (v, g) = guard_or_sum_then_scan_grad(&big, 0.6);
    assert_eq!((v, g.x), (2.6, vec![1.0; 3]));
}

/// A square root in an outer loop read only by an inner loop over `0..k`: at `k = 0` nothing
/// reads it, and its derivatives by `x[i]` and `w` are 0 even where the root is `NaN` (they
/// were `0 / NaN`, and the count `k` times `Σ r`: `0 · NaN`).
#[differentiable]
fn root_read_by_an_inner_loop(x: &[f64], w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let r = (x[i] - 0.5).sqrt();
        for _j in 0..k {
            s += r * w;
        }
    }
    s
}

#[test]
fn a_root_an_empty_inner_loop_reads() {
    let x = [-0.75, 0.25, 1.0];
    let (v, g) = root_read_by_an_inner_loop_grad(&x, 0.6, 0);
    assert_eq!(v, 0.0);
    assert_eq!((g.x, g.w), (vec![0.0; 3], 0.0));
    let (_, g) = root_read_by_an_inner_loop_grad(&[0.75, 1.5], 0.6, 2);
    assert_all_close(&g.x, &[1.2 / (2.0 * 0.5), 1.2 / (2.0 * 1.0)], 1e-15);
    // ∂w = k·Σ r = 2·(0.5 + 1).
    assert_eq!(g.w, 3.0);
}

/// A log-sum-exp of each prefix, times that square root, read only by the inner loop: at `k =
/// 0` the function calls nothing, and the gradient's call (seeded with `k·r`, which was `0 ·
/// NaN`) is not made either.
#[differentiable]
fn prefix_lse(x: &[f64]) -> f64 {
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[differentiable]
fn root_times_a_call_read_by_an_inner_loop(x: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let r = (x[i] - 0.5).sqrt();
        for _j in 0..k {
            s += prefix_lse(&x[..=i]) * r;
        }
    }
    s
}

#[test]
fn a_call_an_empty_inner_loop_reads() {
    let x = [-0.75, 0.25, 1.0];
    let (v, g) = root_times_a_call_read_by_an_inner_loop_grad(&x, 0);
    assert_eq!(v, 0.0);
    assert_eq!(g.x, vec![0.0; 3]);
    let x = [0.75, 1.5, 0.9];
    for k in 1..3 {
        let (v, g) = root_times_a_call_read_by_an_inner_loop_grad(&x, k);
        // (`k · (c·r)`, not `c·r + c·r`: one rounding apart.)
        assert_all_close(
            &[v],
            &[root_times_a_call_read_by_an_inner_loop(&x, k)],
            1e-15,
        );
        let want = numeric_gradient(|t| root_times_a_call_read_by_an_inner_loop(t, k), &x);
        assert_all_close(&g.x, &want, 1e-7);
    }
}
