//! Reverse-mode tape on ndarray (work in progress).

mod arith;
mod dual;
mod elementwise;
mod error;
mod float;
mod grads;
mod graph;
mod linalg;
mod nn;
mod operand;
mod operators;
mod reduce;
mod shape;

pub use arith::Broadcast;
pub use dual::Dual;
pub use error::{AxisError, ShapeError};
pub use float::TapeFloat;
pub use graph::{Gradients, Tape, Var};
pub use linalg::DotDim;
pub use operand::{IntoArray, Operand, TapeDot, dot};
