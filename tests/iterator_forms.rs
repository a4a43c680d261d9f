//! Element loops and iterator adaptors: each form is checked against the same function written
//! with index loops (its generated gradient, to 1e-12) and against central differences. The
//! index form is the oracle; the sizes include the edge cases of each adaptor (empty slices,
//! windows wider than the slice, a last chunk shorter than the others, `skip` past the end).

// The forms as users write them, including the ones clippy would shorten.
#![allow(
    clippy::explicit_iter_loop,
    clippy::needless_range_loop,
    clippy::explicit_counter_loop,
    clippy::manual_div_ceil,
    clippy::cast_lossless
)]

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// `x` at sizes 0..=7, with values that are not symmetric.
fn inputs() -> Vec<Vec<f64>> {
    (0..=7)
        .map(|n| {
            (0..n)
                .map(|i: u32| 0.3 + 0.7 * f64::from(i) - 0.11 * f64::from(i * i))
                .collect()
        })
        .collect()
}

/// The iterator form's gradient equals the index form's, and central differences.
fn check(
    iter_form: impl Fn(&[f64]) -> (f64, Vec<f64>),
    index_form: impl Fn(&[f64]) -> (f64, Vec<f64>),
    value: impl Fn(&[f64]) -> f64,
) {
    for x in inputs() {
        let (v, g) = iter_form(&x);
        let (v_ref, g_ref) = index_form(&x);
        assert!(
            (v - v_ref).abs() <= 1e-12 * (1.0 + v_ref.abs()),
            "value at n = {}: {v} vs {v_ref}",
            x.len()
        );
        assert_all_close(&g, &g_ref, 1e-12);
        assert_all_close(&g, &numeric_gradient(&value, &x), 1e-6);
    }
}

#[differentiable]
fn for_by_reference(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for &xi in x {
        s += xi.sin() * xi;
    }
    s
}

#[differentiable]
fn for_iter_deref(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += *xi * *xi;
    }
    s
}

#[differentiable]
fn for_index_sin(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i].sin() * x[i];
    }
    s
}

#[differentiable]
fn for_index_square(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

#[test]
fn for_over_elements() {
    check(
        |x| {
            let (v, g) = for_by_reference_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = for_index_sin_grad(x);
            (v, g.x)
        },
        for_by_reference,
    );
    check(
        |x| {
            let (v, g) = for_iter_deref_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = for_index_square_grad(x);
            (v, g.x)
        },
        for_iter_deref,
    );
}

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

#[test]
fn enumerate() {
    check(
        |x| {
            let (v, g) = weighted_enumerate_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = weighted_index_grad(x);
            (v, g.x)
        },
        weighted_enumerate,
    );
}

/// Neighbour differences three ways: `zip` with `skip(1)`, `windows(2)`, and the index loop.
#[differentiable]
fn tv_zip(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(1)) {
        s += (b - a).powi(2) * a.exp();
    }
    s
}

#[differentiable]
fn tv_windows(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += (w[1] - w[0]).powi(2) * w[0].exp();
    }
    s
}

#[differentiable]
fn tv_windows_sum(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).powi(2) * w[0].exp())
        .sum::<f64>()
}

#[differentiable]
fn tv_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += (x[i] - x[i - 1]).powi(2) * x[i - 1].exp();
    }
    s
}

#[test]
fn neighbours() {
    let index = |x: &[f64]| {
        let (v, g) = tv_index_grad(x);
        (v, g.x)
    };
    check(
        |x| {
            let (v, g) = tv_zip_grad(x);
            (v, g.x)
        },
        index,
        tv_zip,
    );
    check(
        |x| {
            let (v, g) = tv_windows_grad(x);
            (v, g.x)
        },
        index,
        tv_windows,
    );
    check(
        |x| {
            let (v, g) = tv_windows_sum_grad(x);
            (v, g.x)
        },
        index,
        tv_windows_sum,
    );
}

/// Pairs of a flat slice: `chunks(2)` (the last chunk of an odd slice has one element).
#[differentiable]
fn pairs_chunks(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in x.chunks(2) {
        let mut p = 0.0;
        for j in 0..c.len() {
            p += c[j] * (j as f64 + 2.0);
        }
        s += p.tanh();
    }
    s
}

#[differentiable]
fn pairs_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..(x.len() + 1) / 2 {
        let mut p = 0.0;
        for j in 0..2 {
            if 2 * k + j < x.len() {
                p += x[2 * k + j] * (j as f64 + 2.0);
            }
        }
        s += p.tanh();
    }
    s
}

#[differentiable]
fn pairs_chunks_exact(x: &[f64]) -> f64 {
    x.chunks_exact(2).map(|c| c[0] * c[1]).sum::<f64>()
}

#[differentiable]
fn pairs_exact_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() / 2 {
        s += x[2 * k] * x[2 * k + 1];
    }
    s
}

