//! The training loop: stopping rules, history, divergence detection, schedules and clipping.

use symgrad_runtime::Gradient;
use symgrad_runtime::clip::Clip;
use symgrad_runtime::optim::{Adam, Optimizer, RmsProp, Sgd};
use symgrad_runtime::schedule::{Schedule, StepLr};
use symgrad_runtime::train::{Control, Minimizer, Quantity, StopReason, TrainError, minimize};

/// Seed 003's loss `(x − 50)²` and its gradient.
fn seed_003(p: &[f64]) -> (f64, f64) {
    ((p[0] - 50.0).powi(2), 2.0 * (p[0] - 50.0))
}

/// What `#[differentiable] fn cost(w, b, …)` generates as `CostGrad`: one field per parameter.
struct CostGrad {
    w: f64,
    b: f64,
}

impl Gradient<f64> for CostGrad {
    fn flat_len(&self) -> usize {
        2
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend([self.w, self.b]);
    }
}

/// A hand-written `cost_grad(w, b, x, y)` for `J = (w·x + b − y)²`, as the macro would emit.
fn cost_grad(w: f64, b: f64, x: f64, y: f64) -> (f64, CostGrad) {
    let r = w * x + b - y;
    (
        r * r,
        CostGrad {
            w: 2.0 * r * x,
            b: 2.0 * r,
        },
    )
}

#[test]
fn keras_adam_on_seed_003_matches_stepping_by_hand() {
    let mut by_hand = [3.0];
    let mut adam = Adam::keras(1.0);
    for _ in 0..200 {
        let grad = [seed_003(&by_hand).1];
        adam.step(&mut by_hand, &grad);
    }
    let mut params = [3.0];
    let report = Minimizer::new(Adam::keras(1.0))
        .max_steps(200)
        .run(&mut params, seed_003)
        .unwrap();
    assert_eq!(params, by_hand);
    assert_eq!(report.steps, 200);
    assert_eq!(report.stop, StopReason::MaxSteps);
    assert_eq!(report.final_loss, seed_003(&params).0);
    assert_eq!(report.history.losses.len(), 201);
    assert_eq!(report.history.losses[0], 47.0 * 47.0);
    assert!(report.history.params.is_empty(), "parameters are opt-in");
    assert!((params[0] - 50.0).abs() < 0.1);
}

#[test]
fn a_generated_gradient_struct_plugs_straight_in() {
    let (x, y) = (2.0, 5.0);
    let mut params = [0.0, 0.0];
    let report = Minimizer::new(Sgd::new(0.05))
        .tol_loss(1e-20)
        .run(&mut params, |p| cost_grad(p[0], p[1], x, y))
        .unwrap();
    assert!(matches!(report.stop, StopReason::LossChange { .. }));
    assert!((params[0] * x + params[1] - y).abs() < 1e-9);
}

#[test]
fn gradient_tolerance_stops_before_stepping() {
    let mut params = [3.0];
    let report = Minimizer::new(Sgd::new(0.5))
        .tol_grad_norm(1e-8)
        .run(&mut params, seed_003)
        .unwrap();
    // lr 0.5 on (x − 50)² jumps to the minimum in one step; the next gradient is 0.
    assert_eq!(params, [50.0]);
    assert_eq!(report.steps, 1);
    assert_eq!(report.stop, StopReason::GradNorm { norm: 0.0 });
    assert_eq!(report.history.grad_norms, [94.0, 0.0]);
}

#[test]
fn the_history_records_parameters_when_asked() {
    let mut params = [3.0];
    let report = Minimizer::new(Sgd::new(0.1))
        .max_steps(3)
        .record_params(true)
        .run(&mut params, seed_003)
        .unwrap();
    let xs: Vec<f64> = report.history.params.iter().map(|p| p[0]).collect();
    assert_eq!(xs, [3.0, 12.4, 19.92, 25.936]);
    assert_eq!(report.history.lrs, [0.1; 3]);
}

