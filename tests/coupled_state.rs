//! Coupled loop state: several variables updated together in one loop, each reading the
//! others' previous values (the online softmax's `m` and `s`, an integrator's `x` and `v`, a
//! scalar LSTM's `h` and `c`, `t = a + b; a = b; b = t·w`). Oracles: gradients derived by hand
//! for a few unrolled steps (exact to 1e-12), the two-pass log-sum-exp's closed-form gradient
//! (the softmax), num-dual's forward mode on generic twins of the functions, and central
//! differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

/// A two-term recurrence: `b` reads `a`'s previous value, `a` takes `b`'s.
#[differentiable]
fn two_term(a0: f64, b0: f64, w: f64, n: usize) -> f64 {
    let mut a = a0;
    let mut b = b0;
    for _ in 0..n {
        let t = a + b;
        a = b;
        b = t * w;
    }
    b
}

#[test]
fn a_two_term_recurrence_matches_its_hand_derived_gradient() {
    let (a0, b0, w) = (0.7, -1.3, 1.9);
    // Two steps: a₁ = b₀, b₁ = w(a₀ + b₀); a₂ = b₁, b₂ = w(b₀ + w(a₀ + b₀)).
    let (value, g) = two_term_grad(a0, b0, w, 2);
    assert_relative_eq!(value, w * (b0 + w * (a0 + b0)), epsilon = 1e-12);
    assert_relative_eq!(g.a0, w * w, epsilon = 1e-12);
    assert_relative_eq!(g.b0, w + w * w, epsilon = 1e-12);
    assert_relative_eq!(g.w, b0 + 2.0 * w * (a0 + b0), epsilon = 1e-12);
    // Three steps: b₃ = w(a₂ + b₂) = w(b₁ + b₂) = w²(a₀ + b₀) + w²b₀ + w³(a₀ + b₀).
    let (value, g) = two_term_grad(a0, b0, w, 3);
    let s = a0 + b0;
    assert_relative_eq!(
        value,
        w * w * s + w * w * b0 + w.powi(3) * s,
        epsilon = 1e-12
    );
    assert_relative_eq!(g.a0, w * w + w.powi(3), epsilon = 1e-12);
    assert_relative_eq!(g.b0, 2.0 * w * w + w.powi(3), epsilon = 1e-12);
    assert_relative_eq!(
        g.w,
        2.0 * w * s + 2.0 * w * b0 + 3.0 * w * w * s,
        epsilon = 1e-12
    );
    // No step: the value is `b0`.
    let (value, g) = two_term_grad(a0, b0, w, 0);
    assert_eq!((value, g.a0, g.b0, g.w), (b0, 0.0, 1.0, 0.0));
}

/// Symplectic Euler for a spring, the squared distance to a target summed along the
/// trajectory (a sum reading the carried state).
#[differentiable]
fn spring(k: f64, x0: f64, v0: f64, dt: f64, target: &[f64]) -> f64 {
    let mut x = x0;
    let mut v = v0;
    let mut loss = 0.0;
    for i in 0..target.len() {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
        loss += (x - target[i]).powi(2);
    }
    loss
}

/// The same, generic over num-dual's numbers.
fn spring_twin<T: DualNum<Primitive = f64> + Copy>(k: T, x0: T, v0: T, dt: T, target: &[f64]) -> T {
    let (mut x, mut v, mut loss) = (x0, v0, T::zero());
    for &t in target {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
        loss += (x - t).powi(2);
    }
    loss
}

