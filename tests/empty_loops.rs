//! Loops that run zero times: what the body would compute from values outside the loop
//! (`1.0 / y`, `y.ln()`, `(a - b).sqrt()`, `x[0]`) is never computed by the function when the
//! loop does not run, so it may be non-finite there, or out of range. The gradient must then be
//! what the function's derivative is: zero for a float the function never touches, and no
//! panic where the function does not panic.

//!
//! Each function is checked twice: where its loops run zero times, against the derivative
//! written out by hand (the function does not read the float there, so it is exactly 0, or
//! the one term outside the loop), and where they run, against central differences (and its
//! Hessian against central differences of its gradient).

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)] // the language under test, and a fuzzer program as written

mod common;
#[path = "common/second_order.rs"]
mod second_order;

use common::{assert_all_close, numeric_gradient};
use second_order::{close, hessian_by_differences};
use symgrad::differentiable;

#[differentiable]
fn div_sum(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] / y;
    }
    s
}

#[differentiable(wrt(y, x))]
fn div_sum_n(y: f64, x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += x[i] / y;
    }
    s + 1.0
}

#[differentiable]
fn ln_sum(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * y.ln();
    }
    s
}

#[differentiable]
fn sqrt_sum(a: f64, b: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * (a - b).sqrt();
    }
    s
}

#[differentiable]
fn powf_sum(a: f64, y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * y.powf(a);
    }
    s
}

#[differentiable]
fn div_fold(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i] / y;
    }
    p
}

#[differentiable]
fn ln_fold(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * y.ln() + x[i];
    }
    p
}

#[differentiable]
fn coupled_div(k: f64, y: f64, t: &[f64]) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    let mut loss = 0.0;
    for i in 0..t.len() {
        v += -k / y * x;
        x += v * y.sqrt();
        loss += (x - t[i]).powi(2);
    }
    loss + x
}

#[differentiable]
fn carried_div(y: f64, x: &[f64]) -> f64 {
    let mut h = vec![1.0; 2];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = vec![0.0; 2];
        for j in 0..2 {
            next[j] = (h[j] / y + x[t]).tanh();
        }
        h = next;
        loss += h[0] * h[1];
    }
    loss + h[0]
}

#[differentiable]
fn iter_div(y: f64, x: &[f64]) -> f64 {
    x.iter().map(|v| v / y).sum::<f64>()
}

#[differentiable]
fn iter_ln(y: f64, x: &[f64]) -> f64 {
    x.iter().map(|v| v * y.ln()).sum::<f64>() + 2.0 * y
}

#[differentiable(wrt(y, x))]
fn nested_div(y: f64, x: &[f64], m: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..m {
        for j in 0..x.len() {
            s += x[j] / y + i as f64;
        }
        s += 1.0;
    }
    s
}

#[differentiable]
fn while_div(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        s += x[i] * y.ln();
        i += 1;
    }
    s
}

#[differentiable]
fn first_elem(w: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[0] * w;
    }
    s + w
}

#[differentiable(checkpoint = 2)]
fn div_fold_k2(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i] / y;
    }
    p
}

#[differentiable(checkpoint = 2)]
fn coupled_div_k2(k: f64, y: f64, t: &[f64]) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    let mut loss = 0.0;
    for i in 0..t.len() {
        v += -k / y * x;
        x += v * y.sqrt();
        loss += (x - t[i]).powi(2);
    }
    loss + x
}

#[differentiable(hessian)]
fn div_sum_h(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] / y + y.ln() * x[i];
    }
    s
}

#[differentiable(hessian)]
fn div_fold_h(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i] / y;
    }
    p + y
}

#[differentiable(wrt(w, x))]
fn nested_varying(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        let c = w[i].ln();
        for j in 0..x.len() {
            s += x[j] * c;
        }
        s += w[i];
    }
    s
}

#[differentiable]
fn scan_ln(y: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; x.len() + 1];
    for i in 1..z.len() {
        z[i] = z[i - 1] * y.ln() + x[i - 1];
    }
    z[0]
}

#[differentiable]
fn table_div(y: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for c in 0..x.len() {
        z[c] = x[c] / y.sqrt();
    }
    z.iter().sum::<f64>()
}

#[differentiable]
fn break_div(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] < 0.0 {
            break;
        }
        s += x[i] * y.ln();
    }
    s
}

#[differentiable]
fn running_max_ln(y: f64, x: &[f64]) -> f64 {
    let mut m: f64 = -1.0e300;
    for i in 0..x.len() {
        m = m.max(x[i] * y.ln());
    }
    m
}

#[differentiable]
fn sq(a: f64, b: f64) -> f64 {
    a * b * b
}

#[differentiable]
fn call_ln(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += sq(y.ln(), x[i]);
    }
    s
}

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>()
}

#[differentiable]
fn ridge(y: f64, w: &[f64], x: &[f64]) -> f64 {
    (dot(w, x) - y).powi(2) + y.ln() * dot(w, w)
}

#[differentiable]
fn iter_product(y: f64, x: &[f64]) -> f64 {
    x.iter().map(|v| v * y.ln()).product::<f64>()
}

#[differentiable]
fn fold_div(y: f64, x: &[f64]) -> f64 {
    x.iter().fold(1.0, |acc, v| acc * v / y)
}

#[differentiable]
fn while_down_ln(y: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = x.len();
    while k >= 1 {
        k -= 1;
        s = 0.5 * s + x[k] * y.ln();
    }
    s
}

#[differentiable]
fn last_elem(w: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[x.len() - 1] * w;
    }
    s + w
}

#[differentiable]
fn softmax_ce(z: &[f64]) -> f64 {
    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let s = z.iter().map(|v| (v - m).exp()).sum::<f64>();
    m + s.ln()
}

#[differentiable(hessian)]
fn coupled_h(k: f64, y: f64, t: &[f64]) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    let mut loss = 0.0;
    for i in 0..t.len() {
        v += -k / y * x;
        x += v * y.sqrt();
        loss += (x - t[i]).powi(2);
    }
    loss + x
}

#[differentiable(hessian)]
fn ln_fold_h(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * y.ln() + x[i];
    }
    p
}

#[differentiable(hessian)]
fn iter_ln_h(y: f64, x: &[f64]) -> f64 {
    x.iter().map(|v| v * v * y.ln()).sum::<f64>() + 2.0 * y
}

#[differentiable(hessian)]
fn scan_ln_h(y: f64, x: &[f64]) -> f64 {
    let mut z = vec![1.0; x.len() + 1];
    for i in 1..z.len() {
        z[i] = z[i - 1] * y.ln() + x[i - 1];
    }
    z[0] + y
}

#[differentiable(checkpoint = 2)]
fn ln_fold_k2(y: f64, x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * y.ln() + x[i];
    }
    p
}

#[differentiable(checkpoint = 3)]
fn carried_div_k3(y: f64, x: &[f64]) -> f64 {
    let mut h = vec![1.0; 2];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = vec![0.0; 2];
        for j in 0..2 {
            next[j] = (h[j] / y + x[t]).tanh();
        }
        h = next;
        loss += h[0] * h[1];
    }
    loss + h[0]
}

#[differentiable]
fn big(x: f64) -> f64 {
    (1000.0 * x).exp()
}

// The report this file answers: `big(x)` is infinite, and the loop over `0..w.len() - 2` does
// not run for two weights.
#[differentiable]
fn scaled_by_big(x: f64, w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() - 2 {
        s += w[i] * big(x);
    }
    s
}

// The fuzzer's seed 2801, program 247: the inner loop's length `n - 1` is read by a condition
// guarding the reverse sweep's additions into `∇z`, which was taken out of the outer loop: at
// `n = 0`, `n - 1` overflowed where the function never computes it.
#[differentiable(wrt(z))]
fn inner_bound_minus_one(z: &[f64], n: usize) -> f64 {
    let mut p = 1.0;
    for i in 0..n {
        let mut s = 0.0;
        for _j in 0..n - 1 {
            s += z[i + 1];
        }
        p /= 1.0 + s * (0.69 - z[i]) * (s * (0.69 - z[i]));
    }
    p
}

