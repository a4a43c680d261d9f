//! `break` at the first iteration where a condition holds (`if c { …; break; }` in a `for`,
//! `while` or iterator loop): checked against the same function with the loop's end computed
//! by hand (the index-loop form, to 1e-12) and against central differences.

#![allow(clippy::needless_range_loop, clippy::cast_lossless)] // the functions as a user writes them (`j as f64` of an `i32` index)

mod common;

use common::{assert_all_close, numeric_gradient};
use num_dual::Dual64;
use symgrad::differentiable;

#[path = "common/forward.rs"]
mod forward;
use forward::forward;

/// Both forms give the same value and gradient, and match central differences.
fn check(
    with_break: impl Fn(&[f64], &[f64]) -> (f64, Vec<f64>),
    by_hand: impl Fn(&[f64], &[f64]) -> (f64, Vec<f64>),
    value: impl Fn(&[f64], &[f64]) -> f64,
    ys: &[Vec<f64>],
) {
    for y in ys {
        let x: Vec<f64> = (0..y.len()).map(|i| 0.4 + 0.3 * i as f64).collect();
        let (v, g) = with_break(&x, y);
        let (v_ref, g_ref) = by_hand(&x, y);
        assert!(
            (v - value(&x, y)).abs() <= 1e-12 * (1.0 + v.abs()),
            "value at {y:?}"
        );
        assert!(
            (v - v_ref).abs() <= 1e-12 * (1.0 + v_ref.abs()),
            "{v} vs {v_ref} at {y:?}"
        );
        assert_all_close(&g, &g_ref, 1e-12);
        assert_all_close(&g, &numeric_gradient(|p| value(p, y), &x), 1e-6);
    }
}

/// Data that ends the loop at the start, in the middle, at the last element, and never.
fn data() -> Vec<Vec<f64>> {
    vec![
        vec![],
        vec![-1.0, 2.0, 3.0],
        vec![1.0, 2.0, -3.0, 4.0, 5.0],
        vec![1.0, 2.0, 3.0, -4.0],
        vec![1.0, 2.0, 3.0, 4.0],
    ]
}

/// The sum up to the first negative `y[i]`, that one excluded.
#[differentiable(wrt(x))]
fn until_negative(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] < 0.0 {
            break;
        }
        s += x[i].sin() * y[i];
    }
    s
}

/// The first negative `y[i]` computed by hand.
#[differentiable(wrt(x))]
fn until_negative_by_hand(x: &[f64], y: &[f64], stop: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..stop {
        s += x[i].sin() * y[i];
    }
    s
}

fn first_negative(y: &[f64]) -> usize {
    y.iter().position(|v| *v < 0.0).unwrap_or(y.len())
}

#[test]
fn break_before_the_work() {
    check(
        |x, y| {
            let (v, g) = until_negative_grad(x, y);
            (v, g.x)
        },
        |x, y| {
            let (v, g) = until_negative_by_hand_grad(x, y, first_negative(y));
            (v, g.x)
        },
        until_negative,
        &data(),
    );
}

/// Work before the `break` runs in the iteration that breaks, and so does the branch's own;
/// a product (a recurrence) and sums.
#[differentiable(wrt(x))]
fn work_then_break(x: &[f64], y: &[f64]) -> f64 {
    let mut p = 1.0;
    let mut s = 0.0;
    for i in 0..x.len() {
        let yi = y[i];
        p *= 1.0 + 0.1 * x[i];
        s += x[i].cos();
        if yi < 0.0 {
            s += x[i].exp();
            break;
        }
        s += yi * x[i] * x[i];
    }
    s * p
}

#[differentiable(wrt(x))]
fn work_then_break_by_hand(x: &[f64], y: &[f64], stop: usize) -> f64 {
    let mut p = 1.0;
    let mut s = 0.0;
    for i in 0..stop {
        p *= 1.0 + 0.1 * x[i];
        s += x[i].cos();
        if y[i] < 0.0 {
            s += x[i].exp();
        } else {
            s += y[i] * x[i] * x[i];
        }
    }
    s * p
}

