//! Local arrays (`vec![v; n]`, `[v; N]`, `vec![a, b, c]`) written element by element and read
//! after: each function's gradient checked against a hand-derived one (exact) and central
//! differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test
#![allow(clippy::useless_vec)] // `vec![a, b, c]` is a form under test

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// `z[c] = w[c]·x` in a loop, then `Σ z[c]²`: `∂/∂w[c] = 2·z[c]·x`, `∂/∂x = Σ 2·z[c]·w[c]`.
#[differentiable]
fn scaled_squares(w: &[f64], x: f64) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    for c in 0..k {
        z[c] = w[c] * x;
    }
    let mut s = 0.0;
    for c in 0..k {
        s += z[c] * z[c];
    }
    s
}

#[test]
fn a_buffer_filled_in_a_loop_and_read_in_another() {
    let w = [0.5, -1.5, 2.0, 0.25];
    let x = 1.25;
    let (value, g) = scaled_squares_grad(&w, x);
    assert_eq!(value, scaled_squares(&w, x));
    let hand_w: Vec<f64> = w.iter().map(|wc| 2.0 * wc * x * x).collect();
    let hand_x: f64 = w.iter().map(|wc| 2.0 * wc * x * wc).sum();
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert!((g.x - hand_x).abs() < 1e-12);
}

/// Softmax cross-entropy of `k` logits through a buffer, the way a new user writes it:
/// logits `z[c] = w[c]·x + b[c]`, their max, then `log Σ exp(z[c] − m) − (z[y] − m)`.
#[differentiable]
fn softmax_xent(w: &[f64], b: &[f64], x: f64, y: usize) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    let mut m = f64::NEG_INFINITY;
    for c in 0..k {
        z[c] = w[c] * x + b[c];
        m = m.max(z[c]);
    }
    let mut s = 0.0;
    for c in 0..k {
        s += (z[c] - m).exp();
    }
    s.ln() + m - z[y]
}

#[test]
fn softmax_cross_entropy_through_a_buffer() {
    let w = [0.5, -1.5, 2.0];
    let b = [0.1, 0.2, -0.3];
    let (x, y) = (0.75, 1);
    let (value, g) = softmax_xent_grad(&w, &b, x, y);
    assert!((value - softmax_xent(&w, &b, x, y)).abs() < 1e-15);
    // ∂/∂z[c] = p[c] − [c = y]; ∂/∂w[c] = x·∂/∂z[c], ∂/∂b[c] = ∂/∂z[c].
    let z: Vec<f64> = (0..3).map(|c| w[c] * x + b[c]).collect();
    let total: f64 = z.iter().map(|v| v.exp()).sum();
    let dz: Vec<f64> = (0..3)
        .map(|c| z[c].exp() / total - if c == y { 1.0 } else { 0.0 })
        .collect();
    let hand_w: Vec<f64> = dz.iter().map(|d| d * x).collect();
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert_all_close(&g.b, &dz, 1e-12);
}

/// A small fixed array written at constant indices, then read: `p = [a·b, a + b, b²]`,
/// `p[0]·p[1] + p[2]`.
#[differentiable]
fn fixed_three(a: f64, b: f64) -> f64 {
    let mut p = [0.0; 3];
    p[0] = a * b;
    p[1] = a + b;
    p[2] = b * b;
    p[1] += p[0];
    p[0] * p[1] + p[2]
}

#[test]
fn a_fixed_array_written_at_constant_indices() {
    let (a, b) = (1.5, -0.5);
    let (value, g) = fixed_three_grad(a, b);
    assert_eq!(value, fixed_three(a, b));
    // f = ab(a + b + ab) + b²
    let hand_a = b * (a + b + a * b) + a * b * (1.0 + b);
    let hand_b = a * (a + b + a * b) + a * b * (1.0 + a) + 2.0 * b;
    assert!((g.a - hand_a).abs() < 1e-12, "{} vs {hand_a}", g.a);
    assert!((g.b - hand_b).abs() < 1e-12, "{} vs {hand_b}", g.b);
}

/// A buffer per outer iteration (GMM's shape): for each point, `k` scores, their
/// log-sum-exp, summed over the points.
#[differentiable]
fn per_point_lse(mu: &[f64], xs: &[f64]) -> f64 {
    let k = mu.len();
    let mut total = 0.0;
    for i in 0..xs.len() {
        let mut z = vec![0.0; k];
        for c in 0..k {
            let d = xs[i] - mu[c];
            z[c] = -0.5 * d * d;
        }
        let mut m = f64::NEG_INFINITY;
        for c in 0..k {
            m = m.max(z[c]);
        }
        let mut s = 0.0;
        for c in 0..k {
            s += (z[c] - m).exp();
        }
        total += m + s.ln();
    }
    total
}

