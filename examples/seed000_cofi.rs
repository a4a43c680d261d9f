//! Seed 000 ("在 TensorFlow 中的完整实现"): the collaborative-filtering training loop
//!
//! ```python
//! optimizer = tf.keras.optimizers.Adam(learning_rate=0.1)
//! iterations = 200
//! for iter in range(iterations):
//!     with tf.GradientTape() as tape:
//!         cost_value = cofiCostFuncV(X, W, b, Ynorm, R, num_users, num_movies, lambda_)
//!     grads = tape.gradient(cost_value, [X, W, b])
//!     optimizer.apply_gradients(zip(grads, [X, W, b]))
//! ```
//!
//! with `J = ½ Σ ((X Wᵀ + b − Y) ∘ R)² + λ/2 (Σ X² + Σ W²)` recorded on symgrad's tape and
//! `Adam::keras(0.1)`, at the course's size: 4778 movies × 443 users × 100 features, λ = 1.
//!
//! The course's MovieLens ratings are replaced by synthetic ones from a fixed seed: a rank-5 "true"
//! taste matrix plus noise, rounded to half stars in 0.5..=5, of which about 2 % are observed (R).
//! Y is normalized by each movie's mean over its rated entries, like the course's
//! `normalizeRatings`; X, W, b start from standard normal draws like its `tf.random.normal`.
//!
//! X, W and b are flattened into one parameter vector for the training loop ([`Minimizer`]);
//! Adam is elementwise with one step counter, so this is exactly Keras's one optimizer with a slot
//! per variable. The tape watches views of that vector (no copies).
//!
//! At the end, the predictions `X Wᵀ + b + mean` are compared with the noiseless true ratings, on
//! the rated entries (fit) and on the others (what a recommender is for), against the baseline that
//! predicts each movie's mean, and user 0 gets the course's "top predictions". With 100 features,
//! λ = 1 and about 9 ratings per movie, 200 steps fit the rated entries better than the baseline
//! but not the unrated ones (RMSE); the ranking carries the signal (the top picks' true ratings).
//!
//! Before training, the cost is also written the other way: as a `#[differentiable]` loop over
//! the rated entries only (`rows[t]`, `cols[t]`, `ratings[t]`), the scalar macro's loops, so that
//! its gradient touches only what the sum reads — sparse automatically, about 2 % of the dense
//! work. Both forms are evaluated at the starting point: the example prints both costs, the
//! largest difference between the two gradients (and stops if they disagree), and the time of
//! one value + gradient of each.
//!
//! Run: `cargo run --release --example seed000_cofi` (about 15 s on 2 cores: 200 × ~65 ms);
//! add `--features progress` for an indicatif bar below the loss lines.

use std::time::{Duration, Instant};

use ndarray::{Array2, ArrayView2, Axis, Zip};
use symgrad::differentiable;
use symgrad::optim::Adam;
use symgrad::tape::Tape;
use symgrad::train::Minimizer;

const MOVIES: usize = 4778;
const USERS: usize = 443;
const FEATURES: usize = 100;
const TRUE_RANK: usize = 5;
const LAMBDA: f64 = 1.0;
const ITERATIONS: u64 = 200;

/// splitmix64, a tiny fixed-seed generator, with Box–Muller normals.
struct Rng(u64);

impl Rng {
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

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // (0, 1]: ln(u) is finite
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }

    fn normals(&mut self, shape: (usize, usize), scale: f64) -> Array2<f64> {
        Array2::from_shape_simple_fn(shape, || scale * self.normal())
    }
}

/// The ratings: `truth` (noiseless, for the final comparison), `y` (observed half-star ratings
/// where `r` is 1, 0 elsewhere) and `r` (≈ 2 % ones, at least one per movie).
struct Ratings {
    truth: Array2<f64>,
    y: Array2<f64>,
    r: Array2<f64>,
}

fn synthetic_ratings(rng: &mut Rng) -> Ratings {
    let movies = rng.normals((MOVIES, TRUE_RANK), 0.5);
    let users = rng.normals((USERS, TRUE_RANK), 0.5);
    let movie_bias = rng.normals((MOVIES, 1), 0.6);
    let truth = (movies.dot(&users.t()) + movie_bias + 3.2).mapv(|v| v.clamp(0.5, 5.0));
    let mut r = Array2::from_shape_simple_fn((MOVIES, USERS), || {
        if rng.uniform() < 0.02 { 1.0 } else { 0.0 }
    });
    for mut row in r.rows_mut() {
        if row.sum() == 0.0 {
            let user = usize::try_from(rng.next_u64() % USERS as u64).expect("below USERS");
            row[user] = 1.0;
        }
    }
    let y = Zip::from(&truth).and(&r).map_collect(|&t, &r| {
        let noisy = (t + 0.5 * rng.normal()).clamp(0.5, 5.0);
        r * (2.0 * noisy).round() / 2.0
    });
    Ratings { truth, y, r }
}

