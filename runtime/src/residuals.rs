//! Residuals and their Jacobian for least-squares solvers, from the derivatives
//! `#[differentiable]` generates.
//!
//! A least-squares problem minimizes `Σᵢ rᵢ(p)²`; its solvers (Gauss–Newton,
//! Levenberg–Marquardt) need the residuals `r(p)` and their Jacobian `J(p)`, one row per
//! residual. Two shapes of generated code give them:
//!
//! - [`Rows`]: one **scalar** residual per observation, `#[differentiable(wrt(b))] fn r(b, x, y)
//!   -> f64`; the gradient its `_grad` returns is that observation's row of the Jacobian. The
//!   common case of curve fitting, for any number of observations.
//! - [`Outputs`]: a **vector-valued** function, `fn r(…) -> [f64; M]` or `fn r(…) -> Vec<f64>`
//!   (as many residuals as the data gives); its `_jacobian` returns the M residuals and the M
//!   rows at once.
//!
//! Both implement [`ResidualFn`], which the adapters for other crates' solvers take
//! (`symgrad::levenberg_marquardt::Problem`, `symgrad::argmin::LeastSquares`, behind the
//! `levenberg-marquardt` and `argmin` features). Each row is flattened with [`Gradient`], in the
//! gradient struct's field order (a field per differentiated parameter, an array field element
//! by element).
//!
//! ```
//! use symgrad::differentiable;
//! use symgrad::residuals::{ResidualFn, ResidualJacobian, Rows};
//!
//! // y = b₀·(1 − exp(−b₁·x)), one residual per observation.
//! #[differentiable(wrt(b))]
//! fn misra1a(b: [f64; 2], x: f64, y: f64) -> f64 {
//!     b[0] * (1.0 - (-b[1] * x).exp()) - y
//! }
//!
//! let (x, y) = ([77.6, 114.9, 141.1], [10.07, 14.73, 17.94]);
//! let rows = Rows::new(x.len(), |b: &[f64], i| misra1a_grad([b[0], b[1]], x[i], y[i]));
//! let mut out = ResidualJacobian::default();
//! rows.eval(&[500.0, 1e-4], &mut out)?;
//! assert_eq!((out.len(), out.params()), (3, 2));
//! let e = (-1e-4 * 77.6_f64).exp();
//! let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs();
//! assert!(close(out.residuals()[0], 500.0 * (1.0 - e) - 10.07));
//! let row = out.row(0); // (∂r₀/∂b₀, ∂r₀/∂b₁) = (1 − e, b₀·x·e)
//! assert!(close(row[0], 1.0 - e) && close(row[1], 500.0 * 77.6 * e));
//! # Ok::<(), symgrad::residuals::ResidualError>(())
//! ```

use std::fmt;

use crate::gradient::Gradient;

/// Residuals `r(p)` and their Jacobian `J(p)` (row `i` is `∇rᵢ`), evaluated together at a point.
///
/// Implemented by [`Rows`] and [`Outputs`]; implement it yourself for other layouts.
pub trait ResidualFn {
    /// Writes `r(params)` and `J(params)` into `out`, overwriting what it held.
    ///
    /// # Errors
    ///
    /// [`ResidualError::RowLength`] when a row does not have one entry per parameter.
    fn eval(&self, params: &[f64], out: &mut ResidualJacobian) -> Result<(), ResidualError>;
}

/// Residuals and their Jacobian at one point: `len()` residuals, `params()` columns, the Jacobian
/// stored row by row.
///
/// ```
/// use symgrad::residuals::ResidualJacobian;
///
/// let mut rj = ResidualJacobian::default();
/// rj.start(2);
/// rj.push_row(3.0, &[1.0, 2.0])?;
/// rj.push_row(-1.0, &[0.0, 4.0])?;
/// assert_eq!(rj.sum_of_squares(), 10.0);
/// assert_eq!(rj.gradient_of_sum_of_squares(), [6.0, 4.0]); // 2·Jᵀr
/// assert_eq!(rj.jacobian_row_major(), [1.0, 2.0, 0.0, 4.0]);
/// # Ok::<(), symgrad::residuals::ResidualError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResidualJacobian {
    residuals: Vec<f64>,
    jacobian: Vec<f64>,
    params: usize,
}

impl ResidualJacobian {
    /// Empties it for a point with `params` parameters, keeping the allocations.
    pub fn start(&mut self, params: usize) {
        self.residuals.clear();
        self.jacobian.clear();
        self.params = params;
    }

