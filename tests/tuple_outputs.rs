//! Functions returning a tuple of floats (`-> (f64, f64)`): vector-valued functions whose array
//! is spelled as a tuple. Their `_jacobian`, `_vjp` and `_jvp` against hand-derived values
//! (1e-12) and bit for bit against the same function written `-> [f64; M]`; callers that read
//! the outputs as a tuple (`let (u, v) = f(…);`, `f(…).1`, `r.0`), first and second order,
//! against hand-derived gradients and Hessians (1e-12), central differences of the function
//! itself, and num-dual's forward mode on twins written on their own (1e-12).
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use num_dual::DualNum;
use symgrad::differentiable;

#[path = "common/second_order.rs"]
mod second_order;
use second_order::dual_hessian;

// ---- the tuple function itself

/// `(r·cos θ, r·sin θ)`.
#[differentiable]
fn polar(r: f64, th: f64) -> (f64, f64) {
    (r * th.cos(), r * th.sin())
}

/// `polar` written as an array.
#[differentiable]
fn polar_array(r: f64, th: f64) -> [f64; 2] {
    [r * th.cos(), r * th.sin()]
}

const POINTS: [(f64, f64); 4] = [(1.5, 0.3), (0.2, -2.0), (-0.7, 4.0), (3.0, 1.0)];

#[test]
fn the_function_itself_is_unchanged() {
    let (r, th) = (1.5, 0.3);
    let (x, y) = polar(r, th);
    assert_eq!((x, y), (r * th.cos(), r * th.sin()));
}

#[test]
fn polar_jacobian_is_the_one_derived_by_hand() {
    for (r, th) in POINTS {
        let (value, jac) = polar_jacobian(r, th);
        assert_eq!(value, [r * th.cos(), r * th.sin()]);
        // ∂x/∂r = cos θ, ∂x/∂θ = −r·sin θ; ∂y/∂r = sin θ, ∂y/∂θ = r·cos θ.
        assert_relative_eq!(jac[0].r, th.cos(), epsilon = 1e-12);
        assert_relative_eq!(jac[0].th, -r * th.sin(), epsilon = 1e-12);
        assert_relative_eq!(jac[1].r, th.sin(), epsilon = 1e-12);
        assert_relative_eq!(jac[1].th, r * th.cos(), epsilon = 1e-12);
        let (_, g) = polar_vjp(r, th, &[2.0, -0.5]);
        assert_relative_eq!(g.r, 2.0 * th.cos() - 0.5 * th.sin(), epsilon = 1e-12);
        assert_relative_eq!(
            g.th,
            -2.0 * r * th.sin() - 0.5 * r * th.cos(),
            epsilon = 1e-12
        );
        let (_, dots) = polar_jvp(r, th, &PolarGrad { r: 0.25, th: -1.5 });
        assert_relative_eq!(
            dots[0],
            0.25 * th.cos() + 1.5 * r * th.sin(),
            epsilon = 1e-12
        );
        assert_relative_eq!(
            dots[1],
            0.25 * th.sin() - 1.5 * r * th.cos(),
            epsilon = 1e-12
        );
    }
}

#[test]
fn the_tuple_and_its_array_twin_agree_bit_for_bit() {
    for (r, th) in POINTS {
        let (v, jac) = polar_jacobian(r, th);
        let (w, twin) = polar_array_jacobian(r, th);
        assert_eq!(v.map(f64::to_bits), w.map(f64::to_bits));
        for k in 0..2 {
            assert_eq!(jac[k].r.to_bits(), twin[k].r.to_bits());
            assert_eq!(jac[k].th.to_bits(), twin[k].th.to_bits());
        }
        let seed = [0.75, -1.25];
        let (_, g) = polar_vjp(r, th, &seed);
        let (_, h) = polar_array_vjp(r, th, &seed);
        assert_eq!(
            (g.r.to_bits(), g.th.to_bits()),
            (h.r.to_bits(), h.th.to_bits())
        );
        let (_, dots) = polar_jvp(r, th, &PolarGrad { r: 0.5, th: 2.0 });
        let (_, twin_dots) = polar_array_jvp(r, th, &PolarArrayGrad { r: 0.5, th: 2.0 });
        assert_eq!(dots.map(f64::to_bits), twin_dots.map(f64::to_bits));
    }
}

