//! Element loops and iterator adaptors against index loops: each form's generated `*_grad` is
//! timed against the `*_grad` of the same function written with index loops (its twin, the loop a
//! person writes), interleaved with the function alone, as in `benches/loop_ratios.rs` (one batch
//! of each in turn, here 41 rounds, each batch after one untimed call, each round starting with
//! the next candidate: see `Schedule`), and the ratio of the best batches is printed, then that of
//! the medians. The first row of each size is a control, the index twin against itself: the noise
//! floor of the run. Before it is timed, each form's value and gradient are checked against its
//! twin's.
//!
//! The forms: element loops, iterator adaptors, closures, `while` and `loop` on a counter, an
//! integer counter, `continue`, `fold` (a sum and a recurrence), a data struct's field, two-level
//! data, and `break` at the first negative `y[i]`. The `break` form has three rows, since it must
//! find its stop itself: against the loop to a stop found once outside (`until_stop`, the twin the
//! lowering aims at), against the same twin finding its stop with `position` at each call, and
//! against its gradient written by hand as one loop with the `break` (the one reference here not
//! generated from an index loop); the last column (against the function alone) is also reported.
//! Last, a scan reading two elements back (an AR(2) process, its array summed squared after
//! the loop), against its gradient written by hand and against the same process kept in two
//! floats (the form the macro took before; no array); and an integrator's trajectory kept in
//! two arrays, against its loss summed in the integrator's loop.
//! Run: `cargo bench --bench forms` (`-- AR(2)` for the rows whose label has that text).

// The forms as users write them, including the ones clippy would shorten.
#![allow(
    clippy::explicit_iter_loop,
    clippy::needless_range_loop,
    clippy::cast_lossless,
    clippy::manual_div_ceil // `x.len().div_ceil(2)` is not a loop bound the macro accepts
)]

use std::hint::black_box;

use symgrad::differentiable;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved, pretty};

const ROUNDS: usize = 41;

// ---- A sum of a nonlinear function of each element

#[differentiable]
fn elem_sin(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for &xi in x {
        s += xi.sin() * xi;
    }
    s
}

#[differentiable]
fn elem_sin_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i].sin() * x[i];
    }
    s
}

/// The same with a cheap body, where the loop's own cost shows.
#[differentiable]
fn elem_cube(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += xi * xi * xi;
    }
    s
}

#[differentiable]
fn elem_cube_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * x[i];
    }
    s
}

// ---- enumerate: a weight from the position

#[differentiable]
fn weighted_enumerate(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += (i as f64 + 1.0) * xi.powi(2);
    }
    s
}

#[differentiable]
fn weighted_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (i as f64 + 1.0) * x[i].powi(2);
    }
    s
}

// ---- zip of two slices (the shorter decides; its twin loops to the shorter length)

#[differentiable(wrt(w))]
fn residuals_zip(w: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (wi, yi) in w.iter().zip(y) {
        s += (wi - yi).powi(2);
    }
    s
}

#[differentiable(wrt(w))]
fn residuals_index(w: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len().min(y.len()) {
        s += (w[i] - y[i]).powi(2);
    }
    s
}

// ---- Neighbour differences: zip with skip(1), windows(2), windows(2) as a sum, the index loop

#[differentiable]
fn tv_zip(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(1)) {
        s += (b - a).powi(2);
    }
    s
}

#[differentiable]
fn tv_windows(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += (w[1] - w[0]).powi(2);
    }
    s
}

#[differentiable]
fn tv_windows_sum(x: &[f64]) -> f64 {
    x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
}

#[differentiable]
fn tv_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += (x[i] - x[i - 1]).powi(2);
    }
    s
}

// ---- Pairs of a flat slice (points (a, b)): chunks(2), chunks_exact(2), the index loop

#[differentiable]
fn norms_chunks(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in x.chunks(2) {
        s += (p[0] * p[0] + p[1] * p[1]).sqrt();
    }
    s
}

#[differentiable]
fn norms_chunks_exact(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in x.chunks_exact(2) {
        s += (p[0] * p[0] + p[1] * p[1]).sqrt();
    }
    s
}

#[differentiable]
fn norms_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() / 2 {
        s += (x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1]).sqrt();
    }
    s
}

// ---- step_by(2): every other element

#[differentiable]
fn even_step_by(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter().step_by(2) {
        s += xi * xi * xi;
    }
    s
}

