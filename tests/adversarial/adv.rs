#![allow(
    clippy::needless_range_loop,
    clippy::needless_return,
    unused_assignments,
    unused_mut,
    clippy::all
)]
use super::harness::{Report, check};
use symgrad::differentiable;

#[differentiable]
pub fn two_stmt(x: &[f64], w: f64) -> f64 {
    let mut s = 0.5;
    for i in 0..x.len() {
        s *= w;
        s += x[i];
    }
    s
}

#[differentiable]
pub fn alias_prev(x: &[f64]) -> f64 {
    let mut s = 0.5;
    for i in 0..x.len() {
        let prev = s;
        s = prev * 0.5 + x[i] * prev;
    }
    s
}

#[differentiable]
pub fn cond_prod(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            p *= x[i];
        }
    }
    p
}

#[differentiable]
pub fn cond_on_carry_mixed(x: &[f64]) -> f64 {
    let mut s = 0.2;
    for i in 0..x.len() {
        if s < 1.0 {
            s += x[i] * x[i];
        } else {
            s *= 0.5;
        }
    }
    s
}

#[differentiable]
pub fn seq_same_var(x: &[f64], y: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    for i in 0..y.len() {
        p = p.max(y[i]);
    }
    for i in 0..y.len() {
        p += y[i] * x[i];
    }
    p
}

#[differentiable]
pub fn shadow_in_loop(x: &[f64]) -> f64 {
    let mut s = 0.1;
    for i in 0..x.len() {
        let s2: f64 = s * 2.0;
        let s2 = s2.sin();
        s = s2 + x[i];
    }
    s
}

#[differentiable]
pub fn inverted_inner(x: &[f64], n: usize) -> f64 {
    let mut t = 0.0;
    for i in 0..n {
        let mut p = 1.0;
        for j in i..3 {
            p *= x[j];
        }
        t += p;
    }
    t
}

#[differentiable]
pub fn from_one_noread(x: &[f64]) -> f64 {
    let mut p = 2.0;
    for i in 1..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
pub fn from_two_sum(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 2..x.len() {
        s += x[i] * x[i - 2];
    }
    s + 1.0
}

#[differentiable]
pub fn lo_hi(x: &[f64], lo: usize, hi: usize) -> f64 {
    let mut p = 1.0;
    for i in lo..hi {
        p = p * 0.5 + x[i].exp();
    }
    p
}

#[differentiable]
pub fn outer_local_in_inner(x: &[f64], a: &[f64], w: f64, cols: usize) -> f64 {
    let mut t = 0.0;
    for r in 0..x.len() {
        let g = w * x[r];
        let mut p = 1.0;
        for c in 0..cols {
            p = p * g + a[r * cols + c];
        }
        t += p * p;
    }
    t
}

#[differentiable]
pub fn max_else(z: &[f64]) -> f64 {
    let mut m = 0.0;
    for i in 0..z.len() {
        if z[i] > m {
            m = z[i];
        } else {
            m = 0.9 * m + 0.1 * z[i];
        }
    }
    m
}

#[differentiable]
pub fn if_expr_max(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = if z[i] > m { z[i] } else { m };
    }
    m * m
}

#[differentiable]
pub fn call_form_max(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = f64::max(m, z[i] * 3.0);
    }
    m
}

#[differentiable]
pub fn geometric(w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    for _ in 0..k {
        s = s * w + 1.0;
    }
    s
}

#[differentiable]
pub fn newton_sqrt(a: f64, iters: usize) -> f64 {
    let mut s = a;
    for _ in 0..iters {
        s = (s + a / s) * 0.5;
    }
    s
}

#[differentiable]
pub fn powf_rec(x: &[f64], w: f64) -> f64 {
    let mut s: f64 = 1.1;
    for i in 0..x.len() {
        s = s.powf(w) + x[i];
    }
    s
}

#[differentiable]
pub fn neighbours(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() - 1 {
        s = 0.5 * s + x[i - 1] * x[i + 1] - x[i];
    }
    s
}