#[test]
fn a_symplectic_integrator_matches_its_hand_derived_gradient_for_two_steps() {
    let (k, x0, v0, dt) = (1.7, 0.4, -0.3, 0.1);
    let target = [0.2, -0.1];
    // By hand: each step's tangents with respect to (k, x0, v0, dt), in that order.
    let v1 = v0 - k * x0 * dt;
    let x1 = x0 + v1 * dt;
    let v2 = v1 - k * x1 * dt;
    let x2 = x1 + v2 * dt;
    let dv1 = [-x0 * dt, -k * dt, 1.0, -k * x0];
    let dx1 = [
        dv1[0] * dt,
        1.0 + dv1[1] * dt,
        dv1[2] * dt,
        v1 + dv1[3] * dt,
    ];
    let dv2 = [
        dv1[0] - x1 * dt - k * dt * dx1[0],
        dv1[1] - k * dt * dx1[1],
        dv1[2] - k * dt * dx1[2],
        dv1[3] - k * x1 - k * dt * dx1[3],
    ];
    let dx2 = [
        dx1[0] + dv2[0] * dt,
        dx1[1] + dv2[1] * dt,
        dx1[2] + dv2[2] * dt,
        dx1[3] + v2 + dv2[3] * dt,
    ];
    let (r1, r2) = (x1 - target[0], x2 - target[1]);
    let want: Vec<f64> = (0..4)
        .map(|j| 2.0 * r1 * dx1[j] + 2.0 * r2 * dx2[j])
        .collect();
    let (value, g) = spring_grad(k, x0, v0, dt, &target);
    assert_relative_eq!(value, r1 * r1 + r2 * r2, epsilon = 1e-12);
    assert_all_close(&[g.k, g.x0, g.v0, g.dt], &want, 1e-12);
}

#[test]
fn a_symplectic_integrator_over_twenty_steps_matches_forward_mode_and_differences() {
    let target: Vec<f64> = (0..20).map(|i| (0.3 * f64::from(i)).sin()).collect();
    let p = [2.3, 0.9, -0.4, 0.05];
    let (value, g) = spring_grad(p[0], p[1], p[2], p[3], &target);
    let (dual_value, dual_grad) = gradient(
        |q: SVector<DualSVec64<4>, 4>| spring_twin(q[0], q[1], q[2], q[3], &target),
        &SVector::<f64, 4>::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, max_relative = 1e-12);
    let ours = [g.k, g.x0, g.v0, g.dt];
    assert_all_close(&ours, dual_grad.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| spring(q[0], q[1], q[2], q[3], &target), &p);
    assert_all_close(&ours, &numeric, 1e-6);
}

/// The online softmax normaliser: one pass, `m` the running maximum and `s` the sum of
/// `exp(z − m)` rescaled whenever `m` grows.
#[differentiable]
fn online_log_sum_exp(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        let mn = m.max(z[i]);
        s = s * (m - mn).exp() + (z[i] - mn).exp();
        m = mn;
    }
    m + s.ln()
}

#[test]
fn the_online_softmax_gradient_is_the_softmax() {
    let z = [0.3, -1.2, 2.5, 2.4, -0.7, 1.1];
    let (value, g) = online_log_sum_exp_grad(&z);
    // Two passes: the maximum, then the sum.
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + z.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
    assert_relative_eq!(value, lse, epsilon = 1e-12);
    let softmax: Vec<f64> = z.iter().map(|x| (x - lse).exp()).collect();
    assert_all_close(&g.z, &softmax, 1e-12);
    // Where `exp` overflows: the maximum keeps every term finite.
    let big = [1000.0, 999.0, 1001.0];
    let (value, g) = online_log_sum_exp_grad(&big);
    let lse = 1001.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
    assert_relative_eq!(value, lse, epsilon = 1e-12);
    let softmax: Vec<f64> = big.iter().map(|x| (x - lse).exp()).collect();
    assert_all_close(&g.z, &softmax, 1e-12);
}

/// An accumulation reading another: `b += a·x[i]` after `a += x[i]`.
#[differentiable]
fn prefix_weighted(x: &[f64]) -> f64 {
    let mut a = 0.0;
    let mut b = 0.0;
    for i in 0..x.len() {
        a += x[i];
        b += a * x[i];
    }
    b
}