#[test]
fn chunks() {
    check(
        |x| {
            let (v, g) = pairs_chunks_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = pairs_index_grad(x);
            (v, g.x)
        },
        pairs_chunks,
    );
    check(
        |x| {
            let (v, g) = pairs_chunks_exact_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = pairs_exact_index_grad(x);
            (v, g.x)
        },
        pairs_chunks_exact,
    );
}

/// `rev`, `step_by`, `take`, `skip` and a sub-slice, against the index loop of each.
#[differentiable]
fn adaptors(x: &[f64]) -> f64 {
    let mut decay = 0.0;
    for xi in x.iter().rev() {
        decay = 0.5 * decay + xi;
    }
    let even = x.iter().step_by(2).map(|v| v.powi(2)).sum::<f64>();
    let head = x.iter().take(3).map(|v| v.sin()).sum::<f64>();
    let tail = x.iter().skip(5).map(|v| v.cos()).sum::<f64>();
    let mut inner = 0.0;
    if x.len() >= 2 {
        for v in x[1..x.len() - 1].iter() {
            inner += v * v * v;
        }
    }
    decay * decay + even + head + tail + inner
}

#[differentiable]
fn adaptors_index(x: &[f64]) -> f64 {
    let n = x.len();
    let mut decay = 0.0;
    for k in 0..n {
        decay = 0.5 * decay + x[n - 1 - k];
    }
    let mut even = 0.0;
    for k in 0..(n + 1) / 2 {
        even += x[2 * k].powi(2);
    }
    let mut head = 0.0;
    for i in 0..n.min(3) {
        head += x[i].sin();
    }
    let mut tail = 0.0;
    for i in 5..n {
        tail += x[i].cos();
    }
    let mut inner = 0.0;
    if n >= 2 {
        for i in 1..n - 1 {
            inner += x[i] * x[i] * x[i];
        }
    }
    decay * decay + even + head + tail + inner
}

#[test]
fn rev_step_take_skip_subslice() {
    check(
        |x| {
            let (v, g) = adaptors_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = adaptors_index_grad(x);
            (v, g.x)
        },
        adaptors,
    );
}

/// Two slices zipped (the shorter decides), and a range reversed with a step.
#[differentiable(wrt(w))]
fn zipped(w: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (wi, yi) in w.iter().zip(y) {
        s += (wi - yi).powi(2);
    }
    for i in (0..w.len()).rev().step_by(3) {
        s += w[i] * i as f64;
    }
    s
}

#[differentiable(wrt(w))]
fn zipped_index(w: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len().min(y.len()) {
        s += (w[i] - y[i]).powi(2);
    }
    let n = w.len();
    for k in 0..(n + 2) / 3 {
        let i = n - 1 - 3 * k;
        s += w[i] * i as f64;
    }
    s
}

#[test]
fn zip_of_two_slices_and_reversed_range() {
    let y = [0.5, -1.0, 2.0, 0.25];
    check(
        |x| {
            let (v, g) = zipped_grad(x, &y);
            (v, g.w)
        },
        |x| {
            let (v, g) = zipped_index_grad(x, &y);
            (v, g.w)
        },
        |x| zipped(x, &y),
    );
}

/// `zip` counts both sides from their first item: `1..4` pairs `x[0]` with 1.
#[differentiable]
fn zip_shifted_range(x: &[f64]) -> f64 {
    x.iter()
        .zip(1..4)
        .map(|(&a, i)| a * a * (i as f64))
        .sum::<f64>()
}

#[differentiable]
fn zip_shifted_range_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len().min(3) {
        s += x[k] * x[k] * ((k + 1) as f64);
    }
    s
}

#[test]
fn zip_with_a_shifted_range() {
    check(
        |x| {
            let (v, g) = zip_shifted_range_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = zip_shifted_range_index_grad(x);
            (v, g.x)
        },
        zip_shifted_range,
    );
}

/// A window's elements passed straight to a differentiable function (`h(w[0], w[1])`).
#[differentiable]
fn pair_cost(a: f64, b: f64) -> f64 {
    (b - a).powi(2) * a.exp()
}

#[differentiable]
fn tv_windows_call(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += pair_cost(w[0], w[1]);
    }
    s
}

#[differentiable]
fn tv_chunks_call(x: &[f64]) -> f64 {
    x.chunks_exact(2)
        .map(|c| pair_cost(c[1], c[0]))
        .sum::<f64>()
}

#[differentiable]
fn tv_chunks_index(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() / 2 {
        s += (x[2 * k] - x[2 * k + 1]).powi(2) * x[2 * k + 1].exp();
    }
    s
}

#[test]
fn window_elements_as_call_arguments() {
    check(
        |x| {
            let (v, g) = tv_windows_call_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = tv_index_grad(x);
            (v, g.x)
        },
        tv_windows_call,
    );
    check(
        |x| {
            let (v, g) = tv_chunks_call_grad(x);
            (v, g.x)
        },
        |x| {
            let (v, g) = tv_chunks_index_grad(x);
            (v, g.x)
        },
        tv_chunks_call,
    );
}
