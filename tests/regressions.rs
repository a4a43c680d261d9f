//! Wrong gradients and expansions that did not compile, found on the *emitted* code (by users
//! trying real objectives, and by the differential fuzzer in `fuzz/`). Each function is kept as
//! it was found, and checked against a gradient written by hand (exact up to rounding) and
//! central differences, at points where the bug showed.
//!
//! The classes, with the dependency check that now prevents each (see `macros/src/emit.rs`):
//! - a loop over `j` nested in an iteration of another loop over `j` (the reverse pass sums a
//!   row's adjoint over the rows inside the loop over the columns) read what the outer iteration
//!   had computed from its own `j` (`visible_in_loop`);
//! - a loop read a value its region binds only after the loop (`region_parts`: a statement sees
//!   only what was bound before it);
//! - a recurrence nested in an outer loop and starting from the outer loop's carried value was
//!   taken as invariant in the outer loop (`Op::Carried` carries its loop's mask);
//! - an output that is itself an element (`y[0]`) got no scatter (`diff`: the seed goes through
//!   `contribute`);
//! - a loop of scatters that does not change with an outer loop was hoisted out of it, so it ran
//!   once instead of once per outer iteration (`Graph::is_effect`: a `Sum` of effects is one);
//! - a recurrence nested in another recurrence's body, not varying with the outer loop, had its
//!   reverse sweep run once instead of once per outer iteration, outside the outer sweep
//!   (`diff`: a nested sweep's frame has the enclosing frame's loops);
//! - the same effect joined twice (two loops the simplifier merged into one term under one
//!   condition) ran once, since a node is one statement (`diff::join_effect` scales the second);
//! - an expression written inline counted as available before the sum it reads had run, so a
//!   loop printed it where that sum was not yet bound (`region_parts`);
//! - a loop under `if` scattered its gradient in a loop of guarded scatters whose bounds ran
//!   without the guard: `if n >= 2 { for i in 1..n - 1 { … } }` computed `n - 1` at `n = 0` and
//!   panicked where the function does not (`simplify`: `sum-of-invariantly-guarded` puts the
//!   whole loop under the condition);
//! - a loop the function runs only under a condition (after an early `return` not taken, under
//!   an `if`, after a `continue` or `break`, in some iterations of an outer loop) ran in the
//!   gradient whatever the condition: a recurrence's forward loop ran for its reverse sweep,
//!   and a loop written in another's body was hoisted out of it or factored out of its sum, so
//!   `_grad` panicked where the function does not (`schedule`: `Step::Guarded` runs a sweep
//!   only where its seed is not zero; `Graph::loop_nest` keeps a loop in the loop the user
//!   wrote it in);
//! - a local array added into element by element in a loop nested in a loop around it, and read
//!   there besides (`h[j] += w[j] * h[j]`, or `loss += acc[0]` after the additions), was taken
//!   as an accumulation whose reads saw the array as it was before the outer loop: the value and
//!   the gradient were wrong (`lower::carried`: such an array is carried across the iterations);
//! - a function with `hessian` passing a local array and a differentiated slice to the same call
//!   (`weigh(&z, y)`) emitted a hidden `__partials2` (what a caller's Hessian goes through) that
//!   wrote the slice's gradient into a vector it does not have (`__grad0`): nothing compiled
//!   (`companion`: `__partials2`, as `__partials`, gives a call's product `Discard` there);
//! - a local array built from a float that `wrt` leaves out, passed beside a differentiated
//!   slice (`dot(&z, y)` with `z[i] = 0.8·a` under `wrt(y)`): the call's one product for both
//!   was written with the array's adjoint, which `_grad` and `_vjp` do not compute there, so the
//!   slice's gradient through the call was lost, a wrong gradient (`plan::own_effects`: the
//!   slices' products from a sweep over the differentiated floats alone); and a vector-valued
//!   function's hidden `__vjp`, which computes no float's partial, lost it in every such call
//!   (its products from a sweep over no float);
//! - the same one product for a call given a local array and a differentiated slice ran where
//!   the array's adjoint is computed, which is only under the condition its elements read a
//!   differentiated value by (`z[i] = (if c { z[i] } else { y[0] }).tanh()`): where it fails, the
//!   slice's gradient through the call was lost (`diff::gradient_seeded` no longer merges the
//!   two products);
//! - and one that took the macro longer than 15 minutes (the fuzzer's "too slow to build"): a
//!   vector-valued function with a recurrence in a loop nest whose inner loop has a `continue`
//!   (many selects in each region); each round of hoisting what both branches of a select read
//!   looked at every select of the region again (`Schedule::region_nodes` now looks only at
//!   those of what the last round hoisted, which gives the same regions: checked on every
//!   test's expansion). Now 7 seconds.
#![allow(
    clippy::needless_range_loop,
    clippy::range_plus_one,
    clippy::if_not_else,
    clippy::neg_cmp_op_on_partial_ord
)] // the functions as found

use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};

/// Checks `got` against the hand-written gradient (1e-12) and central differences (1e-6).
fn check(got: &[f64], hand: &[f64], f: impl Fn(&[f64]) -> f64, at: &[f64]) {
    assert_all_close(got, hand, 1e-12);
    assert_all_close(got, &numeric_gradient(f, at), 1e-6);
}

// ---- 1. A loop over the same index nested in itself after the reverse pass sums over rows.

#[differentiable(wrt(w))]
fn reduced(n: usize, d: usize, w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for ix in 0..n {
        let mut sq = 0.0;
        for j in 0..d {
            sq += w[j].exp() * x[ix * d + j];
        }
        s += sq.exp();
    }
    s
}

#[test]
fn an_element_function_in_an_inner_sum_used_nonlinearly_outside() {
    let x = [1.5, 0.5, -0.3, 0.8, 0.2, 0.1];
    for (n, d, w) in [
        (1, 2, vec![0.7f64, -0.2]),
        (3, 2, vec![0.7, -0.2]),
        (2, 3, vec![0.1, 0.4, -0.6]),
    ] {
        let mut hand = vec![0.0; d];
        for i in 0..n {
            let sq: f64 = (0..d).map(|j| w[j].exp() * x[i * d + j]).sum();
            for j in 0..d {
                hand[j] += sq.exp() * w[j].exp() * x[i * d + j];
            }
        }
        let (_, g) = reduced_grad(n, d, &w, &x);
        check(&g.w, &hand, |w| reduced(n, d, w, &x), &w);
    }
}

#[differentiable(wrt(v))]
fn squared_weights(n: usize, v: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let mut p = 0.0;
        for j in 0..2 {
            p += v[j] * v[j] * x[i * 2 + j];
        }
        s += p.ln();
    }
    s
}

#[test]
fn a_squared_element_in_an_inner_sum_under_ln() {
    let (v, x) = ([0.7f64, -1.2], [1.5, 0.5, 0.3, 0.8, 0.2, 0.1]);
    let mut hand = [0.0; 2];
    for i in 0..3 {
        let p: f64 = (0..2).map(|j| v[j] * v[j] * x[i * 2 + j]).sum();
        for j in 0..2 {
            hand[j] += 2.0 * v[j] * x[i * 2 + j] / p;
        }
    }
    let (_, g) = squared_weights_grad(3, &v, &x);
    check(&g.v, &hand, |v| squared_weights(3, v, &x), &v);
}

/// A one-dimensional mixture's negative log-likelihood, as a user writes it.
#[differentiable(wrt(v))]
fn mixture_nll(v: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let mut p = 0.0;
        for j in 0..v.len() {
            p += v[j].exp() * (x[i] * j as f64).exp();
        }
        s -= p.ln();
    }
    s
}

#[test]
fn a_mixture_negative_log_likelihood_over_several_points() {
    let (v, x) = ([0.3f64, -0.2, 0.1], [1.5, 0.5, -0.3, 0.8]);
    let mut hand = [0.0; 3];
    for xi in x {
        let p: f64 = (0..3).map(|j| v[j].exp() * (xi * j as f64).exp()).sum();
        for j in 0..3 {
            hand[j] -= v[j].exp() * (xi * j as f64).exp() / p;
        }
    }
    let (_, g) = mixture_nll_grad(&v, &x);
    check(&g.v, &hand, |v| mixture_nll(v, &x), &v);
}