#[test]
fn break_after_work_in_the_same_iteration() {
    check(
        |x, y| {
            let (v, g) = work_then_break_grad(x, y);
            (v, g.x)
        },
        |x, y| {
            let stop = (first_negative(y) + 1).min(y.len());
            let (v, g) = work_then_break_by_hand_grad(x, y, stop);
            (v, g.x)
        },
        work_then_break,
        &data(),
    );
}

/// A condition on the differentiated values themselves (a threshold on the running input):
/// piecewise, the gradient of the iterations that ran.
#[differentiable]
fn until_large(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        if xi * y[i].abs() > 1.5 {
            break;
        }
        s += xi * xi * y[i];
    }
    s
}

#[differentiable]
fn until_large_by_hand(x: &[f64], y: &[f64], stop: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..stop {
        s += x[i] * x[i] * y[i];
    }
    s
}

#[test]
fn break_on_the_differentiated_values() {
    check(
        |x, y| {
            let (v, g) = until_large_grad(x, y);
            (v, g.x)
        },
        |x, y| {
            let stop = (0..x.len())
                .position(|i| x[i] * y[i].abs() > 1.5)
                .unwrap_or(x.len());
            let (v, g) = until_large_by_hand_grad(x, y, stop);
            (v, g.x)
        },
        until_large,
        &data(),
    );
}

/// In a `while` loop on a counter, and nested in an outer loop whose rows end at their first
/// negative entry.
#[differentiable(wrt(x))]
fn rows_until_negative(x: &[f64], y: &[f64]) -> f64 {
    let d = 2;
    let mut total = 0.0;
    for r in 0..y.len() / d {
        let mut j = 0;
        let mut row = 0.0;
        while j < d {
            if y[r * d + j] < 0.0 {
                break;
            }
            row += x[r * d + j] * y[r * d + j];
            j += 1;
        }
        total += row.tanh();
    }
    total
}

#[differentiable(wrt(x))]
fn rows_by_hand(x: &[f64], y: &[f64], keep: &[f64]) -> f64 {
    let d = 2;
    let mut total = 0.0;
    for r in 0..y.len() / d {
        let mut row = 0.0;
        for j in 0..d {
            row += keep[r * d + j] * x[r * d + j] * y[r * d + j];
        }
        total += row.tanh();
    }
    total
}

#[test]
fn break_in_a_while_loop_nested_in_a_for_loop() {
    let ys = vec![
        vec![1.0, 2.0, -1.0, 3.0, 2.0, -5.0],
        vec![-1.0, 2.0, 1.0, 3.0],
        vec![1.0, 2.0, 3.0, 4.0, 0.5, 0.25],
    ];
    check(
        |x, y| {
            let (v, g) = rows_until_negative_grad(x, y);
            (v, g.x)
        },
        |x, y| {
            // 1 before the row's first negative entry, 0 from it on.
            let mut keep = vec![0.0; y.len()];
            for r in 0..y.len() / 2 {
                for j in 0..2 {
                    if y[r * 2 + j] < 0.0 {
                        break;
                    }
                    keep[r * 2 + j] = 1.0;
                }
            }
            let (v, g) = rows_by_hand_grad(x, y, &keep);
            (v, g.x)
        },
        rows_until_negative,
        &ys,
    );
}

// ---- Found by the fuzzer's control-flow grammar.

/// A counter stepped before the exit is read there after its step (`k` is 1, then 2: the loop
/// ends after its second iteration).
#[differentiable]
fn counter_stepped_before_the_exit(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for i in 0..x.len() {
        k += 1;
        s += x[i] * x[i];
        if k >= 2 {
            break;
        }
    }
    s
}

