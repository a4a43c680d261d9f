//! [`Adagrad`]: PyTorch's `torch.optim.Adagrad`.

use std::marker::PhantomData;

use super::{OptimError, Optimizer, Real, Steps, apply, bookkeeping, non_negative};

/// Adagrad (Duchi et al., 2011): each coordinate's step shrinks with the sum of its squared
/// gradients. PyTorch's `torch.optim.Adagrad`, rule and defaults.
///
/// The rule, step `t = 1, 2, …` (γ = `lr`, η = `lr_decay`, λ = `weight_decay`,
/// τ = `initial_accumulator_value`):
///
/// ```text
/// state_sum ← τ                                   (before the first step)
/// g ← ∇f(θ)
/// γ̃ ← γ / (1 + (t − 1)·η)
/// if λ ≠ 0:  g ← g + λ·θ
/// state_sum ← state_sum + g²
/// θ ← θ − γ̃·g / (√state_sum + ε)
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-2` ([`Default`]), `lr_decay = 0`, `weight_decay = 0`,
/// `initial_accumulator_value = 0`, `eps = 1e-10`.
///
/// **Keras** (`tf.keras.optimizers.Adagrad`) defaults to `learning_rate = 1e-3`,
/// `initial_accumulator_value = 0.1`, `epsilon = 1e-7`, and puts ε *inside* the root:
/// `θ ← θ − γ·g / √(state_sum + ε)`.
///
/// ```
/// use symgrad::optim::{Adagrad, Optimizer};
///
/// let mut theta = [1.0_f64];
/// let mut adagrad = Adagrad::new(0.5).initial_accumulator_value(5.0);
/// adagrad.step(&mut theta, &[2.0]); // state_sum = 5 + 4 = 9
/// assert!((theta[0] - (1.0 - 0.5 * 2.0 / (3.0 + 1e-10))).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Adagrad<T = f64> {
    hyper: Hyper,
    steps: Steps,
    /// `state_sum`, one per parameter (empty until the first step).
    state: Vec<f64>,
    element: PhantomData<fn() -> T>,
}

#[derive(Debug, Clone, Copy)]
struct Hyper {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
}

impl<T> Adagrad<T> {
    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// // Steps shrink as squared gradients accumulate: lr·g/√(Σg²).
    /// let mut theta = [0.0_f64];
    /// let mut adagrad = Adagrad::new(0.1);
    /// adagrad.step(&mut theta, &[3.0]); // state_sum = 9: moves by 0.1
    /// adagrad.step(&mut theta, &[4.0]); // state_sum = 25: moves by 0.1·4/5
    /// assert!((theta[0] - -(0.1 + 0.08)).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: Hyper {
                lr,
                lr_decay: 0.0,
                weight_decay: 0.0,
                initial_accumulator_value: 0.0,
                eps: 1e-10,
            },
            steps: Steps::default(),
            state: Vec::new(),
            element: PhantomData,
        }
    }

    /// Learning-rate decay η: step `t` uses `lr / (1 + (t − 1)·η)` (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// // η = 1: the second step uses lr/2 (and state_sum = 2).
    /// let mut theta = [0.0_f64];
    /// let mut adagrad = Adagrad::new(0.1).lr_decay(1.0);
    /// adagrad.step(&mut theta, &[1.0]);
    /// adagrad.step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -(0.1 + 0.05 / 2.0_f64.sqrt())).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.hyper.lr_decay = lr_decay;
        self
    }

    /// L2 penalty λ, added to the gradient as `λ·θ` (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// // A zero gradient still moves θ: g = λ·θ = 1, and the first step is about lr.
    /// let mut theta = [2.0_f64];
    /// Adagrad::new(0.1).weight_decay(0.5).step(&mut theta, &[0.0]);
    /// assert!((theta[0] - 1.9).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Starting value τ of `state_sum` (default 0; Keras's is 0.1).
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// // τ = 3 and g = 1: state_sum = 4, so the first step is lr·1/2.
    /// let mut theta = [0.0_f64];
    /// Adagrad::new(0.1).initial_accumulator_value(3.0).step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -0.05).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn initial_accumulator_value(mut self, initial_accumulator_value: f64) -> Self {
        self.hyper.initial_accumulator_value = initial_accumulator_value;
        self
    }

    /// ε, added to the denominator for stability (default `1e-10`).
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// // First step: lr·g / (|g| + ε); with ε = 1 and g = 1, half of lr.
    /// let mut theta = [0.0_f64];
    /// Adagrad::new(0.1).eps(1.0).step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -0.05).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.eps = eps;
        self
    }
}

impl<T> Default for Adagrad<T> {
    /// PyTorch's defaults: `lr = 1e-2`, `eps = 1e-10`, everything else 0.
    fn default() -> Self {
        Self::new(1e-2)
    }
}

impl Hyper {
    fn validate(&self) -> Result<(), OptimError> {
        let h = self;
        non_negative("Adagrad", "lr", h.lr)?;
        non_negative("Adagrad", "lr_decay", h.lr_decay)?;
        non_negative("Adagrad", "weight_decay", h.weight_decay)?;
        let tau = h.initial_accumulator_value;
        non_negative("Adagrad", "initial_accumulator_value", tau)?;
        non_negative("Adagrad", "eps", h.eps)
    }

    /// The decayed learning rate γ̃ of step `t`.
    fn decayed_lr(&self, t: f64) -> f64 {
        self.lr / (1.0 + (t - 1.0) * self.lr_decay)
    }

    /// One coordinate of the rule in the type's docs, given the step's `lr_tilde` = γ̃.
    fn update(&self, lr_tilde: f64, theta: f64, mut g: f64, state_sum: &mut f64) -> f64 {
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        *state_sum += g * g;
        theta - lr_tilde * g / (state_sum.sqrt() + self.eps)
    }
}

impl<T: Real> Optimizer<T> for Adagrad<T> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        let hyper = self.hyper;
        hyper.validate()?;
        let t = self.steps.begin(params.len(), grads.len())?;
        let lr_tilde = hyper.decayed_lr(t as f64);
        self.state
            .resize(params.len(), hyper.initial_accumulator_value);
        apply(params, grads, &mut self.state, |theta, g, state_sum| {
            hyper.update(lr_tilde, theta, g, state_sum)
        });
        Ok(())
    }

    bookkeeping!();
}
