//! Arrays written from state updated together: scans reading two elements back (`z[i] = a *
//! z[i - 1] + b * z[i - 2] + x[i]`: an AR(2) process, a biquad filter, reversed as `z[j + 2]`),
//! and elements written from floats the loop carries together (`t = a * p + b * q + x[i]; q =
//! p; p = t; z[i] = p;`, an integrator's trajectory). Each array is the values of one member
//! of coupled state after each iteration; its gradient is that state's reverse sweep, the
//! member's adjoint given the element's in every iteration.
//!
//! Oracles: num-dual's forward mode on generic twins written without arrays (1e-12), central
//! differences (1e-6), values against the function itself bit for bit, and a step by hand.
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
        .map(|i| 0.4 + shift + 0.11 * i as f64 - 0.03 * (i * i) as f64)
        .collect()
}

/// An AR(2) process driven by `x`, its squared values summed.
#[differentiable]
fn ar2(x: &[f64], a: f64, b: f64) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let mut z = vec![0.0; n];
    z[0] = x[0];
    z[1] = x[1];
    for i in 2..n {
        z[i] = a * z[i - 1] + b * z[i - 2] + x[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i];
    }
    s
}

fn ar2_twin<D: DualNum<Primitive = f64> + Copy>(x: &[D], a: D, b: D) -> D {
    if x.len() < 2 {
        return D::zero();
    }
    let (mut q, mut p) = (x[0], x[1]);
    let mut s = q * q + p * p;
    for &xi in &x[2..] {
        let t = a * p + b * q + xi;
        q = p;
        p = t;
        s += t * t;
    }
    s
}