/// A tuple through `let`s, an early `return` and `if`/`else`: `(a·b, a + b)` for `a ≥ 0`,
/// `(0, b)` before that, `(a², b²)` for `a > 1`.
#[differentiable]
fn branches(a: f64, b: f64) -> (f64, f64) {
    if a < 0.0 {
        return (0.0, b);
    }
    let p = a * b;
    if a > 1.0 { (a * a, b * b) } else { (p, a + b) }
}

#[test]
fn tuples_in_branches_and_returns_are_outputs() {
    for (a, b) in [(-0.5, 2.0), (0.5, 3.0), (1.5, -2.0)] {
        let (value, jac) = branches_jacobian(a, b);
        let (want, rows) = if a < 0.0 {
            ([0.0, b], [[0.0, 0.0], [0.0, 1.0]])
        } else if a > 1.0 {
            ([a * a, b * b], [[2.0 * a, 0.0], [0.0, 2.0 * b]])
        } else {
            ([a * b, a + b], [[b, a], [1.0, 1.0]])
        };
        assert_eq!(value, want);
        for k in 0..2 {
            assert_eq!([jac[k].a, jac[k].b], rows[k]);
        }
        assert_eq!(branches(a, b), (want[0], want[1]));
    }
}

/// One output: `(x³,)`.
#[differentiable]
fn cube(x: f64) -> (f64,) {
    (x * x * x,)
}

#[test]
fn a_tuple_of_one_output() {
    let (value, jac) = cube_jacobian(1.5);
    assert_eq!(value, [3.375]);
    assert_relative_eq!(jac[0].x, 3.0 * 2.25, epsilon = 1e-12);
}

/// `f32` outputs.
#[differentiable]
fn scale32(a: f32, b: f32) -> (f32, f32, f32) {
    (a * b, a - b, a)
}

#[test]
fn f32_tuples() {
    let (value, jac) = scale32_jacobian(2.0, 0.5);
    assert_eq!(value, [1.0, 1.5, 2.0]);
    assert_eq!([jac[0].a, jac[0].b], [0.5, 2.0]);
    assert_eq!([jac[1].a, jac[1].b], [1.0, -1.0]);
    assert_eq!([jac[2].a, jac[2].b], [1.0, 0.0]);
}

// ---- callers reading the outputs as a tuple

/// `u² + 3v` of `(u, v) = polar(r, t)`: `r²cos²t + 3r·sin t`.
#[differentiable]
fn polar_cost(r: f64, t: f64) -> f64 {
    let (u, v) = polar(r, t);
    u * u + 3.0 * v
}

/// The same by field: `polar(r, t).0`, and `p.1` of `let p = polar(r, t);`.
#[differentiable]
fn polar_cost_fields(r: f64, t: f64) -> f64 {
    let p = polar(r, t);
    polar(r, t).0 * p.0 + 3.0 * p.1
}

/// Only the first output bound: `(u, _)`; `u³`.
#[differentiable]
fn polar_first(r: f64, t: f64) -> f64 {
    let (u, _) = polar(r, t);
    u * u * u
}

fn polar_cost_by_hand(r: f64, t: f64) -> (f64, [f64; 2]) {
    let (c, s) = (t.cos(), t.sin());
    let value = r * r * c * c + 3.0 * r * s;
    // ∂/∂r = 2r·cos²t + 3 sin t; ∂/∂t = −2r²·cos t·sin t + 3r·cos t.
    let grad = [
        2.0 * r * c * c + 3.0 * s,
        -2.0 * r * r * c * s + 3.0 * r * c,
    ];
    (value, grad)
}