#[test]
fn a_sum_reading_another_sum_matches_its_closed_form() {
    // b = Σᵢ (Σ_{j≤i} xⱼ)·xᵢ: ∂b/∂x_k = Σ_{j≤k} xⱼ + Σ_{i≥k} xᵢ.
    let x = [0.5, -1.5, 2.0, 0.25];
    let (value, g) = prefix_weighted_grad(&x);
    let prefix = |k: usize| x[..=k].iter().sum::<f64>();
    let want_value: f64 = (0..x.len()).map(|i| prefix(i) * x[i]).sum();
    assert_relative_eq!(value, want_value, epsilon = 1e-12);
    let want: Vec<f64> = (0..x.len())
        .map(|k| prefix(k) + x[k..].iter().sum::<f64>())
        .collect();
    assert_all_close(&g.x, &want, 1e-12);
}

/// A scalar LSTM cell run over a sequence, the loss summed along it: `h` and `c` update each
/// other through four gates. `p` holds the gates' weights: `wf, uf, bf, wi, ui, bi, wo, uo, bo,
/// wg, ug, bg`.
#[differentiable(wrt(p))]
fn lstm(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut h = 0.0;
    let mut c = 0.0;
    let mut loss = 0.0;
    for t in 0..x.len() {
        let xt = x[t];
        let f = 1.0 / (1.0 + (-(p[0] * xt + p[1] * h + p[2])).exp());
        let i = 1.0 / (1.0 + (-(p[3] * xt + p[4] * h + p[5])).exp());
        let o = 1.0 / (1.0 + (-(p[6] * xt + p[7] * h + p[8])).exp());
        let g = (p[9] * xt + p[10] * h + p[11]).tanh();
        c = f * c + i * g;
        h = o * c.tanh();
        loss += (h - y[t]).powi(2);
    }
    loss
}

fn lstm_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], y: &[f64]) -> T {
    let sigmoid = |z: T| (T::one() + (-z).exp()).recip();
    let (mut h, mut c, mut loss) = (T::zero(), T::zero(), T::zero());
    for (&xt, &yt) in x.iter().zip(y) {
        let f = sigmoid(p[0] * xt + p[1] * h + p[2]);
        let i = sigmoid(p[3] * xt + p[4] * h + p[5]);
        let o = sigmoid(p[6] * xt + p[7] * h + p[8]);
        let g = (p[9] * xt + p[10] * h + p[11]).tanh();
        c = f * c + i * g;
        h = o * c.tanh();
        loss += (h - yt).powi(2);
    }
    loss
}

#[test]
fn a_scalar_lstm_over_twenty_steps_matches_forward_mode_and_differences() {
    let x: Vec<f64> = (0..20).map(|t| (0.7 * f64::from(t)).cos()).collect();
    let y: Vec<f64> = (0..20).map(|t| 0.5 * (0.4 * f64::from(t)).sin()).collect();
    let p: Vec<f64> = (0..12)
        .map(|k| 0.3 * (1.3 * f64::from(k) + 0.2).sin())
        .collect();
    let (value, g) = lstm_grad(&p, &x, &y);
    let (dual_value, dual_grad) = gradient(
        |q: SVector<DualSVec64<12>, 12>| lstm_twin(q.as_slice(), &x, &y),
        &SVector::<f64, 12>::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, max_relative = 1e-12);
    assert_all_close(&g.p, dual_grad.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| lstm(q, &x, &y), &p);
    assert_all_close(&g.p, &numeric, 1e-6);
}

/// Coupled state under `if`, with `let` temporaries, in a loop nested in an outer one, after
/// another loop whose result it reads, and an outer sum reading the inner state.
#[differentiable]
fn nested_gated(w: f64, x: &[f64], rows: usize, cols: usize) -> f64 {
    let mut scale = 0.0;
    for i in 0..x.len() {
        scale += x[i] * x[i];
    }
    let mut total = 0.0;
    for r in 0..rows {
        let mut a = 1.0;
        let mut b = w;
        for j in 0..cols {
            let xj = x[r * cols + j];
            if xj > 0.0 {
                let t = a * w + xj;
                a = b;
                b = t;
            } else {
                b += a * xj * scale;
            }
        }
        total += a * b + (a - b).sin();
    }
    total
}

