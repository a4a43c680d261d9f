//! Learning-rate schedules with PyTorch's semantics (`torch.optim.lr_scheduler`), in closed form.
//!
//! A [`Schedule`] maps the optimizer's initial learning rate `base_lr` and an epoch number to the
//! learning rate of that epoch. Epoch `e` is the number of scheduler steps taken so far, so
//! `e = 0` is the start: PyTorch's `scheduler.step()` after each optimizer step is
//! `optimizer.set_lr(schedule.lr(base_lr, e))` before step `e` here (0-based), which is what
//! [`Minimizer::schedule`](crate::train::Minimizer::schedule) does.
//!
//! ```
//! use symgrad::optim::{Optimizer, Sgd};
//! use symgrad::schedule::{Schedule, StepLr};
//!
//! let schedule = StepLr::new(2).gamma(0.5);
//! let mut sgd = Sgd::new(0.1);
//! let base_lr = sgd.lr();
//! let mut w = [1.0_f64];
//! let mut seen = Vec::new();
//! for epoch in 0..5 {
//!     sgd.set_lr(schedule.lr(base_lr, epoch));
//!     seen.push(sgd.lr());
//!     sgd.step(&mut w, &[1.0]); // … one epoch of training …
//! }
//! assert_eq!(seen, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! ```
//!
//! Any `Fn(f64, u64) -> f64` is a schedule too, which is how schedules compose (PyTorch's
//! `SequentialLR`): warm up linearly for 5 epochs, then anneal over 100.
//!
//! ```
//! use symgrad::schedule::{CosineAnnealingLr, LinearLr, Schedule};
//!
//! let warmup = LinearLr::new(0.1, 1.0, 5);
//! let cosine = CosineAnnealingLr::new(100);
//! let schedule = move |base_lr: f64, epoch: u64| {
//!     if epoch < 5 { warmup.lr(base_lr, epoch) } else { cosine.lr(base_lr, epoch - 5) }
//! };
//! assert!((schedule.lr(1.0, 0) - 0.1).abs() < 1e-15);
//! assert_eq!(schedule.lr(1.0, 5), 1.0);
//! ```

/// A learning rate per epoch.
///
/// Implemented by [`StepLr`], [`ExponentialLr`], [`CosineAnnealingLr`], [`LinearLr`] and every
/// `Fn(f64, u64) -> f64` closure; implement it for your own schedules.
///
/// ```
/// use symgrad::schedule::Schedule;
///
/// /// Halves the learning rate every epoch.
/// struct Halving;
///
/// impl Schedule for Halving {
///     fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
///         base_lr * 0.5_f64.powf(epoch as f64)
///     }
/// }
///
/// assert_eq!(Halving.lr(1.0, 3), 0.125);
/// // Closures are schedules too.
/// let constant = |base_lr: f64, _epoch: u64| base_lr;
/// assert_eq!(constant.lr(0.1, 1000), 0.1);
/// ```
pub trait Schedule {
    /// The learning rate of epoch `epoch` (0 = before any scheduler step), for an optimizer whose
    /// initial learning rate is `base_lr`.
    ///
    /// ```
    /// use symgrad::schedule::{ExponentialLr, Schedule};
    ///
    /// let s = ExponentialLr::new(0.9);
    /// assert_eq!(s.lr(0.1, 0), 0.1); // epoch 0: the optimizer's own learning rate
    /// assert!((s.lr(0.1, 2) - 0.081).abs() < 1e-15);
    /// ```
    fn lr(&self, base_lr: f64, epoch: u64) -> f64;
}

impl<F: Fn(f64, u64) -> f64> Schedule for F {
    fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
        self(base_lr, epoch)
    }
}

/// `torch.optim.lr_scheduler.StepLR`: multiply by `gamma` every `step_size` epochs,
/// `lr = base_lr·gamma^⌊epoch / step_size⌋`. Default `gamma = 0.1` (PyTorch's).
///
/// ```
/// use symgrad::schedule::{Schedule, StepLr};
///
/// let s = StepLr::new(30); // gamma 0.1
/// assert_eq!(s.lr(0.05, 29), 0.05);
/// assert!((s.lr(0.05, 30) - 0.005).abs() < 1e-18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLr {
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// Decay every `step_size` epochs (`0` is taken as `1`, rather than dividing by zero).
    ///
    /// ```
    /// use symgrad::schedule::{Schedule, StepLr};
    ///
    /// let every_two = StepLr::new(2);
    /// assert_eq!(every_two.lr(1.0, 1), 1.0);
    /// assert!((every_two.lr(1.0, 2) - 0.1).abs() < 1e-16);
    /// assert_eq!(StepLr::new(0), StepLr::new(1));
    /// ```
    #[must_use]
    pub fn new(step_size: u64) -> Self {
        Self {
            step_size: step_size.max(1),
            gamma: 0.1,
        }
    }

    /// The decay factor (default `0.1`).
    ///
    /// ```
    /// use symgrad::schedule::{Schedule, StepLr};
    ///
    /// let halve = StepLr::new(10).gamma(0.5);
    /// assert_eq!(halve.lr(0.2, 25), 0.05); // two decays by epoch 25
    /// ```
    #[must_use]
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
}

impl Schedule for StepLr {
    fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
        base_lr * self.gamma.powf((epoch / self.step_size) as f64)
    }
}

