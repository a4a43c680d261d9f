//! Vector-valued functions (`-> [f64; M]`) with a guard on the size, then loops whose bounds
//! are only valid past it (`if n == 0 { return [w, 0.0]; }` then `(0..n - 1).rev()`; `x.len()
//! / d` after `if d == 0`): every companion (`_jacobian`, `_vjp`, `_jvp`) and every caller's
//! derivative through them (`__jacobian`, `__vjp`, `__vjp_rows`, `__hvp_outputs`) must run at
//! every size the function runs at, 0 included. Each of these panicked at the size the guard
//! returns at (an underflow, a division by zero) while the function returned. Oracles:
//! central differences of the function itself and exact values by hand, at every size from 0.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};
#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, hessian_by_differences, mat_vec};

/// A suffix scan filled from the end after a guard on its length: two outputs.
#[differentiable(hessian)]
fn suffix_pair(w: f64, d: &[f64]) -> [f64; 2] {
    let n = d.len();
    if n == 0 {
        return [w, 0.0];
    }
    let mut x = vec![0.0; n];
    for i in (0..n - 1).rev() {
        x[i] = d[i] * w + x[i + 1];
    }
    [w * x[0], x.iter().map(|v| v * v).sum()]
}

/// A state carried over `x.len() / d` steps after a guard on `d`, then a second guard on the
/// first element.
#[differentiable]
fn carried_pair(x: &[f64], w: f64, d: usize) -> [f64; 3] {
    if d == 0 {
        return [w, 1.0, 0.0];
    }
    if x.is_empty() {
        return [0.0, w * w, 1.0];
    }
    let mut h = vec![1.0; d];
    for t in 0..x.len() / d {
        for j in 0..d {
            h[j] = h[j] * w + x[t * d + j];
        }
    }
    [h[0], h[d - 1] * x[0], w]
}

/// A scalar loss through the outputs (`__jacobian` for `w`, `__vjp` for `d`), with `hessian`
/// (`__hvp_outputs`).
#[differentiable(hessian)]
fn loss_of_pair(w: f64, d: &[f64]) -> f64 {
    let [a, b] = suffix_pair(w, d);
    a * b + a
}

/// A vector-valued caller (its Jacobian runs `__vjp_rows`).
#[differentiable]
fn pair_of_pair(w: f64, d: &[f64]) -> [f64; 2] {
    let [a, b] = suffix_pair(w, d);
    [a * b, b + w]
}

/// A scalar caller of the carried state.
#[differentiable]
fn loss_of_carried(x: &[f64], w: f64, d: usize) -> f64 {
    let [a, b, c] = carried_pair(x, w, d);
    a * c - b
}

/// The Jacobian of `f` at `theta` by central differences, `rows[k][i] = ∂f_k/∂θ_i`.
fn jacobian_by_differences<const M: usize>(
    f: impl Fn(&[f64]) -> [f64; M],
    theta: &[f64],
) -> Vec<Vec<f64>> {
    (0..M)
        .map(|k| numeric_gradient(|t| f(t)[k], theta))
        .collect()
}

/// `θ = (w, d…)` for `suffix_pair` and its callers.
fn split_wd(t: &[f64]) -> (f64, &[f64]) {
    (t[0], &t[1..])
}

#[test]
fn every_companion_of_a_guarded_scan_at_every_size() {
    for n in 0..6usize {
        let d: Vec<f64> = (0..n).map(|i| 0.3 + 0.25 * i as f64).collect();
        let w = 0.8;
        let mut theta = vec![w];
        theta.extend(&d);
        let want = jacobian_by_differences(
            |t| {
                let (w, d) = split_wd(t);
                suffix_pair(w, d)
            },
            &theta,
        );
        let (value, jac) = suffix_pair_jacobian(w, &d);
        assert_eq!(value, suffix_pair(w, &d), "n = {n}");
        for k in 0..2 {
            let mut got = vec![jac[k].w];
            got.extend(&jac[k].d);
            close(&got, &want[k], 1e-6, &format!("n = {n}: row {k}"));
        }
        // At n = 0 by hand: [w, 0], rows (1, ∅) and (0, ∅).
        if n == 0 {
            assert_eq!((jac[0].w, jac[1].w), (1.0, 0.0));
        }
        let seed = [0.7, -1.3];
        let (_, vjp) = suffix_pair_vjp(w, &d, &seed);
        let mut got = vec![vjp.w];
        got.extend(&vjp.d);
        let by_rows: Vec<f64> = (0..=n)
            .map(|i| seed[0] * want[0][i] + seed[1] * want[1][i])
            .collect();
        close(&got, &by_rows, 1e-6, &format!("n = {n}: vjp"));
        let tangent = SuffixPairGrad {
            w: 0.5,
            d: (0..n).map(|i| 1.0 - 0.3 * i as f64).collect(),
        };
        let mut t = vec![tangent.w];
        t.extend(&tangent.d);
        let (_, dots) = suffix_pair_jvp(w, &d, &tangent);
        let want_dots: Vec<f64> = (0..2)
            .map(|k| want[k].iter().zip(&t).map(|(a, b)| a * b).sum())
            .collect();
        assert_all_close(&dots, &want_dots, 1e-6);
    }
}

