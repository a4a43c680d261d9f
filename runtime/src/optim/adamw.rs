//! [`AdamW`]: Adam with decoupled weight decay, PyTorch's `torch.optim.AdamW`.

use std::marker::PhantomData;

use super::adam::{Hyper as AdamHyper, Moments};
use super::{OptimError, Optimizer, Real, Steps, apply, bookkeeping, non_negative};

/// AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the parameters directly
/// instead of entering the gradient. PyTorch's `torch.optim.AdamW`, rule and defaults.
///
/// The rule, step `t = 1, 2, …` (γ = `lr`, λ = `weight_decay`):
///
/// ```text
/// θ ← θ − γ·λ·θ                                 (decoupled decay, before the Adam step)
/// then the Adam step of [`Adam`](super::Adam) with no L2 term:
/// m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²
/// m_hat ← m / (1 − β₁ᵗ)
/// if amsgrad:  v_max ← max(v_max, v);  v_hat ← v_max / (1 − β₂ᵗ)
/// else:        v_hat ← v / (1 − β₂ᵗ)
/// θ ← θ − γ·m_hat / (√v_hat + ε)
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-3` ([`Default`]), `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// **`weight_decay = 1e-2`**, `amsgrad = false`.
///
/// **Keras** (`tf.keras.optimizers.AdamW`) decays the same way, `θ ← θ − λ·γ·θ`, but defaults to
/// `weight_decay = 0.004`, `epsilon = 1e-7` and uses the ε-hat Adam step: [`AdamW::keras`].
///
/// ```
/// use symgrad::optim::{AdamW, Optimizer};
///
/// // With a zero gradient, only the decay acts: θ ← θ·(1 − γλ).
/// let mut theta = [2.0_f64];
/// let mut adamw = AdamW::new(0.1).weight_decay(0.5);
/// adamw.step(&mut theta, &[0.0]);
/// assert!((theta[0] - (2.0 - 0.1 * 0.5 * 2.0)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct AdamW<T = f64> {
    hyper: Hyper,
    steps: Steps,
    /// The moments, one per parameter (empty until the first step).
    state: Vec<Moments>,
    element: PhantomData<fn() -> T>,
}

#[derive(Debug, Clone, Copy)]
struct Hyper {
    /// Adam's hyper-parameters, with its (coupled) `weight_decay` kept at 0.
    adam: AdamHyper,
    /// The decoupled decay λ.
    weight_decay: f64,
}

