//! NIST StRD nonlinear regression problems: the data, the start points and the certified values
//! (read from NIST's own `.dat` files beside this module, kept byte for byte: public domain,
//! <https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml>), the residual of each model written
//! with `#[differentiable]`, and a Levenberg–Marquardt fit through symgrad's adapter.
//!
//! Shared by `tests/nist_strd.rs` and `examples/levenberg_marquardt_fit.rs` (by `#[path]`).
// Each of the two users reads part of this module (the example does not check Jacobians; the
// test does not print), so what one leaves unused is not dead.
#![allow(dead_code)]

use symgrad::differentiable;
use symgrad::levenberg_marquardt::{LevenbergMarquardt, Problem};
use symgrad::residuals::ResidualFn;

/// The problems kept here, in NIST's order of difficulty (lower, average, higher).
pub(crate) const NAMES: [&str; 6] = ["Misra1a", "Thurber", "MGH09", "BoxBOD", "Eckerle4", "Rat43"];

/// The text of a NIST `.dat` file.
fn text(name: &str) -> Option<&'static str> {
    Some(match name {
        "Misra1a" => include_str!("Misra1a.dat"),
        "Thurber" => include_str!("Thurber.dat"),
        "MGH09" => include_str!("MGH09.dat"),
        "BoxBOD" => include_str!("BoxBOD.dat"),
        "Eckerle4" => include_str!("Eckerle4.dat"),
        "Rat43" => include_str!("Rat43.dat"),
        _ => return None,
    })
}

/// One NIST problem as its `.dat` file states it.
#[derive(Debug, Clone)]
pub(crate) struct Dataset {
    pub(crate) name: &'static str,
    /// Start 1 and Start 2.
    pub(crate) starts: [Vec<f64>; 2],
    /// The certified parameters (11 significant digits).
    pub(crate) certified: Vec<f64>,
    /// The certified residual sum of squares.
    pub(crate) certified_rss: f64,
    pub(crate) x: Vec<f64>,
    pub(crate) y: Vec<f64>,
}

/// Reads problem `name` from its `.dat` file.
///
/// # Panics
///
/// On a name not in [`NAMES`] or a file not in NIST's format (test data: a panic is the report).
#[must_use]
pub(crate) fn dataset(name: &'static str) -> Dataset {
    let text = text(name).unwrap_or_else(|| panic!("no NIST file for {name}"));
    let mut data = Dataset {
        name,
        starts: [Vec::new(), Vec::new()],
        certified: Vec::new(),
        certified_rss: f64::NAN,
        x: Vec::new(),
        y: Vec::new(),
    };
    let mut in_data = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Data:", "y", "x"] => in_data = true,
            [y, x] if in_data => {
                data.y.push(number(y));
                data.x.push(number(x));
            }
            // `b1 =   500   250   2.3894212918E+02  2.7070075241E+00`
            [b, "=", start1, start2, value, _sd] if b.starts_with('b') => {
                data.starts[0].push(number(start1));
                data.starts[1].push(number(start2));
                data.certified.push(number(value));
            }
            ["Residual", "Sum", "of", "Squares:", rss] => data.certified_rss = number(rss),
            _ => {}
        }
    }
    data
}

fn number(word: &str) -> f64 {
    word.parse()
        .unwrap_or_else(|_| panic!("`{word}` is not a number"))
}

/// y = b₁·(1 − exp(−b₂·x)): Misra1a (lower difficulty) and BoxBOD (higher).
#[differentiable(wrt(b))]
pub(crate) fn exponential(b: &[f64], x: f64, y: f64) -> f64 {
    b[0] * (1.0 - (-b[1] * x).exp()) - y
}

/// y = (b₁ + b₂x + b₃x² + b₄x³) / (1 + b₅x + b₆x² + b₇x³): Thurber (higher).
#[differentiable(wrt(b))]
pub(crate) fn thurber(b: &[f64], x: f64, y: f64) -> f64 {
    let (x2, x3) = (x * x, x * x * x);
    (b[0] + b[1] * x + b[2] * x2 + b[3] * x3) / (1.0 + b[4] * x + b[5] * x2 + b[6] * x3) - y
}