#[differentiable(wrt(w))]
fn sine_weights(n: usize, d: usize, w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let mut q = 0.0;
        for j in 0..d {
            q += w[j].sin() * x[i * d + j];
        }
        s += q * q;
    }
    s
}

#[test]
fn an_inner_sum_of_sines_squared() {
    let (w, x) = ([0.7f64, -0.2], [1.5, 0.5, -0.3, 0.8, 0.2, 0.1]);
    let mut hand = [0.0; 2];
    for i in 0..3 {
        let q: f64 = (0..2).map(|j| w[j].sin() * x[i * 2 + j]).sum();
        for j in 0..2 {
            hand[j] += 2.0 * q * w[j].cos() * x[i * 2 + j];
        }
    }
    let (_, g) = sine_weights_grad(3, 2, &w, &x);
    check(&g.w, &hand, |w| sine_weights(3, 2, w, &x), &w);
}

#[differentiable(wrt(u))]
fn masked_triangle(n: usize, u: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let mut q = 0.0;
        for j in 0..n {
            if j < i {
                q += u[j].exp();
            }
        }
        s += q * q;
    }
    s
}

#[test]
fn a_triangle_written_as_a_condition_on_the_indices() {
    let u = [0.3f64, -0.5, 0.2, 0.1];
    let mut hand = [0.0; 4];
    for i in 0..4 {
        let q: f64 = (0..i).map(|j| u[j].exp()).sum();
        for j in 0..i {
            hand[j] += 2.0 * q * u[j].exp();
        }
    }
    let (_, g) = masked_triangle_grad(4, &u);
    check(&g.u, &hand, |u| masked_triangle(4, u), &u);
}

#[differentiable(wrt(a))]
fn scalar_in_inner_sum(d: usize, n: usize, a: f64, y: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..d {
        let mut q = 0.0;
        for j in 0..n {
            q += x[j * d + i] * (a * y[j]).sin();
        }
        s += q.tanh();
    }
    s
}

#[test]
fn a_scalar_inside_an_inner_sum_under_tanh() {
    let (y, x) = ([0.4, 0.9, -0.3], [1.5, 0.5, -0.3, 0.8, 0.2, 0.1]);
    for (d, a) in [(1, 0.8f64), (2, 0.8), (2, -1.1)] {
        let mut hand = 0.0;
        for i in 0..d {
            let q: f64 = (0..3).map(|j| x[j * d + i] * (a * y[j]).sin()).sum();
            let dq: f64 = (0..3).map(|j| x[j * d + i] * y[j] * (a * y[j]).cos()).sum();
            hand += (1.0 - q.tanh().powi(2)) * dq;
        }
        let (_, g) = scalar_in_inner_sum_grad(d, 3, a, &y, &x);
        check(
            &[g.a],
            &[hand],
            |a| scalar_in_inner_sum(d, 3, a[0], &y, &x),
            &[a],
        );
    }
}

// ---- 2. A loop reading what its region binds after it (did not compile).

#[differentiable]
fn two_sums_times_an_element(a: &[f64], w: &[f64]) -> f64 {
    let mut p = 0.0;
    for j in 0..w.len() {
        p += w[j];
    }
    let mut q = 0.0;
    for j in 0..w.len() {
        q += w[j] * w[j];
    }
    a[0] * p * q
}

#[test]
fn a_fused_scatter_reads_a_product_bound_after_its_loop() {
    let (a, w) = ([1.3, 0.4], [0.7, -0.2, 0.5]);
    let p: f64 = w.iter().sum();
    let q: f64 = w.iter().map(|v| v * v).sum();
    let hand_w: Vec<f64> = w.iter().map(|wj| a[0] * (q + p * 2.0 * wj)).collect();
    let (value, g) = two_sums_times_an_element_grad(&a, &w);
    assert_eq!(value, two_sums_times_an_element(&a, &w));
    check(&g.w, &hand_w, |w| two_sums_times_an_element(&a, w), &w);
    check(
        &g.a,
        &[p * q, 0.0],
        |a| two_sums_times_an_element(a, &w),
        &a,
    );
}

#[differentiable]
fn sum_times_first(y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += y[i];
    }
    s * y[0]
}

#[test]
fn a_sum_times_an_element_it_also_sums() {
    let y = [0.4, 0.9, -0.3];
    let s: f64 = y.iter().sum();
    let (_, g) = sum_times_first_grad(&y);
    check(&g.y, &[s + y[0], y[0], y[0]], sum_times_first, &y);
}

#[differentiable(wrt(a))]
fn triangle_count(a: f64, u: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..u.len() {
        for _j in 0..i {
            s += a;
        }
    }
    a * ((1.0 + a * a).recip() * s)
}

#[test]
fn a_triangular_sum_of_a_scalar_times_a_rational_function() {
    // s = a·m with m = n(n − 1)/2, so f = m·a²/(1 + a²) and f' = 2·m·a/(1 + a²)².
    let (a, u): (f64, _) = (0.8, [0.4, 0.9, -0.3]);
    let m = 3.0;
    let hand = 2.0 * m * a / (1.0 + a * a).powi(2);
    let (_, g) = triangle_count_grad(a, &u);
    check(&[g.a], &[hand], |a| triangle_count(a[0], &u), &[a]);
}

// ---- 3. A recurrence nested in a loop, starting from that loop's carried value.

#[differentiable(wrt(x))]
fn nested_recurrence(n: usize, x: &[f64]) -> f64 {
    let mut h = 0.0;
    for _i in 0..n {
        for j in 0..n {
            h = 0.9 * h + x[j];
        }
    }
    h
}

#[differentiable(wrt(x))]
fn nested_recurrence_with_a_let(n: usize, x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..n {
        let k = i + 1;
        for j in 0..n {
            h = 0.9 * h + x[j] * k as f64;
        }
    }
    h
}

#[test]
fn a_recurrence_over_an_inner_loop_continues_across_the_outer_one() {
    // h after all n·n steps: x[j] added at step t = i·n + j is scaled by 0.9^(n·n − 1 − t).
    let x = [0.4, 0.9, -0.3];
    let n = 3;
    let mut hand = [0.0; 3];
    let mut hand_k = [0.0; 3];
    for i in 0..n {
        for j in 0..n {
            let t = i * n + j;
            let scale = 0.9f64.powi(i32::try_from(n * n - 1 - t).unwrap());
            hand[j] += scale;
            hand_k[j] += scale * (i + 1) as f64;
        }
    }
    check(
        &nested_recurrence_grad(n, &x).1.x,
        &hand,
        |x| nested_recurrence(n, x),
        &x,
    );
    let (_, g) = nested_recurrence_with_a_let_grad(n, &x);
    check(&g.x, &hand_k, |x| nested_recurrence_with_a_let(n, x), &x);
}

// ---- 4. An output that is an element.

#[differentiable]
fn first(y: &[f64]) -> f64 {
    y[0]
}

#[test]
fn the_value_is_one_element_of_a_slice() {
    let y = [0.4, 0.9];
    let (value, g) = first_grad(&y);
    assert_eq!(value, 0.4);
    assert_eq!(g.y, vec![1.0, 0.0]);
}

// ---- 5. Found by the fuzzer.

#[differentiable]
fn sum_of_sums(n: usize, u: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..x.len() {
            s += x[j] + u[i];
        }
    }
    s.sin() + s
}

#[test]
fn an_element_read_in_every_iteration_of_an_outer_loop_is_scattered_in_each() {
    let (u, x) = ([0.3, -0.5, 0.2], [1.5, 0.5, -0.3, 0.8]);
    let s: f64 = (0..3)
        .map(|i| x.iter().map(|xj| xj + u[i]).sum::<f64>())
        .sum();
    let (_, g) = sum_of_sums_grad(3, &u, &x);
    let outer = 1.0 + s.cos();
    check(&g.x, &[3.0 * outer; 4], |x| sum_of_sums(3, &u, x), &x);
    check(&g.u, &[4.0 * outer; 3], |u| sum_of_sums(3, u, &x), &u);
}

