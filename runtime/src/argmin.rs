//! [argmin](https://argmin-rs.org)'s problem traits for generated derivatives (feature
//! `argmin`): its L-BFGS, Newton, trust-region and Gauss–Newton solvers on a
//! `#[differentiable]` function, with exact derivatives instead of finite differences.
//!
//! - [`Objective`]: [`CostFunction`] and [`Gradient`] from a closure over a generated `_grad`
//!   (`|p: &[f64]| loss_grad(p, &xs, &ys)`, which returns the value and the `<Name>Grad`,
//!   flattened in field order); [`Objective::with_hessian`] adds [`Hessian`] from a closure over
//!   `_hessian` (scalar parameters). For L-BFGS, BFGS, steepest descent, nonlinear conjugate
//!   gradients, Newton and the trust-region methods.
//! - [`LeastSquares`]: [`Operator`] (the residuals) and [`Jacobian`] for Gauss–Newton, from
//!   the same residual functions as the Levenberg–Marquardt adapter ([`Rows`]: one scalar
//!   residual per observation and its `_grad`; [`Outputs`]: a vector-valued function and its
//!   `_jacobian`), plus [`CostFunction`] `Σ rᵢ²` and [`Gradient`] `2·Jᵀr`, so the gradient
//!   methods can minimize the sum of squares too.
//!
//! The parameter type is the one argmin's solvers compute with ([`Param`]): `Vec<f64>`
//! (argmin-math's `vec` backend; Hessians and Jacobians as `Vec<Vec<f64>>`) or nalgebra's
//! `DVector<f64>` (Hessians and Jacobians as `DMatrix<f64>`). The solvers that invert a matrix
//! (Newton, Gauss–Newton, the dogleg trust region) need nalgebra: argmin-math has no inverse of
//! a `Vec<Vec<f64>>`. `ndarray` is not offered: argmin-math supports ndarray up to 0.16, not the
//! 0.17 symgrad uses, and its Newton on ndarray needs LAPACK. These are the traits of argmin 0.11
//! with argmin-math 0.5 and nalgebra 0.34 (re-exported here: [`argmin`](::argmin),
//! [`nalgebra`]).
//!
//! A solver asks for the cost and the gradient at the same point one after the other; both come
//! from one call of the generated `_grad`, kept for the next question (one point is kept).
//!
//! A point with a NaN or infinite coordinate is refused with an error: argmin's L-BFGS asks for
//! one once it can no longer move (see `tests/nist_strd.rs`), and its line search would
//! otherwise run forever; with the error, L-BFGS stops and keeps its best point.
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::linesearch::MoreThuenteLineSearch;
//! use argmin::solver::quasinewton::LBFGS;
//! use symgrad::argmin::Objective;
//! use symgrad::differentiable;
//!
//! #[differentiable]
//! fn rosenbrock(x: f64, y: f64) -> f64 {
//!     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
//! }
//!
//! let problem = Objective::new(|p: &[f64]| rosenbrock_grad(p[0], p[1]));
//! let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7);
//! let result = Executor::new(problem, solver)
//!     .configure(|state| state.param(vec![-1.2, 1.0]).max_iters(100))
//!     .run()?;
//! let best = result.state().get_best_param().unwrap();
//! assert!((best[0] - 1.0).abs() < 1e-8 && (best[1] - 1.0).abs() < 1e-8);
//! # Ok::<(), argmin::core::Error>(())
//! ```

use std::cell::RefCell;
use std::marker::PhantomData;

use ::argmin::core::{CostFunction, Error, Gradient, Hessian, Jacobian, Operator};
use nalgebra::{DMatrix, DVector};

use crate::gradient::Gradient as FlatGradient;
use crate::residuals::{Outputs, ResidualFn, ResidualJacobian, Rows};

/// The argmin this module implements the traits of (0.11).
pub use ::argmin;
/// The nalgebra of argmin-math's `nalgebra_v0_34` backend, for `DVector<f64>` parameters.
pub use nalgebra;

