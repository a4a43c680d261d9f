//! Loop-carried recurrences other than sums — products, running maxima, exponential moving
//! averages, updates under `if` — differentiated by a forward loop that saves each iteration's
//! value and a reverse loop over them (a running max or min saves only its last improvement: the
//! one iteration its reverse sweep contributes at). Oracles: hand-derived gradients (exact where the
//! arithmetic is), central finite differences for every loop shape, and the sum form of the
//! same function where one exists.
#![allow(clippy::needless_range_loop)] // index loops are the language under test
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // tiny test lengths

use approx::assert_relative_eq;
use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
fn product_iter(x: &[f64]) -> f64 {
    x.iter().map(|v| v * 2.0).product::<f64>()
}

#[test]
fn a_product_gradient_is_the_product_of_the_others_even_with_a_zero() {
    let x = [1.5, -2.0, 3.0, 0.5];
    let (p, g) = product_grad(&x);
    assert_eq!(p, -4.5);
    // ∂p/∂xᵢ = Π_{j≠i} xⱼ — exact: each is a product of the same three numbers.
    assert_eq!(g.x, vec![-3.0, 2.25, -1.5, -9.0]);
    // A zero element: the others' gradients vanish, its own is the product of the rest (the
    // formula p / xᵢ would divide by zero).
    let (p, g) = product_grad(&[2.0, 0.0, 3.0]);
    assert_eq!(p, 0.0);
    assert_eq!(g.x, vec![0.0, 6.0, 0.0]);
    // The empty product.
    let (p, g) = product_grad(&[]);
    assert_eq!((p, g.x.len()), (1.0, 0));
}

#[test]
fn an_iterator_product_matches_the_loop() {
    let x = [0.5, -1.0, 2.0];
    let (p, g) = product_iter_grad(&x);
    assert_eq!(p, -8.0); // 1 · -2 · 4
    assert_eq!(g.x, vec![-16.0, 8.0, -4.0]); // 2 · Π_{j≠i} 2xⱼ
}

/// The numerically stable log-sum-exp: a running max, then a sum.
#[differentiable]
fn log_sum_exp(z: &[f64]) -> f64 {
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

#[test]
fn stable_log_sum_exp_gradient_is_the_softmax_even_where_exp_overflows() {
    for z in [
        vec![1.0, 2.0, 3.0],
        vec![1000.0, 1001.0, 999.0], // exp overflows without the max
        vec![-3.0, -3.0, 0.5, 2.0],
        vec![4.0], // one element: the gradient is 1
    ] {
        let (v, g) = log_sum_exp_grad(&z);
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = z.iter().map(|t| (t - m).exp()).sum();
        assert_relative_eq!(v, m + total.ln(), max_relative = 1e-15);
        let softmax: Vec<f64> = z.iter().map(|t| (t - m).exp() / total).collect();
        for (a, b) in g.z.iter().zip(&softmax) {
            assert_relative_eq!(*a, *b, epsilon = 1e-15, max_relative = 1e-12);
        }
    }
}

/// `m = m.max(z[i])` passes the gradient to the first maximum (ties go to the earlier value).
#[differentiable]
fn running_max(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    m
}

/// The same maximum written with `if`.
#[differentiable]
fn running_max_if(z: &[f64]) -> f64 {
    let mut m = z[0];
    for i in 1..z.len() {
        if z[i] > m {
            m = z[i];
        }
    }
    m
}

#[test]
fn a_running_maximum_routes_the_gradient_to_the_argmax() {
    let (m, g) = running_max_grad(&[1.0, 5.0, -2.0, 3.0]);
    assert_eq!(m, 5.0);
    assert_eq!(g.z, vec![0.0, 1.0, 0.0, 0.0]);
    let (m, g) = running_max_grad(&[2.0, 7.0, 7.0]);
    assert_eq!(m, 7.0);
    assert_eq!(g.z, vec![0.0, 1.0, 0.0]);
    let (m, g) = running_max_if_grad(&[1.0, 5.0, -2.0, 3.0]);
    assert_eq!(m, 5.0);
    assert_eq!(g.z, vec![0.0, 1.0, 0.0, 0.0]);
    let (m, g) = running_max_if_grad(&[9.0, 5.0]);
    assert_eq!(m, 9.0);
    assert_eq!(g.z, vec![1.0, 0.0]);
}

/// A running minimum from a starting value, through a scale `w`: `∂/∂m0` is 1 when no element
/// goes below it, and `∂/∂w`, `∂/∂z` go to the last strict improvement otherwise.
#[differentiable]
fn running_min_from(m0: f64, w: f64, z: &[f64]) -> f64 {
    let mut m = m0;
    for i in 0..z.len() {
        m = m.min(w * z[i]);
    }
    m * m
}

/// A maximum and a sum in the same loop, both reading `w`: the sum's contributions come from
/// every iteration, the maximum's from one.
#[differentiable]
fn max_and_sum(w: f64, z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        m = m.max(w * z[i]);
        s += w * z[i] * z[i];
    }
    m + s
}

