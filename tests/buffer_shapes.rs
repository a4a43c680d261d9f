//! Buffer shapes as people write them: a local array started from a copy (`x.to_vec()`,
//! `x[a..b].to_vec()`, `z.clone()`, `x.iter().copied().collect()`), written in a reversed loop
//! (`for j in (0..n).rev() { z[j] = … }`), added into (`acc[j] += …`) beside an array carried
//! across a loop's iterations, and carried arrays in `while` and `loop` loops.
//! Oracles: gradients derived by hand (exact to 1e-12), twins written in the forms the macro
//! already took (a copy loop, a forward loop, `acc[j] = acc[j] + …`, a `for` loop) compared bit
//! for bit, num-dual's forward mode on generic twins (1e-12) and central differences.
// Index loops, copy loops, `iter().copied().collect()`, `to_owned` and `z[j] = z[j] + …` are the
// forms under test.
#![allow(
    clippy::needless_range_loop,
    clippy::manual_memcpy,
    clippy::iter_cloned_collect,
    clippy::implicit_clone,
    clippy::assign_op_pattern
)]

mod common;

use approx::assert_relative_eq;
use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, gradient};
use symgrad::differentiable;

// ---- `to_vec()`, `clone()`, `collect()` as a start value.

/// A hidden state started from a copy of a differentiated slice, carried and updated in place.
#[differentiable]
fn from_to_vec(w: f64, x: &[f64], s: &[f64]) -> f64 {
    let mut h = x.to_vec();
    for t in 0..s.len() {
        for j in 0..h.len() {
            h[j] = (w * h[j] + s[t]).tanh();
        }
    }
    h[0] * h[h.len() - 1]
}

/// The same with the copy loop `to_vec()` stands for.
#[differentiable]
fn from_copy_loop(w: f64, x: &[f64], s: &[f64]) -> f64 {
    let mut h = vec![0.0; x.len()];
    for j in 0..x.len() {
        h[j] = x[j];
    }
    for t in 0..s.len() {
        for j in 0..h.len() {
            h[j] = (w * h[j] + s[t]).tanh();
        }
    }
    h[0] * h[h.len() - 1]
}

fn from_to_vec_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], s: &[f64]) -> T {
    let mut h = x.to_vec();
    for &st in s {
        for v in &mut h {
            *v = (w * *v + st).tanh();
        }
    }
    h[0] * h[h.len() - 1]
}

#[test]
fn a_state_copied_with_to_vec_is_the_copy_loop() {
    // One step, two elements: h = tanh(w·xⱼ + s), f = h₀·h₁.
    let (w, x, s) = (0.7, [0.4, -0.9], [0.25]);
    let h: Vec<f64> = x.iter().map(|v| (w * v + s[0]).tanh()).collect();
    let d: Vec<f64> = h.iter().map(|v| 1.0 - v * v).collect();
    let (value, g) = from_to_vec_grad(w, &x, &s);
    assert_relative_eq!(value, h[0] * h[1], epsilon = 1e-12);
    assert_relative_eq!(
        g.w,
        d[0] * x[0] * h[1] + h[0] * d[1] * x[1],
        epsilon = 1e-12
    );
    assert_all_close(&g.x, &[d[0] * w * h[1], h[0] * d[1] * w], 1e-12);
    assert_relative_eq!(g.s[0], d[0] * h[1] + h[0] * d[1], epsilon = 1e-12);
    // Longer: the copy loop's gradient bit for bit, num-dual, differences.
    let (w, x, s) = (0.8, [0.3, -0.5, 0.9, 0.1], [0.2, -0.4, 0.6]);
    let (value, g) = from_to_vec_grad(w, &x, &s);
    let (loop_value, gl) = from_copy_loop_grad(w, &x, &s);
    assert_eq!(value, from_to_vec(w, &x, &s));
    assert_eq!((value, g.w, &g.x, &g.s), (loop_value, gl.w, &gl.x, &gl.s));
    let mut p = vec![w];
    p.extend_from_slice(&x);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<5>, 5>| from_to_vec_twin(q[0], &q.as_slice()[1..], &s),
        &SVector::from_column_slice(&p),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_relative_eq!(g.w, dual[0], epsilon = 1e-12);
    assert_all_close(&g.x, &dual.as_slice()[1..], 1e-12);
    let numeric = numeric_gradient(|q| from_to_vec(w, &x, q), &s);
    assert_all_close(&g.s, &numeric, 1e-7);
}

/// Copies of data (`d[1..].to_vec()`), of a local array (`h.clone()`, `to_owned`) and of a
/// differentiated run (`x[1..3].to_vec()`, `x.iter().copied().collect()`), each then written;
/// arrays collected from maps (`(0..n).map(|i| …).collect()`, `x.iter().map(|v| v * v)`).
#[differentiable(wrt(w, x))]
fn copies(w: f64, x: &[f64], d: &[f64]) -> f64 {
    let mut h = d[1..].to_vec();
    let mut g = h.clone();
    let c: Vec<f64> = x.iter().copied().collect();
    let r = x[1..3].to_vec();
    let o = c.to_owned();
    let q: Vec<f64> = (0..r.len()).map(|i| w * r[i] * d[i]).collect();
    let sq = x.iter().map(|v| v * v).collect::<Vec<_>>();
    g[0] = w * r[1];
    g[1] = g[1] + q[1] * sq[0];
    for _step in 0..2 {
        for j in 0..h.len() {
            h[j] = (w * h[j] + x[j] * g[j] + c[j]).tanh();
        }
    }
    h[0] + h[h.len() - 1] * g[0] + r[0] * o[2] + g[1]
}

fn copies_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], d: &[f64]) -> T {
    let mut h: Vec<T> = d[1..].iter().map(|&v| T::from(v)).collect();
    let mut g = h.clone();
    g[0] = w * x[2];
    g[1] = g[1] + w * x[2] * d[1] * x[0] * x[0];
    for _ in 0..2 {
        for j in 0..h.len() {
            h[j] = (w * h[j] + x[j] * g[j] + x[j]).tanh();
        }
    }
    h[0] + h[h.len() - 1] * g[0] + x[1] * x[2] + g[1]
}