/// A parameter vector argmin's solvers compute with, and the matrix type of its Hessians and
/// Jacobians: `Vec<f64>` (`Vec<Vec<f64>>`, rows) or nalgebra's `DVector<f64>` (`DMatrix<f64>`).
///
/// ```
/// use symgrad::argmin::Param;
/// use symgrad::argmin::nalgebra::{DMatrix, DVector};
///
/// assert_eq!(<Vec<f64> as Param>::matrix(2, 2, &[1.0, 2.0, 3.0, 4.0]), [[1.0, 2.0], [3.0, 4.0]]);
/// let m = <DVector<f64> as Param>::matrix(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(m, DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]));
/// assert_eq!(DVector::<f64>::from_values(&[1.0, 2.0]).as_values(), [1.0, 2.0]);
/// ```
pub trait Param: Clone {
    /// The type of Hessians and Jacobians for this parameter type.
    type Matrix;
    /// The entries, in order.
    fn as_values(&self) -> &[f64];
    /// A vector of these entries.
    fn from_values(values: &[f64]) -> Self;
    /// A `rows × cols` matrix from its entries row after row.
    fn matrix(rows: usize, cols: usize, row_major: &[f64]) -> Self::Matrix;
}

impl Param for Vec<f64> {
    type Matrix = Vec<Vec<f64>>;
    fn as_values(&self) -> &[f64] {
        self
    }
    fn from_values(values: &[f64]) -> Self {
        values.to_vec()
    }
    fn matrix(rows: usize, cols: usize, row_major: &[f64]) -> Vec<Vec<f64>> {
        (0..rows)
            .map(|i| row_major[i * cols..(i + 1) * cols].to_vec())
            .collect()
    }
}

impl Param for DVector<f64> {
    type Matrix = DMatrix<f64>;
    fn as_values(&self) -> &[f64] {
        self.as_slice()
    }
    fn from_values(values: &[f64]) -> Self {
        DVector::from_column_slice(values)
    }
    fn matrix(rows: usize, cols: usize, row_major: &[f64]) -> DMatrix<f64> {
        DMatrix::from_row_slice(rows, cols, row_major)
    }
}

/// The cost function of a generated `_grad`, with its gradient and, given
/// [`with_hessian`](Self::with_hessian), its Hessian: argmin's [`CostFunction`], [`Gradient`]
/// and [`Hessian`] for the parameter type `P` ([`Param`]).
///
/// Newton's method with the Hessian of `#[differentiable(hessian)]`, on nalgebra's vectors:
///
/// ```
/// use argmin::core::{Executor, State};
/// use argmin::solver::newton::Newton;
/// use symgrad::argmin::Objective;
/// use symgrad::argmin::nalgebra::DVector;
/// use symgrad::differentiable;
///
/// #[differentiable(hessian)]
/// fn bowl(x: f64, y: f64) -> f64 {
///     (x - 1.0).powi(2) + 10.0 * (y + 2.0).powi(2) + x * y
/// }
///
/// let problem = Objective::new(|p: &[f64]| bowl_grad(p[0], p[1]))
///     .with_hessian(|p: &[f64]| bowl_hessian(p[0], p[1]));
/// let solver: Newton<f64> = Newton::new();
/// let result = Executor::new(problem, solver)
///     .configure(|state| state.param(DVector::from_vec(vec![5.0, 5.0])).max_iters(3))
///     .run()?;
/// // A quadratic: one Newton step lands on the minimum, where 2(x − 1) + y = 0 and
/// // 20(y + 2) + x = 0: (80/39, −82/39).
/// let p = result.state().get_param().unwrap();
/// assert!((p[0] - 80.0 / 39.0).abs() < 1e-12 && (p[1] + 82.0 / 39.0).abs() < 1e-12, "{p}");
/// # Ok::<(), argmin::core::Error>(())
/// ```
pub struct Objective<P, F, H = NoHessian> {
    grad: F,
    hessian: H,
    last: Memo<(f64, Vec<f64>)>,
    param: PhantomData<fn(&P)>,
}

/// The Hessian of an [`Objective`] built without [`Objective::with_hessian`]: none, so argmin's
/// solvers that need one do not accept it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHessian;

impl<P, F> Objective<P, F> {
    /// The cost function and gradient of `grad(params) -> (value, gradient)`: a closure over a
    /// generated `_grad`, its gradient struct flattened in field order (one entry per parameter).
    pub fn new(grad: F) -> Self {
        Self {
            grad,
            hessian: NoHessian,
            last: Memo::default(),
            param: PhantomData,
        }
    }

    /// Adds the Hessian from `hessian(params) -> (value, gradient, [[f64; K]; K])`: a closure
    /// over a generated `_hessian` (`#[differentiable(hessian)]`, K scalar parameters).
    pub fn with_hessian<H>(self, hessian: H) -> Objective<P, F, H> {
        Objective {
            grad: self.grad,
            hessian,
            last: self.last,
            param: PhantomData,
        }
    }
}

