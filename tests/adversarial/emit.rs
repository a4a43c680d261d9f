#![allow(
    clippy::needless_range_loop,
    clippy::needless_return,
    unused_assignments,
    unused_mut
)]
use super::harness::{Report, check, check_h};
use symgrad::differentiable;

// E1 fused sums: variance
#[differentiable]
pub fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut s1 = 0.0;
    let mut s2 = 0.0;
    for i in 0..x.len() {
        s1 += x[i];
        s2 += x[i] * x[i];
    }
    s2 / n - (s1 / n).powi(2)
}

// E2 fused sums across separate loops over same range
#[differentiable]
pub fn sep_loops(x: &[f64], w: f64) -> f64 {
    let mut a = 0.0;
    for i in 0..x.len() {
        a += (w * x[i]).exp();
    }
    let mut b = 0.0;
    for i in 0..x.len() {
        b += (w * x[i]).exp() * x[i];
    }
    b / a
}

// E3 loop-invariant factors
#[differentiable]
pub fn invariant(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w * b * x[i] + (w * w).exp() * x[i] * y[i] - w * x[i] / b;
    }
    s * s
}

// E3b invariant factor is a slice element at fixed index
#[differentiable]
pub fn invariant_elem(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += x[0] * x[1] * y[i];
    }
    s
}

// E4 triangular loops
#[differentiable]
pub fn tri(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..i {
            s += w * x[i] * x[j] + (x[i] - x[j]).powi(2);
        }
    }
    s
}

#[differentiable]
pub fn tri_upper(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += (x[i] * x[j]).sin();
        }
    }
    s
}

// E4b triangular with a recurrence inside
#[differentiable]
pub fn tri_rec(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let mut p = 1.0;
        for j in 0..i {
            p *= 1.0 + 0.5 * x[j];
        }
        s += p * x[i];
    }
    s
}

// E5 element at a fixed index in every iteration
#[differentiable]
pub fn fixed_idx(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - x[0]).powi(2) + x[0] * x[i];
    }
    s
}

#[differentiable]
pub fn fixed_idx_rec(x: &[f64]) -> f64 {
    let mut p = 0.0;
    for i in 1..x.len() {
        p = p * x[0] + x[i];
    }
    p
}

#[differentiable]
pub fn fixed_last(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        s += x[n - 1] * x[i] * x[i];
    }
    s
}

// E6 Rosenbrock
#[differentiable]
pub fn rosen(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

// E7 gather with duplicate indices
#[differentiable(wrt(w))]
pub fn gather(w: &[f64], idx: &[usize], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..idx.len() {
        s += (w[idx[k]] * w[idx[k]] - y[k]).powi(2);
    }
    s
}

// E8 sparse cofi loop
#[differentiable(wrt(u, v))]
pub fn cofi(u: &[f64], v: &[f64], rows: &[usize], cols: &[usize], r: &[f64], f: usize) -> f64 {
    let mut s = 0.0;
    for k in 0..rows.len() {
        let mut p = 0.0;
        for j in 0..f {
            p += u[rows[k] * f + j] * v[cols[k] * f + j];
        }
        s += (p - r[k]).powi(2);
    }
    0.5 * s
}

// E9 early return before loops
#[differentiable]
pub fn early(x: &[f64], w: f64) -> f64 {
    if x.len() < 2 {
        return w * w;
    }
    if w < 0.0 {
        return -w;
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w * x[i] * x[i];
    }
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= 1.0 + w * x[i];
    }
    s + p
}

// E10 if inside loop, leaky
#[differentiable]
pub fn leaky(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let z = w * x[i] - 0.1;
        if z > 0.0 {
            s += z * z;
        } else {
            s += 0.01 * z;
        }
    }
    s
}

// E11 loop inside if branches
#[differentiable]
pub fn loop_in_if(x: &[f64], w: f64) -> f64 {
    if w > 0.0 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += (w * x[i]).sin();
        }
        s
    } else {
        let mut p = 1.0;
        for i in 0..x.len() {
            p *= w + x[i];
        }
        p
    }
}

// E12 loop in a block expression
#[differentiable]
pub fn loop_in_block(x: &[f64]) -> f64 {
    let s = {
        let mut a = 0.0;
        for i in 0..x.len() {
            a += x[i].exp();
        }
        a
    };
    s.ln()
}