#[differentiable]
fn even_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..(x.len() + 1) / 2 {
        s += x[2 * k] * x[2 * k] * x[2 * k];
    }
    s
}

// ---- rev: a recurrence run from the last element

#[differentiable]
fn decay_rev(x: &[f64]) -> f64 {
    let mut decay = 0.0;
    for xi in x.iter().rev() {
        decay = 0.5 * decay + xi;
    }
    decay * decay
}

#[differentiable]
fn decay_index(x: &[f64]) -> f64 {
    let n = x.len();
    let mut decay = 0.0;
    for k in 0..n {
        decay = 0.5 * decay + x[n - 1 - k];
    }
    decay * decay
}

// ---- A sub-slice: the inner elements

#[differentiable]
fn inner_subslice(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x[1..x.len() - 1].iter() {
        s += v * v * v;
    }
    s
}

#[differentiable]
fn inner_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() - 1 {
        s += x[i] * x[i] * x[i];
    }
    s
}

// ---- A closure bound by `let`, called in the loop or mapped, against the expression in place

/// The pseudo-Huber penalty √(v² + 1) − 1 of each element.
#[differentiable]
fn huber_closure(x: &[f64]) -> f64 {
    let huber = |v: f64| (v * v + 1.0).sqrt() - 1.0;
    let mut s = 0.0;
    for &xi in x {
        s += huber(xi);
    }
    s
}

#[differentiable]
fn huber_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] * x[i] + 1.0).sqrt() - 1.0;
    }
    s
}

/// A closure capturing a local, mapped over the slice.
#[differentiable]
fn shifted_mapped(x: &[f64]) -> f64 {
    let c = 0.25;
    let shifted = |v: &f64| (v - c).powi(2) * v;
    x.iter().map(shifted).sum::<f64>()
}

#[differentiable]
fn shifted_index(x: &[f64]) -> f64 {
    let c = 0.25;
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - c).powi(2) * x[i];
    }
    s
}

// ---- `while` and `loop` on an integer counter

#[differentiable]
fn cube_while(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        s += x[i] * x[i] * x[i];
        i += 1;
    }
    s
}

/// The body runs once before the test, as `loop` does: the bench's slices are never empty.
#[differentiable]
fn cube_loop(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    let mut i = 0;
    loop {
        s += x[i] * x[i] * x[i];
        i += 1;
        if i >= n {
            break;
        }
    }
    s
}

// ---- An integer counter stepped by 2 against the index times 2

#[differentiable]
fn even_counter(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for _ in 0..x.len() / 2 {
        s += x[k] * x[k] * x[k];
        k += 2;
    }
    s
}

#[differentiable]
fn even_counter_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() / 2 {
        s += x[2 * i] * x[2 * i] * x[2 * i];
    }
    s
}

// ---- `continue` under a condition on the data, against the rest of the body under `if`

#[differentiable(wrt(x))]
fn nonneg_continue(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] < 0.0 {
            continue;
        }
        s += (x[i] - y[i]).powi(2) * x[i];
    }
    s
}

#[differentiable(wrt(x))]
fn nonneg_if(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] >= 0.0 {
            s += (x[i] - y[i]).powi(2) * x[i];
        }
    }
    s
}

// ---- `break` at the first negative `y[i]`, against the loop to a stop found by hand

#[differentiable(wrt(x))]
fn until_break(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] < 0.0 {
            break;
        }
        s += (x[i] - y[i]).powi(2) * x[i];
    }
    s
}

/// `stop` is the first negative `y[i]`'s index (`x.len()` if none), found outside (`first_negative`).
#[differentiable(wrt(x))]
fn until_stop(x: &[f64], y: &[f64], stop: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..stop {
        s += (x[i] - y[i]).powi(2) * x[i];
    }
    s
}

/// The stop found by `position` (what a caller of `until_stop` writes).
fn first_negative(y: &[f64]) -> usize {
    y.iter().position(|&v| v < 0.0).unwrap_or(y.len())
}

/// `until_break`'s value and gradient written by hand: one loop, the `break` in it (not a twin
/// generated from an index loop: the reference for what the lowering to a search and a loop
/// costs).
fn until_break_by_hand(x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let mut s = 0.0;
    for i in 0..x.len() {
        if y[i] < 0.0 {
            break;
        }
        let r = x[i] - y[i];
        s += r * r * x[i];
        g[i] += r * r + x[i] * (2.0 * r);
    }
    (s, g)
}