    /// Appends a residual and its row of the Jacobian.
    ///
    /// # Errors
    ///
    /// [`ResidualError::RowLength`] when `row` does not have one entry per parameter (nothing
    /// is appended).
    pub fn push_row(&mut self, residual: f64, row: &[f64]) -> Result<(), ResidualError> {
        self.check_row_length(row.len())?;
        self.residuals.push(residual);
        self.jacobian.extend_from_slice(row);
        Ok(())
    }

    /// Appends a residual and its row, flattened from a gradient (a generated `<Name>Grad`).
    ///
    /// # Errors
    ///
    /// [`ResidualError::RowLength`] when the gradient does not have one entry per parameter
    /// (nothing is appended).
    pub fn push_gradient<G: Gradient<f64>>(
        &mut self,
        residual: f64,
        row: &G,
    ) -> Result<(), ResidualError> {
        self.check_row_length(row.flat_len())?;
        self.residuals.push(residual);
        row.flatten_into(&mut self.jacobian);
        Ok(())
    }

    fn check_row_length(&self, got: usize) -> Result<(), ResidualError> {
        if got == self.params {
            Ok(())
        } else {
            Err(ResidualError::RowLength {
                row: self.residuals.len(),
                expected: self.params,
                got,
            })
        }
    }

    /// The number of residuals (rows).
    #[must_use]
    pub fn len(&self) -> usize {
        self.residuals.len()
    }

    /// Whether there are no residuals.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.residuals.is_empty()
    }

    /// The number of parameters (columns).
    #[must_use]
    pub fn params(&self) -> usize {
        self.params
    }

    /// The residuals `r(p)`.
    #[must_use]
    pub fn residuals(&self) -> &[f64] {
        &self.residuals
    }

    /// Row `i` of the Jacobian, `∇rᵢ`.
    ///
    /// # Panics
    ///
    /// If `i >= self.len()`, as slice indexing does.
    #[must_use]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.jacobian[i * self.params..(i + 1) * self.params]
    }

    /// The Jacobian, row after row (`len() × params()` entries).
    #[must_use]
    pub fn jacobian_row_major(&self) -> &[f64] {
        &self.jacobian
    }

    /// `Σᵢ rᵢ²`, the residual sum of squares.
    #[must_use]
    pub fn sum_of_squares(&self) -> f64 {
        self.residuals.iter().map(|r| r * r).sum()
    }

    /// `2·Jᵀr`, the gradient of [`sum_of_squares`](Self::sum_of_squares).
    #[must_use]
    pub fn gradient_of_sum_of_squares(&self) -> Vec<f64> {
        let mut g = vec![0.0; self.params];
        for (i, r) in self.residuals.iter().enumerate() {
            for (gj, jij) in g.iter_mut().zip(self.row(i)) {
                *gj += 2.0 * r * jij;
            }
        }
        g
    }
}

/// One scalar residual per observation: `f(params, i)` returns residual `i` and its gradient (a
/// generated `_grad`), which is row `i` of the Jacobian.
///
/// ```
/// use symgrad::differentiable;
/// use symgrad::residuals::{ResidualFn, ResidualJacobian, Rows};
///
/// #[differentiable(wrt(a, k))]
/// fn decay(a: f64, k: f64, t: f64, y: f64) -> f64 {
///     a * (-k * t).exp() - y
/// }
///
/// let (t, y) = ([0.0, 1.0, 2.0], [2.0, 1.2, 0.7]);
/// let rows = Rows::new(t.len(), |p: &[f64], i| decay_grad(p[0], p[1], t[i], y[i]));
/// let mut out = ResidualJacobian::default();
/// rows.eval(&[2.0, 0.5], &mut out)?;
/// let e = (-0.5_f64).exp();
/// assert_eq!(out.row(1), [e, -2.0 * e]); // (∂r₁/∂a, ∂r₁/∂k) in the fields' order
/// # Ok::<(), symgrad::residuals::ResidualError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Rows<F> {
    count: usize,
    f: F,
}

impl<F> Rows<F> {
    /// `count` residuals, residual `i` and its gradient from `f(params, i)`.
    pub fn new(count: usize, f: F) -> Self {
        Self { count, f }
    }
}

impl<F, G> ResidualFn for Rows<F>
where
    F: Fn(&[f64], usize) -> (f64, G),
    G: Gradient<f64>,
{
    fn eval(&self, params: &[f64], out: &mut ResidualJacobian) -> Result<(), ResidualError> {
        out.start(params.len());
        for i in 0..self.count {
            let (r, grad) = (self.f)(params, i);
            out.push_gradient(r, &grad)?;
        }
        Ok(())
    }
}

