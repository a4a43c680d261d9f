//! Reductions and axis bookkeeping: `sum`, `mean`, `sum_axis`, `mean_axis`, `insert_axis`, and
//! `view`, forward and backward side by side.

use ndarray::{Array0, ArrayD, Axis, Dimension, Ix0, RemoveAxis};

use super::adjoints::Adjoints;
use super::cache;
use super::error::AxisError;
use super::float::{TapeFloat, from_usize};
use super::graph::{Node, Op};
use super::var::Var;

/// Reductions; the first field is the input node id.
pub(crate) enum ReduceOp {
    Sum(usize),
    Mean(usize),
    SumAxis(usize, Axis),
    MeanAxis(usize, Axis),
    InsertAxis(usize, Axis),
    /// Another handle on the same value (`view()`).
    View(usize),
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    /// Sum of all elements, as a scalar tape value.
    #[must_use]
    pub fn sum(&self) -> Var<'t, T, Ix0> {
        let value = Array0::from_elem((), self.tape.total(self.id)).into_dyn();
        self.tape
            .push(value, Op::Reduce(ReduceOp::Sum(self.id)), &[self.id])
    }

    /// Mean of all elements, as a scalar tape value (NaN for an empty array, like ndarray's
    /// `mean` returning `None`).
    #[must_use]
    pub fn mean(&self) -> Var<'t, T, Ix0> {
        let mean = self.tape.total(self.id) / from_usize(self.len());
        let value = Array0::from_elem((), mean).into_dyn();
        self.tape
            .push(value, Op::Reduce(ReduceOp::Mean(self.id)), &[self.id])
    }

    /// Sum along `axis`, removing it, like ndarray's `sum_axis`.
    ///
    /// # Panics
    ///
    /// If `axis` is out of bounds (the [`AxisError`] message); see
    /// [`try_sum_axis`](Var::try_sum_axis).
    #[must_use]
    pub fn sum_axis(&self, axis: Axis) -> Var<'t, T, D::Smaller>
    where
        D: RemoveAxis,
    {
        self.try_sum_axis(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`sum_axis`](Var::sum_axis), returning an [`AxisError`] instead of panicking.
    pub fn try_sum_axis(&self, axis: Axis) -> Result<Var<'t, T, D::Smaller>, AxisError>
    where
        D: RemoveAxis,
    {
        let value = {
            let nodes = self.tape.values(&[self.id]);
            let v = &nodes[self.id].value;
            AxisError::check("sum_axis", axis.index(), v.shape())?;
            v.sum_axis(axis)
        };
        Ok(self.tape.push(
            value,
            Op::Reduce(ReduceOp::SumAxis(self.id, axis)),
            &[self.id],
        ))
    }

    /// Mean along `axis`, removing it, like ndarray's `mean_axis`.
    ///
    /// # Panics
    ///
    /// If `axis` is out of bounds (the [`AxisError`] message); see
    /// [`try_mean_axis`](Var::try_mean_axis).
    #[must_use]
    pub fn mean_axis(&self, axis: Axis) -> Var<'t, T, D::Smaller>
    where
        D: RemoveAxis,
    {
        self.try_mean_axis(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`mean_axis`](Var::mean_axis), returning an [`AxisError`] instead of panicking.
    pub fn try_mean_axis(&self, axis: Axis) -> Result<Var<'t, T, D::Smaller>, AxisError>
    where
        D: RemoveAxis,
    {
        let value = {
            let nodes = self.tape.values(&[self.id]);
            let v = &nodes[self.id].value;
            AxisError::check("mean_axis", axis.index(), v.shape())?;
            let n: T = from_usize(v.len_of(axis));
            v.sum_axis(axis) / n
        };
        Ok(self.tape.push(
            value,
            Op::Reduce(ReduceOp::MeanAxis(self.id, axis)),
            &[self.id],
        ))
    }

    /// A new axis of length 1 at `axis`, like ndarray's `insert_axis`.
    ///
    /// # Panics
    ///
    /// If `axis > ndim` (the [`AxisError`] message); see [`try_insert_axis`](Var::try_insert_axis).
    #[must_use]
    pub fn insert_axis(&self, axis: Axis) -> Var<'t, T, D::Larger> {
        self.try_insert_axis(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`insert_axis`](Var::insert_axis), returning an [`AxisError`] instead of panicking.
    pub fn try_insert_axis(&self, axis: Axis) -> Result<Var<'t, T, D::Larger>, AxisError> {
        let value = {
            let nodes = self.tape.values(&[self.id]);
            let v = &nodes[self.id].value;
            // One past the last axis is allowed: the new axis goes last.
            if axis.index() > v.ndim() {
                return Err(AxisError {
                    op: "insert_axis",
                    axis: axis.index(),
                    shape: v.shape().to_vec(),
                });
            }
            cache::copy(&v.view().insert_axis(axis))
        };
        Ok(self.tape.push(
            value,
            Op::Reduce(ReduceOp::InsertAxis(self.id, axis)),
            &[self.id],
        ))
    }

    /// Another handle on the same value, as ndarray's `view()` gives another view of an array:
    /// for code that reads an array through views (`let v = x.view(); &v * &v`). The gradient
    /// passes through unchanged. The caller's array (watched, or a constant read in place) is
    /// not copied; a value computed on the tape is.
    ///
    /// ```
    /// use ndarray::array;
    /// use symgrad::tape::Tape;
    ///
    /// let x0 = array![[1.0_f64, -2.0], [0.5, 3.0]];
    /// let tape = Tape::new();
    /// let x = tape.watch(x0.view());
    /// let v = x.view();
    /// let cost = (&v * &v).sum() * 0.5 + (&x * 2.0).sum();
    /// assert_eq!(tape.gradient(&cost).wrt(&x), &x0 + 2.0); // x + 2: both handles count
    /// ```
    #[must_use]
    pub fn view(&self) -> Self {
        self.tape
            .push_view(self.id, Op::Reduce(ReduceOp::View(self.id)))
    }
}

