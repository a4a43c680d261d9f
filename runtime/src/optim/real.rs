//! [`Real`]: the element types optimizers, the training loop and clipping accept.

use std::fmt::{Debug, Display};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: a parameter element. Arithmetic happens in `f64`, whatever the element type.
///
/// ```
/// use symgrad::optim::Real;
///
/// assert_eq!(Real::to_f64(0.5_f32), 0.5_f64);
/// assert_eq!(<f32 as Real>::from_f64(0.25), 0.25_f32);
/// ```
pub trait Real:
    Copy + Debug + Display + PartialOrd + Default + Send + Sync + 'static + sealed::Sealed
{
    /// The value as an `f64` (exact).
    ///
    /// ```
    /// use symgrad::optim::Real;
    ///
    /// assert_eq!(0.1_f32.to_f64(), f64::from(0.1_f32));
    /// assert_eq!(0.1_f64.to_f64(), 0.1);
    /// ```
    fn to_f64(self) -> f64;
    /// The nearest element to `value`.
    ///
    /// ```
    /// use symgrad::optim::Real;
    ///
    /// assert_eq!(f32::from_f64(0.1), 0.1_f32); // rounded once
    /// assert_eq!(f64::from_f64(0.1), 0.1);
    /// ```
    fn from_f64(value: f64) -> Self;
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "rounding to the nearest f32 is the point"
    )]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}
