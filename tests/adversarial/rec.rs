#![allow(clippy::needless_range_loop, unused_assignments, unused_mut)]
use super::harness::{Report, check, check_h};
use symgrad::differentiable;

// R1 stable log-sum-exp
#[differentiable]
pub fn lse(z: &[f64]) -> f64 {
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

// R2 softmax cross-entropy with a label index
#[differentiable]
pub fn softmax_ce(z: &[f64], label: usize) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln() - z[label]
}

// R3 softmax regression on one sample, logits computed inside loops (w is k x d)
#[differentiable(wrt(w))]
pub fn softmax_reg(w: &[f64], x: &[f64], k: usize, label: usize) -> f64 {
    let d = x.len();
    let mut m = f64::NEG_INFINITY;
    for c in 0..k {
        let mut zc = 0.0;
        for j in 0..d {
            zc += w[c * d + j] * x[j];
        }
        m = m.max(zc);
    }
    let mut s = 0.0;
    for c in 0..k {
        let mut zc = 0.0;
        for j in 0..d {
            zc += w[c * d + j] * x[j];
        }
        s += (zc - m).exp();
    }
    let mut zl = 0.0;
    for j in 0..d {
        zl += w[label * d + j] * x[j];
    }
    m + s.ln() - zl
}

// R4 logsumexp per row, summed
#[differentiable]
pub fn lse_rows(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let mut m = f64::NEG_INFINITY;
        for c in 0..cols {
            m = m.max(a[r * cols + c]);
        }
        let mut s = 0.0;
        for c in 0..cols {
            s += (a[r * cols + c] - m).exp();
        }
        total += m + s.ln();
    }
    total
}

// R5 max pooling, windows of k, summed squared
#[differentiable]
pub fn maxpool(x: &[f64], k: usize) -> f64 {
    let mut total = 0.0;
    for w in 0..x.len() / k {
        let mut m = f64::NEG_INFINITY;
        for j in 0..k {
            m = m.max(x[w * k + j]);
        }
        total += m * m;
    }
    total
}

// R6 Horner
#[differentiable]
pub fn horner(c: &[f64], t: f64) -> f64 {
    let mut acc = 0.0;
    for i in 0..c.len() {
        acc = acc * t + c[i];
    }
    acc
}

// R7 Horner, reversed coefficient order
#[differentiable]
pub fn horner_rev(c: &[f64], t: f64) -> f64 {
    let n = c.len();
    let mut acc = 0.0;
    for i in 0..n {
        acc = acc * t + c[n - 1 - i];
    }
    acc
}

// R8 running min (method) and running min (if)
#[differentiable]
pub fn running_min(x: &[f64]) -> f64 {
    let mut m = f64::INFINITY;
    for i in 0..x.len() {
        m = m.min(x[i] * x[i] - x[i]);
    }
    m
}

#[differentiable]
pub fn running_min_if(x: &[f64], w: f64) -> f64 {
    let mut m = 1e30;
    for i in 0..x.len() {
        if w * x[i] < m {
            m = w * x[i];
        }
    }
    m
}

// R9 EMA with differentiated beta, written as s + beta*(x - s)
#[differentiable]
pub fn ema2(beta: f64, x: &[f64]) -> f64 {
    let mut s = x[0];
    for i in 1..x.len() {
        s = s + beta * (x[i] - s);
    }
    s
}

// R10 RNN last state
#[differentiable(wrt(w, u))]
pub fn rnn(w: f64, u: f64, x: &[f64]) -> f64 {
    let mut h = 0.0;
    for i in 0..x.len() {
        h = (w * h + u * x[i]).tanh();
    }
    h
}

// R11 RNN with all params incl. x, and b
#[differentiable]
pub fn rnn_all(w: f64, u: f64, b: f64, x: &[f64]) -> f64 {
    let mut h = 0.1;
    for i in 0..x.len() {
        h = (w * h + u * x[i] + b).tanh();
    }
    (h - 0.3).powi(2)
}

// R12 piecewise update
#[differentiable]
pub fn piecewise(x: &[f64], a: f64) -> f64 {
    let mut s = 0.5;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s = s * a + x[i];
        } else {
            s = s * 0.9 - a * x[i];
        }
    }
    s
}

// R13 branch on the carried value itself
#[differentiable]
pub fn branch_on_carry(x: &[f64]) -> f64 {
    let mut s: f64 = 0.3;
    for i in 0..x.len() {
        if s > 1.0 {
            s = s.sqrt() + 0.1 * x[i];
        } else {
            s = s + x[i] * x[i];
        }
    }
    s
}