#[differentiable]
fn max_of_powers(d: usize, y: &[f64]) -> f64 {
    let mut m = 0.0f64;
    for _i in 0..d {
        for j in 0..y.len() {
            let mut p = 1.0;
            for _k in 0..d {
                p *= y[j];
            }
            m = m.max(p);
        }
    }
    m
}

#[differentiable]
fn decayed_powers(d: usize, y: &[f64]) -> f64 {
    let mut m = 0.0;
    for _i in 0..d {
        for j in 0..y.len() {
            let mut p = 1.0;
            for _k in 0..d {
                p *= y[j];
            }
            m = 0.5 * m + p;
        }
    }
    m
}

#[test]
fn a_recurrence_in_the_body_of_a_recurrence_in_an_outer_loop() {
    let y = [0.3f64, -0.5, 0.2, 0.7];
    // max over j of y[j]² (d = 2, the outer loop repeats the same maximum): 2·y[3] at j = 3.
    let (value, g) = max_of_powers_grad(2, &y);
    assert_eq!(value, 1.0 * y[3] * y[3]);
    check(&g.y, &[0.0, 0.0, 0.0, 1.4], |y| max_of_powers(2, y), &y);
    // m after the 2·4 steps: step t = i·4 + j adds y[j]², scaled by 0.5^(7 − t).
    let mut hand = [0.0; 4];
    for i in 0..2 {
        for j in 0..4 {
            hand[j] += 0.5f64.powi(7 - i32::try_from(i * 4 + j).unwrap()) * 2.0 * y[j];
        }
    }
    let (_, g) = decayed_powers_grad(2, &y);
    check(&g.y, &hand, |y| decayed_powers(2, y), &y);
}

#[differentiable]
fn two_loops_merged(n: usize, w: &[f64]) -> f64 {
    let mut s = 0.0;
    for _j in 0..n - 1 {
        s -= w[0];
    }
    for _j in 0..n - 1 {
        if w[0] < 1.0 {
            s += -w[0] - w[0];
        }
    }
    s
}

#[test]
fn the_same_contribution_twice_under_one_condition_counts_twice() {
    // (n − 1)·(−w − 2w) while w < 1.
    let w = [-1.41, 0.73];
    let (_, g) = two_loops_merged_grad(4, &w);
    check(&g.w, &[-9.0, 0.0], |w| two_loops_merged(4, w), &w);
    let w = [1.5, 0.73];
    let (_, g) = two_loops_merged_grad(4, &w);
    check(&g.w, &[-3.0, 0.0], |w| two_loops_merged(4, w), &w);
}

#[differentiable]
fn power_sums_times_a_sum(n: usize, y: &[f64], z: &[f64]) -> f64 {
    let mut h = 0.0;
    for _i in 0..y.len() {
        h = -0.22 * h + z[1];
    }
    let mut s4 = 0.0;
    for i in 0..n {
        let mut p = 1.0;
        for _k in 0..i + 1 {
            p *= h;
        }
        s4 += p;
    }
    let mut s8 = 0.0;
    for i in 0..n {
        s8 += z[i + 1];
    }
    s8 * s4
}

#[test]
fn a_reverse_sweep_seeded_by_a_sum_computed_after_its_loop() {
    // h = z₁·Σₖ(−0.22)ᵏ over len(y) steps, s4 = Σᵢ h^(i+1), s8 = Σᵢ z[i + 1].
    let (y, z) = ([0.3, -0.5, 0.2], [0.4f64, 0.9, -0.3, 0.5]);
    let c: f64 = (0..3).map(|k| (-0.22f64).powi(k)).sum();
    let h = z[1] * c;
    let s4: f64 = (1..=3).map(|k| h.powi(k)).sum();
    let ds4: f64 = (1..=3).map(|k| f64::from(k) * h.powi(k - 1)).sum();
    let s8: f64 = z[1..].iter().sum();
    let hand = [0.0, s4 + s8 * ds4 * c, s4, s4];
    let (_, g) = power_sums_times_a_sum_grad(3, &y, &z);
    check(&g.z, &hand, |z| power_sums_times_a_sum(3, &y, z), &z);
    // Through `__vjp`, where the sweep's seed is `seed · s8`.
    let (_, g) = calls_the_power_sums(3, &y, &z);
    check(
        &g.z,
        &hand.map(|v| 2.0 * v),
        |z| 2.0 * power_sums_times_a_sum(3, &y, z),
        &z,
    );
}

#[differentiable(wrt(z))]
fn twice_the_power_sums(n: usize, y: &[f64], z: &[f64]) -> f64 {
    2.0 * power_sums_times_a_sum(n, y, z)
}

fn calls_the_power_sums(n: usize, y: &[f64], z: &[f64]) -> (f64, TwiceThePowerSumsGrad) {
    twice_the_power_sums_grad(n, y, z)
}

#[differentiable]
fn interior_cubes(x: &[f64]) -> f64 {
    let n = x.len();
    let mut inner = 0.0;
    if n >= 2 {
        for i in 1..n - 1 {
            inner += x[i] * x[i] * x[i];
        }
    }
    inner + 0.5 * n as f64
}

#[test]
fn a_loop_under_a_condition_runs_its_bounds_only_under_it() {
    for n in 0..6 {
        let x: Vec<f64> = (0..n).map(|i| 0.5 + i as f64).collect();
        let (v, g) = interior_cubes_grad(&x); // panicked for n < 2
        assert_eq!(v, interior_cubes(&x));
        let hand: Vec<f64> = (0..n)
            .map(|i| {
                if i >= 1 && i + 1 < n {
                    3.0 * x[i] * x[i]
                } else {
                    0.0
                }
            })
            .collect();
        check(&g.x, &hand, interior_cubes, &x);
    }
}

// Seed 9's program 210 (the fuzzer): a running max and a running max under conditions in a
// nested loop. Rewriting value sums under an invariant condition as well as effects made its
// expansion run for minutes; the rule is for effects only.
#[differentiable]
fn nested_running_maxima(u: &[f64], v: &[f64]) -> f64 {
    let mut s1 = 0.0;
    let mut m2 = v[0];
    for i in 0..u.len() - 1 {
        let t3 = 0.22 / (2.0 + u[i].sin()) + u[i].tanh().exp_m1();
        let t4 = -v[0] - -0.6;
        let mut m5 = t3;
        for j in 0..u.len() {
            m2 = m2.max(if ((0.91 + t4) * (0.91 + t4) + 0.5).cbrt() <= 0.46 {
                (0.38 + v[i]).tanh()
            } else {
                (1.0 + v[j] * v[j]).recip()
            });
            if t4 >= 0.26 {
                if (t3 + u[i + 1]).tanh() > m5 {
                    m5 = (t3 + u[i + 1]).tanh();
                }
            } else if (1.0 + (1.46 + u[i + 1]) * (1.46 + u[i + 1])).recip() > m5 {
                m5 = (1.0 + (1.46 + u[i + 1]) * (1.46 + u[i + 1])).recip();
            }
        }
        s1 += m5.mul_add(u[i], u[i]);
    }
    (m2.sin() + m2) * s1
}

#[test]
fn nested_running_maxima_expand_quickly_and_match_central_differences() {
    let u = [0.3, -0.8, 1.1, 0.45];
    let v = [0.2, -0.35, 0.9, 0.05];
    let (value, g) = nested_running_maxima_grad(&u, &v);
    assert!((value - nested_running_maxima(&u, &v)).abs() < 1e-12);
    let mut at = u.to_vec();
    at.extend(v);
    let numeric = numeric_gradient(|p| nested_running_maxima(&p[..4], &p[4..]), &at);
    let mut got = g.u.clone();
    got.extend(&g.v);
    assert_all_close(&got, &numeric, 1e-6);
}

