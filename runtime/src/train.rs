//! A training loop over any gradient function: [`Minimizer`] (builder) and [`minimize`] (one call).
//!
//! The objective is any `FnMut(&[T]) -> (T, G)` with `G:` [`Gradient<T>`], so the `*_grad`
//! companions `#[differentiable]` generates plug straight in: `|p| cost_grad(p[0], 1.0, 1.0)`.
//!
//! ```
//! use symgrad::optim::Adam;
//! use symgrad::train::{Minimizer, StopReason};
//!
//! // Seed 003: minimize (x − 50)² from x = 3 with `tf.keras.optimizers.Adam(1)`.
//! let loss_grad = |x: f64| ((x - 50.0).powi(2), 2.0 * (x - 50.0));
//! let mut params = [3.0];
//! let report = Minimizer::new(Adam::keras(1.0))
//!     .max_steps(200)
//!     .tol_grad_norm(1e-6)
//!     .run(&mut params, |p| loss_grad(p[0]))?;
//! assert!((params[0] - 50.0).abs() < 0.1);
//! assert_eq!(report.stop, StopReason::MaxSteps);
//! assert_eq!(report.history.losses.len(), 201); // the start and every step
//! # Ok::<(), symgrad::train::TrainError>(())
//! ```
//!
//! # One run, step by step
//!
//! Evaluation `k = 0, 1, …` computes the loss and gradient at the parameters after `k` optimizer
//! steps, then:
//!
//! 1. checks the gradient has one component per parameter ([`TrainError::GradientLength`]);
//! 2. checks the loss and gradient are finite: if not, the parameters go back to evaluation
//!    `k − 1`'s, the last whose loss and gradient were finite, and the run fails with
//!    [`TrainError::Diverged`];
//! 3. records the loss, gradient norm (and, if asked, the parameters) in the [`History`];
//! 4. stops if `k` is `max_steps`, the gradient norm is at most `tol_grad_norm`, the loss changed
//!    by at most `tol_loss` since evaluation `k − 1`, or the callback says [`Control::Stop`];
//! 5. sets the learning rate from the schedule, clips the gradient, and takes optimizer step
//!    `k + 1`. A step that makes a parameter non-finite is undone and fails with
//!    [`TrainError::Diverged`]; a step that leaves every parameter unchanged although the gradient
//!    and the learning rate are non-zero stops the run with [`StopReason::Stalled`]: no step
//!    silently does nothing.
//!
//! So `max_steps` steps take `max_steps + 1` evaluations, and [`Report::final_loss`] is the loss
//! at the parameters the run leaves. A run stopped at `max_steps` with the loss still going up and
//! down, or up, over its last steps says so in [`Report::oscillation`] and in the report's
//! `Display`, with what to try.

use std::fmt;

use crate::clip::{Clip, grad_norm};
use crate::gradient::Gradient;
use crate::optim::{OptimError, Optimizer, Real};
use crate::params::Parameters;
use crate::schedule::Schedule;

/// Runs an optimizer on an objective until a stopping rule fires. See the [module docs](self)
/// for what one run does.
///
/// Defaults: `max_steps = 1000`, no loss or gradient tolerance, no schedule, no clipping, no
/// callback, losses and gradient norms recorded but not parameters, no progress bar.
///
/// The optimizer keeps its state between runs (call [`Minimizer::optimizer_mut`] and
/// [`Optimizer::reset`] to start afresh).
///
/// ```
/// use symgrad::clip::Clip;
/// use symgrad::optim::{Adam, Optimizer, Sgd};
/// use symgrad::schedule::ExponentialLr;
/// use symgrad::train::{Minimizer, StopReason};
///
/// // f(x, y) = (x − 1)² + 10·(y + 2)², with its gradient written by hand.
/// let f = |p: &[f64]| {
///     let (dx, dy) = (p[0] - 1.0, p[1] + 2.0);
///     (dx * dx + 10.0 * dy * dy, [2.0 * dx, 20.0 * dy])
/// };
///
/// // The optimizer can be chosen at run time.
/// let name = "sgd";
/// let optimizer: Box<dyn Optimizer> = match name {
///     "adam" => Box::new(Adam::new(0.1)),
///     _ => Box::new(Sgd::new(0.04)),
/// };
/// let mut p = [0.0, 0.0];
/// let report = Minimizer::new(optimizer)
///     .max_steps(5000)
///     .tol_grad_norm(1e-8)
///     .schedule(ExponentialLr::new(1.0)) // constant, for the sake of the example
///     .clip(Clip::Norm(100.0))
///     .run(&mut p, f)?;
/// assert!(matches!(report.stop, StopReason::GradNorm { .. }));
/// assert!((p[0] - 1.0).abs() < 1e-8 && (p[1] + 2.0).abs() < 1e-8);
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
pub struct Minimizer<'a, O, T: Real = f64> {
    optimizer: O,
    max_steps: u64,
    tol_loss: Option<f64>,
    tol_grad_norm: Option<f64>,
    record_params: bool,
    progress: bool,
    schedule: Option<Box<dyn Schedule + 'a>>,
    clip: Option<Clip>,
    callback: Option<Callback<'a, T>>,
}

type Callback<'a, T> = Box<dyn FnMut(&StepInfo<'_, T>) -> Control + 'a>;

/// What the callback sees at each evaluation, before the step is taken.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::Minimizer;
///
/// // x² from x = 1 with lr 0.25: every step halves x.
/// let mut seen = Vec::new();
/// let mut x = [1.0_f64];
/// Minimizer::new(Sgd::new(0.25))
///     .max_steps(3)
///     .callback(|info| seen.push((info.step, info.loss, info.params[0], info.grads[0], info.lr)))
///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
/// // Called before each step (not after the last one).
/// assert_eq!(
///     seen,
///     [(0, 1.0, 1.0, 2.0, 0.25), (1, 0.25, 0.5, 1.0, 0.25), (2, 0.0625, 0.25, 0.5, 0.25)]
/// );
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StepInfo<'s, T> {
    /// Optimizer steps taken so far (0 at the starting point).
    pub step: u64,
    /// The loss at `params`.
    pub loss: T,
    /// The L2 norm of the gradient at `params` (before clipping).
    pub grad_norm: f64,
    /// The learning rate the optimizer has now.
    pub lr: f64,
    /// The current parameters.
    pub params: &'s [T],
    /// The gradient at `params` (before clipping).
    pub grads: &'s [T],
}