// R14 recurrence whose body does not read the carried value
#[differentiable]
pub fn last_sin(x: &[f64], w: f64) -> f64 {
    let mut last = 0.0;
    for i in 0..x.len() {
        last = (w * x[i]).sin();
    }
    last * w
}

// R15 empty ranges
#[differentiable]
pub fn empty_range(x: &[f64], w: f64) -> f64 {
    let mut p = w;
    for i in 0..0 {
        p *= x[i];
    }
    let mut s = w * w;
    for i in x.len()..x.len() {
        s = s * x[i];
    }
    p + s
}

// R16 loop from 1 on a possibly length-1 slice
#[differentiable]
pub fn from_one(x: &[f64]) -> f64 {
    let mut p = x[0];
    for i in 1..x.len() {
        p = p * x[i] + x[i - 1];
    }
    p * p
}

// R17 f32 recurrences
#[differentiable]
pub fn prod32(x: &[f32], w: f32) -> f32 {
    let mut p = w;
    for i in 0..x.len() {
        p *= 1.0 + w * x[i];
    }
    p
}

#[differentiable]
pub fn ema32(beta: f32, x: &[f32]) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s = beta * s + (1.0 - beta) * x[i];
    }
    s
}

// R18 several recurrences in one loop, read after
#[differentiable]
pub fn several(x: &[f64], y: &[f64]) -> f64 {
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    let mut mn = f64::INFINITY;
    let mut e = 0.0;
    for i in 0..x.len() {
        p *= 1.0 + 0.1 * x[i] * y[i];
        m = m.max(x[i] - y[i]);
        mn = mn.min(x[i] + y[i]);
        e = 0.5 * e + y[i].sin();
    }
    p * m + mn * e
}

// R19 recurrence in loop in recurrence
#[differentiable]
pub fn nested_rec(a: &[f64], w: f64, rows: usize, cols: usize) -> f64 {
    let mut q = 0.0;
    for r in 0..rows {
        let mut p = 1.0;
        for c in 0..cols {
            p *= 1.0 + w * a[r * cols + c];
        }
        q = 0.5 * q + p;
    }
    q
}

// R19b: recurrence inside a recurrence whose inner init reads the outer carry
#[differentiable]
pub fn nested_rec2(a: &[f64], w: f64, rows: usize, cols: usize) -> f64 {
    let mut q = 0.5;
    for r in 0..rows {
        let mut p = q;
        for c in 0..cols {
            p = p * w + a[r * cols + c];
        }
        q = q.max(p);
    }
    q
}

// R20 iterator products
#[differentiable]
pub fn prod_iter(x: &[f64]) -> f64 {
    x.iter().map(|v| 1.0 + v * v).product::<f64>()
}

#[differentiable]
pub fn prod_zip(x: &[f64], y: &[f64], w: f64) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (w * a + b).cos())
        .product::<f64>()
}

#[differentiable]
pub fn prod_range(x: &[f64], w: f64) -> f64 {
    (0..x.len())
        .map(|i| 1.0 + w * x[i] * (i as f64))
        .product::<f64>()
}

#[differentiable]
pub fn prod_enum(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0) * v)
        .product::<f64>()
        .ln()
}

// R21 assorted recurrence ops
#[differentiable]
pub fn div_rec(x: &[f64]) -> f64 {
    let mut s = 2.0;
    for i in 0..x.len() {
        s /= 1.0 + x[i] * x[i];
        s -= 0.1 * s * x[i];
    }
    s
}

#[differentiable]
pub fn nonlinear_rec(x: &[f64], c: f64) -> f64 {
    let mut s = 0.2;
    for i in 0..x.len() {
        s = s * s * c + x[i];
    }
    s
}

#[differentiable]
pub fn clamp_rec(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s = (s + x[i]).clamp(-1.0, 1.0);
    }
    s
}

#[differentiable]
pub fn chain_max_min(x: &[f64]) -> f64 {
    let mut m: f64 = 0.0;
    for i in 0..x.len() {
        m = m.max(x[i]).min(2.0);
    }
    m
}

// overwrite updates: s = x[i]*w (not reading s), mixed with sum
#[differentiable]
pub fn overwrite_mix(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut t = 0.0;
    for i in 0..x.len() {
        s = x[i] * w;
        t += x[i] * x[i] * w;
    }
    s * t
}