#[test]
fn a_caller_binding_the_tuple_gets_the_gradient_derived_by_hand() {
    for (r, t) in POINTS {
        let (want, want_grad) = polar_cost_by_hand(r, t);
        for (value, g) in [polar_cost_grad(r, t), {
            let (v, g) = polar_cost_fields_grad(r, t);
            (v, PolarCostGrad { r: g.r, t: g.t })
        }] {
            assert_relative_eq!(value, want, epsilon = 1e-12);
            assert_relative_eq!(g.r, want_grad[0], epsilon = 1e-12);
            assert_relative_eq!(g.t, want_grad[1], epsilon = 1e-12);
            let numeric = numeric_gradient(|z| polar_cost(z[0], z[1]), &[r, t]);
            assert_all_close(&[g.r, g.t], &numeric, 1e-6);
        }
        let (value, g) = polar_first_grad(r, t);
        let u = r * t.cos();
        assert_relative_eq!(value, u * u * u, epsilon = 1e-12);
        assert_relative_eq!(g.r, 3.0 * u * u * t.cos(), epsilon = 1e-12);
        assert_relative_eq!(g.t, -3.0 * u * u * r * t.sin(), epsilon = 1e-12);
    }
}

/// A vector-valued caller reading a tuple: `(u·v, u + v)` as a tuple and as an array.
#[differentiable]
fn polar_mix(r: f64, t: f64) -> (f64, f64) {
    let (u, v) = polar(r, t);
    (u * v, u + v)
}

#[differentiable]
fn polar_mix_array(r: f64, t: f64) -> [f64; 2] {
    let p = polar(r, t);
    [p.0 * p.1, p.0 + p.1]
}

#[test]
fn vector_valued_callers_chain_through_each_output() {
    for (r, t) in POINTS {
        let (c, s) = (t.cos(), t.sin());
        // u·v = r²cs: ∂r = 2rcs, ∂t = r²(c² − s²); u + v = r(c + s): ∂r = c + s, ∂t = r(c − s).
        let rows = [
            [2.0 * r * c * s, r * r * (c * c - s * s)],
            [c + s, r * (c - s)],
        ];
        let (value, jac) = polar_mix_jacobian(r, t);
        let (twin_value, twin) = polar_mix_array_jacobian(r, t);
        assert_eq!(value.map(f64::to_bits), twin_value.map(f64::to_bits));
        for k in 0..2 {
            assert_relative_eq!(jac[k].r, rows[k][0], epsilon = 1e-12);
            assert_relative_eq!(jac[k].t, rows[k][1], epsilon = 1e-12);
            assert_relative_eq!(twin[k].r, rows[k][0], epsilon = 1e-12);
            assert_relative_eq!(twin[k].t, rows[k][1], epsilon = 1e-12);
        }
        let (_, g) = polar_mix_vjp(r, t, &[1.0, -2.0]);
        assert_relative_eq!(g.r, rows[0][0] - 2.0 * rows[1][0], epsilon = 1e-12);
        assert_relative_eq!(g.t, rows[0][1] - 2.0 * rows[1][1], epsilon = 1e-12);
        let (_, dots) = polar_mix_jvp(r, t, &PolarMixGrad { r: 0.5, t: 1.5 });
        for k in 0..2 {
            assert_relative_eq!(
                dots[k],
                0.5 * rows[k][0] + 1.5 * rows[k][1],
                epsilon = 1e-12
            );
        }
    }
}

// ---- a slice: mean and variance

/// The mean and the (population) variance of `x`.
#[differentiable(hessian)]
fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / n;
    (m, v)
}

/// `m² + √(v + 1) + Σ wᵢ·xᵢ/(1 + m²)`, through `mean_var`.
#[differentiable(hessian, wrt(x))]
fn standardized(x: &[f64], w: &[f64]) -> f64 {
    let (m, v) = mean_var(x);
    let scale = 1.0 / (1.0 + m * m);
    m * m + (v + 1.0).sqrt() + x.iter().zip(w).map(|(a, b)| a * b * scale).sum::<f64>()
}

