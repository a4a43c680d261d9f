//! Second derivatives through loop recurrences: products (`p *= x[i]`), a running `max`, a
//! nonlinear recurrence `h = tanh(a·h + x[i])`, and coupled state (a symplectic integrator,
//! the online softmax, a scalar LSTM). Their tangent is a second recurrence carried beside the
//! first in the same loop. Oracles: Hessians derived by hand (exact up to rounding, 1e-12),
//! the online softmax against the two-pass log-sum-exp and its closed form `diag(p) − p·pᵀ`,
//! num-dual's second-order forward mode (`num_dual::hessian`) on generic twins, and central
//! differences of the generated `_grad`.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use num_dual::DualNum;
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, dual_hessian, hessian_by_differences, mat_vec};

// ---- a product: ∂²/∂xᵢ∂xⱼ Πx = Πx/(xᵢxⱼ) off the diagonal, 0 on it

#[differentiable(hessian)]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[test]
fn a_product_has_its_hand_derived_hessian() {
    let x = [0.7, -1.3, 2.1, 0.4];
    let all: f64 = x.iter().product();
    let (value, grad, h) = product_hessian(&x);
    assert_relative_eq!(value, all, epsilon = 1e-12);
    let want_g: Vec<f64> = (0..4)
        .map(|i| (0..4).filter(|&k| k != i).map(|k| x[k]).product())
        .collect();
    close(&grad.x, &want_g, 1e-12, "∇");
    let want: Vec<f64> = (0..16)
        .map(|ij| {
            let (i, j) = (ij / 4, ij % 4);
            if i == j {
                0.0
            } else {
                (0..4).filter(|&k| k != i && k != j).map(|k| x[k]).product()
            }
        })
        .collect();
    close(&h, &want, 1e-12, "H");
    let v = ProductGrad {
        x: vec![0.3, -0.2, 1.1, 0.5],
    };
    let (value, grad, hv) = product_hvp(&x, &v);
    assert_relative_eq!(value, all, epsilon = 1e-12);
    close(&grad.x, &want_g, 1e-12, "∇ of _hvp");
    close(&hv.x, &mat_vec(&want, &v.x), 1e-12, "H·v");
}

// ---- a nonlinear recurrence on a scalar and a slice: h = tanh(a·h + x[i])

#[differentiable(hessian)]
fn decay(a: f64, x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..x.len() {
        h = (a * h + x[i]).tanh();
    }
    h * h
}

fn decay_twin<T: DualNum<Primitive = f64> + Copy>(z: &[T]) -> T {
    let mut h = T::zero();
    for &xi in &z[1..] {
        h = (z[0] * h + xi).tanh();
    }
    h * h
}

#[test]
fn a_nonlinear_recurrence_matches_num_dual_and_differences() {
    let theta = [0.8, 0.3, -0.9, 1.4, 0.2, -0.5];
    let (value, grad, h) = decay_hessian(theta[0], &theta[1..]);
    let (f, g, want) = dual_hessian::<6>(decay_twin, &theta);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&grad.to_flat_vec(), &g, 1e-12, "∇");
    close(&h, &want, 1e-12, "H");
    let numeric = hessian_by_differences(|t| decay_grad(t[0], &t[1..]).1.to_flat_vec(), &theta);
    close(&h, &numeric, 1e-6, "H vs differences");
    let v = DecayGrad {
        a: -0.4,
        x: vec![0.6, 0.1, -0.3, 0.9, 0.2],
    };
    let (_, _, hv) = decay_hvp(theta[0], &theta[1..], &v);
    close(
        &hv.to_flat_vec(),
        &mat_vec(&want, &v.to_flat_vec()),
        1e-12,
        "H·v",
    );
}

// ---- a running maximum: piecewise, the Hessian of the branch taken

#[differentiable(hessian)]
fn peak(w: f64, x: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(w * x[i] * x[i]);
    }
    m * m
}

