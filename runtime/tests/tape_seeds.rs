//! The seed tutorials' matrix losses on the tape, against their hand-derived gradients.
//!
//! - Seed 000: the collaborative-filtering cost
//!   `J = ½ Σ ((X Wᵀ + b − Y) ∘ R)² + λ/2 (Σ X² + Σ W²)`.
//! - Seed 002: `tf.reduce_mean(tf.losses.MSE(one_hot, softmax(x@w + b, axis=1)))` and the mean
//!   cross-entropy from logits.
//!
//! f64 gradients agree with the formulas to 1e-12 (relative to the largest entry); f32 is a
//! sanity check at 1e-4.

use ndarray::{Array1, Array2, Axis, array};
use symgrad_runtime::tape::{Tape, TapeFloat, dot};

/// Deterministic numbers in [lo, hi).
fn uniform<T: TapeFloat>(rows: usize, cols: usize, seed: u64, lo: f64, hi: f64) -> Array2<T> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    Array2::from_shape_fn((rows, cols), |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        T::from(lo + (hi - lo) * ((state >> 11) as f64 / (1u64 << 53) as f64)).unwrap()
    })
}

/// Asserts `|actual − expected| ≤ tol · max(1, max |expected|)` elementwise.
#[track_caller]
fn assert_close<T: TapeFloat, D: ndarray::Dimension>(
    actual: &ndarray::Array<T, D>,
    expected: &ndarray::Array<T, D>,
    tol: f64,
) {
    assert_eq!(actual.shape(), expected.shape());
    let scale = expected.fold(T::one(), |m, &v| m.max(v.abs()));
    let tol = T::from(tol).unwrap() * scale;
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            (*a - *e).abs() <= tol,
            "tape {a} vs formula {e} (tolerance {tol})"
        );
    }
}

// ---------------------------------------------------------------- seed 000: collaborative filtering

struct Cofi<T> {
    x: Array2<T>,
    w: Array2<T>,
    b: Array2<T>,
    y: Array2<T>,
    r: Array2<T>,
    lambda: T,
}

fn cofi_problem<T: TapeFloat>(movies: usize, users: usize, features: usize) -> Cofi<T> {
    Cofi {
        x: uniform(movies, features, 1, -1.0, 1.0),
        w: uniform(users, features, 2, -1.0, 1.0),
        b: uniform(1, users, 3, -0.5, 0.5),
        y: uniform(movies, users, 4, 0.0, 5.0),
        r: uniform::<T>(movies, users, 5, 0.0, 1.0).mapv(|u| {
            if u < T::from(0.4).unwrap() {
                T::one()
            } else {
                T::zero()
            }
        }),
        lambda: T::from(1.5).unwrap(),
    }
}

/// The hand-derived gradient: with E = (XWᵀ + b − Y) ∘ R,
/// ∂J/∂X = E W + λX, ∂J/∂W = Eᵀ X + λW, ∂J/∂b = Σ_rows E.
fn cofi_by_hand<T: TapeFloat>(p: &Cofi<T>) -> (T, Array2<T>, Array2<T>, Array2<T>) {
    let e = (p.x.dot(&p.w.t()) + &p.b - &p.y) * &p.r;
    let half = T::from(0.5).unwrap();
    let j = half * e.mapv(|v| v * v).sum()
        + half * p.lambda * (p.x.mapv(|v| v * v).sum() + p.w.mapv(|v| v * v).sum());
    let dx = e.dot(&p.w) + &p.x * p.lambda;
    let dw = e.t().dot(&p.x) + &p.w * p.lambda;
    let db = e.sum_axis(Axis(0)).insert_axis(Axis(0));
    (j, dx, dw, db)
}

/// Seed 000's `cofiCostFuncV`, written against the tape the way the TensorFlow version is.
fn cofi_on_tape<T: TapeFloat>(p: &Cofi<T>) -> (T, Array2<T>, Array2<T>, Array2<T>) {
    let tape = Tape::new();
    let (x, w, b) = (tape.watch(&p.x), tape.watch(&p.w), tape.watch(&p.b));
    let half = T::from(0.5).unwrap();
    let e = (x.dot(&w.t()) + &b - &p.y) * &p.r;
    let j = e.powi(2).sum().mul_scalar(half)
        + (x.powi(2).sum() + w.powi(2).sum()).mul_scalar(half * p.lambda);
    let grads = tape.gradient(&j);
    (j.item(), grads.wrt(&x), grads.wrt(&w), grads.wrt(&b))
}