impl ReduceOp {
    pub(crate) fn backward<T: TapeFloat>(
        &self,
        nodes: &[Node<'_, T>],
        g: ArrayD<T>,
        grads: &mut Adjoints<T>,
    ) {
        // Reductions read only shapes: the input buffer may have been reused.
        let shape = |id: usize| nodes[id].shape.as_slice();
        match *self {
            // c = a with a new length-1 axis  ⇒  ā += c̄ without it
            ReduceOp::InsertAxis(a, axis) => return grads.add_owned(a, g.remove_axis(axis)),
            // c = a  ⇒  ā += c̄
            ReduceOp::View(a) => return grads.add_owned(a, g),
            _ => {}
        }
        let scalar = || g.first().copied().unwrap_or_else(T::zero);
        match *self {
            // s = Σ a  ⇒  ā += s̄ (broadcast)
            ReduceOp::Sum(a) => grads.add_fill(a, scalar()),
            // s = Σ a / n  ⇒  ā += s̄ / n
            ReduceOp::Mean(a) => {
                let n: T = from_usize(shape(a).iter().product());
                grads.add_fill(a, scalar() / n);
            }
            // c = Σ_axis a  ⇒  ā += c̄ (broadcast along axis)
            ReduceOp::SumAxis(a, axis) => {
                let spread = g.view().insert_axis(axis);
                grads.add_broadcast_scaled(a, &spread, shape(a), T::one());
            }
            // c = Σ_axis a / n  ⇒  ā += c̄ / n (broadcast along axis)
            ReduceOp::MeanAxis(a, axis) => {
                let n: T = from_usize(shape(a)[axis.index()]);
                let spread = g.view().insert_axis(axis);
                grads.add_broadcast_scaled(a, &spread, shape(a), T::one() / n);
            }
            ReduceOp::InsertAxis(..) | ReduceOp::View(_) => {
                unreachable!("internal error: handled above")
            }
        }
        cache::recycle(g);
    }
}