#[test]
fn a_running_max_has_the_hessian_of_its_largest_term() {
    // The largest term is w·x[2]²: f = w²·x[2]⁴.
    let (w, x) = (1.5, [0.3, -0.8, 1.2, 0.1]);
    let (value, grad, h) = peak_hessian(w, &x);
    let t = x[2];
    assert_relative_eq!(value, w * w * t.powi(4), epsilon = 1e-12);
    let mut want_g = vec![0.0; 5];
    want_g[0] = 2.0 * w * t.powi(4);
    want_g[3] = 4.0 * w * w * t.powi(3);
    close(&grad.to_flat_vec(), &want_g, 1e-12, "∇");
    let mut want = vec![0.0; 25];
    want[0] = 2.0 * t.powi(4); // ∂²/∂w²
    want[3] = 8.0 * w * t.powi(3); // ∂²/∂w∂x[2]
    want[3 * 5] = want[3];
    want[3 * 5 + 3] = 12.0 * w * w * t * t; // ∂²/∂x[2]²
    close(&h, &want, 1e-12, "H");
}

// ---- coupled state over scalars: symplectic Euler, `[[T; 4]; 4]`

#[differentiable(wrt(k, x0, v0, dt), hessian)]
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

fn spring_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], target: &[f64]) -> T {
    let (k, dt) = (p[0], p[3]);
    let (mut x, mut v, mut loss) = (p[1], p[2], T::zero());
    for &t in target {
        let a = -k * x;
        v += a * dt;
        x += v * dt;
        loss += (x - t).powi(2);
    }
    loss
}

#[test]
fn a_symplectic_integrator_has_the_hessian_of_forward_mode() {
    let target: Vec<f64> = (0..20).map(|i| (0.3 * f64::from(i)).sin()).collect();
    let p = [2.3, 0.9, -0.4, 0.05];
    let (value, grad, h) = spring_hessian(p[0], p[1], p[2], p[3], &target);
    let (f, g, want) = dual_hessian::<4>(|z| spring_twin(z, &target), &p);
    assert_relative_eq!(value, f, max_relative = 1e-12);
    close(&[grad.k, grad.x0, grad.v0, grad.dt], &g, 1e-12, "∇");
    let flat: Vec<f64> = h.iter().flatten().copied().collect();
    close(&flat, &want, 1e-12, "H");
    // Symmetric to the last bit.
    for i in 0..4 {
        for j in 0..4 {
            assert_eq!(h[i][j].to_bits(), h[j][i].to_bits(), "H[{i}][{j}]");
        }
    }
    let numeric = hessian_by_differences(
        |q| {
            let (_, g) = spring_grad(q[0], q[1], q[2], q[3], &target);
            vec![g.k, g.x0, g.v0, g.dt]
        },
        &p,
    );
    close(&flat, &numeric, 1e-6, "H vs differences");
    let v = SpringGrad {
        k: 0.2,
        x0: -1.0,
        v0: 0.5,
        dt: 0.3,
    };
    let (_, _, hv) = spring_hvp(p[0], p[1], p[2], p[3], &target, &v);
    close(
        &[hv.k, hv.x0, hv.v0, hv.dt],
        &mat_vec(&want, &[v.k, v.x0, v.v0, v.dt]),
        1e-12,
        "H·v",
    );
}

// ---- the online softmax: its Hessian is the two-pass log-sum-exp's, diag(p) − p·pᵀ

#[differentiable(hessian)]
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