#[test]
fn a_buffer_per_iteration_of_an_outer_loop() {
    let mu = [0.5, -1.0, 2.0];
    let xs = [0.1, 1.7, -0.4, 2.5];
    let (value, g) = per_point_lse_grad(&mu, &xs);
    assert!((value - per_point_lse(&mu, &xs)).abs() < 1e-12);
    // ∂/∂mu[c] = Σ_i p_ic·(x_i − mu_c), p the softmax of the scores.
    let mut hand = [0.0; 3];
    for &x in &xs {
        let z: Vec<f64> = mu.iter().map(|m| -0.5 * (x - m) * (x - m)).collect();
        let t: f64 = z.iter().map(|v| v.exp()).sum();
        for c in 0..3 {
            hand[c] += z[c].exp() / t * (x - mu[c]);
        }
    }
    assert_all_close(&g.mu, &hand, 1e-12);
    let numeric = numeric_gradient(|p| per_point_lse(p, &xs), &mu);
    assert_all_close(&g.mu, &numeric, 1e-6);
}

/// Writes into part of a buffer (`1..k`), an accumulation `+=` in a loop, a `vec![a, b, c]`
/// literal, `len()`, and reads at computed indices.
#[differentiable]
fn partial_writes(x: &[f64], a: f64) -> f64 {
    let n = x.len();
    let mut z = vec![a; n];
    for c in 1..n {
        z[c] = x[c] * x[c - 1];
    }
    for c in 0..z.len() {
        z[c] += x[c] * a;
    }
    let q = vec![a, 2.0 * a, a * a];
    let mut s = q[0] * z[0] + q[1] * z[n - 1] + q[2];
    for c in 0..n - 1 {
        s += z[c] * z[c + 1];
    }
    s
}

#[test]
fn partial_and_accumulated_writes_against_central_differences() {
    let x = [0.5, -1.25, 2.0, 0.75, 1.5];
    let a = 0.7;
    let (value, g) = partial_writes_grad(&x, a);
    assert!((value - partial_writes(&x, a)).abs() < 1e-12);
    let mut at = x.to_vec();
    at.push(a);
    let numeric = numeric_gradient(|p| partial_writes(&p[..5], p[5]), &at);
    let mut got = g.x.clone();
    got.push(g.a);
    assert_all_close(&got, &numeric, 1e-6);
}

/// The first example users reach for, once rejected: a buffer of logits `[0.0; 3]` filled with
/// `+=` in a loop, then read element by element.
#[differentiable]
fn three_logits(w: &[f64], x: f64) -> f64 {
    let mut z = [0.0; 3];
    for c in 0..3 {
        z[c] += w[c] * x;
    }
    z[0] + z[1] * z[2]
}

#[test]
fn a_fixed_buffer_filled_with_plus_equals() {
    let w = [0.5, -1.5, 2.0];
    let x = 1.5;
    let (value, g) = three_logits_grad(&w, x);
    assert_eq!(value, three_logits(&w, x));
    let hand_w = [x, x * (w[2] * x), (w[1] * x) * x];
    let hand_x = w[0] + 2.0 * w[1] * w[2] * x;
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert!((g.x - hand_x).abs() < 1e-12);
}

/// A local array iterated over: `for &v in &z`, `z.iter().sum()`, `enumerate`, `zip`
/// with a parameter, `windows(2)`, with typed `let`s.
#[differentiable]
fn iterated(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z: Vec<f64> = vec![0.0; n];
    for c in 0..n {
        z[c] = (w[c] * x).tanh();
    }
    let mut s = 0.0;
    for &v in &z {
        s += v * v;
    }
    let total: f64 = z.iter().sum();
    let mut t = 0.0;
    for (c, zc) in z.iter().enumerate() {
        t += (c as f64 + 1.0) * zc;
    }
    let d: f64 = z.iter().zip(w.iter()).map(|(a, b)| a * b).sum();
    let mut rough = 0.0;
    for p in z.windows(2) {
        rough += (p[1] - p[0]).powi(2);
    }
    let q: [f64; 2] = [s, total];
    q[0] * q[1] + t + d + rough
}

#[test]
fn a_local_array_iterated_over_against_central_differences() {
    let w = [0.5, -1.25, 2.0, 0.75];
    let x = 0.6;
    let (value, g) = iterated_grad(&w, x);
    assert!((value - iterated(&w, x)).abs() < 1e-12);
    let mut at = w.to_vec();
    at.push(x);
    let numeric = numeric_gradient(|p| iterated(&p[..4], p[4]), &at);
    let mut got = g.w.clone();
    got.push(g.x);
    assert_all_close(&got, &numeric, 1e-6);
}