/// The callback's verdict: go on, or stop the run here ([`StopReason::Callback`]).
///
/// A callback returning `()` continues.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Control, Minimizer, StopReason};
///
/// assert_eq!(Control::from(()), Control::Continue);
///
/// let mut x = [1.0_f64];
/// let report = Minimizer::new(Sgd::new(0.25))
///     .callback(|info| if info.step == 2 { Control::Stop } else { Control::Continue })
///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
/// assert_eq!((report.steps, report.stop), (2, StopReason::Callback));
/// assert_eq!(x, [0.25]);
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Take the next step.
    Continue,
    /// Stop now; the parameters stay where they are.
    Stop,
}

impl From<()> for Control {
    fn from((): ()) -> Self {
        Self::Continue
    }
}

/// Why a run stopped (without error). `Display` says it in a sentence; [`Report`]'s adds the
/// step count and, for a run stopped at `max_steps` with the loss still going up and down, the
/// [`Oscillation`].
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Minimizer, StopReason};
///
/// // x² from x = 1 with lr 0.25: the gradient 2x halves every step, 2, 1, 0.5, 0.25.
/// let mut x = [1.0_f64];
/// let report = Minimizer::new(Sgd::new(0.25))
///     .tol_grad_norm(0.3)
///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
/// assert_eq!(report.stop, StopReason::GradNorm { norm: 0.25 });
/// assert_eq!(report.steps, 3);
/// assert_eq!(
///     report.stop.to_string(),
///     "converged: the gradient norm 2.500e-1 is at most tol_grad_norm"
/// );
/// assert_eq!(StopReason::MaxSteps.to_string(), "stopped at the step limit, max_steps");
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopReason {
    /// `max_steps` steps were taken.
    MaxSteps,
    /// The loss changed by at most `tol_loss` between two evaluations.
    LossChange {
        /// The absolute change.
        change: f64,
    },
    /// The gradient norm was at most `tol_grad_norm`.
    GradNorm {
        /// The norm.
        norm: f64,
    },
    /// The callback returned [`Control::Stop`].
    Callback,
    /// A step left every parameter exactly as it was, although the gradient and the learning rate
    /// were non-zero: the updates are below the parameters' precision.
    Stalled,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MaxSteps => write!(f, "stopped at the step limit, max_steps"),
            Self::LossChange { change } => write!(
                f,
                "converged: the last step changed the loss by {change:.3e}, at most tol_loss"
            ),
            Self::GradNorm { norm } => write!(
                f,
                "converged: the gradient norm {norm:.3e} is at most tol_grad_norm"
            ),
            Self::Callback => write!(f, "stopped by the callback"),
            Self::Stalled => write!(
                f,
                "stalled: a step changed no parameter (its updates were below the parameters' \
                 precision)"
            ),
        }
    }
}

/// What a run went through, for plots and diagnostics: entry `k` is evaluation `k` (after `k`
/// steps).
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::Minimizer;
///
/// let mut x = [1.0_f64];
/// let report = Minimizer::new(Sgd::new(0.25))
///     .max_steps(2)
///     .record_params(true)
///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
/// let h = &report.history;
/// assert_eq!(h.losses, [1.0, 0.25, 0.0625]); // one per evaluation: 2 steps, 3 evaluations
/// assert_eq!(h.grad_norms, [2.0, 1.0, 0.5]);
/// assert_eq!(h.lrs, [0.25, 0.25]); // one per step
/// assert_eq!(h.params, [[1.0], [0.5], [0.25]]);
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History<T> {
    /// The loss at every evaluation.
    pub losses: Vec<T>,
    /// The gradient's L2 norm (before clipping) at every evaluation.
    pub grad_norms: Vec<f64>,
    /// The learning rate used by step `k + 1`, for every step taken.
    pub lrs: Vec<f64>,
    /// The parameters at every evaluation; empty unless [`Minimizer::record_params`] is on.
    pub params: Vec<Vec<T>>,
}

/// The outcome of a run that stopped without error.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Minimizer, StopReason};
///
/// let mut x = [1.0_f64];
/// let report = Minimizer::new(Sgd::new(0.25))
///     .max_steps(4)
///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
/// assert_eq!(report.steps, 4);
/// assert_eq!(report.final_loss, x[0] * x[0]); // the loss where the parameters are left
/// assert_eq!((x[0], report.final_grad_norm), (0.0625, 0.125));
/// assert_eq!(report.stop, StopReason::MaxSteps);
/// assert_eq!(report.oscillation, None); // the loss went down at every step
/// assert_eq!(
///     report.to_string(),
///     "4 steps, final loss 3.906250e-3, gradient norm 1.250e-1: \
///      stopped at the step limit, max_steps"
/// );
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Report<T> {
    /// Optimizer steps taken.
    pub steps: u64,
    /// The loss at the parameters the run leaves.
    pub final_loss: T,
    /// The gradient norm there.
    pub final_grad_norm: f64,
    /// Why the run stopped.
    pub stop: StopReason,
    /// For a run stopped at `max_steps` ([`StopReason::MaxSteps`]): how the loss was still going
    /// up and down, or not decreasing, over the last steps; `None` if it was not.
    pub oscillation: Option<Oscillation>,
    /// Losses, gradient norms, learning rates (and parameters, if recorded) along the way.
    pub history: History<T>,
}

impl<T: Real> fmt::Display for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} steps, final loss {:.6e}, gradient norm {:.3e}: {}",
            self.steps,
            self.final_loss.to_f64(),
            self.final_grad_norm,
            self.stop
        )?;
        match &self.oscillation {
            Some(oscillation) => write!(f, "; {oscillation}"),
            None => Ok(()),
        }
    }
}