// Recurrence using a local computed from loop data and a let inside the loop
#[differentiable]
pub fn let_in_rec(x: &[f64], w: f64) -> f64 {
    let mut h = 1.0;
    for i in 0..x.len() {
        let a = w * x[i];
        let g = 1.0 / (1.0 + (-a).exp());
        h = g * h + (1.0 - g) * a;
    }
    h
}

// Recurrence with a compound max then an in-loop sum of different data (independent)
#[differentiable]
pub fn rec_and_indep_sum(x: &[f64], y: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..x.len() {
        m = m.max(x[i] * 2.0);
        s += y[i] * y[i];
    }
    m * s
}

// Recurrence carried value is a scalar param initially
#[differentiable]
pub fn init_from_param(x: &[f64], h0: f64) -> f64 {
    let mut h = h0;
    for i in 0..x.len() {
        h = (h * x[i]).sin();
    }
    h
}

// mul_add / powi recurrence
#[differentiable]
pub fn muladd_rec(x: &[f64], a: f64) -> f64 {
    let mut s: f64 = 1.0;
    for i in 0..x.len() {
        s = s.mul_add(a, x[i]).powi(2) * 0.3;
    }
    s
}

// Recurrence over an index range not starting at 0 with strided reads
#[differentiable]
pub fn strided(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 1..x.len() / 2 {
        p *= x[2 * i] - x[2 * i - 1];
    }
    p
}

fn cat(parts: &[&[f64]]) -> Vec<f64> {
    parts.concat()
}