/// Writes in a loop that breaks: the elements after the break keep their old values.
#[differentiable]
fn written_until(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![x; n];
    for c in 0..n {
        if w[c] < 0.0 {
            break;
        }
        z[c] = w[c] * w[c];
    }
    let mut s = 0.0;
    for c in 0..n {
        s += z[c] * (c as f64 + 1.0);
    }
    s
}

#[test]
fn writes_in_a_loop_that_breaks() {
    let w = [0.5, 1.5, -2.0, 0.75];
    let x = 0.3;
    let (value, g) = written_until_grad(&w, x);
    assert_eq!(value, written_until(&w, x));
    // z = [w0², w1², x, x]: ∂/∂w0 = 2w0, ∂/∂w1 = 2·2w1, ∂/∂x = 3 + 4.
    assert_all_close(&g.w, &[2.0 * w[0], 4.0 * w[1], 0.0, 0.0], 1e-12);
    assert!((g.x - 7.0).abs() < 1e-12);
}

/// Adding into an array in a loop nest, at any index: a matrix-vector product into a buffer
/// (`y[j] += a[i·m + j]·x[i]`), a histogram with data indices (`h[bin[i]] += w[i]`), and the
/// triangular `Q·x` of ADBench's GMM (`out[j] += l[k]·x[i]` for `j > i`).
#[differentiable]
fn added_into(a: &[f64], x: &[f64], w: &[f64], bin: &[usize]) -> f64 {
    let n = x.len();
    let m = a.len() / n;
    let mut y = vec![0.0; m];
    for i in 0..n {
        for j in 0..m {
            y[j] += a[i * m + j] * x[i];
        }
    }
    let mut h = vec![0.5; 3];
    for i in 0..w.len() {
        h[bin[i]] += w[i] * w[i];
        h[0] -= 0.1 * w[i];
    }
    let mut out = vec![0.0; n];
    for j in 0..n {
        out[j] = x[j].exp();
    }
    for i in 0..n {
        for j in i + 1..n {
            let k = i * (2 * n - i - 1) / 2 + (j - i - 1);
            out[j] += a[k] * x[i];
        }
    }
    let mut s = 0.0;
    for j in 0..m {
        s += y[j] * y[j];
    }
    for c in 0..3 {
        s += h[c] * (c as f64 + 1.0);
    }
    for j in 0..n {
        s += out[j] * out[j];
    }
    s
}

#[test]
fn adding_into_an_array_in_a_loop_nest_against_central_differences() {
    let x = [0.5, -1.25, 0.75];
    let a = [0.3, -0.2, 0.9, 1.1, -0.4, 0.6];
    let w = [0.2, -0.7, 1.3, 0.4];
    let bin = [2, 0, 2, 1];
    let (value, g) = added_into_grad(&a, &x, &w, &bin);
    assert!((value - added_into(&a, &x, &w, &bin)).abs() < 1e-12);
    let mut at = a.to_vec();
    at.extend(x);
    at.extend(w);
    let numeric = numeric_gradient(|p| added_into(&p[..6], &p[6..9], &p[9..], &bin), &at);
    let mut got = g.a.clone();
    got.extend(&g.x);
    got.extend(&g.w);
    assert_all_close(&got, &numeric, 1e-6);
    // The histogram by hand: ∂/∂w[i] = (bin[i] + 1)·2w[i] − 0.1.
    let hand_w: Vec<f64> = (0..4)
        .map(|i| (bin[i] as f64 + 1.0) * 2.0 * w[i] - 0.1)
        .collect();
    assert_all_close(&g.w, &hand_w, 1e-12);
}

/// A running maximum over a buffer (a recurrence whose reverse sweep adds into the buffer's
/// adjoint), used squared: only the largest element gets a gradient, `2·m·x`.
#[differentiable]
fn max_of_buffer(w: &[f64], x: f64) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    for c in 0..k {
        z[c] = w[c] * x;
    }
    let mut m = z[0];
    for c in 1..k {
        if z[c] > m {
            m = z[c];
        }
    }
    let mut s = 0.0;
    for c in 0..k {
        s += z[c];
    }
    m * m + s
}

#[test]
fn a_running_max_over_a_buffer_sends_its_gradient_to_the_largest_element() {
    let w = [0.5, 2.5, -1.0, 1.5];
    let x = 1.5;
    let (value, g) = max_of_buffer_grad(&w, x);
    assert_eq!(value, max_of_buffer(&w, x));
    let m = 2.5 * x;
    assert_all_close(&g.w, &[x, x + 2.0 * m * x, x, x], 1e-12);
    assert!((g.x - (2.0 * m * 2.5 + w.iter().sum::<f64>())).abs() < 1e-12);
}