impl<P, F, G, H> Objective<P, F, H>
where
    F: Fn(&[f64]) -> (f64, G),
    G: FlatGradient<f64>,
{
    /// The value and the flat gradient at `at`, from the last call when it was at `at`.
    fn value_and_gradient(&self, at: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        self.last.get_or_insert(at, || {
            let (value, grad) = (self.grad)(at);
            let flat = grad.to_flat_vec();
            check_length("gradient", flat.len(), at.len())?;
            Ok((value, flat))
        })
    }
}

impl<P: Param, F, G, H> CostFunction for Objective<P, F, H>
where
    F: Fn(&[f64]) -> (f64, G),
    G: FlatGradient<f64>,
{
    type Param = P;
    type Output = f64;

    fn cost(&self, param: &P) -> Result<f64, Error> {
        Ok(self.value_and_gradient(param.as_values())?.0)
    }
}

impl<P: Param, F, G, H> Gradient for Objective<P, F, H>
where
    F: Fn(&[f64]) -> (f64, G),
    G: FlatGradient<f64>,
{
    type Param = P;
    type Gradient = P;

    fn gradient(&self, param: &P) -> Result<P, Error> {
        let (_, gradient) = self.value_and_gradient(param.as_values())?;
        Ok(P::from_values(&gradient))
    }
}

impl<P: Param, F, H, HG, const K: usize> Hessian for Objective<P, F, H>
where
    H: Fn(&[f64]) -> (f64, HG, [[f64; K]; K]),
{
    type Param = P;
    type Hessian = P::Matrix;

    fn hessian(&self, param: &P) -> Result<P::Matrix, Error> {
        let at = param.as_values();
        check_finite(at)?;
        check_length("Hessian", K, at.len())?;
        let (_, _, hessian) = (self.hessian)(at);
        Ok(P::matrix(K, K, hessian.as_flattened()))
    }
}

/// Residuals and their Jacobian for Gauss–Newton ([`Operator`], [`Jacobian`]), and their sum of
/// squares with its gradient ([`CostFunction`] `Σ rᵢ²`, [`Gradient`] `2·Jᵀr`) for the gradient
/// methods, for the parameter type `P` ([`Param`]).
///
/// ```
/// use argmin::core::{Executor, State};
/// use argmin::solver::gaussnewton::GaussNewton;
/// use symgrad::argmin::LeastSquares;
/// use symgrad::argmin::nalgebra::DVector;
/// use symgrad::differentiable;
///
/// /// y = a·exp(−k·t), one residual per sample.
/// #[differentiable(wrt(a, k))]
/// fn decay(a: f64, k: f64, t: f64, y: f64) -> f64 {
///     a * (-k * t).exp() - y
/// }
///
/// let t = [0.0, 1.0, 2.0, 3.0, 4.0];
/// let y = t.map(|t: f64| 3.0 * (-0.7 * t).exp()); // exact data: the fit is (3, 0.7)
/// let problem = LeastSquares::rows(t.len(), |p: &[f64], i| decay_grad(p[0], p[1], t[i], y[i]));
/// let result = Executor::new(problem, GaussNewton::new())
///     .configure(|state| state.param(DVector::from_vec(vec![2.0, 0.5])).max_iters(20))
///     .run()?;
/// let p = result.state().get_best_param().unwrap();
/// assert!((p[0] - 3.0).abs() < 1e-12 && (p[1] - 0.7).abs() < 1e-12);
/// # Ok::<(), argmin::core::Error>(())
/// ```
pub struct LeastSquares<P, E> {
    residuals: E,
    last: Memo<ResidualJacobian>,
    param: PhantomData<fn(&P)>,
}

impl<P, E: ResidualFn> LeastSquares<P, E> {
    /// The residuals of any [`ResidualFn`].
    pub fn new(residuals: E) -> Self {
        Self {
            residuals,
            last: Memo::default(),
            param: PhantomData,
        }
    }

    /// The residuals and Jacobian at `at`, from the last evaluation when it was at `at`.
    fn evaluate<T>(
        &self,
        at: &[f64],
        read: impl FnOnce(&ResidualJacobian) -> T,
    ) -> Result<T, Error> {
        self.last.with(
            at,
            || {
                let mut values = ResidualJacobian::default();
                self.residuals.eval(at, &mut values)?;
                Ok(values)
            },
            read,
        )
    }
}