// Seed 2801, program 188 (shrunk): `y[n - 1]`, read in the loop, is summed `n` times
// (`n · y[n - 1]`, taken only where the loop runs); its gradient's addition into
// `∇y[n - 1]` ran after the loop even at `n = 0`, where `n - 1` overflows.
#[differentiable]
fn last_read_in_the_loop(n: usize, y: &[f64]) -> f64 {
    let mut s13 = 0.0;
    let mut s14 = 0.0;
    for i in 0..n {
        s13 += y[n - 1];
        if !(y[n - 1] < 0.11) {
            s14 += y[i];
        }
    }
    s14 - s13
}

#[differentiable(hessian)]
fn first_product(a: &[f64], b: &[f64], c: f64) -> f64 {
    a[0] * b[0] * c
}

// Seed 2801, program 246 (shrunk): a call that does not change with the loop was made once,
// before it, even where the loop runs zero times: `first_product` read `v[0]` of an empty `v`
// at `n = 0`, where the function never calls it.
#[differentiable(wrt(y, v))]
fn max_of_invariant_call(y: f64, v: &[f64], n: usize, d: usize) -> f64 {
    let mut m = y;
    for _i in 0..n * d {
        m = m.max(first_product(v, v, 1.0));
    }
    m
}

#[differentiable(hessian, wrt(y, v))]
fn max_of_invariant_call_h(y: f64, v: &[f64], n: usize) -> f64 {
    let mut m = y * y;
    for _i in 0..n {
        m = m.max(first_product(v, v, y));
    }
    m
}

// The same call in a sum, taken out of it as `count · call` (only where the loop runs).
#[differentiable(wrt(y, v))]
fn sum_of_invariant_call(y: f64, v: &[f64], n: usize) -> f64 {
    let mut s = y;
    for _i in 0..n {
        s += first_product(v, v, y);
    }
    s
}

#[differentiable]
fn twice_first(u: &[f64], _v: &[f64]) -> f64 {
    let add_first = |v1: f64| u[0] + v1;
    add_first(u[0])
}

// Seed 2801, program 87 (shrunk): `twice_first(x, x)`, summed over a range that may be empty,
// in a loop over `0..d`; at `d = 0` and an empty `x`, `_grad` read `x[0]` where the function
// reads nothing.
#[differentiable(wrt(x, g))]
#[allow(clippy::iter_skip_zero)] // the program as found
fn calls_in_a_skipped_range(n: usize, d: usize, x: &[f64], a: f64, g: f64) -> f64 {
    let mut h1 = 0.0;
    for i in 0..n {
        for j in (0..d - 1).skip(0) {
            h1 = g.tanh() * h1 + x[i * d + j].abs();
        }
    }
    let mut s6 = 0.0;
    for i in 0..d {
        let mut h7 = 0.2 * (n as f64);
        let mut s8 = 0.0;
        for (_k, (&_za, _zb)) in x.iter().zip(x.iter().skip(1)).enumerate().skip(7) {
            s8 += twice_first(x, x);
        }
        h7 = -0.27 * h7 + s8 * s8 * (0.82 - x[i]);
        s6 += h7.tanh().exp();
    }
    a.tanh().exp() * (s6.sin() + s6) * (h1 * h1 + 0.5).sqrt()
}

// Seed 2904, program 149 (shrunk): with `checkpoint = 5`, an element read in a loop over `0..n`
// (`x[0]`) for a sum the value does not read, beside an array carried across the loop.
#[differentiable(checkpoint = 5)]
#[allow(unused_variables, unused_assignments, clippy::self_assignment)] // the program as found
fn unread_sum_beside_carried(n: usize, d: usize, x: &[f64], v: &[f64]) -> f64 {
    let mut hs4: Vec<f64> = vec![-0.63; 4];
    let mut l6 = 0.0;
    for _i in 0..n {
        for j7 in 0..4 {
            hs4[j7] = hs4[j7];
        }
        l6 += hs4[1] * (x[0] + v[d - 1]);
    }
    hs4[2] * hs4[2]
}

// Seed 3401, program 1 (shrunk): a local array filled in a loop over `1..n` that does not change
// with it, from `x[n * d - 1]`, beside an array carried across that loop; at `n = 1` the
// gradient filled it before the loop (a vector of zeros shaped like it seemed to need it).
#[differentiable(wrt(x))]
fn invariant_table_beside_carried(n: usize, d: usize, x: &[f64]) -> f64 {
    let mut l = 0.0;
    let mut h: Vec<f64> = vec![0.18; 3];
    for _i in 1..n {
        let mut inp: Vec<f64> = vec![0.0; 3];
        for j in 0..3 {
            inp[j] = x[n * d - 1].sin();
        }
        for j in 0..3 {
            h[j] = (inp[j] + h[j]).tanh();
        }
        l += h[0];
    }
    l
}

// Seed 3001, program 325 (shrunk): `y[n - 1]` read only in a loop over `0..n` inside a running
// minimum's loop; its reverse sweep (one iteration) added into `∇y[n - 1]` after a sum over
// the inner loop, at `n = 0` too.
#[differentiable]
fn inner_read_in_a_running_min(n: usize, y: &[f64], z: &[f64]) -> f64 {
    let mut m = 9.0f64;
    for i in 0..z.len() {
        let mut s = 0.0;
        for j in 0..n {
            s -= z[j] / (z[i] - y[n - 1]);
        }
        m = m.min(s);
    }
    m
}

// Seed 3002, program 247 (shrunk): a loop over `0..d - 1` after an early return; the gradient's
// loops over it (the additions into `∇z[i]` and the sum for `∇z[0]`) computed `d - 1` where the
// function returns first.
#[differentiable]
fn loop_after_an_early_return(d: usize, z: &[f64]) -> f64 {
    if z[0] > -0.69 {
        return 1.0;
    }
    let mut s = 0.0;
    for i in 0..d - 1 {
        s += z[0] * z[i];
    }
    s
}

// A sum over `0..d - 1` repeated in a loop over `0..d` (taken out of it as `d` times the sum):
// `∂/∂w = d · Σ x[j]` multiplied the sum by a count that is zero at `d = 0`, computing the sum
// (and `d - 1`) anyway.
#[differentiable(wrt(w))]
fn counted_inner_sum(w: f64, x: &[f64], d: usize) -> f64 {
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            s += w * x[j];
        }
    }
    s
}

// Seed 3001, program 277 (its callee, shrunk): a `while` over `0..=u.len() - 1` written in a loop
// over `0..u.len()`; the condition `ct > 0` after it (a count of its iterations) was taken out
// of the outer loop with the loop it reads, computing `u.len() - 1` for an empty `u`.
#[differentiable]
#[allow(clippy::int_plus_one)] // the program as found
fn while_in_a_loop_counted(u: &[f64], v: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..u.len() {
        let mut s = 0.0;
        let mut ct = 0;
        while ct <= u.len() - 1 {
            if ct != 0 {
                break;
            }
            ct += 1;
            s += v[i];
        }
        p /= 1.0 + s * s;
    }
    p
}

// Seed 3002, program 247 (shrunk further): the same, the early return's condition reading a
// call and the loop's sum read by a call's product with its Jacobian (`∇z += s · ∂dot(z, z)`).
#[differentiable]
fn loop_after_an_early_return_on_a_call(d: usize, z: &[f64]) -> f64 {
    if dot(z, z) > 0.1 {
        return 1.0;
    }
    let mut s = 0.0;
    for i in 0..d - 1 {
        s += if i == 2 { z[0] * z[0] } else { dot(z, z) };
    }
    s
}

// Seed 3501, program 356 (shrunk): `zs[0]` of a local array read in a loop that may not run, under
// a `sqrt` (its adjoint summed after the loop); the addition of that sum into the array's
// adjoint wrote `z̄[0]` of an empty `z̄` at `n = 0`.
#[differentiable]
fn first_of_a_local_array_in_a_loop(n: usize, u: &[f64], c: f64) -> f64 {
    let mut zs = vec![0.0; n];
    for i in (0..n).rev() {
        if u[0] * u[i] <= 0.29 || c >= -0.05 {
            zs[i] = c * c;
        }
    }
    let mut s = 0.0;
    for (za, ub) in zs.iter().take(2).zip(u) {
        s += *za * (zs[0] * zs[0] + 0.5).sqrt() * (u[n - 1] + ub);
    }
    s * s + c
}