// E13 mean with len as f64
#[differentiable]
pub fn mse(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (w * x[i] + b - y[i]).powi(2);
    }
    s / (2.0 * x.len() as f64)
}

// E14 f32 sums with len
#[differentiable]
pub fn mse32(w: f32, x: &[f32], y: &[f32]) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (w * x[i] - y[i]).powi(2);
    }
    s / x.len() as f32
}

// E15 iterator sum inside a for loop body
#[differentiable]
pub fn iter_in_loop(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut t = 0.0;
    for r in 0..rows {
        t += (0..cols)
            .map(|c| a[r * cols + c].powi(2))
            .sum::<f64>()
            .sqrt();
    }
    t
}

// E16 sum after recurrence reading final value + recurrence after sum reading final sum
#[differentiable]
pub fn sum_then_rec(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= 1.0 + x[i] / s;
    }
    p
}

// E17 -= accumulators, mixed += -=
#[differentiable]
pub fn minus_acc(x: &[f64], w: f64) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        s -= w * x[i];
        s += x[i].powi(3);
    }
    s
}

// E18 loop index as float
#[differentiable]
pub fn idx_float(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (i as f64 + 1.0) * w * x[i];
    }
    let mut q = 0.0;
    for i in 0..x.len() {
        q = q * 0.5 + (i as f64) * x[i];
    }
    s * q
}

// E19 nested sums 3 deep
#[differentiable]
pub fn three_deep(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                s += x[i] * x[j] * x[k] * (1.0 + (i + j + k) as f64);
            }
        }
    }
    s
}

// E20 inclusive range
#[differentiable]
pub fn incl(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..=x.len() - 1 {
        s += x[i] * x[i];
    }
    s
}

fn cat(parts: &[&[f64]]) -> Vec<f64> {
    parts.concat()
}