/// y = b₁(x² + x·b₂) / (x² + x·b₃ + b₄): MGH09 (higher).
#[differentiable(wrt(b))]
pub(crate) fn mgh09(b: &[f64], x: f64, y: f64) -> f64 {
    b[0] * (x * x + x * b[1]) / (x * x + x * b[2] + b[3]) - y
}

/// y = (b₁/b₂)·exp(−½((x − b₃)/b₂)²): Eckerle4 (higher).
#[differentiable(wrt(b))]
pub(crate) fn eckerle4(b: &[f64], x: f64, y: f64) -> f64 {
    (b[0] / b[1]) * (-0.5 * ((x - b[2]) / b[1]).powi(2)).exp() - y
}

/// y = b₁ / (1 + exp(b₂ − b₃x))^(1/b₄): Rat43 (higher).
#[differentiable(wrt(b))]
pub(crate) fn rat43(b: &[f64], x: f64, y: f64) -> f64 {
    b[0] / (1.0 + (b[1] - b[2] * x).exp()).powf(1.0 / b[3]) - y
}

/// BoxBOD's six residuals at once, as a vector-valued function (its `_jacobian` gives the rows).
#[differentiable(wrt(b1, b2))]
pub(crate) fn boxbod(b1: f64, b2: f64, x: &[f64; 6], y: &[f64; 6]) -> [f64; 6] {
    std::array::from_fn(|i| b1 * (1.0 - (-b2 * x[i]).exp()) - y[i])
}

/// Thurber's residuals over its data, one per observation, as a `Vec`-valued function (its
/// `_jacobian` gives as many rows as there are observations).
#[differentiable(wrt(b))]
pub(crate) fn thurber_all(b: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| {
            let (x2, x3) = (xi * xi, xi * xi * xi);
            (b[0] + b[1] * xi + b[2] * x2 + b[3] * x3) / (1.0 + b[4] * xi + b[5] * x2 + b[6] * x3)
                - yi
        })
        .collect()
}

/// Rat43's residuals over its data, as a `Vec`-valued function built in a loop.
#[differentiable(wrt(b))]
pub(crate) fn rat43_all(b: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut r = vec![0.0; x.len()];
    for i in 0..x.len() {
        r[i] = b[0] / (1.0 + (b[1] - b[2] * x[i]).exp()).powf(1.0 / b[3]) - y[i];
    }
    r
}

/// The residual of problem `name` at observation `i`, and its gradient in `b` (row `i` of the
/// Jacobian), from the generated `_grad`. BoxBOD's comes from the scalar `exponential` here; the
/// vector-valued `boxbod` is fitted by [`fit`] and checked by the tests.
#[must_use]
pub(crate) fn residual_grad(data: &Dataset, b: &[f64], i: usize) -> (f64, Vec<f64>) {
    let (x, y) = (data.x[i], data.y[i]);
    let (r, grad) = match data.name {
        "Misra1a" | "BoxBOD" => {
            let (r, g) = exponential_grad(b, x, y);
            (r, g.b)
        }
        "Thurber" => {
            let (r, g) = thurber_grad(b, x, y);
            (r, g.b)
        }
        "MGH09" => {
            let (r, g) = mgh09_grad(b, x, y);
            (r, g.b)
        }
        "Eckerle4" => {
            let (r, g) = eckerle4_grad(b, x, y);
            (r, g.b)
        }
        "Rat43" => {
            let (r, g) = rat43_grad(b, x, y);
            (r, g.b)
        }
        other => panic!("no model for {other}"),
    };
    (r, grad)
}

/// The residual of problem `name` at observation `i` from the original function (kept unchanged
/// by the macro), for finite differences.
#[must_use]
pub(crate) fn residual(data: &Dataset, b: &[f64], i: usize) -> f64 {
    let (x, y) = (data.x[i], data.y[i]);
    match data.name {
        "Misra1a" | "BoxBOD" => exponential(b, x, y),
        "Thurber" => thurber(b, x, y),
        "MGH09" => mgh09(b, x, y),
        "Eckerle4" => eckerle4(b, x, y),
        "Rat43" => rat43(b, x, y),
        other => panic!("no model for {other}"),
    }
}