#[test]
fn copies_of_data_local_arrays_and_runs_match_num_dual() {
    let (w, x, d) = (0.6, [0.3, -0.5, 0.9], [9.0, 0.1, -0.2, 0.3]);
    let (value, g) = copies_grad(w, &x, &d);
    assert_eq!(value, copies(w, &x, &d));
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<4>, 4>| copies_twin(q[0], &q.as_slice()[1..], &d),
        &SVector::from_column_slice(&[w, x[0], x[1], x[2]]),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_relative_eq!(g.w, dual[0], epsilon = 1e-12);
    assert_all_close(&g.x, &dual.as_slice()[1..], 1e-12);
    let numeric = numeric_gradient(|q| copies(w, q, &d), &x);
    assert_all_close(&g.x, &numeric, 1e-7);
}

/// A copy is a new array: writing it leaves the original as it was.
#[differentiable]
fn copy_then_write(w: f64, x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for j in 0..x.len() {
        z[j] = w * x[j];
    }
    let mut y = z.clone();
    for j in 0..y.len() {
        y[j] = y[j] * y[j];
    }
    y[0] = 3.0 * w;
    z[0] * y[1] + z[1] * y[0]
}

#[test]
fn writing_a_copy_leaves_the_original() {
    // z = w·x, y = [3w, (w·x₁)², …]: f = w·x₀·w²x₁² + w·x₁·3w = w³x₀x₁² + 3w²x₁.
    let (w, x) = (0.7, [0.4, -0.9, 0.2]);
    let (value, g) = copy_then_write_grad(w, &x);
    let f = w.powi(3) * x[0] * x[1] * x[1] + 3.0 * w * w * x[1];
    assert_relative_eq!(value, f, epsilon = 1e-12);
    assert_relative_eq!(
        g.w,
        3.0 * w * w * x[0] * x[1] * x[1] + 6.0 * w * x[1],
        epsilon = 1e-12
    );
    let dx = [
        w.powi(3) * x[1] * x[1],
        2.0 * w.powi(3) * x[0] * x[1] + 3.0 * w * w,
        0.0,
    ];
    assert_all_close(&g.x, &dx, 1e-12);
}

// ---- Writes in a reversed loop.

/// `for j in (0..n).rev()` writing `z[j]`, beside a Horner recurrence that needs the order.
#[differentiable]
fn reversed_writes(w: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut p = 0.0;
    for j in (0..n).rev() {
        z[j] = w * x[j];
        if x[j] > 0.0 {
            z[j] = z[j] * z[j];
        }
        p = p * w + x[j];
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * z[j];
    }
    s + p
}

/// The forward twin of the array writes (the recurrence stays reversed).
#[differentiable]
fn forward_writes(w: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for j in 0..n {
        z[j] = w * x[j];
        if x[j] > 0.0 {
            z[j] = z[j] * z[j];
        }
    }
    let mut p = 0.0;
    for j in (0..n).rev() {
        p = p * w + x[j];
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * z[j];
    }
    s + p
}

#[test]
fn writes_in_a_reversed_loop_are_the_forward_loops() {
    // x = [a, b, c], b < 0: z = [(wa)², wb, (wc)²], p = a + wb + w²c (Horner from the back).
    let (w, x) = (0.7, [0.4, -0.9, 0.2]);
    let (a, b, c) = (x[0], x[1], x[2]);
    let (value, g) = reversed_writes_grad(w, &x);
    let f = (w * a).powi(2) + 2.0 * w * b + 3.0 * (w * c).powi(2) + a + w * b + w * w * c;
    assert_relative_eq!(value, f, epsilon = 1e-12);
    let dw = 2.0 * w * a * a + 2.0 * b + 6.0 * w * c * c + b + 2.0 * w * c;
    assert_relative_eq!(g.w, dw, epsilon = 1e-12);
    let dx = [2.0 * w * w * a + 1.0, 2.0 * w + w, 6.0 * w * w * c + w * w];
    assert_all_close(&g.x, &dx, 1e-12);
    let x = [0.3, -0.5, 0.9, 0.1, -0.7];
    let (value, g) = reversed_writes_grad(w, &x);
    let (twin, gt) = forward_writes_grad(w, &x);
    assert_eq!(value, reversed_writes(w, &x));
    assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x));
    let (empty, ge) = reversed_writes_grad(w, &[]);
    assert_eq!((empty, ge.w, ge.x.len()), (0.0, 0.0, 0));
}

/// A reversed loop over part of the array, at an offset (`z[k + j]`), inside a loop over rows
/// and reading the element it wrote.
#[differentiable(wrt(w))]
fn reversed_rows(w: &[f64], x: &[f64], m: usize) -> f64 {
    let rows = x.len() / m;
    let mut total = 0.0;
    for r in 0..rows {
        let mut z = vec![1.0; m + 2];
        for j in (1..m).rev() {
            z[1 + j] = (w[j] * x[r * m + j]).sin();
            total += z[1 + j] * w[j - 1];
        }
        for k in 0..m + 2 {
            total += (k as f64 + 0.5) * z[k] * z[k];
        }
    }
    total
}

fn reversed_rows_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64], m: usize) -> T {
    let mut total = T::zero();
    for row in x.chunks_exact(m) {
        let mut z = vec![T::one(); m + 2];
        for j in 1..m {
            z[1 + j] = (w[j] * row[j]).sin();
            total += z[1 + j] * w[j - 1];
        }
        for (k, zk) in z.iter().enumerate() {
            total += *zk * *zk * (k as f64 + 0.5);
        }
    }
    total
}

/// Its forward twin.
#[differentiable(wrt(w))]
fn forward_rows(w: &[f64], x: &[f64], m: usize) -> f64 {
    let rows = x.len() / m;
    let mut total = 0.0;
    for r in 0..rows {
        let mut z = vec![1.0; m + 2];
        for j in 1..m {
            z[1 + j] = (w[j] * x[r * m + j]).sin();
        }
        for j in (1..m).rev() {
            total += z[1 + j] * w[j - 1];
        }
        for k in 0..m + 2 {
            total += (k as f64 + 0.5) * z[k] * z[k];
        }
    }
    total
}