pub fn run(r: &mut Report) {
    let z = [0.3, -1.2, 2.1, 0.7, 1.5];
    let n = z.len();
    check(
        r,
        "lse",
        &z,
        |p| lse(p),
        |p| {
            let (v, g) = lse_grad(p);
            (v, g.z)
        },
    );
    check_h(
        r,
        "lse_large",
        &[1000.0, 1001.5, 999.0],
        |p| lse(p),
        |p| {
            let (v, g) = lse_grad(p);
            (v, g.z)
        },
        1e-6,
        1e-6,
    );
    check(
        r,
        "lse_len1",
        &[0.7],
        |p| lse(p),
        |p| {
            let (v, g) = lse_grad(p);
            (v, g.z)
        },
    );
    check(
        r,
        "softmax_ce",
        &z,
        |p| softmax_ce(p, 3),
        |p| {
            let (v, g) = softmax_ce_grad(p, 3);
            (v, g.z)
        },
    );

    let (k, d) = (3usize, 4usize);
    let w: Vec<f64> = (0..k * d)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.13)
        .collect();
    let x = [0.5, -1.0, 0.25, 2.0];
    check(
        r,
        "softmax_reg",
        &w,
        |p| softmax_reg(p, &x, k, 2),
        |p| {
            let (v, g) = softmax_reg_grad(p, &x, k, 2);
            (v, g.w)
        },
    );

    let a: Vec<f64> = (0..12)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.21)
        .collect();
    check(
        r,
        "lse_rows",
        &a,
        |p| lse_rows(p, 3, 4),
        |p| {
            let (v, g) = lse_rows_grad(p, 3, 4);
            (v, g.a)
        },
    );
    check(
        r,
        "maxpool",
        &a,
        |p| maxpool(p, 3),
        |p| {
            let (v, g) = maxpool_grad(p, 3);
            (v, g.x)
        },
    );
    check(
        r,
        "maxpool_k1",
        &a[..4],
        |p| maxpool(p, 1),
        |p| {
            let (v, g) = maxpool_grad(p, 1);
            (v, g.x)
        },
    );

    let c = [0.5, -1.0, 2.0, 0.3, -0.7];
    let pc = cat(&[&c, &[0.8]]);
    check(
        r,
        "horner",
        &pc,
        |p| horner(&p[..5], p[5]),
        |p| {
            let (v, g) = horner_grad(&p[..5], p[5]);
            (v, cat(&[&g.c, &[g.t]]))
        },
    );
    check(
        r,
        "horner_rev",
        &pc,
        |p| horner_rev(&p[..5], p[5]),
        |p| {
            let (v, g) = horner_rev_grad(&p[..5], p[5]);
            (v, cat(&[&g.c, &[g.t]]))
        },
    );
    check(
        r,
        "horner_len1",
        &[0.5, 0.8],
        |p| horner(&p[..1], p[1]),
        |p| {
            let (v, g) = horner_grad(&p[..1], p[1]);
            (v, cat(&[&g.c, &[g.t]]))
        },
    );

    check(
        r,
        "running_min",
        &[0.3, -1.2, 2.1, 0.6, 1.5],
        |p| running_min(p),
        |p| {
            let (v, g) = running_min_grad(p);
            (v, g.x)
        },
    );
    let pz = cat(&[&z, &[1.3]]);
    check(
        r,
        "running_min_if",
        &pz,
        |p| running_min_if(&p[..n], p[n]),
        |p| {
            let (v, g) = running_min_if_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let pb = cat(&[&[0.3], &z]);
    check(
        r,
        "ema2",
        &pb,
        |p| ema2(p[0], &p[1..]),
        |p| {
            let (v, g) = ema2_grad(p[0], &p[1..]);
            (v, cat(&[&[g.beta], &g.x]))
        },
    );
    check(
        r,
        "ema2_len1",
        &[0.3, 0.9],
        |p| ema2(p[0], &p[1..]),
        |p| {
            let (v, g) = ema2_grad(p[0], &p[1..]);
            (v, cat(&[&[g.beta], &g.x]))
        },
    );
    check(
        r,
        "rnn",
        &[0.7, -0.4],
        |p| rnn(p[0], p[1], &z),
        |p| {
            let (v, g) = rnn_grad(p[0], p[1], &z);
            (v, vec![g.w, g.u])
        },
    );
    let prnn = cat(&[&[0.7, -0.4, 0.1], &z]);
    check(
        r,
        "rnn_all",
        &prnn,
        |p| rnn_all(p[0], p[1], p[2], &p[3..]),
        |p| {
            let (v, g) = rnn_all_grad(p[0], p[1], p[2], &p[3..]);
            (v, cat(&[&[g.w, g.u, g.b], &g.x]))
        },
    );
    let pa = cat(&[&z, &[1.1]]);
    check(
        r,
        "piecewise",
        &pa,
        |p| piecewise(&p[..n], p[n]),
        |p| {
            let (v, g) = piecewise_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.a]]))
        },
    );
    check(
        r,
        "branch_on_carry",
        &z,
        |p| branch_on_carry(p),
        |p| {
            let (v, g) = branch_on_carry_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "last_sin",
        &pa,
        |p| last_sin(&p[..n], p[n]),
        |p| {
            let (v, g) = last_sin_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "empty_range",
        &pa,
        |p| empty_range(&p[..n], p[n]),
        |p| {
            let (v, g) = empty_range_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "from_one",
        &z,
        |p| from_one(p),
        |p| {
            let (v, g) = from_one_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "from_one_len1",
        &[0.7],
        |p| from_one(p),
        |p| {
            let (v, g) = from_one_grad(p);
            (v, g.x)
        },
    );

    // f32: compare against f64 FD of the f32 function with a large step and loose tolerance
    let to32 = |p: &[f64]| p.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let x32 = [0.3, -0.5, 0.8, 0.2];
    let p32 = cat(&[&x32, &[0.9]]);
    check_h(
        r,
        "prod32",
        &p32,
        |p| {
            let q = to32(p);
            prod32(&q[..4], q[4]) as f64
        },
        |p| {
            let q = to32(p);
            let (v, g) = prod32_grad(&q[..4], q[4]);
            (
                v as f64,
                g.x.iter().map(|&v| v as f64).chain([g.w as f64]).collect(),
            )
        },
        3e-3,
        1e-2,
    );
    let pe32 = cat(&[&[0.6], &x32]);
    check_h(
        r,
        "ema32",
        &pe32,
        |p| {
            let q = to32(p);
            ema32(q[0], &q[1..]) as f64
        },
        |p| {
            let q = to32(p);
            let (v, g) = ema32_grad(q[0], &q[1..]);
            (
                v as f64,
                [g.beta]
                    .iter()
                    .chain(g.x.iter())
                    .map(|&v| v as f64)
                    .collect(),
            )
        },
        3e-3,
        1e-2,
    );

    let y = [0.4, 0.9, -0.3, 0.2, -1.1];
    let pxy = cat(&[&z, &y]);
    check(
        r,
        "several",
        &pxy,
        |p| several(&p[..n], &p[n..]),
        |p| {
            let (v, g) = several_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    let pa12 = cat(&[&a, &[0.3]]);
    check(
        r,
        "nested_rec",
        &pa12,
        |p| nested_rec(&p[..12], p[12], 3, 4),
        |p| {
            let (v, g) = nested_rec_grad(&p[..12], p[12], 3, 4);
            (v, cat(&[&g.a, &[g.w]]))
        },
    );
    check(
        r,
        "nested_rec2",
        &pa12,
        |p| nested_rec2(&p[..12], p[12], 3, 4),
        |p| {
            let (v, g) = nested_rec2_grad(&p[..12], p[12], 3, 4);
            (v, cat(&[&g.a, &[g.w]]))
        },
    );
    check(
        r,
        "prod_iter",
        &z,
        |p| prod_iter(p),
        |p| {
            let (v, g) = prod_iter_grad(p);
            (v, g.x)
        },
    );
    let pzip = cat(&[&z, &y, &[0.3]]);
    check(
        r,
        "prod_zip",
        &pzip,
        |p| prod_zip(&p[..n], &p[n..2 * n], p[2 * n]),
        |p| {
            let (v, g) = prod_zip_grad(&p[..n], &p[n..2 * n], p[2 * n]);
            (v, cat(&[&g.x, &g.y, &[g.w]]))
        },
    );
    let pr = cat(&[&z, &[0.2]]);
    check(
        r,
        "prod_range",
        &pr,
        |p| prod_range(&p[..n], p[n]),
        |p| {
            let (v, g) = prod_range_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let zp = [0.3, 1.2, 2.1, 0.7, 1.5];
    check(
        r,
        "prod_enum",
        &zp,
        |p| prod_enum(p),
        |p| {
            let (v, g) = prod_enum_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "div_rec",
        &z,
        |p| div_rec(p),
        |p| {
            let (v, g) = div_rec_grad(p);
            (v, g.x)
        },
    );
    let small = [0.1, -0.2, 0.3, 0.05];
    let pnl = cat(&[&small, &[0.7]]);
    check(
        r,
        "nonlinear_rec",
        &pnl,
        |p| nonlinear_rec(&p[..4], p[4]),
        |p| {
            let (v, g) = nonlinear_rec_grad(&p[..4], p[4]);
            (v, cat(&[&g.x, &[g.c]]))
        },
    );
    // clamp: s path 0.3 -> 0.8 -> clamp(1.6)=1 -> 1-0.5=0.5 -> 0.7
    let xc = [0.3, 0.5, 0.8, -0.5, 0.2];
    check(
        r,
        "clamp_rec",
        &xc,
        |p| clamp_rec(p),
        |p| {
            let (v, g) = clamp_rec_grad(p);
            (v, g.x)
        },
    );
    let xm = [0.3, 2.5, 0.8, 1.5, 0.2];
    check(
        r,
        "chain_max_min",
        &xm,
        |p| chain_max_min(p),
        |p| {
            let (v, g) = chain_max_min_grad(p);
            (v, g.x)
        },
    );
    let xm2 = [0.3, 1.5, 0.8, 1.7, 0.2];
    check(
        r,
        "chain_max_min2",
        &xm2,
        |p| chain_max_min(p),
        |p| {
            let (v, g) = chain_max_min_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "overwrite_mix",
        &pa,
        |p| overwrite_mix(&p[..n], p[n]),
        |p| {
            let (v, g) = overwrite_mix_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "let_in_rec",
        &pa,
        |p| let_in_rec(&p[..n], p[n]),
        |p| {
            let (v, g) = let_in_rec_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "rec_and_indep_sum",
        &pxy,
        |p| rec_and_indep_sum(&p[..n], &p[n..]),
        |p| {
            let (v, g) = rec_and_indep_sum_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    check(
        r,
        "init_from_param",
        &pa,
        |p| init_from_param(&p[..n], p[n]),
        |p| {
            let (v, g) = init_from_param_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.h0]]))
        },
    );
    let pma = cat(&[&small, &[0.7]]);
    check(
        r,
        "muladd_rec",
        &pma,
        |p| muladd_rec(&p[..4], p[4]),
        |p| {
            let (v, g) = muladd_rec_grad(&p[..4], p[4]);
            (v, cat(&[&g.x, &[g.a]]))
        },
    );
    let xs = [0.3, -1.2, 2.1, 0.7, 1.5, 0.2, -0.4, 0.9];
    check(
        r,
        "strided",
        &xs,
        |p| strided(p),
        |p| {
            let (v, g) = strided_grad(p);
            (v, g.x)
        },
    );
}
