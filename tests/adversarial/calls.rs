#![allow(
    clippy::needless_range_loop,
    clippy::needless_borrow,
    clippy::ptr_arg,
    unused_mut
)]
use super::harness::{Report, check, check_h};
use symgrad::differentiable;

#[differentiable]
pub fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable]
pub fn sq(w: &[f64]) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>()
}

// C1 the brief's example
#[differentiable]
pub fn loss1(w: &[f64], x: &[f64]) -> f64 {
    dot(w, x) + sq(&w)
}

// C2 same slice passed to both differentiated params of the callee
#[differentiable]
pub fn self_dot(w: &[f64]) -> f64 {
    sq(w).sqrt()
}

// C3 data slice in the first slot, differentiated in the second
#[differentiable(wrt(w))]
pub fn swapped(w: &[f64], x: &[f64]) -> f64 {
    dot(x, w).powi(2)
}

// C4 two different calls multiplied
#[differentiable]
pub fn two_calls(w: &[f64], v: &[f64], x: &[f64]) -> f64 {
    dot(w, x) * dot(v, x) + dot(w, v)
}

// C5 calls inside a loop: least squares with a callee indexing rows
#[differentiable]
pub fn row_dot(w: &[f64], a: &[f64], r: usize) -> f64 {
    let n = w.len();
    let mut s = 0.0;
    for c in 0..n {
        s += w[c] * a[r * n + c];
    }
    s
}

#[differentiable]
pub fn lsq(w: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let mut total = 0.0;
    for r in 0..b.len() {
        total += (row_dot(w, a, r) - b[r]).powi(2);
    }
    total / b.len() as f64 + 0.1 * sq(w)
}

// C6 callee with a recurrence, called from a loop (per-row lse)
#[differentiable]
pub fn row_lse(a: &[f64], r: usize, cols: usize) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for c in 0..cols {
        m = m.max(a[r * cols + c]);
    }
    let mut s = 0.0;
    for c in 0..cols {
        s += (a[r * cols + c] - m).exp();
    }
    m + s.ln()
}

#[differentiable]
pub fn sum_row_lse(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut t = 0.0;
    for r in 0..rows {
        t += row_lse(a, r, cols);
    }
    t
}

// C7 callee with a product recurrence and scalar
#[differentiable]
pub fn poly(c: &[f64], t: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..c.len() {
        acc = acc * t + c[i];
    }
    acc
}

#[differentiable(wrt(c))]
pub fn poly_fit(c: &[f64], ts: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..ts.len() {
        let t = ts[k];
        s += (poly(c, t) - ys[k]).powi(2);
    }
    s
}

#[differentiable]
pub fn poly_fit_all(c: &[f64], ts: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..ts.len() {
        let t = ts[k];
        s += poly(c, t).sin();
    }
    s
}

// C8 call inside a recurrence
#[differentiable]
pub fn rnn_dot(u: &[f64], x: &[f64], w: f64, steps: usize) -> f64 {
    let mut h = 0.0;
    for _t in 0..steps {
        h = (w * h + dot(u, x)).tanh();
    }
    h
}

// C9 arrays passed as &x to slice callee
#[differentiable]
pub fn arr_call(x: [f64; 3], y: [f64; 3]) -> f64 {
    dot(&x, &y) + sq(&x).ln()
}

// C10 array callee taking array by value
#[differentiable]
pub fn arr_norm(x: [f64; 3]) -> f64 {
    (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt()
}

#[differentiable]
pub fn arr_norm_caller(x: [f64; 3], s: f64) -> f64 {
    s * x[0] * x[1] - x[2]
}

// C11 f32 through calls
#[differentiable]
pub fn dot32(w: &[f32], x: &[f32]) -> f32 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable]
pub fn prod32c(x: &[f32]) -> f32 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
pub fn loss32(w: &[f32], x: &[f32]) -> f32 {
    (dot32(w, x) - 1.0).powi(2) + prod32c(w)
}

// C12 two levels
#[differentiable]
pub fn mid(w: &[f64], x: &[f64]) -> f64 {
    (dot(w, x) + 1.0).ln() + sq(w)
}