/// The course's `normalizeRatings`: each movie's mean over its rated entries, and `Y − mean` there.
fn normalize_ratings(y: &Array2<f64>, r: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let counts = r.sum_axis(Axis(1)).insert_axis(Axis(1));
    let mean = (y * r).sum_axis(Axis(1)).insert_axis(Axis(1)) / (counts + 1e-12);
    let ynorm = y - &(&mean * r);
    (ynorm, mean)
}

/// `cofiCostFuncV` and its gradient on the tape, with X, W, b read in place from the flat
/// parameter vector `p = [X…, W…, b…]`; the gradient comes back flat in the same order.
fn cofi_cost_grad(p: &[f64], ynorm: &Array2<f64>, r: &Array2<f64>) -> (f64, Vec<f64>) {
    let (x0, w0, b0) = split(p);
    let tape = Tape::new();
    let (x, w, b) = (tape.watch(x0), tape.watch(w0), tape.watch(b0));
    let e = (x.dot(&w.t()) + &b - ynorm) * r;
    let j = e.powi(2).sum() * 0.5 + (x.powi(2).sum() + w.powi(2).sum()) * (LAMBDA / 2.0);
    let mut grads = tape.gradient(&j);
    let mut flat = Vec::with_capacity(p.len());
    for g in [grads.take(&x), grads.take(&w), grads.take(&b)] {
        flat.extend_from_slice(g.as_slice().expect("a fresh gradient is contiguous"));
    }
    (j.item(), flat)
}

/// The same cost as a loop over the rated entries only: entry `t` is movie `rows[t]`, user
/// `cols[t]`, normalized rating `ratings[t]`. X, W, b are the flat parameter vector's parts
/// (row-major), read in place.
#[differentiable(wrt(x, w, b))]
#[allow(clippy::too_many_arguments)] // the tutorial's argument list, in sparse form
fn cofi_sparse(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    rows: &[usize],
    cols: &[usize],
    ratings: &[f64],
    features: usize,
    lambda: f64,
) -> f64 {
    let mut j = 0.0;
    for t in 0..rows.len() {
        let m = rows[t];
        let u = cols[t];
        let mut p = 0.0;
        for k in 0..features {
            p += x[m * features + k] * w[u * features + k];
        }
        let e = p + b[u] - ratings[t];
        j += 0.5 * e * e;
    }
    let reg = x.iter().map(|v| v * v).sum::<f64>() + w.iter().map(|v| v * v).sum::<f64>();
    j + lambda / 2.0 * reg
}

/// The rated entries of `ynorm` (where `r` is 1), as the sparse form's three lists.
fn rated_entries(ynorm: &Array2<f64>, r: &Array2<f64>) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let (mut rows, mut cols, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
    for ((m, u), &rated) in r.indexed_iter() {
        if rated == 1.0 {
            rows.push(m);
            cols.push(u);
            ratings.push(ynorm[[m, u]]);
        }
    }
    (rows, cols, ratings)
}

/// The median time of `runs` calls of `f`, and the last call's result.
fn timed<R>(runs: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut times = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let start = Instant::now();
        result = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    let result = result.expect("at least one run");
    (times[runs / 2], result)
}

/// Both forms of the cost at `p`: their values, the largest difference between their gradients
/// (an error if it is not at rounding level), and the time of one value + gradient of each.
fn compare_forms(p: &[f64], ynorm: &Array2<f64>, r: &Array2<f64>) -> Result<(), String> {
    let (rows, cols, ratings) = rated_entries(ynorm, r);
    let (x, rest) = p.split_at(MOVIES * FEATURES);
    let (w, b) = rest.split_at(USERS * FEATURES);
    let (dense_time, (j_dense, dense)) = timed(5, || cofi_cost_grad(p, ynorm, r));
    let (sparse_time, (j_sparse, sparse)) = timed(5, || {
        cofi_sparse_grad(x, w, b, &rows, &cols, &ratings, FEATURES, LAMBDA)
    });
    let sparse = sparse.x.iter().chain(&sparse.w).chain(&sparse.b);
    let worst = dense
        .iter()
        .zip(sparse)
        .map(|(d, s)| (d - s).abs())
        .fold(0.0, f64::max);
    let largest = dense.iter().fold(0.0, |m: f64, g| m.max(g.abs()));
    let ms = |t: Duration| 1e3 * t.as_secs_f64();
    let dense_label = format!("dense, on the tape ({MOVIES} × {USERS}, masked by R)");
    let sparse_label = format!("sparse, a loop over the {} rated entries", rows.len());
    println!("\nThe cost two ways, at the starting point (per value + gradient):");
    println!(
        "  {dense_label:<44} J = {j_dense:.6e}  {:>6.1} ms",
        ms(dense_time)
    );
    println!(
        "  {sparse_label:<44} J = {j_sparse:.6e}  {:>6.1} ms ({:.0}× faster)",
        ms(sparse_time),
        dense_time.as_secs_f64() / sparse_time.as_secs_f64()
    );
    println!(
        "  largest gradient difference: {worst:.1e} (largest gradient component: {largest:.1e})\n"
    );
    let agree = (j_dense - j_sparse).abs() <= 1e-12 * j_dense.abs() && worst <= 1e-12 * largest;
    if agree {
        Ok(())
    } else {
        Err(format!(
            "the two forms disagree: J {j_dense} vs {j_sparse}, gradients by {worst}"
        ))
    }
}