#[differentiable(hessian)]
fn two_pass_log_sum_exp(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

#[test]
fn the_online_softmax_has_the_hessian_of_the_two_pass_log_sum_exp() {
    for z in [
        vec![0.3, -1.2, 2.5, 2.4, -0.7, 1.1],
        vec![1000.0, 999.0, 1001.0],
        vec![-0.5],
    ] {
        let n = z.len();
        let (value, grad, h) = online_log_sum_exp_hessian(&z);
        let (value2, grad2, h2) = two_pass_log_sum_exp_hessian(&z);
        assert_relative_eq!(value, value2, epsilon = 1e-12);
        close(&grad.z, &grad2.z, 1e-12, "∇");
        close(&h, &h2, 1e-12, "H vs two passes");
        let p: Vec<f64> = z.iter().map(|x| (x - value).exp()).collect();
        let want: Vec<f64> = (0..n * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                f64::from(u8::from(i == j)) * p[i] - p[i] * p[j]
            })
            .collect();
        close(&h, &want, 1e-12, "H vs diag(p) − p·pᵀ");
        let v = OnlineLogSumExpGrad {
            z: (0..n).map(|i| 0.3 * i as f64 - 0.4).collect(),
        };
        let (_, _, hv) = online_log_sum_exp_hvp(&z, &v);
        close(&hv.z, &mat_vec(&want, &v.z), 1e-12, "H·v");
    }
}

// ---- a scalar LSTM over a slice of weights

#[differentiable(wrt(p), hessian)]
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
fn a_scalar_lstm_has_the_hessian_of_forward_mode_and_differences() {
    let x: Vec<f64> = (0..15).map(|t| (0.7 * f64::from(t)).cos()).collect();
    let y: Vec<f64> = (0..15).map(|t| 0.5 * (0.4 * f64::from(t)).sin()).collect();
    let p: Vec<f64> = (0..12)
        .map(|k| 0.3 * (1.3 * f64::from(k) + 0.2).sin())
        .collect();
    let (value, grad, h) = lstm_hessian(&p, &x, &y);
    let (f, g, want) = dual_hessian::<12>(|q| lstm_twin(q, &x, &y), &p);
    assert_relative_eq!(value, f, max_relative = 1e-12);
    close(&grad.p, &g, 1e-12, "∇");
    close(&h, &want, 1e-11, "H");
    let numeric = hessian_by_differences(|q| lstm_grad(q, &x, &y).1.p, &p);
    close(&h, &numeric, 1e-6, "H vs differences");
}

// ---- a recurrence whose body calls a function given the differentiated slice

#[differentiable(hessian)]
fn restarted(q: f64, x: &[f64]) -> f64 {
    let mut r = q;
    for j in 0..x.len() {
        r *= x[j] + q;
    }
    r.sin()
}

#[differentiable(hessian)]
fn outer_loop(x: &[f64]) -> f64 {
    let mut p = 0.5;
    for i in 0..x.len() {
        p = restarted(p + x[i], x);
    }
    p
}

fn outer_loop_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> T {
    let mut p = T::from(0.5);
    for &xi in x {
        let q = p + xi;
        let mut r = q;
        for &xj in x {
            r *= xj + q;
        }
        p = r.sin();
    }
    p
}

#[test]
fn a_recurrence_calling_a_function_given_the_slice_matches_num_dual() {
    let x = [0.3, -0.6, 0.8, 0.2];
    let (value, grad, h) = outer_loop_hessian(&x);
    let (f, g, want) = dual_hessian::<4>(outer_loop_twin, &x);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&grad.x, &g, 1e-12, "∇");
    close(&h, &want, 1e-12, "H");
    let v = OuterLoopGrad {
        x: vec![0.4, 0.1, -0.7, 0.3],
    };
    let (_, _, hv) = outer_loop_hvp(&x, &v);
    close(&hv.x, &mat_vec(&want, &v.x), 1e-12, "H·v");
}

// ---- scalars only, through a local array filled in a loop: `[[T; 2]; 2]`

#[differentiable(wrt(a, b), hessian)]
fn tabled(a: f64, b: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for i in 0..x.len() {
        z[i] = (a * x[i] + b).tanh();
    }
    let mut s = 0.0;
    for i in 1..x.len() {
        s += z[i] * z[i - 1];
    }
    s
}

