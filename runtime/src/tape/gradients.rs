//! [`Gradients`]: what [`Tape::gradient`](super::Tape::gradient) returns, looked up by variable.

use std::fmt;

use ndarray::{Array, ArrayD, Dimension};

use super::cache;
use super::float::TapeFloat;
use super::var::{Var, typed};

/// Gradients returned by [`Tape::gradient`](super::Tape::gradient), looked up by the watched [`Var`].
///
/// The gradients still in it when it is dropped (those not moved out by [`take`](Gradients::take))
/// go back to the tape's buffer [`cache`](super::cache).
#[derive(Clone)]
pub struct Gradients<T> {
    slots: Vec<Option<ArrayD<T>>>,
    serial: u64,
    // `cache::recycle::<T>`, as a pointer so that the `Drop` impl needs no `T: TapeFloat`.
    give_back: fn(ArrayD<T>),
}

impl<T> fmt::Debug for Gradients<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = self.slots.iter().filter(|s| s.is_some()).count();
        f.debug_struct("Gradients")
            .field("variables", &present)
            .field("tape", &self.serial)
            .finish_non_exhaustive()
    }
}

impl<T: TapeFloat> Gradients<T> {
    /// The gradient with respect to `var`, as an owned array of `var`'s shape and type
    /// (zeros when `var` does not influence the output, or is a constant).
    ///
    /// # Panics
    ///
    /// If `var` was recorded on another tape.
    #[must_use]
    pub fn wrt<D: Dimension>(&self, var: &Var<'_, T, D>) -> Array<T, D> {
        self.check_tape(var);
        match self.slots.get(var.id).and_then(Option::as_ref) {
            Some(g) => typed(g.view()).to_owned(),
            None => zeros_like(var),
        }
    }

    /// Like [`wrt`](Gradients::wrt) but moves the gradient out instead of copying it; a second
    /// `take` of the same variable returns zeros.
    ///
    /// # Panics
    ///
    /// If `var` was recorded on another tape.
    pub fn take<D: Dimension>(&mut self, var: &Var<'_, T, D>) -> Array<T, D> {
        self.check_tape(var);
        match self.slots.get_mut(var.id).and_then(Option::take) {
            Some(g) => g
                .into_dimensionality()
                .expect("internal error: gradient rank"),
            None => zeros_like(var),
        }
    }
}

impl<T: TapeFloat> Gradients<T> {
    /// The gradient of the variable with id `id` and shape `shape`, moved out (zeros if it has
    /// none): for generated code, which reads the gradient of an owned parameter after the body
    /// has consumed its `Var`.
    #[doc(hidden)]
    pub fn __take_by_id(&mut self, id: usize, shape: &[usize]) -> ndarray::ArrayD<T> {
        self.slots
            .get_mut(id)
            .and_then(Option::take)
            .unwrap_or_else(|| ndarray::ArrayD::zeros(shape))
    }
}

impl<T: TapeFloat> Gradients<T> {
    pub(crate) fn new(slots: Vec<Option<ArrayD<T>>>, serial: u64) -> Self {
        Self {
            slots,
            serial,
            give_back: cache::recycle::<T>,
        }
    }
}

impl<T> Drop for Gradients<T> {
    fn drop(&mut self) {
        self.slots.drain(..).flatten().for_each(self.give_back);
    }
}

impl<T> Gradients<T> {
    fn check_tape<D>(&self, var: &Var<'_, T, D>) {
        assert!(
            var.tape.serial == self.serial,
            "symgrad tape: gradients asked for a variable of another tape"
        );
    }
}

fn zeros_like<T: TapeFloat, D: Dimension>(var: &Var<'_, T, D>) -> Array<T, D> {
    let dyn_zeros = ArrayD::zeros(var.shape());
    dyn_zeros
        .into_dimensionality()
        .expect("internal error: a Var's dimensionality matches its node")
}
