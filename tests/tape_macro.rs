//! `#[differentiable]` on ndarray code: the gradient runs on the reverse-mode tape, against
//! hand-derived gradients.

use approx::assert_relative_eq;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, array};
use symgrad::differentiable;

#[path = "common/cofi.rs"]
mod cofi;

// PRODUCT.md's example, verbatim.
#[differentiable(wrt(w, b))]
fn softmax_ce(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>, y_onehot: &Array2<f64>) -> f64 {
    let logits = x.dot(w) + b;
    let lse = logits.exp().sum_axis(Axis(1)).ln();
    let picked = (&logits * y_onehot).sum_axis(Axis(1));
    (lse - picked).sum() / x.nrows() as f64
}

fn softmax(z: &Array2<f64>) -> Array2<f64> {
    let e = z.exp();
    let s = e.sum_axis(Axis(1)).insert_axis(Axis(1));
    e / s
}

#[test]
fn softmax_cross_entropy_matches_the_textbook_gradient() {
    let x = array![[0.3, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
    let w = Array2::from_shape_fn((4, 3), |(i, j)| 0.1 * i as f64 - 0.2 * j as f64 + 0.05);
    let b = array![0.1, -0.2, 0.3];
    let y = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
    let (loss, grad) = softmax_ce_grad(&x, &w, &b, &y);
    assert_relative_eq!(loss, softmax_ce(&x, &w, &b, &y), max_relative = 1e-14);
    // dz = (softmax(z) − y)/n, pushed through x@w + b.
    let dz = (softmax(&(x.dot(&w) + &b)) - &y) / 2.0;
    let (dw, db): (Array2<f64>, Array1<f64>) = (grad.w.clone(), grad.b.clone());
    assert!((dw - x.t().dot(&dz)).iter().all(|d| d.abs() < 1e-14));
    assert!((db - dz.sum_axis(Axis(0))).iter().all(|d| d.abs() < 1e-14));
    assert_eq!(
        SoftmaxCeGrad::FORMULAS[0],
        ("w", "computed on the reverse-mode tape")
    );
}

/// Seed 000's collaborative-filtering cost, with the tutorial's argument list.
#[differentiable(wrt(x, w, b))]
fn cofi_cost(
    x: &Array2<f64>,
    w: &Array2<f64>,
    b: &Array2<f64>,
    y: &Array2<f64>,
    r: &Array2<f64>,
    lambda: f64,
) -> f64 {
    let j = (x.dot(&w.t()) + b - y) * r;
    0.5 * j.powi(2).sum() + (lambda / 2.0) * (x.powi(2).sum() + w.powi(2).sum())
}

/// A 3-movie × 2-user, 2-feature problem: X, W, b, the ratings Y and the indicator R.
fn small_cofi() -> [Array2<f64>; 5] {
    let x = array![[1.0, 0.5], [0.2, -1.0], [0.3, 0.7]];
    let w = array![[0.3, 0.1], [-0.4, 0.9]];
    let b = array![[0.2, -0.1]];
    let y = array![[4.0, 0.0], [0.0, 2.0], [5.0, 1.0]];
    let r = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    [x, w, b, y, r]
}

#[test]
fn collaborative_filtering_matches_the_hand_derived_gradient() {
    let [x, w, b, y, r] = small_cofi();
    let lambda = 1.5;
    let (cost, g) = cofi_cost_grad(&x, &w, &b, &y, &r, lambda);
    assert_relative_eq!(
        cost,
        cofi_cost(&x, &w, &b, &y, &r, lambda),
        max_relative = 1e-14
    );
    let e = (x.dot(&w.t()) + &b - &y) * &r;
    let want_x = e.dot(&w) + &x * lambda; // ∂J/∂X = ((XWᵀ + b − Y)∘R)W + λX
    let want_w = e.t().dot(&x) + &w * lambda;
    let want_b = e.sum_axis(Axis(0)).insert_axis(Axis(0));
    for (got, want) in [(&g.x, &want_x), (&g.w, &want_w), (&g.b, &want_b)] {
        assert!(
            (got - want).iter().all(|d| d.abs() < 1e-12),
            "{got} vs {want}"
        );
    }
}

/// Scalars and arrays mix; owned arrays and views work too.
#[differentiable]
#[allow(clippy::needless_pass_by_value)] // owned arrays and views are the construct under test
fn ridge(w: Array1<f64>, x: ArrayView1<f64>, alpha: f64) -> f64 {
    let pred = w.dot(&x);
    (pred - 1.0).powi(2) + alpha * w.powi(2).sum()
}

#[test]
fn scalars_owned_arrays_and_views_mix() {
    let w = array![0.5, -0.25, 2.0];
    let x = array![1.0, 2.0, -1.0];
    let alpha = 0.1;
    let (v, g) = ridge_grad(w.clone(), x.view(), alpha);
    let pred = w.dot(&x);
    assert_relative_eq!(
        v,
        (pred - 1.0).powi(2) + alpha * w.mapv(|a| a * a).sum(),
        max_relative = 1e-14
    );
    let want_w = &x * (2.0 * (pred - 1.0)) + &w * (2.0 * alpha);
    assert!((&g.w - &want_w).iter().all(|d| d.abs() < 1e-14));
    assert!(
        (&g.x - &(&w * (2.0 * (pred - 1.0))))
            .iter()
            .all(|d| d.abs() < 1e-14)
    );
    assert_relative_eq!(g.alpha, w.mapv(|a| a * a).sum(), max_relative = 1e-14);
}

/// The same cost written with loops over flat slices: the symbolic engine's loops, checked
/// against the tape on the same numbers.
#[differentiable(wrt(x, w, b))]
#[allow(clippy::too_many_arguments)] // the tutorial's argument list, flattened
fn cofi_loops(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    y: &[f64],
    r: &[f64],
    movies: usize,
    users: usize,
    features: usize,
    lambda: f64,
) -> f64 {
    let mut j = 0.0;
    for m in 0..movies {
        for u in 0..users {
            let mut p = 0.0;
            for k in 0..features {
                p += x[m * features + k] * w[u * features + k];
            }
            let e = (p + b[u] - y[m * users + u]) * r[m * users + u];
            j += 0.5 * e * e;
        }
    }
    let reg = x.iter().map(|v| v * v).sum::<f64>() + w.iter().map(|v| v * v).sum::<f64>();
    j + lambda / 2.0 * reg
}

#[test]
fn the_tape_and_the_symbolic_loops_agree_on_collaborative_filtering() {
    let [x, w, b, y, r] = small_cofi();
    let lambda = 1.5;
    let (tape_cost, tape) = cofi_cost_grad(&x, &w, &b, &y, &r, lambda);
    let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<f64>>();
    let (loop_cost, loops) = cofi_loops_grad(
        &flat(&x),
        &flat(&w),
        &flat(&b),
        &flat(&y),
        &flat(&r),
        3,
        2,
        2,
        lambda,
    );
    assert_relative_eq!(tape_cost, loop_cost, max_relative = 1e-14);
    for (t, l) in [
        (flat(&tape.x), &loops.x),
        (flat(&tape.w), &loops.w),
        (flat(&tape.b), &loops.b),
    ] {
        assert!(
            t.iter().zip(l).all(|(a, b)| (a - b).abs() < 1e-13),
            "{t:?} vs {l:?}"
        );
    }
}

// Beyond the dense frameworks: the sparse loop over the rated entries (`common/cofi.rs`,
// shared with `benches/tape.rs`).

#[test]
fn the_sparse_loop_and_the_dense_tape_agree_on_collaborative_filtering() {
    let [x, w, b, y, r] = small_cofi();
    let lambda = 1.5;
    let (dense_cost, dense) = cofi_cost_grad(&x, &w, &b, &y, &r, lambda);
    let (rows, cols, ratings) = cofi::rated_entries(&y, &r);
    let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<f64>>();
    let (sparse_cost, sparse) = cofi::cofi_sparse_grad(
        &flat(&x),
        &flat(&w),
        &flat(&b),
        &rows,
        &cols,
        &ratings,
        2,
        lambda,
    );
    assert_relative_eq!(dense_cost, sparse_cost, max_relative = 1e-14);
    for (d, s) in [
        (flat(&dense.x), &sparse.x),
        (flat(&dense.w), &sparse.w),
        (flat(&dense.b), &sparse.b),
    ] {
        assert!(
            d.iter().zip(s).all(|(a, b)| (a - b).abs() < 1e-13),
            "{d:?} vs {s:?}"
        );
    }
}

/// The generated `_grad` records a fresh tape at every call, and takes its buffers from the
/// tape's per-thread cache (`symgrad::tape::cache`): the second call of a training loop reuses
/// the first one's arrays, and gives bitwise the same gradient, even after a call that left NaN
/// in every cached buffer.
#[test]
fn repeated_calls_reuse_the_tape_buffers_and_agree_bitwise() {
    use symgrad::tape::cache;
    let (movies, users, features) = (60, 50, 8); // 60 × 50 arrays: 24 kB, cached
    let wave = |k: usize| (k as f64 * 0.37).sin();
    let x = Array2::from_shape_fn((movies, features), |(i, k)| wave(i * features + k));
    let w = Array2::from_shape_fn((users, features), |(j, k)| wave(3 * j + k + 1));
    let b = Array2::from_shape_fn((1, users), |(_, j)| 0.1 * wave(j));
    let r = Array2::from_shape_fn((movies, users), |(i, j)| {
        f64::from((i * 7 + j * 3) % 5 == 0)
    });
    let y = Array2::from_shape_fn((movies, users), |(i, j)| {
        r[[i, j]] * (1.0 + (i + j) as f64 % 5.0)
    });
    let bits = |(cost, g): &(f64, CofiCostGrad)| {
        let mut all = vec![cost.to_bits()];
        all.extend(g.x.iter().chain(&g.w).chain(&g.b).map(|v| v.to_bits()));
        all
    };
    cache::clear();
    let cold = cofi_cost_grad(&x, &w, &b, &y, &r, 1.0);
    let nan = |a: &Array2<f64>| a.mapv(|_| f64::NAN);
    let poisoned = cofi_cost_grad(&nan(&x), &nan(&w), &nan(&b), &y, &r, 1.0);
    assert!(poisoned.0.is_nan());
    let before = cache::stats();
    let warm = cofi_cost_grad(&x, &w, &b, &y, &r, 1.0);
    assert!(
        cache::stats().hits > before.hits,
        "the second call reused buffers"
    );
    assert_eq!(bits(&warm), bits(&cold));
}

/// A view parameter read through `&x` and `x.view()`, as ndarray code reads views.
#[differentiable(wrt(x))]
#[allow(clippy::needless_pass_by_value)] // a view by value is the construct under test
fn view_energy(x: ArrayView2<f64>, w: &Array2<f64>) -> f64 {
    let v = x.view();
    0.5 * (&v * &v).sum() + (&x * 2.0).sum() + x.view().dot(w).sum()
}

#[test]
fn a_view_parameter_reads_through_references_and_view() {
    let x = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]];
    let w = array![[1.0, 0.5], [-2.0, 0.25], [0.125, 3.0]];
    let (value, g) = view_energy_grad(x.view(), &w);
    assert_relative_eq!(value, view_energy(x.view(), &w), max_relative = 1e-14);
    // ∂/∂x = x + 2 + (row sums of w, the same in every row)
    let want = &x + 2.0 + &w.sum_axis(Axis(1));
    assert!(
        (&g.x - &want).iter().all(|d| d.abs() < 1e-14),
        "{} vs {want}",
        g.x
    );
}