/// How the loss moved over the last steps of a run that stopped at `max_steps` without settling,
/// going up and down or up: the sign of a learning rate too large for the problem (or for this
/// stage of it). [`Report::oscillation`] holds it; `Display` says it and what to try.
///
/// It looks at the last 20 steps (all of them in a shorter run of at least 4) and counts those
/// that raised the loss by more than one part in a million. The loss oscillates when a quarter
/// of them or more did, or when any did and the loss ends them no lower than it started.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Minimizer, Oscillation};
///
/// // x² + y² with momentum 0.9: the heavy ball overshoots the minimum, turn after turn.
/// let mut p = [1.0_f64, -0.5];
/// let report = Minimizer::new(Sgd::new(0.1).momentum(0.9))
///     .max_steps(100)
///     .run(&mut p, |p| (p[0] * p[0] + p[1] * p[1], [2.0 * p[0], 2.0 * p[1]]))?;
/// let oscillation = report.oscillation.expect("still ringing after 100 steps");
/// assert_eq!((oscillation.window, oscillation.rises), (20, 8));
/// assert!(oscillation.change < 0.0); // lower at the end: converging, slowly
/// assert_eq!(
///     oscillation.to_string(),
///     "the loss was still going up and down (it rose in 8 of the last 20 steps): \
///      try a smaller learning rate or a decaying schedule (`Minimizer::schedule`)"
/// );
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Oscillation {
    /// The steps looked at: the run's last 20, or all its steps if it had fewer.
    pub window: usize,
    /// How many of them raised the loss (by more than one part in a million).
    pub rises: usize,
    /// The loss after the window's last step minus the loss before its first.
    pub change: f64,
}

/// Steps [`Oscillation`] looks back over, and the fewest it judges.
const OSCILLATION_WINDOW: usize = 20;
const OSCILLATION_MIN_WINDOW: usize = 4;

/// A rise of the loss smaller than this, relative to the loss, is rounding (in `f32` too).
const RISE_TOLERANCE: f64 = 1e-6;

impl Oscillation {
    /// The oscillation of the last steps of `losses` (one per evaluation), if any.
    fn detect<T: Real>(losses: &[T]) -> Option<Self> {
        let window = losses.len().saturating_sub(1).min(OSCILLATION_WINDOW);
        if window < OSCILLATION_MIN_WINDOW {
            return None;
        }
        let last: Vec<f64> = losses[losses.len() - window - 1..]
            .iter()
            .map(|loss| loss.to_f64())
            .collect();
        let rises = last
            .windows(2)
            .filter(|pair| pair[1] - pair[0] > RISE_TOLERANCE * pair[0].abs().max(pair[1].abs()))
            .count();
        let change = last[window] - last[0];
        let oscillates = 4 * rises >= window || (rises > 0 && change >= 0.0);
        oscillates.then_some(Self {
            window,
            rises,
            change,
        })
    }
}

impl fmt::Display for Oscillation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            window,
            rises,
            change,
        } = *self;
        if change >= 0.0 {
            write!(
                f,
                "the loss did not decrease over the last {window} steps (it rose in {rises} of \
                 them)"
            )?;
        } else {
            write!(
                f,
                "the loss was still going up and down (it rose in {rises} of the last {window} \
                 steps)"
            )?;
        }
        write!(
            f,
            ": try a smaller learning rate or a decaying schedule (`Minimizer::schedule`)"
        )
    }
}

/// Which quantity turned NaN or infinite.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Minimizer, Quantity, TrainError};
///
/// // A gradient that is NaN from the start: nothing moves.
/// let mut p = [1.0_f64, 2.0];
/// let error = Minimizer::new(Sgd::new(0.1))
///     .run(&mut p, |p| (p[0] + p[1], [1.0, f64::NAN]))
///     .unwrap_err();
/// assert!(matches!(
///     error,
///     TrainError::Diverged { step: 0, quantity: Quantity::Gradient { index: 1 }, .. }
/// ));
/// assert_eq!(p, [1.0, 2.0]);
/// assert_eq!(Quantity::Gradient { index: 1 }.to_string(), "gradient component 1");
///
/// // A step that overflows a parameter is undone.
/// let mut p = [1e308_f64];
/// let error = Minimizer::new(Sgd::new(1e308)).run(&mut p, |p| (-p[0], -1.0)).unwrap_err();
/// assert!(matches!(
///     error,
///     TrainError::Diverged { step: 1, quantity: Quantity::Parameter { index: 0 }, .. }
/// ));
/// assert_eq!(p, [1e308]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// The loss.
    Loss,
    /// Gradient component `index`.
    Gradient {
        /// The component.
        index: usize,
    },
    /// Parameter `index`, after an optimizer step.
    Parameter {
        /// The component.
        index: usize,
    },
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Loss => write!(f, "the loss"),
            Self::Gradient { index } => write!(f, "gradient component {index}"),
            Self::Parameter { index } => write!(f, "parameter {index}"),
        }
    }
}

/// Why a run failed. In every case the parameters hold finite values: those of the last
/// evaluation whose loss and gradient were finite.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::{Minimizer, Quantity, TrainError};
///
/// // Minimizing ln(x) from 1 with lr 1 jumps to x = 0, where the loss is −∞.
/// let mut x = [1.0_f64];
/// let error = Minimizer::new(Sgd::new(1.0))
///     .run(&mut x, |p| (p[0].ln(), 1.0 / p[0]))
///     .unwrap_err();
/// match &error {
///     TrainError::Diverged { step, quantity, value, history } => {
///         assert_eq!((*step, *quantity, *value), (1, Quantity::Loss, f64::NEG_INFINITY));
///         assert_eq!(history.losses, [0.0]); // the evaluations that were finite
///     }
///     other => panic!("unexpected {other}"),
/// }
/// assert_eq!(x, [1.0]); // back at the last finite point
/// assert_eq!(
///     error.to_string(),
///     "diverged at step 1: the loss is -inf; the parameters are left at step 0, \
///      the last with a finite loss and gradient"
/// );
///
/// // A gradient of the wrong length is an error too.
/// let error = Minimizer::new(Sgd::new(1.0))
///     .run(&mut x, |p| (p[0], [1.0, 1.0]))
///     .unwrap_err();
/// assert_eq!(error, TrainError::GradientLength { step: 0, params: 1, grads: 2 });
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainError<T = f64> {
    /// A loss, gradient component or parameter became NaN or infinite at step `step`; the
    /// parameters are back at step `step − 1` (or, for `step = 0`, were never changed).
    Diverged {
        /// Optimizer steps taken when it was seen (0: at the starting point).
        step: u64,
        /// What was not finite.
        quantity: Quantity,
        /// Its value.
        value: f64,
        /// The run up to the last finite evaluation (empty if the starting point was not finite).
        history: Box<History<T>>,
    },
    /// The gradient does not have one component per parameter.
    GradientLength {
        /// The evaluation where it happened.
        step: u64,
        /// Number of parameters.
        params: usize,
        /// Number of gradient components.
        grads: usize,
    },
    /// The optimizer refused a step (an invalid hyper-parameter, or state from another run).
    Optimizer {
        /// The step it refused (1-based).
        step: u64,
        /// Its reason.
        source: OptimError,
    },
}