// A conditionally updated local used twice around a constant: the adjoint of `f1` is split by
// the branch, and both occurrences must reach `z[1]` (was 1.69 instead of 4.37 at z = [0.2, 0.7]).
#[differentiable]
fn conditional_update_used_twice(z: &[f64]) -> f64 {
    let mut f1 = z[0];
    if f1 < 1.0 {
        f1 -= z[1];
    }
    (f1 + 1.0 + f1) * f1
}

#[differentiable]
fn conditional_increment_used_twice(z: &[f64]) -> f64 {
    let mut f1 = z[0];
    if f1 < 1.0 {
        f1 += z[1];
    }
    (f1 + 1.0 + f1) * f1
}

#[test]
fn a_conditionally_updated_local_used_twice_around_a_constant() {
    for at in [[0.2, 0.7], [1.5, -0.3], [-0.4, 0.25]] {
        // f = (2 f1 + 1) f1, df/df1 = 4 f1 + 1; f1 = z0 ∓ z1 when z0 < 1.
        let f1 = if at[0] < 1.0 { at[0] - at[1] } else { at[0] };
        let d = 4.0 * f1 + 1.0;
        let hand = if at[0] < 1.0 { [d, -d] } else { [d, 0.0] };
        let (value, g) = conditional_update_used_twice_grad(&at);
        assert!((value - conditional_update_used_twice(&at)).abs() < 1e-12);
        check(&g.z, &hand, conditional_update_used_twice, &at);

        let f1 = if at[0] < 1.0 { at[0] + at[1] } else { at[0] };
        let d = 4.0 * f1 + 1.0;
        let hand = if at[0] < 1.0 { [d, d] } else { [d, 0.0] };
        let (_, g) = conditional_increment_used_twice_grad(&at);
        check(&g.z, &hand, conditional_increment_used_twice, &at);
    }
}

// The sum of a loop-invariant value over an empty range (`x.windows(6)` of two elements): its
// count `hi − lo` must not be computed where `hi < lo` (fuzzer seed 38, program 801: `_grad`
// panicked with "attempt to subtract with overflow").
#[differentiable]
fn invariant_sum_over_empty_windows(x: &[f64]) -> f64 {
    let m = x[x.len() - 1];
    let mut f = x.windows(6).map(|_| m).sum::<f64>();
    if m < 1.0 {
        f = -f;
    }
    f + m
}

#[test]
fn an_invariant_sum_over_an_empty_range_counts_zero() {
    let x = [-1.25, -1.0];
    let (value, g) = invariant_sum_over_empty_windows_grad(&x);
    assert!((value - invariant_sum_over_empty_windows(&x)).abs() < 1e-12);
    check(&g.x, &[0.0, 1.0], invariant_sum_over_empty_windows, &x);
    // Eight elements: three windows, f = −3m (m < 1), value −2m, ∂/∂x₇ = −2.
    let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let (_, g) = invariant_sum_over_empty_windows_grad(&x);
    let mut hand = [0.0; 8];
    hand[7] = -2.0;
    check(&g.x, &hand, invariant_sum_over_empty_windows, &x);
}

// ---- A loop run only under a condition ran in the gradient unconditionally.
//
// Found by the fuzzer (an out-of-bounds read of its own behind an early `return`): the
// gradient computed the recurrence `p` for its reverse sweep even where the `return` was
// taken, and read `x[n - 1 - i]` out of range. The same for a running `max`, a `fold`, a
// `while` loop, a second `return`, a recurrence under `if`, and loops written in the body of
// another loop under a condition, after a `continue` or a `break`.

#[differentiable]
fn product_after_return(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    let mut p = 1.0;
    for i in 0..2 {
        p *= x[n - 1 - i];
    }
    p
}

#[differentiable]
fn max_after_return(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    let mut p = f64::NEG_INFINITY;
    for i in 0..2 {
        p = p.max(x[n - 1 - i]);
    }
    p
}

#[differentiable]
fn while_product_after_return(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    let mut p = 1.0;
    let mut i = 0;
    while i < 2 {
        p *= x[n - 1 - i];
        i += 1;
    }
    p
}

#[differentiable]
fn fold_after_return(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    (0..2).fold(1.0, |acc, i| acc * x[n - 1 - i].cos())
}

#[differentiable]
fn product_after_two_returns(x: &[f64], n: usize) -> f64 {
    if n > x.len() {
        return x[0];
    }
    let mut p = 1.0;
    for i in 0..1 {
        p *= x[n - 1 - i];
    }
    if n < 2 {
        return p;
    }
    let mut q = 1.0;
    for i in 0..2 {
        q *= x[n - 2 - i] + p;
    }
    q
}

#[differentiable]
fn product_under_if(x: &[f64], n: usize) -> f64 {
    let mut p = x[0];
    if n <= x.len() {
        for i in 0..2 {
            p *= x[n - 1 - i];
        }
    }
    p
}

/// The value and gradient at a point where the early exit is taken: `x[0]`, `e₀`.
fn check_exit_taken(value: f64, grad: &[f64], x: &[f64]) {
    assert_eq!(value, x[0]);
    let mut hand = vec![0.0; x.len()];
    hand[0] = 1.0;
    assert_eq!(grad, hand);
}

#[test]
fn a_recurrence_after_a_return_taken_does_not_run() {
    let x = [1.0, 2.0];
    let (value, g) = product_after_return_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = max_after_return_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = while_product_after_return_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = fold_after_return_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    // Taken at the second `return` (n = 1: the second loop would read x[n − 2]).
    let (value, g) = product_after_two_returns_grad(&x, 1);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = product_under_if_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
}

#[test]
fn a_recurrence_after_a_return_not_taken_is_differentiated() {
    let x = [1.5, -2.0, 3.0];
    let n = 3;
    // p = x₂·x₁.
    let (value, g) = product_after_return_grad(&x, n);
    assert_eq!(value, -6.0);
    check(&g.x, &[0.0, 3.0, -2.0], |x| product_after_return(x, n), &x);
    let (_, g) = while_product_after_return_grad(&x, n);
    check(
        &g.x,
        &[0.0, 3.0, -2.0],
        |x| while_product_after_return(x, n),
        &x,
    );
    // max(x₂, x₁) = x₁.
    let (value, g) = max_after_return_grad(&x, n);
    assert_eq!(value, 3.0);
    check(&g.x, &[0.0, 0.0, 1.0], |x| max_after_return(x, n), &x);
    // cos x₂ · cos x₁.
    let (c1, c2, s1, s2) = (x[1].cos(), x[2].cos(), x[1].sin(), x[2].sin());
    let (_, g) = fold_after_return_grad(&x, n);
    check(
        &g.x,
        &[0.0, -c2 * s1, -s2 * c1],
        |x| fold_after_return(x, n),
        &x,
    );
    // x₀·x₂·x₁.
    let (value, g) = product_under_if_grad(&x, n);
    assert_eq!(value, -9.0);
    check(&g.x, &[-6.0, 4.5, -3.0], |x| product_under_if(x, n), &x);
    // p = x₃, q = (x₂ + p)(x₁ + p).
    let x = [0.5, 1.5, -2.0, 3.0];
    let (value, g) = product_after_two_returns_grad(&x, 4);
    assert_eq!(value, 4.5);
    check(
        &g.x,
        &[0.0, 1.0, 4.5, 5.5],
        |x| product_after_two_returns(x, 4),
        &x,
    );
}

#[differentiable]
fn product_after_continue(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() {
        if n > x.len() {
            continue;
        }
        let mut p = 1.0;
        for i in 0..2 {
            p *= x[n - 1 - i];
        }
        s += p * x[k];
    }
    s + x[0]
}

#[differentiable]
fn product_after_break(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() {
        if n > x.len() {
            break;
        }
        let mut p = 1.0;
        for i in 0..2 {
            p *= x[n - 1 - i];
        }
        s += p * x[k];
    }
    s + x[0]
}

#[differentiable]
fn product_under_an_index_condition(x: &[f64], n: usize) -> f64 {
    let mut s = x[0];
    for k in 0..x.len() {
        if k > 100 {
            let mut p = 1.0;
            for i in 0..2 {
                p *= x[n - 1 - i];
            }
            s += p * x[k];
        }
    }
    s
}

