//! [`Sgd`]: stochastic gradient descent, PyTorch's `torch.optim.SGD`.

use std::marker::PhantomData;

use super::{OptimError, Optimizer, Real, Steps, apply, bookkeeping, non_negative, require};

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
/// decay: PyTorch's `torch.optim.SGD`, rule and defaults.
///
/// The rule, step `t = 1, 2, …` (γ = `lr`, λ = `weight_decay`, μ = `momentum`, τ = `dampening`):
///
/// ```text
/// g ← ∇f(θ)
/// if λ ≠ 0:  g ← g + λ·θ
/// if μ ≠ 0:  b ← g                     at t = 1
///            b ← μ·b + (1 − τ)·g       at t > 1
///            g ← g + μ·b   if nesterov, else  g ← b
/// θ ← θ − γ·g
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-3` ([`Default`]), `momentum = 0`, `dampening = 0`,
/// `weight_decay = 0`, `nesterov = false`. Nesterov needs `momentum > 0` and `dampening = 0`.
///
/// **Keras** (`tf.keras.optimizers.SGD`) defaults to `learning_rate = 0.01` and keeps its momentum
/// buffer in parameter units, `v ← μ·v − γ·g; θ ← θ + v`: the same trajectory as this rule with
/// `dampening = 0` while the learning rate is constant, but not once a schedule changes it.
///
/// ```
/// use symgrad::optim::{Optimizer, Sgd};
///
/// let mut theta = [1.0_f64];
/// let mut sgd = Sgd::new(0.1).momentum(0.9).nesterov(true);
/// sgd.step(&mut theta, &[2.0]); // b = 2, g = 2 + 0.9·2 = 3.8
/// assert!((theta[0] - (1.0 - 0.1 * 3.8)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<T = f64> {
    hyper: Hyper,
    steps: Steps,
    /// The momentum buffer `b`, one per parameter (empty until the first step).
    state: Vec<f64>,
    element: PhantomData<fn() -> T>,
}

#[derive(Debug, Clone, Copy)]
struct Hyper {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
}

impl<T> Sgd<T> {
    /// Plain gradient descent `θ ← θ − lr·g`; add momentum and friends with the builder methods.
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// let mut theta = [1.0_f64, -2.0];
    /// Sgd::new(0.1).step(&mut theta, &[2.0, -4.0]);
    /// assert_eq!(theta, [1.0 - 0.1 * 2.0, -2.0 + 0.1 * 4.0]);
    /// ```
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: Hyper {
                lr,
                momentum: 0.0,
                dampening: 0.0,
                weight_decay: 0.0,
                nesterov: false,
            },
            steps: Steps::default(),
            state: Vec::new(),
            element: PhantomData,
        }
    }

    /// Momentum factor μ (default 0, off).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// // With a constant gradient g, the buffer grows: b₁ = g, b₂ = μ·g + g.
    /// let mut theta = [0.0_f64];
    /// let mut sgd = Sgd::new(0.1).momentum(0.9);
    /// sgd.step(&mut theta, &[1.0]);
    /// sgd.step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -(0.1 * 1.0 + 0.1 * 1.9)).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.hyper.momentum = momentum;
        self
    }

    /// Dampening τ of the momentum (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// // b₁ = g (no dampening on the first step), b₂ = μ·b₁ + (1 − τ)·g.
    /// let mut theta = [0.0_f64];
    /// let mut sgd = Sgd::new(0.1).momentum(0.9).dampening(0.5);
    /// sgd.step(&mut theta, &[1.0]);
    /// sgd.step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -(0.1 * 1.0 + 0.1 * (0.9 + 0.5))).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.hyper.dampening = dampening;
        self
    }

    /// L2 penalty λ, added to the gradient as `λ·θ` (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// // A zero gradient still shrinks θ: g = 0 + λ·θ.
    /// let mut theta = [2.0_f64];
    /// Sgd::new(0.1).weight_decay(0.5).step(&mut theta, &[0.0]);
    /// assert_eq!(theta[0], 2.0 - 0.1 * (0.5 * 2.0));
    /// ```
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Nesterov momentum (default off; needs `momentum > 0` and `dampening = 0`).
    ///
    /// ```
    /// use symgrad::optim::{OptimError, Optimizer, Sgd};
    ///
    /// // First step: b = g, and Nesterov looks ahead: g + μ·b.
    /// let mut theta = [0.0_f64];
    /// Sgd::new(0.1).momentum(0.5).nesterov(true).step(&mut theta, &[2.0]);
    /// assert_eq!(theta[0], -0.1 * (2.0 + 0.5 * 2.0));
    ///
    /// // Without momentum, Nesterov is refused (at the step: builders cannot fail).
    /// let refused = Sgd::new(0.1).nesterov(true).try_step(&mut theta, &[1.0]);
    /// assert!(matches!(refused, Err(OptimError::InvalidHyperParameter { name: "momentum", .. })));
    /// ```
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.hyper.nesterov = nesterov;
        self
    }
}

impl<T> Default for Sgd<T> {
    /// PyTorch's defaults: `lr = 1e-3`, no momentum, no weight decay.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl Hyper {
    fn validate(&self) -> Result<(), OptimError> {
        let h = self;
        non_negative("SGD", "lr", h.lr)?;
        non_negative("SGD", "momentum", h.momentum)?;
        require(
            h.dampening.is_finite(),
            "SGD",
            "dampening",
            h.dampening,
            "finite",
        )?;
        non_negative("SGD", "weight_decay", h.weight_decay)?;
        if h.nesterov {
            require(
                h.momentum > 0.0,
                "SGD",
                "momentum",
                h.momentum,
                "> 0 with Nesterov",
            )?;
            require(
                h.dampening == 0.0,
                "SGD",
                "dampening",
                h.dampening,
                "0 with Nesterov",
            )?;
        }
        Ok(())
    }

    /// One coordinate of the rule in the type's docs; `b` is the momentum buffer.
    fn update(&self, first: bool, theta: f64, mut g: f64, b: &mut f64) -> f64 {
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        if self.momentum != 0.0 {
            *b = if first {
                g
            } else {
                self.momentum * *b + (1.0 - self.dampening) * g
            };
            g = if self.nesterov {
                g + self.momentum * *b
            } else {
                *b
            };
        }
        theta - self.lr * g
    }
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        let hyper = self.hyper;
        hyper.validate()?;
        let t = self.steps.begin(params.len(), grads.len())?;
        self.state.resize(params.len(), 0.0);
        apply(params, grads, &mut self.state, |theta, g, b| {
            hyper.update(t == 1, theta, g, b)
        });
        Ok(())
    }

    bookkeeping!();
}