#[differentiable]
pub fn top(w: &[f64], x: &[f64], k: f64) -> f64 {
    k * mid(w, x) + mid(x, w).powi(2)
}

// C13 Vec param passed to slice callee
#[differentiable]
pub fn vec_caller(w: &Vec<f64>, x: &Vec<f64>) -> f64 {
    dot(w, x) + sq(&w)
}

// C14 call result used inside loop with slice element
#[differentiable]
pub fn normalize_sum(x: &[f64]) -> f64 {
    let n = sq(x).sqrt();
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] / n).exp();
    }
    s
}

// C15 scalar callee in loop
#[differentiable]
pub fn softplus1(z: f64) -> f64 {
    if z > 20.0 { z } else { z.exp().ln_1p() }
}

#[differentiable(wrt(w, b))]
pub fn logistic_loss(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += softplus1(w * x[i] + b) - y[i] * (w * x[i] + b);
    }
    s / x.len() as f64
}

// C16 callee called twice with the same slice plus a scalar differentiated param
#[differentiable]
pub fn scaled_sq(w: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (a * w[i]).powi(2);
    }
    s
}

#[differentiable]
pub fn twice(w: &[f64], a: f64) -> f64 {
    scaled_sq(w, a) * scaled_sq(w, 2.0 * a) + scaled_sq(&w, a * a)
}

// C17 call inside loop inside recurrence with product
#[differentiable]
pub fn prod_of_calls(w: &[f64], a: &[f64], rows: usize) -> f64 {
    let mut p = 1.0;
    for r in 0..rows {
        p *= 1.0 + 0.1 * row_dot(w, a, r);
    }
    p
}

// C18 callee with wrt restriction called with a data slice
#[differentiable(wrt(w))]
pub fn wdot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i].exp();
    }
    s
}