#[differentiable]
pub fn arr_prod(a: [f64; 4], w: f64) -> f64 {
    let mut p = w;
    for i in 0..4 {
        p *= a[i] + w;
    }
    p
}

#[differentiable]
pub fn return_after_rec(x: &[f64], y: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(x[i]);
    }
    if m > 2.0 {
        return m * 2.0;
    }
    let mut s = 0.0;
    for i in 0..y.len() {
        s += (y[i] - m).powi(2);
    }
    s
}

#[differentiable]
pub fn late_init(x: &[f64], w: f64) -> f64 {
    let mut p;
    p = w * 2.0;
    p = p * w;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
pub fn inner_sum_init_from_carry(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut q = 0.1;
    for r in 0..rows {
        let mut s = q;
        for c in 0..cols {
            s += a[r * cols + c] * a[r * cols + c];
        }
        q = q.max(s) * 0.5;
    }
    q
}

#[differentiable]
pub fn match_in_rec(x: &[f64]) -> f64 {
    let mut s = 0.3;
    for i in 0..x.len() {
        s = match x[i] {
            v if v > 1.0 => s * v,
            v if v < -1.0 => s - v,
            _ => s + x[i] * x[i],
        };
    }
    s
}

#[differentiable]
pub fn cond_only_on_carry(x: &[f64]) -> f64 {
    let mut s = 0.5;
    for i in 0..x.len() {
        if s > 0.0 {
            s = x[i] - 0.5;
        } else {
            s = -x[i];
        }
    }
    s
}

#[differentiable]
pub fn counter_sum(x: &[f64]) -> f64 {
    let mut cnt = 0.0;
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            cnt += 1.0;
            s += x[i];
        }
    }
    s / cnt
}

#[differentiable]
pub fn assign_stmt_pair(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        s = s * x[i];
        s = s + 1.0;
    }
    s
}

#[differentiable]
pub fn elif_chain(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        if x[i] > 1.0 {
            s += w * x[i];
            p *= 1.1;
        } else if x[i] > 0.0 {
            s += w * w;
        } else {
            p *= 1.0 + w * x[i];
        }
    }
    s + p
}

#[differentiable]
pub fn prod_call_rec(w: &[f64], steps: usize) -> f64 {
    let mut p = 1.0;
    for _t in 0..steps {
        p *= 1.0 + 0.1 * crate::calls::sq(w);
    }
    p
}

#[differentiable]
pub fn path_call(w: &[f64], x: &[f64]) -> f64 {
    crate::calls::dot(w, x) * super::calls::row_dot(x, w, 0)
}

#[differentiable]
pub fn carry_from_sum_in_outer(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let mut s = 0.0;
        for c in 0..cols {
            s += a[r * cols + c];
        }
        let mut p = 1.0;
        for c in 0..cols {
            p *= 1.0 + a[r * cols + c] / s;
        }
        total += p;
    }
    total
}

// Long recurrences
#[differentiable]
pub fn long_ema(beta: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s = beta * s + (1.0 - beta) * x[i];
    }
    s
}

#[differentiable]
pub fn long_prod(x: &[f64]) -> f64 {
    x.iter().map(|v| 1.0 + 0.01 * v).product::<f64>()
}

fn cat(parts: &[&[f64]]) -> Vec<f64> {
    parts.concat()
}

