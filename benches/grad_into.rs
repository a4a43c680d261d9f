//! `<name>_grad` against `<name>_grad_into` in loops of many small calls, where a fresh gradient
//! struct per call (its vectors allocated and freed) is a large part of the work:
//!
//! - bundle adjustment's inner loop: 1000 observations, each the reprojection residual's gradient
//!   (a camera of 9 parameters, a point of 3) accumulated into the cameras' and points' gradients;
//! - a chain of 8 springs, its gradient taken 1000 times, accumulated.
//!
//! Criterion times each; then the two are timed interleaved (one batch of each in turn, 15
//! rounds) and the ratios `_grad / _grad_into` of the best and the median batches printed.
//! Run: `cargo bench --bench grad_into`.

use std::hint::black_box;

use criterion::Criterion;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved, pretty};
#[path = "common/small_calls.rs"]
mod small_calls;
use small_calls::{
    ReprojectionGrad, SpringsGrad, reprojection_grad, reprojection_grad_into, reprojection_input,
    springs_grad, springs_grad_into, springs_input,
};

const OBSERVATIONS: usize = 1000;
const CAMERAS: usize = 16;
const POINTS: usize = 250;

/// A small bundle-adjustment problem: cameras near the reference one, points, and for each
/// observation its camera, its point and the pixel seen.
struct Problem {
    cameras: Vec<[f64; 9]>,
    points: Vec<[f64; 3]>,
    observations: Vec<(usize, usize, f64, f64)>,
}

fn problem() -> Problem {
    let (cam, point, u, v) = reprojection_input();
    let wobble = |k: usize, scale: f64| (k as f64 * 0.7).sin() * scale;
    let cameras = (0..CAMERAS)
        .map(|c| {
            let mut cam = cam;
            for (j, p) in cam.iter_mut().enumerate().take(6) {
                *p += wobble(c * 9 + j, 0.05);
            }
            cam
        })
        .collect();
    let points = (0..POINTS)
        .map(|p| {
            [
                point[0] + wobble(p, 0.3),
                point[1] + wobble(p + 1, 0.3),
                point[2],
            ]
        })
        .collect();
    let observations = (0..OBSERVATIONS)
        .map(|k| {
            (
                k % CAMERAS,
                (k * 7) % POINTS,
                u + wobble(k, 2.0),
                v - wobble(k, 2.0),
            )
        })
        .collect();
    Problem {
        cameras,
        points,
        observations,
    }
}

/// The cost and its gradient over every observation, with a fresh gradient per observation.
fn ba_grad(p: &Problem, d_cams: &mut [[f64; 9]], d_points: &mut [[f64; 3]]) -> f64 {
    let mut cost = 0.0;
    for &(c, q, u, v) in &p.observations {
        let (r, g) = reprojection_grad(&p.cameras[c], &p.points[q], u, v);
        cost += r;
        d_cams[c].iter_mut().zip(&g.cam).for_each(|(d, g)| *d += g);
        d_points[q]
            .iter_mut()
            .zip(&g.point)
            .for_each(|(d, g)| *d += g);
    }
    cost
}

/// The same, into one gradient reused across observations.
fn ba_grad_into(
    p: &Problem,
    g: &mut ReprojectionGrad,
    d_cams: &mut [[f64; 9]],
    d_points: &mut [[f64; 3]],
) -> f64 {
    let mut cost = 0.0;
    for &(c, q, u, v) in &p.observations {
        cost += reprojection_grad_into(&p.cameras[c], &p.points[q], u, v, g);
        d_cams[c].iter_mut().zip(&g.cam).for_each(|(d, g)| *d += g);
        d_points[q]
            .iter_mut()
            .zip(&g.point)
            .for_each(|(d, g)| *d += g);
    }
    cost
}

/// The springs' gradient `OBSERVATIONS` times at shifted positions, accumulated.
fn springs_loop(x: &[f64], acc: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for k in 0..OBSERVATIONS {
        let (e, g) = springs_grad(x, 1.0 + k as f64 * 1e-4);
        total += e;
        acc.iter_mut().zip(&g.x).for_each(|(a, g)| *a += g);
    }
    total
}

fn springs_loop_into(x: &[f64], g: &mut SpringsGrad, acc: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for k in 0..OBSERVATIONS {
        total += springs_grad_into(x, 1.0 + k as f64 * 1e-4, g);
        acc.iter_mut().zip(&g.x).for_each(|(a, g)| *a += g);
    }
    total
}

