//! Loss functions over data: slices, `for` loops and iterator sums, differentiated as loops.

use approx::assert_relative_eq;
use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};

// Seed 001's batch cost J(w, b) = 1/(2m) Σ (w·xᵢ + b − yᵢ)², as a `for` loop ...
#[differentiable(wrt(w, b))]
fn bgd_loop(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let m = x.len() as f64;
    let mut acc = 0.0;
    for i in 0..x.len() {
        let r = w * x[i] + b - y[i];
        acc += r * r;
    }
    acc / (2.0 * m)
}

// ... and as an iterator sum.
#[differentiable(wrt(w, b))]
fn bgd_iter(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let m = x.len() as f64;
    x.iter()
        .zip(y)
        .map(|(xi, yi)| (w * xi + b - yi).powi(2))
        .sum::<f64>()
        / (2.0 * m)
}

#[test]
fn seed_001_batch_cost_both_forms_match_the_hand_derived_gradient() {
    let x = [1.0, 2.0, 3.0, 4.5];
    let y = [2.0, 4.0, 6.0, 8.0];
    let (w, b) = (0.7, -0.3);
    let m = x.len() as f64;
    let r: Vec<f64> = x.iter().zip(&y).map(|(xi, yi)| w * xi + b - yi).collect();
    let j = r.iter().map(|r| r * r).sum::<f64>() / (2.0 * m);
    let dw = r.iter().zip(&x).map(|(r, xi)| r * xi).sum::<f64>() / m;
    let db = r.iter().sum::<f64>() / m;
    for (v, g) in [bgd_loop_grad(w, b, &x, &y), {
        let (v, g) = bgd_iter_grad(w, b, &x, &y);
        (v, BgdLoopGrad { w: g.w, b: g.b })
    }] {
        assert_relative_eq!(v, j, max_relative = 1e-14);
        assert_relative_eq!(g.w, dw, max_relative = 1e-12);
        assert_relative_eq!(g.b, db, max_relative = 1e-12);
    }
}

/// Rosenbrock over a slice: the gradient is a `Vec` as long as the input.
#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        f += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

fn rosenbrock_hand(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut g = vec![0.0; n];
    for i in 0..n - 1 {
        let t = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
    g
}

#[test]
fn rosenbrock_over_slices_of_several_lengths() {
    for n in [2, 3, 7, 50] {
        let x: Vec<f64> = (0..n)
            .map(|i| 0.3 + 0.17 * f64::from(i) - 0.01 * f64::from(i * i))
            .collect();
        let (v, g) = rosenbrock_grad(&x);
        assert_relative_eq!(v, rosenbrock(&x), max_relative = 1e-14);
        assert_eq!(g.x.len(), x.len());
        for (a, b) in g.x.iter().zip(rosenbrock_hand(&x)) {
            assert_relative_eq!(*a, b, max_relative = 1e-12, epsilon = 1e-12);
        }
    }
}

/// A stencil reading each slice at several offsets of the loop index (the generated loop reads
/// the largest offset first, so its bounds check covers the others): a smoothness penalty on `x`
/// weighted by `c`.
#[differentiable]
fn stencil(x: &[f64], c: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 1..x.len() - 2 {
        let d = x[i - 1] - 2.0 * x[i] + x[i + 1];
        f += c[i + 1] * d * d + c[i - 1] * x[i + 2] * x[i];
    }
    f
}

fn stencil_hand(x: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut g, mut gc) = (vec![0.0; x.len()], vec![0.0; c.len()]);
    for i in 1..x.len() - 2 {
        let d = x[i - 1] - 2.0 * x[i] + x[i + 1];
        let dd = 2.0 * c[i + 1] * d;
        g[i - 1] += dd;
        g[i] += -2.0 * dd + c[i - 1] * x[i + 2];
        g[i + 1] += dd;
        g[i + 2] += c[i - 1] * x[i];
        gc[i + 1] += d * d;
        gc[i - 1] += x[i + 2] * x[i];
    }
    (g, gc)
}

#[test]
fn stencils_at_several_offsets_match_the_hand_derived_gradient() {
    for n in [3, 4, 5, 9, 40] {
        let x: Vec<f64> = (0..n).map(|i| (f64::from(i) * 0.7).sin() + 0.1).collect();
        let c: Vec<f64> = (0..n).map(|i| 1.0 + 0.25 * f64::from(i % 3)).collect();
        let (v, g) = stencil_grad(&x, &c);
        assert_relative_eq!(v, stencil(&x, &c), max_relative = 1e-14);
        let (want, want_c) = stencil_hand(&x, &c);
        assert_all_close(&g.x, &want, 1e-13);
        assert_all_close(&g.c, &want_c, 1e-13);
        assert_all_close(&g.x, &numeric_gradient(|x| stencil(x, &c), &x), 1e-7);
    }
}

#[differentiable]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y.iter()).map(|(a, b)| a * b).sum()
}

