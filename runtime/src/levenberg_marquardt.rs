//! The [levenberg-marquardt](https://docs.rs/levenberg-marquardt) crate's
//! [`LeastSquaresProblem`] from residuals whose Jacobian `#[differentiable]` generates (feature
//! `levenberg-marquardt`).
//!
//! [`Problem`] holds the parameters (an `f64` slice, as nalgebra's `DVector<f64>` for the solver)
//! and a [`ResidualFn`]: [`Problem::rows`] for one scalar residual per observation (its `_grad`
//! is that observation's row of the Jacobian: curve fitting), [`Problem::outputs`] for a
//! vector-valued `fn r(…) -> [f64; M]` (its `_jacobian`). The residuals and the Jacobian at a
//! point come from one call of the generated code, which the solver's two questions
//! (`residuals()`, then `jacobian()` at an accepted point) share.
//!
//! ```
//! use symgrad::differentiable;
//! use symgrad::levenberg_marquardt::{LevenbergMarquardt, Problem};
//!
//! /// y = b₀·(1 − exp(−b₁·x)): NIST's Misra1a model, one residual per observation.
//! #[differentiable(wrt(b))]
//! fn misra1a(b: [f64; 2], x: f64, y: f64) -> f64 {
//!     b[0] * (1.0 - (-b[1] * x).exp()) - y
//! }
//!
//! let x = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1,
//!          689.1, 760.0];
//! let y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40,
//!          75.47, 81.78];
//! let problem = Problem::rows(&[500.0, 1e-4], x.len(), |b: &[f64], i| {
//!     misra1a_grad([b[0], b[1]], x[i], y[i])
//! });
//! let (fit, report) = LevenbergMarquardt::new().minimize(problem);
//! assert!(report.termination.was_successful());
//! // NIST's certified values: b = (238.94212918, 5.5015643181e-4), RSS 0.12455138894.
//! assert!((fit.point()[0] / 238.942_129_18 - 1.0).abs() < 1e-8);
//! assert!((fit.point()[1] / 5.501_564_318_1e-4 - 1.0).abs() < 1e-8);
//! assert!((2.0 * report.objective_function / 0.124_551_388_94 - 1.0).abs() < 1e-9);
//! ```
//!
//! The solver's `objective_function` is `½·Σ rᵢ²`; [`Problem::sum_of_squares`] is `Σ rᵢ²`.
//! Only `f64` parameters: a generated function in `f32` can be wrapped in a closure that casts.

use std::cell::{Cell, RefCell};

use nalgebra::{DMatrix, DVector, Dyn, U1, VecStorage};

use crate::residuals::{Outputs, ResidualError, ResidualFn, ResidualJacobian, Rows};

pub use ::levenberg_marquardt::{
    LeastSquaresProblem, LevenbergMarquardt, MinimizationReport, TerminationReason,
};
/// The nalgebra the solver works in (0.34), for its `DVector`s and `DMatrix`es.
pub use nalgebra;

/// A least-squares problem for [`LevenbergMarquardt`]: the parameters and the residual function.
///
/// ```
/// use symgrad::differentiable;
/// use symgrad::levenberg_marquardt::{LevenbergMarquardt, Problem};
///
/// // Rosenbrock's function as two residuals; its minimum is (1, 1).
/// #[differentiable]
/// fn rosenbrock(a: f64, b: f64) -> [f64; 2] {
///     [1.0 - a, 10.0 * (b - a * a)]
/// }
///
/// let problem = Problem::outputs(&[-1.2, 1.0], |p: &[f64]| rosenbrock_jacobian(p[0], p[1]));
/// let (fit, report) = LevenbergMarquardt::new().minimize(problem);
/// assert!(report.termination.was_successful(), "{report:?}");
/// assert!((fit.point()[0] - 1.0).abs() < 1e-12 && (fit.point()[1] - 1.0).abs() < 1e-12);
/// assert!(fit.evaluations() > 1);
/// ```
#[derive(Debug)]
pub struct Problem<E> {
    eval: E,
    params: DVector<f64>,
    cache: RefCell<Cache>,
    evaluations: Cell<usize>,
}