impl<T> fmt::Display for TrainError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Diverged {
                step: 0,
                quantity,
                value,
                ..
            } => write!(
                f,
                "not finite at the starting point: {quantity} is {value}; the parameters are unchanged"
            ),
            Self::Diverged {
                step,
                quantity,
                value,
                ..
            } => write!(
                f,
                "diverged at step {step}: {quantity} is {value}; the parameters are left at step \
                 {}, the last with a finite loss and gradient",
                step - 1
            ),
            Self::GradientLength {
                step,
                params,
                grads,
            } => write!(
                f,
                "at step {step} the gradient has {grads} components but there are {params} \
                 parameters; the objective must return one gradient component per parameter"
            ),
            Self::Optimizer { step, source } => {
                write!(f, "the optimizer refused step {step}: {source}")
            }
        }
    }
}

impl<T: fmt::Debug> std::error::Error for TrainError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Optimizer { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Runs `optimizer` for at most `max_steps` steps on `objective` from `params`, with the
/// [`Minimizer`] defaults otherwise.
///
/// ```
/// use symgrad::optim::Sgd;
/// use symgrad::train::minimize;
///
/// // Seed 000: J(w) = (w·x − y)², x = y = 1, from w = 3, lr 0.01, 30 iterations.
/// let (x, y) = (1.0, 1.0);
/// let mut w = [3.0];
/// let report = minimize(&mut w, Sgd::new(0.01), 30, |p| {
///     let r = p[0] * x - y;
///     (r * r, 2.0 * r * x)
/// })?;
/// assert_eq!(report.steps, 30);
/// assert!((w[0] - (1.0 + 2.0 * 0.98_f64.powi(30))).abs() < 1e-12);
/// # Ok::<(), symgrad::train::TrainError>(())
/// ```
pub fn minimize<T, O, G, F>(
    params: &mut [T],
    optimizer: O,
    max_steps: u64,
    objective: F,
) -> Result<Report<T>, TrainError<T>>
where
    T: Real,
    O: Optimizer<T>,
    G: Gradient<T>,
    F: FnMut(&[T]) -> (T, G),
{
    Minimizer::new(optimizer)
        .max_steps(max_steps)
        .run(params, objective)
}

impl<'a, O, T: Real> Minimizer<'a, O, T> {
    /// A minimizer stepping with `optimizer` (any [`Optimizer`], `Box<dyn Optimizer>` included).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    /// use symgrad::train::Minimizer;
    ///
    /// // Seed 003's (x − 50)² with Keras's Adam(1), as a boxed optimizer.
    /// let adam: Box<dyn Optimizer> = Box::new(Adam::keras(1.0));
    /// let mut x = [3.0];
    /// let loss_grad = |p: &[f64]| ((p[0] - 50.0).powi(2), 2.0 * (p[0] - 50.0));
    /// Minimizer::new(adam).max_steps(200).run(&mut x, loss_grad)?;
    /// assert!((x[0] - 50.0).abs() < 0.5);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    pub fn new(optimizer: O) -> Self {
        Self {
            optimizer,
            max_steps: 1000,
            tol_loss: None,
            tol_grad_norm: None,
            record_params: false,
            progress: false,
            schedule: None,
            clip: None,
            callback: None,
        }
    }