// ---- `fold`: a sum, and a recurrence

#[differentiable]
fn squares_fold(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |acc, v| acc + v * v)
}

#[differentiable]
fn squares_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

#[differentiable]
fn growth_fold(x: &[f64]) -> f64 {
    x.iter().fold(1.0, |p, v| p * (1.0 + 0.1 * v))
}

#[differentiable]
fn growth_index(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= 1.0 + 0.1 * x[i];
    }
    p
}

// ---- A field of a data struct against a slice parameter

/// Data as users pass it: a struct of vectors, built once.
pub struct Samples {
    pub ys: Vec<f64>,
}

#[differentiable(wrt(x))]
fn fit_field(x: &[f64], data: &Samples) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - data.ys[i]).powi(2) * x[i];
    }
    s
}

#[differentiable(wrt(x))]
fn fit_slice(x: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - ys[i]).powi(2) * x[i];
    }
    s
}

// ---- Two-level data (`inputs[k][0]` of `&[[f64; 2]]`) against the flat slice (`flat[2k]`)

#[differentiable(wrt(x))]
fn pairs_nested(x: &[f64], inputs: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for k in 0..inputs.len() {
        s += (x[k] * inputs[k][0] - inputs[k][1]).powi(2);
    }
    s
}

#[differentiable(wrt(x))]
fn pairs_flat(x: &[f64], flat: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..flat.len() / 2 {
        s += (x[k] * flat[2 * k] - flat[2 * k + 1]).powi(2);
    }
    s
}

// ---- Measurement

// ---- A scan reading two elements back (an AR(2) process), and its gradient by hand

#[differentiable]
fn ar2_scan(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let mut z = vec![0.0; n];
    z[0] = x[0];
    z[1] = x[1];
    for i in 2..n {
        z[i] = 0.6 * z[i - 1] - 0.3 * z[i - 2] + x[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i];
    }
    s
}

/// The same process kept in two floats (the form the macro took before arrays two back), the
/// loss summed in the loop.
#[differentiable]
fn ar2_floats(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let (mut q, mut p) = (x[0], x[1]);
    let mut s = q * q + p * p;
    for i in 2..n {
        let t = 0.6 * p - 0.3 * q + x[i];
        q = p;
        p = t;
        s += t * t;
    }
    s
}

/// A semi-implicit Euler integrator of a spring whose trajectory (positions and velocities)
/// is kept in arrays, fitted to `x` after the loop.
#[differentiable]
fn spring_trajectory(x: &[f64]) -> f64 {
    let n = x.len();
    let mut pos = vec![0.0; n];
    let mut vel = vec![0.0; n];
    let (mut p, mut v) = (1.2, 0.0);
    for i in 0..n {
        let acc = -2.5 * p - 0.1 * v;
        v += acc * 0.01;
        p += v * 0.01;
        pos[i] = p;
        vel[i] = v;
    }
    let mut loss = 0.0;
    for i in 0..n {
        let d = pos[i] - x[i];
        loss += d * d + 0.01 * vel[i] * vel[i];
    }
    loss
}

/// The same loss summed in the integrator's loop (no arrays).
#[differentiable]
fn spring_floats(x: &[f64]) -> f64 {
    let (mut p, mut v) = (1.2, 0.0);
    let mut loss = 0.0;
    for i in 0..x.len() {
        let acc = -2.5 * p - 0.1 * v;
        v += acc * 0.01;
        p += v * 0.01;
        let d = p - x[i];
        loss += d * d + 0.01 * v * v;
    }
    loss
}

/// `ar2_scan`'s gradient as a person writes it: the values forward into a vector, then
/// `z̄ᵢ = 2zᵢ + 0.6·z̄ᵢ₊₁ − 0.3·z̄ᵢ₊₂` backward in two floats (`z₁` does not read `z₀`).
fn ar2_by_hand(x: &[f64]) -> (f64, Vec<f64>) {
    let n = x.len();
    let mut g = vec![0.0; n];
    if n < 2 {
        return (0.0, g);
    }
    let mut z = vec![0.0; n];
    z[0] = x[0];
    z[1] = x[1];
    for i in 2..n {
        z[i] = 0.6 * z[i - 1] - 0.3 * z[i - 2] + x[i];
    }
    let s = z.iter().map(|v| v * v).sum();
    let (mut l1, mut l2) = (0.0, 0.0);
    for i in (0..n).rev() {
        let a = if i >= 1 { 0.6 } else { 0.0 };
        let zb = 2.0 * z[i] + a * l1 - 0.3 * l2;
        g[i] = zb;
        l2 = l1;
        l1 = zb;
    }
    (s, g)
}