#[test]
fn a_reversed_loop_at_an_offset_in_a_loop_over_rows_matches_num_dual() {
    let w = [0.7, -0.4, 1.2, 0.3];
    let x = [0.2, -0.5, 0.9, 0.1, -0.3, 0.8, 0.4, -0.6];
    let (value, g) = reversed_rows_grad(&w, &x, 4);
    let (twin, gt) = forward_rows_grad(&w, &x, 4);
    assert_eq!((value, &g.w), (twin, &gt.w));
    // The sums are added up in another order than the function's: equal to rounding.
    assert_relative_eq!(value, reversed_rows(&w, &x, 4), epsilon = 1e-12);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<4>, 4>| reversed_rows_twin(q.as_slice(), &x, 4),
        &SVector::from_column_slice(&w),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.w, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| reversed_rows(q, &x, 4), &w);
    assert_all_close(&g.w, &numeric, 1e-7);
}

/// A reversed loop that stops early: the elements from the end up to the `break` are written,
/// the others keep their values (the iteration that breaks writes before its `break`).
#[differentiable]
fn reversed_with_break(w: f64, x: &[f64], stop: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.5; n];
    let mut y = vec![0.25; n];
    for j in (0..n).rev() {
        if x[j] < stop {
            break;
        }
        z[j] = w * x[j] * x[j];
    }
    for j in (1..n).rev() {
        y[j] = (w * x[j]).sin();
        if x[j] > stop {
            break;
        }
        y[j] = y[j] + w;
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * (z[j] + y[j] * w);
    }
    s
}

fn reversed_with_break_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], stop: f64) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.5); n];
    let mut y = vec![T::from(0.25); n];
    for j in (0..n).rev() {
        if x[j].re() < stop {
            break;
        }
        z[j] = w * x[j] * x[j];
    }
    for j in (1..n).rev() {
        y[j] = (w * x[j]).sin();
        if x[j].re() > stop {
            break;
        }
        y[j] += w;
    }
    (0..n).fold(T::zero(), |s, j| s + (z[j] + y[j] * w) * (j as f64 + 1.0))
}

#[test]
fn a_reversed_loop_with_break_writes_from_the_end_up_to_the_break() {
    // x = [a, b, c], stop = 0: the first loop writes z₂ = w·c², then breaks at b < 0; the
    // second writes y₂ = sin(wc) and breaks there (c > 0): z = [½, ½, wc²], y = [¼, ¼, sin(wc)].
    let (w, x) = (0.7, [0.4, -0.9, 0.2]);
    let c = x[2];
    let (value, g) = reversed_with_break_grad(w, &x, 0.0);
    let f = 0.5 + 0.25 * w + 2.0 * (0.5 + 0.25 * w) + 3.0 * (w * c * c + (w * c).sin() * w);
    assert_relative_eq!(value, f, epsilon = 1e-12);
    let dw = 0.25 + 0.5 + 3.0 * (c * c + c * (w * c).cos() * w + (w * c).sin());
    assert_relative_eq!(g.w, dw, epsilon = 1e-12);
    let dc = 3.0 * (2.0 * w * c + w * (w * c).cos() * w);
    assert_all_close(&g.x, &[0.0, 0.0, dc], 1e-12);
    for (x, stop) in [
        (vec![0.3, -0.5, 0.9, 0.1, -0.7, 0.6], -0.6),
        (vec![0.3, -0.5, 0.9, 0.1, -0.7, 0.6], 0.2),
        (vec![0.3, 0.5, 0.9], -1.0),
        (vec![0.3, 0.5, 0.9], 2.0),
    ] {
        let (value, g) = reversed_with_break_grad(w, &x, stop);
        assert_relative_eq!(value, reversed_with_break(w, &x, stop), epsilon = 1e-12);
        let mut p = vec![w];
        p.extend_from_slice(&x);
        let n = x.len();
        let (dual_value, dual) = gradient(
            |q: SVector<DualSVec64<7>, 7>| {
                reversed_with_break_twin(q[0], &q.as_slice()[1..=n], stop)
            },
            &SVector::from_iterator(p.iter().copied().chain(std::iter::repeat(0.0)).take(7)),
        );
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        assert_relative_eq!(g.w, dual[0], epsilon = 1e-12);
        assert_all_close(&g.x, &dual.as_slice()[1..=n], 1e-12);
    }
}

/// Reversed ranges that may be empty: by the data (`1..n - 1` with `n` = 1), by constants
/// (`1..0`), and with a `break` (`2..n`).
#[differentiable]
#[allow(clippy::reversed_empty_ranges)] // the empty range is the case under test
fn reversed_empty(a: f64, v: &[f64]) -> f64 {
    let mut z = vec![0.5; v.len()];
    for i in (1..v.len() - 1).rev() {
        z[i] = a * v[i];
    }
    let mut y = [0.5; 1];
    for i in (1..0).rev() {
        y[i] = a * v[i];
    }
    let mut q = vec![0.5; v.len()];
    for i in (2..v.len()).rev() {
        q[i] = a * v[i];
        if v[i] > 10.0 {
            break;
        }
    }
    z[0] + y[0] + q[0] + z[v.len() - 1] * q[v.len() - 1]
}

#[test]
fn reversed_ranges_that_are_empty_write_nothing() {
    // v = [p]: nothing written, f = 2 + ¼; v = [p, q]: z and q untouched, the same;
    // v = [p, q, r]: z₁ = aq (not read), q₂ = ar: f = 1.5 + ½·ar.
    let a = 2.0;
    for v in [vec![1.0], vec![1.0, 3.0]] {
        let (value, g) = reversed_empty_grad(a, &v);
        assert_eq!((value, g.a), (1.75, 0.0));
        assert!(g.v.iter().all(|d| *d == 0.0));
    }
    let v = [1.0, 3.0, 4.0];
    let (value, g) = reversed_empty_grad(a, &v);
    assert_relative_eq!(value, 1.5 + 0.5 * a * v[2], epsilon = 1e-12);
    assert_relative_eq!(g.a, 0.5 * v[2], epsilon = 1e-12);
    assert_all_close(&g.v, &[0.0, 0.0, 0.5 * a], 1e-12);
}

// ---- Adding into an array beside an array carried across the iterations.