pub fn run(r: &mut Report) {
    let x = [0.3, -1.2, 2.1, 0.7, 1.5];
    let y = [0.4, 0.9, -0.3, 0.2, -1.1];
    let n = 5;
    let pw = cat(&[&x, &[0.8]]);
    let pxy = cat(&[&x, &y]);
    let g1 = |v: f64, gx: &[f64], gw: f64| (v, cat(&[gx, &[gw]]));
    check(
        r,
        "two_stmt",
        &pw,
        |p| two_stmt(&p[..n], p[n]),
        |p| {
            let (v, g) = two_stmt_grad(&p[..n], p[n]);
            g1(v, &g.x, g.w)
        },
    );
    check(
        r,
        "alias_prev",
        &x,
        |p| alias_prev(p),
        |p| {
            let (v, g) = alias_prev_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "cond_prod",
        &x,
        |p| cond_prod(p),
        |p| {
            let (v, g) = cond_prod_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "cond_on_carry_mixed",
        &x,
        |p| cond_on_carry_mixed(p),
        |p| {
            let (v, g) = cond_on_carry_mixed_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "seq_same_var",
        &pxy,
        |p| seq_same_var(&p[..n], &p[n..]),
        |p| {
            let (v, g) = seq_same_var_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    let ypos = [0.4, 0.9, 0.3, 0.2, 0.1];
    let pxy2 = cat(&[&x, &ypos]);
    check(
        r,
        "seq_same_var2",
        &pxy2,
        |p| seq_same_var(&p[..n], &p[n..]),
        |p| {
            let (v, g) = seq_same_var_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    check(
        r,
        "shadow_in_loop",
        &x,
        |p| shadow_in_loop(p),
        |p| {
            let (v, g) = shadow_in_loop_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "inverted_inner",
        &x,
        |p| inverted_inner(p, 5),
        |p| {
            let (v, g) = inverted_inner_grad(p, 5);
            (v, g.x)
        },
    );
    check(
        r,
        "from_one_noread_len0",
        &[],
        |p| from_one_noread(p),
        |p| {
            let (v, g) = from_one_noread_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "from_one_noread_len1",
        &[0.4],
        |p| from_one_noread(p),
        |p| {
            let (v, g) = from_one_noread_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "from_two_sum_len1",
        &[0.4],
        |p| from_two_sum(p),
        |p| {
            let (v, g) = from_two_sum_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "lo_hi",
        &x,
        |p| lo_hi(p, 1, 4),
        |p| {
            let (v, g) = lo_hi_grad(p, 1, 4);
            (v, g.x)
        },
    );
    check(
        r,
        "lo_hi_inverted",
        &x,
        |p| lo_hi(p, 4, 1),
        |p| {
            let (v, g) = lo_hi_grad(p, 4, 1);
            (v, g.x)
        },
    );
    let a: Vec<f64> = (0..15)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.11 + 0.05)
        .collect();
    let poa = cat(&[&x, &a, &[0.6]]);
    check(
        r,
        "outer_local_in_inner",
        &poa,
        |p| outer_local_in_inner(&p[..5], &p[5..20], p[20], 3),
        |p| {
            let (v, g) = outer_local_in_inner_grad(&p[..5], &p[5..20], p[20], 3);
            (v, cat(&[&g.x, &g.a, &[g.w]]))
        },
    );
    check(
        r,
        "max_else",
        &x,
        |p| max_else(p),
        |p| {
            let (v, g) = max_else_grad(p);
            (v, g.z)
        },
    );
    check(
        r,
        "if_expr_max",
        &x,
        |p| if_expr_max(p),
        |p| {
            let (v, g) = if_expr_max_grad(p);
            (v, g.z)
        },
    );
    check(
        r,
        "call_form_max",
        &x,
        |p| call_form_max(p),
        |p| {
            let (v, g) = call_form_max_grad(p);
            (v, g.z)
        },
    );
    check(
        r,
        "geometric",
        &[0.7],
        |p| geometric(p[0], 6),
        |p| {
            let (v, g) = geometric_grad(p[0], 6);
            (v, vec![g.w])
        },
    );
    check(
        r,
        "geometric_k0",
        &[0.7],
        |p| geometric(p[0], 0),
        |p| {
            let (v, g) = geometric_grad(p[0], 0);
            (v, vec![g.w])
        },
    );
    check(
        r,
        "newton_sqrt",
        &[2.0],
        |p| newton_sqrt(p[0], 3),
        |p| {
            let (v, g) = newton_sqrt_grad(p[0], 3);
            (v, vec![g.a])
        },
    );
    let small = [0.1, 0.2, 0.3, 0.05, 0.15];
    let ppf = cat(&[&small, &[0.7]]);
    check(
        r,
        "powf_rec",
        &ppf,
        |p| powf_rec(&p[..n], p[n]),
        |p| {
            let (v, g) = powf_rec_grad(&p[..n], p[n]);
            g1(v, &g.x, g.w)
        },
    );
    check(
        r,
        "neighbours",
        &x,
        |p| neighbours(p),
        |p| {
            let (v, g) = neighbours_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "arr_prod",
        &[0.3, -1.2, 2.1, 0.7, 0.4],
        |p| arr_prod([p[0], p[1], p[2], p[3]], p[4]),
        |p| {
            let (v, g) = arr_prod_grad([p[0], p[1], p[2], p[3]], p[4]);
            (v, cat(&[&g.a, &[g.w]]))
        },
    );
    check(
        r,
        "return_after_rec_taken",
        &pxy,
        |p| return_after_rec(&p[..n], &p[n..]),
        |p| {
            let (v, g) = return_after_rec_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    let xs = [0.3, -1.2, 1.1, 0.7, 1.5];
    let pxy3 = cat(&[&xs, &y]);
    check(
        r,
        "return_after_rec_not",
        &pxy3,
        |p| return_after_rec(&p[..n], &p[n..]),
        |p| {
            let (v, g) = return_after_rec_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.x, &g.y]))
        },
    );
    check(
        r,
        "late_init",
        &pw,
        |p| late_init(&p[..n], p[n]),
        |p| {
            let (v, g) = late_init_grad(&p[..n], p[n]);
            g1(v, &g.x, g.w)
        },
    );
    check(
        r,
        "inner_sum_init_from_carry",
        &a,
        |p| inner_sum_init_from_carry(p, 5, 3),
        |p| {
            let (v, g) = inner_sum_init_from_carry_grad(p, 5, 3);
            (v, g.a)
        },
    );
    let xm = [0.3, -1.4, 2.1, 0.7, 1.5];
    check(
        r,
        "match_in_rec",
        &xm,
        |p| match_in_rec(p),
        |p| {
            let (v, g) = match_in_rec_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "cond_only_on_carry",
        &x,
        |p| cond_only_on_carry(p),
        |p| {
            let (v, g) = cond_only_on_carry_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "counter_sum",
        &x,
        |p| counter_sum(p),
        |p| {
            let (v, g) = counter_sum_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "assign_stmt_pair",
        &x,
        |p| assign_stmt_pair(p),
        |p| {
            let (v, g) = assign_stmt_pair_grad(p);
            (v, g.x)
        },
    );
    check(
        r,
        "elif_chain",
        &pw,
        |p| elif_chain(&p[..n], p[n]),
        |p| {
            let (v, g) = elif_chain_grad(&p[..n], p[n]);
            g1(v, &g.x, g.w)
        },
    );
    check(
        r,
        "prod_call_rec",
        &x,
        |p| prod_call_rec(p, 3),
        |p| {
            let (v, g) = prod_call_rec_grad(p, 3);
            (v, g.w)
        },
    );
    check(
        r,
        "path_call",
        &pxy,
        |p| path_call(&p[..n], &p[n..]),
        |p| {
            let (v, g) = path_call_grad(&p[..n], &p[n..]);
            (v, cat(&[&g.w, &g.x]))
        },
    );
    let ap: Vec<f64> = (0..12).map(|i| 0.2 + 0.1 * ((i * 7) % 5) as f64).collect();
    check(
        r,
        "carry_from_sum_in_outer",
        &ap,
        |p| carry_from_sum_in_outer(p, 3, 4),
        |p| {
            let (v, g) = carry_from_sum_in_outer_grad(p, 3, 4);
            (v, g.a)
        },
    );
    let xl: Vec<f64> = (0..300)
        .map(|i| ((i * 37 % 101) as f64) / 50.0 - 1.0)
        .collect();
    let pl = cat(&[&[0.97], &xl]);
    check(
        r,
        "long_ema_300",
        &pl,
        |p| long_ema(p[0], &p[1..]),
        |p| {
            let (v, g) = long_ema_grad(p[0], &p[1..]);
            (v, cat(&[&[g.beta], &g.x]))
        },
    );
    check(
        r,
        "long_prod_300",
        &xl,
        |p| long_prod(p),
        |p| {
            let (v, g) = long_prod_grad(p);
            (v, g.x)
        },
    );
}