#[test]
fn callers_of_a_guarded_scan_at_every_size() {
    for n in 0..6usize {
        let d: Vec<f64> = (0..n).map(|i| 0.9 - 0.2 * i as f64).collect();
        let w = 1.1;
        let mut theta = vec![w];
        theta.extend(&d);
        let flat = |t: &[f64]| {
            let (w, d) = split_wd(t);
            let (_, g) = loss_of_pair_grad(w, d);
            let mut out = vec![g.w];
            out.extend(&g.d);
            out
        };
        let want = numeric_gradient(
            |t| {
                let (w, d) = split_wd(t);
                loss_of_pair(w, d)
            },
            &theta,
        );
        close(&flat(&theta), &want, 1e-6, &format!("n = {n}: gradient"));
        let want_h = hessian_by_differences(flat, &theta);
        let (value, _, h) = loss_of_pair_hessian(w, &d);
        assert_eq!(value, loss_of_pair(w, &d), "n = {n}");
        close(&h, &want_h, 1e-5, &format!("n = {n}: hessian"));
        let v: Vec<f64> = (0..=n).map(|i| 1.0 - 0.4 * i as f64).collect();
        let dir = LossOfPairGrad {
            w: v[0],
            d: v[1..].to_vec(),
        };
        let (_, _, hv) = loss_of_pair_hvp(w, &d, &dir);
        let mut got = vec![hv.w];
        got.extend(&hv.d);
        close(&got, &mat_vec(&want_h, &v), 1e-5, &format!("n = {n}: H·v"));
        let want_j = jacobian_by_differences(
            |t| {
                let (w, d) = split_wd(t);
                pair_of_pair(w, d)
            },
            &theta,
        );
        let (value, jac) = pair_of_pair_jacobian(w, &d);
        assert_eq!(value, pair_of_pair(w, &d), "n = {n}");
        for k in 0..2 {
            let mut got = vec![jac[k].w];
            got.extend(&jac[k].d);
            close(
                &got,
                &want_j[k],
                1e-6,
                &format!("n = {n}: caller's row {k}"),
            );
        }
    }
}

#[test]
fn a_carried_state_after_two_guards_at_every_size() {
    for (len, d) in [
        (0usize, 0usize),
        (4, 0),
        (0, 2),
        (1, 1),
        (4, 1),
        (4, 2),
        (5, 2),
        (6, 3),
    ] {
        let x: Vec<f64> = (0..len).map(|i| 0.6 - 0.15 * i as f64).collect();
        let w = 0.9;
        let mut theta = x.clone();
        theta.push(w);
        let want = jacobian_by_differences(|t| carried_pair(&t[..len], t[len], d), &theta);
        let (value, jac) = carried_pair_jacobian(&x, w, d);
        assert_eq!(value, carried_pair(&x, w, d), "len {len}, d {d}");
        for k in 0..3 {
            let mut got = jac[k].x.clone();
            got.push(jac[k].w);
            close(&got, &want[k], 1e-6, &format!("len {len}, d {d}: row {k}"));
        }
        // Before either loop, by hand: [w, 1, 0] at d = 0, [0, w², 1] for an empty x.
        if d == 0 {
            assert_eq!([jac[0].w, jac[1].w, jac[2].w], [1.0, 0.0, 0.0]);
        } else if len == 0 {
            assert_eq!([jac[0].w, jac[1].w, jac[2].w], [0.0, 2.0 * w, 0.0]);
        }
        let want_g = numeric_gradient(|t| loss_of_carried(&t[..len], t[len], d), &theta);
        let (value, g) = loss_of_carried_grad(&x, w, d);
        assert_eq!(value, loss_of_carried(&x, w, d));
        let mut got = g.x.clone();
        got.push(g.w);
        close(&got, &want_g, 1e-6, &format!("len {len}, d {d}: caller"));
    }
}