#[differentiable]
fn sum_under_an_index_condition(x: &[f64], n: usize) -> f64 {
    let mut s = x[0];
    for k in 0..x.len() {
        if k > 100 {
            let mut p = 0.0;
            for i in 0..2 {
                p += x[n - 1 - i].sin();
            }
            s += p * x[k];
        }
    }
    s
}

#[test]
fn a_loop_in_another_loops_body_runs_only_where_that_body_reaches_it() {
    let x = [1.0, 2.0];
    let (value, g) = product_after_continue_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = product_after_break_grad(&x, 5);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = product_under_an_index_condition_grad(&x, 0);
    check_exit_taken(value, &g.x, &x);
    let (value, g) = sum_under_an_index_condition_grad(&x, 0);
    check_exit_taken(value, &g.x, &x);
}

#[test]
fn a_loop_in_another_loops_body_is_differentiated_where_it_runs() {
    // p = x₂·x₁ = −6, S = Σx = 2.5, f = p·S + x₀: ∂/∂xⱼ = p + [j = 0] + (∂p/∂xⱼ)·S.
    let x = [1.5, -2.0, 3.0];
    let hand = [-5.0, 1.5, -11.0];
    let (value, g) = product_after_continue_grad(&x, 3);
    assert!((value + 13.5).abs() < 1e-12);
    check(&g.x, &hand, |x| product_after_continue(x, 3), &x);
    let (value, g) = product_after_break_grad(&x, 3);
    assert!((value + 13.5).abs() < 1e-12);
    check(&g.x, &hand, |x| product_after_break(x, 3), &x);
    // 103 elements: the condition holds at k = 101, 102. f = x₀ + p·T, T = x₁₀₁ + x₁₀₂.
    let x: Vec<f64> = (0..103).map(|k| 0.5 + 0.01 * f64::from(k)).collect();
    let t = x[101] + x[102];
    let (value, g) = product_under_an_index_condition_grad(&x, 3);
    let p = x[2] * x[1];
    assert!((value - (x[0] + p * t)).abs() < 1e-12);
    let mut hand = vec![0.0; 103];
    hand[0] = 1.0;
    hand[1] = x[2] * t;
    hand[2] = x[1] * t;
    hand[101] = p;
    hand[102] = p;
    check(&g.x, &hand, |x| product_under_an_index_condition(x, 3), &x);
    // p = sin x₂ + sin x₁.
    let (_, g) = sum_under_an_index_condition_grad(&x, 3);
    let p = x[2].sin() + x[1].sin();
    hand[1] = x[1].cos() * t;
    hand[2] = x[2].cos() * t;
    hand[101] = p;
    hand[102] = p;
    check(&g.x, &hand, |x| sum_under_an_index_condition(x, 3), &x);
}

// The same for a vector-valued function with an early `return [..]`: `_jacobian`, `_vjp`,
// `_jvp`.
#[differentiable]
fn outputs_after_return(x: &[f64], n: usize) -> [f64; 2] {
    if n > x.len() {
        return [x[0], 2.0 * x[0]];
    }
    let mut p = 1.0;
    for i in 0..2 {
        p *= x[n - 1 - i];
    }
    [p, p * x[0]]
}

#[differentiable(wrt(a, b))]
fn scalar_outputs_after_return(a: f64, b: f64, n: usize, x: &[f64]) -> [f64; 2] {
    if n > x.len() {
        return [a, b];
    }
    let mut p = a;
    for i in 0..2 {
        p *= b + x[n - 1 - i];
    }
    [p, p * a]
}

/// `_jacobian`, `_vjp` (seed `(0.5, −2)`) and `_jvp` (tangent `t`) of `outputs_after_return`
/// against the rows written by hand.
fn check_outputs(x: &[f64], n: usize, rows: [&[f64]; 2], t: &[f64]) {
    let (_, jac) = outputs_after_return_jacobian(x, n);
    for k in 0..2 {
        assert_all_close(&jac[k].x, rows[k], 1e-12);
        let f = |x: &[f64]| outputs_after_return(x, n)[k];
        assert_all_close(&jac[k].x, &numeric_gradient(f, x), 1e-6);
    }
    let (_, g) = outputs_after_return_vjp(x, n, &[0.5, -2.0]);
    let vjp: Vec<f64> = (0..x.len())
        .map(|j| 0.5 * rows[0][j] - 2.0 * rows[1][j])
        .collect();
    assert_all_close(&g.x, &vjp, 1e-12);
    let (_, dr) = outputs_after_return_jvp(x, n, &OutputsAfterReturnGrad { x: t.to_vec() });
    for k in 0..2 {
        let want: f64 = rows[k].iter().zip(t).map(|(a, b)| a * b).sum();
        assert!((dr[k] - want).abs() <= 1e-12 * (1.0 + want.abs()));
    }
}

#[test]
fn a_vector_valued_functions_recurrence_after_a_return_taken_does_not_run() {
    // Taken: [x₀, 2x₀].
    check_outputs(&[1.0, 2.0], 5, [&[1.0, 0.0], &[2.0, 0.0]], &[0.25, -1.0]);
    // Not taken: p = x₂·x₁ = −6, [p, p·x₀].
    let x = [1.5, -2.0, 3.0];
    check_outputs(
        &x,
        3,
        [&[0.0, 3.0, -2.0], &[-6.0, 4.5, -3.0]],
        &[0.25, -1.0, 2.0],
    );

    let tangent = ScalarOutputsAfterReturnGrad { a: 0.75, b: -1.25 };
    let (r, jac) = scalar_outputs_after_return_jacobian(1.5, 0.5, 5, &[1.0, 2.0]);
    assert_eq!(r, [1.5, 0.5]);
    assert_eq!(
        [jac[0].a, jac[0].b, jac[1].a, jac[1].b],
        [1.0, 0.0, 0.0, 1.0]
    );
    let (_, g) = scalar_outputs_after_return_vjp(1.5, 0.5, 5, &[1.0, 2.0], &[0.5, -2.0]);
    assert_eq!([g.a, g.b], [0.5, -2.0]);
    let (_, dr) = scalar_outputs_after_return_jvp(1.5, 0.5, 5, &[1.0, 2.0], &tangent);
    assert_eq!(dr, [0.75, -1.25]);
    // Not taken: p = a(b + x₂)(b + x₁) = −1.875; ∂p/∂a = −1.25, ∂p/∂b = a(2b + x₁ + x₂) = 3;
    // p·a: ∂/∂a = p + a·∂p/∂a = −3.75, ∂/∂b = 4.5.
    let x = [1.0, 2.0, -1.0];
    let (r, jac) = scalar_outputs_after_return_jacobian(1.5, 0.5, 3, &x);
    assert!((r[0] + 1.875).abs() < 1e-12);
    let rows = [[-1.25, 3.0], [-3.75, 4.5]];
    for k in 0..2 {
        assert_all_close(&[jac[k].a, jac[k].b], &rows[k], 1e-12);
        let f = |p: &[f64]| scalar_outputs_after_return(p[0], p[1], 3, &x)[k];
        assert_all_close(
            &[jac[k].a, jac[k].b],
            &numeric_gradient(f, &[1.5, 0.5]),
            1e-6,
        );
    }
    let (_, dr) = scalar_outputs_after_return_jvp(1.5, 0.5, 3, &x, &tangent);
    for k in 0..2 {
        let want = rows[k][0] * 0.75 - rows[k][1] * 1.25;
        assert!((dr[k] - want).abs() < 1e-12);
    }
}

// ---- An output of a vector-valued call passed to another call was rejected.
//
// Found by the fuzzer with vector-valued helpers (`r(r(q[0], q[2])[2], …)`): an argument
// `r(…)[k]`, or `t[k]` of `let t = r(…);`, was taken for data ("it uses the differentiated
// parameter"), though `r(…)[k]` works everywhere else.

#[differentiable]
fn three(a: f64, b: f64) -> [f64; 3] {
    [a * b, a.sin(), b.exp()]
}

#[differentiable]
fn output_as_argument(a: f64, b: f64) -> f64 {
    let t = three(a, b);
    three(three(a, b)[2], a)[0] + three(t[0], b)[1]
}

