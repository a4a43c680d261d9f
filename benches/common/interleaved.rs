//! Timing on a shared, noisy machine: the candidates are timed *interleaved* (one batch of each
//! in turn, many rounds), so a change of the machine's speed during the run hits all of them
//! alike, and the best (or median) batches are compared. Shared by `benches/loop_ratios.rs` and
//! `benches/forms.rs`.
#![allow(dead_code)] // each bench uses its own subset

use std::hint::black_box;
use std::time::Instant;

/// Seconds per call of `f`, over a batch of `reps` calls.
fn batch<R>(reps: usize, f: &mut (impl FnMut() -> R + ?Sized)) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        black_box(f());
    }
    t.elapsed().as_secs_f64() / reps as f64
}

/// How the candidates are interleaved.
pub struct Schedule {
    /// Rounds of one batch of each candidate.
    pub rounds: usize,
    /// Timed calls a batch.
    pub reps: usize,
    /// Each batch is preceded by one untimed call of the same candidate, so that a batch of few
    /// calls does not pay for the state the previous candidate left (which memory is in cache and
    /// mapped, which blocks the allocator hands out).
    pub warm_call: bool,
    /// Round `r` starts with candidate `r mod k`, so that each candidate takes each place in the
    /// round equally often. With neither this nor `warm_call`, at n = 10⁶ and 2–3 calls a batch, the
    /// second candidate of a round ran 3–9 % slower than the third when both were the same
    /// function; with `warm_call` alone 0–3 %.
    pub rotate: bool,
}

/// Times the candidates interleaved and returns each candidate's seconds per call, one entry a
/// round, sorted (the best first). Each closure passes its whole result through `black_box` (a
/// discarded gradient would be optimised away) and returns the value.
pub fn interleaved(
    schedule: &Schedule,
    candidates: &mut [&mut dyn FnMut() -> f64],
) -> Vec<Vec<f64>> {
    let k = candidates.len();
    let mut t = vec![Vec::with_capacity(schedule.rounds); k];
    for r in 0..schedule.rounds {
        for j in 0..k {
            let c = if schedule.rotate { (r + j) % k } else { j };
            let f = &mut *candidates[c];
            if schedule.warm_call {
                black_box(f());
            }
            t[c].push(batch(schedule.reps, f));
        }
    }
    for v in &mut t {
        v.sort_by(f64::total_cmp);
    }
    t
}

/// Seconds as µs below a millisecond, else as ms.
pub fn pretty(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}