/// A maximum written with `if` whose update reads the running value itself.
#[differentiable]
fn max_if_reading_itself(z: &[f64]) -> f64 {
    let mut m = 0.5;
    for i in 0..z.len() {
        if z[i] > m {
            m = 0.5 * (m + z[i]);
        }
    }
    m
}

/// Reset or accumulate: `λ` is kept or killed as in a maximum, but the iterations that keep it
/// contribute too (each `z[i]` added since the last reset).
#[differentiable]
fn reset_or_accumulate(z: &[f64]) -> f64 {
    let mut m = 0.0;
    for i in 0..z.len() {
        if z[i] < 0.0 {
            m = z[i] * z[i];
        } else {
            m += z[i];
        }
    }
    m
}

#[test]
fn maxima_and_minima_send_each_contribution_to_the_right_iteration() {
    // No element below m0: everything goes to m0 (d(m²)/dm0 = 2·m0).
    let (v, g) = running_min_from_grad(1.5, 2.0, &[1.0, 3.0, 0.9]);
    assert_eq!(v, 2.25);
    assert_eq!((g.m0, g.w), (3.0, 0.0));
    assert_eq!(g.z, vec![0.0; 3]);
    // The minimum is w·z[2] = -4 (the last strict improvement; z[3] ties it).
    let (v, g) = running_min_from_grad(1.5, 2.0, &[1.0, -1.0, -2.0, -2.0, 0.0]);
    assert_eq!(v, 16.0);
    assert_eq!((g.m0, g.w), (0.0, 2.0 * -4.0 * -2.0));
    assert_eq!(g.z, vec![0.0, 0.0, 2.0 * -4.0 * 2.0, 0.0, 0.0]);
    // An empty slice: the value is m0's.
    let (v, g) = running_min_from_grad(-3.0, 2.0, &[]);
    assert_eq!((v, g.m0, g.w), (9.0, -6.0, 0.0));

    let z = [0.3, -1.2, 0.8, 1.1, 0.4, -0.7];
    let w = 0.9;
    let (_, g) = max_and_sum_grad(w, &z);
    // ∂/∂w = z[argmax] + Σ z², ∂/∂z = w at the argmax plus 2·w·z everywhere.
    let sq: f64 = z.iter().map(|t| t * t).sum();
    assert_relative_eq!(g.w, 1.1 + sq, max_relative = 1e-15);
    let want: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, t)| 2.0 * w * t + if i == 3 { w } else { 0.0 })
        .collect();
    assert_all_close(&g.z, &want, 1e-15);

    let z = [0.4, -0.3, 0.2, 0.7, -0.5, 0.1, 0.6];
    let (_, g) = reset_or_accumulate_grad(&z);
    assert_eq!(g.z, vec![0.0, 0.0, 0.0, 0.0, -1.0, 1.0, 1.0]);

    let z = [0.2, 0.9, 0.6, 1.4, 0.3, 1.0];
    let (_, g) = max_if_reading_itself_grad(&z);
    assert_all_close(&g.z, &numeric_gradient(max_if_reading_itself, &z), 1e-9);
    let (_, g) = running_min_from_grad(0.1, -0.8, &z);
    let fd = numeric_gradient(|z| running_min_from(0.1, -0.8, z), &z);
    assert_all_close(&g.z, &fd, 1e-8);
}

/// An exponential moving average of squares: `s = β s + (1 − β) xᵢ²`.
#[differentiable]
fn ema(beta: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s = beta * s + (1.0 - beta) * x[i] * x[i];
    }
    s
}