/// The residuals and Jacobian at the current parameters, once computed.
#[derive(Debug, Default)]
struct Cache {
    filled: bool,
    error: Option<ResidualError>,
    values: ResidualJacobian,
}

impl<E: ResidualFn> Problem<E> {
    /// Starts at `start` (one entry per parameter, in the order of the rows' entries).
    pub fn new(start: &[f64], eval: E) -> Self {
        Self {
            eval,
            params: DVector::from_column_slice(start),
            cache: RefCell::default(),
            evaluations: Cell::new(0),
        }
    }

    /// The current parameters: after [`LevenbergMarquardt::minimize`], the solution.
    #[must_use]
    pub fn point(&self) -> &[f64] {
        self.params.as_slice()
    }

    /// How many points the residual function was evaluated at (each evaluation gives the
    /// residuals and the Jacobian).
    #[must_use]
    pub fn evaluations(&self) -> usize {
        self.evaluations.get()
    }

    /// `Σ rᵢ²` at the current parameters (the residual sum of squares NIST certifies), or the
    /// reason the residual function could not give it.
    ///
    /// # Errors
    ///
    /// [`ResidualError`] when a row of the Jacobian does not fit the parameters.
    pub fn sum_of_squares(&self) -> Result<f64, ResidualError> {
        self.with_values(ResidualJacobian::sum_of_squares)
    }

    /// The residuals and Jacobian at the current parameters, evaluated once per point.
    fn with_values<T>(
        &self,
        read: impl FnOnce(&ResidualJacobian) -> T,
    ) -> Result<T, ResidualError> {
        let mut cache = self.cache.borrow_mut();
        if !cache.filled {
            let Cache { error, values, .. } = &mut *cache;
            *error = self.eval.eval(self.params.as_slice(), values).err();
            cache.filled = true;
            self.evaluations.set(self.evaluations.get() + 1);
        }
        match &cache.error {
            None => Ok(read(&cache.values)),
            Some(error) => Err(error.clone()),
        }
    }
}

impl<F> Problem<Rows<F>> {
    /// One scalar residual per observation, `count` of them: `f(params, i)` returns residual `i`
    /// and its gradient (a generated `_grad`), row `i` of the Jacobian. See [`Rows`].
    pub fn rows(start: &[f64], count: usize, f: F) -> Self
    where
        Rows<F>: ResidualFn,
    {
        Self::new(start, Rows::new(count, f))
    }
}

impl<F> Problem<Outputs<F>> {
    /// The outputs of a vector-valued function: `f(params)` returns them and their rows (a
    /// generated `_jacobian`). See [`Outputs`].
    pub fn outputs(start: &[f64], f: F) -> Self
    where
        Outputs<F>: ResidualFn,
    {
        Self::new(start, Outputs::new(f))
    }
}

/// The solver's view: `None` (the solver stops with [`TerminationReason::User`]) when the
/// residual function does not fit the parameters; [`Problem::sum_of_squares`] says why.
impl<E: ResidualFn> LeastSquaresProblem<f64, Dyn, Dyn> for Problem<E> {
    type ResidualStorage = VecStorage<f64, Dyn, U1>;
    type JacobianStorage = VecStorage<f64, Dyn, Dyn>;
    type ParameterStorage = VecStorage<f64, Dyn, U1>;

    fn set_params(&mut self, x: &DVector<f64>) {
        self.params.copy_from(x);
        self.cache.get_mut().filled = false;
    }

    fn params(&self) -> DVector<f64> {
        self.params.clone()
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        self.with_values(|v| DVector::from_column_slice(v.residuals()))
            .ok()
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        self.with_values(|v| DMatrix::from_row_slice(v.len(), v.params(), v.jacobian_row_major()))
            .ok()
    }
}
