//! Runs of a differentiated slice passed to differentiable functions (`dot(&x[a..b], w)`):
//! each gradient lands in its range. Checked against hand-derived gradients (exact) and
//! central differences, directly and through a function that passes on a run of its own
//! parameter (whose hidden vector-Jacobian product then adds into an offset sink).

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// `Σ x[i+1]·y[i]` over the shifted runs, plus `x[0]x[2] + x[1]x[3]` (two runs of one slice).
#[differentiable]
fn shifted(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    dot(&x[1..n], &y[..n - 1]) + dot(&x[..2], &x[2..=3])
}

#[test]
fn runs_of_a_slice_get_their_gradient_in_their_range() {
    let x = [0.5, -1.25, 2.0, 0.75, 1.5];
    let y = [1.0, 2.0, -0.5, 0.25, 3.0];
    let (value, g) = shifted_grad(&x, &y);
    assert!((value - shifted(&x, &y)).abs() < 1e-12);
    // ∂/∂x[j] = y[j-1] (j ≥ 1) + the pairs' partner: x0↔x2, x1↔x3.
    let mut hand = [0.0, y[0], y[1], y[2], y[3]];
    hand[0] += x[2];
    hand[2] += x[0];
    hand[1] += x[3];
    hand[3] += x[1];
    // ∂/∂y[i] = x[i+1] for i < n − 1.
    let hand_y = [x[1], x[2], x[3], x[4], 0.0];
    assert_all_close(&g.x, &hand, 1e-12);
    assert_all_close(&g.y, &hand_y, 1e-12);
    let mut at = x.to_vec();
    at.extend(y);
    let numeric = numeric_gradient(|p| shifted(&p[..5], &p[5..]), &at);
    let mut got = g.x.clone();
    got.extend(&g.y);
    assert_all_close(&got, &numeric, 1e-6);
}

/// Rows of a flat matrix, each passed as a run (bundle adjustment's `&cams[i * 11..]` shape).
#[differentiable]
fn rows_times_w(x: &[f64], w: &[f64]) -> f64 {
    let d = w.len();
    let mut s = 0.0;
    for r in 0..x.len() / d {
        let v = dot(&x[r * d..(r + 1) * d], w);
        s += v * v;
    }
    s
}

#[test]
fn runs_in_a_loop_over_rows() {
    let w = [0.5, -1.0, 2.0];
    let x = [1.0, 2.0, 3.0, -1.0, 0.5, 0.25, 2.0, 0.0, -2.0];
    let (value, g) = rows_times_w_grad(&x, &w);
    assert!((value - rows_times_w(&x, &w)).abs() < 1e-12);
    let mut hand_x = vec![0.0; 9];
    let mut hand_w = [0.0; 3];
    for r in 0..3 {
        let v: f64 = (0..3).map(|j| x[r * 3 + j] * w[j]).sum();
        for j in 0..3 {
            hand_x[r * 3 + j] = 2.0 * v * w[j];
            hand_w[j] += 2.0 * v * x[r * 3 + j];
        }
    }
    assert_all_close(&g.x, &hand_x, 1e-12);
    assert_all_close(&g.w, &hand_w, 1e-12);
}

/// A function passing a run of its own parameter on, called with a run of the caller's: the
/// inner call's sink is an offset of a generic sink.
#[differentiable]
fn head_dot(a: &[f64], b: &[f64]) -> f64 {
    dot(&a[1..], b) * a[0]
}

#[differentiable]
fn outer(x: &[f64], w: &[f64]) -> f64 {
    head_dot(&x[2..], w) + x[0] * x[1]
}

#[test]
fn a_run_passed_on_through_a_second_function() {
    let x = [0.3, -0.7, 1.5, 2.0, -1.0, 0.5];
    let w = [0.25, -2.0, 1.0];
    let (value, g) = outer_grad(&x, &w);
    assert!((value - outer(&x, &w)).abs() < 1e-12);
    // head_dot(a = x[2..], w) = a0 · Σ a[1+i] w[i].
    let inner: f64 = (0..3).map(|i| x[3 + i] * w[i]).sum();
    let mut hand_x = [x[1], x[0], inner, 0.0, 0.0, 0.0];
    for i in 0..3 {
        hand_x[3 + i] = x[2] * w[i];
    }
    let hand_w: Vec<f64> = (0..3).map(|i| x[2] * x[3 + i]).collect();
    assert_all_close(&g.x, &hand_x, 1e-12);
    assert_all_close(&g.w, &hand_w, 1e-12);
    let mut at = x.to_vec();
    at.extend(w);
    let numeric = numeric_gradient(|p| outer(&p[..6], &p[6..]), &at);
    let mut got = g.x.clone();
    got.extend(&g.w);
    assert_all_close(&got, &numeric, 1e-6);
}

