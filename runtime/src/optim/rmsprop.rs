//! [`RmsProp`]: PyTorch's `torch.optim.RMSprop`.

use std::marker::PhantomData;

use super::{OptimError, Optimizer, Real, Steps, apply, bookkeeping, non_negative};

/// RMSprop (Hinton, 2012) with optional momentum and centering (Graves, 2013): PyTorch's
/// `torch.optim.RMSprop`, rule and defaults.
///
/// The rule, step `t = 1, 2, …` (γ = `lr`, α = `alpha`, λ = `weight_decay`, μ = `momentum`;
/// `v`, `g_ave` and `b` start at 0):
///
/// ```text
/// g ← ∇f(θ)
/// if λ ≠ 0:  g ← g + λ·θ
/// v ← α·v + (1 − α)·g²
/// ṽ ← v
/// if centered:  g_ave ← α·g_ave + (1 − α)·g;   ṽ ← ṽ − g_ave²
/// if μ > 0:  b ← μ·b + g / (√ṽ + ε);   θ ← θ − γ·b
/// else:      θ ← θ − γ·g / (√ṽ + ε)
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-2` ([`Default`]), `alpha = 0.99`, `eps = 1e-8`,
/// `weight_decay = 0`, `momentum = 0`, `centered = false`.
///
/// **Keras** (`tf.keras.optimizers.RMSprop`) defaults to `learning_rate = 1e-3`, `rho = 0.9`
/// (α here), `epsilon = 1e-7`, and puts ε *inside* the root, `γ·g / √(ṽ + ε)`; its momentum
/// buffer holds `γ·g / √(ṽ + ε)` (learning rate included).
///
/// ```
/// use symgrad::optim::{Optimizer, RmsProp};
///
/// let mut theta = [1.0_f64];
/// let mut rmsprop = RmsProp::new(0.01).alpha(0.9).momentum(0.5).centered(true);
/// rmsprop.step(&mut theta, &[2.0]);
/// // v = 0.1·4 = 0.4, g_ave = 0.1·2 = 0.2, ṽ = 0.4 − 0.04, b = 2 / (√0.36 + ε)
/// let b = 2.0 / (0.36_f64.sqrt() + 1e-8);
/// assert!((theta[0] - (1.0 - 0.01 * b)).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct RmsProp<T = f64> {
    hyper: Hyper,
    steps: Steps,
    /// The running averages and momentum buffer, one per parameter (empty until the first step).
    state: Vec<Averages>,
    element: PhantomData<fn() -> T>,
}

#[derive(Debug, Clone, Copy)]
struct Hyper {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
}

/// Running average `v` of g², running average `g_ave` of g (centered) and momentum buffer `b`.
#[derive(Debug, Clone, Copy, Default)]
struct Averages {
    v: f64,
    g_ave: f64,
    b: f64,
}

impl<T> RmsProp<T> {
    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // First step: v = (1 − 0.99)·g², so θ moves by lr·g/√v = 10·lr.
    /// let mut theta = [1.0_f64];
    /// RmsProp::new(0.01).step(&mut theta, &[2.0]);
    /// assert!((theta[0] - 0.9).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: Hyper {
                lr,
                alpha: 0.99,
                eps: 1e-8,
                weight_decay: 0.0,
                momentum: 0.0,
                centered: false,
            },
            steps: Steps::default(),
            state: Vec::new(),
            element: PhantomData,
        }
    }

    /// Smoothing constant α of the running averages (default `0.99`; Keras's `rho`, 0.9 there).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // α = 0 keeps no memory: v = g², every step moves by lr in the direction of −g.
    /// let mut theta = [0.0_f64];
    /// let mut rmsprop = RmsProp::new(0.1).alpha(0.0);
    /// for g in [5.0, 0.01, -100.0] {
    ///     rmsprop.step(&mut theta, &[g]);
    /// }
    /// assert!((theta[0] - -0.1).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.hyper.alpha = alpha;
        self
    }

    /// ε, added to the denominator for stability (default `1e-8`).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // With α = 0: lr·g / (|g| + ε); with ε = 1 and g = 1, half of lr.
    /// let mut theta = [0.0_f64];
    /// RmsProp::new(0.1).alpha(0.0).eps(1.0).step(&mut theta, &[1.0]);
    /// assert!((theta[0] - -0.05).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.eps = eps;
        self
    }

    /// L2 penalty λ, added to the gradient as `λ·θ` (default 0).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // A zero gradient still moves θ: g = λ·θ = 1, then the first step's 10·lr.
    /// let mut theta = [2.0_f64];
    /// RmsProp::new(0.01).weight_decay(0.5).step(&mut theta, &[0.0]);
    /// assert!((theta[0] - 1.9).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Momentum factor μ (default 0, off).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // With α = 0 each normalized gradient is 1; the buffer b goes 1, then μ·1 + 1.
    /// let mut theta = [0.0_f64];
    /// let mut rmsprop = RmsProp::new(0.1).alpha(0.0).momentum(0.5);
    /// rmsprop.step(&mut theta, &[3.0]);
    /// rmsprop.step(&mut theta, &[3.0]);
    /// assert!((theta[0] - -(0.1 + 0.1 * 1.5)).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.hyper.momentum = momentum;
        self
    }

    /// Centered RMSprop: normalize by an estimate of the gradient's variance (default off).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, RmsProp};
    ///
    /// // α = 0.5, g = 2: v = 2, g_ave = 1, so ṽ = v − g_ave² = 1 and the step is lr·2/1.
    /// let mut theta = [0.0_f64];
    /// RmsProp::new(0.1).alpha(0.5).centered(true).step(&mut theta, &[2.0]);
    /// assert!((theta[0] - -0.2).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn centered(mut self, centered: bool) -> Self {
        self.hyper.centered = centered;
        self
    }
}

impl<T> Default for RmsProp<T> {
    /// PyTorch's defaults: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`.
    fn default() -> Self {
        Self::new(1e-2)
    }
}

impl Hyper {
    fn validate(&self) -> Result<(), OptimError> {
        let h = self;
        non_negative("RMSprop", "lr", h.lr)?;
        non_negative("RMSprop", "alpha", h.alpha)?;
        non_negative("RMSprop", "eps", h.eps)?;
        non_negative("RMSprop", "weight_decay", h.weight_decay)?;
        non_negative("RMSprop", "momentum", h.momentum)
    }

    /// One coordinate of the rule in the type's docs.
    fn update(&self, theta: f64, mut g: f64, s: &mut Averages) -> f64 {
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        s.v = self.alpha * s.v + (1.0 - self.alpha) * g * g;
        let mut v_tilde = s.v;
        if self.centered {
            s.g_ave = s.g_ave * self.alpha + (1.0 - self.alpha) * g;
            v_tilde -= s.g_ave * s.g_ave;
        }
        if self.momentum > 0.0 {
            s.b = self.momentum * s.b + g / (v_tilde.sqrt() + self.eps);
            theta - self.lr * s.b
        } else {
            theta - self.lr * g / (v_tilde.sqrt() + self.eps)
        }
    }
}

impl<T: Real> Optimizer<T> for RmsProp<T> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        let hyper = self.hyper;
        hyper.validate()?;
        self.steps.begin(params.len(), grads.len())?;
        self.state.resize(params.len(), Averages::default());
        apply(params, grads, &mut self.state, |theta, g, s| {
            hyper.update(theta, g, s)
        });
        Ok(())
    }

    bookkeeping!();
}
