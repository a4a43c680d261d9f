//! Calls of `Vec`-valued `#[differentiable]` functions from other differentiable functions, the
//! outputs read at literal indices: the caller's gradient (through the callee's hidden
//! `__vjp`, one sweep of its seeded sum, and `__jacobian`, one row function per output, for
//! float parameters) against the gradient derived by hand (1e-12) and num-dual's forward mode
//! on a twin written on its own (1e-12).
#![allow(clippy::needless_range_loop)] // rows and columns by index, as the Jacobian is written

use approx::assert_relative_eq;
use num_dual::{Dual64, DualNum};
use symgrad::{Gradient, differentiable};

/// The residuals of an exponential decay, one per observation.
#[differentiable(wrt(p))]
fn decay(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

fn decay_dual<D: DualNum<Primitive = f64> + Copy>(p: &[D], x: &[f64], y: &[f64]) -> Vec<D> {
    x.iter()
        .zip(y)
        .map(|(&xi, &yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

/// Reads three outputs of `decay`, one of them twice.
#[differentiable(wrt(p))]
fn first_three(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let r = decay(p, x, y);
    r[0] * r[0] + 2.0 * r[1] * r[2] + r[2].sin()
}

fn first_three_dual<D: DualNum<Primitive = f64> + Copy>(p: &[D], x: &[f64], y: &[f64]) -> D {
    let r = decay_dual(p, x, y);
    r[0] * r[0] + r[1] * r[2] * 2.0 + r[2].sin()
}

/// Output `k`'s residual with a float parameter: `a·k_x + b - y`.
#[differentiable]
fn lines(a: f64, b: f64, x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut r = vec![0.0; x.len()];
    for i in 0..x.len() {
        r[i] = a * x[i] + b - y[i];
    }
    r
}

/// `lines(a, b, …)[1]²`, read by index on the call itself.
#[differentiable(wrt(a, b))]
fn second_squared(a: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    lines(a, b, x, y)[1].powi(2)
}

#[test]
fn a_slice_passed_to_a_vec_valued_function_matches_num_dual() {
    let (x, y) = ([0.1, 0.7, 1.3, 2.0], [1.9, 1.1, 0.6, 0.2]);
    for p in [[2.0, 0.8], [1.5, -0.3], [0.2, 1.7]] {
        let (value, grad) = first_three_grad(&p, &x, &y);
        let want = first_three_dual(&[p[0], p[1]], &x, &y);
        assert_relative_eq!(value, want, epsilon = 1e-12);
        for i in 0..2 {
            let mut d = [Dual64::from(p[0]), Dual64::from(p[1])];
            d[i] = d[i].derivative();
            let g = first_three_dual(&d, &x, &y).eps;
            assert_relative_eq!(grad.p[i], g, epsilon = 1e-12);
        }
    }
}

#[test]
fn float_parameters_of_a_vec_valued_function_give_the_gradient_by_hand() {
    let (x, y) = ([0.5, 1.5, 3.0], [1.0, 2.0, 4.0]);
    for (a, b) in [(1.0, 0.5), (-0.3, 2.0)] {
        let (value, grad) = second_squared_grad(a, b, &x, &y);
        let r1 = a * x[1] + b - y[1];
        assert_relative_eq!(value, r1 * r1, epsilon = 1e-12);
        assert_relative_eq!(grad.a, 2.0 * r1 * x[1], epsilon = 1e-12);
        assert_relative_eq!(grad.b, 2.0 * r1, epsilon = 1e-12);
        assert_eq!(grad.to_flat_vec().len(), 2);
    }
}

/// A vector-valued caller: two outputs of `decay`, transformed.
#[differentiable(wrt(p))]
fn two_of_decay(p: &[f64], x: &[f64], y: &[f64]) -> [f64; 2] {
    let r = decay(p, x, y);
    [r[0] * r[1], r[3].exp()]
}

fn two_of_decay_dual<D: DualNum<Primitive = f64> + Copy>(p: &[D], x: &[f64], y: &[f64]) -> [D; 2] {
    let r = decay_dual(p, x, y);
    [r[0] * r[1], r[3].exp()]
}

#[test]
fn a_vector_valued_caller_has_the_jacobian_of_num_dual() {
    let (x, y) = ([0.1, 0.7, 1.3, 2.0], [1.9, 1.1, 0.6, 0.2]);
    let p = [1.7, 0.4];
    let (out, jac) = two_of_decay_jacobian(&p, &x, &y);
    let want_out = two_of_decay_dual(&[p[0], p[1]], &x, &y);
    for k in 0..2 {
        assert_relative_eq!(out[k], want_out[k], epsilon = 1e-12);
    }
    let mut want = [[0.0; 2]; 2];
    for i in 0..2 {
        let mut d = [Dual64::from(p[0]), Dual64::from(p[1])];
        d[i] = d[i].derivative();
        let col = two_of_decay_dual(&d, &x, &y);
        for k in 0..2 {
            want[k][i] = col[k].eps;
            assert_relative_eq!(jac[k].p[i], want[k][i], epsilon = 1e-12);
        }
    }
    let seed = [0.3, -1.2];
    let (_, g) = two_of_decay_vjp(&p, &x, &y, &seed);
    for i in 0..2 {
        let w = seed[0] * want[0][i] + seed[1] * want[1][i];
        assert_relative_eq!(g.p[i], w, epsilon = 1e-12);
    }
    let tangent = TwoOfDecayGrad { p: vec![0.5, 2.0] };
    let (_, dy) = two_of_decay_jvp(&p, &x, &y, &tangent);
    for k in 0..2 {
        let w = want[k][0] * 0.5 + want[k][1] * 2.0;
        assert_relative_eq!(dy[k], w, epsilon = 1e-12);
    }
}