// ---- Runs of a data slice, bounds computed in a loop over rows: a linear model over the rows
// of a data matrix, each row passed to `dot` with the differentiated weights.

/// `Σ_j (x_j·w − y_j)²` over the rows `x_j = x[j·d..(j+1)·d]`.
#[differentiable(wrt(w))]
fn least_squares_rows(x: &[f64], y: &[f64], w: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for j in 0..y.len() {
        loss += (dot(&x[j * d..(j + 1) * d], w) - y[j]).powi(2);
    }
    loss
}

/// The same rows written `..=` and `j·d..` (the last row's run reaches the end of `x`, and
/// `dot` reads only `w.len()` of it).
#[differentiable(wrt(w))]
#[allow(clippy::range_minus_one)] // the inclusive form is the one under test
fn least_squares_rows_inclusive(x: &[f64], y: &[f64], w: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for j in 0..y.len() {
        let r = dot(&x[j * d..=(j + 1) * d - 1], w) - y[j];
        let tail = dot(w, &x[j * d..]);
        loss += r * r + 0.5 * tail;
    }
    loss
}

#[test]
fn runs_of_a_data_slice_over_rows_are_data_and_the_weights_get_the_gradient() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0, 0.5, 2.5];
    let y = [1.5, -2.0, 0.25];
    let w = [0.5, -0.25, 2.0];
    let (value, g) = least_squares_rows_grad(&x, &y, &w);
    let rows: Vec<f64> = (0..3)
        .map(|j| (0..3).map(|k| x[3 * j + k] * w[k]).sum::<f64>() - y[j])
        .collect();
    assert!((value - rows.iter().map(|r| r * r).sum::<f64>()).abs() < 1e-12);
    // ∂/∂w_k = Σ_j 2 r_j x[3j + k].
    let hand: Vec<f64> = (0..3)
        .map(|k| (0..3).map(|j| 2.0 * rows[j] * x[3 * j + k]).sum())
        .collect();
    assert_all_close(&g.w, &hand, 1e-12);
    assert_all_close(
        &g.w,
        &numeric_gradient(|p| least_squares_rows(&x, &y, p), &w),
        1e-6,
    );
    let (value2, g2) = least_squares_rows_inclusive_grad(&x, &y, &w);
    // `dot(w, &x[3j..])` reads x[3j..3j + 3]: the row again, so ∂/∂w_k adds 0.5 x[3j + k].
    let tails: f64 = (0..3).map(|j| 0.5 * (rows[j] + y[j])).sum();
    assert!((value2 - (value + tails)).abs() < 1e-12);
    let hand2: Vec<f64> = (0..3)
        .map(|k| hand[k] + (0..3).map(|j| 0.5 * x[3 * j + k]).sum::<f64>())
        .collect();
    assert_all_close(&g2.w, &hand2, 1e-12);
}

// ---- Runs of a local array passed to calls (`dot(&z[a..b], w)`): each run is lent as the
// copy `z[a..b].to_vec()` stands for, its adjoint added back into `z`'s elements.

/// `z = w·x` element by element; then `z[1..]·y[1..] + z[..k]·y[..k] + z[..]·z[..]`.
#[differentiable]
fn runs_of_a_local_array(x: &[f64], y: &[f64], w: f64, k: usize) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = x[i] * w;
    }
    dot(&z[1..], &y[1..]) + dot(&z[..k], &y[..k]) + dot(&z[..], &z[..])
}

#[test]
fn runs_of_a_local_array_get_their_gradient_in_their_range() {
    let x = [0.5, -1.25, 2.0, 0.75];
    let y = [1.0, 2.0, -0.5, 3.0];
    let (w, k) = (1.5, 2);
    let (value, g) = runs_of_a_local_array_grad(&x, &y, w, k);
    let z: Vec<f64> = x.iter().map(|v| v * w).collect();
    let want: f64 = (1..4).map(|i| z[i] * y[i]).sum::<f64>()
        + (0..k).map(|i| z[i] * y[i]).sum::<f64>()
        + z.iter().map(|v| v * v).sum::<f64>();
    assert!((value - want).abs() < 1e-12);
    // ∂/∂z[i] = y[i]·[i ≥ 1] + y[i]·[i < k] + 2 z[i]; z[i] = w·x[i].
    let dz: Vec<f64> = (0..4)
        .map(|i| {
            let first = if i >= 1 { y[i] } else { 0.0 };
            let second = if i < k { y[i] } else { 0.0 };
            first + second + 2.0 * z[i]
        })
        .collect();
    let hand_x: Vec<f64> = dz.iter().map(|d| d * w).collect();
    let hand_y: Vec<f64> = (0..4)
        .map(|i| {
            let first = if i >= 1 { z[i] } else { 0.0 };
            let second = if i < k { z[i] } else { 0.0 };
            first + second
        })
        .collect();
    let hand_w: f64 = (0..4).map(|i| dz[i] * x[i]).sum();
    assert_all_close(&g.x, &hand_x, 1e-12);
    assert_all_close(&g.y, &hand_y, 1e-12);
    assert!((g.w - hand_w).abs() < 1e-12);
    let numeric = numeric_gradient(|p| runs_of_a_local_array(p, &y, w, k), &x);
    assert_all_close(&g.x, &numeric, 1e-6);
}

