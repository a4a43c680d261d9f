//! An adversarial corpus: 97 loss functions over slices and loops — recurrences of every shape,
//! calls passing slices, loops in branches, triangular and nested loops, fixed indices, early
//! returns, f32 — each checked against fourth-order central differences at one or more points
//! (152 checks). Written by a review that tried to break the generator; kept as a regression
//! suite. One test, so that a failure lists every case that broke.
#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    dead_code,
    unused_parens,
    missing_docs
)] // the corpus is written the way users write, not the way clippy likes

mod adv;
mod adv2;
mod adv3;
mod calls;
mod emit;
mod harness;
mod rec;

#[test]
fn every_adversarial_loss_matches_finite_differences() {
    let mut r = harness::Report::new();
    rec::run(&mut r);
    calls::run(&mut r);
    emit::run(&mut r);
    adv::run(&mut r);
    adv2::run(&mut r);
    adv3::run(&mut r);
    assert!(
        r.fail.is_empty(),
        "{} of {} failed:\n{}",
        r.fail.len(),
        r.fail.len() + r.pass.len(),
        r.fail.join("\n")
    );
    assert!(r.pass.len() >= 150, "only {} checks ran", r.pass.len());
}