    /// At most this many optimizer steps (default 1000). `0` evaluates the starting point only.
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::Minimizer;
    ///
    /// let mut x = [1.0_f64];
    /// let report = Minimizer::new(Sgd::new(0.25))
    ///     .max_steps(0)
    ///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!((report.steps, report.final_loss, x[0]), (0, 1.0, 1.0));
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn max_steps(mut self, max_steps: u64) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// Stop when the loss changes by at most `tol` (absolute) between two evaluations.
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::{Minimizer, StopReason};
    ///
    /// // x² from 1 with lr 0.25: losses 1, 1/4, 1/16, 1/64, … change by 3/4, 3/16, 3/64, …
    /// let mut x = [1.0_f64];
    /// let report = Minimizer::new(Sgd::new(0.25))
    ///     .tol_loss(0.05)
    ///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!(report.stop, StopReason::LossChange { change: 3.0 / 64.0 });
    /// assert_eq!(report.steps, 3);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn tol_loss(mut self, tol: f64) -> Self {
        self.tol_loss = Some(tol);
        self
    }

    /// Stop when the gradient's L2 norm is at most `tol` (before taking a step from there).
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::{Minimizer, StopReason};
    ///
    /// // x² from 1 with lr 0.25: the gradient norm is 2·2⁻ᵏ after k steps.
    /// let mut x = [1.0_f64];
    /// let report = Minimizer::new(Sgd::new(0.25))
    ///     .tol_grad_norm(1e-3)
    ///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!(report.steps, 11); // 2·2⁻¹¹ ≈ 9.8e-4
    /// assert!(matches!(report.stop, StopReason::GradNorm { norm } if norm <= 1e-3));
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn tol_grad_norm(mut self, tol: f64) -> Self {
        self.tol_grad_norm = Some(tol);
        self
    }

    /// Also record the parameters at every evaluation in [`History::params`] (default off: it
    /// costs one copy of the parameters per step).
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::Minimizer;
    ///
    /// // The path of gradient descent on x² + 4y², for a plot.
    /// let mut p = [1.0_f64, 1.0];
    /// let report = Minimizer::new(Sgd::new(0.1))
    ///     .max_steps(2)
    ///     .record_params(true)
    ///     .run(&mut p, |p| (p[0] * p[0] + 4.0 * p[1] * p[1], [2.0 * p[0], 8.0 * p[1]]))?;
    /// let path = &report.history.params;
    /// assert_eq!(path.len(), 3);
    /// assert_eq!(path[0], [1.0, 1.0]);
    /// assert!((path[1][0] - 0.8).abs() < 1e-15 && (path[1][1] - 0.2).abs() < 1e-15);
    /// assert_eq!(path[2], p);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn record_params(mut self, record: bool) -> Self {
        self.record_params = record;
        self
    }

    /// Show progress on stderr. With the `progress` cargo feature (of `symgrad`, which turns on
    /// `symgrad-runtime`'s), an `indicatif` bar with the current loss (hidden when stderr is not
    /// a terminal); without it, about ten plain lines per run (`step 20/200  loss …  |grad| …`)
    /// and a summary line.
    ///
    /// ```
    /// use symgrad::optim::Adam;
    /// use symgrad::train::Minimizer;
    ///
    /// // On stderr: `step 0/200  loss 2.209000e3  |grad| 9.400e1`, … and `done: 200 steps, …`.
    /// let mut x = [3.0_f64];
    /// let report = Minimizer::new(Adam::keras(1.0))
    ///     .max_steps(200)
    ///     .progress(true)
    ///     .run(&mut x, |p| ((p[0] - 50.0).powi(2), 2.0 * (p[0] - 50.0)))?;
    /// assert_eq!(report.steps, 200);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Drive the learning rate with `schedule`: step `k + 1` uses `schedule.lr(base_lr, k)`, where
    /// `base_lr` is the optimizer's learning rate when the run starts (see [`crate::schedule`]).
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::schedule::StepLr;
    /// use symgrad::train::Minimizer;
    ///
    /// let mut x = [1.0_f64];
    /// let report = Minimizer::new(Sgd::new(0.1))
    ///     .max_steps(3)
    ///     .schedule(StepLr::new(1).gamma(0.5))
    ///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!(report.history.lrs, [0.1, 0.05, 0.025]);
    ///
    /// // Any closure `(base_lr, epoch) -> lr` works too.
    /// let report = Minimizer::new(Sgd::new(0.1))
    ///     .max_steps(3)
    ///     .schedule(|base_lr: f64, epoch: u64| base_lr / (epoch + 1) as f64)
    ///     .run(&mut x, |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!(report.history.lrs, [0.1, 0.05, 0.1 / 3.0]);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn schedule(mut self, schedule: impl Schedule + 'a) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// Clip every gradient before the optimizer sees it (the history records the norm before).
    ///
    /// ```
    /// use symgrad::clip::Clip;
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::Minimizer;
    ///
    /// // A steep slope, 100·x: clipped to 1, each step of lr 1 moves x by 1.
    /// let mut x = [0.0_f64];
    /// let report = Minimizer::new(Sgd::new(1.0))
    ///     .max_steps(3)
    ///     .clip(Clip::Value(1.0))
    ///     .run(&mut x, |p| (100.0 * p[0], 100.0))?;
    /// assert_eq!(x, [-3.0]);
    /// assert_eq!(report.history.grad_norms, [100.0; 4]);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Call `callback` at every evaluation, before the step; it returns `()` (go on) or a
    /// [`Control`].
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::{Control, Minimizer, StopReason};
    ///
    /// let mut x = [0.0_f64];
    /// let report = Minimizer::new(Sgd::new(0.1))
    ///     .callback(|info| if info.loss < 1.0 { Control::Stop } else { Control::Continue })
    ///     .run(&mut x, |p| ((p[0] - 5.0).powi(2), 2.0 * (p[0] - 5.0)))?;
    /// assert_eq!(report.stop, StopReason::Callback);
    /// assert!(report.final_loss < 1.0);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    #[must_use]
    pub fn callback<R: Into<Control>>(
        mut self,
        mut callback: impl FnMut(&StepInfo<'_, T>) -> R + 'a,
    ) -> Self {
        self.callback = Some(Box::new(move |info| callback(info).into()));
        self
    }

    /// The optimizer (with its state after a run).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    /// use symgrad::train::Minimizer;
    ///
    /// let mut minimizer = Minimizer::new(Adam::new(0.1)).max_steps(5);
    /// minimizer.run(&mut [1.0_f64], |p| (p[0] * p[0], 2.0 * p[0]))?;
    /// assert_eq!(minimizer.optimizer().step_count(), 5);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutably (e.g. to [`reset`](Optimizer::reset) it between runs).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    /// use symgrad::train::Minimizer;
    ///
    /// let mut minimizer = Minimizer::new(Adam::new(0.1)).max_steps(5);
    /// minimizer.run(&mut [1.0_f64], |p| (p[0] * p[0], 2.0 * p[0]))?;
    ///
    /// // Adam's state belongs to a 1-parameter vector: reset it before a 2-parameter run.
    /// minimizer.optimizer_mut().reset();
    /// let mut p = [1.0_f64, -1.0];
    /// minimizer.run(&mut p, |p| (p[0] * p[0] + p[1] * p[1], [2.0 * p[0], 2.0 * p[1]]))?;
    /// assert_eq!(minimizer.optimizer().step_count(), 5);
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }
}

