//! The reverse-mode tape against hand-written ndarray gradients of the same costs (PEERS.md's W3
//! and W4), f64.
//!
//! - W3: seed 000's collaborative-filtering cost at the Coursera size (4778 movies × 443 users ×
//!   100 features, λ = 1, R ≈ 2 % ones). One value + gradient: tape, hand-written dense (the
//!   physical limit of the dense algorithm: `general_mat_mul`, buffers reused), hand-written
//!   sparse over the rated entries only (the algorithmic limit). And one Adam step
//!   (`Adam::keras(0.1)`, β = (0.9, 0.999), ε = 1e-7) = value + gradient + update of X, W, b.
//! - W4: softmax regression 256 × 784 → 10, mean cross-entropy from logits, gradient w.r.t. W and
//!   b: tape against hand-written.
//!
//! PEERS.md reports W3 as 200 Adam steps. 200 steps of the dense cost take 5–10 s, so criterion's
//! defaults (100 samples) would take minutes per variant: the `*_adam_step` benchmarks measure
//! **one** step, with the parameters and the optimizer state carried from iteration to iteration
//! (the dense cost does not depend on the values; the sparse one neither), and
//! `docs/bench-tape.md` reports per-step × 200.
//!
//! Each tape iteration records a fresh tape, as a training loop does; the tape's per-thread buffer
//! cache (`symgrad::tape::cache`) hands the previous iteration's buffers to the next.
//!
//! Run: `cargo bench --bench tape` (about a minute, after the build). Inputs are synthetic, from a fixed seed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Zip};
use symgrad::optim::{Adam, OptimizerExt};
use symgrad::tape::{Tape, dot};

#[path = "../tests/common/cofi.rs"]
mod cofi;

// ---- data

/// splitmix64: a tiny, fixed-seed generator (no `rand` dependency).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).expect("usize fits in u64");
        usize::try_from(self.next_u64() % n).expect("below n")
    }

    /// An array of uniform numbers in [lo, hi).
    fn array(&mut self, shape: (usize, usize), lo: f64, hi: f64) -> Array2<f64> {
        Array2::from_shape_simple_fn(shape, || lo + (hi - lo) * self.uniform())
    }
}

const MOVIES: usize = 4778;
const USERS: usize = 443;
const FEATURES: usize = 100;
const LAMBDA: f64 = 1.0;

/// Seed 000's inputs: parameters X (movies × features), W (users × features), b (1 × users);
/// ratings Y and the indicator R (movies × users, ≈ 2 % ones), and R's ones per movie.
struct Cofi {
    x: Array2<f64>,
    w: Array2<f64>,
    b: Array2<f64>,
    y: Array2<f64>,
    r: Array2<f64>,
    rated: Vec<Vec<usize>>,
}

fn cofi_data() -> Cofi {
    let mut rng = SplitMix(0);
    let x = rng.array((MOVIES, FEATURES), -0.5, 0.5);
    let w = rng.array((USERS, FEATURES), -0.5, 0.5);
    let b = rng.array((1, USERS), -0.5, 0.5);
    let r = Array2::from_shape_simple_fn((MOVIES, USERS), || {
        if rng.uniform() < 0.02 { 1.0 } else { 0.0 }
    });
    // Half-star ratings 0.5..=5 where rated, 0 elsewhere (the course's Y).
    let y = Array2::from_shape_fn((MOVIES, USERS), |ij| {
        r[ij] * 0.5 * (1.0 + (rng.uniform() * 10.0).floor())
    });
    let rated = r
        .rows()
        .into_iter()
        .map(|row| (0..USERS).filter(|&j| row[j] == 1.0).collect())
        .collect();
    Cofi {
        x,
        w,
        b,
        y,
        r,
        rated,
    }
}

// ---- W3 on the tape: the body of seed 000's `cofiCostFuncV`, as in the tape's docs

fn cofi_tape(
    x0: &Array2<f64>,
    w0: &Array2<f64>,
    b0: &Array2<f64>,
    d: &Cofi,
) -> (f64, Array2<f64>, Array2<f64>, Array2<f64>) {
    let tape = Tape::new();
    let (x, w, b) = (tape.watch(x0), tape.watch(w0), tape.watch(b0));
    let e = (x.dot(&w.t()) + &b - &d.y) * &d.r;
    let j = e.powi(2).sum() * 0.5 + (x.powi(2).sum() + w.powi(2).sum()) * (LAMBDA / 2.0);
    let mut grads = tape.gradient(&j);
    (j.item(), grads.take(&x), grads.take(&w), grads.take(&b))
}

