//! Values a recurrence's body computes in a loop nested in it without reading the recurrence's
//! own index: `y[j] * y[j]` in `for i in 0..n { let t = Σ_j if x[i]·y[j] > c { y[j] * y[j] }
//! else { x[i] }; p /= 1 + t²; }`. Their adjoint is one iteration's of the outer loop, swept
//! with it: the reverse loop over `i` adds into `∇y[j]` as it goes, as the adjoint written by
//! hand does (`n²` work). Summed over `i` at the value instead, the sum would read the reverse
//! sweep's `λ` inside a loop over `j`, running the whole sweep again for every `j` (`n³`), and
//! would evaluate the nested loop's bounds (`0..n - 1`) where the function does not (at `n = 0`:
//! a panic).
//!
//! Each function is checked against a gradient derived by hand (1e-12) or central differences,
//! with `checkpoint` bit for bit against the gradient without it, with `hessian` against
//! differences of the gradient, and at size 0 against its exact gradient (nothing is read).

#![allow(clippy::needless_range_loop, clippy::int_plus_one)] // the language under test, and a fuzzer program as written

mod common;
#[path = "common/second_order.rs"]
mod second_order;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use second_order::{close, hessian_by_differences};
use symgrad::differentiable;

#[differentiable]
fn product_of_selected_sums(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut p = 1.0;
    for i in 0..n {
        let mut t = 0.0;
        for j in 0..n - 1 {
            t += if x[i] * y[j] > 0.48 {
                y[j] * y[j]
            } else {
                x[i]
            };
        }
        p /= 1.0 + t * t;
    }
    p
}

#[differentiable(checkpoint = 2)]
fn product_of_selected_sums_k2(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut p = 1.0;
    for i in 0..n {
        let mut t = 0.0;
        for j in 0..n - 1 {
            t += if x[i] * y[j] > 0.48 {
                y[j] * y[j]
            } else {
                x[i]
            };
        }
        p /= 1.0 + t * t;
    }
    p
}

#[differentiable(hessian)]
fn product_of_selected_sums_h(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut p = 1.0;
    for i in 0..n {
        let mut t = 0.0;
        for j in 0..n - 1 {
            t += if x[i] * y[j] > 0.48 {
                y[j] * y[j]
            } else {
                x[i]
            };
        }
        p /= 1.0 + t * t;
    }
    p
}

/// The adjoint by hand: `p = Π_i 1 / (1 + t_i²)`, `∂p/∂t_i = −2·p·t_i / (1 + t_i²)`; `t_i`
/// has `∂/∂y[j] = 2·y[j]` where the condition holds and `∂/∂x[i] = 1` where it does not.
fn product_of_selected_sums_by_hand(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let t: Vec<f64> = (0..n)
        .map(|i| {
            (0..n - 1)
                .map(|j| {
                    if x[i] * y[j] > 0.48 {
                        y[j] * y[j]
                    } else {
                        x[i]
                    }
                })
                .sum()
        })
        .collect();
    let p: f64 = t.iter().map(|t| 1.0 / (1.0 + t * t)).product();
    let (mut gx, mut gy) = (vec![0.0; n], vec![0.0; y.len()]);
    for i in 0..n {
        let dt = -2.0 * p * t[i] / (1.0 + t[i] * t[i]);
        for j in 0..n - 1 {
            if x[i] * y[j] > 0.48 {
                gy[j] += dt * 2.0 * y[j];
            } else {
                gx[i] += dt;
            }
        }
    }
    (gx, gy)
}

/// Two states updated together (coupled), the nested value read by both.
#[differentiable]
fn coupled_with_selected_sums(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut a = 1.0;
    let mut b = 0.0;
    for i in 0..n {
        let mut t = 0.0;
        for j in 0..n - 1 {
            t += if x[i] * y[j] > 0.3 {
                (y[j] * 0.5).sin()
            } else {
                x[i] * 0.2
            };
        }
        let a2 = a / (1.0 + t * t);
        b = 0.5 * b + a * t;
        a = a2;
    }
    a + b * b
}

/// Two loops deep: the value `y[j]·z[k]` changes with neither the recurrence's loop nor
/// the loop over `j` alone.
#[differentiable]
fn two_deep(x: &[f64], y: &[f64], z: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        let mut t = 0.0;
        for j in 0..y.len() - 1 {
            for k in 0..z.len() {
                t += if x[i] > y[j] * z[k] {
                    (y[j] * z[k]).cos()
                } else {
                    x[i]
                };
            }
        }
        p = 0.5 * p + (0.1 * t).sin();
    }
    p
}

/// A `while` loop's count (`ct <= n - 1`) in the body of a running product: the count is
/// computed only where the outer loop runs (fuzzer seed 3001, program 277's callee).
#[differentiable]
fn counted_while_in_a_product(u: &[f64], v: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..u.len() {
        let mut s = 0.0;
        let mut ct = 0;
        while ct <= u.len() - 1 {
            if ct != 0 {
                break;
            }
            ct += 1;
            if v[i] * v[ct - 1] >= 0.48 {
                s += (1.17 + v[ct - 1]).powi(2);
                continue;
            }
            s += v[i];
        }
        p /= 1.0 + s * s;
    }
    p
}