#[test]
fn dot_product_gradient_is_the_other_vector() {
    let (x, y) = ([1.0, -2.0, 3.5], [0.5, 4.0, -1.0]);
    let (v, g) = dot_grad(&x, &y);
    assert_eq!(v, dot(&x, &y));
    assert_eq!(g.x, y.to_vec());
    assert_eq!(g.y, x.to_vec());
}

#[differentiable]
fn cosine_similarity(a: &[f64], b: &[f64]) -> f64 {
    let mut ab = 0.0;
    let mut aa = 0.0;
    let mut bb = 0.0;
    for i in 0..a.len() {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    ab / (aa.sqrt() * bb.sqrt())
}

#[test]
fn cosine_similarity_against_its_textbook_gradient() {
    let a = [1.0, 2.0, -0.5, 0.3];
    let b = [-0.7, 1.1, 2.0, 0.9];
    let (c, g) = cosine_similarity_grad(&a, &b);
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    // ∂cos/∂a = b/(|a||b|) − cos · a/|a|²
    let want: Vec<f64> = a
        .iter()
        .zip(&b)
        .map(|(ai, bi)| bi / (na * nb) - c * ai / (na * na))
        .collect();
    assert_all_close(&g.a, &want, 1e-13);
    assert_all_close(
        &g.b,
        &numeric_gradient(|b| cosine_similarity(&a, b), &b),
        1e-7,
    );
}

/// log Σ exp(zᵢ) written as a sum (the stabilizing `max` loop is not supported yet).
#[differentiable]
fn log_sum_exp(z: &[f64]) -> f64 {
    z.iter().map(|v| v.exp()).sum::<f64>().ln()
}

#[test]
fn log_sum_exp_gradient_is_the_softmax() {
    let z = [0.5, -1.0, 2.0, 0.1];
    let (v, g) = log_sum_exp_grad(&z);
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    assert_relative_eq!(v, s.ln(), max_relative = 1e-15);
    let softmax: Vec<f64> = z.iter().map(|v| v.exp() / s).collect();
    assert_all_close(&g.z, &softmax, 1e-14);
}

/// Nested loops, `if` inside, a weight from a data slice, an index with an offset.
#[differentiable(wrt(m, v))]
fn quadratic_form(m: &[f64], v: &[f64], weights: &[f64], n: usize) -> f64 {
    let mut acc = 0.0;
    for i in 0..n {
        for j in 0..n {
            let term = v[i] * m[i * n + j] * v[j];
            if term > 0.0 {
                acc += weights[i] * term;
            } else {
                acc -= 0.5 * term;
            }
        }
    }
    acc
}

#[test]
fn nested_loops_with_branches_match_finite_differences() {
    let n = 3;
    let m = [1.0, -0.5, 0.3, 0.2, 2.0, -1.2, 0.7, 0.1, 1.5];
    let v = [0.4, -1.1, 0.9];
    let w = [1.0, 2.0, 0.5];
    let (value, g) = quadratic_form_grad(&m, &v, &w, n);
    assert_relative_eq!(value, quadratic_form(&m, &v, &w, n), max_relative = 1e-14);
    assert_all_close(
        &g.m,
        &numeric_gradient(|m| quadratic_form(m, &v, &w, n), &m),
        1e-7,
    );
    assert_all_close(
        &g.v,
        &numeric_gradient(|v| quadratic_form(&m, v, &w, n), &v),
        1e-7,
    );
}

/// Rust arrays and `&Vec`, and an `f32` function.
#[differentiable]
#[allow(clippy::ptr_arg)] // `&Vec` is the parameter type under test
fn squared_norm(x: [f32; 3], y: &Vec<f32>) -> f32 {
    let mut s = 0.0;
    for i in 0..3 {
        s += (x[i] - y[i]) * (x[i] - y[i]);
    }
    s
}

#[test]
fn arrays_and_vecs_get_gradients_of_their_own_type() {
    let (s, g) = squared_norm_grad([1.0, 2.0, 3.0], &vec![0.5, 2.5, 1.0]);
    assert_eq!(s, 0.25 + 0.25 + 4.0);
    let gx: [f32; 3] = g.x;
    assert_eq!(gx, [1.0, -1.0, 4.0]);
    assert_eq!(g.y, vec![-1.0, 1.0, -4.0]);
}

/// Scalars differentiated through a loop over data, enumerate, and a range sum.
#[differentiable(wrt(a, b))]
fn weighted(a: f64, b: f64, xs: &[f64]) -> f64 {
    let s = xs
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * (a * x - b).powi(2))
        .sum::<f64>();
    let t: f64 = (1..4).map(|k| a.powi(k)).sum();
    s + t
}

/// A slice zipped with a range from 0: the range's values are the indices; the shorter side ends
/// the sum.
#[differentiable]
fn zipped_with_indices(x: &[f64]) -> f64 {
    let a: f64 = x
        .iter()
        .zip(0..3_usize)
        .map(|(&v, i)| v * v * i as f64)
        .sum();
    let b: f64 = x.iter().zip(0..2_usize).map(|(&v, i)| v * i as f64).sum();
    a + b
}