impl<O: Optimizer<T>, T: Real> Minimizer<'_, O, T> {
    /// Minimizes `objective` from `params`, updating them in place. See the [module docs](self)
    /// for what happens at each step.
    ///
    /// # Errors
    ///
    /// [`TrainError`]: a non-finite loss, gradient or parameter, a gradient of the wrong length,
    /// or a step the optimizer refuses. The parameters are then left at the last evaluation
    /// whose loss and gradient were finite.
    ///
    /// ```
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::Minimizer;
    ///
    /// // Seed 001: w·x ≈ y on (1, 2), (2, 4), (3, 6), mean squared error, batch descent.
    /// let (xs, ys) = ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]);
    /// let mse = |p: &[f64]| {
    ///     let n = xs.len() as f64;
    ///     let r = |i: usize| p[0] * xs[i] - ys[i];
    ///     let loss = (0..3).map(|i| r(i).powi(2)).sum::<f64>() / n;
    ///     let dw = (0..3).map(|i| 2.0 * r(i) * xs[i]).sum::<f64>() / n;
    ///     (loss, dw)
    /// };
    /// let mut w = [0.0];
    /// let report = Minimizer::new(Sgd::new(0.05)).tol_loss(1e-20).run(&mut w, mse)?;
    /// assert!((w[0] - 2.0).abs() < 1e-9, "{report}");
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    pub fn run<G, F>(
        &mut self,
        params: &mut [T],
        mut objective: F,
    ) -> Result<Report<T>, TrainError<T>>
    where
        G: Gradient<T>,
        F: FnMut(&[T]) -> (T, G),
    {
        self.run_flat(params, |p, flat| {
            let (loss, gradient) = objective(p);
            gradient.flatten_into(flat);
            loss
        })
    }

    /// [`run`](Self::run) for an objective that writes its gradient into one `G` the run keeps
    /// (a generated `<name>_grad_into`), rather than returning a new one at every step: a
    /// gradient with vectors is then allocated once per run, not once per step.
    ///
    /// ```
    /// use symgrad::differentiable;
    /// use symgrad::optim::Sgd;
    /// use symgrad::train::Minimizer;
    ///
    /// #[differentiable]
    /// fn springs(x: &[f64]) -> f64 {
    ///     let mut e = (x[0] - 1.0).powi(2);
    ///     for i in 1..x.len() {
    ///         e += (x[i] - x[i - 1] - 1.0).powi(2);
    ///     }
    ///     e
    /// }
    ///
    /// let mut x = [0.0; 4];
    /// Minimizer::new(Sgd::new(0.1))
    ///     .max_steps(3000)
    ///     .run_into(&mut x, |x, grad| springs_grad_into(x, grad))?;
    /// assert!(x.iter().zip([1.0, 2.0, 3.0, 4.0]).all(|(x, want)| (x - want).abs() < 1e-6));
    /// # Ok::<(), symgrad::train::TrainError>(())
    /// ```
    pub fn run_into<G, F>(
        &mut self,
        params: &mut [T],
        mut objective: F,
    ) -> Result<Report<T>, TrainError<T>>
    where
        G: Gradient<T> + Default,
        F: FnMut(&[T], &mut G) -> T,
    {
        let mut gradient = G::default();
        self.run_flat(params, |p, flat| {
            let loss = objective(p, &mut gradient);
            gradient.flatten_into(flat);
            loss
        })
    }

    /// [`run`](Self::run) over several parameters, a tuple of mutable references (a weight
    /// `Vec` and a bias, a few `ndarray` arrays, nalgebra vectors: any [`Parameters`]), updated
    /// in place. The objective gets the same tuple and returns the loss and a gradient whose
    /// flat order is the tuple's (a generated `<Name>Grad`, fields in declaration order, when
    /// the tuple follows the function's parameters); see [`params`](crate::params).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run); a gradient whose length is not the parameters' is an error. The
    /// parameters are then left at the last evaluation whose loss and gradient were finite.
    ///
    /// ```
    /// use symgrad::{Minimizer, differentiable, optim::Sgd};
    ///
    /// #[differentiable]
    /// fn fit(w: &[f64], b: f64) -> f64 {
    ///     (w[0] - 1.0).powi(2) + (w[1] + b - 2.0).powi(2) + b * b
    /// }
    ///
    /// let (mut w, mut b) = ([0.0, 0.0], 0.0);
    /// Minimizer::new(Sgd::new(0.1))
    ///     .max_steps(2000)
    ///     .run_params((&mut w, &mut b), |(w, b)| fit_grad(&w[..], **b))?;
    /// assert!((w[0] - 1.0).abs() < 1e-9 && (w[1] - 2.0).abs() < 1e-9 && b.abs() < 1e-9);
    /// # Ok::<(), symgrad::TrainError>(())
    /// ```
    pub fn run_params<P, G, F>(
        &mut self,
        mut params: P,
        mut objective: F,
    ) -> Result<Report<T>, TrainError<T>>
    where
        P: Parameters<T>,
        G: Gradient<T>,
        F: FnMut(&P) -> (T, G),
    {
        let mut flat = Vec::with_capacity(params.flat_len());
        params.read_flat(&mut flat);
        let outcome = self.run_flat(&mut flat, |p, out| {
            params.write_flat(p);
            let (loss, gradient) = objective(&params);
            gradient.flatten_into(out);
            loss
        });
        params.write_flat(&flat);
        outcome
    }

    /// [`run_params`](Self::run_params) for an objective that writes its gradient into one `G`
    /// the run keeps (a generated `<name>_grad_into`), as [`run_into`](Self::run_into) does.
    ///
    /// # Errors
    ///
    /// As [`run_params`](Self::run_params).
    pub fn run_params_into<P, G, F>(
        &mut self,
        mut params: P,
        mut objective: F,
    ) -> Result<Report<T>, TrainError<T>>
    where
        P: Parameters<T>,
        G: Gradient<T> + Default,
        F: FnMut(&P, &mut G) -> T,
    {
        let mut gradient = G::default();
        let mut flat = Vec::with_capacity(params.flat_len());
        params.read_flat(&mut flat);
        let outcome = self.run_flat(&mut flat, |p, out| {
            params.write_flat(p);
            let loss = objective(&params, &mut gradient);
            gradient.flatten_into(out);
            loss
        });
        params.write_flat(&flat);
        outcome
    }

    /// A run over an objective that appends its gradient to an empty vector and returns the
    /// loss.
    fn run_flat(
        &mut self,
        params: &mut [T],
        objective: impl FnMut(&[T], &mut Vec<T>) -> T,
    ) -> Result<Report<T>, TrainError<T>> {
        let mut run = Run::new(params, self.record_params);
        let mut progress = Progress::new(self.progress, self.max_steps);
        let outcome = self.run_loop(&mut run, params, objective, &mut progress);
        progress.finish(&outcome);
        outcome
    }

    fn run_loop(
        &mut self,
        run: &mut Run<T>,
        params: &mut [T],
        mut objective: impl FnMut(&[T], &mut Vec<T>) -> T,
        progress: &mut Progress,
    ) -> Result<Report<T>, TrainError<T>> {
        let base_lr = self.optimizer.lr();
        let mut step = 0;
        loop {
            run.grads.clear();
            let loss = objective(params, &mut run.grads);
            let grad_norm = run.evaluate(step, params, loss)?;
            progress.update(step, loss.to_f64(), grad_norm);
            if let Some(stop) = self.should_stop(run, step, params) {
                return Ok(run.report(step, stop));
            }
            if let Some(schedule) = &self.schedule {
                self.optimizer.set_lr(schedule.lr(base_lr, step));
            }
            if let Some(stop) = self.take_step(run, step, params)? {
                return Ok(run.report(step + 1, stop));
            }
            step += 1;
        }
    }

    /// The stopping rules, in order, at evaluation `step` (already recorded in `run`).
    fn should_stop(&mut self, run: &Run<T>, step: u64, params: &[T]) -> Option<StopReason> {
        let (loss, grad_norm) = run.last();
        if step >= self.max_steps {
            return Some(StopReason::MaxSteps);
        }
        if self.tol_grad_norm.is_some_and(|tol| grad_norm <= tol) {
            return Some(StopReason::GradNorm { norm: grad_norm });
        }
        if let (Some(tol), Some(change)) = (self.tol_loss, run.loss_change()) {
            if change <= tol {
                return Some(StopReason::LossChange { change });
            }
        }
        let callback = self.callback.as_mut()?;
        let info = StepInfo {
            step,
            loss,
            grad_norm,
            lr: self.optimizer.lr(),
            params,
            grads: &run.grads,
        };
        (callback(&info) == Control::Stop).then_some(StopReason::Callback)
    }

    /// Clips the gradient and takes optimizer step `step + 1`; undoes it if it made a parameter
    /// non-finite; reports a stall.
    fn take_step(
        &mut self,
        run: &mut Run<T>,
        step: u64,
        params: &mut [T],
    ) -> Result<Option<StopReason>, TrainError<T>> {
        if let Some(clip) = self.clip {
            clip.apply(&mut run.grads);
        }
        let lr = self.optimizer.lr();
        run.history.lrs.push(lr);
        run.last_finite.copy_from_slice(params);
        self.optimizer
            .try_step(params, &run.grads)
            .map_err(|source| TrainError::Optimizer {
                step: step + 1,
                source,
            })?;
        if let Some(index) = params.iter().position(|p| !p.to_f64().is_finite()) {
            let value = params[index].to_f64();
            params.copy_from_slice(&run.last_finite);
            let quantity = Quantity::Parameter { index };
            return Err(run.diverged(step + 1, quantity, value));
        }
        let stalled = lr != 0.0 && run.last().1 > 0.0 && *params == *run.last_finite;
        Ok(stalled.then_some(StopReason::Stalled))
    }
}

