//! Shape errors: what the fallible (`try_*`) path returns and what the operator path panics with.

use std::fmt;

/// Two operands whose shapes do not fit the operation.
///
/// Returned by the `try_*` methods; the operator path (`+`, `*`, [`dot`](super::dot), …) panics
/// with its [`Display`](fmt::Display) message instead, like ndarray itself.
///
/// ```
/// use ndarray::array;
/// use symgrad::tape::{ShapeError, Tape};
///
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// let tape = Tape::new();
/// let w = tape.watch(&x);
/// let err = w.try_dot(&array![1.0, 2.0, 3.0]).unwrap_err();
/// assert_eq!(err, ShapeError { op: "dot", left: vec![2, 2], right: vec![3] });
/// assert_eq!(
///     err.to_string(),
///     "shape mismatch in `dot`: left operand has shape [2, 2], right operand has shape [3]"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The operation, as the user spells it (`"dot"`, `"add"`, `"mse"`, …).
    pub op: &'static str,
    /// Shape of the left operand.
    pub left: Vec<usize>,
    /// Shape of the right operand.
    pub right: Vec<usize>,
}

impl ShapeError {
    pub(crate) fn new(op: &'static str, left: &[usize], right: &[usize]) -> Self {
        Self {
            op,
            left: left.to_vec(),
            right: right.to_vec(),
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shape mismatch in `{}`: left operand has shape {:?}, right operand has shape {:?}",
            self.op, self.left, self.right
        )
    }
}

impl std::error::Error for ShapeError {}

/// An axis argument that does not exist in the operand (`sum_axis(Axis(2))` on a matrix).
///
/// ```
/// use ndarray::{array, Axis};
/// use symgrad::tape::Tape;
///
/// let x = array![[1.0_f64, 2.0]];
/// let tape = Tape::new();
/// let err = tape.watch(&x).try_sum_axis(Axis(2)).unwrap_err();
/// assert_eq!(err.to_string(), "axis 2 is out of bounds in `sum_axis` for shape [1, 2]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisError {
    /// The operation (`"sum_axis"`, `"softmax"`, …).
    pub op: &'static str,
    /// The axis asked for.
    pub axis: usize,
    /// Shape of the operand.
    pub shape: Vec<usize>,
}

impl AxisError {
    pub(crate) fn check(op: &'static str, axis: usize, shape: &[usize]) -> Result<(), Self> {
        if axis < shape.len() {
            Ok(())
        } else {
            Err(Self {
                op,
                axis,
                shape: shape.to_vec(),
            })
        }
    }
}

impl fmt::Display for AxisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "axis {} is out of bounds in `{}` for shape {:?}",
            self.axis, self.op, self.shape
        )
    }
}

impl std::error::Error for AxisError {}