#[test]
fn a_callback_can_watch_and_stop() {
    let mut seen = Vec::new();
    let mut params = [3.0];
    let report = Minimizer::new(Sgd::new(0.1))
        .callback(|info| {
            seen.push((info.step, info.params[0], info.grads[0]));
            if info.step == 2 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .run(&mut params, seed_003)
        .unwrap();
    assert_eq!(report.stop, StopReason::Callback);
    assert_eq!(report.steps, 2);
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1], (1, 12.4, 2.0 * (12.4 - 50.0)));
}

#[test]
fn a_loss_that_blows_up_is_an_error_naming_the_step_and_the_value() {
    // SGD with lr 10 on x²: x ← −19·x, so x² overflows to +inf after about 120 steps.
    let mut params = [1.0_f64];
    let mut trajectory = Vec::new();
    let error = Minimizer::new(Sgd::new(10.0))
        .max_steps(10_000)
        .callback(|info| trajectory.push(info.params[0]))
        .run(&mut params, |p| (p[0] * p[0], 2.0 * p[0]))
        .unwrap_err();
    let TrainError::Diverged {
        step,
        quantity,
        value,
        ref history,
    } = error
    else {
        panic!("expected divergence, got {error}");
    };
    assert_eq!(quantity, Quantity::Loss);
    assert_eq!(value, f64::INFINITY);
    assert!((100..200).contains(&step), "step {step}");
    // The parameters are the last ones whose loss was finite: step − 1.
    assert_eq!(
        trajectory.len() as u64,
        step,
        "one callback per finite evaluation"
    );
    assert_eq!(Some(&params[0]), trajectory.last());
    assert!(params[0].is_finite() && (params[0] * params[0]).is_finite());
    assert_eq!(history.losses.len() as u64, step);
    assert_eq!(
        error.to_string(),
        format!(
            "diverged at step {step}: the loss is inf; the parameters are left at step {}, the \
             last with a finite loss and gradient",
            step - 1
        )
    );
}

#[test]
fn a_nan_gradient_component_is_named() {
    let mut params = [2.5, 0.0];
    let error = minimize(&mut params, Sgd::new(1.0), 100, |p| {
        let g1 = if p[0] < 0.0 { f64::NAN } else { 0.0 };
        (p[0], vec![1.0, g1])
    })
    .unwrap_err();
    let TrainError::Diverged {
        step,
        quantity,
        value,
        ..
    } = error
    else {
        panic!("expected divergence, got {error}");
    };
    // 2.5 → 1.5 → 0.5 → −0.5: the gradient is NaN at step 3, the parameters go back to 0.5.
    assert_eq!((step, quantity), (3, Quantity::Gradient { index: 1 }));
    assert!(value.is_nan());
    assert_eq!(params, [0.5, 0.0]);
}

#[test]
fn a_step_that_overflows_a_parameter_is_undone() {
    let mut params = [1.0, 2.0];
    let error = minimize(&mut params, Sgd::new(1e300), 10, |p| (p[1], [0.0, -1e10])).unwrap_err();
    let TrainError::Diverged {
        step,
        quantity,
        value,
        ..
    } = error
    else {
        panic!("expected divergence, got {error}");
    };
    assert_eq!(
        (step, quantity, value),
        (1, Quantity::Parameter { index: 1 }, f64::INFINITY)
    );
    assert_eq!(params, [1.0, 2.0]);
}

#[test]
fn a_non_finite_starting_point_leaves_the_parameters_alone() {
    let mut params = [-1.0_f64];
    let error = minimize(&mut params, Sgd::new(0.1), 10, |p| {
        (p[0].sqrt(), 0.5 / p[0].sqrt())
    })
    .unwrap_err();
    assert!(matches!(
        error,
        TrainError::Diverged {
            step: 0,
            quantity: Quantity::Loss,
            ..
        }
    ));
    assert_eq!(params, [-1.0]);
    assert!(
        error
            .to_string()
            .starts_with("not finite at the starting point: the loss is NaN")
    );
}