fn tabled_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64]) -> T {
    let z: Vec<T> = x.iter().map(|&xi| (p[0] * xi + p[1]).tanh()).collect();
    (1..x.len()).fold(T::zero(), |s, i| s + z[i] * z[i - 1])
}

#[test]
fn a_local_array_under_scalar_parameters_has_the_hessian_of_num_dual() {
    let x = [0.3, -1.1, 0.7, 1.9];
    let (value, grad, h) = tabled_hessian(0.8, -0.2, &x);
    let (f, g, want) = dual_hessian::<2>(|z| tabled_twin(z, &x), &[0.8, -0.2]);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&[grad.a, grad.b], &g, 1e-12, "∇");
    close(
        &h.iter().flatten().copied().collect::<Vec<_>>(),
        &want,
        1e-12,
        "H",
    );
}

// ---- the fuzzer's seed 202, program 962: coupled state under a branch, a steep tail

/// Where central differences of `_grad` (the fuzzer's oracle for `H·v`) disagreed with `_hvp`
/// by 5·10⁻⁶ relative: `H·v` reaches 10⁷ there, and the differences at two steps differ by
/// 6·10⁻⁵. num-dual's exact Hessian agrees with `_hessian` and `_hvp` to rounding.
#[differentiable(hessian)]
fn p962(_n: usize, d: usize, x: &[f64], w: &[f64], v: &[f64], a: f64) -> f64 {
    let mut c1 = v[d - 1];
    let mut c2 = (w[0] + c1).tanh();
    let mut l3 = 0.0;
    for i in 0..v.len() {
        let t4 = (c1 + a).sin();
        c2 = 0.12 * c2
            + -0.09 * c1
            + v.windows(d)
                .rev()
                .map(|_r| (1.0 + (-0.2 + t4) * (-0.2 + t4)).recip())
                .sum::<f64>();
        if c2 > x[0].tanh() {
            c1 += 0.5 * c2 * (-0.36 + x[0]).hypot(w[i]);
        } else {
            c1 = -0.31 * c1 + -0.25 * c2 + (v[d - 1] * v[d - 1] + 0.5).cbrt();
        }
        l3 += (c2 - v[i]).powi(2);
    }
    let c7 = (l3 * l3).tanh() * l3;
    let c8 = (c7 * c7).sin() + c7;
    let c9 = (c8 * c8).sin() + c8;
    let c10 = (c9 * c9).tanh() * c9;
    let c11 = c10.cos() + c10;
    if w[0].tanh().exp_m1() <= -0.21 {
        return v[d - 1] * v[d - 1] + -0.7 / (1.0 + 0.21 * 0.21);
    }
    c11 * c11 + (l3.sin() + l3) - c2 * c2
}

/// `p962` over `(x, w, v, a)` flattened, for `d = 2` and `w[0]` where the early return is not
/// taken.
fn p962_twin<T: DualNum<Primitive = f64> + Copy>(z: &[T]) -> T {
    let (x, w, v, a) = (&z[0..6], &z[6..8], &z[8..10], z[10]);
    let mut c1 = v[1];
    let mut c2 = (w[0] + c1).tanh();
    let mut l3 = T::zero();
    for i in 0..v.len() {
        let t4 = (c1 + a).sin();
        // `v.windows(2)` of two elements: one window.
        c2 = c2 * 0.12 + c1 * -0.09 + (T::one() + (t4 - 0.2) * (t4 - 0.2)).recip();
        if c2.re() > x[0].re().tanh() {
            c1 += c2 * 0.5 * ((x[0] - 0.36).powi(2) + w[i].powi(2)).sqrt();
        } else {
            c1 = c1 * -0.31 + c2 * -0.25 + (v[1] * v[1] + 0.5).cbrt();
        }
        l3 += (c2 - v[i]).powi(2);
    }
    let c7 = (l3 * l3).tanh() * l3;
    let c8 = (c7 * c7).sin() + c7;
    let c9 = (c8 * c8).sin() + c8;
    let c10 = (c9 * c9).tanh() * c9;
    let c11 = c10.cos() + c10;
    c11 * c11 + (l3.sin() + l3) - c2 * c2
}

