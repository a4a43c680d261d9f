//! Gradient clipping with PyTorch's semantics: by value (`torch.nn.utils.clip_grad_value_`) and by
//! global L2 norm (`torch.nn.utils.clip_grad_norm_`).
//!
//! ```
//! use symgrad::clip::{clip_grad_norm, clip_grad_value};
//!
//! let mut grads = [3.0_f64, 4.0];
//! let norm = clip_grad_norm(&mut grads, 1.0); // returns the norm *before* clipping
//! assert_eq!(norm, 5.0);
//! assert!((grads[0] - 0.6).abs() < 1e-6 && (grads[1] - 0.8).abs() < 1e-6);
//!
//! let mut grads = [-3.0_f64, 0.5];
//! clip_grad_value(&mut grads, 1.0);
//! assert_eq!(grads, [-1.0, 0.5]);
//! ```

use crate::optim::Real;

/// The L2 norm `√Σ gᵢ²` of a gradient, accumulated in `f64`.
///
/// ```
/// assert_eq!(symgrad::clip::grad_norm(&[3.0_f32, 4.0]), 5.0);
/// ```
#[must_use]
pub fn grad_norm<T: Real>(grads: &[T]) -> f64 {
    grads
        .iter()
        .map(|g| g.to_f64() * g.to_f64())
        .sum::<f64>()
        .sqrt()
}

/// Clamps every component to `[−clip_value, clip_value]`, like `clip_grad_value_` (a negative
/// `clip_value` is taken by magnitude; NaN components stay NaN).
///
/// ```
/// let mut grads = [10.0_f64, -0.25, -7.0];
/// symgrad::clip::clip_grad_value(&mut grads, 0.5);
/// assert_eq!(grads, [0.5, -0.25, -0.5]);
/// ```
pub fn clip_grad_value<T: Real>(grads: &mut [T], clip_value: f64) {
    let c = clip_value.abs();
    for g in grads {
        let value = g.to_f64();
        if value > c {
            *g = T::from_f64(c);
        } else if value < -c {
            *g = T::from_f64(-c);
        }
    }
}

/// Rescales the gradient so its L2 norm is at most about `max_norm`, like `clip_grad_norm_`;
/// returns the total norm *before* clipping.
///
/// PyTorch's rule: `scale = max_norm / (norm + 1e-6)`, applied to every component when
/// `scale < 1`. One difference: when the norm is NaN or infinite, the gradient is left as it is
/// (PyTorch would fill it with NaN); the returned norm tells, and the
/// [training loop](crate::train) stops on it.
///
/// ```
/// use symgrad::clip::clip_grad_norm;
///
/// let mut small = [0.3_f64, 0.4];
/// assert_eq!(clip_grad_norm(&mut small, 1.0), 0.5);
/// assert_eq!(small, [0.3, 0.4]); // under max_norm: untouched
/// ```
pub fn clip_grad_norm<T: Real>(grads: &mut [T], max_norm: f64) -> f64 {
    let norm = grad_norm(grads);
    if !norm.is_finite() {
        return norm;
    }
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        for g in grads {
            *g = T::from_f64(g.to_f64() * scale);
        }
    }
    norm
}

/// A clipping rule, as the [training loop](crate::train::Minimizer::clip) applies it before each
/// optimizer step.
///
/// ```
/// use symgrad::clip::Clip;
///
/// let mut grads = [3.0_f64, -40.0];
/// Clip::Value(5.0).apply(&mut grads);
/// assert_eq!(grads, [3.0, -5.0]);
///
/// // In a training loop: `Minimizer::new(opt).clip(Clip::Norm(1.0))`.
/// assert_ne!(Clip::Value(1.0), Clip::Norm(1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// [`clip_grad_value`] with this `clip_value`.
    Value(f64),
    /// [`clip_grad_norm`] with this `max_norm`.
    Norm(f64),
}

impl Clip {
    /// Applies the rule to `grads`.
    ///
    /// ```
    /// use symgrad::clip::Clip;
    ///
    /// let mut grads = [6.0_f64, 8.0];
    /// Clip::Norm(5.0).apply(&mut grads);
    /// assert!((grads[0] - 3.0).abs() < 1e-6);
    /// ```
    pub fn apply<T: Real>(self, grads: &mut [T]) {
        match self {
            Self::Value(clip_value) => clip_grad_value(grads, clip_value),
            Self::Norm(max_norm) => {
                clip_grad_norm(grads, max_norm);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{clip_grad_norm, clip_grad_value, grad_norm};

    #[test]
    fn norm_clipping_uses_torchs_epsilon() {
        let mut grads = [30.0_f64, 40.0];
        let norm = clip_grad_norm(&mut grads, 5.0);
        assert_eq!(norm, 50.0);
        let scale = 5.0 / (50.0 + 1e-6);
        assert_eq!(grads, [30.0 * scale, 40.0 * scale]);
        assert!(grad_norm(&grads) < 5.0);
    }

    #[test]
    fn norm_clipping_leaves_a_non_finite_gradient_alone() {
        let mut grads = [f64::INFINITY, 1.0];
        assert_eq!(clip_grad_norm(&mut grads, 1.0), f64::INFINITY);
        assert_eq!(grads, [f64::INFINITY, 1.0]);
    }

    #[test]
    fn value_clipping_keeps_nan_and_takes_the_magnitude() {
        let mut grads = [f64::NAN, 3.0, -3.0];
        clip_grad_value(&mut grads, -2.0);
        assert!(grads[0].is_nan());
        assert_eq!(&grads[1..], [2.0, -2.0]);
    }

    #[test]
    fn f32_gradients_are_clipped_too() {
        let mut grads = [3.0_f32, 4.0];
        assert_eq!(clip_grad_norm(&mut grads, 1.0), 5.0);
        assert!((grads[0] - 0.6).abs() < 1e-6);
    }
}
