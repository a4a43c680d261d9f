//! # symgrad
//!
//! Compile-time symbolic differentiation for stable Rust. Put `#[differentiable]` on a plain
//! loss function and a companion `<name>_grad` returns the value and the exact gradient, as fast
//! as a gradient written by hand.
//!
//! ```
//! use symgrad::differentiable;
//!
//! #[differentiable]
//! fn cost(w: f64, x: f64, y: f64) -> f64 {
//!     let f_wb = w * x;
//!     (f_wb - y).powi(2)
//! }
//!
//! let (value, grad) = cost_grad(3.0, 1.0, 1.0);
//! assert_eq!(value, 4.0);
//! assert_eq!(grad.w, 2.0 * 1.0 * (1.0 * 3.0 - 1.0)); // 2x(xw - y)
//! ```
//!
//! See the README for the supported language, the runtime and the benchmarks.
#![forbid(unsafe_code)]

pub use symgrad_macros::differentiable;
pub use symgrad_runtime::*;

/// What generated code calls. Not part of the public API: no stability guarantees.
#[doc(hidden)]
pub mod __private {
    pub use symgrad_runtime::ndarray;
    pub use symgrad_runtime::scalar::sign;
    pub use symgrad_runtime::tape::{Tape, TapeDotMethod};
}