#[test]
fn an_output_of_a_vector_valued_call_is_an_argument_like_any_number() {
    // e^b·a + sin(ab): ∂/∂a = e^b + b·cos(ab), ∂/∂b = a·e^b + a·cos(ab).
    for (a, b) in [(0.7, -0.4), (-1.3, 0.25)] {
        let (value, g) = output_as_argument_grad(a, b);
        assert!((value - output_as_argument(a, b)).abs() < 1e-12);
        let hand = [b.exp() + b * (a * b).cos(), a * b.exp() + a * (a * b).cos()];
        check(
            &[g.a, g.b],
            &hand,
            |p| output_as_argument(p[0], p[1]),
            &[a, b],
        );
    }
}

// ---- An element written by a loop at the index the loop's condition picks, read after it.
//
// Found by the fuzzer (seed 112, programs 55 and 229, on a vector-valued helper): the simplifier
// read `z[0]` after `for i { if i == 0 { z[i] += z[i] * z[i]; } }` as the written value, which
// reads `z[i]` at the loop's index: outside the loop the index has no value. The emitted code
// did not compile where the value was read; where only the gradient read it, the derivative
// became a sum over the loop's iterations, a wrong gradient. A write with `i == k` made in the
// loop is now read from the array.

#[differentiable]
#[allow(clippy::useless_vec)] // the program as the fuzzer wrote it
fn written_where_the_index_is_zero(a: f64, b: f64) -> f64 {
    let mut z = vec![0.0; 4];
    for i in 0..z.len() {
        z[i] = a * (i + 1) as f64;
    }
    for i in 0..z.len() {
        if i == 0 {
            z[i] += z[i] * z[i];
        }
    }
    z[3] + z[0] * a + b
}

#[test]
fn an_element_a_loop_writes_where_its_index_is_k_is_read_from_the_array() {
    // z[0] = a + a², z[3] = 4a: f = 4a + a² + a³ + b, ∂/∂a = 4 + 2a + 3a², ∂/∂b = 1.
    for (a, b) in [(0.7, 0.2), (-1.1, 3.0)] {
        let (value, g) = written_where_the_index_is_zero_grad(a, b);
        assert!((value - (4.0 * a + a * a + a * a * a + b)).abs() < 1e-12);
        let hand = [4.0 + 2.0 * a + 3.0 * a * a, 1.0];
        check(
            &[g.a, g.b],
            &hand,
            |p| written_where_the_index_is_zero(p[0], p[1]),
            &[a, b],
        );
    }
}

// Fuzzer, seed 404, program 216 (`--weight carried_array=6`): a carried array whose update
// reads it twice with opposite coefficients, `0.53 * hs[j] - 0.53 * hs[j]`, which the
// simplifier cancels: the new value is the same array in every iteration, and the macro
// rejected it ("not differentiated yet"). Each iteration's adjoint of the state is now added
// into that array's adjoint from the reverse loop.

#[differentiable]
#[allow(clippy::useless_vec)] // the program as the fuzzer wrote it
fn carried_state_that_cancels(q: [f64; 3], d: usize) -> f64 {
    let mut hs9: Vec<f64> = vec![-0.31; 3];
    let mut l10 = 0.0;
    for _ in 0..d {
        for j11 in 0..3 {
            hs9[j11] = 0.5 * (0.53 * hs9[j11] + -0.53 * hs9[j11] + q.iter().sum::<f64>()).sin();
        }
        l10 += hs9[0] * (1.0 + q[2] * q[2]).ln();
    }
    let r13 = hs9[0] * 1.29;
    r13.tanh() * l10
}

#[test]
fn a_carried_array_whose_update_does_not_read_it_gets_every_iterations_adjoint() {
    // After the first step hs[j] = h = 0.5·sin(Σq) for every j: l = d·h·L with L = ln(1 + q₂²),
    // f = tanh(1.29·h)·l. ∂h/∂qᵢ = 0.5·cos(Σq); ∂L/∂q₂ = 2q₂/(1 + q₂²).
    for (q, d) in [([0.3, -0.8, 1.2], 3), ([-0.4, 0.9, 0.5], 1)] {
        let s: f64 = q.iter().sum();
        let h = 0.5 * s.sin();
        let dh = 0.5 * s.cos();
        let big_l = (1.0 + q[2] * q[2]).ln();
        let dl = 2.0 * q[2] / (1.0 + q[2] * q[2]);
        let n = d as f64;
        let l = n * h * big_l;
        let th = (1.29 * h).tanh();
        let (value, g) = carried_state_that_cancels_grad(q, d);
        assert!((value - th * l).abs() < 1e-12);
        let df_dh = 1.29 * (1.0 - th * th) * l + th * n * big_l;
        let hand: Vec<f64> = (0..3)
            .map(|i| df_dh * dh + if i == 2 { th * n * h * dl } else { 0.0 })
            .collect();
        check(
            &g.q,
            &hand,
            |p| carried_state_that_cancels([p[0], p[1], p[2]], d),
            &q,
        );
    }
}

// ---- An array added into in a nested loop and read there besides: carried, not accumulated.

#[differentiable]
fn added_into_itself(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![1.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] += w[j] * h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += h[j];
    }
    s
}

#[differentiable(checkpoint = 2)]
fn added_into_itself_checkpointed(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = vec![1.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] -= w[j] * h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += h[j];
    }
    s
}

#[differentiable]
fn accumulation_read_along_the_way(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut acc = vec![0.0; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        for j in 0..n {
            acc[j] += w[j] * x[t];
        }
        loss += acc[0] * acc[n - 1];
    }
    loss
}

#[test]
fn an_array_added_into_and_read_in_the_same_loop_is_carried() {
    // hⱼ = Πₜ (1 + wⱼ·xₜ): ∂s/∂wⱼ = hⱼ·Σₜ xₜ/(1 + wⱼxₜ), ∂s/∂xₜ = Σⱼ hⱼ·wⱼ/(1 + wⱼxₜ).
    let (w, x) = ([0.5, -0.3, 0.8], [0.3, -0.7, 1.1, 0.4]);
    let h: Vec<f64> = w
        .iter()
        .map(|wj| x.iter().map(|xt| 1.0 + wj * xt).product())
        .collect();
    let (value, g) = added_into_itself_grad(&w, &x);
    assert!((value - h.iter().sum::<f64>()).abs() < 1e-12);
    let dw: Vec<f64> = (0..3)
        .map(|j| h[j] * x.iter().map(|xt| xt / (1.0 + w[j] * xt)).sum::<f64>())
        .collect();
    check(&g.w, &dw, |p| added_into_itself(p, &x), &w);
    let dx: Vec<f64> = x
        .iter()
        .map(|xt| (0..3).map(|j| h[j] * w[j] / (1.0 + w[j] * xt)).sum())
        .collect();
    check(&g.x, &dx, |p| added_into_itself(&w, p), &x);
    // `-=` under `checkpoint = 2` (5 steps: a stretch left over) is the same with −x.
    let x = [0.3, -0.7, 1.1, 0.4, -0.2];
    let minus: Vec<f64> = x.iter().map(|v| -v).collect();
    let (value, g) = added_into_itself_checkpointed_grad(&w, &x);
    let (plain, gp) = added_into_itself_grad(&w, &minus);
    assert!((value - plain).abs() < 1e-12);
    assert_all_close(&g.w, &gp.w, 1e-12);
    let neg: Vec<f64> = gp.x.iter().map(|v| -v).collect();
    assert_all_close(&g.x, &neg, 1e-12);
    check(&g.w, &gp.w, |p| added_into_itself_checkpointed(p, &x), &w);
}

