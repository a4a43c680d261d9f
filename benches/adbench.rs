//! ADBench's objectives as the C++ reference writes them, the time of their derivative divided
//! by the time of the objective alone, the ratio ADBench publishes (Srajer et al. 2018):
//!
//! - GMM (`benches/common/adbench_gmm.rs`), gradient ÷ objective, at some of ADBench's sizes (d
//!   dimensions, k components, n = 1000 points); published: manual 1.9–7.2, Tapenade 3.7–15.5.
//! - BA (`benches/common/adbench_ba.rs`), Jacobian ÷ objective: one observation's 2 × 15 block
//!   (`reproj_error_jacobian_into`) against its reprojection error, and a whole problem of
//!   ADBench's shape (generated deterministically), every observation's block and weight
//!   derivative against the objective; beside them num-dual's forward mode on an independent
//!   generic twin of the same residual. Published: manual 6.5–7.4, Tapenade 8.4–8.9.
//! - LSTM (`benches/common/adbench_lstm.rs`), gradient ÷ objective at ADBench's sizes (l
//!   layers, c characters, b = 14): the gradient `#[differentiable]` generates
//!   (`lstm_objective_grad_into`), beside the adjoint written by hand (a table of the states,
//!   one adjoint vector per state vector), the generated gradient with `checkpoint = 32`
//!   (`lstm_objective_checkpointed_grad_into`), and num-dual's forward mode on a generic twin at
//!   a shorter sequence; also at c = 32, a sequence of 31 steps, shorter than one stretch of
//!   `checkpoint = 32`.
//! - The two residuals of `benches/jacobian.rs` (a reprojection residual, 2 outputs × 9 camera
//!   parameters; a curve fit, 100 outputs × 10 parameters): `_jacobian` ÷ the function, ours and
//!   num-dual's.
//!
//! Timed interleaved (one batch of each in turn, 9 rounds); the ratios of the best and of the
//! median batches are printed. Run: `cargo bench --bench adbench`; the LSTM rows only:
//! `cargo bench --bench adbench -- lstm`.

use std::hint::black_box;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved};
#[path = "common/adbench_gmm.rs"]
mod adbench_gmm;
use adbench_gmm::{GmmObjectiveGrad, gmm_input, gmm_objective, gmm_objective_grad_into};
#[path = "common/adbench_ba.rs"]
mod adbench_ba;
use adbench_ba::{
    ReprojErrorGrad, ba_jacobian, ba_objective, ba_problem, reproj_error, reproj_error_generic,
    reproj_error_jacobian_into,
};
#[path = "common/adbench_lstm.rs"]
mod adbench_lstm;
use adbench_lstm::{
    LstmObjectiveCheckpointedGrad, LstmObjectiveGrad, lstm_input, lstm_objective,
    lstm_objective_checkpointed_grad_into, lstm_objective_dual, lstm_objective_grad_by_hand,
    lstm_objective_grad_into,
};
#[path = "common/vector_residuals.rs"]
mod vector_residuals;

use nalgebra::SVector;
use num_dual::{DualSVec64, gradient, jacobian};

/// The rounds of interleaved batches.
const ROUNDS: usize = 9;