fn nested_gated_twin<T: DualNum<Primitive = f64> + Copy>(
    w: T,
    x: &[T],
    rows: usize,
    cols: usize,
) -> T {
    let scale = x.iter().fold(T::zero(), |s, &xi| s + xi * xi);
    let mut total = T::zero();
    for r in 0..rows {
        let (mut a, mut b) = (T::one(), w);
        for j in 0..cols {
            let xj = x[r * cols + j];
            if xj.re() > 0.0 {
                let t = a * w + xj;
                a = b;
                b = t;
            } else {
                b += a * xj * scale;
            }
        }
        total += a * b + (a - b).sin();
    }
    total
}

#[test]
fn coupled_state_under_if_in_a_nested_loop_matches_forward_mode_and_differences() {
    let (rows, cols) = (3, 4);
    let x = [
        0.4, -0.3, 0.8, 0.1, -0.6, 0.2, 0.5, -0.9, 0.3, 0.7, -0.2, 0.6,
    ];
    let w = 0.8;
    let (value, g) = nested_gated_grad(w, &x, rows, cols);
    let mut p = vec![w];
    p.extend(x);
    let (dual_value, dual_grad) = gradient(
        |q: SVector<DualSVec64<13>, 13>| nested_gated_twin(q[0], &q.as_slice()[1..], rows, cols),
        &SVector::<f64, 13>::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, max_relative = 1e-12);
    let mut ours = vec![g.w];
    ours.extend(&g.x);
    assert_all_close(&ours, dual_grad.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| nested_gated(q[0], &q[1..], rows, cols), &p);
    assert_all_close(&ours, &numeric, 1e-6);
}

/// An outer loop whose own state is coupled (`p`, `q`), each reading a sum the inner loop
/// computes.
#[differentiable]
fn outer_coupled(w: f64, x: &[f64], rows: usize, cols: usize) -> f64 {
    let mut p = 1.0;
    let mut q = 0.0;
    for r in 0..rows {
        let mut s = 0.0;
        for j in 0..cols {
            s += (w * x[r * cols + j]).tanh();
        }
        let np = p * 0.9 + q * s;
        q -= p * s * 0.1;
        p = np;
    }
    p * p + q
}

fn outer_coupled_twin<T: DualNum<Primitive = f64> + Copy>(
    w: T,
    x: &[T],
    rows: usize,
    cols: usize,
) -> T {
    let (mut p, mut q) = (T::one(), T::zero());
    for r in 0..rows {
        let mut s = T::zero();
        for j in 0..cols {
            s += (w * x[r * cols + j]).tanh();
        }
        let np = p * 0.9 + q * s;
        q -= p * s * 0.1;
        p = np;
    }
    p * p + q
}

#[test]
fn an_outer_coupled_state_reading_inner_sums_matches_forward_mode() {
    let (rows, cols) = (4, 3);
    let x = [
        0.4, -0.3, 0.8, 0.1, -0.6, 0.2, 0.5, -0.9, 0.3, 0.7, -0.2, 0.6,
    ];
    let w = 1.3;
    let (value, g) = outer_coupled_grad(w, &x, rows, cols);
    let mut p = vec![w];
    p.extend(x);
    let (dual_value, dual_grad) = gradient(
        |q: SVector<DualSVec64<13>, 13>| outer_coupled_twin(q[0], &q.as_slice()[1..], rows, cols),
        &SVector::<f64, 13>::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, max_relative = 1e-12);
    let mut ours = vec![g.w];
    ours.extend(&g.x);
    assert_all_close(&ours, dual_grad.as_slice(), 1e-12);
}

/// A vector-valued function whose outputs are a coupled state: its Jacobian (rows by reverse
/// sweeps), vector-Jacobian and Jacobian-vector products.
#[differentiable]
fn orbit(k: f64, x0: f64, v0: f64, dt: f64, n: usize) -> [f64; 2] {
    let mut x = x0;
    let mut v = v0;
    for _ in 0..n {
        v -= k * x * dt;
        x += v * dt;
    }
    [x, v]
}

fn orbit_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], n: usize) -> [T; 2] {
    let (k, mut x, mut v, dt) = (p[0], p[1], p[2], p[3]);
    for _ in 0..n {
        v -= k * x * dt;
        x += v * dt;
    }
    [x, v]
}