#[test]
fn a_slice_zipped_with_a_range_from_zero() {
    let x = [0.5, -1.0, 2.0, 3.0];
    let (v, g) = zipped_with_indices_grad(&x);
    assert_eq!(v, zipped_with_indices(&x));
    // ∂/∂x[i] = 2·i·x[i] for i < 3, plus i for i < 2.
    assert_eq!(g.x, vec![0.0, -2.0 + 1.0, 4.0 * 2.0, 0.0]);
}

/// Integer `min`/`max` of a differentiated slice's length: only the first `n` elements count.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the loop is the point
fn first_squares(x: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len().min(n) {
        s += x[i] * x[i];
    }
    let k = n.max(1).min(x.len());
    s + x[k - 1]
}

#[test]
fn integer_min_and_max_of_a_length() {
    let x = [0.5, -1.0, 2.0];
    for n in [0, 2, 5] {
        let (v, g) = first_squares_grad(&x, n);
        assert_eq!(v, first_squares(&x, n));
        let k = n.clamp(1, 3);
        let want: Vec<f64> = (0..3)
            .map(|i| if i < n { 2.0 * x[i] } else { 0.0 } + if i == k - 1 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(g.x, want);
    }
}

#[test]
fn enumerate_and_range_sums() {
    let xs = [0.5, -1.0, 2.0];
    let (a, b) = (0.8, 0.1);
    let (_, g) = weighted_grad(a, b, &xs);
    let f = |a: f64, b: f64| weighted(a, b, &xs);
    let h = 1e-6;
    assert_relative_eq!(
        g.a,
        (f(a + h, b) - f(a - h, b)) / (2.0 * h),
        max_relative = 1e-7
    );
    assert_relative_eq!(
        g.b,
        (f(a, b + h) - f(a, b - h)) / (2.0 * h),
        max_relative = 1e-7
    );
}

#[test]
fn a_loop_over_a_million_samples_stays_a_loop() {
    let x: Vec<f64> = (0..1_000_000).map(|i| f64::from(i) * 1e-6).collect();
    let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
    let (j, g) = bgd_loop_grad(2.0, 1.0, &x, &y);
    assert!(j.abs() < 1e-20 && g.w.abs() < 1e-12 && g.b.abs() < 1e-12);
}

/// `x[0]` is read once per iteration, with a contribution that does not change with `i`.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index form is the point of the test
fn fixed_element_in_a_loop(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += x[0] + y[i];
    }
    s
}

#[test]
fn a_fixed_element_read_in_every_iteration_gets_every_contribution() {
    let (v, g) = fixed_element_in_a_loop_grad(&[1.0, 2.0], &[1.0, 2.0, 3.0]);
    assert_eq!(v, 9.0);
    assert_eq!(g.x, vec![3.0, 0.0]);
    assert_eq!(g.y, vec![1.0, 1.0, 1.0]);
}

/// A triangular loop nest: the inner range `0..i` depends on the outer index.
#[differentiable]
#[allow(clippy::needless_range_loop)] // the index form is the point of the test
fn prefix_sums(w: f64, y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        for j in 0..i {
            s += w * y[j] * y[j];
        }
    }
    s
}

#[test]
fn triangular_loops_count_each_inner_iteration_once() {
    // s = w Σ_{i} Σ_{j<i} y_j² = w Σ_j (n − 1 − j) y_j²
    let y = [1.0, 2.0, 3.0, 0.5];
    let (s, g) = prefix_sums_grad(2.0, &y);
    let n = y.len();
    let weights: Vec<f64> = (0..n).map(|j| (n - 1 - j) as f64).collect();
    let sq: f64 = y.iter().zip(&weights).map(|(v, k)| k * v * v).sum();
    assert_eq!(s, 2.0 * sq);
    assert_eq!(g.w, sq);
    let want: Vec<f64> = y
        .iter()
        .zip(&weights)
        .map(|(v, k)| 2.0 * 2.0 * k * v)
        .collect();
    assert_eq!(g.y, want);
}

/// A Hessian through a loop: the sum's second derivatives are sums too.
#[differentiable(wrt(w, b), hessian)]
#[allow(clippy::needless_range_loop)] // the index form is the point of the test
fn cubic_sum(w: f64, b: f64, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (w * x[i] + b).powi(3);
    }
    s
}

#[test]
fn a_hessian_through_a_sum_loop_is_the_sum_of_the_hessians() {
    let x = [1.0, 2.0, -0.5];
    let (_, _, h) = cubic_sum_hessian(0.5, 0.25, &x);
    // ∂²/∂w² = Σ 6r·x², ∂²/∂w∂b = Σ 6r·x, ∂²/∂b² = Σ 6r, with r = w·x + b
    let (mut hww, mut hwb, mut hbb) = (0.0, 0.0, 0.0);
    for xi in x {
        let r = 0.5 * xi + 0.25;
        hww += 6.0 * r * xi * xi;
        hwb += 6.0 * r * xi;
        hbb += 6.0 * r;
    }
    assert_eq!(h, [[hww, hwb], [hwb, hbb]]);
}