/// X (movies × features), W (users × features), b (1 × users) as views of the flat vector.
fn split(
    p: &[f64],
) -> (
    ArrayView2<'_, f64>,
    ArrayView2<'_, f64>,
    ArrayView2<'_, f64>,
) {
    let (x, rest) = p.split_at(MOVIES * FEATURES);
    let (w, b) = rest.split_at(USERS * FEATURES);
    let view = |shape, s| ArrayView2::from_shape(shape, s).expect("parameter vector layout");
    (
        view((MOVIES, FEATURES), x),
        view((USERS, FEATURES), w),
        view((1, USERS), b),
    )
}

/// Root-mean-square error of `pred` against `truth` where `mask` is 1 (`pick`) or 0 (`!pick`).
fn rmse(pred: &Array2<f64>, truth: &Array2<f64>, r: &Array2<f64>, pick: bool) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    Zip::from(pred).and(truth).and(r).for_each(|&p, &t, &r| {
        if (r == 1.0) == pick {
            sum += (p - t) * (p - t);
            count += 1;
        }
    });
    (sum / count as f64).sqrt()
}

fn main() {
    let mut rng = Rng(1234);
    let data = synthetic_ratings(&mut rng);
    let (ynorm, mean) = normalize_ratings(&data.y, &data.r);
    println!(
        "{MOVIES} movies × {USERS} users, {FEATURES} features, λ = {LAMBDA}; {} ratings ({:.2} % of Y)",
        data.r.sum(),
        100.0 * data.r.mean().unwrap_or(0.0)
    );

    // X, W, b = tf.Variable(tf.random.normal(...)), flattened as [X…, W…, b…].
    let mut params: Vec<f64> = (0..(MOVIES + USERS) * FEATURES + USERS)
        .map(|_| rng.normal())
        .collect();
    if let Err(error) = compare_forms(&params, &ynorm, &data.r) {
        eprintln!("{error}");
        std::process::exit(1);
    }

    let start = std::time::Instant::now();
    let report = Minimizer::new(Adam::keras(0.1))
        .max_steps(ITERATIONS)
        // With the `progress` feature, an indicatif bar below the loss lines; without it, the
        // loss lines every 20 steps are the progress (the loop's own plain lines would repeat them).
        .progress(cfg!(feature = "progress"))
        .callback(|info| {
            if info.step % 20 == 0 && info.step < ITERATIONS {
                println!(
                    "Training loss at iteration {}: {:0.1}",
                    info.step, info.loss
                );
            }
        })
        .run(&mut params, |p| cofi_cost_grad(p, &ynorm, &data.r));
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            eprintln!("training failed: {error}");
            std::process::exit(1);
        }
    };
    let elapsed = start.elapsed();
    println!(
        "\n{report}\n{:.1} s, {:.1} ms per value + gradient + Adam step",
        elapsed.as_secs_f64(),
        1e3 * elapsed.as_secs_f64() / (report.steps + 1) as f64
    );

    let (x, w, b) = split(&params);
    let pred = x.dot(&w.t()) + b + &mean;
    let baseline = Array2::from_shape_fn((MOVIES, USERS), |(i, _)| mean[[i, 0]]);
    println!("\nRMSE against the noiseless true ratings:");
    println!("                     trained   movie mean");
    for (label, pick) in [("rated entries", true), ("unrated entries", false)] {
        println!(
            "  {label:<17} {:>9.3} {:>12.3}",
            rmse(&pred, &data.truth, &data.r, pick),
            rmse(&baseline, &data.truth, &data.r, pick)
        );
    }
    top_picks(&pred, &data.truth, &data.r);
}

/// The course ends with recommendations for one user: here user 0's five highest predicted
/// ratings among the movies they have not rated, with the true rating beside each.
fn top_picks(pred: &Array2<f64>, truth: &Array2<f64>, r: &Array2<f64>) {
    let user = 0;
    let mut unrated: Vec<usize> = (0..MOVIES).filter(|&i| r[[i, user]] == 0.0).collect();
    unrated.sort_by(|&a, &b| pred[[b, user]].total_cmp(&pred[[a, user]]));
    println!("\nTop predictions for user {user} (movies they have not rated):");
    for &movie in &unrated[..5] {
        println!(
            "  Predicting rating {:0.2} for movie {movie} (true rating {:0.2})",
            pred[[movie, user]],
            truth[[movie, user]]
        );
    }
    let ranked: Vec<f64> = unrated.iter().map(|&i| truth[[i, user]]).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "  true mean rating of the top 50 predicted: {:.2} (of all unrated: {:.2})",
        mean(&ranked[..50]),
        mean(&ranked)
    );
}