/// Both loops give the same cost and gradients, bitwise, before they are timed.
fn check(p: &Problem, x: &[f64]) {
    let (mut c1, mut p1) = (vec![[0.0; 9]; CAMERAS], vec![[0.0; 3]; POINTS]);
    let (mut c2, mut p2) = (c1.clone(), p1.clone());
    let mut g = ReprojectionGrad::default();
    assert_eq!(
        ba_grad(p, &mut c1, &mut p1).to_bits(),
        ba_grad_into(p, &mut g, &mut c2, &mut p2).to_bits()
    );
    assert!(c1 == c2 && p1 == p2);
    let (mut a1, mut a2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let mut g = SpringsGrad::default();
    assert_eq!(
        springs_loop(x, &mut a1).to_bits(),
        springs_loop_into(x, &mut g, &mut a2).to_bits()
    );
    assert_eq!(a1, a2);
}

fn criterion_groups(c: &mut Criterion, p: &Problem, x: &[f64]) {
    let (mut d_cams, mut d_points) = (vec![[0.0; 9]; CAMERAS], vec![[0.0; 3]; POINTS]);
    let mut group = c.benchmark_group("reprojection_x1000");
    group.bench_function("_grad", |b| {
        b.iter(|| ba_grad(black_box(p), &mut d_cams, &mut d_points));
    });
    let mut g = ReprojectionGrad::default();
    group.bench_function("_grad_into", |b| {
        b.iter(|| ba_grad_into(black_box(p), &mut g, &mut d_cams, &mut d_points));
    });
    group.finish();

    let mut acc = vec![0.0; x.len()];
    let mut group = c.benchmark_group("springs_n8_x1000");
    group.bench_function("_grad", |b| {
        b.iter(|| springs_loop(black_box(x), &mut acc));
    });
    let mut g = SpringsGrad::default();
    group.bench_function("_grad_into", |b| {
        b.iter(|| springs_loop_into(black_box(x), &mut g, &mut acc));
    });
    group.finish();
}

/// `_grad` and `_grad_into` timed interleaved; one table row of times and ratios.
fn row(name: &str, reps: usize, fresh: &mut dyn FnMut() -> f64, into: &mut dyn FnMut() -> f64) {
    const ROUNDS: usize = 15;
    let schedule = Schedule {
        rounds: ROUNDS,
        reps,
        warm_call: true,
        rotate: true,
    };
    let t = interleaved(&schedule, &mut [fresh, into]);
    println!(
        "| {name} | {} | {} | {:.2} | {:.2} |",
        pretty(t[0][0]),
        pretty(t[1][0]),
        t[0][0] / t[1][0],
        t[0][ROUNDS / 2] / t[1][ROUNDS / 2],
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` checks and runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let p = problem();
    let x = springs_input(8);
    check(&p, &x);
    let mut c = Criterion::default().configure_from_args();
    if quick {
        c = c
            .sample_size(10)
            .warm_up_time(std::time::Duration::from_millis(1))
            .measurement_time(std::time::Duration::from_millis(10));
    }
    criterion_groups(&mut c, &p, &x);
    c.final_summary();

    let reps = if quick { 2 } else { 200 };
    println!(
        "\n| 1000 calls of | `_grad` (best) | `_grad_into` (best) | ratio (best) | ratio (medians) |"
    );
    println!("|---|---|---|---|---|");
    let (mut d_cams, mut d_points) = (vec![[0.0; 9]; CAMERAS], vec![[0.0; 3]; POINTS]);
    let (mut d_cams2, mut d_points2) = (d_cams.clone(), d_points.clone());
    let mut g = ReprojectionGrad::default();
    row(
        "reprojection (9 + 3 parameters)",
        reps,
        &mut || ba_grad(black_box(&p), &mut d_cams, &mut d_points),
        &mut || ba_grad_into(black_box(&p), &mut g, &mut d_cams2, &mut d_points2),
    );
    let (mut acc, mut acc2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let mut g = SpringsGrad::default();
    row(
        "springs, n = 8",
        reps,
        &mut || springs_loop(black_box(&x), &mut acc),
        &mut || springs_loop_into(black_box(&x), &mut g, &mut acc2),
    );
}