#[test]
fn an_exponential_moving_average_against_its_closed_form() {
    // s = (1 − β) Σᵢ β^(n−1−i) xᵢ²
    let x = [1.0, -2.0, 0.5, 3.0];
    let beta: f64 = 0.75;
    let n = x.len();
    let (s, g) = ema_grad(beta, &x);
    let want: f64 = (0..n)
        .map(|i| (1.0 - beta) * beta.powi((n - 1 - i) as i32) * x[i] * x[i])
        .sum();
    assert_relative_eq!(s, want, max_relative = 1e-14);
    for i in 0..n {
        let d = 2.0 * (1.0 - beta) * beta.powi((n - 1 - i) as i32) * x[i];
        assert_relative_eq!(g.x[i], d, max_relative = 1e-14);
    }
    // ∂s/∂β = Σᵢ [−β^(n−1−i) + (1 − β)(n−1−i) β^(n−2−i)] xᵢ²
    let d_beta: f64 = (0..n)
        .map(|i| {
            let k = (n - 1 - i) as i32;
            let dk = if k == 0 {
                0.0
            } else {
                f64::from(k) * beta.powi(k - 1)
            };
            (-beta.powi(k) + (1.0 - beta) * dk) * x[i] * x[i]
        })
        .sum();
    assert_relative_eq!(g.beta, d_beta, max_relative = 1e-13);
}

/// A recurrence nested in a sum: the row maxima of a matrix, summed.
#[differentiable]
fn sum_of_row_maxima(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let mut m = f64::NEG_INFINITY;
        for c in 0..cols {
            m = m.max(a[r * cols + c] * a[r * cols + c]);
        }
        total += m;
    }
    total
}

/// A sum nested in a recurrence: the product of the row sums.
#[differentiable]
fn product_of_row_sums(a: &[f64], w: f64, rows: usize, cols: usize) -> f64 {
    let mut p = 1.0;
    for r in 0..rows {
        let mut s = 0.0;
        for c in 0..cols {
            s += w * a[r * cols + c];
        }
        p *= s;
    }
    p
}

/// A recurrence nested in a recurrence: the largest of the row products, with a soft update.
#[differentiable]
fn max_of_row_products(a: &[f64], rows: usize, cols: usize) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for r in 0..rows {
        let mut p = 1.0;
        for c in 0..cols {
            p = p * a[r * cols + c] + 0.1;
        }
        best = best.max(p);
    }
    best
}

#[test]
fn nested_recurrences_and_sums_match_finite_differences() {
    let a = [
        0.3, -1.2, 0.8, 1.1, 0.4, -0.7, 0.9, 1.3, -0.2, 0.6, 0.5, -1.4,
    ];
    let (rows, cols) = (3, 4);
    let (_, g) = sum_of_row_maxima_grad(&a, rows, cols);
    let fd = numeric_gradient(|a| sum_of_row_maxima(a, rows, cols), &a);
    assert_all_close(&g.a, &fd, 1e-8);

    let w = 0.7;
    let (_, g) = product_of_row_sums_grad(&a, w, rows, cols);
    let fd = numeric_gradient(|a| product_of_row_sums(a, w, rows, cols), &a);
    assert_all_close(&g.a, &fd, 1e-8);
    let h = 1e-6;
    let fd_w = (product_of_row_sums(&a, w + h, rows, cols)
        - product_of_row_sums(&a, w - h, rows, cols))
        / (2.0 * h);
    assert_relative_eq!(g.w, fd_w, max_relative = 1e-7);

    let (_, g) = max_of_row_products_grad(&a, rows, cols);
    let fd = numeric_gradient(|a| max_of_row_products(a, rows, cols), &a);
    assert_all_close(&g.a, &fd, 1e-8);
}

/// Several recurrences and a sum in one loop, each reading only itself.
#[differentiable]
fn three_at_once(x: &[f64], y: &[f64]) -> f64 {
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..x.len() {
        p *= 1.0 + 0.1 * x[i];
        m = m.max(x[i] * y[i]);
        s += x[i].sin();
    }
    p * m + s
}