#[test]
fn an_accumulation_read_after_every_step_sees_the_additions_so_far() {
    // acc₀(t) = w₀·Sₜ, acc₂(t) = w₂·Sₜ with Sₜ = x₀ + … + xₜ: loss = w₀w₂·Σₜ Sₜ²,
    // ∂/∂w₀ = w₂·ΣSₜ², ∂/∂w₂ = w₀·ΣSₜ², ∂/∂xₛ = 2w₀w₂·Σ_{t≥s} Sₜ.
    let (w, x) = ([0.5, -0.3, 0.8], [0.3, -0.7, 1.1, 0.4]);
    let s: Vec<f64> = x
        .iter()
        .scan(0.0, |a, v| {
            *a += v;
            Some(*a)
        })
        .collect();
    let sq: f64 = s.iter().map(|v| v * v).sum();
    let (value, g) = accumulation_read_along_the_way_grad(&w, &x);
    assert!((value - w[0] * w[2] * sq).abs() < 1e-12);
    check(
        &g.w,
        &[w[2] * sq, 0.0, w[0] * sq],
        |p| accumulation_read_along_the_way(p, &x),
        &w,
    );
    let dx: Vec<f64> = (0..4)
        .map(|k| 2.0 * w[0] * w[2] * s[k..].iter().sum::<f64>())
        .collect();
    check(&g.x, &dx, |p| accumulation_read_along_the_way(&w, p), &x);
}

// ---- A local array passed beside a differentiated slice, under `hessian` (the fuzzer's seed
// 1601, program 264, once it passed local arrays to helpers: its expansion did not compile).

/// `Σᵢ uᵢ·vᵢ²`.
#[differentiable(hessian)]
fn weigh_by_squares(u: &[f64], v: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..u.len() {
        s += u[i] * v[i] * v[i];
    }
    s
}

/// `sin(a²)·Σᵢ yᵢ²`: a local array filled in a loop from a float, passed beside the
/// differentiated slice `y`.
#[differentiable(hessian)]
fn filled_beside_a_slice(y: &[f64], a: f64) -> f64 {
    let mut z = vec![0.0; y.len()];
    for i in 0..z.len() {
        z[i] = (a * a).sin();
    }
    weigh_by_squares(&z, y)
}

/// `sin(b⁴)·Σᵢ yᵢ² + b³`, its Hessian through `filled_beside_a_slice`'s `__partials2` (`ys` is
/// data here).
#[differentiable(hessian, wrt(b))]
fn through_filled(ys: &[f64], b: f64) -> f64 {
    filled_beside_a_slice(ys, b * b) + b * b * b
}

#[test]
fn a_local_array_beside_a_differentiated_slice_under_hessian() {
    let (y, a) = ([0.4, -1.3, 0.9], 0.7_f64);
    let (sy, ca, sa) = (
        y.iter().map(|v| v * v).sum::<f64>(),
        (a * a).cos(),
        (a * a).sin(),
    );
    // ∂f/∂yᵢ = 2·sin(a²)·yᵢ, ∂f/∂a = 2a·cos(a²)·S; ∂²f/∂yᵢ∂yⱼ = 2·sin(a²)·δᵢⱼ,
    // ∂²f/∂yᵢ∂a = 4a·cos(a²)·yᵢ, ∂²f/∂a² = (2·cos(a²) − 4a²·sin(a²))·S.
    let dy: Vec<f64> = y.iter().map(|v| 2.0 * sa * v).collect();
    let (value, g) = filled_beside_a_slice_grad(&y, a);
    assert!((value - sa * sy).abs() < 1e-12);
    check(&g.y, &dy, |p| filled_beside_a_slice(p, a), &y);
    check(
        &[g.a],
        &[2.0 * a * ca * sy],
        |p| filled_beside_a_slice(&y, p[0]),
        &[a],
    );
    let (_, _, h) = filled_beside_a_slice_hessian(&y, a);
    let mut want = vec![0.0; 16];
    for i in 0..3 {
        want[i * 4 + i] = 2.0 * sa;
        want[i * 4 + 3] = 4.0 * a * ca * y[i];
        want[3 * 4 + i] = 4.0 * a * ca * y[i];
    }
    want[15] = (2.0 * ca - 4.0 * a * a * sa) * sy;
    assert_all_close(&h, &want, 1e-12);
    // Through the caller: g(b) = sin(b⁴)·S + b³, g' = 4b³·cos(b⁴)·S + 3b²,
    // g'' = (12b²·cos(b⁴) − 16b⁶·sin(b⁴))·S + 6b.
    let b = -0.8_f64;
    let (c4, s4) = (b.powi(4).cos(), b.powi(4).sin());
    let (value, g) = through_filled_grad(&y, b);
    assert!((value - (s4 * sy + b.powi(3))).abs() < 1e-12);
    check(
        &[g.b],
        &[4.0 * b.powi(3) * c4 * sy + 3.0 * b * b],
        |p| through_filled(&y, p[0]),
        &[b],
    );
    let v = ThroughFilledGrad { b: 1.0 };
    let (_, _, hv) = through_filled_hvp(&y, b, &v);
    let second = (12.0 * b * b * c4 - 16.0 * b.powi(6) * s4) * sy + 6.0 * b;
    assert_all_close(&[hv.b], &[second], 1e-12);
}

// ---- A local array built from a float `wrt` leaves out, passed beside a differentiated slice
// (the fuzzer's seed 1602, program 61, a vector-valued function's `_vjp`: the slice's gradient
// through the call was 0).

/// `Σᵢ uᵢ·vᵢ² + t`.
#[differentiable]
fn squares_weighed(u: &[f64], v: &[f64], t: f64) -> f64 {
    let mut s = t;
    for i in 0..u.len() {
        s += u[i] * v[i] * v[i];
    }
    s
}

/// `k² with k = 0.8a·Σᵢ yᵢ² + 0.5`, differentiated with respect to `y` only.
#[differentiable(wrt(y))]
fn array_of_a_float_left_out(y: &[f64], a: f64) -> f64 {
    let mut z = vec![0.0; y.len()];
    for i in 0..y.len() {
        z[i] = a * 0.8;
    }
    let k = squares_weighed(&z, y, 0.5);
    k * k
}

/// `[k², sin k]`, the same `k`, differentiated with respect to `y` only.
#[differentiable(wrt(y))]
fn array_of_a_float_left_out_vec(y: &[f64], a: f64) -> [f64; 2] {
    let mut z = vec![0.0; y.len()];
    for i in 0..y.len() {
        z[i] = a * 0.8;
    }
    let k = squares_weighed(&z, y, 0.5);
    [k * k, k.sin()]
}

#[test]
fn a_local_array_of_a_float_wrt_leaves_out_keeps_the_slices_gradient() {
    let (y, a) = ([0.4, -1.3, 0.9], 0.7);
    let k = 0.8 * a * y.iter().map(|v| v * v).sum::<f64>() + 0.5;
    // ∂k/∂yᵢ = 1.6a·yᵢ.
    let dk: Vec<f64> = y.iter().map(|v| 1.6 * a * v).collect();
    let (value, g) = array_of_a_float_left_out_grad(&y, a);
    assert!((value - k * k).abs() < 1e-12);
    let hand: Vec<f64> = dk.iter().map(|d| 2.0 * k * d).collect();
    check(&g.y, &hand, |p| array_of_a_float_left_out(p, a), &y);
    let seed = [0.6, -1.7];
    let (outputs, g) = array_of_a_float_left_out_vec_vjp(&y, a, &seed);
    assert!((outputs[0] - k * k).abs() < 1e-12 && (outputs[1] - k.sin()).abs() < 1e-12);
    let hand: Vec<f64> = dk
        .iter()
        .map(|d| (seed[0] * 2.0 * k + seed[1] * k.cos()) * d)
        .collect();
    let weighed = |p: &[f64]| {
        let [u, w] = array_of_a_float_left_out_vec(p, a);
        seed[0] * u + seed[1] * w
    };
    check(&g.y, &hand, weighed, &y);
    // The Jacobian's rows agree (they never merged the products).
    let (_, jac) = array_of_a_float_left_out_vec_jacobian(&y, a);
    let rows: Vec<f64> = (0..3)
        .map(|i| seed[0] * jac[0].y[i] + seed[1] * jac[1].y[i])
        .collect();
    assert_all_close(&rows, &hand, 1e-12);
}