const X: [f64; 5] = [0.9, -0.4, 1.3, 0.65, 2.1];
const Y: [f64; 5] = [0.8, 1.5, -0.3, 0.7, 0.35];

#[test]
fn the_nested_value_gets_its_adjoint_in_the_reverse_loop() {
    for n in 1..=5 {
        let (x, y) = (&X[..n], &Y[..n]);
        let (value, g) = product_of_selected_sums_grad(x, y);
        assert_eq!(value, product_of_selected_sums(x, y));
        let (gx, gy) = product_of_selected_sums_by_hand(x, y);
        for (got, want) in g.x.iter().zip(&gx).chain(g.y.iter().zip(&gy)) {
            assert_relative_eq!(got, want, epsilon = 1e-12, max_relative = 1e-12);
        }
        // Both branches are taken somewhere: the oracle is not all zeros.
        if n >= 3 {
            assert!(gy.iter().any(|v| *v != 0.0) && gx.iter().any(|v| *v != 0.0));
        }
        let mut p = x.to_vec();
        p.extend(y);
        let want = numeric_gradient(|p| product_of_selected_sums(&p[..n], &p[n..]), &p);
        let mut got = g.x.clone();
        got.extend(&g.y);
        assert_all_close(&got, &want, 1e-6);
        // Checkpointing recomputes the same values in the same order.
        let (_, k2) = product_of_selected_sums_k2_grad(x, y);
        assert_eq!((k2.x, k2.y), (g.x, g.y));
    }
}

#[test]
fn coupled_and_two_deep_match_differences() {
    for n in 1..=5 {
        let (x, y) = (&X[..n], &Y[..n]);
        let (_, g) = coupled_with_selected_sums_grad(x, y);
        let mut p = x.to_vec();
        p.extend(y);
        let want = numeric_gradient(|p| coupled_with_selected_sums(&p[..n], &p[n..]), &p);
        let mut got = g.x.clone();
        got.extend(&g.y);
        assert_all_close(&got, &want, 1e-6);
    }
    let z = [0.4, -1.1, 0.9];
    for (nx, ny) in [(1, 1), (2, 3), (3, 2), (4, 4)] {
        let (x, y) = (&X[..nx], &Y[..ny]);
        let (_, g) = two_deep_grad(x, y, &z);
        let mut p = [x, y, &z].concat();
        let want = numeric_gradient(|p| two_deep(&p[..nx], &p[nx..nx + ny], &p[nx + ny..]), &p);
        p.clear();
        p.extend(g.x.iter().chain(&g.y).chain(&g.z));
        assert_all_close(&p, &want, 1e-6);
    }
    for n in 1..=4 {
        let (u, v) = (&X[..n], &Y[..n]);
        let (_, g) = counted_while_in_a_product_grad(u, v);
        let want = numeric_gradient(|p| counted_while_in_a_product(u, p), v);
        assert_all_close(&g.v, &want, 1e-6);
    }
}

#[test]
fn at_size_zero_nothing_is_read_and_nothing_panics() {
    let (value, g) = product_of_selected_sums_grad(&[], &[]);
    assert_eq!((value, g.x, g.y), (1.0, vec![], vec![]));
    let (_, g) = product_of_selected_sums_k2_grad(&[], &[]);
    assert!(g.x.is_empty() && g.y.is_empty());
    let (_, _, h) = product_of_selected_sums_h_hessian(&[], &[]);
    assert!(h.is_empty());
    let (value, g) = coupled_with_selected_sums_grad(&[], &[]);
    assert_eq!((value, g.x, g.y), (1.0, vec![], vec![]));
    // `y` empty, `x` not: `0..y.len() - 1` is evaluated by the function and panics there;
    // `x` empty: it is not, and neither is it by the gradient.
    let (value, g) = two_deep_grad(&[], &[], &[0.5]);
    assert_eq!((value, g.x, g.y, g.z), (1.0, vec![], vec![], vec![0.0]));
    let (value, g) = counted_while_in_a_product_grad(&[], &[]);
    assert_eq!((value, g.u, g.v), (1.0, vec![], vec![]));
}

#[test]
fn the_hessian_matches_differences_of_the_gradient() {
    for n in 2..=4 {
        let mut p = X[..n].to_vec();
        p.extend(&Y[..n]);
        let (_, _, h) = product_of_selected_sums_h_hessian(&p[..n], &p[n..]);
        let want = hessian_by_differences(
            |t| {
                let (_, g) = product_of_selected_sums_h_grad(&t[..n], &t[n..]);
                [g.x, g.y].concat()
            },
            &p,
        );
        close(&h, &want, 1e-5, "product_of_selected_sums_h");
    }
}