#[test]
fn an_ar2_process_matches_forward_mode_and_differences() {
    for n in [0, 1, 2, 3, 4, 9] {
        let (x, a, b) = (data(n, 0.0), 0.6, -0.3);
        let (value, g) = ar2_grad(&x, a, b);
        assert_eq!(value.to_bits(), ar2(&x, a, b).to_bits());
        let all: Vec<f64> = x.iter().copied().chain([a, b]).collect();
        let (want_value, want) = forward(|p| ar2_twin(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().copied().chain([g.a, g.b]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| ar2(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
    // By hand at three elements: z₂ = a·x₁ + b·x₀ + x₂; value x₀² + x₁² + z₂²;
    // ∂a = 2z₂·x₁, ∂b = 2z₂·x₀, ∂x₀ = 2x₀ + 2z₂·b, ∂x₁ = 2x₁ + 2z₂·a, ∂x₂ = 2z₂.
    let (x, a, b) = ([0.5, -1.0, 2.0], 0.25, 0.5);
    let z2 = a * x[1] + b * x[0] + x[2];
    let (value, g) = ar2_grad(&x, a, b);
    assert_all_close(&[value], &[x[0] * x[0] + x[1] * x[1] + z2 * z2], 1e-15);
    let want = [
        2.0 * x[0] + 2.0 * z2 * b,
        2.0 * x[1] + 2.0 * z2 * a,
        2.0 * z2,
        2.0 * z2 * x[1],
        2.0 * z2 * x[0],
    ];
    let got = [g.x[0], g.x[1], g.x[2], g.a, g.b];
    assert_all_close(&got, &want, 1e-15);
}

/// A biquad filter (direct form I) and the squared error of its output against a target.
#[differentiable]
fn biquad(x: &[f64], t: &[f64], coef: &[f64; 5]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let (b0, b1, b2, a1, a2) = (coef[0], coef[1], coef[2], coef[3], coef[4]);
    let mut y = vec![0.0; n];
    y[0] = b0 * x[0];
    y[1] = b0 * x[1] + b1 * x[0] - a1 * y[0];
    for i in 2..n {
        y[i] = b0 * x[i] + b1 * x[i - 1] + b2 * x[i - 2] - a1 * y[i - 1] - a2 * y[i - 2];
    }
    let mut e = 0.0;
    for i in 0..n {
        let d = y[i] - t[i];
        e += d * d;
    }
    e
}

fn biquad_twin<D: DualNum<Primitive = f64> + Copy>(x: &[D], t: &[D], c: &[D]) -> D {
    let n = x.len();
    if n < 2 {
        return D::zero();
    }
    let y0 = c[0] * x[0];
    let y1 = c[0] * x[1] + c[1] * x[0] - c[3] * y0;
    let (mut q, mut p) = (y0, y1);
    let mut e = (y0 - t[0]) * (y0 - t[0]) + (y1 - t[1]) * (y1 - t[1]);
    for i in 2..n {
        let y = c[0] * x[i] + c[1] * x[i - 1] + c[2] * x[i - 2] - c[3] * p - c[4] * q;
        q = p;
        p = y;
        e += (y - t[i]) * (y - t[i]);
    }
    e
}

#[test]
fn a_biquad_filter_matches_forward_mode_and_differences() {
    let coef = [0.3, 0.2, 0.1, -0.5, 0.25];
    for n in [2, 3, 8] {
        let (x, t) = (data(n, 0.2), data(n, -0.5));
        let (value, g) = biquad_grad(&x, &t, &coef);
        assert_eq!(value.to_bits(), biquad(&x, &t, &coef).to_bits());
        let all: Vec<f64> = x.iter().chain(&t).chain(&coef).copied().collect();
        let split = |p: &[f64]| -> (Vec<f64>, Vec<f64>, [f64; 5]) {
            let mut c = [0.0; 5];
            c.copy_from_slice(&p[2 * n..]);
            (p[..n].to_vec(), p[n..2 * n].to_vec(), c)
        };
        let (want_value, want) = forward(|p| biquad_twin(&p[..n], &p[n..2 * n], &p[2 * n..]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().chain(&g.t).chain(&g.coef).copied().collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(
            |p| {
                let (x, t, c) = split(p);
                biquad(&x, &t, &c)
            },
            &all,
        );
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// A scan two back over a reversed loop (`z[j + 1]`, `z[2 + j]`), from the last two elements.
#[differentiable]
fn backward_lag2(x: &[f64], a: f64, b: f64) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let mut z = vec![0.0; n];
    z[n - 1] = x[n - 1];
    z[n - 2] = 0.5 * x[n - 2];
    for j in (0..n - 2).rev() {
        z[j] = x[j] + a * z[j + 1] + b * z[2 + j].sin();
    }
    let mut s = 0.0;
    for j in 0..n {
        s += z[j] * x[j];
    }
    s
}

fn backward_lag2_twin<D: DualNum<Primitive = f64> + Copy>(x: &[D], a: D, b: D) -> D {
    let n = x.len();
    if n < 2 {
        return D::zero();
    }
    let mut z = vec![D::zero(); n];
    z[n - 1] = x[n - 1];
    z[n - 2] = x[n - 2] * 0.5;
    for j in (0..n - 2).rev() {
        z[j] = x[j] + a * z[j + 1] + b * z[j + 2].sin();
    }
    (0..n).fold(D::zero(), |s, j| s + z[j] * x[j])
}

#[test]
fn a_reversed_scan_two_back_matches_forward_mode_and_differences() {
    for n in [0, 2, 3, 4, 8] {
        let (x, a, b) = (data(n, 0.3), 0.7, 0.4);
        let (value, g) = backward_lag2_grad(&x, a, b);
        assert_eq!(value.to_bits(), backward_lag2(&x, a, b).to_bits());
        let all: Vec<f64> = x.iter().copied().chain([a, b]).collect();
        let (want_value, want) = forward(|p| backward_lag2_twin(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().copied().chain([g.a, g.b]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| backward_lag2(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// The element two back read by another update only (`acc += z[i - 2] * w[i]`), the scan
/// itself reading one back; and the second hidden element read at the first iterations, where
/// it is the array's element before the loop.
#[differentiable]
fn two_back_in_a_sum(x: &[f64], w: &[f64], a: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 0..n.min(2) {
        z[i] = x[i] * a;
    }
    let mut acc = 0.0;
    for i in 2..n {
        z[i] = 0.5 * z[i - 1] + a * x[i];
        acc += z[i - 2] * w[i] + z[i] * z[i - 1];
    }
    acc + z[n - 1]
}

fn two_back_in_a_sum_twin<D: DualNum<Primitive = f64> + Copy>(x: &[D], w: &[D], a: D) -> D {
    let n = x.len();
    let mut z: Vec<D> = (0..n)
        .map(|i| if i < 2 { x[i] * a } else { D::zero() })
        .collect();
    let mut acc = D::zero();
    for i in 2..n {
        z[i] = z[i - 1] * 0.5 + a * x[i];
        acc += z[i - 2] * w[i] + z[i] * z[i - 1];
    }
    acc + z[n - 1]
}

#[test]
fn an_element_two_back_read_by_a_sum_matches_forward_mode() {
    for n in [1, 2, 3, 7] {
        let (x, w, a) = (data(n, 0.1), data(n, -0.2), 1.3);
        let (value, g) = two_back_in_a_sum_grad(&x, &w, a);
        assert_eq!(value.to_bits(), two_back_in_a_sum(&x, &w, a).to_bits());
        let all: Vec<f64> = x.iter().chain(&w).copied().chain([a]).collect();
        let (want_value, want) = forward(
            |p| two_back_in_a_sum_twin(&p[..n], &p[n..2 * n], p[2 * n]),
            &all,
        );
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().chain(&g.w).copied().chain([g.a]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric =
            numeric_gradient(|p| two_back_in_a_sum(&p[..n], &p[n..2 * n], p[2 * n]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// Two floats updated together, written into arrays: one member after its update, the other
/// as it was at the start of the iteration.
#[differentiable]
fn coupled_floats_into_arrays(x: &[f64], a: f64, b: f64) -> f64 {
    let n = x.len();
    let mut now = vec![0.0; n];
    let mut before = vec![0.0; n];
    let (mut p, mut q) = (0.5, -0.25);
    for i in 0..n {
        before[i] = q;
        let t = a * p + b * q.tanh() + x[i];
        q = p;
        p = t;
        now[i] = p;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += now[i] * before[i] + now[i];
    }
    s + p * q
}

fn coupled_floats_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(x: &[D], a: D, b: D) -> D {
    let (mut p, mut q) = (D::from(0.5), D::from(-0.25));
    let mut s = D::zero();
    for &xi in x {
        let before = q;
        let t = a * p + b * q.tanh() + xi;
        q = p;
        p = t;
        s += p * before + p;
    }
    s + p * q
}

#[test]
fn coupled_floats_written_into_arrays_match_forward_mode() {
    for n in [0, 1, 2, 7] {
        let (x, a, b) = (data(n, -0.1), 0.8, 0.35);
        let (value, g) = coupled_floats_into_arrays_grad(&x, a, b);
        assert_eq!(
            value.to_bits(),
            coupled_floats_into_arrays(&x, a, b).to_bits()
        );
        let all: Vec<f64> = x.iter().copied().chain([a, b]).collect();
        let (want_value, want) = forward(|p| coupled_floats_twin(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().copied().chain([g.a, g.b]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(
            |p| coupled_floats_into_arrays(&p[..n], p[n], p[n + 1]),
            &all,
        );
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// A semi-implicit Euler integrator of a spring keeping its trajectory (positions and
/// velocities), fitted to observed positions.
#[differentiable]
fn spring_trajectory(obs: &[f64], k: f64, x0: f64) -> f64 {
    let n = obs.len();
    let dt = 0.1;
    let mut pos = vec![0.0; n];
    let mut vel = vec![0.0; n];
    let mut x = x0;
    let mut v = 0.0;
    for i in 0..n {
        let acc = -k * x - 0.1 * v;
        v += acc * dt;
        x += v * dt;
        pos[i] = x;
        vel[i] = v;
    }
    let mut loss = 0.0;
    for i in 0..n {
        let d = pos[i] - obs[i];
        loss += d * d + 0.01 * vel[i] * vel[i];
    }
    loss
}

fn spring_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(obs: &[D], k: D, x0: D) -> D {
    let (mut x, mut v) = (x0, D::zero());
    let mut loss = D::zero();
    for &o in obs {
        let acc = -k * x - v * 0.1;
        v += acc * 0.1;
        x += v * 0.1;
        loss += (x - o) * (x - o) + v * v * 0.01;
    }
    loss
}

#[test]
fn an_integrators_trajectory_matches_forward_mode_and_differences() {
    for n in [0, 1, 5, 30] {
        let (obs, k, x0) = (data(n, 0.0), 2.5, 1.2);
        let (value, g) = spring_trajectory_grad(&obs, k, x0);
        assert_eq!(value.to_bits(), spring_trajectory(&obs, k, x0).to_bits());
        let all: Vec<f64> = obs.iter().copied().chain([k, x0]).collect();
        let (want_value, want) = forward(|p| spring_twin(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.obs.iter().copied().chain([g.k, g.x0]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| spring_trajectory(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// Forms that were refused before coupled state could be scanned: a Fibonacci-like pair
/// written into an array, a scan coupled with a float, and two scans reading each other's
/// previous elements. Each twin keeps the arrays as the function does, in plain Rust.
#[differentiable]
fn fibonacci_pair(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    let mut a = 0.0;
    let mut b = 1.0;
    for c in 0..n {
        let t = a + b * w[c];
        a = b;
        b = t;
        z[c] = a;
    }
    z.iter().map(|v| v * v).sum::<f64>()
}

fn fibonacci_pair_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(w: &[D]) -> D {
    let (mut a, mut b) = (D::zero(), D::from(1.0));
    let mut s = D::zero();
    for &wc in w {
        let t = a + b * wc;
        a = b;
        b = t;
        s += a * a;
    }
    s
}

#[differentiable]
fn scan_with_a_float(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut p = 1.0;
    for i in 1..n {
        p = p * a + z[i - 1];
        z[i] = z[i - 1] * x[i] + p;
    }
    let mut s = p;
    for i in 0..n {
        s += z[i] * x[i];
    }
    s
}

fn scan_with_a_float_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(a: D, x: &[D]) -> D {
    let n = x.len();
    let mut z = vec![D::from(1.0); n];
    let mut p = D::from(1.0);
    for i in 1..n {
        p = p * a + z[i - 1];
        z[i] = z[i - 1] * x[i] + p;
    }
    (0..n).fold(p, |s, i| s + z[i] * x[i])
}

#[differentiable]
fn crossed_scans(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    let mut y = vec![0.5; n];
    for i in 1..n {
        z[i] = y[i - 1] * a + x[i];
        y[i] = (z[i - 1] * x[i]).sin();
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * y[i];
    }
    s
}

fn crossed_scans_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(a: D, x: &[D]) -> D {
    let n = x.len();
    let mut z = vec![D::from(1.0); n];
    let mut y = vec![D::from(0.5); n];
    for i in 1..n {
        z[i] = y[i - 1] * a + x[i];
        y[i] = (z[i - 1] * x[i]).sin();
    }
    (0..n).fold(D::zero(), |s, i| s + z[i] * y[i])
}

#[test]
fn coupled_forms_once_refused_match_forward_mode() {
    for n in [0, 1, 2, 6] {
        let w = data(n, 0.05);
        let (value, g) = fibonacci_pair_grad(&w);
        // (Equal, not bit for bit: `sum` of no elements is `-0.0` in the standard library.)
        assert_eq!(value, fibonacci_pair(&w));
        let (want_value, want) = forward(fibonacci_pair_twin, &w);
        assert_all_close(&[value], &[want_value], 1e-12);
        assert_all_close(&g.w, &want, 1e-12);
        assert_all_close(&g.w, &numeric_gradient(fibonacci_pair, &w), 1e-6);
        let a = 0.6;
        let all: Vec<f64> = [a].into_iter().chain(w.iter().copied()).collect();
        let (value, g) = scan_with_a_float_grad(a, &w);
        // (Within rounding: the sum after `let mut s = p;` is added to `p` once, at the end.)
        assert_all_close(&[value], &[scan_with_a_float(a, &w)], 1e-15);
        let (want_value, want) = forward(|p| scan_with_a_float_twin(p[0], &p[1..]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = [g.a].into_iter().chain(g.x.iter().copied()).collect();
        assert_all_close(&got, &want, 1e-12);
        let (value, g) = crossed_scans_grad(a, &w);
        assert_eq!(value.to_bits(), crossed_scans(a, &w).to_bits());
        let (want_value, want) = forward(|p| crossed_scans_twin(p[0], &p[1..]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = [g.a].into_iter().chain(g.x.iter().copied()).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| crossed_scans(p[0], &p[1..]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// Holt's linear trend: a level and a trend updated together, the one-step forecasts (their
/// sum before the update) kept in an array, the squared forecast error after the loop.
#[differentiable]
fn holt(y: &[f64], alpha: f64, beta: f64) -> f64 {
    let n = y.len();
    if n < 2 {
        return 0.0;
    }
    let mut forecast = vec![0.0; n];
    let mut level = y[0];
    let mut trend = y[1] - y[0];
    for t in 1..n {
        forecast[t] = level + trend;
        let last = level;
        level = alpha * y[t] + (1.0 - alpha) * (level + trend);
        trend = beta * (level - last) + (1.0 - beta) * trend;
    }
    let mut sse = 0.0;
    for t in 1..n {
        let e = y[t] - forecast[t];
        sse += e * e;
    }
    sse
}

fn holt_twin<D: DualNum<Primitive = f64> + Copy + From<f64>>(y: &[D], alpha: D, beta: D) -> D {
    let n = y.len();
    if n < 2 {
        return D::zero();
    }
    let (mut level, mut trend) = (y[0], y[1] - y[0]);
    let mut sse = D::zero();
    for &yt in &y[1..] {
        let e = yt - (level + trend);
        sse += e * e;
        let last = level;
        level = alpha * yt + (D::from(1.0) - alpha) * (level + trend);
        trend = beta * (level - last) + (D::from(1.0) - beta) * trend;
    }
    sse
}

#[test]
fn holts_linear_trend_matches_forward_mode_and_differences() {
    for n in [0, 1, 2, 3, 12] {
        let (y, alpha, beta) = (data(n, 0.3), 0.5, 0.2);
        let (value, g) = holt_grad(&y, alpha, beta);
        assert_all_close(&[value], &[holt(&y, alpha, beta)], 1e-15);
        let all: Vec<f64> = y.iter().copied().chain([alpha, beta]).collect();
        let (want_value, want) = forward(|p| holt_twin(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.y.iter().copied().chain([g.alpha, g.beta]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| holt(&p[..n], p[n], p[n + 1]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}