/// `acc[j] += h[j] * x[t]`, `h` carried: `acc` is carried beside it.
#[differentiable]
fn added_beside(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[j] += h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * acc[j];
    }
    s
}

/// The form the macro already took: `acc[j] = acc[j] + …`.
#[differentiable]
fn assigned_beside(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[j] = acc[j] + h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * acc[j];
    }
    s
}

fn added_beside_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], n: usize) -> T {
    let mut h = vec![T::from(0.1); n];
    let mut acc = vec![T::zero(); n];
    for &xt in x {
        for j in 0..n {
            h[j] = (w * h[j] + xt).tanh();
            acc[j] += h[j] * xt;
        }
    }
    acc.iter()
        .enumerate()
        .fold(T::zero(), |s, (j, &a)| s + a * (j as f64 + 1.0))
}

#[test]
fn an_addition_beside_a_carried_array_is_the_assignment() {
    // n = 1, two steps: h₁ = tanh(0.1w + x₀), h₂ = tanh(w·h₁ + x₁), acc = h₁x₀ + h₂x₁.
    let (w, x) = (0.8, [0.3, -0.6]);
    let h1 = (0.1 * w + x[0]).tanh();
    let h2 = (w * h1 + x[1]).tanh();
    let (d1, d2) = (1.0 - h1 * h1, 1.0 - h2 * h2);
    let (value, g) = added_beside_grad(w, &x, 1);
    assert_relative_eq!(value, h1 * x[0] + h2 * x[1], epsilon = 1e-12);
    // ∂h₁/∂w = 0.1·d₁, ∂h₂/∂w = d₂·(h₁ + w·0.1·d₁).
    let dw = 0.1 * d1 * x[0] + d2 * (h1 + 0.1 * w * d1) * x[1];
    assert_relative_eq!(g.w, dw, epsilon = 1e-12);
    let dx0 = d1 * x[0] + h1 + d2 * w * d1 * x[1];
    let dx1 = d2 * x[1] + h2;
    assert_all_close(&g.x, &[dx0, dx1], 1e-12);
    // Longer: the assignment's gradient bit for bit, num-dual, differences.
    let x = [0.2, -0.5, 0.9, 0.1, -0.3];
    for n in [1, 3] {
        let (value, g) = added_beside_grad(w, &x, n);
        let (twin, gt) = assigned_beside_grad(w, &x, n);
        assert_eq!(value, added_beside(w, &x, n));
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x));
        let mut p = vec![w];
        p.extend_from_slice(&x);
        let (dual_value, dual) = gradient(
            |q: SVector<DualSVec64<6>, 6>| added_beside_twin(q[0], &q.as_slice()[1..], n),
            &SVector::from_column_slice(&p),
        );
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        assert_relative_eq!(g.w, dual[0], epsilon = 1e-12);
        assert_all_close(&g.x, &dual.as_slice()[1..], 1e-12);
    }
}

/// Additions reading the carried state through a `let`, under a condition on it, subtracted,
/// and reading a carried float; with a plain accumulation beside them.
#[differentiable(wrt(w))]
fn added_in_many_ways(w: &[f64], x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.2; n];
    let mut up = vec![0.0; n];
    let mut down = vec![0.5; n];
    let mut plain = vec![0.0; n];
    let mut m = 0.0;
    for t in 0..x.len() {
        m = 0.5 * m + x[t] * w[0];
        for j in 0..n {
            h[j] = (w[j] * h[j] + x[t]).sin();
            let e = h[j] * h[j];
            up[j] += e * m;
            plain[j] += w[j] * x[t];
        }
        if h[0] > 0.0 {
            for j in 0..n {
                down[j] -= h[j] * x[t];
            }
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += up[j] * (j as f64 + 1.0) + down[j] * down[j] + plain[j] * h[j];
    }
    s
}

fn added_in_many_ways_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64], n: usize) -> T {
    let mut h = vec![T::from(0.2); n];
    let mut up = vec![T::zero(); n];
    let mut down = vec![T::from(0.5); n];
    let mut plain = vec![T::zero(); n];
    let mut m = T::zero();
    for &xt in x {
        m = m * 0.5 + w[0] * xt;
        for j in 0..n {
            h[j] = (w[j] * h[j] + xt).sin();
            up[j] += h[j] * h[j] * m;
            plain[j] += w[j] * xt;
        }
        if h[0].re() > 0.0 {
            for j in 0..n {
                down[j] -= h[j] * xt;
            }
        }
    }
    (0..n).fold(T::zero(), |s, j| {
        s + up[j] * (j as f64 + 1.0) + down[j] * down[j] + plain[j] * h[j]
    })
}

#[test]
fn additions_reading_the_carried_state_in_other_forms_match_num_dual() {
    let w = [0.7, -0.4, 1.2];
    let x = [0.2, -0.5, 0.9, 0.1, -0.3, 0.6];
    let (value, g) = added_in_many_ways_grad(&w, &x, 3);
    assert_eq!(value, added_in_many_ways(&w, &x, 3));
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<3>, 3>| added_in_many_ways_twin(q.as_slice(), &x, 3),
        &SVector::from_column_slice(&w),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.w, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| added_in_many_ways(q, &x, 3), &w);
    assert_all_close(&g.w, &numeric, 1e-7);
}

// ---- Carried arrays in `while` and `loop` loops.

#[differentiable]
fn carried_in_while(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut loss = 0.0;
    let mut t = 0;
    while t < x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * h[j] + x[t]).tanh();
        }
        h = next;
        loss += h[0] * x[t];
        t += 1;
    }
    let mut k = 0;
    loop {
        for j in 0..n {
            h[j] = w * h[j] * h[j] + x[k];
        }
        k += 1;
        if k >= 2 {
            break;
        }
    }
    loss + h[n - 1]
}

#[differentiable]
fn carried_in_for(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut loss = 0.0;
    for t in 0..x.len() {
        let mut next = vec![0.0; n];
        for j in 0..n {
            next[j] = (w * h[j] + x[t]).tanh();
        }
        h = next;
        loss += h[0] * x[t];
    }
    for k in 0..2 {
        for j in 0..n {
            h[j] = w * h[j] * h[j] + x[k];
        }
    }
    loss + h[n - 1]
}