/// The same counting down, the exit reading `x[k]` at the stepped `k` (from the end: 0.8 is
/// kept, then −0.3 ends the loop).
#[differentiable]
fn counter_stepped_down_before_the_exit(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = x.len();
    for _i in 0..x.len() {
        k -= 1;
        if x[k] < 0.0 {
            break;
        }
        s += x[k] * x[k];
    }
    s
}

#[test]
fn a_break_sees_a_counter_after_its_step() {
    let x = [0.5, -0.3, 0.8];
    let (v, g) = counter_stepped_before_the_exit_grad(&x);
    assert!((counter_stepped_before_the_exit(&x) - 0.34).abs() < 1e-12);
    assert!((v - 0.34).abs() < 1e-12, "value {v}");
    assert_all_close(&g.x, &[1.0, -0.6, 0.0], 1e-12);
    let (v, g) = counter_stepped_down_before_the_exit_grad(&x);
    assert!((v - 0.64).abs() < 1e-12, "value {v}");
    assert_all_close(&g.x, &[0.0, 0.0, 1.6], 1e-12);
    let x = [0.5, 0.3, 0.8, -0.1];
    for (f, g) in [
        (
            counter_stepped_before_the_exit as fn(&[f64]) -> f64,
            counter_stepped_before_the_exit_grad(&x).1.x,
        ),
        (
            counter_stepped_down_before_the_exit,
            counter_stepped_down_before_the_exit_grad(&x).1.x,
        ),
    ] {
        assert_all_close(&g, &numeric_gradient(f, &x), 1e-6);
    }
}

/// A `let` before a counter's step reads it unstepped, the exit after the step reads it
/// stepped (fuzzer, seed 33 program 942: `x[2]` read out of bounds).
#[differentiable]
fn let_before_step_exit_after(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < x.len() {
        let t = x[k];
        k += 1;
        s += t * t;
        if t > 1.0 && k >= 1 {
            break;
        }
    }
    s
}

#[test]
fn lets_before_a_step_read_the_counter_unstepped() {
    for x in [vec![0.5, 2.0, 0.3], vec![0.5, -0.3], vec![3.0]] {
        let (v, g) = let_before_step_exit_after_grad(&x);
        let stop = x.iter().position(|t| *t > 1.0).map_or(x.len(), |p| p + 1);
        let hand: Vec<f64> = (0..x.len())
            .map(|i| if i < stop { 2.0 * x[i] } else { 0.0 })
            .collect();
        assert!((v - let_before_step_exit_after(&x)).abs() < 1e-12);
        assert_all_close(&g.x, &hand, 1e-12);
    }
}

// ---- A `break` in a loop nested in another, on a float from outside the loops: a parameter,
// or a value computed before them (the outer loop does not change it).

#[differentiable]
fn inner_break_on_a_parameter(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for j in 0..2 {
        for k in 0..x.len() {
            if a * (k as f64) > 1.0 {
                break;
            }
            s += (j as f64 + 1.0) * x[k] * x[k];
        }
    }
    s
}

#[differentiable]
fn inner_break_on_an_earlier_value(x: &[f64], a: f64) -> f64 {
    let t = a * x[0].exp();
    let mut s = 0.0;
    for j in 0..3 {
        let mut q = 0.0;
        for k in 0..x.len() {
            if t * (k as f64) > 1.0 {
                break;
            }
            q += x[k] * (j as f64);
        }
        s += q.sin();
    }
    s + t
}