// Seed 2801, program 351 (shrunk): the gradient's loop over `0..d - 1`, taken out of the outer
// loop over `0..d` (whose sum is `d` times its body), computed `d - 1` before it, at `d = 0`
// too: now under `if d > 0` (the sweep it runs is seeded with that count, zero at `d = 0`).
#[differentiable(wrt(x))]
fn inner_range_products(x: &[f64], n: usize, d: usize) -> f64 {
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            let mut p = 1.0;
            for k in 0..n {
                p *= x[k * d + j];
            }
            s += p;
        }
    }
    s
}

// The logarithm of each product: its adjoint is `(if d > 0 { d } else { 0 }) / p`, a quotient
// of the count (`d` a parameter: `x` may be longer).
#[differentiable]
fn counted_inner_log_products(x: &[f64], y: &[f64], d: usize) -> f64 {
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            let mut p = 1.0;
            for k in 0..y.len() {
                p *= (x[j] * y[k]).cos() + 1.5;
            }
            s += p.ln();
        }
    }
    s
}

// With `hessian`: `H·v` sweeps the recurrence and its tangent back together (coupled
// recurrences, seeded with the count and with zero), in the same loop over `0..d - 1`.
#[differentiable(hessian)]
fn counted_inner_products_h(x: &[f64], y: &[f64]) -> f64 {
    let d = x.len();
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            let mut p = 1.0;
            for k in 0..y.len() {
                p *= x[j] + y[k];
            }
            s += p;
        }
    }
    s
}

#[differentiable(hessian)]
fn counted_inner_tanh_h(x: &[f64], y: &[f64]) -> f64 {
    let d = x.len();
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            let mut h = 0.0;
            for k in 0..y.len() {
                h = (0.5 * h + x[j] * y[k]).tanh();
            }
            s += h;
        }
    }
    s
}

// A guard, a buffer, and a recurrence over another slice reading the buffer.
#[differentiable(hessian)]
fn recurrence_over_w_after_a_guard_h(x: &[f64], w: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i] * x[i];
    }
    let mut h = 0.0;
    for i in 0..w.len() {
        h = (0.5 * h + w[i] * z[0]).tanh();
    }
    h
}

// The same without a recurrence: `Σ_i Σ_j x[j]²` is `d · Σ_j x[j]²`, and the addition into
// `∇x[j]` is `2 · (if d > 0 { d } else { 0 }) · x[j]`, a product with the count; its loop over
// `0..d - 1` ran at top level, at `d = 0` too.
#[differentiable]
fn counted_inner_squares(x: &[f64]) -> f64 {
    let d = x.len();
    let mut s = 0.0;
    for _i in 0..d {
        for j in 0..d - 1 {
            s += x[j] * x[j];
        }
    }
    s
}

// A guard clause, then a buffer of `n - 1` differences: the function never computes `n - 1`
// at `n < 2`, and neither may its gradient (the routing of the buffer's adjoint to its
// elements ran over `0..n - 1` outside the `if`).
#[differentiable]
fn differences_after_a_guard(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i + 1] - x[i];
    }
    let mut s = 0.0;
    for i in 0..n - 1 {
        s += z[i] * z[i];
    }
    s
}

#[differentiable]
fn buffer_after_a_guard(d: usize, x: &[f64]) -> f64 {
    if d == 0 {
        return 1.0;
    }
    let mut z = vec![1.0; d];
    for i in 0..d - 1 {
        z[i] = x[i] * x[i];
    }
    z.iter().map(|v| v.sin()).sum::<f64>() * z[d - 1]
}

// The same after an early return on a value, with a recurrence over the buffer: its reverse
// sweep, seeded under the return's condition, adds into the buffer's adjoint too (seed 3002,
// program 247, shrunk).
#[differentiable]
fn recurrence_over_a_buffer_after_a_return(d: usize, z: &[f64]) -> f64 {
    if z[0] > 0.5 {
        return 1.0;
    }
    let mut zs = vec![0.1; d];
    for i in 0..d - 1 {
        zs[i] = z[0] * (i as f64);
    }
    let mut h = z[0];
    for i in 0..zs.len() {
        h = (0.5 * h + zs[i]).tanh();
    }
    h * zs[d - 1]
}

// Two recurrences deep: the inner sweep is seeded by the outer's `λ`.
#[differentiable]
fn nested_recurrence_over_a_buffer_after_a_return(n: usize, d: usize, z: &[f64]) -> f64 {
    if z[0] > 0.5 {
        return 1.0;
    }
    let mut zs = vec![0.1; d];
    for i in 0..d - 1 {
        zs[i] = z[0] * (i as f64);
    }
    let mut h = z[0];
    for i in 0..zs.len() {
        for j in 0..n {
            h = (0.5 * h + zs[i] * z[j % n]).tanh();
        }
    }
    h * zs[d - 1]
}

// A running maximum over the buffer: its reverse sweep, seeded under the guard, ends with the
// adjoint of `z[0]`, added into the buffer's adjoint vector; the routing loop over `0..n - 1`
// ran outside the guard.
#[differentiable]
fn largest_product_after_a_guard(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i] * x[i + 1];
    }
    let mut m = z[0];
    for i in 1..n - 1 {
        m = m.max(z[i]);
    }
    m
}

// Its log-sum-exp: the sweep's seed is a sum of selects on the guard's condition too.
#[differentiable]
fn log_sum_exp_of_differences_after_a_guard(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i + 1] - x[i];
    }
    let mut m = z[0];
    for i in 1..n - 1 {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..n - 1 {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

// Only the first element of the buffer is read: the others' adjoints are zero, and the step
// through `x[1].sqrt()` at `x[1] = 0` must give `0`, not `0 · ∞`.
#[differentiable]
fn first_root_after_a_guard(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i].sqrt();
    }
    z[0]
}

// With `hessian`, a select in the buffer's fill whose other branch is not finite there
// (`x[i].sqrt()` at `x[i] < 0`), and an unread root at 0: `_hvp` and `_hessian` are finite.
#[differentiable(hessian)]
fn selected_roots_after_a_guard_h(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = if x[i] >= 0.0 {
            x[i].sqrt()
        } else {
            x[i] * x[i]
        };
    }
    let mut s = 0.0;
    for i in 0..n - 1 {
        s += z[i] * x[i + 1];
    }
    s
}

/// The same without the guard: the element nothing reads gets no contribution either (it was
/// `0 · ∞ = NaN`, as in PyTorch and JAX; an element of a local array whose derivative divides
/// passes its adjoint on only where that is not zero).
#[differentiable(hessian)]
fn unread_root_h(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i].sqrt();
    }
    let mut s = 0.0;
    for i in 1..n - 1 {
        s += z[i] * x[i + 1];
    }
    s
}

#[differentiable(hessian)]
fn unread_root_after_a_guard_h(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return 0.0;
    }
    let n = x.len();
    let mut z = vec![0.0; n - 1];
    for i in 0..n - 1 {
        z[i] = x[i].sqrt();
    }
    let mut s = 0.0;
    for i in 1..n - 1 {
        s += z[i] * x[i + 1];
    }
    s
}

// Seed 3003, program 208 (shrunk): every element of a local array computed from `x[0]`, which
// does not change with the filling loop; at `n = 0` the gradient read `x[0]` (of an empty `x`)
// for the element's derivative, and the function's own companion filled the array again in
// every iteration of the loop summing it (`n²`).
#[differentiable]
fn scaled_by_the_first(n: usize, x: &[f64]) -> f64 {
    let mut z = vec![0.45; n];
    for i in 0..n {
        z[i] /= 1.0 + x[0] * x[0];
    }
    z.iter().map(|e| e * e).sum::<f64>()
}

#[differentiable]
fn sine_of_the_first(n: usize, x: &[f64]) -> f64 {
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = x[0].sin();
    }
    z.iter().map(|e| e * e).sum::<f64>()
}

// Seed 3003, program 125 (shrunk): a running maximum from `x[0]` that does not change with the
// loop over `0..n·d` it is in, counted out of it (`if n·d > 0 { n·d·m } else { 0 }`) and read
// in a later loop; the gradient took the maximum's loop out of the count's branch and before
// that loop: at `n = 0` it read `x[0]` of an empty `x`.
#[differentiable]
fn counted_running_max_read_later(n: usize, d: usize, x: &[f64], a: f64) -> f64 {
    let mut s1 = 0.0;
    for _i in 0..n * d {
        let mut m = x[0];
        for _j in 0..x.len() {
            if -x[n * d - 1] > m {
                m = -x[n * d - 1];
            }
        }
        s1 += m;
    }
    let mut z = vec![a; d];
    z[d - 1] /= 1.0 + z[0] * z[0];
    let mut s = 0.0;
    for i in 0..d {
        for j in 0..n {
            s += z[i] * x[j * d + i];
        }
    }
    s * (s1 * s1)
}