#[test]
fn carried_arrays_in_while_and_loop_are_the_for_loops() {
    // n = 1, two steps of the `while`: a = tanh(0.1w + x₀), b = tanh(w·a + x₁), loss = a·x₀ +
    // b·x₁; two of the `loop`: c = w·b² + x₀, d = w·c² + x₁; f = loss + d.
    let (w, x) = (0.6, [0.3, -0.4]);
    let a = (0.1 * w + x[0]).tanh();
    let b = (w * a + x[1]).tanh();
    let c = w * b * b + x[0];
    let d = w * c * c + x[1];
    let (value, g) = carried_in_while_grad(w, &x, 1);
    assert_relative_eq!(value, a * x[0] + b * x[1] + d, epsilon = 1e-12);
    // ∂/∂w along a → b → c → d.
    let (da, db) = (1.0 - a * a, 1.0 - b * b);
    let a_w = 0.1 * da;
    let b_w = db * (a + w * a_w);
    let c_w = b * b + 2.0 * w * b * b_w;
    let d_w = c * c + 2.0 * w * c * c_w;
    assert_relative_eq!(g.w, a_w * x[0] + b_w * x[1] + d_w, epsilon = 1e-12);
    // ∂/∂x₀: a, then c directly; ∂/∂x₁: b, then d directly.
    let a_x0 = da;
    let b_x0 = db * w * a_x0;
    let c_x0 = 2.0 * w * b * b_x0 + 1.0;
    let d_x0 = 2.0 * w * c * c_x0;
    let b_x1 = db;
    let c_x1 = 2.0 * w * b * b_x1;
    let d_x1 = 2.0 * w * c * c_x1 + 1.0;
    let dx = [a_x0 * x[0] + a + b_x0 * x[1] + d_x0, b_x1 * x[1] + b + d_x1];
    assert_all_close(&g.x, &dx, 1e-12);
    // Longer: the `for` twin bit for bit, differences.
    let x = [0.2, -0.5, 0.9, 0.1];
    for n in [1, 3] {
        let (value, g) = carried_in_while_grad(w, &x, n);
        let (twin, gt) = carried_in_for_grad(w, &x, n);
        assert_eq!(value, carried_in_while(w, &x, n));
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x));
        let numeric = numeric_gradient(|q| carried_in_while(w, q, n), &x);
        assert_all_close(&g.x, &numeric, 1e-7);
    }
}

/// The counter stepped first, counting down, an addition beside the state: each with its `for`
/// twin.
#[differentiable]
fn while_shapes(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut acc = vec![0.0; n];
    let mut t = 0;
    while t < x.len() {
        t += 1;
        for j in 0..h.len() {
            h[j] = (w * h[j] + x[t - 1]).tanh();
            acc[j] += h[j] * x[t - 1];
        }
    }
    let mut k = x.len();
    while k > 0 {
        k -= 1;
        for j in 0..n {
            h[j] += w * h[j] * x[k];
        }
    }
    h[0] + acc[n - 1]
}

#[differentiable]
fn for_shapes(w: f64, x: &[f64], n: usize) -> f64 {
    let mut h = vec![0.1; n];
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..h.len() {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[j] = acc[j] + h[j] * x[t];
        }
    }
    for k in (0..x.len()).rev() {
        for j in 0..n {
            h[j] = h[j] + w * h[j] * x[k];
        }
    }
    h[0] + acc[n - 1]
}

#[test]
fn while_loops_stepping_first_counting_down_and_adding_are_their_for_loops() {
    let (w, x) = (0.7, [0.2, -0.5, 0.9, 0.1]);
    for n in [1, 3] {
        let (value, g) = while_shapes_grad(w, &x, n);
        let (twin, gt) = for_shapes_grad(w, &x, n);
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x));
        assert_relative_eq!(value, while_shapes(w, &x, n), epsilon = 1e-12);
        let numeric = numeric_gradient(|q| while_shapes(w, q, n), &x);
        assert_all_close(&g.x, &numeric, 1e-7);
        let dw = numeric_gradient(|q| while_shapes(q[0], &x, n), &[w]);
        assert_all_close(&[g.w], &dw, 1e-7);
    }
}

/// A carried state updated in place by a reversed loop, and an array two loops add into
/// beside it, each reading the state.
#[differentiable(wrt(w))]
fn reversed_in_place(w: &[f64], x: &[f64]) -> f64 {
    let n = w.len();
    let mut h = w.to_vec();
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in (0..n).rev() {
            h[j] = (w[j] * h[j] + x[t]).sin();
        }
        for j in 0..n {
            acc[j] += h[j] * h[j];
        }
        for j in 1..n {
            acc[j] -= 0.5 * h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += acc[j] * (j as f64 + 1.0) + h[j];
    }
    s
}

fn reversed_in_place_twin<T: DualNum<Primitive = f64> + Copy>(w: &[T], x: &[f64]) -> T {
    let n = w.len();
    let mut h = w.to_vec();
    let mut acc = vec![T::zero(); n];
    for &xt in x {
        for j in 0..n {
            h[j] = (w[j] * h[j] + xt).sin();
            acc[j] += h[j] * h[j];
            if j > 0 {
                acc[j] -= h[j] * xt * 0.5;
            }
        }
    }
    (0..n).fold(T::zero(), |s, j| s + acc[j] * (j as f64 + 1.0) + h[j])
}

#[test]
fn a_carried_state_updated_by_a_reversed_loop_matches_num_dual() {
    let w = [0.7, -0.4, 1.2];
    let x = [0.2, -0.5, 0.9, 0.1];
    let (value, g) = reversed_in_place_grad(&w, &x);
    assert_relative_eq!(value, reversed_in_place(&w, &x), epsilon = 1e-12);
    let (dual_value, dual) = gradient(
        |q: SVector<DualSVec64<3>, 3>| reversed_in_place_twin(q.as_slice(), &x),
        &SVector::from_column_slice(&w),
    );
    assert_relative_eq!(value, dual_value, epsilon = 1e-12);
    assert_all_close(&g.w, dual.as_slice(), 1e-12);
    let numeric = numeric_gradient(|q| reversed_in_place(q, &x), &w);
    assert_all_close(&g.w, &numeric, 1e-7);
}