/// The data of a size, built once: `y` (the zip of two slices, `continue`, the data struct's
/// field, the flat pairs), the same values as a struct's field and as pairs, and the data of the
/// `break` row with its stop found by hand.
struct Data {
    y: Vec<f64>,
    samples: Samples,
    pairs: Vec<[f64; 2]>,
    /// Positive up to `3n/4`, negative there, `y` after it.
    brk: Vec<f64>,
    /// `first_negative(&brk)`, the `break` twin's loop bound, found once (one row's twin finds it
    /// at each call instead).
    stop: usize,
}

impl Data {
    fn new(y: Vec<f64>) -> Data {
        let n = y.len();
        let mut brk: Vec<f64> = y.iter().map(|v| v.abs() + 0.01).collect();
        brk[3 * n / 4] = -1.0;
        brk[3 * n / 4 + 1..].copy_from_slice(&y[3 * n / 4 + 1..]);
        Data {
            samples: Samples { ys: y.clone() },
            pairs: y.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
            stop: first_negative(&brk),
            brk,
            y,
        }
    }
}

/// A `_grad` as the bench calls it: over `x` and the data, the value and the gradient w.r.t. `x`.
type Grad = fn(&[f64], &Data) -> (f64, Vec<f64>);

/// A form and its index twin as the bench calls them: over `x` and the data (each reads what it
/// needs), the value, and the value with the gradient with respect to `x`.
struct Form {
    /// A cell of a Markdown table: a `|` is written `\\|`.
    label: &'static str,
    /// Timed at n = 10⁶ too.
    large: bool,
    function: fn(&[f64], &Data) -> f64,
    grad: Grad,
    twin: Grad,
}

/// A function of `x` alone as a `Form` field: `value f` or `grad f_grad`.
macro_rules! of_x {
    (value $f:ident) => {
        |x: &[f64], _: &Data| $f(x)
    };
    (grad $f:ident) => {
        |x: &[f64], _: &Data| {
            let (v, g) = $f(x);
            (v, g.x)
        }
    };
}

/// A form: its label, whether it is timed at n = 10⁶, the function, its `_grad`, and the twin's
/// `_grad`, each of `x` alone or, after `|d|`, of `x` and the data it reads (`f(&d.y)`, `d` the
/// `Data`).
macro_rules! form {
    ($label:expr, $large:expr, $f:ident, $grad:ident, $twin:ident) => {
        Form {
            label: $label,
            large: $large,
            function: of_x!(value $f),
            grad: of_x!(grad $grad),
            twin: of_x!(grad $twin),
        }
    };
    ($label:expr, $large:expr, |$d:ident| $f:ident($($a:expr),*), $grad:ident($($ga:expr),*),
     $twin:ident($($ta:expr),*)) => {
        Form {
            label: $label,
            large: $large,
            function: |x: &[f64], $d: &Data| $f(x, $($a),*),
            grad: |x: &[f64], $d: &Data| {
                let (v, g) = $grad(x, $($ga),*);
                (v, g.x)
            },
            twin: |x: &[f64], $d: &Data| {
                let (v, g) = $twin(x, $($ta),*);
                (v, g.x)
            },
        }
    };
}