/// Second order through a buffer: `_hvp` (H·v) against central differences of `_grad` along
/// `v`, and the dense Hessian against the products.
#[differentiable(hessian)]
fn buffered_quartic(w: &[f64], x: f64) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    for c in 0..k {
        z[c] = w[c] * x + w[c] * w[c];
    }
    let mut s = 0.0;
    for c in 0..k {
        s += z[c] * z[c] * (c as f64 + 1.0);
    }
    s
}

#[test]
fn hessian_vector_products_through_a_buffer() {
    let w = [0.5, -1.25, 2.0];
    let x = 0.7;
    let v = BufferedQuarticGrad {
        w: vec![0.3, -0.6, 0.9],
        x: 0.4,
    };
    let (value, g, hv) = buffered_quartic_hvp(&w, x, &v);
    assert_eq!(value, buffered_quartic(&w, x));
    let (_, g0) = buffered_quartic_grad(&w, x);
    assert_all_close(&g.w, &g0.w, 1e-12);
    let h = 1e-5;
    let at = |t: f64| {
        let wt: Vec<f64> = w.iter().zip(&v.w).map(|(a, b)| a + t * b).collect();
        buffered_quartic_grad(&wt, x + t * v.x).1
    };
    let (plus, minus) = (at(h), at(-h));
    let numeric: Vec<f64> = plus
        .w
        .iter()
        .zip(&minus.w)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .chain(std::iter::once((plus.x - minus.x) / (2.0 * h)))
        .collect();
    let mut got = hv.w.clone();
    got.push(hv.x);
    assert_all_close(&got, &numeric, 1e-6);
}

/// `Vec::new()` / `Vec::with_capacity(n)` grown with `push`, in loops and outside them, then
/// read: the features of a small model, `[1, x, x², …]`, and their weighted sum.
#[differentiable]
fn pushed_features(w: &[f64], x: f64) -> f64 {
    let mut f = Vec::with_capacity(w.len());
    f.push(1.0);
    for p in 1..w.len() {
        f.push(x.powf(p as f64));
    }
    let mut tail = Vec::new();
    for c in 0..2 {
        tail.push(w[c] * (c as f64 + 0.5));
    }
    tail.push(x);
    let mut s = 0.0;
    for p in 0..f.len() {
        s += w[p] * f[p];
    }
    s * s + tail[0] * tail[1] * tail[2] + tail.len() as f64
}

#[test]
fn vectors_grown_with_push_against_central_differences() {
    let w = [0.5, -1.25, 2.0, 0.75];
    let x = 0.6;
    let (value, g) = pushed_features_grad(&w, x);
    assert!((value - pushed_features(&w, x)).abs() < 1e-12);
    let mut at = w.to_vec();
    at.push(x);
    let numeric = numeric_gradient(|p| pushed_features(&p[..4], p[4]), &at);
    let mut got = g.w.clone();
    got.push(g.x);
    assert_all_close(&got, &numeric, 1e-6);
}

#[differentiable]
fn weighted_norm(z: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..z.len() {
        s += w[i] * z[i] * z[i];
    }
    s
}

/// Local arrays passed whole to another differentiable function: a buffer computed in a loop,
/// one added into, and both in one call; the callee's hidden vector-Jacobian product writes
/// into the arrays' adjoints.
#[differentiable]
fn passes_buffers(a: &[f64], x: f64) -> f64 {
    let n = a.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (a[i] * x).sin();
    }
    let mut acc = vec![0.0; n];
    for i in 0..n {
        for j in 0..n {
            acc[j] += a[i] * z[j];
        }
    }
    weighted_norm(&z, a) + weighted_norm(&acc, &z) * 0.1
}

#[test]
fn local_arrays_passed_to_differentiable_functions() {
    let a = [0.5, -1.25, 2.0];
    let x = 0.8;
    let (value, g) = passes_buffers_grad(&a, x);
    assert!((value - passes_buffers(&a, x)).abs() < 1e-12);
    let mut at = a.to_vec();
    at.push(x);
    let numeric = numeric_gradient(|p| passes_buffers(&p[..3], p[3]), &at);
    let mut got = g.a.clone();
    got.push(g.x);
    assert_all_close(&got, &numeric, 1e-6);
}

/// `a²·b`, called with elements of a local array.
#[differentiable]
fn sq_times(a: f64, b: f64) -> f64 {
    a * a * b
}