/// The mutable state of one run: the gradient buffer, the last finite parameters, the history.
struct Run<T> {
    grads: Vec<T>,
    last_finite: Vec<T>,
    record_params: bool,
    history: History<T>,
}

impl<T: Real> Run<T> {
    fn new(params: &[T], record_params: bool) -> Self {
        Self {
            grads: Vec::with_capacity(params.len()),
            last_finite: params.to_vec(),
            record_params,
            history: History::default(),
        }
    }

    /// Checks and records evaluation `step`, whose gradient is in `self.grads`; returns the
    /// gradient norm. On a non-finite loss or gradient, puts `params` back to the previous
    /// evaluation's.
    fn evaluate(&mut self, step: u64, params: &mut [T], loss: T) -> Result<f64, TrainError<T>> {
        if self.grads.len() != params.len() {
            return Err(TrainError::GradientLength {
                step,
                params: params.len(),
                grads: self.grads.len(),
            });
        }
        if let Some((quantity, value)) = first_non_finite(loss, &self.grads) {
            params.copy_from_slice(&self.last_finite);
            return Err(self.diverged(step, quantity, value));
        }
        let grad_norm = grad_norm(&self.grads);
        self.history.losses.push(loss);
        self.history.grad_norms.push(grad_norm);
        if self.record_params {
            self.history.params.push(params.to_vec());
        }
        Ok(grad_norm)
    }

    /// The loss and gradient norm of the last recorded evaluation.
    fn last(&self) -> (T, f64) {
        let loss = self.history.losses.last().copied().unwrap_or_default();
        let norm = self.history.grad_norms.last().copied().unwrap_or_default();
        (loss, norm)
    }

    /// `|loss_k − loss_{k−1}|` for the last two evaluations, if there are two.
    fn loss_change(&self) -> Option<f64> {
        match self.history.losses.as_slice() {
            [.., before, last] => Some((last.to_f64() - before.to_f64()).abs()),
            _ => None,
        }
    }

    /// The report of a run that stops after `steps` steps (moves the history out).
    fn report(&mut self, steps: u64, stop: StopReason) -> Report<T> {
        let (final_loss, final_grad_norm) = self.last();
        let oscillation = match stop {
            StopReason::MaxSteps => Oscillation::detect(&self.history.losses),
            _ => None,
        };
        Report {
            steps,
            final_loss,
            final_grad_norm,
            stop,
            oscillation,
            history: std::mem::take(&mut self.history),
        }
    }

    /// The divergence error at step `step` (moves the history out).
    fn diverged(&mut self, step: u64, quantity: Quantity, value: f64) -> TrainError<T> {
        TrainError::Diverged {
            step,
            quantity,
            value,
            history: Box::new(std::mem::take(&mut self.history)),
        }
    }
}

/// The first NaN or infinite value among the loss and the gradient.
fn first_non_finite<T: Real>(loss: T, grads: &[T]) -> Option<(Quantity, f64)> {
    if !loss.to_f64().is_finite() {
        return Some((Quantity::Loss, loss.to_f64()));
    }
    let index = grads.iter().position(|g| !g.to_f64().is_finite())?;
    Some((Quantity::Gradient { index }, grads[index].to_f64()))
}

/// Progress on stderr: an `indicatif` bar with the `progress` feature, plain lines without.
struct Progress {
    max_steps: u64,
    /// Report every this many steps.
    every: u64,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
    #[cfg(not(feature = "progress"))]
    enabled: bool,
}

impl Progress {
    /// The display granularity: about 10 lines, or 1000 bar updates, per run.
    fn every(max_steps: u64, updates: u64) -> u64 {
        (max_steps / updates).max(1)
    }

    /// One summary line for the end of a run.
    fn summary<T: Real>(outcome: &Result<Report<T>, TrainError<T>>) -> String {
        match outcome {
            Ok(report) => format!("done: {report}"),
            Err(error) => format!("failed: {error}"),
        }
    }
}

#[cfg(feature = "progress")]
impl Progress {
    fn new(enabled: bool, max_steps: u64) -> Self {
        let bar = enabled.then(|| {
            let style = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            indicatif::ProgressBar::new(max_steps).with_style(style)
        });
        Self {
            max_steps,
            every: Self::every(max_steps, 1000),
            bar,
        }
    }

    fn update(&mut self, step: u64, loss: f64, grad_norm: f64) {
        let Some(bar) = &self.bar else { return };
        if step % self.every == 0 || step == self.max_steps {
            bar.set_position(step);
            bar.set_message(format!("loss {loss:.6e}  |grad| {grad_norm:.3e}"));
        }
    }

    fn finish<T: Real>(&mut self, outcome: &Result<Report<T>, TrainError<T>>) {
        if let Some(bar) = self.bar.take() {
            bar.finish_with_message(Self::summary(outcome));
        }
    }
}