#[test]
fn an_inner_break_on_a_float_from_outside_the_loops() {
    let x = [0.5, -1.25, 0.75, 2.0, -0.3];
    // f = (1 + 2)·Σ_{k < stop} x_k², stop the first k with a·k > 1: ∂x_k = 6x_k there; ∂a = 0.
    for (a, stop) in [(0.6, 2), (0.1, 5), (1.5, 1)] {
        let (value, g) = inner_break_on_a_parameter_grad(&x, a);
        assert!((value - inner_break_on_a_parameter(&x, a)).abs() < 1e-12);
        let hand: Vec<f64> = (0..5)
            .map(|k| if k < stop { 6.0 * x[k] } else { 0.0 })
            .collect();
        assert_all_close(&g.x, &hand, 1e-12);
        assert_eq!(g.a, 0.0);
        let numeric = numeric_gradient(|x| inner_break_on_a_parameter(x, a), &x);
        assert_all_close(&g.x, &numeric, 1e-6);
    }
    // t = a·e^{x₀}, stop the first k with t·k > 1; f = Σ_j sin(j·S) + t with S = Σ_{k < stop} x_k:
    // ∂x_k = Σ_j j·cos(j·S) for 0 < k < stop (plus t at k = 0), ∂a = e^{x₀}.
    for (a, stop) in [(0.35, 2), (0.05, 5)] {
        let t = a * x[0].exp();
        let sum: f64 = x[..stop].iter().sum();
        let inner: f64 = (0..3)
            .map(|j| f64::from(j) * (f64::from(j) * sum).cos())
            .sum();
        let mut hand: Vec<f64> = (0..5).map(|k| if k < stop { inner } else { 0.0 }).collect();
        hand[0] += t;
        let (value, g) = inner_break_on_an_earlier_value_grad(&x, a);
        assert!((value - inner_break_on_an_earlier_value(&x, a)).abs() < 1e-12);
        assert_all_close(&g.x, &hand, 1e-12);
        assert!((g.a - x[0].exp()).abs() < 1e-12);
        let mut at = x.to_vec();
        at.push(a);
        let numeric = numeric_gradient(|p| inner_break_on_an_earlier_value(&p[..5], p[5]), &at);
        let mut got = g.x.clone();
        got.push(g.a);
        assert_all_close(&got, &numeric, 1e-6);
    }
}

/// A `break` on the element the iteration is about to write (its value from before the loop:
/// no earlier iteration wrote it), then on the value written, computed from the data: both
/// taken, the loop ending where the function's does. (A condition on an element an earlier
/// iteration wrote is refused: `tests/ui/arrays/break_reads_earlier_element.rs`.)
#[differentiable]
fn stop_on_array_elements(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut z = x.to_vec();
    for i in 0..n {
        if z[i] > 1.2 {
            break;
        }
        z[i] = z[i] * w + 0.1;
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let e = x[i] * w;
        y[i] = e;
        if e > 0.9 {
            break;
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i] + y[i];
    }
    s
}

fn stop_twin(x: &[Dual64], w: Dual64) -> Dual64 {
    let n = x.len();
    let mut z = x.to_vec();
    for i in 0..n {
        if z[i].re > 1.2 {
            break;
        }
        z[i] = z[i] * w + 0.1;
    }
    let mut y = vec![Dual64::from_re(0.0); n];
    for i in 0..n {
        let e = x[i] * w;
        y[i] = e;
        if e.re > 0.9 {
            break;
        }
    }
    (0..n).fold(Dual64::from_re(0.0), |s, i| s + z[i] * z[i] + y[i])
}

#[test]
fn a_break_on_elements_no_earlier_iteration_wrote_matches_forward_mode() {
    let x = [0.3, 0.8, 1.5, 0.2, 1.1, 0.4];
    for n in [0, 1, 3, 6] {
        let x = &x[..n];
        let w = 1.3;
        let (value, g) = stop_on_array_elements_grad(x, w);
        assert_all_close(&[value], &[stop_on_array_elements(x, w)], 1e-15);
        let all: Vec<f64> = x.iter().copied().chain([w]).collect();
        let (want_value, want) = forward(|p| stop_twin(&p[..n], p[n]), &all);
        assert_all_close(&[value], &[want_value], 1e-12);
        let got: Vec<f64> = g.x.iter().copied().chain([g.w]).collect();
        assert_all_close(&got, &want, 1e-12);
        let numeric = numeric_gradient(|p| stop_on_array_elements(&p[..n], p[n]), &all);
        assert_all_close(&got, &numeric, 1e-6);
    }
}