pub fn run(r: &mut Report) {
    let x = [0.3, -1.2, 2.1, 0.7, 1.5];
    let y = [0.4, 0.9, -0.3, 0.2, -1.1];
    let n = 5;
    check(
        r,
        "variance",
        &x,
        |p| variance(p),
        |p| {
            let (v, g) = variance_grad(p);
            (v, g.x)
        },
    );
    let pw = cat(&[&x, &[0.4]]);
    check(
        r,
        "sep_loops",
        &pw,
        |p| sep_loops(&p[..n], p[n]),
        |p| {
            let (v, g) = sep_loops_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let pinv = cat(&[&x, &y, &[0.4, 1.3]]);
    check(
        r,
        "invariant",
        &pinv,
        |p| invariant(&p[..n], &p[n..2 * n], p[10], p[11]),
        |p| {
            let (v, g) = invariant_grad(&p[..n], &p[n..2 * n], p[10], p[11]);
            (v, cat(&[&g.x, &g.y, &[g.w, g.b]]))
        },
    );
    let pxy = cat(&[&x, &y]);
    check(
        r,
        "invariant_elem",
        &pxy,
        |p| invariant_elem(&p[..n], &p[n..]),
        |p| {
            let (v, g) = invariant_elem_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    check(
        r,
        "tri",
        &pw,
        |p| tri(&p[..n], p[n]),
        |p| {
            let (v, g) = tri_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "tri_upper",
        &x,
        |p| tri_upper(p),
        |p| {
            let (v, g) = tri_upper_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "tri_rec",
        &x,
        |p| tri_rec(p),
        |p| {
            let (v, g) = tri_rec_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "fixed_idx",
        &x,
        |p| fixed_idx(p),
        |p| {
            let (v, g) = fixed_idx_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "fixed_idx_rec",
        &x,
        |p| fixed_idx_rec(p),
        |p| {
            let (v, g) = fixed_idx_rec_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "fixed_last",
        &x,
        |p| fixed_last(p),
        |p| {
            let (v, g) = fixed_last_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "rosen",
        &x,
        |p| rosen(p),
        |p| {
            let (v, g) = rosen_grad(p);
            (v, g.x)
        },
    );
    let idx = [2usize, 0, 2, 3, 2];
    let w4 = [0.5, -1.0, 2.0, 0.3];
    check(
        r,
        "gather_dup",
        &w4,
        |p| gather(p, &idx, &y),
        |p| {
            let (v, g) = gather_grad(p, &idx, &y);
            (v, g.w)
        },
    );
    let f = 2;
    let u: Vec<f64> = (0..3 * f).map(|i| 0.1 * i as f64 - 0.2).collect();
    let vv: Vec<f64> = (0..4 * f).map(|i| 0.3 - 0.07 * i as f64).collect();
    let rows = [0usize, 2, 1, 0, 2];
    let cols = [1usize, 3, 0, 1, 2];
    let rr = [1.0, -0.5, 0.3, 0.8, 0.1];
    let puv = cat(&[&u, &vv]);
    check(
        r,
        "cofi",
        &puv,
        |p| cofi(&p[..6], &p[6..], &rows, &cols, &rr, f),
        |p| {
            let (v, g) = cofi_grad(&p[..6], &p[6..], &rows, &cols, &rr, f);
            (v, cat(&[&g.u, &g.v]))
        },
    );
    check(
        r,
        "early_pos",
        &pw,
        |p| early(&p[..n], p[n]),
        |p| {
            let (v, g) = early_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let pwneg = cat(&[&x, &[-0.4]]);
    check(
        r,
        "early_neg",
        &pwneg,
        |p| early(&p[..n], p[n]),
        |p| {
            let (v, g) = early_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "early_len1",
        &[0.3, 0.4],
        |p| early(&p[..1], p[1]),
        |p| {
            let (v, g) = early_grad(&p[..1], p[1]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    let pwl = cat(&[&x, &[0.45]]);
    check(
        r,
        "leaky",
        &pwl,
        |p| leaky(&p[..n], p[n]),
        |p| {
            let (v, g) = leaky_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "loop_in_if_pos",
        &pw,
        |p| loop_in_if(&p[..n], p[n]),
        |p| {
            let (v, g) = loop_in_if_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "loop_in_if_neg",
        &pwneg,
        |p| loop_in_if(&p[..n], p[n]),
        |p| {
            let (v, g) = loop_in_if_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "loop_in_block",
        &x,
        |p| loop_in_block(p),
        |p| {
            let (v, g) = loop_in_block_grad(p);
            (v, g.x)
        },
    );
    let pm = cat(&[&[0.7, -0.2], &x, &y]);
    check(
        r,
        "mse",
        &pm,
        |p| mse(p[0], p[1], &p[2..2 + n], &p[2 + n..]),
        |p| {
            let (v, g) = mse_grad(p[0], p[1], &p[2..2 + n], &p[2 + n..]);
            (v, cat(&[&[g.w, g.b], &g.x, &g.y]))
        },
    );
    let to32 = |p: &[f64]| p.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let pm32 = cat(&[&[0.7], &x, &y]);
    check_h(
        r,
        "mse32",
        &pm32,
        |p| {
            let q = to32(p);
            mse32(q[0], &q[1..1 + n], &q[1 + n..]) as f64
        },
        |p| {
            let q = to32(p);
            let (v, g) = mse32_grad(q[0], &q[1..1 + n], &q[1 + n..]);
            (
                v as f64,
                [g.w]
                    .iter()
                    .chain(g.x.iter())
                    .chain(g.y.iter())
                    .map(|&v| v as f64)
                    .collect(),
            )
        },
        3e-3,
        1e-2,
    );
    let a: Vec<f64> = (0..12)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.21 + 0.05)
        .collect();
    check(
        r,
        "iter_in_loop",
        &a,
        |p| iter_in_loop(p, 3, 4),
        |p| {
            let (v, g) = iter_in_loop_grad(p, 3, 4);
            (v, g.a)
        },
    );
    check(
        r,
        "sum_then_rec",
        &x,
        |p| sum_then_rec(p),
        |p| {
            let (v, g) = sum_then_rec_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "minus_acc",
        &pw,
        |p| minus_acc(&p[..n], p[n]),
        |p| {
            let (v, g) = minus_acc_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "idx_float",
        &pw,
        |p| idx_float(&p[..n], p[n]),
        |p| {
            let (v, g) = idx_float_grad(&p[..n], p[n]);
            (v, cat(&[&g.x, &[g.w]]))
        },
    );
    check(
        r,
        "three_deep",
        &x[..3],
        |p| three_deep(p, 3),
        |p| {
            let (v, g) = three_deep_grad(p, 3);
            (v, g.x)
        },
    );
    check(
        r,
        "incl",
        &x,
        |p| incl(p),
        |p| {
            let (v, g) = incl_grad(p);
            (v, g.x)
        },
    );
}
