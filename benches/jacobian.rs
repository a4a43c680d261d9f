//! The Jacobian of a vector-valued function against the function alone, and against num-dual's
//! forward mode (`num_dual::jacobian` on `DualSVec64<N>`, one pass carrying all N derivatives)
//! on the same function:
//!
//! - bundle adjustment's reprojection residual: 2 outputs, the 9 camera parameters;
//! - a curve fit of three Gaussian peaks on a background: 100 outputs, 10 parameters.
//!
//! Criterion times each; then they are timed interleaved (one batch of each in turn, 15 rounds)
//! and each one's ratio to the function alone printed, for the best and the median batches.
//! Run: `cargo bench --bench jacobian`.

use std::hint::black_box;

use criterion::Criterion;
use nalgebra::SVector;
use num_dual::{DualSVec64, jacobian};

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved};
#[path = "common/vector_residuals.rs"]
mod vector_residuals;
use vector_residuals::{
    ba_input, ba_residual, ba_residual_dual, ba_residual_jacobian, ba_residual_jvp,
    ba_residual_vjp, peaks_dual, peaks_input, peaks_jacobian_of, peaks_of,
};

/// num-dual's Jacobian of the reprojection residual with respect to the camera.
fn ba_num_dual(cam: &[f64; 9], point: &[f64; 3], u: f64, v: f64) -> [[f64; 9]; 2] {
    let (_, j) = jacobian(
        |x: SVector<DualSVec64<9>, 9>| {
            let cam: [DualSVec64<9>; 9] = x.into();
            SVector::from(ba_residual_dual(&cam, point, u, v))
        },
        &SVector::from(*cam),
    );
    std::array::from_fn(|k| std::array::from_fn(|i| j[(k, i)]))
}

/// num-dual's Jacobian of the curve fit, 100 × 10.
fn peaks_num_dual(p: &[f64; 10], t: &[f64; 100], y: &[f64; 100]) -> Box<[[f64; 10]; 100]> {
    let (_, j) = jacobian(
        |x: SVector<DualSVec64<10>, 10>| {
            let p: [DualSVec64<10>; 10] = x.into();
            SVector::from(peaks_dual(&p, t, y))
        },
        &SVector::from(*p),
    );
    Box::new(std::array::from_fn(|k| std::array::from_fn(|i| j[(k, i)])))
}

/// The four ways to the same Jacobian agree before they are timed.
fn check() {
    let (cam, point, u, v) = ba_input();
    let (_, jac) = ba_residual_jacobian(&cam, &point, u, v);
    let dual = ba_num_dual(&cam, &point, u, v);
    for (k, row) in dual.iter().enumerate() {
        for (i, &b) in row.iter().enumerate() {
            let a = jac[k].cam[i];
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "BA J[{k}][{i}]");
        }
    }
    let (p, t, y) = peaks_input();
    let (_, jac) = peaks_jacobian_of(&p, &t, &y);
    let dual = peaks_num_dual(&p, &t, &y);
    for k in 0..100 {
        let row = [
            jac[k].a1, jac[k].m1, jac[k].s1, jac[k].a2, jac[k].m2, jac[k].s2, jac[k].a3, jac[k].m3,
            jac[k].s3, jac[k].c,
        ];
        for i in 0..10 {
            assert!(
                (row[i] - dual[k][i]).abs() <= 1e-10 * dual[k][i].abs().max(1.0),
                "peaks J[{k}][{i}]"
            );
        }
    }
}

fn criterion_groups(c: &mut Criterion) {
    let (cam, point, u, v) = ba_input();
    let mut group = c.benchmark_group("ba_residual_2x9");
    group.bench_function("function", |b| {
        b.iter(|| ba_residual(black_box(&cam), &point, u, v));
    });
    group.bench_function("_jacobian", |b| {
        b.iter(|| ba_residual_jacobian(black_box(&cam), &point, u, v));
    });
    group.bench_function("num-dual jacobian", |b| {
        b.iter(|| ba_num_dual(black_box(&cam), &point, u, v));
    });
    group.finish();

    let (p, t, y) = peaks_input();
    let mut group = c.benchmark_group("peaks_100x10");
    group.bench_function("function", |b| b.iter(|| peaks_of(black_box(&p), &t, &y)));
    group.bench_function("_jacobian", |b| {
        b.iter(|| peaks_jacobian_of(black_box(&p), &t, &y));
    });
    group.bench_function("num-dual jacobian", |b| {
        b.iter(|| peaks_num_dual(black_box(&p), &t, &y));
    });
    group.finish();
}

/// The candidates timed interleaved: one table row each, with its time and its ratio to the
/// first one's (the function alone).
fn rows(shape: &str, reps: usize, names: &[&str], candidates: &mut [&mut dyn FnMut() -> f64]) {
    const ROUNDS: usize = 15;
    let schedule = Schedule {
        rounds: ROUNDS,
        reps,
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(&schedule, candidates);
    for (j, name) in names.iter().enumerate() {
        println!(
            "| {shape} | {name} | {:.1} ns | {:.2} | {:.2} |",
            t[j][0] * 1e9,
            t[j][0] / t[0][0],
            t[j][ROUNDS / 2] / t[0][ROUNDS / 2],
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` checks and runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    check();
    let mut c = Criterion::default().configure_from_args();
    if quick {
        c = c
            .sample_size(10)
            .warm_up_time(std::time::Duration::from_millis(1))
            .measurement_time(std::time::Duration::from_millis(10));
    }
    criterion_groups(&mut c);
    c.final_summary();

    println!("\n| shape | what | time (best) | ÷ function (best) | ÷ function (medians) |");
    println!("|---|---|---|---|---|");
    let (cam, point, u, v) = ba_input();
    let tangent = vector_residuals::BaResidualGrad { cam: [1.0; 9] };
    rows(
        "BA residual, 2 × 9",
        if quick { 2 } else { 20_000 },
        &[
            "function",
            "`_jacobian`",
            "`_vjp`",
            "`_jvp`",
            "num-dual `jacobian`",
        ],
        &mut [
            &mut || ba_residual(black_box(&cam), &point, u, v)[0],
            &mut || {
                let (r, j) = ba_residual_jacobian(black_box(&cam), &point, u, v);
                black_box(j);
                r[0]
            },
            &mut || {
                let (r, g) = ba_residual_vjp(black_box(&cam), &point, u, v, &[1.0, -0.5]);
                black_box(g);
                r[0]
            },
            &mut || {
                let (r, d) = ba_residual_jvp(black_box(&cam), &point, u, v, &tangent);
                black_box(d);
                r[0]
            },
            &mut || black_box(ba_num_dual(black_box(&cam), &point, u, v))[0][0],
        ],
    );
    let (p, t, y) = peaks_input();
    rows(
        "curve fit, 100 × 10",
        if quick { 2 } else { 2_000 },
        &["function", "`_jacobian`", "num-dual `jacobian`"],
        &mut [
            &mut || peaks_of(black_box(&p), &t, &y)[0],
            &mut || {
                let (r, j) = peaks_jacobian_of(black_box(&p), &t, &y);
                black_box(&j);
                r[0]
            },
            &mut || black_box(peaks_num_dual(black_box(&p), &t, &y))[0][0],
        ],
    );
}