#[test]
fn seed_000_cofi_gradient_matches_the_hand_derived_formula_f64() {
    let p = cofi_problem::<f64>(9, 7, 4);
    let (j, dx, dw, db) = cofi_on_tape(&p);
    let (j_ref, dx_ref, dw_ref, db_ref) = cofi_by_hand(&p);
    assert!((j - j_ref).abs() <= 1e-12 * j_ref.abs());
    assert_close(&dx, &dx_ref, 1e-12);
    assert_close(&dw, &dw_ref, 1e-12);
    assert_close(&db, &db_ref, 1e-12);
}

#[test]
fn seed_000_cofi_gradient_matches_the_hand_derived_formula_f32() {
    let p = cofi_problem::<f32>(9, 7, 4);
    let (j, dx, dw, db) = cofi_on_tape(&p);
    let (j_ref, dx_ref, dw_ref, db_ref) = cofi_by_hand(&p);
    assert!((j - j_ref).abs() <= 1e-5 * j_ref.abs());
    assert_close(&dx, &dx_ref, 1e-4);
    assert_close(&dw, &dw_ref, 1e-4);
    assert_close(&db, &db_ref, 1e-4);
}

#[test]
fn seed_000_cofi_with_a_vector_bias_broadcasts_like_ndarray() {
    // b as an Array1 of length `users` broadcasts over the movie rows exactly like the 1×users
    // matrix; its gradient is the row sum as a vector.
    let p = cofi_problem::<f64>(6, 5, 3);
    let b1: Array1<f64> = p.b.row(0).to_owned();
    let tape = Tape::new();
    let (x, w, b) = (tape.watch(&p.x), tape.watch(&p.w), tape.watch(&b1));
    let e = (dot(&x, &w.t()) + &b - &p.y) * &p.r;
    let j = e.powi(2).sum() * 0.5 + (x.powi(2).sum() + w.powi(2).sum()) * (p.lambda / 2.0);
    let (_, _, _, db_ref) = cofi_by_hand(&p);
    assert_close(&tape.gradient(&j).wrt(&b), &db_ref.row(0).to_owned(), 1e-12);
}

// ---------------------------------------------------------------- seed 002: softmax losses

struct Softmax<T> {
    x: Array2<T>,
    w: Array2<T>,
    b: Array1<T>,
    onehot: Array2<T>,
}

/// `x = random.normal([2, 4])`, `w = random.normal([4, 3])`, `b = zeros([3])`, `y = [2, 0]`
/// (b is made nonzero here so its gradient is not trivially symmetric).
fn softmax_problem<T: TapeFloat>() -> Softmax<T> {
    let t = |v: f64| T::from(v).unwrap();
    Softmax {
        x: uniform(2, 4, 11, -2.0, 2.0),
        w: uniform(4, 3, 12, -2.0, 2.0),
        b: array![t(0.1), t(-0.2), t(0.05)],
        onehot: array![[t(0.0), t(0.0), t(1.0)], [t(1.0), t(0.0), t(0.0)]],
    }
}