/// The residuals of a vector-valued function: `f(params)` returns the M outputs and their M
/// rows, as a generated `_jacobian` does (`[f64; M]` and `[G; M]`, or `Vec`s for a function
/// returning `Vec<f64>`; see [`OutputRows`]).
///
/// ```
/// use symgrad::differentiable;
/// use symgrad::residuals::{Outputs, ResidualFn, ResidualJacobian};
///
/// // Rosenbrock's function as the sum of squares of two residuals.
/// #[differentiable]
/// fn rosenbrock(a: f64, b: f64) -> [f64; 2] {
///     [1.0 - a, 10.0 * (b - a * a)]
/// }
///
/// let outputs = Outputs::new(|p: &[f64]| rosenbrock_jacobian(p[0], p[1]));
/// let mut out = ResidualJacobian::default();
/// outputs.eval(&[0.5, 0.5], &mut out)?;
/// assert_eq!(out.residuals(), [0.5, 2.5]);
/// assert_eq!(out.jacobian_row_major(), [-1.0, 0.0, -10.0, 10.0]);
/// # Ok::<(), symgrad::residuals::ResidualError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Outputs<F> {
    f: F,
}

impl<F> Outputs<F> {
    /// The outputs of `f(params)` and their rows.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F, O> ResidualFn for Outputs<F>
where
    F: Fn(&[f64]) -> O,
    O: OutputRows,
{
    fn eval(&self, params: &[f64], out: &mut ResidualJacobian) -> Result<(), ResidualError> {
        out.start(params.len());
        (self.f)(params).push_into(out)
    }
}

/// What a vector-valued function's `_jacobian` returns, as [`Outputs`] takes it: the outputs and
/// their rows, `([f64; M], [G; M])` for `-> [f64; M]`, or `(Vec<f64>, Vec<G>)` for `-> Vec<f64>`,
/// whose number of outputs is known only from the inputs.
pub trait OutputRows {
    /// Appends each output and its row to `out`, in order.
    ///
    /// # Errors
    ///
    /// [`ResidualError::RowLength`] when a row does not have one entry per parameter, and
    /// [`ResidualError::RowCount`] when there are not as many rows as outputs.
    fn push_into(self, out: &mut ResidualJacobian) -> Result<(), ResidualError>;
}

impl<G: Gradient<f64>, const M: usize> OutputRows for ([f64; M], [G; M]) {
    fn push_into(self, out: &mut ResidualJacobian) -> Result<(), ResidualError> {
        let (residuals, rows) = self;
        for (r, row) in residuals.into_iter().zip(&rows) {
            out.push_gradient(r, row)?;
        }
        Ok(())
    }
}

impl<G: Gradient<f64>> OutputRows for (Vec<f64>, Vec<G>) {
    fn push_into(self, out: &mut ResidualJacobian) -> Result<(), ResidualError> {
        let (residuals, rows) = self;
        if residuals.len() != rows.len() {
            return Err(ResidualError::RowCount {
                outputs: residuals.len(),
                rows: rows.len(),
            });
        }
        for (r, row) in residuals.into_iter().zip(&rows) {
            out.push_gradient(r, row)?;
        }
        Ok(())
    }
}

/// A residual function that does not fit the parameters it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResidualError {
    /// Row `row` of the Jacobian has `got` entries for `expected` parameters: the gradient
    /// struct differentiates other parameters than the solver moves (check `wrt(...)`, and that
    /// the start point has one entry per differentiated scalar).
    RowLength {
        /// The residual whose row is wrong.
        row: usize,
        /// The number of parameters.
        expected: usize,
        /// The length of the flattened gradient.
        got: usize,
    },
    /// A `Vec`-valued function gave `outputs` residuals and `rows` rows of the Jacobian.
    RowCount {
        /// The number of residuals.
        outputs: usize,
        /// The number of rows.
        rows: usize,
    },
}

impl fmt::Display for ResidualError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RowLength { row, expected, got } => write!(
                f,
                "row {row} of the Jacobian has {got} entries for {expected} parameters: the \
                 gradient must have one entry per parameter the solver moves (check `wrt(...)` \
                 and the length of the start point)"
            ),
            Self::RowCount { outputs, rows } => write!(
                f,
                "{outputs} residuals came with {rows} rows of the Jacobian: a `_jacobian` gives \
                 one row per output"
            ),
        }
    }
}

impl std::error::Error for ResidualError {}