/// Elements of a local array passed to another differentiable function: once rejected as
/// "`z[0]` cannot be differentiated: it uses the local `z`" (the argument was taken for opaque
/// data). With `z[c] = w[c]·x`: `f = w0²·w2·x³ + x³·Σ w_c²`.
#[differentiable]
fn elements_as_arguments(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for c in 0..n {
        z[c] = w[c] * x;
    }
    let mut s = sq_times(z[0], z[2]);
    for c in 0..n {
        s += sq_times(z[c], x);
    }
    s
}

#[test]
fn elements_of_a_local_array_as_call_arguments() {
    let w = [0.5, -1.5, 2.0, 0.75];
    let x = 1.25;
    let (value, g) = elements_as_arguments_grad(&w, x);
    assert!((value - elements_as_arguments(&w, x)).abs() < 1e-12);
    let x3 = x * x * x;
    let squares: f64 = w.iter().map(|v| v * v).sum();
    let mut hand_w: Vec<f64> = w.iter().map(|v| 2.0 * v * x3).collect();
    hand_w[0] += 2.0 * w[0] * w[2] * x3;
    hand_w[2] += w[0] * w[0] * x3;
    let hand_x = 3.0 * x * x * (w[0] * w[0] * w[2] + squares);
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert!((g.x - hand_x).abs() < 1e-12, "{} vs {hand_x}", g.x);
}

/// A loop that breaks on the value it has just written, tested through a `let` (`if z[c] > …`
/// after the write is rejected: the condition is read before the loop, where `z[c]` was still
/// the old element; it once gave a wrong value and gradient).
#[differentiable]
fn written_then_tested(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for c in 0..n {
        let e = w[c] * x;
        z[c] = e;
        if e > 1.0 {
            break;
        }
    }
    let mut s = 0.0;
    for c in 0..n {
        s += z[c] * (c as f64 + 1.0);
    }
    s
}

#[test]
fn a_break_on_the_value_just_written() {
    let w = [0.5, 1.5, -2.0, 0.75];
    let x = 0.8;
    let (value, g) = written_then_tested_grad(&w, x);
    assert_eq!(value, written_then_tested(&w, x));
    // Breaks after writing z[1] = 1.2: z = [w0·x, w1·x, 0, 0], f = w0·x + 2·w1·x.
    assert!((value - (w[0] * x + 2.0 * w[1] * x)).abs() < 1e-12);
    assert_all_close(&g.w, &[x, 2.0 * x, 0.0, 0.0], 1e-12);
    assert!((g.x - (w[0] + 2.0 * w[1])).abs() < 1e-12);
}

/// A `break` before the write reads the element as it was before this iteration's write.
#[differentiable]
fn tested_then_written(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for c in 0..n {
        z[c] = 2.0 * w[c];
    }
    for c in 0..n {
        if z[c] < 0.0 {
            break;
        }
        z[c] *= x;
    }
    let mut s = 0.0;
    for c in 0..n {
        s += z[c] * (c as f64 + 1.0);
    }
    s
}

#[test]
fn a_break_before_the_write_reads_the_old_element() {
    let w = [0.5, 1.5, -2.0, 0.75];
    let x = 0.8;
    let (value, g) = tested_then_written_grad(&w, x);
    assert_eq!(value, tested_then_written(&w, x));
    // Breaks at c = 2 (z[2] = −4): z = [2·w0·x, 2·w1·x, 2·w2, 2·w3].
    let want = 2.0 * (w[0] * x + 2.0 * w[1] * x + 3.0 * w[2] + 4.0 * w[3]);
    assert!((value - want).abs() < 1e-12);
    assert_all_close(&g.w, &[2.0 * x, 4.0 * x, 6.0, 8.0], 1e-12);
    assert!((g.x - 2.0 * (w[0] + 2.0 * w[1])).abs() < 1e-12);
}

// ---- Writes under a condition: an element keeps its old value where the condition fails.

/// Outside loops: `if x > 0 { z[0] = w₀·x }` (z₀ = 0 otherwise), `if x < 1 { z[1] += w₁ }`,
/// value `z₀² + z₁·x + z₂`, `z = [0, 1, w₂]`.
#[differentiable]
fn written_under_if(w: &[f64], x: f64) -> f64 {
    let mut z = vec![0.0, 1.0, w[2]];
    if x > 0.0 {
        z[0] = w[0] * x;
    }
    if x < 1.0 {
        z[1] += w[1];
    } else {
        z[2] *= x;
    }
    z[0] * z[0] + z[1] * x + z[2]
}