fn standardized_dual<D: DualNum<Primitive = f64> + Copy>(x: &[D], w: &[f64]) -> D {
    let n = x.len() as f64;
    let mut m = D::from(0.0);
    for a in x {
        m += *a;
    }
    m /= D::from(n);
    let mut v = D::from(0.0);
    for a in x {
        v += (*a - m) * (*a - m);
    }
    v /= D::from(n);
    let one = D::from(1.0);
    let scale = one / (one + m * m);
    let mut dot = D::from(0.0);
    for (a, b) in x.iter().zip(w) {
        dot += *a * D::from(*b) * scale;
    }
    m * m + (v + one).sqrt() + dot
}

const X: [f64; 4] = [0.3, -1.2, 2.0, 0.7];
const W: [f64; 4] = [0.5, 1.5, -0.25, 2.0];

#[test]
fn a_loss_over_a_slice_through_mean_var_matches_num_dual() {
    let (value, g) = standardized_grad(&X, &W);
    let (f, grad, _) = dual_hessian::<4>(|z| standardized_dual(z, &W), &X);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    assert_all_close(&g.x, &grad, 1e-12);
    let numeric = numeric_gradient(|z| standardized(z, &W), &X);
    assert_all_close(&g.x, &numeric, 1e-6);
    // `mean_var`'s own Jacobian: ∂m/∂xᵢ = 1/n, ∂v/∂xᵢ = 2(xᵢ − m)/n.
    let (mv, jac) = mean_var_jacobian(&X);
    let n = X.len() as f64;
    let m = X.iter().sum::<f64>() / n;
    assert_relative_eq!(mv[0], m, epsilon = 1e-12);
    for i in 0..4 {
        assert_relative_eq!(jac[0].x[i], 1.0 / n, epsilon = 1e-12);
        assert_relative_eq!(jac[1].x[i], 2.0 * (X[i] - m) / n, epsilon = 1e-12);
    }
}

#[test]
fn the_hessian_through_mean_var_matches_num_dual() {
    let (value, g, h) = standardized_hessian(&X, &W);
    let (f, grad, want) = dual_hessian::<4>(|z| standardized_dual(z, &W), &X);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    assert_all_close(&g.x, &grad, 1e-12);
    assert_all_close(&h, &want, 1e-12);
}

// ---- second order through floats, by hand

/// `(a·b, a²)`.
#[differentiable(hessian)]
fn pair(a: f64, b: f64) -> (f64, f64) {
    (a * b, a * a)
}

/// `r.0·r.1 + r.0 = a³b + ab`.
#[differentiable(hessian)]
fn through_pair(a: f64, b: f64) -> f64 {
    let r = pair(a, b);
    r.0 * r.1 + pair(a, b).0
}

#[test]
fn the_hessian_through_a_tuple_is_the_one_derived_by_hand() {
    for (a, b) in [(0.7, -1.3), (-2.0, 0.25), (1.5, 3.0)] {
        let (value, grad, h) = through_pair_hessian(a, b);
        assert_relative_eq!(value, a * a * a * b + a * b, epsilon = 1e-12);
        assert_relative_eq!(grad.a, 3.0 * a * a * b + b, epsilon = 1e-12);
        assert_relative_eq!(grad.b, a * a * a + a, epsilon = 1e-12);
        // f_aa = 6ab, f_ab = 3a² + 1, f_bb = 0
        let want = [[6.0 * a * b, 3.0 * a * a + 1.0], [3.0 * a * a + 1.0, 0.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert_relative_eq!(h[i][j], want[i][j], epsilon = 1e-12);
            }
        }
    }
}

// ---- calls in loops, a `Vec`-valued caller, one output