// ---- W3 by hand, dense: the same algorithm with every buffer reused

/// Gradient buffers, and `e` for the residual `(X Wᵀ + b − Y) ∘ R`.
struct CofiGrad {
    e: Array2<f64>,
    x: Array2<f64>,
    w: Array2<f64>,
    b: Array2<f64>,
}

impl CofiGrad {
    fn new() -> Self {
        Self {
            e: Array2::zeros((MOVIES, USERS)),
            x: Array2::zeros((MOVIES, FEATURES)),
            w: Array2::zeros((USERS, FEATURES)),
            b: Array2::zeros((1, USERS)),
        }
    }
}

/// ∂J/∂X = E W + λX, ∂J/∂W = Eᵀ X + λW, ∂J/∂b = Σ_rows E; returns J.
fn cofi_dense(
    x: &Array2<f64>,
    w: &Array2<f64>,
    b: &Array2<f64>,
    d: &Cofi,
    g: &mut CofiGrad,
) -> f64 {
    general_mat_mul(1.0, x, &w.t(), 0.0, &mut g.e);
    // One pass over the residual: E = (X Wᵀ + b − Y) ∘ R, Σ E², and ∂b = Σ_rows E.
    let b_row = b.row(0);
    let mut gb = g.b.row_mut(0);
    gb.fill(0.0);
    let mut squares = 0.0;
    Zip::from(g.e.rows_mut())
        .and(d.y.rows())
        .and(d.r.rows())
        .for_each(|mut e, y, r| {
            Zip::from(&mut e)
                .and(&y)
                .and(&r)
                .and(&b_row)
                .and(&mut gb)
                .for_each(|e, &y, &r, &b, gb| {
                    *e = (*e + b - y) * r;
                    squares += *e * *e;
                    *gb += *e;
                });
        });
    g.x.assign(x);
    general_mat_mul(1.0, &g.e, w, LAMBDA, &mut g.x);
    g.w.assign(w);
    general_mat_mul(1.0, &g.e.t(), x, LAMBDA, &mut g.w);
    0.5 * squares + 0.5 * LAMBDA * (sum_squares(x) + sum_squares(w))
}

fn sum_squares(a: &Array2<f64>) -> f64 {
    a.fold(0.0, |s, &v| s + v * v)
}

// ---- W3 by hand, sparse: only the rated entries (the algorithmic limit)

fn cofi_sparse(
    x: &Array2<f64>,
    w: &Array2<f64>,
    b: &Array2<f64>,
    d: &Cofi,
    g: &mut CofiGrad,
) -> f64 {
    g.x.assign(x);
    g.x *= LAMBDA;
    g.w.assign(w);
    g.w *= LAMBDA;
    g.b.fill(0.0);
    let mut squares = 0.0;
    for (i, users) in d.rated.iter().enumerate() {
        let xi = x.row(i);
        let mut gxi = g.x.row_mut(i);
        for &j in users {
            let wj = w.row(j);
            let e = xi.dot(&wj) + b[[0, j]] - d.y[[i, j]];
            squares += e * e;
            gxi.scaled_add(e, &wj);
            g.w.row_mut(j).scaled_add(e, &xi);
            g.b[[0, j]] += e;
        }
    }
    0.5 * squares + 0.5 * LAMBDA * (sum_squares(x) + sum_squares(w))
}

// ---- W3 with `#[differentiable]`: the cost as a loop over the rated entries (sparse for free)
// is `cofi::cofi_sparse`, in `tests/common/cofi.rs`, shared with `tests/tape_macro.rs`.

// ---- W3: one Adam step (value + gradient + update), one optimizer per parameter array

struct Trainer {
    x: Array2<f64>,
    w: Array2<f64>,
    b: Array2<f64>,
    opt: [Adam; 3],
}