#[cfg(not(feature = "progress"))]
impl Progress {
    fn new(enabled: bool, max_steps: u64) -> Self {
        Self {
            max_steps,
            every: Self::every(max_steps, 10),
            enabled,
        }
    }

    fn update(&mut self, step: u64, loss: f64, grad_norm: f64) {
        if self.enabled && (step % self.every == 0 || step == self.max_steps) {
            let max_steps = self.max_steps;
            eprintln!("step {step}/{max_steps}  loss {loss:.6e}  |grad| {grad_norm:.3e}");
        }
    }

    fn finish<T: Real>(&mut self, outcome: &Result<Report<T>, TrainError<T>>) {
        if self.enabled {
            eprintln!("{}", Self::summary(outcome));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Minimizer, Oscillation, Report, StopReason};
    use crate::optim::Sgd;

    /// `f(p) = Σ aᵢ·pᵢ²` and its gradient.
    fn quadratic(a: &[f64]) -> impl Fn(&[f64]) -> (f64, Vec<f64>) + '_ {
        move |p| {
            let value = a.iter().zip(p).map(|(a, x)| a * x * x).sum();
            (value, a.iter().zip(p).map(|(a, x)| 2.0 * a * x).collect())
        }
    }

    fn run(sgd: Sgd, max_steps: u64, a: &[f64], p: &mut [f64]) -> Report<f64> {
        Minimizer::new(sgd)
            .max_steps(max_steps)
            .run(p, quadratic(a))
            .unwrap()
    }

    #[test]
    fn every_stop_reason_reads_as_a_sentence() {
        let sentences = [
            (StopReason::MaxSteps, "stopped at the step limit, max_steps"),
            (
                StopReason::LossChange { change: 3.0 / 64.0 },
                "converged: the last step changed the loss by 4.688e-2, at most tol_loss",
            ),
            (
                StopReason::GradNorm { norm: 9.99e-9 },
                "converged: the gradient norm 9.990e-9 is at most tol_grad_norm",
            ),
            (StopReason::Callback, "stopped by the callback"),
            (
                StopReason::Stalled,
                "stalled: a step changed no parameter (its updates were below the parameters' \
                 precision)",
            ),
        ];
        for (reason, sentence) in sentences {
            assert_eq!(reason.to_string(), sentence, "{reason:?}");
        }
    }

    #[test]
    fn sgd_with_too_large_a_step_on_a_quadratic_is_reported_as_not_decreasing() {
        // x² with lr 1.05: x ← x − 2.1·x = −1.1·x, so the loss grows by 1.21 at every step: 1.21³⁰
        // after 30 steps, and the gradient norm is 2·1.1³⁰.
        let mut x = [1.0];
        let report = run(Sgd::new(1.05), 30, &[1.0], &mut x);
        assert_eq!(report.stop, StopReason::MaxSteps);
        let oscillation = report.oscillation.unwrap();
        assert_eq!((oscillation.window, oscillation.rises), (20, 20));
        assert!(oscillation.change > 0.0);
        assert_eq!(
            report.to_string(),
            "30 steps, final loss 3.044816e2, gradient norm 3.490e1: \
             stopped at the step limit, max_steps; \
             the loss did not decrease over the last 20 steps (it rose in 20 of them): \
             try a smaller learning rate or a decaying schedule (`Minimizer::schedule`)"
        );
    }

    #[test]
    fn a_loss_going_up_and_down_at_the_step_limit_is_reported() {
        // x² + 10·y² with momentum 0.9: the heavy ball swings through the valley, the loss with it.
        let mut p = [1.0, 1.0];
        let report = run(Sgd::new(0.01).momentum(0.9), 100, &[1.0, 10.0], &mut p);
        let oscillation = report.oscillation.unwrap();
        assert_eq!((oscillation.window, oscillation.rises), (20, 8));
        assert!(oscillation.change < 0.0); // lower at the end: converging, slowly
        assert_eq!(
            report.to_string(),
            "100 steps, final loss 9.918240e-5, gradient norm 5.765e-2: \
             stopped at the step limit, max_steps; \
             the loss was still going up and down (it rose in 8 of the last 20 steps): \
             try a smaller learning rate or a decaying schedule (`Minimizer::schedule`)"
        );
    }

    #[test]
    fn a_loss_bouncing_between_two_values_did_not_decrease() {
        // |x| from 0.3 with lr 0.5: x = 0.3, −0.2, 0.3, −0.2, … (a step too large for the kink).
        let mut x = [0.3_f64];
        let report = Minimizer::new(Sgd::new(0.5))
            .max_steps(40)
            .run(&mut x, |p| (p[0].abs(), p[0].signum()))
            .unwrap();
        assert_eq!(
            report.oscillation.map(|o| (o.window, o.rises, o.change)),
            Some((20, 10, 0.0))
        );
    }

    #[test]
    fn a_steady_descent_is_not_an_oscillation() {
        // SGD on x² + 10·y² with lr 0.09: x ← 0.82·x, y ← −0.8·y; the loss falls at every step,
        // though y changes sign at every step.
        let mut p = [1.0, 1.0];
        let report = run(Sgd::new(0.09), 50, &[1.0, 10.0], &mut p);
        assert_eq!(report.stop, StopReason::MaxSteps);
        assert_eq!(report.oscillation, None);
        assert!(!report.to_string().contains("learning rate"));
    }

    #[test]
    fn only_runs_stopped_at_the_step_limit_after_enough_steps_are_judged() {
        // Rising from the first step, but three steps are too few to judge.
        let report = run(Sgd::new(1.05), 3, &[1.0], &mut [1.0]);
        assert_eq!(report.oscillation, None);
        // Rising, but stopped by a tolerance: not judged.
        let report = Minimizer::new(Sgd::new(1.05))
            .tol_loss(1e9)
            .run(&mut [1.0_f64], quadratic(&[1.0]))
            .unwrap();
        assert!(matches!(report.stop, StopReason::LossChange { .. }));
        assert_eq!(report.oscillation, None);
        // Rounding-sized rises are not rises.
        let losses = [1.0, 1.0 + 1e-9, 1.0, 1.0 + 1e-9, 1.0, 1.0 + 1e-9];
        assert_eq!(Oscillation::detect(&losses), None);
        assert_eq!(
            Oscillation::detect(&[4.0, 3.0, 3.5, 2.0, 2.5]),
            Some(Oscillation {
                window: 4,
                rises: 2,
                change: -1.5
            })
        );
    }
}