/// `Σ uᵢ·vᵢ` of `(uᵢ, vᵢ) = polar(xᵢ, t)`: `Σ xᵢ²·cos t·sin t`.
#[differentiable]
fn ring(x: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let (u, v) = polar(x[i], t);
        s += u * v;
    }
    s
}

/// `polar(xᵢ, t).0 − polar(xᵢ, t).1`, one output per element.
#[differentiable]
fn differences(x: &[f64], t: f64) -> Vec<f64> {
    x.iter().map(|&v| polar(v, t).0 - polar(v, t).1).collect()
}

/// `cube(x).0 + cube(y).0 = x³ + y³`.
#[differentiable]
fn cubes(x: f64, y: f64) -> f64 {
    cube(x).0 + cube(y).0
}

#[test]
fn calls_in_loops_in_vec_outputs_and_of_one_output() {
    let (x, t) = ([0.5, -1.25, 2.0], 0.7);
    let (c, s) = (t.cos(), t.sin());
    let (value, g) = ring_grad(&x, t);
    let sq: f64 = x.iter().map(|v| v * v).sum();
    assert_relative_eq!(value, sq * c * s, epsilon = 1e-12);
    for i in 0..3 {
        assert_relative_eq!(g.x[i], 2.0 * x[i] * c * s, epsilon = 1e-12);
    }
    assert_relative_eq!(g.t, sq * (c * c - s * s), epsilon = 1e-12);
    let (value, jac) = differences_jacobian(&x, t);
    for i in 0..3 {
        assert_relative_eq!(value[i], x[i] * (c - s), epsilon = 1e-12);
        for j in 0..3 {
            let want = if i == j { c - s } else { 0.0 };
            assert_relative_eq!(jac[i].x[j], want, epsilon = 1e-12);
        }
        assert_relative_eq!(jac[i].t, -x[i] * (s + c), epsilon = 1e-12);
    }
    let (value, g) = cubes_grad(1.5, -0.5);
    assert_relative_eq!(value, 3.375 - 0.125, epsilon = 1e-12);
    assert_relative_eq!(g.x, 6.75, epsilon = 1e-12);
    assert_relative_eq!(g.y, 0.75, epsilon = 1e-12);
}

// ---- second order through a vector-valued caller of a tuple

/// `(ab + a², a³b)` through `pair`'s tuple.
#[differentiable(hessian)]
fn pair_mix(a: f64, b: f64) -> (f64, f64) {
    let (u, v) = pair(a, b);
    (u + v, u * v)
}

/// `p·q` of `(p, q) = pair_mix(a, b)`: `a⁴b² + a⁵b`.
#[differentiable(hessian)]
fn over_pair_mix(a: f64, b: f64) -> f64 {
    let (p, q) = pair_mix(a, b);
    p * q
}

#[test]
fn the_hessian_through_two_levels_of_tuples_is_the_one_derived_by_hand() {
    for (a, b) in [(0.7, -1.3), (-1.2, 0.25), (1.1, 2.0)] {
        let (value, grad, h) = over_pair_mix_hessian(a, b);
        let (a2, a3, a4) = (a * a, a * a * a, a * a * a * a);
        assert_relative_eq!(value, a4 * b * b + a4 * a * b, epsilon = 1e-12);
        assert_relative_eq!(grad.a, 4.0 * a3 * b * b + 5.0 * a4 * b, epsilon = 1e-12);
        assert_relative_eq!(grad.b, 2.0 * a4 * b + a4 * a, epsilon = 1e-12);
        // f_aa = 12a²b² + 20a³b, f_ab = 8a³b + 5a⁴, f_bb = 2a⁴
        let off = 8.0 * a3 * b + 5.0 * a4;
        let want = [[12.0 * a2 * b * b + 20.0 * a3 * b, off], [off, 2.0 * a4]];
        for i in 0..2 {
            for j in 0..2 {
                assert_relative_eq!(h[i][j], want[i][j], epsilon = 1e-12);
            }
        }
    }
}