/// Times `candidates` interleaved; prints one row per candidate after the first (the objective):
/// its best time and its ratio to the objective's, best and median batches.
fn ratio_rows(
    shape: &str,
    quick: bool,
    reps: usize,
    names: &[&str],
    candidates: &mut [&mut dyn FnMut() -> f64],
) {
    let schedule = Schedule {
        rounds: if quick { 1 } else { ROUNDS },
        reps: if quick { 1 } else { reps },
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(&schedule, candidates);
    let mid = t[0].len() / 2;
    for (j, name) in names.iter().enumerate().skip(1) {
        println!(
            "| {shape} | {name} | {} | {} | {:.2} | {:.2} |",
            interleaved::pretty(t[0][0]),
            interleaved::pretty(t[j][0]),
            t[j][0] / t[0][0],
            t[j][mid] / t[0][mid],
        );
    }
}

/// num-dual's 2 × 15 Jacobian of the generic twin (the 15 inputs in one dual vector).
fn ba_num_dual(p: &[f64; 15], feat: &[f64; 2]) -> [f64; 30] {
    let (_, j) = jacobian(
        |v: SVector<DualSVec64<15>, 15>| SVector::from(reproj_error_generic(v.as_slice(), feat)),
        &SVector::from(*p),
    );
    std::array::from_fn(|i| j[(i / 15, i % 15)])
}

/// BA: one observation's block, a whole problem's blocks, each against the objective.
fn ba(quick: bool) {
    let problem = ba_problem(3, 5, 12);
    let (cam, x, w) = (problem.cams[1], problem.x[2], problem.w[4]);
    let feat = [problem.feats[8], problem.feats[9]];
    let mut p = [0.0; 15];
    p[..11].copy_from_slice(&cam);
    p[11..14].copy_from_slice(&x);
    p[14] = w;
    let mut rows = [ReprojErrorGrad::default(); 2];
    ratio_rows(
        "BA, one observation (2 × 15)",
        quick,
        20_000,
        &[
            "objective",
            "`reproj_error_jacobian_into`",
            "num-dual `jacobian` (generic twin)",
        ],
        &mut [
            &mut || reproj_error(black_box(&cam), &x, w, &feat)[0],
            &mut || {
                let e = reproj_error_jacobian_into(black_box(&cam), &x, w, &feat, &mut rows);
                black_box(&rows);
                e[0]
            },
            &mut || black_box(ba_num_dual(black_box(&p), &feat))[0],
        ],
    );
    // ADBench's smallest problem has 49 cameras, 7776 points, 31843 observations: this is
    // that shape at a tenth of the observations, generated.
    let (n, m, obs) = if quick { (2, 3, 4) } else { (49, 7776, 3184) };
    let problem = ba_problem(n, m, obs);
    let (mut e, mut w_err) = (vec![0.0; 2 * obs], vec![0.0; obs]);
    let (mut e2, mut w_err2) = (vec![0.0; 2 * obs], vec![0.0; obs]);
    let mut blocks = vec![[ReprojErrorGrad::default(); 2]; obs];
    let mut w_jac = vec![0.0; obs];
    ratio_rows(
        &format!("BA, n = {n}, m = {m}, p = {obs}"),
        quick,
        10,
        &["objective", "Jacobian blocks (`ba_jacobian`)"],
        &mut [
            &mut || {
                ba_objective(black_box(&problem), &mut e, &mut w_err);
                e[0]
            },
            &mut || {
                ba_jacobian(
                    black_box(&problem),
                    &mut e2,
                    &mut blocks,
                    &mut w_err2,
                    &mut w_jac,
                );
                black_box(&blocks);
                e2[0]
            },
        ],
    );
}

/// LSTM: the generated gradient and the adjoint by hand at ADBench's sizes, num-dual at a
/// shorter sequence, each against the objective.
fn lstm(quick: bool) {
    let sizes: &[(usize, usize)] = if quick {
        &[(2, 8)]
    } else {
        &[(2, 32), (2, 1024), (2, 4096), (4, 1024), (4, 4096)]
    };
    let b = 14;
    for &(l, c) in sizes {
        let (main, extra, state, sequence) = lstm_input(l, c, b);
        let (mut gm, mut ge) = (vec![0.0; main.len()], vec![0.0; extra.len()]);
        let mut grad = LstmObjectiveGrad::default();
        let mut checked = LstmObjectiveCheckpointedGrad::default();
        ratio_rows(
            &format!("LSTM, l = {l}, c = {c}, b = {b}"),
            quick,
            (40_960 / c).max(1),
            &[
                "objective",
                "`lstm_objective_grad_into` (generated)",
                "adjoint by hand",
                "generated, `checkpoint = 32`",
            ],
            &mut [
                &mut || lstm_objective(black_box(&main), &extra, &state, &sequence, l, c, b),
                &mut || {
                    let v = lstm_objective_grad_into(
                        black_box(&main),
                        &extra,
                        &state,
                        &sequence,
                        l,
                        c,
                        b,
                        &mut grad,
                    );
                    black_box(&grad);
                    v
                },
                &mut || {
                    let v = lstm_objective_grad_by_hand(
                        black_box(&main),
                        &extra,
                        &state,
                        &sequence,
                        (l, c, b),
                        &mut gm,
                        &mut ge,
                    );
                    black_box((&gm, &ge));
                    v
                },
                &mut || {
                    let v = lstm_objective_checkpointed_grad_into(
                        black_box(&main),
                        &extra,
                        &state,
                        &sequence,
                        l,
                        c,
                        b,
                        &mut checked,
                    );
                    black_box(&checked);
                    v
                },
            ],
        );
    }
    lstm_num_dual(quick);
}

/// LSTM: num-dual's forward mode at a shorter sequence, beside the adjoint by hand.
fn lstm_num_dual(quick: bool) {
    // num-dual carries all 2·8·14 + 3·14 = 266 derivatives through every operation.
    let (l, c, b) = if quick { (2, 4, 14) } else { (2, 64, 14) };
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    let mut p = main.clone();
    p.extend(&extra);
    let p = SVector::<f64, 266>::from_column_slice(&p);
    let (mut gm, mut ge) = (vec![0.0; main.len()], vec![0.0; extra.len()]);
    ratio_rows(
        &format!("LSTM, l = {l}, c = {c}, b = {b}"),
        quick,
        if quick { 1 } else { 2 },
        &[
            "objective",
            "adjoint by hand",
            "num-dual `gradient` (generic twin)",
        ],
        &mut [
            &mut || lstm_objective(black_box(&main), &extra, &state, &sequence, l, c, b),
            &mut || {
                let v = lstm_objective_grad_by_hand(
                    black_box(&main),
                    &extra,
                    &state,
                    &sequence,
                    (l, c, b),
                    &mut gm,
                    &mut ge,
                );
                black_box((&gm, &ge));
                v
            },
            &mut || {
                let (v, g) = gradient(
                    |v: SVector<DualSVec64<266>, 266>| {
                        lstm_objective_dual(v.as_slice(), &state, &sequence, l, b)
                    },
                    black_box(&p),
                );
                black_box(g);
                v
            },
        ],
    );
}

/// The residuals of `benches/jacobian.rs`: `_jacobian` ÷ the function, ours and num-dual's.
fn small_residuals(quick: bool) {
    use vector_residuals::{
        ba_input, ba_residual, ba_residual_dual, ba_residual_jacobian, peaks_dual, peaks_input,
        peaks_jacobian_of, peaks_of,
    };
    let (cam, point, u, v) = ba_input();
    let dual_ba = |cam: &[f64; 9]| {
        let (_, j) = jacobian(
            |x: SVector<DualSVec64<9>, 9>| {
                let cam: [DualSVec64<9>; 9] = x.into();
                SVector::from(ba_residual_dual(&cam, &point, u, v))
            },
            &SVector::from(*cam),
        );
        j[(0, 0)]
    };
    ratio_rows(
        "reprojection residual, 2 × 9",
        quick,
        20_000,
        &["function", "`_jacobian`", "num-dual `jacobian`"],
        &mut [
            &mut || ba_residual(black_box(&cam), &point, u, v)[0],
            &mut || {
                let (r, j) = ba_residual_jacobian(black_box(&cam), &point, u, v);
                black_box(j);
                r[0]
            },
            &mut || dual_ba(black_box(&cam)),
        ],
    );
    let (p, t, y) = peaks_input();
    let dual_peaks = |p: &[f64; 10]| {
        let (_, j) = jacobian(
            |x: SVector<DualSVec64<10>, 10>| {
                let p: [DualSVec64<10>; 10] = x.into();
                SVector::from(peaks_dual(&p, &t, &y))
            },
            &SVector::from(*p),
        );
        j[(0, 0)]
    };
    ratio_rows(
        "curve fit, 100 × 10",
        quick,
        2_000,
        &["function", "`_jacobian`", "num-dual `jacobian`"],
        &mut [
            &mut || peaks_of(black_box(&p), &t, &y)[0],
            &mut || {
                let (r, j) = peaks_jacobian_of(black_box(&p), &t, &y);
                black_box(&j);
                r[0]
            },
            &mut || dual_peaks(black_box(&p)),
        ],
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    if std::env::args().any(|a| a == "lstm") {
        println!(
            "| shape | what | objective (best) | derivative (best) | ÷ objective (best) | ÷ objective (medians) |"
        );
        println!("|---|---|---|---|---|---|");
        lstm(quick);
        return;
    }
    println!(
        "| GMM d, k, n | objective (best) | gradient (best) | ÷ objective (best) | ÷ objective (medians) |"
    );
    println!("|---|---|---|---|---|");
    let sizes: &[(usize, usize, usize)] = if quick {
        &[(2, 5, 20)]
    } else {
        &[
            (2, 5, 1000),
            (10, 5, 1000),
            (10, 25, 1000),
            (20, 50, 1000),
            (64, 10, 1000),
        ]
    };
    for &(d, k, n) in sizes {
        let (alphas, means, icf, x) = gmm_input(d, k, n);
        let mut grad = GmmObjectiveGrad::default();
        let reps = if quick {
            1
        } else {
            (2_000_000 / (n * k * d * d)).clamp(1, 200)
        };
        let schedule = Schedule {
            rounds: if quick { 1 } else { ROUNDS },
            reps,
            warm_call: true,
            rotate: true,
        };
        let t = interleaved(
            &schedule,
            &mut [
                &mut || gmm_objective(black_box(&alphas), &means, &icf, &x, d, 1.0, 0),
                &mut || {
                    gmm_objective_grad_into(
                        black_box(&alphas),
                        &means,
                        &icf,
                        &x,
                        d,
                        1.0,
                        0,
                        &mut grad,
                    )
                },
            ],
        );
        let mid = t[0].len() / 2;
        println!(
            "| {d}, {k}, {n} | {:.3} ms | {:.3} ms | {:.2} | {:.2} |",
            t[0][0] * 1e3,
            t[1][0] * 1e3,
            t[1][0] / t[0][0],
            t[1][mid] / t[0][mid],
        );
    }
    println!(
        "\n| shape | what | objective (best) | derivative (best) | ÷ objective (best) | ÷ objective (medians) |"
    );
    println!("|---|---|---|---|---|---|");
    ba(quick);
    lstm(quick);
    small_residuals(quick);
}