/// A window of a local array per iteration, passed on: `Σ_t dot(z[t..t + 2], z[t + 1..t + 3])`
/// with `z = sin(x)`.
#[differentiable]
fn windows_of_a_local_array(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = x[i].sin();
    }
    let mut s = 0.0;
    for t in 0..n - 2 {
        s += dot(&z[t..t + 2], &z[t + 1..t + 3]);
    }
    s
}

#[test]
fn windows_of_a_local_array_in_a_loop_against_central_differences() {
    for x in [vec![0.5, -1.25, 2.0], vec![0.3, 0.1, -0.7, 1.9, 0.25, -2.0]] {
        let (value, g) = windows_of_a_local_array_grad(&x);
        assert!((value - windows_of_a_local_array(&x)).abs() < 1e-12);
        let numeric = numeric_gradient(windows_of_a_local_array, &x);
        assert_all_close(&g.x, &numeric, 1e-6);
    }
}

/// A run bound by `let` (`let row = &a[i * m..(i + 1) * m];`, a matrix row), read, measured,
/// iterated and passed on by its name.
#[differentiable]
fn rows_bound_by_let(a: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let n = y.len();
    let m = x.len();
    let mut loss = 0.0;
    for i in 0..n {
        let row = &a[i * m..(i + 1) * m];
        let pred: f64 = row.iter().zip(x).map(|(p, q)| p * q).sum();
        loss += (pred - y[i]).powi(2) + dot(row, x) * row[0] + row.len() as f64;
    }
    loss / n as f64
}

/// Runs of a local array bound by `let`, one typed (`let head: &[f64] = &z[..n];`).
#[differentiable]
fn local_runs_bound_by_let(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; 2 * n];
    for i in 0..2 * n {
        z[i] = x[i % n] * w + i as f64;
    }
    let head: &[f64] = &z[..n];
    let tail = &z[n..];
    dot(head, tail) + tail.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn runs_bound_by_let() {
    let (x, y) = (vec![0.5, -1.5, 2.0], vec![0.25, 1.25]);
    let a: Vec<f64> = (0..6).map(|k| 0.3 - 0.17 * f64::from(k)).collect();
    let (v, g) = rows_bound_by_let_grad(&a, &x, &y);
    assert_eq!(v, rows_bound_by_let(&a, &x, &y));
    assert_all_close(
        &g.a,
        &numeric_gradient(|a| rows_bound_by_let(a, &x, &y), &a),
        1e-6,
    );
    assert_all_close(
        &g.x,
        &numeric_gradient(|x| rows_bound_by_let(&a, x, &y), &x),
        1e-6,
    );
    assert_all_close(
        &g.y,
        &numeric_gradient(|y| rows_bound_by_let(&a, &x, y), &y),
        1e-6,
    );
    // By hand for n = m = 1: (a·x − y)² + a·x·a + 1.
    let (p, q, r) = (0.5, 1.5, -0.25);
    let (_, g) = rows_bound_by_let_grad(&[p], &[q], &[r]);
    let e = p * q - r;
    assert_all_close(&g.a, &[2.0 * e * q + 2.0 * p * q], 1e-15);
    assert_all_close(&g.x, &[2.0 * e * p + p * p], 1e-15);
    assert_all_close(&g.y, &[-2.0 * e], 1e-15);
    for x in [vec![0.5, -1.5, 2.0], vec![0.75]] {
        let w = 0.6;
        let (v, g) = local_runs_bound_by_let_grad(&x, w);
        assert_eq!(v, local_runs_bound_by_let(&x, w));
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| local_runs_bound_by_let(x, w), &x),
            1e-6,
        );
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| local_runs_bound_by_let(&x, p[0]), &[w]),
            1e-6,
        );
    }
}