fn softmax_rows<T: TapeFloat>(z: &Array2<T>) -> Array2<T> {
    let mut p = z.clone();
    for mut row in p.rows_mut() {
        let m = row.fold(T::neg_infinity(), |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    p
}

/// dW = xᵀ dz, db = Σ_rows dz.
fn through_linear<T: TapeFloat>(x: &Array2<T>, dz: &Array2<T>) -> (Array2<T>, Array1<T>) {
    (x.t().dot(dz), dz.sum_axis(Axis(0)))
}

/// MSE of softmax: L = Σ (p − y)² / (n c), dL/dp = 2 (p − y) / (n c),
/// dz = p ∘ (dp − Σ_j dp ∘ p) (the softmax Jacobian pᵢ(δᵢⱼ − pⱼ)).
fn softmax_mse_by_hand<T: TapeFloat>(s: &Softmax<T>) -> (Array2<T>, Array1<T>) {
    let p = softmax_rows(&(s.x.dot(&s.w) + &s.b));
    let (n, c) = p.dim();
    let dp = (&p - &s.onehot) * T::from(2.0 / (n * c) as f64).unwrap();
    let inner = (&dp * &p).sum_axis(Axis(1)).insert_axis(Axis(1));
    let dz = &p * &(dp - inner);
    through_linear(&s.x, &dz)
}

/// Cross-entropy from logits: dz = (softmax(z) − y) / n.
fn cross_entropy_by_hand<T: TapeFloat>(s: &Softmax<T>) -> (Array2<T>, Array1<T>) {
    let p = softmax_rows(&(s.x.dot(&s.w) + &s.b));
    let dz = (p - &s.onehot) / T::from(s.x.nrows() as f64).unwrap();
    through_linear(&s.x, &dz)
}

#[test]
fn seed_002_softmax_mse_matches_the_hand_derived_formula() {
    let s = softmax_problem::<f64>();
    let (dw_ref, db_ref) = softmax_mse_by_hand(&s);
    let tape = Tape::new();
    let (w, b) = (tape.watch(&s.w), tape.watch(&s.b));
    let prob = (dot(&s.x, &w) + &b).softmax(Axis(1));
    // tf.reduce_mean(tf.losses.MSE(onehot, prob)): MSE over the last axis, then the mean of rows.
    let as_in_tf = (&prob - &s.onehot).powi(2).mean_axis(Axis(1)).mean();
    let helper = prob.mse(&s.onehot);
    assert!((as_in_tf.item() - helper.item()).abs() < 1e-15);
    for loss in [as_in_tf, helper] {
        let grads = tape.gradient(&loss);
        assert_close(&grads.wrt(&w), &dw_ref, 1e-12);
        assert_close(&grads.wrt(&b), &db_ref, 1e-12);
    }
}

#[test]
fn seed_002_cross_entropy_from_logits_matches_the_hand_derived_formula() {
    let s = softmax_problem::<f64>();
    let (dw_ref, db_ref) = cross_entropy_by_hand(&s);
    let tape = Tape::new();
    let (w, b) = (tape.watch(&s.w), tape.watch(&s.b));
    let logits = dot(&s.x, &w) + &b;
    let helper = logits.cross_entropy_with_logits(&s.onehot);
    // The PRODUCT.md spelling: log Σ exp minus the picked logit, averaged over rows.
    let lse = logits.exp().sum_axis(Axis(1)).ln();
    let picked = (&logits * &s.onehot).sum_axis(Axis(1));
    let spelled_out = (lse - &picked).sum() / s.x.nrows() as f64;
    let stable = (logits.log_sum_exp(Axis(1)) - picked).mean();
    assert!((helper.item() - spelled_out.item()).abs() < 1e-14);
    assert!((helper.item() - stable.item()).abs() < 1e-14);
    for loss in [helper, spelled_out, stable] {
        let grads = tape.gradient(&loss);
        assert_close(&grads.wrt(&w), &dw_ref, 1e-12);
        assert_close(&grads.wrt(&b), &db_ref, 1e-12);
    }
}

#[test]
fn seed_002_losses_in_f32() {
    let s = softmax_problem::<f32>();
    let tape = Tape::new();
    let (w, b) = (tape.watch(&s.w), tape.watch(&s.b));
    let logits = dot(&s.x, &w) + &b;
    let grads = tape.gradient(&logits.cross_entropy_with_logits(&s.onehot));
    let (dw_ref, db_ref) = cross_entropy_by_hand(&s);
    assert_close(&grads.wrt(&w), &dw_ref, 1e-5);
    assert_close(&grads.wrt(&b), &db_ref, 1e-5);
    let grads = tape.gradient(&logits.softmax(Axis(1)).mse(&s.onehot));
    let (dw_ref, db_ref) = softmax_mse_by_hand(&s);
    assert_close(&grads.wrt(&w), &dw_ref, 1e-5);
    assert_close(&grads.wrt(&b), &db_ref, 1e-5);
}

#[test]
fn seed_002_sigmoid_gradient_over_linspace() {
    // `a = tf.linspace(-10., 10, 10); y = tf.sigmoid(a); tape.gradient(&y, [a])`.
    let a = Array1::linspace(-10.0_f64, 10.0, 10);
    let tape = Tape::new();
    let v = tape.watch(&a);
    let grads = tape.gradient(&v.sigmoid());
    let expected = a.mapv(|x| {
        let s = 1.0 / (1.0 + (-x).exp());
        s * (1.0 - s)
    });
    assert_close(&grads.wrt(&v), &expected, 1e-15);
    // TensorFlow's printed float32 values agree to float32-sigmoid precision (TF's own float32
    // sigmoid is off by ~2e-4 relative near ±10).
    let tf = [
        4.538_687_4e-5,
        4.186_068_5e-4,
        3.836_225_5e-3,
        3.325_875_1e-2,
        1.863_264_9e-1,
        1.863_264_1e-1,
        3.325_869_9e-2,
        3.836_225_5e-3,
        4.185_473_1e-4,
        4.541_667_7e-5,
    ];
    for (g, t) in grads.wrt(&v).iter().zip(tf) {
        assert!((g - t).abs() <= 1e-3 * t, "{g} vs TensorFlow's {t}");
    }
}