#[allow(clippy::too_many_lines)] // a table, one entry a form
fn forms() -> [Form; 29] {
    [
        form!(
            "control: index loop vs itself (`x³`)",
            true,
            elem_cube_index,
            elem_cube_index_grad,
            elem_cube_index_grad
        ),
        form!(
            "`for &xi in x`, `sin(xi)·xi`",
            false,
            elem_sin,
            elem_sin_grad,
            elem_sin_index_grad
        ),
        form!(
            "`for xi in x.iter()`, `xi³`",
            true,
            elem_cube,
            elem_cube_grad,
            elem_cube_index_grad
        ),
        form!(
            "`enumerate`, `(i + 1)·xi²`",
            false,
            weighted_enumerate,
            weighted_enumerate_grad,
            weighted_index_grad
        ),
        Form {
            label: "`w.iter().zip(y)`, `(wi − yi)²`",
            large: true,
            function: |w, d| residuals_zip(w, &d.y),
            grad: |w, d| {
                let (v, g) = residuals_zip_grad(w, &d.y);
                (v, g.w)
            },
            twin: |w, d| {
                let (v, g) = residuals_index_grad(w, &d.y);
                (v, g.w)
            },
        },
        form!(
            "`x.iter().zip(x.iter().skip(1))`, `(b − a)²`",
            true,
            tv_zip,
            tv_zip_grad,
            tv_index_grad
        ),
        form!(
            "`for w in x.windows(2)`, `(w[1] − w[0])²`",
            true,
            tv_windows,
            tv_windows_grad,
            tv_index_grad
        ),
        form!(
            "`x.windows(2).map(…).sum()`, the same",
            false,
            tv_windows_sum,
            tv_windows_sum_grad,
            tv_index_grad
        ),
        form!(
            "`for p in x.chunks(2)`, `√(p[0]² + p[1]²)`",
            false,
            norms_chunks,
            norms_chunks_grad,
            norms_index_grad
        ),
        form!(
            "`for p in x.chunks_exact(2)`, the same",
            false,
            norms_chunks_exact,
            norms_chunks_exact_grad,
            norms_index_grad
        ),
        form!(
            "`x.iter().step_by(2)`, `xi³`",
            false,
            even_step_by,
            even_step_by_grad,
            even_index_grad
        ),
        form!(
            "`x.iter().rev()`, `d = 0.5·d + xi`, then `d²`",
            true,
            decay_rev,
            decay_rev_grad,
            decay_index_grad
        ),
        form!(
            "`x[1..n − 1].iter()`, `v³`",
            false,
            inner_subslice,
            inner_subslice_grad,
            inner_index_grad
        ),
        form!(
            "`let huber = \\|v\\| √(v² + 1) − 1`, `huber(xi)` in the loop",
            true,
            huber_closure,
            huber_closure_grad,
            huber_index_grad
        ),
        form!(
            "`x.iter().map(shifted).sum()`, `shifted = \\|v\\| (v − c)²·v`",
            false,
            shifted_mapped,
            shifted_mapped_grad,
            shifted_index_grad
        ),
        form!(
            "`while i < n { …; i += 1; }`, `x[i]³`",
            true,
            cube_while,
            cube_while_grad,
            elem_cube_index_grad
        ),
        form!(
            "`loop { …; i += 1; if i >= n { break; } }`, `x[i]³`",
            false,
            cube_loop,
            cube_loop_grad,
            elem_cube_index_grad
        ),
        form!(
            "counter `k += 2`, `x[k]³`",
            false,
            even_counter,
            even_counter_grad,
            even_counter_index_grad
        ),
        form!(
            "`if y[i] < 0.0 { continue; }`, `(xi − yi)²·xi`",
            true,
            |d| nonneg_continue(&d.y),
            nonneg_continue_grad(&d.y),
            nonneg_if_grad(&d.y)
        ),
        form!(
            "`if y[i] < 0.0 { break; }` at 3n/4, the same",
            true,
            |d| until_break(&d.brk),
            until_break_grad(&d.brk),
            until_stop_grad(&d.brk, d.stop)
        ),
        form!(
            "the same, the twin finding its stop at each call",
            true,
            |d| until_break(&d.brk),
            until_break_grad(&d.brk),
            until_stop_grad(&d.brk, first_negative(&d.brk))
        ),
        Form {
            label: "the same, against its gradient written by hand (one loop with the `break`)",
            large: true,
            function: |x, d| until_break(x, &d.brk),
            grad: |x, d| {
                let (v, g) = until_break_grad(x, &d.brk);
                (v, g.x)
            },
            twin: |x, d| until_break_by_hand(x, &d.brk),
        },
        form!(
            "`x.iter().fold(0.0, \\|acc, v\\| acc + v·v)`",
            false,
            squares_fold,
            squares_fold_grad,
            squares_index_grad
        ),
        form!(
            "`x.iter().fold(1.0, \\|p, v\\| p·(1 + 0.1·v))`",
            false,
            growth_fold,
            growth_fold_grad,
            growth_index_grad
        ),
        form!(
            "`data.ys[i]` (a struct's field), `(xi − yi)²·xi`",
            true,
            |d| fit_field(&d.samples),
            fit_field_grad(&d.samples),
            fit_slice_grad(&d.y)
        ),
        form!(
            "`inputs[k][0]`, `inputs[k][1]` of `&[[f64; 2]]`",
            false,
            |d| pairs_nested(&d.pairs),
            pairs_nested_grad(&d.pairs),
            pairs_flat_grad(&d.y)
        ),
        Form {
            label: "`z[i] = 0.6·z[i − 1] − 0.3·z[i − 2] + x[i]` (AR(2)), against its gradient by hand",
            large: true,
            function: of_x!(value ar2_scan),
            grad: of_x!(grad ar2_scan_grad),
            twin: |x, _| ar2_by_hand(x),
        },
        form!(
            "AR(2) again, against it kept in two floats (`q = p; p = t;`, no array)",
            true,
            ar2_scan,
            ar2_scan_grad,
            ar2_floats_grad
        ),
        form!(
            "`pos[i] = p; vel[i] = v;` (an integrator's trajectory), against the loss summed in its loop",
            true,
            spring_trajectory,
            spring_trajectory_grad,
            spring_floats_grad
        ),
    ]
}

