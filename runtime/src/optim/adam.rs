//! [`Adam`]: adaptive moment estimation, PyTorch's `torch.optim.Adam` (and Keras's variant).

use std::marker::PhantomData;

use super::{OptimError, Optimizer, Real, Steps, apply, bookkeeping, non_negative, require};

/// Adam (Kingma & Ba, 2015) with optional AMSGrad: PyTorch's `torch.optim.Adam`, rule and
/// defaults, or Keras's variant with [`Adam::keras`].
///
/// PyTorch's rule, step `t = 1, 2, …` (γ = `lr`, λ = `weight_decay`, moments start at 0):
///
/// ```text
/// g ← ∇f(θ)
/// if λ ≠ 0:  g ← g + λ·θ                       (L2, coupled: see AdamW for decoupled)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// m_hat ← m / (1 − β₁ᵗ)
/// if amsgrad:  v_max ← max(v_max, v);  v_hat ← v_max / (1 − β₂ᵗ)
/// else:        v_hat ← v / (1 − β₂ᵗ)
/// θ ← θ − γ·m_hat / (√v_hat + ε)
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-3` ([`Default`]), `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0`, `amsgrad = false`.
///
/// # Keras
///
/// `tf.keras.optimizers.Adam` (what seeds written for TensorFlow use) differs in two ways:
/// `epsilon = 1e-7`, and ε is added to `√v` *before* the bias correction (the paper's "ε hat"
/// form), which matters while `v` is small:
///
/// ```text
/// lr_t ← γ·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
/// m ← m + (g − m)·(1 − β₁)
/// v ← v + (g² − v)·(1 − β₂)
/// if amsgrad:  v_max ← max(v_max, v);  v ← v_max  (in the update only)
/// θ ← θ − lr_t·m / (√v + ε)
/// ```
///
/// [`Adam::keras`] gives Keras's defaults and rule; [`Adam::epsilon_hat`] switches the rule alone.
/// Keras's `weight_decay` is decoupled (use [`AdamW`](super::AdamW)); here `weight_decay` is
/// always PyTorch's coupled L2 term.
///
/// ```
/// use symgrad::optim::{Adam, Optimizer};
///
/// let mut theta = [1.0_f64];
/// let mut adam = Adam::new(0.1).betas(0.9, 0.999).eps(1e-8);
/// adam.step(&mut theta, &[4.0]);
/// // The first step of Adam moves every coordinate by about lr: m_hat = g, v_hat = g².
/// assert!((theta[0] - (1.0 - 0.1 * 4.0 / (4.0 + 1e-8))).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct Adam<T = f64> {
    hyper: Hyper,
    steps: Steps,
    /// The moments, one per parameter (empty until the first step).
    state: Vec<Moments>,
    element: PhantomData<fn() -> T>,
}

/// Adam's hyper-parameters; shared with [`AdamW`](super::AdamW), which keeps `weight_decay = 0`
/// here and decays the parameters itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hyper {
    pub(super) lr: f64,
    pub(super) beta1: f64,
    pub(super) beta2: f64,
    pub(super) eps: f64,
    pub(super) weight_decay: f64,
    pub(super) amsgrad: bool,
    pub(super) epsilon_hat: bool,
}

/// First moment `m`, second moment `v` and, for AMSGrad, the running maximum `v_max` of `v`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Moments {
    m: f64,
    v: f64,
    v_max: f64,
}

impl<T> Adam<T> {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // The first step moves each coordinate by about `lr`, whatever the gradient's size
    /// // (m_hat = g, v_hat = g²).
    /// let mut theta = [0.5_f64, 0.5];
    /// Adam::new(0.01).step(&mut theta, &[-3.0, 1e4]);
    /// assert!((theta[0] - 0.51).abs() < 1e-9);
    /// assert!((theta[1] - 0.49).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: Hyper::new(lr),
            steps: Steps::default(),
            state: Vec::new(),
            element: PhantomData,
        }
    }

    /// `tf.keras.optimizers.Adam(learning_rate=lr)`: `eps = 1e-7` and the ε-hat rule (see the
    /// type's docs).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // Seed 003: `tf.keras.optimizers.Adam(1)` on (x - 50)² from x = 3, 200 steps.
    /// let mut x = [3.0_f64];
    /// let mut adam = Adam::keras(1.0);
    /// for _ in 0..200 {
    ///     let grad = [2.0 * (x[0] - 50.0)];
    ///     adam.step(&mut x, &grad);
    /// }
    /// assert!((x[0] - 50.0).abs() < 0.5);
    /// ```
    #[must_use]
    pub fn keras(lr: f64) -> Self {
        Self::new(lr).eps(1e-7).epsilon_hat(true)
    }

    /// Decay rates (β₁, β₂) of the moments (default `(0.9, 0.999)`).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // β₁ = β₂ = 0 keeps no memory: every step moves by lr in the direction of −g.
    /// let mut theta = [0.0_f64];
    /// let mut adam = Adam::new(0.1).betas(0.0, 0.0);
    /// for g in [5.0, 0.01, -100.0] {
    ///     adam.step(&mut theta, &[g]);
    /// }
    /// assert!((theta[0] - -0.1).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.hyper.beta1 = beta1;
        self.hyper.beta2 = beta2;
        self
    }

    /// ε, added to the denominator for stability (default `1e-8`; Keras's is `1e-7`).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // First step: lr·g / (|g| + ε); with ε = 1 and g = 1, half of lr.
    /// let mut theta = [0.0_f64];
    /// Adam::new(0.1).eps(1.0).step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -0.05).abs() < 1e-12);
    /// ```
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.eps = eps;
        self
    }

    /// L2 penalty λ, added to the gradient as `λ·θ` (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // A zero gradient still moves θ towards 0: g = 0 + λ·θ, and Adam's first step is about lr.
    /// let mut theta = [2.0_f64];
    /// Adam::new(0.1).weight_decay(0.5).step(&mut theta, &[0.0]);
    /// assert!((theta[0] - 1.9).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// AMSGrad (Reddi et al., 2018): divide by the running maximum of `v` (default off).
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // A large gradient, then a small one: AMSGrad still divides by the large one's v.
    /// let second_step = |amsgrad: bool| {
    ///     let mut theta = [0.0_f64];
    ///     let mut adam = Adam::new(0.1).betas(0.0, 0.5).amsgrad(amsgrad);
    ///     adam.step(&mut theta, &[10.0]);
    ///     let before = theta[0];
    ///     adam.step(&mut theta, &[1.0]);
    ///     before - theta[0]
    /// };
    /// // v₁ = 50, v₂ = 25.5; bias correction 1 − 0.5² = 0.75; m_hat = g (β₁ = 0).
    /// assert!((second_step(false) - 0.1 / (25.5_f64 / 0.75).sqrt()).abs() < 1e-9);
    /// assert!((second_step(true) - 0.1 / (50.0_f64 / 0.75).sqrt()).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.hyper.amsgrad = amsgrad;
        self
    }

    /// Keras's ε-hat rule (`true`) instead of PyTorch's (`false`, the default); see the type's docs.
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// // The rules differ while √v is comparable to ε, e.g. for a tiny first gradient.
    /// let g = 1e-8;
    /// let (mut torch, mut keras) = ([0.0_f64], [0.0_f64]);
    /// Adam::new(0.1).step(&mut torch, &[g]);
    /// Adam::new(0.1).epsilon_hat(true).step(&mut keras, &[g]);
    /// assert!((torch[0] - -0.1 * g / (g + 1e-8)).abs() < 1e-12); // −lr/2
    /// let s = (1.0_f64 - 0.999).sqrt(); // √(1 − β₂)
    /// assert!((keras[0] - -0.1 * s * g / (s * g + 1e-8)).abs() < 1e-12); // about −lr/32
    /// ```
    #[must_use]
    pub fn epsilon_hat(mut self, epsilon_hat: bool) -> Self {
        self.hyper.epsilon_hat = epsilon_hat;
        self
    }
}