/// Second derivatives through a reversed loop's writes and a copy.
#[differentiable(hessian)]
fn reversed_hessian(w: &[f64]) -> f64 {
    let n = w.len();
    let c = w.to_vec();
    let mut z = vec![0.0; n];
    for j in (0..n).rev() {
        z[j] = (c[j] * w[0]).sin();
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * z[j] * z[j];
    }
    s
}

#[differentiable(hessian)]
fn forward_hessian(w: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for j in 0..n {
        z[j] = (w[j] * w[0]).sin();
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * z[j] * z[j];
    }
    s
}

#[test]
fn second_derivatives_through_a_reversed_loop_are_the_forward_loops() {
    let w = [0.7, -0.4, 1.2];
    let (value, g, h) = reversed_hessian_hessian(&w);
    let (twin, gt, ht) = forward_hessian_hessian(&w);
    assert_eq!((value, &g.w), (twin, &gt.w));
    assert_all_close(&h, &ht, 1e-12);
    // Each row of H against central differences of the gradient.
    for i in 0..3 {
        let row = numeric_gradient(|q| reversed_hessian_grad(q).1.w[i], &w);
        assert_all_close(&h[i * 3..i * 3 + 3], &row, 1e-6);
    }
}

/// [`added_beside`] started from a copy, under `checkpoint = 2`.
#[differentiable(checkpoint = 2)]
fn added_beside_checkpointed(w: f64, x: &[f64], h0: &[f64]) -> f64 {
    let n = h0.len();
    let mut h = h0.to_vec();
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[j] += h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * acc[j];
    }
    s
}

#[differentiable]
fn added_beside_from(w: f64, x: &[f64], h0: &[f64]) -> f64 {
    let n = h0.len();
    let mut h = h0.to_vec();
    let mut acc = vec![0.0; n];
    for t in 0..x.len() {
        for j in 0..n {
            h[j] = (w * h[j] + x[t]).tanh();
            acc[j] += h[j] * x[t];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += (j as f64 + 1.0) * acc[j];
    }
    s
}

#[test]
fn checkpoints_leave_an_addition_beside_a_copied_state_as_it_was() {
    let (w, h0) = (0.8, [0.1, 0.1, 0.1]);
    for x in [
        vec![0.2, -0.5, 0.9, 0.1, -0.3],
        vec![0.2, -0.5, 0.9, 0.1],
        vec![0.4],
    ] {
        let (value, g) = added_beside_checkpointed_grad(w, &x, &h0);
        let (plain, gp) = added_beside_from_grad(w, &x, &h0);
        assert_eq!((value, g.w, &g.x, &g.h0), (plain, gp.w, &gp.x, &gp.h0));
        // From a constant start of 0.1, the function of `added_beside` with n = 3.
        let (twin, gt) = added_beside_grad(w, &x, 3);
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x));
        let numeric = numeric_gradient(|q| added_beside_checkpointed(w, &x, q), &h0);
        assert_all_close(&g.h0, &numeric, 1e-7);
    }
}

// ---- Writes at `enumerate`'s count in a reversed loop.

/// `for (j, &v) in ….enumerate().rev()` writing `z[j]`: over a whole slice beside a Horner
/// recurrence that needs the order, over a run (`x[1..]`, counts from 0), zipped, stopping at a
/// `break`, and updating an array carried across a time loop in place.
#[differentiable]
fn enumerated_reversed(w: f64, x: &[f64], stop: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut p = 0.0;
    for (j, &v) in x.iter().enumerate().rev() {
        z[j] = w * v * v;
        p = p * w + v;
    }
    let m = if n > 0 { n - 1 } else { 0 };
    let mut u = vec![0.5; m];
    for (j, v) in x[1..].iter().enumerate().rev() {
        if *v < stop {
            break;
        }
        u[j] = (w * v).sin();
    }
    let mut y = vec![0.25; n];
    for (j, (a, b)) in x.iter().zip(z.iter()).enumerate().rev() {
        y[j] = a * b + w;
    }
    let mut h = vec![0.0; n];
    for _t in 0..3 {
        for (j, &v) in x.iter().enumerate().rev() {
            h[j] = (h[j] * w + v).tanh();
        }
    }
    let mut s = p;
    for j in 0..n {
        s += (j as f64 + 1.0) * (z[j] + y[j] * w + h[j]);
    }
    for j in 0..m {
        s += (j as f64 + 2.0) * u[j];
    }
    s
}

/// The twin with index loops over reversed ranges (accepted before).
#[differentiable]
fn indexed_reversed(w: f64, x: &[f64], stop: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    let mut p = 0.0;
    for j in (0..n).rev() {
        z[j] = w * x[j] * x[j];
        p = p * w + x[j];
    }
    let m = if n > 0 { n - 1 } else { 0 };
    let mut u = vec![0.5; m];
    for j in (0..m).rev() {
        if x[j + 1] < stop {
            break;
        }
        u[j] = (w * x[j + 1]).sin();
    }
    let mut y = vec![0.25; n];
    for j in (0..n).rev() {
        y[j] = x[j] * z[j] + w;
    }
    let mut h = vec![0.0; n];
    for _t in 0..3 {
        for j in (0..n).rev() {
            h[j] = (h[j] * w + x[j]).tanh();
        }
    }
    let mut s = p;
    for j in 0..n {
        s += (j as f64 + 1.0) * (z[j] + y[j] * w + h[j]);
    }
    for j in 0..m {
        s += (j as f64 + 2.0) * u[j];
    }
    s
}

fn enumerated_reversed_twin<T: DualNum<Primitive = f64> + Copy>(w: T, x: &[T], stop: f64) -> T {
    let n = x.len();
    let z: Vec<T> = x.iter().map(|&v| w * v * v).collect();
    let p = x.iter().rev().fold(T::zero(), |p, &v| p * w + v);
    let m = if n > 0 { n - 1 } else { 0 };
    let mut u = vec![T::from(0.5); m];
    for j in (0..m).rev() {
        if x[j + 1].re() < stop {
            break;
        }
        u[j] = (w * x[j + 1]).sin();
    }
    let y: Vec<T> = (0..n).map(|j| x[j] * z[j] + w).collect();
    let mut h = vec![T::zero(); n];
    for _ in 0..3 {
        for j in (0..n).rev() {
            h[j] = (h[j] * w + x[j]).tanh();
        }
    }
    let s = (0..n).fold(p, |s, j| s + (z[j] + y[j] * w + h[j]) * (j as f64 + 1.0));
    (0..m).fold(s, |s, j| s + u[j] * (j as f64 + 2.0))
}