/// The input: `n` values in (−1, 2), not symmetric, none zero (the norms' `sqrt`).
fn input(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 + 1.4 * ((i as f64) * 0.618_034).sin() + 1e-3)
        .collect()
}

/// The form's value and gradient equal its twin's (a check of what is timed, not a timing).
fn check(form: &Form, x: &[f64], d: &Data) {
    let ((v, g), (v_ref, g_ref)) = ((form.grad)(x, d), (form.twin)(x, d));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
    let label = form.label;
    assert!(close(v, v_ref), "{label}: value {v} vs {v_ref}");
    assert_eq!(g.len(), g_ref.len(), "{label}: gradient length");
    for (i, (a, b)) in g.iter().zip(&g_ref).enumerate() {
        assert!(close(*a, *b), "{label}: ∂x[{i}] {a} vs {b}");
    }
}

/// Times the function, the form's `_grad` and the twin's `_grad` interleaved, and prints a row.
/// Each call passes its inputs and its whole result through `black_box` (a discarded gradient
/// would be optimised away).
fn row(form: &Form, n: &str, reps: usize, x: &[f64], d: &Data) {
    let (x, d) = (black_box(x), black_box(d));
    let schedule = Schedule {
        rounds: ROUNDS,
        reps,
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(
        &schedule,
        &mut [
            &mut || (form.function)(black_box(x), black_box(d)),
            &mut || black_box((form.grad)(black_box(x), black_box(d))).0,
            &mut || black_box((form.twin)(black_box(x), black_box(d))).0,
        ],
    );
    let (best, median) = (|k: usize| t[k][0], |k: usize| t[k][ROUNDS / 2]);
    println!(
        "| {} | {n} | {} | {} | {} | {:.3} | {:.3} | {:.2} |",
        form.label,
        pretty(best(0)),
        pretty(best(1)),
        pretty(best(2)),
        best(1) / best(2),
        median(1) / median(2),
        best(1) / best(0),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    println!(
        "| form | n | function (best) | form `_grad` (best) | index `_grad` (best) | grad / index | grad / index (medians) | grad / function |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    // n = 10⁴ (80 kB, in L2): every form, 0.5–5 ms a batch. n = 10⁶ (8 MB read, and an 8 MB
    // gradient allocated and zeroed at every call): the forms marked `large`.
    let sizes = if quick {
        [(100, "10²", 2, false), (1000, "10³", 2, true)]
    } else {
        [(10_000, "10⁴", 50, false), (1_000_000, "10⁶", 2, true)]
    };
    // `cargo bench --bench forms -- AR(2)`: only the forms whose label has that text.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let forms = forms();
    for (n, label, reps, large) in sizes {
        let x = input(n);
        let data = Data::new(input(n + 7).split_off(7));
        let chosen = |f: &&Form| only.as_ref().is_none_or(|o| f.label.contains(o.as_str()));
        for form in forms.iter().filter(|f| f.large || !large).filter(chosen) {
            check(form, &x, &data);
            row(form, label, reps, &x, &data);
        }
    }
}
