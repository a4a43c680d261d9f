//! [`OptimizerExt`]: stepping `ndarray` arrays with any [`Optimizer`].

use ndarray::{ArrayBase, Data, DataMut, Dimension};

use super::{OptimError, Optimizer, Real};

/// Steps `ndarray` parameter arrays: implemented for every [`Optimizer`], `Box<dyn Optimizer>`
/// included.
///
/// Contiguous arrays in standard (row-major) layout are stepped in place through their slices;
/// any other layout is copied to a vector in logical order, stepped, and written back.
///
/// ```
/// use ndarray::array;
/// use symgrad::optim::{Optimizer, OptimizerExt, Sgd};
///
/// let mut w = array![[1.0, 2.0], [3.0, 4.0]];
/// let grad = array![[1.0, 1.0], [1.0, 1.0]];
/// let mut sgd = Sgd::new(0.5);
/// sgd.try_step_array(&mut w, &grad)?;
/// assert_eq!(w, array![[0.5, 1.5], [2.5, 3.5]]);
///
/// // A transposed view is stepped in logical order too:
/// sgd.try_step_array(&mut w.view_mut().reversed_axes(), &grad.t())?;
/// assert_eq!(w, array![[0.0, 1.0], [2.0, 3.0]]);
/// # Ok::<(), symgrad::optim::OptimError>(())
/// ```
pub trait OptimizerExt<T: Real>: Optimizer<T> {
    /// [`Optimizer::try_step`] on arrays of the same shape.
    ///
    /// # Errors
    ///
    /// [`OptimError::ShapeMismatch`] if the shapes differ, and any error of `try_step`.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use symgrad::optim::{Adam, OptimError, OptimizerExt};
    ///
    /// let mut w = Array2::<f64>::zeros((2, 3));
    /// let mut adam = Adam::new(0.1);
    /// adam.try_step_array(&mut w, &Array2::ones((2, 3)))?;
    /// // Adam's first step: about −lr·sign(g).
    /// assert!(w.iter().all(|&x| (x + 0.1).abs() < 1e-6));
    ///
    /// // Same length, different shape: refused, nothing changes.
    /// let refused = adam.try_step_array(&mut w, &Array2::ones((3, 2)));
    /// let shapes = OptimError::ShapeMismatch { params: vec![2, 3], grads: vec![3, 2] };
    /// assert_eq!(refused, Err(shapes));
    ///
    /// // One optimizer per array: a bias vector gets its own.
    /// let mut b = Array1::<f64>::zeros(3);
    /// Adam::new(0.1).try_step_array(&mut b, &Array1::ones(3))?;
    /// # Ok::<(), OptimError>(())
    /// ```
    fn try_step_array<S, G, D>(
        &mut self,
        params: &mut ArrayBase<S, D>,
        grads: &ArrayBase<G, D>,
    ) -> Result<(), OptimError>
    where
        S: DataMut<Elem = T>,
        G: Data<Elem = T>,
        D: Dimension,
    {
        if params.shape() != grads.shape() {
            return Err(OptimError::ShapeMismatch {
                params: params.shape().to_vec(),
                grads: grads.shape().to_vec(),
            });
        }
        if let (Some(p), Some(g)) = (params.as_slice_mut(), grads.as_slice()) {
            return self.try_step(p, g);
        }
        let mut flat: Vec<T> = params.iter().copied().collect();
        let flat_grads: Vec<T> = grads.iter().copied().collect();
        self.try_step(&mut flat, &flat_grads)?;
        params.iter_mut().zip(flat).for_each(|(p, v)| *p = v);
        Ok(())
    }
}

impl<T: Real, O: Optimizer<T> + ?Sized> OptimizerExt<T> for O {}
