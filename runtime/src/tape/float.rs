//! [`TapeFloat`]: the element types the tape works on (`f32` and `f64`).

use std::fmt::{Debug, Display};
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;

/// A float the tape can differentiate through: `f32` or `f64`.
///
/// Blanket-implemented for every type with the listed capabilities; you never implement it.
pub trait TapeFloat:
    Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
}

impl<T> TapeFloat for T where
    T: Float
        + LinalgScalar
        + ScalarOperand
        + AddAssign
        + SubAssign
        + MulAssign
        + DivAssign
        + Debug
        + Display
        + Send
        + Sync
        + 'static
{
}

/// `n` as a float (exact for every length an array can have in practice).
pub(crate) fn from_usize<T: TapeFloat>(n: usize) -> T {
    T::from(n).expect("internal error: a usize always converts to f32/f64")
}

/// `x` (a small literal such as 0.5 or 2.0) as a float.
pub(crate) fn from_f64<T: TapeFloat>(x: f64) -> T {
    T::from(x).expect("internal error: an f64 literal always converts to f32/f64")
}