#[test]
fn a_coupled_vector_function_has_the_jacobian_of_forward_mode() {
    let p = [1.9, 0.6, -0.2, 0.07];
    let n = 15;
    let jac_dual: Vec<Vec<f64>> = (0..2)
        .map(|row| {
            let (_, grad) = gradient(
                |q: SVector<DualSVec64<4>, 4>| orbit_twin(q.as_slice(), n)[row],
                &SVector::<f64, 4>::from_column_slice(&p),
            );
            grad.as_slice().to_vec()
        })
        .collect();
    let (r, jac) = orbit_jacobian(p[0], p[1], p[2], p[3], n);
    assert_eq!(r, orbit(p[0], p[1], p[2], p[3], n));
    for (row, want) in jac.iter().zip(&jac_dual) {
        assert_all_close(&[row.k, row.x0, row.v0, row.dt], want, 1e-12);
    }
    let seed = [0.7, -1.1];
    let (_, g) = orbit_vjp(p[0], p[1], p[2], p[3], n, &seed);
    let want: Vec<f64> = (0..4)
        .map(|j| seed[0] * jac_dual[0][j] + seed[1] * jac_dual[1][j])
        .collect();
    assert_all_close(&[g.k, g.x0, g.v0, g.dt], &want, 1e-12);
    let tangent = OrbitGrad {
        k: 0.3,
        x0: -0.5,
        v0: 1.2,
        dt: 2.0,
    };
    let (_, dr) = orbit_jvp(p[0], p[1], p[2], p[3], n, &tangent);
    let t = [0.3, -0.5, 1.2, 2.0];
    for (got, row) in dr.iter().zip(&jac_dual) {
        let want: f64 = row.iter().zip(t).map(|(a, b)| a * b).sum();
        assert_relative_eq!(*got, want, max_relative = 1e-12);
    }
}

/// Coupled state in the loop shapes that have their own paths: an early `return` before it
/// (its reverse sweep runs only where the loop does), `continue` and a `break` on data, a member that is data only, and coupled state inside a product's body.
#[differentiable]
fn guarded(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    let mut a = 1.0;
    let mut b = 0.5;
    for i in 0..n {
        let t = a * x[n - 1 - i] + b;
        b = a;
        a = t;
    }
    a * b
}

fn guarded_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T], n: usize) -> T {
    if n > x.len() {
        return x[0];
    }
    let (mut a, mut b) = (T::one(), T::from(0.5));
    for i in 0..n {
        let t = a * x[n - 1 - i] + b;
        b = a;
        a = t;
    }
    a * b
}

#[differentiable]
fn continue_break(w: f64, x: &[f64], stop: &[f64]) -> f64 {
    let mut a = w;
    let mut b = 1.0;
    for i in 0..x.len() {
        if stop[i] > 0.9 {
            break;
        }
        if x[i] < -0.5 {
            continue;
        }
        let t = (a * x[i]).sin() + b * w;
        b = 0.5 * a;
        a = t;
    }
    a + b * b
}

fn continue_break_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], stop: &[f64]) -> T {
    let (mut a, mut b) = (w, T::one());
    for i in 0..x.len() {
        if stop[i] > 0.9 {
            break;
        }
        if x[i].re() < -0.5 {
            continue;
        }
        let t = (a * x[i]).sin() + b * w;
        b = a * 0.5;
        a = t;
    }
    a + b * b
}

/// `d` is data only (it reads nothing differentiated) but `a` reads it and it reads `a`'s
/// sign; inside a product over rows.
#[differentiable(wrt(w))]
fn data_member_in_product(w: f64, x: &[f64], rows: usize, cols: usize) -> f64 {
    let mut p = 1.0;
    for r in 0..rows {
        let mut a = w;
        let mut d = 1.0;
        for j in 0..cols {
            let xj = x[r * cols + j];
            let na = a * 0.5 + d * xj;
            d = if a > 0.0 { d * 0.9 } else { d + xj };
            a = na;
        }
        p *= 1.0 + a * a;
    }
    p
}