impl<P, F> LeastSquares<P, Rows<F>>
where
    Rows<F>: ResidualFn,
{
    /// One scalar residual per observation, `count` of them: `f(params, i)` returns residual `i`
    /// and its gradient (a generated `_grad`), row `i` of the Jacobian. See [`Rows`].
    pub fn rows(count: usize, f: F) -> Self {
        Self::new(Rows::new(count, f))
    }
}

impl<P, F> LeastSquares<P, Outputs<F>>
where
    Outputs<F>: ResidualFn,
{
    /// The outputs of a vector-valued function: `f(params)` returns them and their rows (a
    /// generated `_jacobian`). See [`Outputs`].
    pub fn outputs(f: F) -> Self {
        Self::new(Outputs::new(f))
    }
}

impl<P: Param, E: ResidualFn> Operator for LeastSquares<P, E> {
    type Param = P;
    type Output = P;

    fn apply(&self, param: &P) -> Result<P, Error> {
        self.evaluate(param.as_values(), |v| P::from_values(v.residuals()))
    }
}

impl<P: Param, E: ResidualFn> Jacobian for LeastSquares<P, E> {
    type Param = P;
    type Jacobian = P::Matrix;

    fn jacobian(&self, param: &P) -> Result<P::Matrix, Error> {
        self.evaluate(param.as_values(), |v| {
            P::matrix(v.len(), v.params(), v.jacobian_row_major())
        })
    }
}

impl<P: Param, E: ResidualFn> CostFunction for LeastSquares<P, E> {
    type Param = P;
    type Output = f64;

    fn cost(&self, param: &P) -> Result<f64, Error> {
        self.evaluate(param.as_values(), ResidualJacobian::sum_of_squares)
    }
}

impl<P: Param, E: ResidualFn> Gradient for LeastSquares<P, E> {
    type Param = P;
    type Gradient = P;

    fn gradient(&self, param: &P) -> Result<P, Error> {
        self.evaluate(param.as_values(), |v| {
            P::from_values(&v.gradient_of_sum_of_squares())
        })
    }
}

/// The last point a problem was evaluated at and what it gave: a solver asks for the cost, the
/// gradient and the Jacobian at one point in separate calls.
struct Memo<T> {
    last: RefCell<Option<(Vec<f64>, T)>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            last: RefCell::new(None),
        }
    }
}

impl<T> Memo<T> {
    /// `read` of what `compute` gives at `at`, computed only when the last point was another.
    fn with<R>(
        &self,
        at: &[f64],
        compute: impl FnOnce() -> Result<T, Error>,
        read: impl FnOnce(&T) -> R,
    ) -> Result<R, Error> {
        check_finite(at)?;
        let mut last = self.last.borrow_mut();
        match &*last {
            Some((point, values)) if point.as_slice() == at => Ok(read(values)),
            _ => {
                let values = compute()?;
                let out = read(&values);
                *last = Some((at.to_vec(), values));
                Ok(out)
            }
        }
    }
}

impl<T: Clone> Memo<T> {
    fn get_or_insert(
        &self,
        at: &[f64],
        compute: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.with(at, compute, T::clone)
    }
}

/// An error where a solver asks about a point with a NaN or infinite coordinate.
///
/// argmin's L-BFGS does so once a line search returns the point it started from (at a minimum,
/// where no step changes the parameters in floating point: with `tolerance_cost(0.0)` and a
/// gradient tolerance below the gradient's rounding, as on NIST's Eckerle4): its update divides
/// by `yᵀs = 0`, the next direction is NaN, and the More–Thuente line search, which has no
/// iteration limit of its own, would evaluate NaN points forever. Refused, the line search
/// fails, and L-BFGS stops with the error as its reason (`SolverExit`), keeping its best point.
fn check_finite(at: &[f64]) -> Result<(), Error> {
    if at.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(::argmin::core::Error::msg(format!(
            "the solver asked for the cost at a point that is not finite ({at:?}): it has stopped \
             making progress (L-BFGS after a step that changed nothing, with `tolerance_cost(0.0)` \
             and a gradient tolerance below the gradient's rounding); its best point is kept"
        )))
    }
}

/// An error unless a derivative has one entry (row) per parameter.
fn check_length(what: &str, got: usize, params: usize) -> Result<(), Error> {
    if got == params {
        Ok(())
    } else {
        Err(::argmin::core::Error::msg(format!(
            "the {what} has {got} entries for {params} parameters: the derivative must be taken \
             with respect to exactly the parameters the solver moves (check `wrt(...)` and the \
             length of the initial parameter vector)"
        )))
    }
}