#[test]
fn elements_written_under_if_outside_loops() {
    let w = [0.5, -1.5, 2.0];
    for x in [-0.75, 0.5, 1.5] {
        let (value, g) = written_under_if_grad(&w, x);
        assert_eq!(value, written_under_if(&w, x));
        let z0 = if x > 0.0 { w[0] * x } else { 0.0 };
        let z1 = if x < 1.0 { 1.0 + w[1] } else { 1.0 };
        let (hand_w, hand_x) = if x < 1.0 {
            // z₂ = w₂
            (
                [if x > 0.0 { 2.0 * z0 * x } else { 0.0 }, x, 1.0],
                (if x > 0.0 { 2.0 * z0 * w[0] } else { 0.0 }) + z1,
            )
        } else {
            // z₂ = w₂·x
            ([2.0 * z0 * x, 0.0, x], 2.0 * z0 * w[0] + z1 + w[2])
        };
        assert_all_close(&g.w, &hand_w, 1e-12);
        assert!((g.x - hand_x).abs() < 1e-12, "{x}: {} vs {hand_x}", g.x);
    }
}

/// In a loop: `z[c] = w[c]·x` only where `w[c] > 0` (z = 1 elsewhere), `z[c] += x` where `c`
/// is even, skipped after a `continue` where `w[c] < −1`; then `Σ z[c]²`.
#[differentiable]
fn written_in_some_iterations(w: &[f64], x: f64) -> f64 {
    let k = w.len();
    let mut z = vec![1.0; k];
    for c in 0..k {
        if w[c] < -1.0 {
            continue;
        }
        if w[c] > 0.0 {
            z[c] = w[c] * x;
        }
        if c % 2 == 0 {
            z[c] += x;
        }
    }
    let mut s = 0.0;
    for c in 0..k {
        s += z[c] * z[c];
    }
    s
}

#[test]
fn elements_written_in_some_iterations_of_a_loop() {
    let w = [0.5, -1.5, 2.0, -0.25, 0.75, -3.0];
    let x = 1.25;
    let (value, g) = written_in_some_iterations_grad(&w, x);
    assert_eq!(value, written_in_some_iterations(&w, x));
    let mut hand_w = vec![0.0; w.len()];
    let mut hand_x = 0.0;
    for c in 0..w.len() {
        if w[c] < -1.0 {
            continue; // z[c] = 1: no gradient
        }
        let (mut z, mut dz_dw, mut dz_dx) = (1.0, 0.0, 0.0);
        if w[c] > 0.0 {
            (z, dz_dw, dz_dx) = (w[c] * x, x, w[c]);
        }
        if c % 2 == 0 {
            z += x;
            dz_dx += 1.0;
        }
        hand_w[c] = 2.0 * z * dz_dw;
        hand_x += 2.0 * z * dz_dx;
    }
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert!((g.x - hand_x).abs() < 1e-12);
    let numeric = numeric_gradient(|w| written_in_some_iterations(w, x), &w);
    assert_all_close(&g.w, &numeric, 1e-6);
}

/// A conditional write read back in the same iteration, and a `match` choosing what to write.
#[differentiable]
fn chosen_then_read(w: &[f64], x: f64) -> f64 {
    let k = w.len();
    let mut z = vec![0.0; k];
    let mut s = 0.0;
    for c in 0..k {
        match c % 3 {
            0 => z[c] = w[c] * x,
            1 => z[c] = w[c].exp(),
            _ => {}
        }
        if z[c] > 0.5 {
            z[c] = z[c].sqrt();
        }
        s += z[c] * x;
    }
    s + z[0] * z[k - 1]
}

#[test]
fn conditional_writes_read_back_against_central_differences() {
    let w = [0.5, -1.5, 2.0, -0.25, 0.75, 0.1, 1.2];
    for x in [0.3, 1.25, -0.8] {
        let (value, g) = chosen_then_read_grad(&w, x);
        assert!((value - chosen_then_read(&w, x)).abs() < 1e-12);
        let numeric = numeric_gradient(|w| chosen_then_read(w, x), &w);
        assert_all_close(&g.w, &numeric, 1e-6);
        let dx = numeric_gradient(|v| chosen_then_read(&w, v[0]), &[x]);
        assert!((g.x - dx[0]).abs() < 1e-6, "{x}: {} vs {}", g.x, dx[0]);
    }
}

// ---- Additions under a condition in the loops adding into an array.
//
// A loop adding into an array inside an `if` of an outer loop added in every iteration of the
// outer loop, the condition ignored: a wrong value and gradient (found while adding
// conditional additions; `nested_adds_under_if` gave 6 and ∂ = [5, 5, 5] here, not 20 and
// [9, 0, 9]).