fn data_member_in_product_twin<T: DualNum<Primitive = f64> + Copy>(
    w: T,
    x: &[f64],
    rows: usize,
    cols: usize,
) -> T {
    let mut p = T::one();
    for r in 0..rows {
        let mut a = w;
        let mut d = 1.0;
        for j in 0..cols {
            let xj = x[r * cols + j];
            let na = a * 0.5 + xj * d;
            d = if a.re() > 0.0 { d * 0.9 } else { d + xj };
            a = na;
        }
        p *= a * a + 1.0;
    }
    p
}

#[test]
fn coupled_state_in_guarded_while_breaking_and_nested_shapes_matches_forward_mode() {
    let x = [0.4, -0.3, 0.8, 0.1, -0.6, 0.2, 0.5, -0.9];
    // The early return taken (n too large) and not.
    for n in [3, 8, 9] {
        let (value, g) = guarded_grad(&x, n);
        let (dual_value, dual_grad) = gradient(
            |q: SVector<DualSVec64<8>, 8>| guarded_twin(q.as_slice(), n),
            &SVector::<f64, 8>::from_column_slice(&x),
        );
        assert_relative_eq!(value, dual_value, max_relative = 1e-12);
        assert_all_close(&g.x, dual_grad.as_slice(), 1e-12);
    }
    let stop = [0.1, 0.2, 0.3, 0.4, 0.5, 0.95, 0.1, 0.1];
    let w = 0.7;
    let (value, g) = continue_break_grad(w, &x, &stop);
    let mut p = vec![w];
    p.extend(x);
    let (dual_value, dual_grad) = gradient(
        |q: SVector<DualSVec64<9>, 9>| continue_break_twin(q[0], &q.as_slice()[1..], &stop),
        &SVector::<f64, 9>::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, max_relative = 1e-12);
    let mut ours = vec![g.w];
    ours.extend(&g.x);
    assert_all_close(&ours, dual_grad.as_slice(), 1e-12);
    // `stop` is data in the twin: its gradient here is zero (a `break` condition).
    assert!(g.stop.iter().all(|d| *d == 0.0));
    for w in [0.6, -0.6] {
        let (value, g) = data_member_in_product_grad(w, &x, 2, 4);
        let (dual_value, dual_grad) = gradient(
            |q: SVector<DualSVec64<1>, 1>| data_member_in_product_twin(q[0], &x, 2, 4),
            &SVector::<f64, 1>::from_column_slice(&[w]),
        );
        assert_relative_eq!(value, dual_value, max_relative = 1e-12);
        assert_relative_eq!(g.w, dual_grad[0], max_relative = 1e-12);
    }
}

/// Coupled state on data only (`w` is the only differentiated parameter) in a function with
/// `hessian`: the state is constant for the derivatives, which are exact.
#[differentiable(wrt(w), hessian)]
fn data_state_hessian(w: f64, x: &[f64]) -> f64 {
    let mut a = 1.0;
    let mut b = 0.0;
    for i in 0..x.len() {
        let t = a + b * x[i];
        b = a;
        a = 0.5 * t;
    }
    (w * a).powi(2) + w * b
}

#[test]
fn coupled_state_on_data_leaves_the_hessian_exact() {
    let x = [0.3, -1.2, 2.0];
    // By hand: (a, b) = (1, 0) → (0.5, 1) → (0.5·(0.5 − 1.2), 0.5) = (−0.35, 0.5)
    // → (0.5·(−0.35 + 0.5·2), −0.35) = (0.325, −0.35).
    let (a, b) = (0.325, -0.35);
    let w = 1.7;
    let (value, g, h) = data_state_hessian_hessian(w, &x);
    assert_relative_eq!(value, (w * a).powi(2) + w * b, epsilon = 1e-12);
    assert_relative_eq!(g.w, 2.0 * w * a * a + b, epsilon = 1e-12);
    assert_relative_eq!(h[0][0], 2.0 * a * a, epsilon = 1e-12);
}