#[test]
fn several_recurrences_in_one_loop_match_finite_differences() {
    let x = [0.5, -0.3, 1.2, 0.8];
    let y = [1.0, 2.0, -0.5, 0.7];
    let (v, g) = three_at_once_grad(&x, &y);
    assert_relative_eq!(v, three_at_once(&x, &y), max_relative = 1e-15);
    let fd = numeric_gradient(|x| three_at_once(x, &y), &x);
    assert_all_close(&g.x, &fd, 1e-8);
    let fd = numeric_gradient(|y| three_at_once(&x, y), &y);
    assert_all_close(&g.y, &fd, 1e-8);
}

/// A recurrence over a range whose start is not zero, reading two neighbours.
#[differentiable]
fn smoothed(x: &[f64], alpha: f64) -> f64 {
    let mut s = x[0];
    for i in 1..x.len() {
        s = alpha * s + (1.0 - alpha) * (x[i] - x[i - 1]).powi(2);
    }
    s
}

#[test]
fn a_recurrence_from_one_reading_neighbours_matches_finite_differences() {
    let x = [0.2, 1.0, -0.5, 0.3, 2.0];
    let alpha = 0.6;
    let (_, g) = smoothed_grad(&x, alpha);
    let fd = numeric_gradient(|x| smoothed(x, alpha), &x);
    assert_all_close(&g.x, &fd, 1e-8);
    let h = 1e-6;
    let fd_alpha = (smoothed(&x, alpha + h) - smoothed(&x, alpha - h)) / (2.0 * h);
    assert_relative_eq!(g.alpha, fd_alpha, max_relative = 1e-7);
}

#[test]
fn a_product_over_a_million_elements_stays_a_loop() {
    let x: Vec<f64> = (0..1_000_000)
        .map(|i| 1.0 + 1e-7 * f64::from(i % 7))
        .collect();
    let (p, g) = product_grad(&x);
    assert!(p.is_finite() && p > 1.0);
    // ∂p/∂xᵢ = p / xᵢ here (no zeros).
    for i in [0, 1, 500_000, 999_999] {
        assert_relative_eq!(g.x[i], p / x[i], max_relative = 1e-12);
    }
}

/// Updates that do not read the previous value: the last iteration's wins.
#[differentiable]
fn last_of(w: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut t = 1.0;
    for i in 0..x.len() {
        s = w * w;
        t = x[i] * w;
    }
    s + t
}

#[test]
fn an_overwriting_update_differentiates_the_last_iteration_only() {
    let (v, g) = last_of_grad(3.0, &[1.0, 2.0, 5.0]);
    assert_eq!(v, 9.0 + 15.0);
    assert_eq!(g.w, 6.0 + 5.0);
    assert_eq!(g.x, vec![0.0, 0.0, 3.0]);
    // No iterations: the initial values, and nothing depends on `w`.
    let (v, g) = last_of_grad(3.0, &[]);
    assert_eq!((v, g.w), (1.0, 0.0));
}

/// A recurrence per row that reads a scalar parameter: its gradient sums over the rows outside
/// each row's reverse sweep (found by the property test over random nested recurrences).
#[differentiable]
fn row_recurrences(x: &[f64], w: f64, rows: usize, cols: usize) -> f64 {
    let mut acc = 0.0;
    for r in 0..rows {
        let mut s: f64 = -0.25;
        for c in 0..cols {
            s = s.mul_add(-x[r * cols + c], -s.mul_add(s, w));
        }
        acc += s * s;
    }
    acc
}

#[test]
fn a_scalar_read_by_a_recurrence_in_every_row_matches_finite_differences() {
    let x = [0.3, -0.5, 0.7, 1.1, -0.2, 0.4];
    let w = 0.6;
    for (rows, cols) in [(1, 1), (2, 1), (2, 3), (3, 2)] {
        let (_, g) = row_recurrences_grad(&x, w, rows, cols);
        let h = 1e-6;
        let fd_w = (row_recurrences(&x, w + h, rows, cols)
            - row_recurrences(&x, w - h, rows, cols))
            / (2.0 * h);
        assert_relative_eq!(g.w, fd_w, max_relative = 1e-7);
        let fd = numeric_gradient(|x| row_recurrences(x, w, rows, cols), &x);
        assert_all_close(&g.x, &fd, 1e-8);
    }
}