// Seed 3003, program 64 (shrunk): sums over `0..n·d` of `w[i]` (not changing with them) in the
// body of a loop over `0..d`, in a loop over `w` that breaks on `w[d - 1]`; at `d = 0` the
// gradient computed `d - 1`.
#[differentiable]
fn inner_sums_before_a_break_on_the_last(n: usize, d: usize, w: &[f64]) -> f64 {
    let mut s6 = 0.0;
    for e in w {
        if *e - e >= (1.0 + w[d - 1] * w[d - 1]).powf(1.44) {
            s6 += *e;
            break;
        }
        let mut s8 = 0.0;
        for i in 0..d {
            let q = (0..n * d).map(|_| w[i] / (1.0 + *e * *e)).sum::<f64>();
            s8 += (1.0 + *e * *e).recip() / (1.0 + q * q);
        }
        s6 += s8.tanh();
    }
    s6 * s6
}

// A local array of a literal size built from `x[n - 1]` in the body of a recurrence's loop over
// `0..n`: its loop runs, so computing it before the recurrence's loop read `x[n - 1]`, at
// `n = 0` too (it stays in the loop now, as written).
#[differentiable]
fn row_from_the_last_in_a_recurrence(n: usize, x: &[f64]) -> f64 {
    let mut h = 0.5;
    let mut l = 0.0;
    for t in 0..n {
        let mut z = [0.0; 3];
        for j in 0..3 {
            z[j] = x[n - 1] * (j as f64);
        }
        h = (h + z[1] + x[t]).tanh();
        l += h * h;
    }
    l
}

// Per row `i` of `x`, a local array of `d` copies of `(x[i·d] + 1).ln()`, then the product of
// its elements plus the row's: at `d = 0` the gradient read `x[i·d]` of an empty `x`.
#[differentiable]
fn rows_of_one_logarithm(n: usize, d: usize, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        let mut z = vec![0.0; d];
        for j in 0..d {
            z[j] = (x[i * d] + 1.0).ln();
        }
        let mut p = 1.0;
        for j in 0..d {
            p *= z[j] + x[i * d + j];
        }
        s += p;
    }
    s
}

/// `(value, scalar partials…)` of each case where its loops run zero times, against the hand
/// derivative; `==`, so `-0.0` passes for `0.0` and NaN fails.
macro_rules! exactly {
    ($($what:literal: $got:expr => $want:expr;)*) => {{
        let mut bad: Vec<String> = Vec::new();
        $(
            match std::panic::catch_unwind(|| $got) {
                Ok(got) if got == $want => {}
                Ok(got) => bad.push(format!("{}: got {:?}, want {:?}", $what, got, $want)),
                Err(_) => bad.push(format!("{}: panicked", $what)),
            }
        )*
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }};
}

const E: [f64; 0] = [];