/// `h[j] += w[i]` for both `j`, in the iterations where `w[i] > 0`: `h = [P, P]` with `P` the
/// sum of the positive weights, value `P + P²`, `∂/∂w[i] = 1 + 2P` where `w[i] > 0`, else 0.
#[differentiable]
fn nested_adds_under_if(w: &[f64]) -> f64 {
    let mut h = vec![0.0; 2];
    for i in 0..w.len() {
        if w[i] > 0.0 {
            for j in 0..2 {
                h[j] += w[i];
            }
        }
    }
    h[0] + h[1] * h[1]
}

#[test]
fn a_loop_adding_into_an_array_under_an_if_adds_only_where_it_holds() {
    let w = [1.0, -2.0, 3.0];
    let (value, g) = nested_adds_under_if_grad(&w);
    assert_eq!(value, 20.0);
    assert_eq!(value, nested_adds_under_if(&w));
    assert_eq!(g.w, vec![9.0, 0.0, 9.0]);
}

/// A histogram of the positive weights' squares and, under `else`, of the negative ones
/// halved into the next bin; a `match` adding `x` into bin 0 or `−x·w[i]` into bin 3.
#[differentiable]
fn filtered_histogram(w: &[f64], x: f64, bin: &[usize]) -> f64 {
    let mut h = vec![0.0; 4];
    for i in 0..w.len() {
        if w[i] > 0.0 {
            h[bin[i]] += w[i] * w[i];
        } else {
            h[bin[i] + 1] -= 0.5 * w[i] * x;
        }
        match i % 3 {
            1 => h[0] += x,
            2 => h[3] -= x * w[i],
            _ => {}
        }
    }
    h[0] * h[1] + h[2].exp() + h[3] * x
}

#[test]
fn additions_under_if_else_and_match_into_a_histogram() {
    let w = [0.5, -1.5, 2.0, -0.25, 0.75, 0.1];
    let bin = [0, 1, 2, 0, 1, 2];
    let x = 0.8;
    let (value, g) = filtered_histogram_grad(&w, x, &bin);
    assert!((value - filtered_histogram(&w, x, &bin)).abs() < 1e-12);
    // By hand: h as the function builds it, then ∂f/∂h = [h1, h0, e^h2, x].
    let mut h = [0.0; 4];
    for i in 0..w.len() {
        if w[i] > 0.0 {
            h[bin[i]] += w[i] * w[i];
        } else {
            h[bin[i] + 1] -= 0.5 * w[i] * x;
        }
        if i % 3 == 1 {
            h[0] += x;
        } else if i % 3 == 2 {
            h[3] -= x * w[i];
        }
    }
    let dh = [h[1], h[0], h[2].exp(), x];
    let mut hand_w = vec![0.0; w.len()];
    let mut hand_x = h[3];
    for i in 0..w.len() {
        if w[i] > 0.0 {
            hand_w[i] = dh[bin[i]] * 2.0 * w[i];
        } else {
            hand_w[i] = -dh[bin[i] + 1] * 0.5 * x;
            hand_x += -dh[bin[i] + 1] * 0.5 * w[i];
        }
        if i % 3 == 1 {
            hand_x += dh[0];
        } else if i % 3 == 2 {
            hand_x -= dh[3] * w[i];
            hand_w[i] -= dh[3] * x;
        }
    }
    assert_all_close(&g.w, &hand_w, 1e-12);
    assert!((g.x - hand_x).abs() < 1e-12, "{} vs {hand_x}", g.x);
}

/// An addition at an index the loop does not change, of a value it does not change: `z[n] −=
/// tanh w₀` runs `n − 1` times. The gradient counted it once (fuzzer, seed 1 of the sample
/// once it added into arrays in loop nests): `z[j] = w₁` (j < n), `z[n] = w₁ − (n−1)·t`, `s =
/// (n−1)·w₁² + w₁·z[n]`, `∂s/∂w₀ = −(n−1)·w₁·(1 − t²)`, `∂s/∂w₁ = 2(n−1)·w₁ + 2w₁ − (n−1)·t`.
#[differentiable]
fn repeated_invariant_addition(n: usize, w: &[f64]) -> f64 {
    let mut z = vec![w[1]; n + 1];
    for _ in 0..n - 1 {
        z[n] -= w[0].tanh();
    }
    let mut s = 0.0;
    for i in 1..=n {
        s += z[i] * z[i - 1];
    }
    s
}