#[differentiable(wrt(w))]
pub fn uses_wdot(w: &[f64], x: &[f64]) -> f64 {
    wdot(w, x).powi(2) + wdot(w, x)
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
        "loss1",
        &pwx,
        |p| loss1(&p[..4], &p[4..]),
        |p| {
            let (v, g) = loss1_grad(&p[..4], &p[4..]);
            (v, cat(&[&g.w, &g.x]))
        },
    );
    check(
        r,
        "self_dot",
        &w,
        |p| self_dot(p),
        |p| {
            let (v, g) = self_dot_grad(p);
            (v, g.w)
        },
    );
    check(
        r,
        "swapped",
        &w,
        |p| swapped(p, &x),
        |p| {
            let (v, g) = swapped_grad(p, &x);
            (v, g.w)
        },
    );
    let v = [0.1, 0.4, -0.6, 0.9];
    let pwvx = cat(&[&w, &v, &x]);
    check(
        r,
        "two_calls",
        &pwvx,
        |p| two_calls(&p[..4], &p[4..8], &p[8..]),
        |p| {
            let (vv, g) = two_calls_grad(&p[..4], &p[4..8], &p[8..]);
            (vv, cat(&[&g.w, &g.v, &g.x]))
        },
    );
    let a: Vec<f64> = (0..12)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.21)
        .collect();
    let b = [0.3, -0.2, 0.9];
    let pl = cat(&[&w, &a, &b]);
    check(
        r,
        "lsq",
        &pl,
        |p| lsq(&p[..4], &p[4..16], &p[16..]),
        |p| {
            let (vv, g) = lsq_grad(&p[..4], &p[4..16], &p[16..]);
            (vv, cat(&[&g.w, &g.a, &g.b]))
        },
    );
    check(
        r,
        "sum_row_lse",
        &a,
        |p| sum_row_lse(p, 3, 4),
        |p| {
            let (vv, g) = sum_row_lse_grad(p, 3, 4);
            (vv, g.a)
        },
    );
    let c = [0.5, -1.0, 2.0, 0.3];
    let ts = [0.1, -0.5, 0.9];
    let ys = [1.0, 0.0, 2.0];
    check(
        r,
        "poly_fit",
        &c,
        |p| poly_fit(p, &ts, &ys),
        |p| {
            let (vv, g) = poly_fit_grad(p, &ts, &ys);
            (vv, g.c)
        },
    );
    let pct = cat(&[&c, &ts]);
    check(
        r,
        "poly_fit_all",
        &pct,
        |p| poly_fit_all(&p[..4], &p[4..]),
        |p| {
            let (vv, g) = poly_fit_all_grad(&p[..4], &p[4..]);
            (vv, cat(&[&g.c, &g.ts]))
        },
    );
    let pux = cat(&[&v, &x, &[0.8]]);
    check(
        r,
        "rnn_dot",
        &pux,
        |p| rnn_dot(&p[..4], &p[4..8], p[8], 4),
        |p| {
            let (vv, g) = rnn_dot_grad(&p[..4], &p[4..8], p[8], 4);
            (vv, cat(&[&g.u, &g.x, &[g.w]]))
        },
    );
    let p6 = [0.5, -1.0, 2.0, 0.2, 0.7, -0.4];
    check(
        r,
        "arr_call",
        &p6,
        |p| arr_call([p[0], p[1], p[2]], [p[3], p[4], p[5]]),
        |p| {
            let (vv, g) = arr_call_grad([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
            (vv, cat(&[&g.x, &g.y]))
        },
    );
    check(
        r,
        "arr_norm_caller",
        &[0.5, -1.0, 2.0, 1.5],
        |p| arr_norm_caller([p[0], p[1], p[2]], p[3]),
        |p| {
            let (vv, g) = arr_norm_caller_grad([p[0], p[1], p[2]], p[3]);
            (vv, cat(&[&g.x, &[g.s]]))
        },
    );
    let to32 = |p: &[f64]| p.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    check_h(
        r,
        "loss32",
        &pwx,
        |p| {
            let q = to32(p);
            loss32(&q[..4], &q[4..]) as f64
        },
        |p| {
            let q = to32(p);
            let (vv, g) = loss32_grad(&q[..4], &q[4..]);
            (
                vv as f64,
                g.w.iter().chain(g.x.iter()).map(|&v| v as f64).collect(),
            )
        },
        3e-3,
        1e-2,
    );
    let xp = [0.2, 0.7, 0.4, 1.1];
    let pwxp = cat(&[&w, &xp]);
    check(
        r,
        "top",
        &cat(&[&pwxp, &[1.3]]),
        |p| top(&p[..4], &p[4..8], p[8]),
        |p| {
            let (vv, g) = top_grad(&p[..4], &p[4..8], p[8]);
            (vv, cat(&[&g.w, &g.x, &[g.k]]))
        },
    );
    check(
        r,
        "vec_caller",
        &pwx,
        |p| vec_caller(&p[..4].to_vec(), &p[4..].to_vec()),
        |p| {
            let (vv, g) = vec_caller_grad(&p[..4].to_vec(), &p[4..].to_vec());
            (vv, cat(&[&g.w, &g.x]))
        },
    );
    check(
        r,
        "normalize_sum",
        &w,
        |p| normalize_sum(p),
        |p| {
            let (vv, g) = normalize_sum_grad(p);
            (vv, g.x)
        },
    );
    let ylab = [1.0, 0.0, 1.0, 1.0];
    check(
        r,
        "logistic_loss",
        &[0.7, -0.2],
        |p| logistic_loss(p[0], p[1], &x, &ylab),
        |p| {
            let (vv, g) = logistic_loss_grad(p[0], p[1], &x, &ylab);
            (vv, vec![g.w, g.b])
        },
    );
    check(
        r,
        "twice",
        &cat(&[&w, &[0.6]]),
        |p| twice(&p[..4], p[4]),
        |p| {
            let (vv, g) = twice_grad(&p[..4], p[4]);
            (vv, cat(&[&g.w, &[g.a]]))
        },
    );
    let pwa = cat(&[&w, &a]);
    check(
        r,
        "prod_of_calls",
        &pwa,
        |p| prod_of_calls(&p[..4], &p[4..], 3),
        |p| {
            let (vv, g) = prod_of_calls_grad(&p[..4], &p[4..], 3);
            (vv, cat(&[&g.w, &g.a]))
        },
    );
    check(
        r,
        "uses_wdot",
        &w,
        |p| uses_wdot(p, &x),
        |p| {
            let (vv, g) = uses_wdot_grad(p, &x);
            (vv, g.w)
        },
    );
}