/// `torch.optim.lr_scheduler.ExponentialLR`: `lr = base_lr·gamma^epoch`.
///
/// ```
/// use symgrad::schedule::{ExponentialLr, Schedule};
///
/// let s = ExponentialLr::new(0.5);
/// assert_eq!(s.lr(1.0, 3), 0.125);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialLr {
    gamma: f64,
}

impl ExponentialLr {
    /// Multiply the learning rate by `gamma` every epoch.
    ///
    /// ```
    /// use symgrad::schedule::{ExponentialLr, Schedule};
    ///
    /// let s = ExponentialLr::new(0.5);
    /// let lrs: Vec<f64> = (0..4).map(|e| s.lr(0.8, e)).collect();
    /// assert_eq!(lrs, [0.8, 0.4, 0.2, 0.1]);
    /// ```
    #[must_use]
    pub fn new(gamma: f64) -> Self {
        Self { gamma }
    }
}

impl Schedule for ExponentialLr {
    fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
        base_lr * self.gamma.powf(epoch as f64)
    }
}

/// `torch.optim.lr_scheduler.CosineAnnealingLR` (SGDR without restarts), in PyTorch's closed form:
/// `lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch / t_max)) / 2`.
///
/// The learning rate falls from `base_lr` at epoch 0 to `eta_min` at epoch `t_max`; past `t_max`
/// it follows the cosine back up, as PyTorch's does. Default `eta_min = 0`.
///
/// ```
/// use symgrad::schedule::{CosineAnnealingLr, Schedule};
///
/// let s = CosineAnnealingLr::new(10).eta_min(0.01);
/// assert_eq!(s.lr(0.1, 0), 0.1);
/// assert!((s.lr(0.1, 5) - 0.055).abs() < 1e-15);
/// assert!((s.lr(0.1, 10) - 0.01).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineAnnealingLr {
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Anneal over `t_max` epochs (`0` is taken as `1`).
    ///
    /// ```
    /// use symgrad::schedule::{CosineAnnealingLr, Schedule};
    ///
    /// let s = CosineAnnealingLr::new(100);
    /// assert_eq!(s.lr(0.1, 0), 0.1);
    /// assert!((s.lr(0.1, 50) - 0.05).abs() < 1e-15); // half-way: the mean of base_lr and eta_min
    /// assert!(s.lr(0.1, 100).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn new(t_max: u64) -> Self {
        Self {
            t_max: t_max.max(1),
            eta_min: 0.0,
        }
    }

    /// The learning rate at epoch `t_max` (default 0).
    ///
    /// ```
    /// use symgrad::schedule::{CosineAnnealingLr, Schedule};
    ///
    /// let s = CosineAnnealingLr::new(10).eta_min(1e-3);
    /// assert!((s.lr(0.1, 10) - 1e-3).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        self.eta_min = eta_min;
        self
    }
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
        let angle = std::f64::consts::PI * epoch as f64 / self.t_max as f64;
        self.eta_min + (base_lr - self.eta_min) * (1.0 + angle.cos()) / 2.0
    }
}

/// `torch.optim.lr_scheduler.LinearLR`, the usual linear warm-up: the factor on `base_lr` goes
/// linearly from `start_factor` at epoch 0 to `end_factor` at epoch `total_iters`, then stays:
/// `lr = base_lr·(start + (end − start)·min(epoch, total_iters) / total_iters)`.
///
/// PyTorch's defaults: [`LinearLr::default`] is `start_factor = 1/3`, `end_factor = 1`,
/// `total_iters = 5`.
///
/// ```
/// use symgrad::schedule::{LinearLr, Schedule};
///
/// let warmup = LinearLr::new(0.25, 1.0, 3);
/// let lrs: Vec<f64> = (0..5).map(|e| warmup.lr(0.1, e)).collect();
/// for (lr, want) in lrs.iter().zip([0.025, 0.05, 0.075, 0.1, 0.1]) {
///     assert!((lr - want).abs() < 1e-15);
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearLr {
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl LinearLr {
    /// From `start_factor·base_lr` to `end_factor·base_lr` over `total_iters` epochs (`0`: the end
    /// factor from the start).
    ///
    /// ```
    /// use symgrad::schedule::{LinearLr, Schedule};
    ///
    /// // Warm up from a tenth of the learning rate to all of it over 10 epochs.
    /// let warmup = LinearLr::new(0.1, 1.0, 10);
    /// assert!((warmup.lr(0.5, 0) - 0.05).abs() < 1e-15);
    /// assert!((warmup.lr(0.5, 5) - 0.275).abs() < 1e-15);
    /// assert!((warmup.lr(0.5, 10) - 0.5).abs() < 1e-15);
    /// assert_eq!(warmup.lr(0.5, 1000), warmup.lr(0.5, 10)); // then it stays
    /// ```
    #[must_use]
    pub fn new(start_factor: f64, end_factor: f64, total_iters: u64) -> Self {
        Self {
            start_factor,
            end_factor,
            total_iters,
        }
    }

    /// The factor on `base_lr` at `epoch`.
    fn factor(&self, epoch: u64) -> f64 {
        if self.total_iters == 0 {
            return self.end_factor;
        }
        let progress = epoch.min(self.total_iters) as f64 / self.total_iters as f64;
        self.start_factor + (self.end_factor - self.start_factor) * progress
    }
}

impl Default for LinearLr {
    fn default() -> Self {
        Self::new(1.0 / 3.0, 1.0, 5)
    }
}

impl Schedule for LinearLr {
    fn lr(&self, base_lr: f64, epoch: u64) -> f64 {
        base_lr * self.factor(epoch)
    }
}
