#![allow(
    clippy::needless_range_loop,
    clippy::needless_return,
    unused_assignments,
    unused_mut,
    clippy::all
)]
use super::harness::{Report, check};
use symgrad::differentiable;

const DECAY: f64 = 0.75;

#[differentiable]
pub fn prodf(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= 1.0 + 0.3 * x[i];
    }
    p
}

#[differentiable]
pub fn twice_rec_callee(w: &[f64], x: &[f64]) -> f64 {
    prodf(w) * prodf(x)
        + prodf(w).ln()
        + crate::calls::row_lse(w, 0, 2) * crate::calls::row_lse(x, 1, 2)
}

#[differentiable]
pub fn three_level(a: &[f64], n: usize) -> f64 {
    let mut z = 0.0;
    for i in 0..n {
        let mut q: f64 = 1.0;
        for j in 0..n {
            let mut p = 0.5;
            for k in 0..n {
                p = p * 0.9 + a[(i * n + j) * n + k];
            }
            q = q.max(p) * 0.8 + 0.1 * p;
        }
        z = z * DECAY + q;
    }
    z
}

/// Doc comment on a differentiable fn.
#[differentiable]
#[inline]
pub(crate) fn attrs_and_consts(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s = s * DECAY + (std::f64::consts::PI * w * x[i]).cos();
    }
    return s;
}

#[differentiable]
pub fn recurrence_in_callee_in_loop_in_rec(w: &[f64], steps: usize) -> f64 {
    let mut h = 0.0;
    for _t in 0..steps {
        let mut acc = 0.0;
        for i in 0..w.len() {
            acc += w[i] * h;
        }
        h = (acc + prodf(w)).sin();
    }
    h
}

#[differentiable]
pub fn nested_calls_arg_expr(w: &[f64], x: &[f64]) -> f64 {
    (crate::calls::dot(w, x) + prodf(w)).exp() * crate::calls::sq(x)
}

fn cat(parts: &[&[f64]]) -> Vec<f64> {
    parts.concat()
}

pub fn run(r: &mut Report) {
    let w = [0.5, -1.0, 2.0, 0.3];
    let x = [0.2, 0.7, -0.4, 1.1];
    let pwx = cat(&[&w, &x]);
    check(
        r,
        "twice_rec_callee",
        &pwx,
        |p| twice_rec_callee(&p[..4], &p[4..]),
        |p| {
            let (v, g) = twice_rec_callee_grad(&p[..4], &p[4..]);
            (v, cat(&[&g.w, &g.x]))
        },
    );
    let a: Vec<f64> = (0..27)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.05)
        .collect();
    check(
        r,
        "three_level",
        &a,
        |p| three_level(p, 3),
        |p| {
            let (v, g) = three_level_grad(p, 3);
            (v, g.a)
        },
    );
    check(
        r,
        "attrs_and_consts",
        &cat(&[&x, &[0.4]]),
        |p| attrs_and_consts(&p[..4], p[4]),
        |p| {
            let (v, g) = attrs_and_consts_grad(&p[..4], p[4]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let ws = [0.1, -0.2, 0.3, 0.05];
    check(
        r,
        "rec_callee_in_loop_in_rec",
        &ws,
        |p| recurrence_in_callee_in_loop_in_rec(p, 4),
        |p| {
            let (v, g) = recurrence_in_callee_in_loop_in_rec_grad(p, 4);
            (v, g.w)
        },
    );
    let xs = [0.2, 0.1, -0.4, 0.3];
    check(
        r,
        "nested_calls_arg_expr",
        &cat(&[&ws, &xs]),
        |p| nested_calls_arg_expr(&p[..4], &p[4..]),
        |p| {
            let (v, g) = nested_calls_arg_expr_grad(&p[..4], &p[4..]);
            (v, cat(&[&g.w, &g.x]))
        },
    );
}
