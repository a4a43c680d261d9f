//! Learning-rate schedules and gradient clipping against values computed by hand from PyTorch's
//! formulas.

use symgrad_runtime::clip::{Clip, clip_grad_norm, clip_grad_value, grad_norm};
use symgrad_runtime::schedule::{CosineAnnealingLr, ExponentialLr, LinearLr, Schedule, StepLr};

fn assert_lrs(schedule: &dyn Schedule, base_lr: f64, expected: &[f64]) {
    for (epoch, &want) in (0..).zip(expected) {
        let lr = schedule.lr(base_lr, epoch);
        assert!((lr - want).abs() < 1e-15, "epoch {epoch}: {lr} != {want}");
    }
}

#[test]
fn step_lr_decays_every_step_size_epochs() {
    let expected = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01];
    assert_lrs(&StepLr::new(3), 1.0, &expected);
    assert_lrs(&StepLr::new(1).gamma(0.5), 0.8, &[0.8, 0.4, 0.2, 0.1]);
}

#[test]
fn exponential_lr_decays_every_epoch() {
    assert_lrs(&ExponentialLr::new(0.9), 0.5, &[0.5, 0.45, 0.405, 0.3645]);
}

#[test]
fn cosine_annealing_follows_the_half_cosine_then_comes_back() {
    // eta_min + (base − eta_min)(1 + cos(π e / 4)) / 2, base 1, eta_min 0:
    let quarter = 0.5 + std::f64::consts::FRAC_1_SQRT_2 / 2.0; // 0.853553…
    let expected = [
        1.0,
        quarter,
        0.5,
        1.0 - quarter,
        0.0,
        1.0 - quarter,
        0.5,
        quarter,
        1.0,
    ];
    assert_lrs(&CosineAnnealingLr::new(4), 1.0, &expected);
    // With eta_min = 0.1 and base 0.3, the midpoint is 0.2 and the end 0.1.
    let s = CosineAnnealingLr::new(10).eta_min(0.1);
    assert!((s.lr(0.3, 5) - 0.2).abs() < 1e-15);
    assert!((s.lr(0.3, 10) - 0.1).abs() < 1e-15);
}

#[test]
fn linear_warmup_matches_torch_linear_lr() {
    // PyTorch's defaults: factor from 1/3 to 1 over 5 epochs: 1/3 + (2/3)·e/5.
    let expected: Vec<f64> = [5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 15.0]
        .iter()
        .map(|n| 0.3 * n / 15.0)
        .collect();
    assert_lrs(&LinearLr::default(), 0.3, &expected);
    assert_lrs(&LinearLr::new(0.5, 1.0, 0), 2.0, &[2.0, 2.0]);
}

#[test]
fn clip_by_global_norm_returns_the_norm_and_scales_like_torch() {
    let mut grads = [1.0, 2.0, 2.0];
    let norm = clip_grad_norm(&mut grads, 1.5);
    assert_eq!(norm, 3.0);
    let scale = 1.5 / (3.0 + 1e-6);
    assert_eq!(grads, [scale, 2.0 * scale, 2.0 * scale]);
    assert!((grad_norm(&grads) - 1.5).abs() < 1e-6);
}

#[test]
fn clip_by_value_clamps_each_component() {
    let mut grads = [-5.0_f32, 0.1, 5.0];
    clip_grad_value(&mut grads, 0.5);
    assert_eq!(grads, [-0.5, 0.1, 0.5]);
    let mut grads = [3.0, -4.0];
    Clip::Value(1.0).apply(&mut grads);
    assert_eq!(grads, [1.0, -1.0]);
}