impl<T> Default for Adam<T> {
    /// PyTorch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl Hyper {
    /// PyTorch's defaults with learning rate `lr`.
    pub(super) fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            epsilon_hat: false,
        }
    }

    /// Checks PyTorch's ranges; `name` is the optimizer named in the error.
    pub(super) fn validate(&self, name: &'static str) -> Result<(), OptimError> {
        let h = self;
        non_negative(name, "lr", h.lr)?;
        require(
            (0.0..1.0).contains(&h.beta1),
            name,
            "betas.0",
            h.beta1,
            "in [0, 1)",
        )?;
        require(
            (0.0..1.0).contains(&h.beta2),
            name,
            "betas.1",
            h.beta2,
            "in [0, 1)",
        )?;
        non_negative(name, "eps", h.eps)?;
        non_negative(name, "weight_decay", h.weight_decay)
    }

    /// One coordinate of the rule selected by `epsilon_hat`, given the step's `corrections`.
    pub(super) fn update(
        &self,
        corrections: (f64, f64),
        theta: f64,
        g: f64,
        s: &mut Moments,
    ) -> f64 {
        if self.epsilon_hat {
            self.keras_update(corrections, theta, g, s)
        } else {
            self.torch_update(corrections, theta, g, s)
        }
    }

    /// The bias corrections `(1 − β₁ᵗ, 1 − β₂ᵗ)` of step `t`, computed once per step.
    pub(super) fn corrections(&self, t: f64) -> (f64, f64) {
        (1.0 - self.beta1.powf(t), 1.0 - self.beta2.powf(t))
    }

    /// One coordinate of PyTorch's rule (the type's docs), given the step's `corrections`.
    fn torch_update(&self, (bc1, bc2): (f64, f64), theta: f64, mut g: f64, s: &mut Moments) -> f64 {
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        s.m = self.beta1 * s.m + (1.0 - self.beta1) * g;
        s.v = self.beta2 * s.v + (1.0 - self.beta2) * g * g;
        let m_hat = s.m / bc1;
        let v_hat = if self.amsgrad {
            s.v_max = s.v_max.max(s.v);
            s.v_max / bc2
        } else {
            s.v / bc2
        };
        theta - self.lr * m_hat / (v_hat.sqrt() + self.eps)
    }

    /// One coordinate of Keras's ε-hat rule (the type's docs), given the step's `corrections`.
    fn keras_update(&self, (bc1, bc2): (f64, f64), theta: f64, mut g: f64, s: &mut Moments) -> f64 {
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        let lr_t = self.lr * bc2.sqrt() / bc1;
        s.m += (g - s.m) * (1.0 - self.beta1);
        s.v += (g * g - s.v) * (1.0 - self.beta2);
        let v = if self.amsgrad {
            s.v_max = s.v_max.max(s.v);
            s.v_max
        } else {
            s.v
        };
        theta - lr_t * s.m / (v.sqrt() + self.eps)
    }
}

impl<T: Real> Optimizer<T> for Adam<T> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        let hyper = self.hyper;
        hyper.validate("Adam")?;
        let t = self.steps.begin(params.len(), grads.len())?;
        let corrections = hyper.corrections(t as f64);
        self.state.resize(params.len(), Moments::default());
        apply(params, grads, &mut self.state, |theta, g, s| {
            hyper.update(corrections, theta, g, s)
        });
        Ok(())
    }

    bookkeeping!();
}