#[test]
#[allow(clippy::unreadable_literal)] // the fuzzer's point, as printed
fn the_fuzzers_steep_coupled_program_has_the_hessian_of_num_dual() {
    let x = [
        0.5771230607460951,
        -1.1344909148307152,
        -1.4675265958989412,
        -0.9204580775418659,
        -1.3011419937367725,
        0.6134729251916733,
    ];
    let w = [1.23707601476677, 1.4198173821911948];
    let v = [-1.0020317115020378, -0.2562793635433136];
    let a = 0.5178534177355778;
    let (value, _, h) = p962_hessian(3, 2, &x, &w, &v, a);
    let mut theta = x.to_vec();
    theta.extend(w);
    theta.extend(v);
    theta.push(a);
    let (f, _, want) = dual_hessian::<11>(p962_twin, &theta);
    assert_relative_eq!(value, f, max_relative = 1e-12);
    close(&h, &want, 1e-12, "H");
    let dir: Vec<f64> = (0..11).map(|k| (f64::from(k) * 1.7).sin()).collect();
    let along = P962Grad {
        x: dir[0..6].to_vec(),
        w: dir[6..8].to_vec(),
        v: dir[8..10].to_vec(),
        a: dir[10],
    };
    let (_, _, hv) = p962_hvp(3, 2, &x, &w, &v, a, &along);
    close(&hv.to_flat_vec(), &mat_vec(&want, &dir), 1e-12, "H·v");
}

// ---- recurrences in a row: the second starts from the first's value, and the value reads both

/// A product, then coupled state starting from it, then a value reading both: the tangents
/// read the values carried beside them (each recurrence's, and the second's start the
/// first's), not the original loops'.
#[differentiable(hessian)]
fn chained(a: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= 0.5 + (a * x[i]).cos() * 0.25;
    }
    let mut s = p;
    let mut m = 0.0;
    for i in 0..x.len() {
        let t = s * x[i];
        s = 0.5 * s.sin() + t * m + 1.0;
        m = 0.5 * m + 0.2 * s;
    }
    p * s.ln() + (m * p).exp() + a * m
}

fn chained_twin<T: DualNum<Primitive = f64> + Copy>(z: &[T]) -> T {
    let (a, x) = (z[0], &z[1..]);
    let mut p = T::one();
    for &xi in x {
        p *= (a * xi).cos() * 0.25 + 0.5;
    }
    let (mut s, mut m) = (p, T::zero());
    for &xi in x {
        let t = s * xi;
        s = s.sin() * 0.5 + t * m + 1.0;
        m = m * 0.5 + s * 0.2;
    }
    p * s.ln() + (m * p).exp() + a * m
}

#[test]
fn recurrences_in_a_row_match_num_dual_and_differences() {
    let theta = [0.7, 0.3, -0.9, 1.1, 0.4];
    let (value, grad, h) = chained_hessian(theta[0], &theta[1..]);
    let (f, g, want) = dual_hessian::<5>(chained_twin, &theta);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&grad.to_flat_vec(), &g, 1e-12, "∇");
    close(&h, &want, 1e-12, "H");
    let numeric = hessian_by_differences(|t| chained_grad(t[0], &t[1..]).1.to_flat_vec(), &theta);
    close(&h, &numeric, 1e-6, "H vs differences");
    let v = ChainedGrad {
        a: -0.4,
        x: vec![0.6, 0.1, -0.3, 0.9],
    };
    let (value, grad, hv) = chained_hvp(theta[0], &theta[1..], &v);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    close(&grad.to_flat_vec(), &g, 1e-12, "∇ of _hvp");
    close(
        &hv.to_flat_vec(),
        &mat_vec(&want, &v.to_flat_vec()),
        1e-12,
        "H·v",
    );
}
