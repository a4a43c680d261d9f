//! [`OptimError`]: why an optimizer step was refused.

use std::fmt;

/// Why [`Optimizer::try_step`](super::Optimizer::try_step) refused a step. Nothing was updated.
///
/// ```
/// use symgrad::optim::{OptimError, Optimizer, Sgd};
///
/// let mut sgd = Sgd::new(0.1);
/// let error = sgd.try_step(&mut [1.0, 2.0], &[0.5]).unwrap_err();
/// assert_eq!(error, OptimError::LengthMismatch { params: 2, grads: 1 });
/// assert_eq!(
///     error.to_string(),
///     "params and grads differ in length: 2 parameters, 1 gradient components"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// `params` and `grads` have different lengths.
    LengthMismatch {
        /// Length of the parameters.
        params: usize,
        /// Length of the gradient.
        grads: usize,
    },
    /// The optimizer's state was built, by an earlier step, for a different number of parameters.
    StateMismatch {
        /// Length of the parameters of this step.
        params: usize,
        /// Number of parameters the state was built for.
        state: usize,
    },
    /// A hyper-parameter is out of its range (the ranges are PyTorch's).
    InvalidHyperParameter {
        /// The optimizer, e.g. `"Adam"`.
        optimizer: &'static str,
        /// The hyper-parameter, e.g. `"betas.0"`.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The range it must be in, e.g. `"in [0, 1)"`.
        requirement: &'static str,
    },
    /// An ndarray parameter array and its gradient have different shapes.
    ShapeMismatch {
        /// Shape of the parameters.
        params: Vec<usize>,
        /// Shape of the gradient.
        grads: Vec<usize>,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { params, grads } => write!(
                f,
                "params and grads differ in length: {params} parameters, {grads} gradient components"
            ),
            Self::StateMismatch { params, state } => write!(
                f,
                "the optimizer's state was built for {state} parameters but this step has {params}; \
                 call `reset()` before optimizing a different parameter vector"
            ),
            Self::InvalidHyperParameter {
                optimizer,
                name,
                value,
                requirement,
            } => write!(
                f,
                "invalid {optimizer} hyper-parameter `{name}` = {value}: it must be {requirement}"
            ),
            Self::ShapeMismatch { params, grads } => write!(
                f,
                "params have shape {params:?} but grads have shape {grads:?}"
            ),
        }
    }
}

impl std::error::Error for OptimError {}
