//! Elements written from a float the loop carries: `last = delta + c * last; adv[t] = last;`
//! (generalized advantage estimation, as reinforcement-learning code writes it), the value
//! before the update (`z[i] = s; s = s * w + x[i];`) and functions of it. The float's values
//! are a scan's: each element reads the value after (or before) its iteration's update.
//! Oracles: num-dual's forward mode on generic twins (1e-12), central differences, and values
//! by hand, at the lengths 0, 1, 2 and 7.
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_all_close, numeric_gradient};
use num_dual::DualNum;
use symgrad::differentiable;

#[path = "common/forward.rs"]
mod forward;
use forward::forward;

fn data(n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.7 + shift + 0.13 * i as f64 - 0.02 * (i * i) as f64)
        .collect()
}

/// Generalized advantage estimation over a reversed loop, the running advantage written into
/// an array read after the loop.
#[differentiable]
fn gae(r: &[f64], v: &[f64], gamma: f64) -> f64 {
    let n = r.len();
    if n == 0 {
        return 0.0;
    }
    let mut adv = vec![0.0; n];
    let mut last = 0.0;
    for t in (0..n).rev() {
        let nv = if t + 1 < n { v[t + 1] } else { 0.0 };
        let delta = r[t] + gamma * nv - v[t];
        last = delta + gamma * 0.95 * last;
        adv[t] = last;
    }
    adv.iter().map(|a| a * a).sum()
}

fn gae_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(r: &[D], v: &[D], gamma: D) -> D {
    let n = r.len();
    let mut total = D::from(0.0);
    let mut last = D::from(0.0);
    for t in (0..n).rev() {
        let nv = if t + 1 < n { v[t + 1] } else { D::from(0.0) };
        let delta = r[t] + gamma * nv - v[t];
        last = delta + gamma * D::from(0.95) * last;
        total += last * last;
    }
    total
}

#[test]
fn advantages_match_forward_mode_and_differences() {
    for n in [0, 1, 2, 7] {
        let (r, v, gamma) = (data(n, 0.0), data(n, -0.4), 0.9);
        let (value, g) = gae_grad(&r, &v, gamma);
        assert_eq!(value, gae(&r, &v, gamma));
        let all: Vec<f64> = r.iter().chain(&v).copied().chain([gamma]).collect();
        let (want_value, want) = forward(|p| gae_twin(&p[..n], &p[n..2 * n], p[2 * n]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.r.iter().chain(&g.v).copied().chain([g.gamma]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| gae(&p[..n], &p[n..2 * n], p[2 * n]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
    // By hand for one step: adv = r − v, value (r − v)², ∂r = 2(r − v), ∂v = −2(r − v), ∂γ = 0.
    let (r, v) = (1.25, 0.5);
    let (value, g) = gae_grad(&[r], &[v], 0.9);
    assert_eq!(value, (r - v) * (r - v));
    assert_all_close(&[g.r[0], g.v[0], g.gamma], &[1.5, -1.5, 0.0], 1e-15);
}

/// The carried value before its update and a function of the value after it, each into an
/// array, both read after the loop; the float itself read after the loop too.
#[differentiable(hessian)]
fn running_features(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut before = vec![0.0; n];
    let mut after = vec![0.0; n];
    let mut s = 0.5;
    for i in 0..n {
        before[i] = s;
        s = s * w + x[i];
        after[i] = (s * s).sin();
    }
    let mut t = 0.0;
    for i in 0..n {
        t += before[i] * after[i];
    }
    t + s
}

fn running_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(x: &[D], w: D) -> D {
    let mut s = D::from(0.5);
    let mut t = D::from(0.0);
    for &xi in x {
        let b = s;
        s = s * w + xi;
        t += b * (s * s).sin();
    }
    t + s
}

#[test]
fn values_before_and_after_the_update_match_forward_mode() {
    for n in [0, 1, 2, 7] {
        let (x, w) = (data(n, -0.3), 0.8);
        let (value, g) = running_features_grad(&x, w);
        assert_eq!(value, running_features(&x, w));
        let all: Vec<f64> = x.iter().copied().chain([w]).collect();
        let (want_value, want) = forward(|p| running_twin(&p[..n], p[n]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().copied().chain([g.w]).collect();
        assert_all_close(&got, &want, 1e-12);
        // H·v against differences of the gradient.
        let dir: Vec<f64> = (0..=n).map(|k| 0.3 - 0.1 * k as f64).collect();
        let (_, _, hv) = running_features_hvp(
            &x,
            w,
            &RunningFeaturesGrad {
                x: dir[..n].to_vec(),
                w: dir[n],
            },
        );
        let h = 1e-6;
        let at = |e: f64| {
            let xs: Vec<f64> = x.iter().zip(&dir).map(|(a, d)| a + e * d).collect();
            let (_, g) = running_features_grad(&xs, w + e * dir[n]);
            g.x.iter().copied().chain([g.w]).collect::<Vec<f64>>()
        };
        let (plus, minus) = (at(h), at(-h));
        let numeric: Vec<f64> = plus
            .iter()
            .zip(&minus)
            .map(|(a, b)| (a - b) / (2.0 * h))
            .collect();
        let got: Vec<f64> = hv.x.iter().copied().chain([hv.w]).collect();
        assert_all_close(&got, &numeric, 1e-6);
    }
    // By hand for one element: b = ½, s = ½w + x, value ½·sin(s²) + s.
    let (x, w) = (0.25, 0.8);
    let (value, g) = running_features_grad(&[x], w);
    let s = 0.5 * w + x;
    assert_all_close(&[value], &[0.5 * (s * s).sin() + s], 1e-15);
    let ds = (s * s).cos() * s + 1.0;
    assert_all_close(&[g.x[0], g.w], &[ds, 0.5 * ds], 1e-15);
}

/// A running sum written element by element (a prefix sum), its first and last elements read.
#[differentiable]
fn prefix_by_a_running_sum(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    let mut s = 0.0;
    for c in 0..n {
        s += w[c];
        z[c] = s;
    }
    z[0] * z[n - 1]
}

#[test]
fn a_running_sum_written_element_by_element_is_a_prefix_sum() {
    for n in [1, 2, 7] {
        let w = data(n, 0.1);
        let (value, g) = prefix_by_a_running_sum_grad(&w);
        let total: f64 = w.iter().sum();
        assert_all_close(&[value], &[w[0] * total], 1e-15);
        // ∂/∂w₀ = total + w₀, ∂/∂w_c = w₀ (c ≥ 1).
        let want: Vec<f64> = (0..n)
            .map(|c| if c == 0 { total + w[0] } else { w[0] })
            .collect();
        assert_all_close(&g.w, &want, 1e-15);
        assert_all_close(&g.w, &numeric_gradient(prefix_by_a_running_sum, &w), 1e-7);
    }
}
