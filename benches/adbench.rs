//! ADBench's GMM objective as the C++ reference writes it (`benches/common/adbench_gmm.rs`):
//! the time of its gradient divided by the time of the objective alone, the ratio ADBench
//! publishes (Srajer et al. 2018: GMM, manual 1.9–7.2, Tapenade 3.7–15.5), at some of
//! ADBench's sizes (d dimensions, k components, n = 1000 points).
//!
//! Timed interleaved (one batch of each in turn, 9 rounds); the ratios of the best and of the
//! median batches are printed. Run: `cargo bench --bench adbench`.

use std::hint::black_box;

#[path = "common/interleaved.rs"]
mod interleaved;
use interleaved::{Schedule, interleaved};
#[path = "common/adbench_gmm.rs"]
mod adbench_gmm;
use adbench_gmm::{GmmObjectiveGrad, gmm_input, gmm_objective, gmm_objective_grad_into};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    const ROUNDS: usize = 9;
    let quick = !std::env::args().any(|a| a == "--bench");
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
}