#[test]
fn an_invariant_addition_repeated_by_a_loop_counts_every_time() {
    let w = [0.4, -0.7];
    for n in [1, 2, 5] {
        let (value, g) = repeated_invariant_addition_grad(n, &w);
        assert!((value - repeated_invariant_addition(n, &w)).abs() < 1e-12);
        let (m, t) = ((n - 1) as f64, w[0].tanh());
        let hand = [
            -m * w[1] * (1.0 - t * t),
            2.0 * m * w[1] + 2.0 * w[1] - m * t,
        ];
        assert_all_close(&g.w, &hand, 1e-12);
    }
}

/// An element computed by a loop of its own that does not change with the writing loop's
/// index, read in that loop and after it. The adjoint vector was declared once but its
/// additions ran in every iteration of the loop (fuzzer, sample seed 1, program 216): `f = s ·
/// z[2]` with `z[i] = P`, `s = 3P`, so `f = 3P²`, `∂f/∂y[k] = 6P` for `k ≥ d` (P a sum), `6M`
/// at the largest element for a running max `M`.
#[differentiable]
fn inner_loop_element(d: usize, y: &[f64]) -> f64 {
    let mut z = vec![0.0; 3];
    let mut s = 0.0;
    for i in 0..3 {
        z[i] = y.iter().skip(d).sum::<f64>();
        s += z[i];
    }
    s * z[2]
}

#[differentiable]
fn inner_max_element(d: usize, y: &[f64]) -> f64 {
    let mut z = vec![0.0; 3];
    let mut s = 0.0;
    for i in 0..3 {
        let mut m = f64::NEG_INFINITY;
        for k in d..y.len() {
            m = m.max(y[k]);
        }
        z[i] = m;
        s += z[i];
    }
    s * z[2]
}

#[test]
fn an_element_from_an_invariant_inner_loop_read_in_and_after_the_loop() {
    let y = [0.375, -1.25, 0.5, 2.0];
    let (value, g) = inner_loop_element_grad(1, &y);
    let p = -1.25 + 0.5 + 2.0;
    assert!((value - 3.0 * p * p).abs() < 1e-12);
    assert_all_close(&g.y, &[0.0, 6.0 * p, 6.0 * p, 6.0 * p], 1e-12);
    let (value, g) = inner_max_element_grad(1, &y);
    assert!((value - 12.0).abs() < 1e-12);
    assert_all_close(&g.y, &[0.0, 0.0, 0.0, 12.0], 1e-12);
}

/// Writes at `enumerate`'s count after `step_by` (and `skip`, then `step_by`): `step_by`
/// numbers its items from 0, so the count is the loop's own index. `z[c] = x[k + 2c]²`, read
/// after as `s = Σ_c (c + 1)·sin(z[c])`: `∂s/∂x[k + 2c] = (c + 1)·cos(x[k + 2c]²)·2·x[k + 2c]`,
/// every other element 0.
#[differentiable]
fn every_other_squared(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for (c, v) in x.iter().step_by(2).enumerate() {
        z[c] = v * v;
    }
    let mut s = 0.0;
    for c in 0..n {
        s += (c as f64 + 1.0) * z[c].sin();
    }
    s
}

/// The same from the second element: `x.iter().skip(1).step_by(2).enumerate()`.
#[differentiable]
fn every_other_squared_from_one(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for (c, v) in x.iter().skip(1).step_by(2).enumerate() {
        z[c] = v * v;
    }
    let mut s = 0.0;
    for c in 0..n {
        s += (c as f64 + 1.0) * z[c].sin();
    }
    s
}

/// The hand gradient of [`every_other_squared`] from element `k`.
fn every_other_by_hand(x: &[f64], k: usize) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for (c, j) in (k..x.len()).step_by(2).enumerate() {
        g[j] = (c as f64 + 1.0) * (x[j] * x[j]).cos() * 2.0 * x[j];
    }
    g
}

#[test]
fn writes_at_the_count_of_step_by_enumerate() {
    for n in [0_usize, 1, 2, 5, 8] {
        let x: Vec<f64> = (0..n).map(|i| 0.3 + 0.17 * i as f64).collect();
        let (value, g) = every_other_squared_grad(&x);
        assert_eq!(value, every_other_squared(&x));
        assert_all_close(&g.x, &every_other_by_hand(&x, 0), 1e-12);
        assert_all_close(&g.x, &numeric_gradient(every_other_squared, &x), 1e-6);
        let (value, g) = every_other_squared_from_one_grad(&x);
        assert_eq!(value, every_other_squared_from_one(&x));
        assert_all_close(&g.x, &every_other_by_hand(&x, 1), 1e-12);
        assert_all_close(
            &g.x,
            &numeric_gradient(every_other_squared_from_one, &x),
            1e-6,
        );
    }
}