#[test]
fn writes_at_a_reversed_enumerate_count_are_the_reversed_index_loops() {
    let w = 0.7;
    // x = [a]: z = [wa²], p = a, no `u`, y = [a·wa² + w], h₁ = tanh(a), h₂ = tanh(wh₁ + a),
    // h₃ = tanh(wh₂ + a): f = a + wa² + (wa³ + w)·w + h₃.
    let a: f64 = 0.4;
    let h1 = a.tanh();
    let h2 = (w * h1 + a).tanh();
    let h3 = (w * h2 + a).tanh();
    let (value, g) = enumerated_reversed_grad(w, &[a], 0.0);
    assert_relative_eq!(
        value,
        a + w * a * a + (w * a.powi(3) + w) * w + h3,
        epsilon = 1e-12
    );
    let dh2_dw = (1.0 - h2 * h2) * h1;
    let dh3_dw = (1.0 - h3 * h3) * (h2 + w * dh2_dw);
    let dw = a * a + 2.0 * w * a.powi(3) + 2.0 * w + dh3_dw;
    assert_relative_eq!(g.w, dw, epsilon = 1e-12);
    let dh1_da = 1.0 - h1 * h1;
    let dh2_da = (1.0 - h2 * h2) * (w * dh1_da + 1.0);
    let dh3_da = (1.0 - h3 * h3) * (w * dh2_da + 1.0);
    let da = 1.0 + 2.0 * w * a + 3.0 * w * w * a * a + dh3_da;
    assert_all_close(&g.x, &[da], 1e-12);
    for (x, stop) in [
        (vec![0.3, -0.5, 0.9, 0.1, -0.7, 0.6], -0.6),
        (vec![0.3, -0.5, 0.9, 0.1, -0.7, 0.6], 0.2),
        (vec![0.3, 0.5, 0.9], -1.0),
        (vec![0.4], 0.0),
    ] {
        let (value, g) = enumerated_reversed_grad(w, &x, stop);
        let (twin, gt) = indexed_reversed_grad(w, &x, stop);
        assert_eq!(value, enumerated_reversed(w, &x, stop));
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x), "x = {x:?}");
        let n = x.len();
        let mut p = vec![w];
        p.extend_from_slice(&x);
        let (dual_value, dual) = gradient(
            |q: SVector<DualSVec64<7>, 7>| {
                enumerated_reversed_twin(q[0], &q.as_slice()[1..=n], stop)
            },
            &SVector::from_iterator(p.iter().copied().chain(std::iter::repeat(0.0)).take(7)),
        );
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        assert_relative_eq!(g.w, dual[0], epsilon = 1e-12);
        assert_all_close(&g.x, &dual.as_slice()[1..=n], 1e-12);
    }
}

/// A reversed `enumerate` over a slice that may be empty, and over a run that is empty.
#[differentiable]
fn enumerated_reversed_empty(w: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![1.0; n];
    for (j, &v) in x.iter().enumerate().rev() {
        z[j] = w * v;
    }
    for (j, &v) in x[n..].iter().enumerate().rev() {
        z[j] = v;
    }
    z.iter().sum::<f64>() * w
}

#[test]
fn a_reversed_enumerate_over_nothing_writes_nothing() {
    let (value, g) = enumerated_reversed_empty_grad(0.7, &[]);
    assert_eq!((value, g.w, g.x.len()), (0.0, 0.0, 0));
    // x = [a, b]: f = w·(wa + wb), ∂/∂w = 2w(a + b), ∂/∂a = ∂/∂b = w².
    let (value, g) = enumerated_reversed_empty_grad(0.7, &[0.4, -0.9]);
    assert_relative_eq!(value, 0.49 * (0.4 - 0.9), epsilon = 1e-12);
    assert_relative_eq!(g.w, 1.4 * (0.4 - 0.9), epsilon = 1e-12);
    assert_all_close(&g.x, &[0.49, 0.49], 1e-12);
}

/// `z[c] += e` at `enumerate`'s count, forward and reversed, reading the element after: an
/// update of this iteration's element, as at a range's index.
#[differentiable]
fn updated_at_enumerate_count(w: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.5; n];
    let mut h = 0.0;
    for (c, &v) in x.iter().enumerate() {
        z[c] += v * w;
        z[c] *= 1.0 + 0.3 * z[c].tanh();
        h = 0.5 * h + z[c];
    }
    for (c, _) in (0..n).enumerate().rev() {
        z[c] -= if z[c] > 0.2 { w * z[c] } else { x[c] };
        h = 0.25 * h + z[c] * z[c];
    }
    z.iter().sum::<f64>() + h
}

/// The twin with index loops.
#[differentiable]
fn updated_at_index(w: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.5; n];
    let mut h = 0.0;
    for c in 0..n {
        z[c] += x[c] * w;
        z[c] *= 1.0 + 0.3 * z[c].tanh();
        h = 0.5 * h + z[c];
    }
    for c in (0..n).rev() {
        z[c] -= if z[c] > 0.2 { w * z[c] } else { x[c] };
        h = 0.25 * h + z[c] * z[c];
    }
    z.iter().sum::<f64>() + h
}