/// What one Levenberg–Marquardt run reached.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub(crate) params: Vec<f64>,
    /// Σ rᵢ² at `params`.
    pub(crate) rss: f64,
    /// Points the residuals and Jacobian were evaluated at.
    pub(crate) evaluations: usize,
    pub(crate) termination: String,
    pub(crate) success: bool,
}

/// The settings of a Levenberg–Marquardt run that differ from the crate's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Settings {
    /// `LevenbergMarquardt::new()`: at most 100·(n + 1) evaluations, a first step bounded by
    /// 100·‖x‖ (MINPACK's defaults), tolerances 30ε.
    Defaults,
    /// At most `patience`·(n + 1) evaluations.
    Patience(usize),
    /// A first step bounded by `stepbound`·‖x‖ (MINPACK's `factor`).
    Stepbound(f64),
}

impl std::fmt::Display for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Defaults => write!(f, "defaults"),
            Self::Patience(p) => write!(f, "patience {p}"),
            Self::Stepbound(s) => write!(f, "stepbound {s}"),
        }
    }
}

/// Levenberg–Marquardt (the `levenberg-marquardt` crate) from `start` through symgrad's adapter:
/// the scalar residual per observation, or with `vector` the outputs of a vector-valued residual:
/// BoxBOD's six of `boxbod_jacobian` (`-> [f64; 6]`), Thurber's and Rat43's of
/// `thurber_all_jacobian` and `rat43_all_jacobian` (`-> Vec<f64>`).
#[must_use]
pub(crate) fn fit(data: &Dataset, start: &[f64], vector: bool, settings: Settings) -> Fit {
    let solver = match settings {
        Settings::Defaults => LevenbergMarquardt::new(),
        Settings::Patience(p) => LevenbergMarquardt::new().with_patience(p),
        Settings::Stepbound(s) => LevenbergMarquardt::new().with_stepbound(s),
    };
    if vector && data.name == "Thurber" {
        solve(
            &solver,
            Problem::outputs(start, |b: &[f64]| thurber_all_jacobian(b, &data.x, &data.y)),
        )
    } else if vector && data.name == "Rat43" {
        solve(
            &solver,
            Problem::outputs(start, |b: &[f64]| rat43_all_jacobian(b, &data.x, &data.y)),
        )
    } else if vector {
        let x: [f64; 6] = data
            .x
            .as_slice()
            .try_into()
            .expect("BoxBOD has 6 observations");
        let y: [f64; 6] = data
            .y
            .as_slice()
            .try_into()
            .expect("BoxBOD has 6 observations");
        solve(
            &solver,
            Problem::outputs(start, |b: &[f64]| boxbod_jacobian(b[0], b[1], &x, &y)),
        )
    } else {
        solve(
            &solver,
            Problem::rows(start, data.x.len(), |b: &[f64], i| {
                residual_grad(data, b, i)
            }),
        )
    }
}

fn solve<E: ResidualFn>(solver: &LevenbergMarquardt<f64>, problem: Problem<E>) -> Fit {
    let (fitted, report) = solver.minimize(problem);
    let evaluations = fitted.evaluations(); // before `sum_of_squares`, which may evaluate once more
    Fit {
        params: fitted.point().to_vec(),
        rss: fitted.sum_of_squares().expect("rows fit the parameters"),
        evaluations,
        termination: format!("{:?}", report.termination),
        success: report.termination.was_successful(),
    }
}

/// The number of significant digits `value` shares with `certified`: 11 (what NIST certifies)
/// when `value` rounded to 11 significant digits is `certified`, otherwise the log relative error
/// `−log₁₀(|value − certified| / |certified|)` (0 when they share none).
#[must_use]
pub(crate) fn digits(value: f64, certified: f64) -> f64 {
    if format!("{value:.10e}") == format!("{certified:.10e}") {
        return 11.0;
    }
    let relative = ((value - certified) / certified).abs();
    if relative.is_nan() {
        0.0
    } else {
        (-relative.log10()).clamp(0.0, 11.0)
    }
}

/// The fewest digits any parameter of `fit` shares with the certified values.
#[must_use]
pub(crate) fn parameter_digits(data: &Dataset, fit: &Fit) -> f64 {
    fit.params
        .iter()
        .zip(&data.certified)
        .map(|(&b, &c)| digits(b, c))
        .fold(f64::INFINITY, f64::min)
}
