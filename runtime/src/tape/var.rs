//! [`Var`]: a typed handle to a value recorded on a [`Tape`], and its constant accessors
//! (shape, length, value). The ops live in the family files.

use std::fmt;
use std::marker::PhantomData;

use ndarray::{Array, ArrayView, ArrayViewD, Dimension, Ix0, Ix2, IxDyn};

use super::float::TapeFloat;
use super::graph::{Recorded, Tape};

/// A value on a [`Tape`], typed by its dimensionality `D` (`Ix0` scalar, `Ix1` vector, `Ix2`
/// matrix, or `IxDyn`).
///
/// A `Var` follows ndarray's ownership conventions: methods take `&self`; operators take their
/// operands by value or by reference (`&a + &b` keeps both, `a + b` gives both up). An operand
/// given up by value lets the op reuse its buffer for the result, as `Array + &Array` does, when
/// the backward pass does not need it: `(x.dot(&w) + &b - &y) * &r` allocates once.
pub struct Var<'t, T, D> {
    pub(crate) tape: &'t Tape<'t, T>,
    pub(crate) id: usize,
    dim: PhantomData<D>,
}

impl<T: TapeFloat, D: Dimension> fmt::Debug for Var<'_, T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Var")
            .field("id", &self.id)
            .field("value", &self.value())
            .finish()
    }
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    pub(crate) fn new(tape: &'t Tape<'t, T>, id: usize) -> Self {
        Self {
            tape,
            id,
            dim: PhantomData,
        }
    }

    /// This operand, kept by the caller.
    pub(crate) fn borrowed(&self) -> Recorded {
        Recorded {
            id: self.id,
            consumed: false,
        }
    }

    /// This operand, given up by the caller.
    pub(crate) fn consumed(self) -> Recorded {
        Recorded {
            id: self.id,
            consumed: true,
        }
    }

    /// The node id on the tape.
    #[must_use]
    pub fn id(&self) -> usize {
        self.id
    }

    /// The tape this value is recorded on.
    #[must_use]
    pub fn tape(&self) -> &'t Tape<'t, T> {
        self.tape
    }

    /// The value, copied out as an owned array.
    #[must_use]
    pub fn value(&self) -> Array<T, D> {
        self.with_value(|v| v.to_owned())
    }

    /// Runs `f` on a view of the value (no copy).
    ///
    /// # Panics
    ///
    /// If `f` records on the same tape (the view borrows the tape's storage).
    pub fn with_value<R>(&self, f: impl FnOnce(ArrayView<'_, T, D>) -> R) -> R {
        let nodes = self.tape.values(&[self.id]);
        f(typed(nodes[self.id].value.view()))
    }

    /// The shape (a constant: no gradient flows through it).
    #[must_use]
    pub fn shape(&self) -> Vec<usize> {
        self.tape.nodes()[self.id].shape.clone()
    }

    /// Number of axes.
    #[must_use]
    pub fn ndim(&self) -> usize {
        self.tape.nodes()[self.id].shape.len()
    }

    /// Number of elements (a constant).
    #[must_use]
    pub fn len(&self) -> usize {
        self.tape.nodes()[self.id].shape.iter().product()
    }

    /// Whether the value has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a watched variable feeds this value (otherwise it is a constant for the tape).
    #[must_use]
    pub fn requires_grad(&self) -> bool {
        self.tape.nodes()[self.id].requires_grad
    }

    /// The same node seen with dynamic dimensionality.
    #[must_use]
    pub fn into_dyn(self) -> Var<'t, T, IxDyn> {
        Var::new(self.tape, self.id)
    }

    /// The same node with static dimensionality `E`, or `None` if the value has another rank
    /// (the tape counterpart of ndarray's `into_dimensionality`).
    #[must_use]
    pub fn into_dimensionality<E: Dimension>(self) -> Option<Var<'t, T, E>> {
        let ndim = self.ndim();
        (E::NDIM.is_none_or(|n| n == ndim)).then(|| self.retyped())
    }

    pub(crate) fn retyped<E: Dimension>(self) -> Var<'t, T, E> {
        Var::new(self.tape, self.id)
    }
}

impl<T: TapeFloat> Var<'_, T, Ix0> {
    /// The value of a scalar.
    #[must_use]
    pub fn item(&self) -> T {
        self.tape.values(&[self.id])[self.id]
            .value
            .first()
            .copied()
            .unwrap_or_else(T::nan)
    }
}

impl<T: TapeFloat> Var<'_, T, Ix2> {
    /// Number of rows (a constant), like `ArrayBase::nrows`.
    #[must_use]
    pub fn nrows(&self) -> usize {
        self.tape.nodes()[self.id].shape[0]
    }

    /// Number of columns (a constant), like `ArrayBase::ncols`.
    #[must_use]
    pub fn ncols(&self) -> usize {
        self.tape.nodes()[self.id].shape[1]
    }
}

/// A dynamic view with the static dimensionality the typed handle guarantees.
pub(crate) fn typed<T, D: Dimension>(view: ArrayViewD<'_, T>) -> ArrayView<'_, T, D> {
    view.into_dimensionality()
        .expect("internal error: a Var's dimensionality matches its node")
}
