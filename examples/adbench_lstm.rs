//! ADBench's LSTM objective (2 layers of 14 cells over 1024 characters, as ADBench's smallest
//! LSTM problem), written the way its C++ reference writes it, and the gradient
//! `#[differentiable]` generates for it (`lstm_objective_grad`: the `hidden` and `cell` vectors
//! carried from one time step to the next are saved forward, a row per step, and swept back
//! with one adjoint vector each), checked against central differences, against num-dual's
//! forward mode and against the adjoint written by hand, and timed against the objective.
//!
//! Run: `cargo run --release --example adbench_lstm`

use std::hint::black_box;
use std::time::Instant;

use nalgebra::SVector;
use num_dual::{DualSVec64, gradient};

#[path = "../benches/common/adbench_lstm.rs"]
mod adbench_lstm;
use adbench_lstm::{
    LstmObjectiveGrad, lstm_input, lstm_objective, lstm_objective_dual, lstm_objective_grad,
    lstm_objective_grad_by_hand, lstm_objective_grad_into,
};

fn main() {
    let (l, c, b) = (2, 1024, 14);
    let (main, extra, state, sequence) = lstm_input(l, c, b);
    println!("LSTM, l = {l} layers, c = {c} characters, b = {b} cells a layer");
    println!(
        "  parameters: {} (main {}, extra {})",
        main.len() + extra.len(),
        main.len(),
        extra.len(),
    );
    let (value, grad) = lstm_objective_grad(&main, &extra, &state, &sequence, l, c, b);
    println!("  objective: {value:.12}");

    // The largest partial derivative of each parameter vector against central differences
    // (a small one is lost in the differences' rounding, about 1e-9 here).
    let largest = |g: &[f64]| {
        (0..g.len())
            .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
            .unwrap_or(0)
    };
    let h = 1e-6;
    for (name, i) in [
        ("main", largest(&grad.main_params)),
        ("extra", largest(&grad.extra_params)),
    ] {
        let f = |m: &[f64], e: &[f64]| lstm_objective(m, e, &state, &sequence, l, c, b);
        let (mut m, mut e) = (main.clone(), extra.clone());
        let (generated, numeric) = if name == "main" {
            m[i] += h;
            let up = f(&m, &e);
            m[i] -= 2.0 * h;
            (grad.main_params[i], (up - f(&m, &e)) / (2.0 * h))
        } else {
            e[i] += h;
            let up = f(&m, &e);
            e[i] -= 2.0 * h;
            (grad.extra_params[i], (up - f(&m, &e)) / (2.0 * h))
        };
        println!("  ∂/∂{name}[{i}]: generated {generated:+.10}, central difference {numeric:+.10}");
    }

    // The adjoint written by hand, at the same size.
    let (mut gm, mut ge) = (vec![0.0; main.len()], vec![0.0; extra.len()]);
    lstm_objective_grad_by_hand(
        &main,
        &extra,
        &state,
        &sequence,
        (l, c, b),
        &mut gm,
        &mut ge,
    );
    let by_hand = gm
        .iter()
        .chain(&ge)
        .zip(grad.main_params.iter().chain(&grad.extra_params))
        .map(|(a, d)| (a - d).abs() / a.abs().max(1e-3))
        .fold(0.0, f64::max);
    println!("  against the adjoint written by hand: largest relative difference {by_hand:.1e}");

    // The whole gradient against num-dual's forward mode on an independent generic twin, on a
    // shorter sequence (num-dual carries all 266 derivatives through every operation).
    let short = 64;
    let (m2, e2, s2, q2) = lstm_input(l, short, b);
    let mut p = m2.clone();
    p.extend(&e2);
    let (_, dual) = gradient(
        |v: SVector<DualSVec64<266>, 266>| lstm_objective_dual(v.as_slice(), &s2, &q2, l, b),
        &SVector::<f64, 266>::from_column_slice(&p),
    );
    let (_, g2) = lstm_objective_grad(&m2, &e2, &s2, &q2, l, short, b);
    let worst = g2
        .main_params
        .iter()
        .chain(&g2.extra_params)
        .zip(dual.iter())
        .map(|(a, d)| (a - d).abs() / d.abs().max(1e-3))
        .fold(0.0, f64::max);
    println!(
        "  c = {short}: all 266 partial derivatives against num-dual, largest relative difference {worst:.1e}"
    );

    timings(&main, &extra, &state, &sequence, (l, c, b));
}

/// Gradient ÷ objective, ADBench's measure: the generated gradient and the adjoint by hand.
fn timings(
    main: &[f64],
    extra: &[f64],
    state: &[f64],
    sequence: &[f64],
    (l, c, b): (usize, usize, usize),
) {
    let (mut gm, mut ge) = (vec![0.0; main.len()], vec![0.0; extra.len()]);
    let reps = 20;
    let time = |f: &mut dyn FnMut() -> f64| {
        let t = Instant::now();
        for _ in 0..reps {
            black_box(f());
        }
        t.elapsed().as_secs_f64() / f64::from(reps)
    };
    let objective = time(&mut || lstm_objective(black_box(main), extra, state, sequence, l, c, b));
    let mut into = LstmObjectiveGrad::default();
    let generated = time(&mut || {
        lstm_objective_grad_into(black_box(main), extra, state, sequence, l, c, b, &mut into)
    });
    let by_hand = time(&mut || {
        lstm_objective_grad_by_hand(
            black_box(main),
            extra,
            state,
            sequence,
            (l, c, b),
            &mut gm,
            &mut ge,
        )
    });
    println!(
        "  objective {:.2} ms; generated gradient {:.2} ms ({:.1}×), adjoint by hand {:.2} ms ({:.1}×) (one run; `cargo bench --bench adbench` interleaves)",
        objective * 1e3,
        generated * 1e3,
        generated / objective,
        by_hand * 1e3,
        by_hand / objective
    );
}