/// The same array passed beside the slice in a vector-valued helper, all differentiated.
#[differentiable]
fn array_of_a_float_outputs(y: &[f64], a: f64) -> [f64; 2] {
    let mut z = vec![0.0; y.len()];
    for i in 0..y.len() {
        z[i] = a * 0.8;
    }
    let k = squares_weighed(&z, y, 0.5);
    [k * k, k]
}

/// `k² + 2k` through the helper's outputs: `y`'s gradient through its hidden `__vjp`.
#[differentiable]
fn through_array_of_a_float(y: &[f64], a: f64) -> f64 {
    let [p, q] = array_of_a_float_outputs(y, a);
    p + 2.0 * q
}

#[test]
fn a_vector_valued_helpers_hidden_vjp_keeps_the_slices_gradient() {
    let (y, a) = ([0.4, -1.3, 0.9], 0.7);
    let s = y.iter().map(|v| v * v).sum::<f64>();
    let k = 0.8 * a * s + 0.5;
    let (value, g) = through_array_of_a_float_grad(&y, a);
    assert!((value - (k * k + 2.0 * k)).abs() < 1e-12);
    // ∂/∂yᵢ = (2k + 2)·1.6a·yᵢ, ∂/∂a = (2k + 2)·0.8·Σ yᵢ².
    let dy: Vec<f64> = y.iter().map(|v| (2.0 * k + 2.0) * 1.6 * a * v).collect();
    check(&g.y, &dy, |p| through_array_of_a_float(p, a), &y);
    check(
        &[g.a],
        &[(2.0 * k + 2.0) * 0.8 * s],
        |p| through_array_of_a_float(&y, p[0]),
        &[a],
    );
}

// ---- A local array whose elements read a differentiated value only under a condition,
// passed beside a differentiated slice (the fuzzer's seed 1602, program 306).

/// `t + Σᵢ (uᵢ + vᵢ)²`.
#[differentiable]
fn sum_of_squares(u: &[f64], v: &[f64], t: f64) -> f64 {
    let mut s = t;
    for i in 0..u.len() {
        s += (u[i] + v[i]) * (u[i] + v[i]);
    }
    s
}

/// `k²` with `k = a + Σᵢ (yᵢ + zᵢ)²`, `zᵢ = tanh(y₀)` where `y₀ + … + y_{n−2} ≥ 0.35`, else
/// `tanh(zᵢ) = 0` (as found).
#[differentiable]
fn chosen_elements_beside_a_slice(n: usize, y: &[f64], a: f64) -> f64 {
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (if !((1..n).map(|j| y[j - 1]).sum::<f64>() >= 0.35) {
            z[i]
        } else {
            y[0]
        })
        .tanh();
    }
    let k = sum_of_squares(y, &z, a);
    k * k
}

#[test]
fn a_local_array_chosen_by_a_condition_keeps_the_slices_gradient_where_it_fails() {
    let a = 0.3_f64;
    // Condition failing (Σ = −0.3): z = 0, k = a + Σ yᵢ², ∂/∂yᵢ = 2k·2yᵢ.
    let y = [-1.5, 1.2, 0.4];
    let k = a + y.iter().map(|v| v * v).sum::<f64>();
    let (value, g) = chosen_elements_beside_a_slice_grad(3, &y, a);
    assert!((value - k * k).abs() < 1e-12);
    let hand: Vec<f64> = y.iter().map(|v| 4.0 * k * v).collect();
    check(&g.y, &hand, |p| chosen_elements_beside_a_slice(3, p, a), &y);
    // Condition holding (Σ = 0.9): zᵢ = tanh(y₀) = t, k = a + Σ (yᵢ + t)²,
    // ∂k/∂yᵢ = 2(yᵢ + t) + [i = 0]·(1 − t²)·Σⱼ 2(yⱼ + t).
    let y = [0.5_f64, 0.4, -0.7];
    let t = y[0].tanh();
    let k = a + y.iter().map(|v| (v + t) * (v + t)).sum::<f64>();
    let through_z = (1.0 - t * t) * y.iter().map(|v| 2.0 * (v + t)).sum::<f64>();
    let (value, g) = chosen_elements_beside_a_slice_grad(3, &y, a);
    assert!((value - k * k).abs() < 1e-12);
    let hand: Vec<f64> = (0..3)
        .map(|i| 2.0 * k * (2.0 * (y[i] + t) + if i == 0 { through_z } else { 0.0 }))
        .collect();
    check(&g.y, &hand, |p| chosen_elements_beside_a_slice(3, p, a), &y);
}

/// Found by the fuzzer (seed 1701, program 36) as "too slow to build".
#[differentiable(checkpoint = 3)]
fn r(a: f64, b: f64) -> [f64; 2] {
    if 0 < 1 {
        return [0.35, 1.15 * (b * -0.42)];
    }
    let mut m1 = 0.04 / (1.0 + -0.32 * -0.32) + b;
    let fc3 = move |v2: f64| (-0.32 + v2).powi(2) + m1;
    m1 = 0.05 * m1 + a.hypot(0.97);
    let k4 = fc3(m1 * a) - m1;
    [k4 * k4, k4.sin() + k4]
}

#[differentiable(wrt(q), checkpoint = 5)]
#[allow(
    unused_variables,
    clippy::eq_op,
    clippy::suspicious_operation_groupings
)]
fn nested_with_continue(n: usize, y: &[f64], q: [f64; 3], a: f64) -> [f64; 2] {
    let mut h1 = 0.0;
    for i in 0..n {
        let t2 = y[0] * q[2] * (y[i] * q[1]);
        let mut h3 = q[1] * q[2];
        for (j, &e4) in y.iter().enumerate() {
            if n != 4 {
                h3 = (-0.5 * h3 + y[j] * q[0] * (e4 + y[i])).tanh();
                continue;
            }
            if j == n {
                h1 = (-0.8 * h1
                    + ((0.94 + e4) * (0.94 + e4) + 0.5).sqrt()
                        / (1.0
                            + q.iter()
                                .enumerate()
                                .map(|(k, &e5)| r(e4, e4)[0])
                                .sum::<f64>()
                                * q.iter()
                                    .enumerate()
                                    .map(|(k, &e5)| r(e4, e4)[0])
                                    .sum::<f64>()))
                .tanh();
            } else {
                h1 = (0.01 * h1 + (e4 * q[2] - e4)).tanh();
            }
            h3 = (0.09 * h3 + a).tanh();
        }
        h1 = (-0.25 * h1 + h3).tanh();
    }
    let f6 = if y[n - 1] / (2.0 + q[1].sin()) >= -0.02 {
        y[0] * y[0] / (1.0 + a.tanh() * a.tanh())
    } else {
        q[0]
    };
    let fc8 = |v7: f64| (v7 - v7) * (v7 / (1.0 + v7 * v7));
    let k9 = fc8(((1.06 + a) * (1.06 + a) + 0.5).sqrt());
    if n >= 3 {
        return [
            r(a, h1)[0]
                * q.iter()
                    .zip(y)
                    .map(|(&za10, &zb11)| (0.33 + y[n - 1]).cos())
                    .product::<f64>(),
            0.33 / (1.0 + q[0] * q[0]) + (1.0 + y[n - 1] * y[n - 1]).recip(),
        ];
    }
    [k9 * f6 + h1, k9 - f6]
}

#[test]
fn a_vector_function_with_a_continue_in_a_recurrence_nest_builds_and_differentiates() {
    let y = [0.4, -0.7, 1.1, 0.25, -0.3];
    let (q, a) = ([0.6, -0.2, 0.9], 0.35);
    // n = 2 and 3 (the `continue` taken, the early `return` at 3), 4 (the other branch).
    for n in [2usize, 3, 4] {
        let (value, jac) = nested_with_continue_jacobian(n, &y, q, a);
        assert_eq!(value, nested_with_continue(n, &y, q, a));
        for k in 0..2 {
            let f = |p: &[f64]| nested_with_continue(n, &y, [p[0], p[1], p[2]], a)[k];
            assert_all_close(&jac[k].q, &numeric_gradient(f, &q), 1e-6);
        }
    }
}