impl Trainer {
    fn new(d: &Cofi) -> Self {
        Self {
            x: d.x.clone(),
            w: d.w.clone(),
            b: d.b.clone(),
            opt: [Adam::keras(0.1), Adam::keras(0.1), Adam::keras(0.1)],
        }
    }

    fn apply(&mut self, gx: &Array2<f64>, gw: &Array2<f64>, gb: &Array2<f64>) {
        let [ox, ow, ob] = &mut self.opt;
        ox.try_step_array(&mut self.x, gx).expect("X step");
        ow.try_step_array(&mut self.w, gw).expect("W step");
        ob.try_step_array(&mut self.b, gb).expect("b step");
    }
}

fn bench_cofi(c: &mut Criterion) {
    let d = cofi_data();
    let mut g = c.benchmark_group("w3_cofi");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    // The three gradients agree before anything is timed.
    let mut buf = CofiGrad::new();
    let (j_tape, gx, gw, gb) = cofi_tape(&d.x, &d.w, &d.b, &d);
    let j_dense = cofi_dense(&d.x, &d.w, &d.b, &d, &mut buf);
    check(
        "W3 dense",
        j_tape,
        j_dense,
        [&gx, &gw, &gb],
        [&buf.x, &buf.w, &buf.b],
    );
    let j_sparse = cofi_sparse(&d.x, &d.w, &d.b, &d, &mut buf);
    check(
        "W3 sparse",
        j_tape,
        j_sparse,
        [&gx, &gw, &gb],
        [&buf.x, &buf.w, &buf.b],
    );

    let (rows, cols, ratings) = cofi::rated_entries(&d.y, &d.r);
    let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<f64>>();
    let (fx, fw, fb) = (flat(&d.x), flat(&d.w), flat(&d.b));
    let (j_loop, gl) =
        cofi::cofi_sparse_grad(&fx, &fw, &fb, &rows, &cols, &ratings, FEATURES, LAMBDA);
    assert!(
        (j_loop - j_tape).abs() <= 1e-9 * j_tape.abs(),
        "W3 loop: {j_loop} vs {j_tape}"
    );
    let worst =
        gl.x.iter()
            .zip(gx.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
    assert!(worst <= 1e-9, "W3 loop: ∂X differs by {worst}");
    g.bench_function("symgrad_loop_sparse", |bch| {
        bch.iter(|| {
            black_box(cofi::cofi_sparse_grad(
                black_box(&fx),
                &fw,
                &fb,
                &rows,
                &cols,
                &ratings,
                FEATURES,
                LAMBDA,
            ))
        });
    });
    g.bench_function("tape", |bch| {
        bch.iter(|| black_box(cofi_tape(black_box(&d.x), &d.w, &d.b, &d)));
    });
    g.bench_function("hand_dense", |bch| {
        bch.iter(|| black_box(cofi_dense(black_box(&d.x), &d.w, &d.b, &d, &mut buf)));
    });
    g.bench_function("hand_sparse", |bch| {
        bch.iter(|| black_box(cofi_sparse(black_box(&d.x), &d.w, &d.b, &d, &mut buf)));
    });

    let mut t = Trainer::new(&d);
    g.bench_function("tape_adam_step", |bch| {
        bch.iter(|| {
            let (j, gx, gw, gb) = cofi_tape(&t.x, &t.w, &t.b, &d);
            t.apply(&gx, &gw, &gb);
            black_box(j)
        });
    });
    let mut t = Trainer::new(&d);
    g.bench_function("hand_dense_adam_step", |bch| {
        bch.iter(|| {
            let j = cofi_dense(&t.x, &t.w, &t.b, &d, &mut buf);
            t.apply(&buf.x, &buf.w, &buf.b);
            black_box(j)
        });
    });
    let mut t = Trainer::new(&d);
    g.bench_function("hand_sparse_adam_step", |bch| {
        bch.iter(|| {
            let j = cofi_sparse(&t.x, &t.w, &t.b, &d, &mut buf);
            t.apply(&buf.x, &buf.w, &buf.b);
            black_box(j)
        });
    });
    g.finish();
}

// ---- W4: softmax regression 256 × 784 → 10

const SAMPLES: usize = 256;
const INPUTS: usize = 784;
const CLASSES: usize = 10;

struct Softmax {
    x: Array2<f64>,
    w: Array2<f64>,
    b: Array1<f64>,
    onehot: Array2<f64>,
}

fn softmax_data() -> Softmax {
    let mut rng = SplitMix(2);
    let x = rng.array((SAMPLES, INPUTS), 0.0, 1.0);
    let w = rng.array((INPUTS, CLASSES), -0.05, 0.05);
    let b = Array1::from_shape_simple_fn(CLASSES, || 0.1 * rng.uniform());
    let mut onehot = Array2::zeros((SAMPLES, CLASSES));
    for mut row in onehot.rows_mut() {
        row[rng.below(CLASSES)] = 1.0;
    }
    Softmax { x, w, b, onehot }
}

fn softmax_tape(d: &Softmax) -> (f64, Array2<f64>, Array1<f64>) {
    let tape = Tape::new();
    let (w, b) = (tape.watch(&d.w), tape.watch(&d.b));
    let loss = (dot(&d.x, &w) + &b).cross_entropy_with_logits(&d.onehot);
    let mut grads = tape.gradient(&loss);
    (loss.item(), grads.take(&w), grads.take(&b))
}

/// `dz` holds the logits, then `(softmax(z) − y)/n`; `w`, `b` the gradients.
struct SoftmaxGrad {
    dz: Array2<f64>,
    w: Array2<f64>,
    b: Array1<f64>,
}

/// loss = mean(logsumexp(z) − z_y), ∂/∂z = (softmax(z) − y)/n, ∂W = xᵀ dz, ∂b = Σ_rows dz.
fn softmax_hand(d: &Softmax, g: &mut SoftmaxGrad) -> f64 {
    let n = SAMPLES as f64;
    g.dz.assign(&d.b);
    general_mat_mul(1.0, &d.x, &d.w, 1.0, &mut g.dz);
    let mut loss = 0.0;
    Zip::from(g.dz.rows_mut())
        .and(d.onehot.rows())
        .for_each(|mut z, y| {
            let m = z.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let mut total = 0.0;
            z.mapv_inplace(|v| {
                let e = (v - m).exp();
                total += e;
                e
            });
            // z now holds e^(z − m); log-sum-exp − z_y = ln(total) − ln(e^(z_y − m)).
            let picked = z.dot(&y);
            loss += total.ln() - picked.ln();
            Zip::from(&mut z)
                .and(&y)
                .for_each(|p, &y| *p = (*p / total - y) / n);
        });
    general_mat_mul(1.0, &d.x.t(), &g.dz, 0.0, &mut g.w);
    g.b.fill(0.0);
    for row in g.dz.rows() {
        g.b += &row;
    }
    loss / n
}

fn bench_softmax(c: &mut Criterion) {
    let d = softmax_data();
    let mut buf = SoftmaxGrad {
        dz: Array2::zeros((SAMPLES, CLASSES)),
        w: Array2::zeros((INPUTS, CLASSES)),
        b: Array1::zeros(CLASSES),
    };
    let (loss, gw, gb) = softmax_tape(&d);
    let loss_hand = softmax_hand(&d, &mut buf);
    check("W4", loss, loss_hand, [&gw], [&buf.w]);
    assert!((&gb - &buf.b).iter().all(|v| v.abs() < 1e-12), "W4 ∂b");

    let mut g = c.benchmark_group("w4_softmax");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("tape", |bch| {
        bch.iter(|| black_box(softmax_tape(black_box(&d))));
    });
    g.bench_function("hand", |bch| {
        bch.iter(|| black_box(softmax_hand(black_box(&d), &mut buf)));
    });
    g.finish();
}

/// Panics unless the values and the gradients agree to 1e-9 relative.
fn check<const N: usize>(what: &str, a: f64, b: f64, ga: [&Array2<f64>; N], gb: [&Array2<f64>; N]) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
    assert!(close(a, b), "{what}: value {a} vs {b}");
    for (k, (ga, gb)) in ga.into_iter().zip(gb).enumerate() {
        let ok = Zip::from(ga).and(gb).all(|&a, &b| close(a, b));
        assert!(ok, "{what}: gradient {k} differs");
    }
}

criterion_group!(benches, bench_cofi, bench_softmax);
criterion_main!(benches);