impl<T> AdamW<T> {
    /// AdamW with learning rate `lr` and PyTorch's other defaults (`weight_decay = 1e-2`).
    ///
    /// ```
    /// use symgrad::optim::{AdamW, Optimizer};
    ///
    /// // A zero gradient leaves only the default decay: θ ← θ − lr·0.01·θ.
    /// let mut theta = [2.0_f64];
    /// AdamW::new(0.1).step(&mut theta, &[0.0]);
    /// assert!((theta[0] - (2.0 - 0.1 * 0.01 * 2.0)).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: Hyper {
                adam: AdamHyper::new(lr),
                weight_decay: 1e-2,
            },
            steps: Steps::default(),
            state: Vec::new(),
            element: PhantomData,
        }
    }

    /// `tf.keras.optimizers.AdamW(learning_rate=lr)`: `weight_decay = 0.004`, `eps = 1e-7` and the
    /// ε-hat Adam step (see [`Adam`](super::Adam)).
    ///
    /// ```
    /// use symgrad::optim::{AdamW, Optimizer};
    ///
    /// // Keras's default decay, 0.004, with a zero gradient.
    /// let mut theta = [2.0_f64];
    /// AdamW::keras(0.1).step(&mut theta, &[0.0]);
    /// assert!((theta[0] - (2.0 - 0.1 * 0.004 * 2.0)).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn keras(lr: f64) -> Self {
        Self::new(lr)
            .weight_decay(0.004)
            .eps(1e-7)
            .epsilon_hat(true)
    }

    /// Decay rates (β₁, β₂) of the moments (default `(0.9, 0.999)`).
    ///
    /// ```
    /// use symgrad::optim::{AdamW, Optimizer};
    ///
    /// // β₁ = β₂ = 0 and no decay: every step moves by lr in the direction of −g.
    /// let mut theta = [0.0_f64];
    /// let mut adamw = AdamW::new(0.1).betas(0.0, 0.0).weight_decay(0.0);
    /// for g in [5.0, 0.01, -100.0] {
    ///     adamw.step(&mut theta, &[g]);
    /// }
    /// assert!((theta[0] - -0.1).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.hyper.adam.beta1 = beta1;
        self.hyper.adam.beta2 = beta2;
        self
    }

    /// ε, added to the denominator for stability (default `1e-8`).
    ///
    /// ```
    /// use symgrad::optim::{AdamW, Optimizer};
    ///
    /// // First step without decay: lr·g / (|g| + ε); with ε = 1 and g = 1, half of lr.
    /// let mut theta = [0.0_f64];
    /// AdamW::new(0.1).weight_decay(0.0).eps(1.0).step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -0.05).abs() < 1e-12);
    /// ```
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.adam.eps = eps;
        self
    }

    /// Decoupled weight decay λ: each step first does `θ ← θ − lr·λ·θ` (default `1e-2`).
    ///
    /// ```
    /// use symgrad::optim::{Adam, AdamW, Optimizer};
    ///
    /// // Decoupled: the decay does not go through the moments, unlike Adam's L2 term.
    /// let (mut decoupled, mut coupled) = ([2.0_f64], [2.0_f64]);
    /// AdamW::new(0.1).weight_decay(0.5).step(&mut decoupled, &[0.0]);
    /// Adam::new(0.1).weight_decay(0.5).step(&mut coupled, &[0.0]);
    /// assert!((decoupled[0] - 1.9).abs() < 1e-15); // 2 − 0.1·0.5·2
    /// assert!((coupled[0] - 1.9).abs() < 1e-6); // Adam's normalized step on g = λ·θ = 1
    /// ```
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// AMSGrad: divide by the running maximum of `v` (default off).
    ///
    /// ```
    /// use symgrad::optim::{AdamW, Optimizer};
    ///
    /// // A large gradient, then a small one: AMSGrad still divides by the large one's v.
    /// let second_step = |amsgrad: bool| {
    ///     let mut theta = [0.0_f64];
    ///     let mut adamw = AdamW::new(0.1).weight_decay(0.0).betas(0.0, 0.5).amsgrad(amsgrad);
    ///     adamw.step(&mut theta, &[10.0]);
    ///     let before = theta[0];
    ///     adamw.step(&mut theta, &[1.0]);
    ///     before - theta[0]
    /// };
    /// assert!(second_step(true) < second_step(false));
    /// ```
    #[must_use]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.hyper.adam.amsgrad = amsgrad;
        self
    }

    /// Keras's ε-hat Adam step instead of PyTorch's (default `false`); see [`Adam`](super::Adam).
    ///
    /// ```
    /// use symgrad::optim::{Adam, AdamW, Optimizer};
    ///
    /// // Without decay, AdamW takes exactly Adam's steps, with either rule.
    /// let (mut w, mut a) = ([1.0_f64, -2.0], [1.0_f64, -2.0]);
    /// let mut adamw = AdamW::new(0.1).weight_decay(0.0).epsilon_hat(true);
    /// let mut adam = Adam::new(0.1).epsilon_hat(true);
    /// for g in [[0.5, -1.0], [0.25, 3.0], [-1e-9, 0.0]] {
    ///     adamw.step(&mut w, &g);
    ///     adam.step(&mut a, &g);
    /// }
    /// assert_eq!(w, a);
    /// ```
    #[must_use]
    pub fn epsilon_hat(mut self, epsilon_hat: bool) -> Self {
        self.hyper.adam.epsilon_hat = epsilon_hat;
        self
    }
}

impl<T> Default for AdamW<T> {
    /// PyTorch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 1e-2`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl Hyper {
    fn validate(&self) -> Result<(), OptimError> {
        self.adam.validate("AdamW")?;
        non_negative("AdamW", "weight_decay", self.weight_decay)
    }

    /// One coordinate of the rule in the type's docs, given the step's bias `corrections`.
    fn update(&self, corrections: (f64, f64), theta: f64, g: f64, s: &mut Moments) -> f64 {
        let theta = theta - self.adam.lr * self.weight_decay * theta;
        self.adam.update(corrections, theta, g, s)
    }
}

impl<T: Real> Optimizer<T> for AdamW<T> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        let hyper = self.hyper;
        hyper.validate()?;
        let t = self.steps.begin(params.len(), grads.len())?;
        let corrections = hyper.adam.corrections(t as f64);
        self.state.resize(params.len(), Moments::default());
        apply(params, grads, &mut self.state, |theta, g, s| {
            hyper.update(corrections, theta, g, s)
        });
        Ok(())
    }

    bookkeeping!(hyper.adam.lr);
}