#[test]
fn a_gradient_of_the_wrong_length_is_an_error() {
    let mut params = [1.0, 2.0];
    let error = minimize(&mut params, Sgd::new(0.1), 10, |p| (p[0], [1.0])).unwrap_err();
    assert_eq!(
        error,
        TrainError::GradientLength {
            step: 0,
            params: 2,
            grads: 1
        }
    );
    assert_eq!(params, [1.0, 2.0]);
}

#[test]
fn an_invalid_optimizer_is_an_error_not_a_panic() {
    let mut params = [1.0];
    let error = minimize(&mut params, Adam::new(0.1).betas(1.5, 0.999), 10, seed_003).unwrap_err();
    assert!(
        matches!(error, TrainError::Optimizer { step: 1, .. }),
        "{error}"
    );
    assert_eq!(params, [1.0]);
}

#[test]
fn a_step_below_the_parameters_precision_stops_as_stalled() {
    let mut params = [1e20_f32];
    let report = minimize(&mut params, Sgd::new(1e-3), 100, |p| (p[0], 1.0_f32)).unwrap();
    assert_eq!(report.stop, StopReason::Stalled);
    assert_eq!(report.steps, 1);
}

#[test]
fn f32_parameters_train_too() {
    let mut params = [3.0_f32];
    let report = minimize(&mut params, Adam::keras(1.0), 200, |p| {
        ((p[0] - 50.0).powi(2), 2.0 * (p[0] - 50.0))
    })
    .unwrap();
    assert_eq!(report.steps, 200);
    assert!((params[0] - 50.0).abs() < 0.1);
}

#[test]
fn a_schedule_drives_the_learning_rate() {
    let mut params = [3.0];
    let schedule = StepLr::new(2).gamma(0.5);
    let report = Minimizer::new(Sgd::new(0.1))
        .max_steps(5)
        .schedule(schedule)
        .run(&mut params, seed_003)
        .unwrap();
    let expected: Vec<f64> = (0..5).map(|e| schedule.lr(0.1, e)).collect();
    assert_eq!(report.history.lrs, expected);
    assert_eq!(report.history.lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
}

#[test]
fn clipping_applies_before_the_step() {
    // |gradient| > 1 all the way, so each clipped SGD step moves x by exactly lr = 0.5.
    let mut params = [3.0];
    let report = Minimizer::new(Sgd::new(0.5))
        .max_steps(4)
        .clip(Clip::Value(1.0))
        .run(&mut params, seed_003)
        .unwrap();
    assert_eq!(params, [5.0]);
    assert_eq!(
        report.history.grad_norms[0], 94.0,
        "history keeps the unclipped norm"
    );
}

#[test]
fn an_optimizer_chosen_at_run_time_trains() {
    for name in ["sgd", "adam", "rmsprop"] {
        let optimizer: Box<dyn Optimizer> = match name {
            "sgd" => Box::new(Sgd::new(0.1).momentum(0.5)),
            "adam" => Box::new(Adam::new(1.0)),
            _ => Box::new(RmsProp::new(1.0)),
        };
        let mut params = [3.0];
        let report = minimize(&mut params, optimizer, 500, seed_003).unwrap();
        assert!(report.final_loss < 1.0, "{name}: {report}");
    }
}

#[test]
fn progress_does_not_change_the_run() {
    let (mut quiet, mut loud) = ([3.0], [3.0]);
    let a = minimize(&mut quiet, Adam::new(0.5), 50, seed_003).unwrap();
    let b = Minimizer::new(Adam::new(0.5))
        .max_steps(50)
        .progress(true)
        .run(&mut loud, seed_003)
        .unwrap();
    assert_eq!(quiet, loud);
    assert_eq!(a, b);
}