#[test]
fn sums_over_empty_loops_have_the_exact_derivative() {
    exactly! {
        "x[i] / y": { let (v, g) = div_sum_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "x[i] / y, n = 0": { let (v, g) = div_sum_n_grad(0.0, &E, 0); (v, g.y) } => (1.0, 0.0);
        "x[i] * y.ln(), y = 0": { let (v, g) = ln_sum_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "x[i] * y.ln(), y < 0": { let (v, g) = ln_sum_grad(-1.0, &E); (v, g.y) } => (0.0, 0.0);
        "x[i] * (a - b).sqrt()": { let (v, g) = sqrt_sum_grad(0.0, 1.0, &E); (v, g.a, g.b) } => (0.0, 0.0, 0.0);
        "x[i] * (a - b).sqrt(), a = b": { let (v, g) = sqrt_sum_grad(1.0, 1.0, &E); (v, g.a, g.b) } => (0.0, 0.0, 0.0);
        "x[i] * y.powf(a), y = 0": { let (v, g) = powf_sum_grad(0.5, 0.0, &E); (v, g.a, g.y) } => (0.0, 0.0, 0.0);
        "x[i] * y.powf(a), y < 0": { let (v, g) = powf_sum_grad(0.5, -1.0, &E); (v, g.a, g.y) } => (0.0, 0.0, 0.0);
        "iterator sum of v / y": { let (v, g) = iter_div_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "iterator sum of v * y.ln()": { let (v, g) = iter_ln_grad(0.0, &E); (v, g.y) } => (0.0, 2.0);
        "inner loop empty, outer runs": { let (v, g) = nested_div_grad(0.0, &E, 2); (v, g.y) } => (2.0, 0.0);
        "inner loop empty, w[i].ln() per outer": { let (v, g) = nested_varying_grad(&[0.0, 1.0], &E); (v, g.w) } => (1.0, vec![1.0, 1.0]);
        "while loop that never runs": { let (v, g) = while_div_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "while loop counting down from 0": { let (v, g) = while_down_ln_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "break before the first": { let (v, g) = break_div_grad(0.0, &[-1.0]); (v, g.y) } => (0.0, 0.0);
        "break, empty": { let (v, g) = break_div_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "call with y.ln()": { let (v, g) = call_ln_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "local array of x[c] / y.sqrt()": { let (v, g) = table_div_grad(0.0, &E); (v, g.y) } => (0.0, 0.0);
        "w[i] * big(x), big(x) = ∞": { let (v, g) = scaled_by_big_grad(1.0, &[0.5, 0.5]); (v, g.x, g.w) } => (0.0, 0.0, vec![0.0, 0.0]);
        "dot products of empty slices": { let (v, g) = ridge_grad(0.5, &E, &E); (v, g.y) } => (0.25, 1.0);
        "n - 1 in a loop over 0..n, n = 0": { let (v, g) = inner_bound_minus_one_grad(&E, 0); (v, g.z) } => (1.0, Vec::<f64>::new());
        "y[n - 1] in a loop over 0..n, n = 0": { let (v, g) = last_read_in_the_loop_grad(0, &E); (v, g.y) } => (0.0, Vec::<f64>::new());
        "x[0] in the body": { let (v, g) = first_elem_grad(2.0, &E); (v, g.w) } => (2.0, 1.0);
        "x[x.len() - 1] in the body": { let (v, g) = last_elem_grad(2.0, &E); (v, g.w) } => (2.0, 1.0);
        "a call not changing with a loop over 0..n·d, n = 0": { let (v, g) = max_of_invariant_call_grad(2.0, &E, 0, 3); (v, g.y, g.v) } => (2.0, 1.0, Vec::<f64>::new());
        "a call in a sum over a skipped range, in a loop over 0..d, d = 0": { let (v, g) = calls_in_a_skipped_range_grad(0, 0, &E, 0.2, 0.8); (v, g.x, g.g) } => (0.0, Vec::<f64>::new(), 0.0);
        "checkpoint = 5, x[0] for a sum not read, n = 0": { let (v, g) = unread_sum_beside_carried_grad(0, 1, &E, &[0.87]); (v, g.x, g.v) } => (0.63 * 0.63, Vec::<f64>::new(), vec![0.0]);
        "a call not changing with a sum over 0..n, n = 0": { let (v, g) = sum_of_invariant_call_grad(2.0, &E, 0); (v, g.y, g.v) } => (2.0, 1.0, Vec::<f64>::new());
        "y[n - 1] in an inner loop of a running minimum, n = 0": { let (v, g) = inner_read_in_a_running_min_grad(0, &E, &[-0.83]); (v, g.y, g.z) } => (0.0, Vec::<f64>::new(), vec![0.0]);
        "z[0] of a local array in a loop over its first two, n = 0": { let (v, g) = first_of_a_local_array_in_a_loop_grad(0, &E, 0.7); (v, g.u, g.c) } => (0.7, Vec::<f64>::new(), 1.0);
        "a loop over 0..d - 1 after an early return on a call, d = 0": { let (v, g) = loop_after_an_early_return_on_a_call_grad(0, &[0.5]); (v, g.z) } => (1.0, vec![0.0]);
        "a loop over 0..d - 1 after an early return, d = 0": { let (v, g) = loop_after_an_early_return_grad(0, &[-0.25]); (v, g.z) } => (1.0, vec![0.0]);
        "d · Σ(j in 0..d - 1) w·x[j], d = 0": { let (v, g) = counted_inner_sum_grad(0.5, &E, 0); (v, g.w) } => (0.0, 0.0);
        "a while over 0..=u.len() - 1 in a loop over 0..u.len(), u empty": { let (v, g) = while_in_a_loop_counted_grad(&E, &E); (v, g.u, g.v) } => (1.0, Vec::<f64>::new(), Vec::<f64>::new());
        "an array from x[n·d - 1] in a loop over 1..n, n = 1": { let (v, g) = invariant_table_beside_carried_grad(1, 0, &E); (v, g.x) } => (0.0, Vec::<f64>::new());
    }
}

#[test]
fn recurrences_over_empty_loops_have_the_exact_derivative() {
    exactly! {
        "p *= x[i] / y": { let (v, g) = div_fold_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "p = p * y.ln() + x[i]": { let (v, g) = ln_fold_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "fold of acc * v / y": { let (v, g) = fold_div_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "product of v * y.ln()": { let (v, g) = iter_product_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "running max of x[i] * y.ln()": { let (v, g) = running_max_ln_grad(0.0, &E); (v, g.y) } => (-1.0e300, 0.0);
        "coupled state reading k / y, y.sqrt()": { let (v, g) = coupled_div_grad(1.0, 0.0, &E); (v, g.k, g.y) } => (1.0, 0.0, 0.0);
        "coupled state, y < 0": { let (v, g) = coupled_div_grad(1.0, -1.0, &E); (v, g.k, g.y) } => (1.0, 0.0, 0.0);
        "carried array reading h[j] / y": { let (v, g) = carried_div_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "scan reading y.ln()": { let (v, g) = scan_ln_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "checkpoint = 2, p *= x[i] / y": { let (v, g) = div_fold_k2_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "checkpoint = 2, p * y.ln() + x[i]": { let (v, g) = ln_fold_k2_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
        "checkpoint = 2, coupled state": { let (v, g) = coupled_div_k2_grad(1.0, 0.0, &E); (v, g.k, g.y) } => (1.0, 0.0, 0.0);
        "checkpoint = 3, carried array": { let (v, g) = carried_div_k3_grad(0.0, &E); (v, g.y) } => (1.0, 0.0);
    }
}

/// A loop over an inner range taken out of its outer loop (counted: `d` times its body), its
/// body a recurrence: the gradient's loop runs under `d > 0`, as the function's does (it
/// computed `d - 1` at `d = 0` before).
#[test]
fn an_inner_range_taken_out_of_its_loop_runs_where_the_outer_loop_does() {
    exactly! {
        "an inner loop over 0..d - 1, d = 0": { let (v, g) = inner_range_products_grad(&E, 2, 0); (v, g.x) } => (0.0, Vec::<f64>::new());
        "d · Σ(j in 0..d - 1) x[j]², x = []": { let (v, g) = counted_inner_squares_grad(&E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "d · Σ(j in 0..d - 1) ln Π_k …, d = 0": { let (v, g) = counted_inner_log_products_grad(&[0.3, -0.4, 0.9], &[0.5, 0.7], 0); (v, g.x, g.y) } => (0.0, vec![0.0; 3], vec![0.0; 2]);
    }
    let xy = [0.3, -0.4, 0.9, 0.5, 0.7];
    for d in 1..=3 {
        let (_, g) = counted_inner_log_products_grad(&xy[..3], &xy[3..], d);
        let want = numeric_gradient(|p| counted_inner_log_products(&p[..3], &p[3..], d), &xy);
        let mut got = g.x.clone();
        got.extend(&g.y);
        assert_all_close(&got, &want, 1e-6);
    }
    // Where it runs, against the hand derivative `∂/∂x[j] = 2·d·x[j]` (`j < d - 1`, else 0).
    let x = [0.3, -0.4, 0.9, 1.1];
    for d in 1..=x.len() {
        let (_, g) = counted_inner_squares_grad(&x[..d]);
        let want: Vec<f64> = (0..d)
            .map(|j| {
                if j + 1 < d {
                    2.0 * d as f64 * x[j]
                } else {
                    0.0
                }
            })
            .collect();
        assert_all_close(&g.x, &want, 1e-12);
    }
}

/// A buffer built after a guard clause (`if x.len() < 2 { return 0.0; }`), at the sizes the
/// guard returns at, then against differences where it is built.
#[test]
fn a_buffer_after_a_guard_clause() {
    exactly! {
        "differences after a guard, x = []": { let (v, g) = differences_after_a_guard_grad(&E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "differences after a guard, x = [1]": { let (v, g) = differences_after_a_guard_grad(&[1.0]); (v, g.x) } => (0.0, vec![0.0]);
        "the largest product after a guard, x = []": { let (v, g) = largest_product_after_a_guard_grad(&E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "the largest product after a guard, x = [1]": { let (v, g) = largest_product_after_a_guard_grad(&[1.0]); (v, g.x) } => (0.0, vec![0.0]);
        "log-sum-exp of differences after a guard, x = []": { let (v, g) = log_sum_exp_of_differences_after_a_guard_grad(&E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "log-sum-exp of differences after a guard, x = [1]": { let (v, g) = log_sum_exp_of_differences_after_a_guard_grad(&[1.0]); (v, g.x) } => (0.0, vec![0.0]);
        "buffer after a guard, d = 0": { let (v, g) = buffer_after_a_guard_grad(0, &[1.0]); (v, g.x) } => (1.0, vec![0.0]);
        "recurrence over a buffer after a return, d = 0": { let (v, g) = recurrence_over_a_buffer_after_a_return_grad(0, &[0.9]); (v, g.z) } => (1.0, vec![0.0]);
        "the first root after a guard, an unread root at 0": { let (v, g) = first_root_after_a_guard_grad(&[4.0, 0.0, 1.0]); (v, g.x) } => (2.0, vec![0.25, 0.0, 0.0]);
        "nested recurrences over a buffer after a return, d = 0": { let (v, g) = nested_recurrence_over_a_buffer_after_a_return_grad(0, 0, &[0.9]); (v, g.z) } => (1.0, vec![0.0]);
    }
    let x = [1.0, 3.0, 2.5, -0.5];
    for n in 2..=4 {
        let (_, g) = differences_after_a_guard_grad(&x[..n]);
        assert_all_close(
            &g.x,
            &numeric_gradient(differences_after_a_guard, &x[..n]),
            1e-6,
        );
    }
    // The hand derivative: `x[k]·x[k + 1]` the largest product, `∂/∂x[k] = x[k + 1]`,
    // `∂/∂x[k + 1] = x[k]`.
    let y = [0.5, -1.5, 2.0, 0.25, 3.0, -0.5];
    for n in 2..=y.len() {
        let (v, g) = largest_product_after_a_guard_grad(&y[..n]);
        let k = (0..n - 1)
            .max_by(|&a, &b| (y[a] * y[a + 1]).total_cmp(&(y[b] * y[b + 1])))
            .unwrap();
        let mut want = vec![0.0; n];
        want[k] += y[k + 1];
        want[k + 1] += y[k];
        assert_eq!((v, g.x), (y[k] * y[k + 1], want), "n = {n}");
    }
    // The hand derivative: with `p = softmax(z)`, `∂/∂x[i] = p[i - 1] - p[i]` (`p[-1] = p[n -
    // 1] = 0`).
    for n in 2..=y.len() {
        let (v, g) = log_sum_exp_of_differences_after_a_guard_grad(&y[..n]);
        let z: Vec<f64> = (0..n - 1).map(|i| y[i + 1] - y[i]).collect();
        let total: f64 = z.iter().map(|z| z.exp()).sum();
        let p = |i: usize| if i < n - 1 { z[i].exp() / total } else { 0.0 };
        let want: Vec<f64> = (0..n)
            .map(|i| if i == 0 { 0.0 } else { p(i - 1) } - p(i))
            .collect();
        assert!((v - total.ln()).abs() < 1e-12, "n = {n}");
        assert_all_close(&g.x, &want, 1e-12);
    }
    for d in 1..=4 {
        let (_, g) = buffer_after_a_guard_grad(d, &x);
        let want = numeric_gradient(|p| buffer_after_a_guard(d, p), &x);
        assert_all_close(&g.x, &want, 1e-6);
    }
    for x in [vec![-0.5, 0.7, -0.3], vec![0.4, -0.7, 0.3, 1.2]] {
        let (_, _, h) = selected_roots_after_a_guard_h_hessian(&x);
        let want = hessian_by_differences(
            |t| symgrad::Gradient::to_flat_vec(&selected_roots_after_a_guard_h_grad(t).1),
            &x,
        );
        close(&h, &want, 1e-5, "selected_roots_after_a_guard_h");
    }
    for x in [vec![0.0, 0.7, 0.3], vec![0.0, 0.7, 0.3, 1.2]] {
        let (_, _, h) = unread_root_after_a_guard_h_hessian(&x);
        assert!(h[0] == 0.0 && h.iter().all(|v| v.is_finite()), "{h:?}");
        let (_, g, h) = unread_root_h_hessian(&x);
        assert!(h[0] == 0.0 && h.iter().all(|v| v.is_finite()), "{h:?}");
        assert_eq!(g.x[0], 0.0);
        // Away from 0, the Hessian of both is the one differences of the gradient give.
        let mut moved = x.clone();
        moved[0] = 0.5;
        let want = hessian_by_differences(
            |t| symgrad::Gradient::to_flat_vec(&unread_root_h_grad(t).1),
            &moved,
        );
        close(
            &unread_root_h_hessian(&moved).2,
            &want,
            1e-5,
            "unread_root_h",
        );
        close(
            &unread_root_after_a_guard_h_hessian(&moved).2,
            &want,
            1e-5,
            "after a guard",
        );
    }
    let z = [0.2, -0.3, 0.45];
    for d in 1..=4 {
        let (_, g) = recurrence_over_a_buffer_after_a_return_grad(d, &z);
        let want = numeric_gradient(|p| recurrence_over_a_buffer_after_a_return(d, p), &z);
        assert_all_close(&g.z, &want, 1e-6);
        for n in 1..=3 {
            let (_, g) = nested_recurrence_over_a_buffer_after_a_return_grad(n, d, &z);
            let want = numeric_gradient(
                |p| nested_recurrence_over_a_buffer_after_a_return(n, d, p),
                &z,
            );
            assert_all_close(&g.z, &want, 1e-6);
        }
    }
}

/// What a loop reads that does not change with it (`x[0]`, `x[n·d - 1]`, `w[d - 1]`), where the
/// loop does not run and the slice is empty: the gradient reads it only where the function does.
/// Then, where the loops run, against the hand derivative or central differences.
#[test]
fn a_value_not_changing_with_a_loop_that_does_not_run() {
    exactly! {
        "z[i] /= 1 + x[0]², n = 0": { let (v, g) = scaled_by_the_first_grad(0, &E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "z[i] = x[0].sin(), n = 0": { let (v, g) = sine_of_the_first_grad(0, &E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "a counted running max from x[0], n = 0": { let (v, g) = counted_running_max_read_later_grad(0, 2, &E, -0.5); (v, g.x, g.a) } => (0.0, Vec::<f64>::new(), 0.0);
        "inner sums before a break on w[d - 1], d = 0": { let (v, g) = inner_sums_before_a_break_on_the_last_grad(2, 0, &E); (v, g.w) } => (0.0, Vec::<f64>::new());
        "a row from x[n - 1] in a recurrence, n = 0": { let (v, g) = row_from_the_last_in_a_recurrence_grad(0, &E); (v, g.x) } => (0.0, Vec::<f64>::new());
        "a row from x[n - 1] in a recurrence, n = 0, x = [1]": { let (v, g) = row_from_the_last_in_a_recurrence_grad(0, &[1.0]); (v, g.x) } => (0.0, vec![0.0]);
        "rows of one logarithm, d = 0": { let (v, g) = rows_of_one_logarithm_grad(2, 0, &E); (v, g.x) } => (2.0, Vec::<f64>::new());
    }
    // The hand derivatives: `n·(0.45 / (1 + x₀²))²` and `n·sin²(x₀)`, nothing from the others.
    let x = [0.7, -0.3, 1.2];
    for n in 1..=4 {
        let nf = n as f64;
        let (v, g) = scaled_by_the_first_grad(n, &x);
        let q = 1.0 + x[0] * x[0];
        assert!((v - nf * 0.45 * 0.45 / (q * q)).abs() < 1e-12, "n = {n}");
        let want = [-4.0 * nf * 0.45 * 0.45 * x[0] / (q * q * q), 0.0, 0.0];
        assert_all_close(&g.x, &want, 1e-12);
        let (v, g) = sine_of_the_first_grad(n, &x);
        assert!((v - nf * x[0].sin().powi(2)).abs() < 1e-12, "n = {n}");
        let want = [2.0 * nf * x[0].sin() * x[0].cos(), 0.0, 0.0];
        assert_all_close(&g.x, &want, 1e-12);
    }
    let x = [0.3, -0.8, 0.5, 0.9, -0.2, 0.4];
    for (n, d) in [(1, 2), (2, 3), (3, 2), (1, 1)] {
        let (_, g) = counted_running_max_read_later_grad(n, d, &x, -0.5);
        let mut got = g.x.clone();
        got.push(g.a);
        let mut at = x.to_vec();
        at.push(-0.5);
        let want = numeric_gradient(
            |p| counted_running_max_read_later(n, d, &p[..x.len()], p[x.len()]),
            &at,
        );
        assert_all_close(&got, &want, 1e-6);
    }
    for n in 1..=x.len() {
        let (_, g) = row_from_the_last_in_a_recurrence_grad(n, &x[..n]);
        let want = numeric_gradient(|p| row_from_the_last_in_a_recurrence(n, p), &x[..n]);
        assert_all_close(&g.x, &want, 1e-6);
    }
    for (n, d) in [(1, 2), (2, 3), (3, 2), (2, 1)] {
        let (_, g) = rows_of_one_logarithm_grad(n, d, &x);
        let want = numeric_gradient(|p| rows_of_one_logarithm(n, d, p), &x);
        assert_all_close(&g.x, &want, 1e-6);
    }
    let w = [0.3, -0.8, 0.5, 0.9];
    for (n, d) in [(0, 1), (1, 2), (2, 3), (2, 4)] {
        let (_, g) = inner_sums_before_a_break_on_the_last_grad(n, d, &w);
        let want = numeric_gradient(|p| inner_sums_before_a_break_on_the_last(n, d, p), &w);
        assert_all_close(&g.w, &want, 1e-6);
    }
}

/// `checkpoint = K` over 0, 1, …, 2K + 1 iterations: the same gradient, bit for bit, as saving
/// every state.
#[test]
fn checkpointed_recurrences_equal_the_full_trace_at_zero_and_one_iteration() {
    let xs = [0.3, -0.4, 0.9, 1.1, -0.2, 0.6];
    for n in 0..=xs.len() {
        let x = &xs[..n];
        assert_eq!(div_fold_grad(0.7, x), {
            let (v, g) = div_fold_k2_grad(0.7, x);
            (v, DivFoldGrad { y: g.y, x: g.x })
        });
        assert_eq!(ln_fold_grad(0.7, x), {
            let (v, g) = ln_fold_k2_grad(0.7, x);
            (v, LnFoldGrad { y: g.y, x: g.x })
        });
        assert_eq!(carried_div_grad(0.7, x), {
            let (v, g) = carried_div_k3_grad(0.7, x);
            (v, CarriedDivGrad { y: g.y, x: g.x })
        });
        assert_eq!(coupled_div_grad(0.8, 0.6, x), {
            let (v, g) = coupled_div_k2_grad(0.8, 0.6, x);
            (
                v,
                CoupledDivGrad {
                    k: g.k,
                    y: g.y,
                    t: g.t,
                },
            )
        });
    }
}

#[test]
fn second_derivatives_over_empty_loops_are_exact() {
    exactly! {
        "Hessian of a counted inner range of products, x = []": { let (f, g, h) = counted_inner_products_h_hessian(&E, &[0.9]); (f, g.x, g.y, h) } => (0.0, Vec::<f64>::new(), vec![0.0], vec![0.0]);
        "Hessian of a counted inner range of tanh recurrences, x = []": { let (f, g, h) = counted_inner_tanh_h_hessian(&E, &[0.9, -0.6]); (f, g.x, g.y, h) } => (0.0, Vec::<f64>::new(), vec![0.0; 2], vec![0.0; 4]);
        "Hessian of a recurrence over w after a guard, x = []": { let (f, g, h) = recurrence_over_w_after_a_guard_h_hessian(&E, &[0.9]); (f, g.x, g.w, h) } => (0.0, Vec::<f64>::new(), vec![0.0], vec![0.0]);
        "Σ x² / y + y.ln()·x": { let (f, g, h) = div_sum_h_hessian(0.0, &E); (f, g.y, h) } => (0.0, 0.0, vec![0.0]);
        "a call not changing with a loop over 0..n, n = 0": { let (f, g, h) = max_of_invariant_call_h_hessian(2.0, &E, 0); (f, g.y, g.v, h) } => (4.0, 4.0, Vec::<f64>::new(), vec![2.0]);
        "the same, H·v": { let (f, g, hv) = max_of_invariant_call_h_hvp(2.0, &E, 0, &MaxOfInvariantCallHGrad { y: 1.0, v: vec![] }); (f, g.y, hv.y, hv.v) } => (4.0, 4.0, 2.0, Vec::<f64>::new());
        "Σ …, H·v": { let (f, g, hv) = div_sum_h_hvp(0.0, &E, &DivSumHGrad { y: 1.0, x: vec![] }); (f, g.y, hv.y) } => (0.0, 0.0, 0.0);
        "Π x / y + y": { let (f, g, h) = div_fold_h_hessian(0.0, &E); (f, g.y, h) } => (1.0, 1.0, vec![0.0]);
        "Π …, H·v": { let (f, g, hv) = div_fold_h_hvp(0.0, &E, &DivFoldHGrad { y: 1.0, x: vec![] }); (f, g.y, hv.y) } => (1.0, 1.0, 0.0);
        "p * y.ln() + x": { let (f, g, h) = ln_fold_h_hessian(0.0, &E); (f, g.y, h) } => (1.0, 0.0, vec![0.0]);
        "p * y.ln() + x, H·v": { let (f, g, hv) = ln_fold_h_hvp(0.0, &E, &LnFoldHGrad { y: 1.0, x: vec![] }); (f, g.y, hv.y) } => (1.0, 0.0, 0.0);
        "iterator sum": { let (f, g, h) = iter_ln_h_hessian(0.0, &E); (f, g.y, h) } => (0.0, 2.0, vec![0.0]);
        "iterator sum, H·v": { let (f, g, hv) = iter_ln_h_hvp(0.0, &E, &IterLnHGrad { y: 1.0, x: vec![] }); (f, g.y, hv.y) } => (0.0, 2.0, 0.0);
        "scan": { let (f, g, h) = scan_ln_h_hessian(0.0, &E); (f, g.y, h) } => (1.0, 1.0, vec![0.0]);
        "scan, H·v": { let (f, g, hv) = scan_ln_h_hvp(0.0, &E, &ScanLnHGrad { y: 1.0, x: vec![] }); (f, g.y, hv.y) } => (1.0, 1.0, 0.0);
        "coupled state": { let (f, g, h) = coupled_h_hessian(1.0, 0.0, &E); (f, g.k, g.y, h) } => (1.0, 0.0, 0.0, vec![0.0; 4]);
        "coupled state, H·v": { let (f, g, hv) = coupled_h_hvp(1.0, 0.0, &E, &CoupledHGrad { k: 1.0, y: 1.0, t: vec![] }); (f, g.y, hv.k, hv.y) } => (1.0, 0.0, 0.0, 0.0);
    }
}

/// The Hessians above where their loops run, against central differences of the gradient.
#[test]
fn second_derivatives_where_the_loops_run_match_differences() {
    let t = [0.4, -0.7, 0.3, 0.9, -0.6];
    for (n, m) in [(1, 1), (2, 1), (3, 2), (2, 3)] {
        let split = |p: &[f64]| (p[..n].to_vec(), p[n..n + m].to_vec());
        let p = &t[..n + m];
        let (x, y) = split(p);
        // Each `(x, y)` function: its `_hessian` against differences of its `_grad`.
        macro_rules! against_differences_of_the_gradient {
            ($($f:ident: $hessian:ident, $grad:ident;)*) => {$({
                let (_, _, h) = $hessian(&x, &y);
                let want = hessian_by_differences(
                    |p| {
                        let (x, y) = split(p);
                        symgrad::Gradient::to_flat_vec(&$grad(&x, &y).1)
                    },
                    p,
                );
                close(&h, &want, 1e-5, stringify!($f));
            })*};
        }
        against_differences_of_the_gradient! {
            counted_inner_products_h: counted_inner_products_h_hessian, counted_inner_products_h_grad;
            counted_inner_tanh_h: counted_inner_tanh_h_hessian, counted_inner_tanh_h_grad;
            recurrence_over_w_after_a_guard_h: recurrence_over_w_after_a_guard_h_hessian, recurrence_over_w_after_a_guard_h_grad;
        }
    }
}

/// Where the function itself is not finite at an empty slice, any gradient will do: `ln` of
/// the empty sum of a softmax is `-∞`, and `ln(0) · Σ w·w` is `-∞ · 0 = NaN` in the function.
#[test]
fn where_the_function_is_not_finite_the_value_says_so() {
    let (v, g) = softmax_ce_grad(&E);
    assert_eq!((v, g.z.len()), (f64::NEG_INFINITY, 0));
    assert!(softmax_ce(&E).is_infinite());
    assert!(ridge(0.0, &E, &E).is_nan());
    assert!(ridge_grad(0.0, &E, &E).0.is_nan());
}

/// `(y, x)` functions: `_grad` against central differences where the loops run.
macro_rules! against_differences {
    ($($f:ident, $grad:ident, $s:ident;)*) => {$({
        let theta = [0.7, 0.3, -0.4, 0.9];
        let (v, g) = $grad(theta[0], &theta[1..]);
        assert_eq!(v, $f(theta[0], &theta[1..]), stringify!($f));
        let mut got = vec![g.$s];
        got.extend(&g.x);
        let want = numeric_gradient(|t| $f(t[0], &t[1..]), &theta);
        assert_all_close(&got, &want, 1e-6);
    })*};
}

#[test]
#[allow(clippy::too_many_lines)] // one check per case
fn where_the_loops_run_the_gradients_match_central_differences() {
    against_differences! {
        div_sum, div_sum_grad, y; ln_sum, ln_sum_grad, y; div_fold, div_fold_grad, y;
        ln_fold, ln_fold_grad, y; carried_div, carried_div_grad, y; iter_div, iter_div_grad, y;
        iter_ln, iter_ln_grad, y; while_div, while_div_grad, y; scan_ln, scan_ln_grad, y;
        table_div, table_div_grad, y; break_div, break_div_grad, y;
        running_max_ln, running_max_ln_grad, y; call_ln, call_ln_grad, y;
        iter_product, iter_product_grad, y; fold_div, fold_div_grad, y;
        while_down_ln, while_down_ln_grad, y; first_elem, first_elem_grad, w;
        last_elem, last_elem_grad, w; div_fold_k2, div_fold_k2_grad, y;
        ln_fold_k2, ln_fold_k2_grad, y; carried_div_k3, carried_div_k3_grad, y;
        div_sum_h, div_sum_h_grad, y; div_fold_h, div_fold_h_grad, y;
        ln_fold_h, ln_fold_h_grad, y; iter_ln_h, iter_ln_h_grad, y; scan_ln_h, scan_ln_h_grad, y;
    }
    let t = [0.3, -0.4, 0.9];
    let (_, g) = sqrt_sum_grad(1.5, 0.5, &t);
    let want = numeric_gradient(|p| sqrt_sum(p[0], p[1], &t), &[1.5, 0.5]);
    assert_all_close(&[g.a, g.b], &want, 1e-6);
    let (_, g) = powf_sum_grad(0.5, 0.8, &t);
    let want = numeric_gradient(|p| powf_sum(p[0], p[1], &t), &[0.5, 0.8]);
    assert_all_close(&[g.a, g.y], &want, 1e-6);
    for (grad, f) in [
        (
            coupled_div_grad as fn(f64, f64, &[f64]) -> (f64, CoupledDivGrad),
            coupled_div as fn(f64, f64, &[f64]) -> f64,
        ),
        (
            |k, y, t: &[f64]| {
                let (v, g) = coupled_div_k2_grad(k, y, t);
                (
                    v,
                    CoupledDivGrad {
                        k: g.k,
                        y: g.y,
                        t: g.t,
                    },
                )
            },
            coupled_div_k2,
        ),
    ] {
        let (_, g) = grad(0.8, 0.6, &t);
        let want = numeric_gradient(|p| f(p[0], p[1], &t), &[0.8, 0.6]);
        assert_all_close(&[g.k, g.y], &want, 1e-6);
    }
    let z = [0.3, -0.4, 0.9, 0.2];
    for n in 1..=3 {
        let (_, g) = inner_bound_minus_one_grad(&z, n);
        assert_all_close(
            &g.z,
            &numeric_gradient(|p| inner_bound_minus_one(p, n), &z),
            1e-6,
        );
    }
    for n in 1..=4 {
        let (_, g) = last_read_in_the_loop_grad(n, &z[..n]);
        let want = numeric_gradient(|p| last_read_in_the_loop(n, p), &z[..n]);
        assert_all_close(&g.y, &want, 1e-6);
    }
    let w4 = [0.3, -0.4, 0.9, 0.2];
    let (_, g) = scaled_by_big_grad(0.001, &w4);
    let want = numeric_gradient(
        |p| scaled_by_big(p[0], &p[1..]),
        &[0.001, 0.3, -0.4, 0.9, 0.2],
    );
    let mut got = vec![g.x];
    got.extend(&g.w);
    assert_all_close(&got, &want, 1e-6);
    let w = [0.5, 1.2];
    let (_, g) = nested_varying_grad(&w, &t);
    assert_all_close(&g.w, &numeric_gradient(|p| nested_varying(p, &t), &w), 1e-6);
    let (_, g) = nested_div_grad(0.7, &t, 2);
    let want = numeric_gradient(|p| nested_div(p[0], &t, 2), &[0.7]);
    assert_all_close(&[g.y], &want, 1e-6);
    let yv = [0.1, 0.4, -0.7, 1.3];
    for (n, d) in [(1, 1), (2, 3)] {
        let (_, g) = max_of_invariant_call_grad(yv[0], &yv[1..], n, d);
        let want = numeric_gradient(|p| max_of_invariant_call(p[0], &p[1..], n, d), &yv);
        let mut got = vec![g.y];
        got.extend(&g.v);
        assert_all_close(&got, &want, 1e-6);
        let (_, g) = sum_of_invariant_call_grad(yv[0], &yv[1..], n * d);
        let want = numeric_gradient(|p| sum_of_invariant_call(p[0], &p[1..], n * d), &yv);
        let mut got = vec![g.y];
        got.extend(&g.v);
        assert_all_close(&got, &want, 1e-6);
    }
    for n in 1..=6 {
        let p = [0.4, 0.87];
        let (_, g) = unread_sum_beside_carried_grad(n, 1, &p[..1], &p[1..]);
        let want = numeric_gradient(|p| unread_sum_beside_carried(n, 1, &p[..1], &p[1..]), &p);
        assert_all_close(&[g.x[0], g.v[0]], &want, 1e-6);
    }
    let x9 = [0.3, -0.4, 0.9, 1.1, -0.2, 0.6, 0.7, -0.5, 0.4];
    for (n, d) in [(2, 3), (3, 3), (1, 2)] {
        let (_, g) = calls_in_a_skipped_range_grad(n, d, &x9, 0.2, 0.8);
        let mut p = x9.to_vec();
        p.push(0.8);
        let want = numeric_gradient(|p| calls_in_a_skipped_range(n, d, &p[..9], 0.2, p[9]), &p);
        let mut got = g.x.clone();
        got.push(g.g);
        assert_all_close(&got, &want, 1e-6);
    }
    for (n, d) in [(2, 1), (3, 2), (4, 1)] {
        let (_, g) = invariant_table_beside_carried_grad(n, d, &x9[..n * d]);
        let want = numeric_gradient(|p| invariant_table_beside_carried(n, d, p), &x9[..n * d]);
        assert_all_close(&g.x, &want, 1e-6);
    }
    for n in 1..=3 {
        let (z, y) = (&x9[..4], &x9[4..4 + n]);
        let (_, g) = inner_read_in_a_running_min_grad(n, y, z);
        let mut p = y.to_vec();
        p.extend(z);
        let want = numeric_gradient(|p| inner_read_in_a_running_min(n, &p[..n], &p[n..]), &p);
        let mut got = g.y.clone();
        got.extend(&g.z);
        assert_all_close(&got, &want, 1e-6);
    }
    for (d, z0) in [(1, -0.9), (3, -0.9), (4, -0.8), (3, 0.2)] {
        let mut z = x9[..4].to_vec();
        z[0] = z0;
        let (_, g) = loop_after_an_early_return_grad(d, &z);
        let want = numeric_gradient(|p| loop_after_an_early_return(d, p), &z);
        assert_all_close(&g.z, &want, 1e-6);
    }
    for (d, z) in [(1, [0.2, 0.1]), (4, [0.2, -0.1]), (4, [0.5, 0.3])] {
        let (_, g) = loop_after_an_early_return_on_a_call_grad(d, &z);
        let want = numeric_gradient(|p| loop_after_an_early_return_on_a_call(d, p), &z);
        assert_all_close(&g.z, &want, 1e-6);
    }
    for n in 1..=4 {
        let u = &x9[..n];
        let (_, g) = first_of_a_local_array_in_a_loop_grad(n, u, 0.7);
        let mut p = u.to_vec();
        p.push(0.7);
        let want = numeric_gradient(|p| first_of_a_local_array_in_a_loop(n, &p[..n], p[n]), &p);
        let mut got = g.u.clone();
        got.push(g.c);
        assert_all_close(&got, &want, 1e-6);
    }
    for d in 1..=4 {
        let (_, g) = counted_inner_sum_grad(0.7, &x9, d);
        let want = numeric_gradient(|p| counted_inner_sum(p[0], &x9, d), &[0.7]);
        assert_all_close(&[g.w], &want, 1e-6);
    }
    for n in 1..=4 {
        let (u, v) = (&x9[..n], &x9[4..4 + n]);
        let (_, g) = while_in_a_loop_counted_grad(u, v);
        let want = numeric_gradient(|p| while_in_a_loop_counted(u, p), v);
        assert_all_close(&g.v, &want, 1e-6);
    }
    let x6 = [0.3, -0.4, 0.9, 1.1, -0.2, 0.6];
    for (n, d) in [(1, 1), (2, 1), (2, 3), (3, 2)] {
        let (_, g) = inner_range_products_grad(&x6[..n * d], n, d);
        let want = numeric_gradient(|p| inner_range_products(p, n, d), &x6[..n * d]);
        assert_all_close(&g.x, &want, 1e-6);
    }
}

#[test]
fn where_the_loops_run_the_hessians_match_differences_of_the_gradient() {
    let theta = [0.7, 0.3, -0.4, 0.9];
    macro_rules! hessians {
        ($($hess:ident, $grad:ident;)*) => {$({
            let (_, _, h) = $hess(theta[0], &theta[1..]);
            let want = hessian_by_differences(|t| symgrad::Gradient::to_flat_vec(&$grad(t[0], &t[1..]).1), &theta);
            close(&h, &want, 1e-5, stringify!($hess));
        })*};
    }
    hessians! {
        div_sum_h_hessian, div_sum_h_grad; div_fold_h_hessian, div_fold_h_grad;
        ln_fold_h_hessian, ln_fold_h_grad; iter_ln_h_hessian, iter_ln_h_grad;
        scan_ln_h_hessian, scan_ln_h_grad;
    }
    let yv = [0.6, 0.9, -0.7];
    let (_, _, h) = max_of_invariant_call_h_hessian(yv[0], &yv[1..], 2);
    let want = hessian_by_differences(
        |t| symgrad::Gradient::to_flat_vec(&max_of_invariant_call_h_grad(t[0], &t[1..], 2).1),
        &yv,
    );
    close(&h, &want, 1e-5, "max_of_invariant_call_h");
    let p = [0.8, 0.6, 0.3, -0.4];
    let (_, _, h) = coupled_h_hessian(p[0], p[1], &p[2..]);
    let want = hessian_by_differences(
        |t| symgrad::Gradient::to_flat_vec(&coupled_h_grad(t[0], t[1], &t[2..]).1),
        &p,
    );
    close(&h, &want, 1e-5, "coupled_h");
}