#[test]
fn an_update_at_enumerate_count_is_the_index_loops() {
    // x = [a]: z₀ = ½ + aw, z₁ = z₀(1 + 0.3·tanh z₀), h₁ = z₁; z₂ = z₁ − w·z₁ (z₁ > 0.2):
    // f = z₂ + ¼h₁ + z₂².
    let (w, a): (f64, f64) = (0.7, 0.4);
    let z0 = 0.5 + a * w;
    let z1 = z0 * (1.0 + 0.3 * z0.tanh());
    let z2 = z1 * (1.0 - w);
    let (value, g) = updated_at_enumerate_count_grad(w, &[a]);
    assert_relative_eq!(value, z2 + 0.25 * z1 + z2 * z2, epsilon = 1e-12);
    let dz1_dz0 = 1.0 + 0.3 * z0.tanh() + 0.3 * z0 * (1.0 - z0.tanh().powi(2));
    let df_dz1 = (1.0 - w) * (1.0 + 2.0 * z2) + 0.25;
    let dw = df_dz1 * dz1_dz0 * a - z1 * (1.0 + 2.0 * z2);
    assert_relative_eq!(g.w, dw, epsilon = 1e-12);
    assert_all_close(&g.x, &[df_dz1 * dz1_dz0 * w], 1e-12);
    for x in [
        vec![0.3, -0.5, 0.9, 0.1, -0.7, 0.6],
        vec![-1.0, 2.0],
        vec![],
    ] {
        let (value, g) = updated_at_enumerate_count_grad(w, &x);
        let (twin, gt) = updated_at_index_grad(w, &x);
        assert_eq!((value, g.w, &g.x), (twin, gt.w, &gt.x), "x = {x:?}");
    }
}

/// Writes at `i + off` (the offset after the index) and reads of the element written there.
#[differentiable]
fn offset_after(a: f64, x: &[f64], k: usize) -> f64 {
    let n = x.len();
    let mut z = vec![0.2; n + k];
    for j in 0..n {
        z[j + k] = x[j] * a;
        z[j + k] = z[j + k] + (z[j + k] * a).sin();
    }
    let mut y = vec![0.5; n + 1];
    for (j, &v) in x.iter().enumerate().rev() {
        y[j + 1] = v * v * a;
    }
    z.iter().map(|q| q * q).sum::<f64>() + y.iter().sum::<f64>() * a
}

/// The twin written `off + i` (accepted before).
#[differentiable]
fn offset_before(a: f64, x: &[f64], k: usize) -> f64 {
    let n = x.len();
    let mut z = vec![0.2; n + k];
    for j in 0..n {
        z[k + j] = x[j] * a;
        z[k + j] = z[k + j] + (z[k + j] * a).sin();
    }
    let mut y = vec![0.5; n + 1];
    for j in (0..n).rev() {
        y[1 + j] = x[j] * x[j] * a;
    }
    z.iter().map(|q| q * q).sum::<f64>() + y.iter().sum::<f64>() * a
}

#[test]
fn a_write_at_index_plus_offset_is_the_write_at_offset_plus_index() {
    // x = [b], k = 1: z = [0.2, u + sin(u·a)] with u = ab; y = [½, ab²]:
    // f = 0.04 + (u + sin(ua))² + (½ + ab²)·a.
    let (a, b): (f64, f64) = (0.7, -0.4);
    let u = a * b;
    let zz = u + (u * a).sin();
    let (value, g) = offset_after_grad(a, &[b], 1);
    assert_relative_eq!(
        value,
        0.04 + zz * zz + (0.5 + a * b * b) * a,
        epsilon = 1e-12
    );
    let dzz_da = b + (u * a).cos() * 2.0 * a * b;
    assert_relative_eq!(
        g.a,
        2.0 * zz * dzz_da + 0.5 + 2.0 * a * b * b,
        epsilon = 1e-12
    );
    let dzz_db = a + (u * a).cos() * a * a;
    assert_all_close(&g.x, &[2.0 * zz * dzz_db + 2.0 * a * a * b], 1e-12);
    for (x, k) in [(vec![0.3, -0.5, 0.9, 0.1], 2), (vec![0.3], 0), (vec![], 3)] {
        let (value, g) = offset_after_grad(a, &x, k);
        let (twin, gt) = offset_before_grad(a, &x, k);
        assert_eq!(
            (value, g.a, &g.x),
            (twin, gt.a, &gt.x),
            "x = {x:?}, k = {k}"
        );
    }
}

/// `acc[c] += …` at `enumerate`'s count beside a carried float: carried, as at a range's index.
#[differentiable]
fn added_at_count_beside(a: f64, x: &[f64], w: &[f64]) -> f64 {
    let mut acc = vec![0.0; w.len()];
    let mut h = 0.5;
    for t in 0..x.len() {
        h = (h * a + x[t]).tanh();
        for (c, &wc) in w.iter().enumerate() {
            acc[c] += wc * h;
        }
    }
    let mut s = 0.0;
    for &v in &acc {
        s += v.exp();
    }
    s
}

/// The twin at a range's index (accepted before).
#[differentiable]
fn added_at_index_beside(a: f64, x: &[f64], w: &[f64]) -> f64 {
    let mut acc = vec![0.0; w.len()];
    let mut h = 0.5;
    for t in 0..x.len() {
        h = (h * a + x[t]).tanh();
        for c in 0..w.len() {
            acc[c] += w[c] * h;
        }
    }
    let mut s = 0.0;
    for &v in &acc {
        s += v.exp();
    }
    s
}

#[test]
fn an_addition_at_enumerate_count_beside_a_carried_float_is_the_index_form() {
    // x = [b], w = [u]: h = tanh(0.5a + b), f = exp(u·h).
    let (a, b, u): (f64, f64, f64) = (0.7, -0.4, 1.3);
    let h = (0.5 * a + b).tanh();
    let (value, g) = added_at_count_beside_grad(a, &[b], &[u]);
    let f = (u * h).exp();
    assert_relative_eq!(value, f, epsilon = 1e-12);
    let dh = 1.0 - h * h;
    assert_relative_eq!(g.a, f * u * dh * 0.5, epsilon = 1e-12);
    assert_all_close(&g.x, &[f * u * dh], 1e-12);
    assert_all_close(&g.w, &[f * h], 1e-12);
    for (x, w) in [
        (vec![0.3, -0.5, 0.9, 0.1], vec![0.5, -0.2, 0.8]),
        (vec![], vec![0.5]),
        (vec![0.3], vec![]),
    ] {
        let (value, g) = added_at_count_beside_grad(a, &x, &w);
        let (twin, gt) = added_at_index_beside_grad(a, &x, &w);
        assert_eq!(
            (value, g.a, &g.x, &g.w),
            (twin, gt.a, &gt.x, &gt.w),
            "x = {x:?}"
        );
    }
}
