//! What a generated crate's checks run on: catching panics, seeding the oracle, and printing one
//! line per check. Like `dual.rs`, this file is copied verbatim into every generated crate (next
//! to `dual.rs`), and the harness parses the lines it prints (`harness::results`).
//!
//! Lines, space-separated, floats in `{:?}` form (exact round trip, `NaN`, `inf`):
//!
//! - `V <program> <point> <grad value> <plain value> <plain value, perturbed inputs> <oracle
//!   value, jittered> <oracle value, jittered the other way>`: `_grad`'s value against the
//!   function's; the oracle's value at perturbed inputs with every operation scaled by
//!   `1 ± JITTER` and by `1 ∓ JITTER`, how far rounding alone moves the value.
//! - `O <program> <point> <oracle value> <plain value>`: a self-check of the oracle copy.
//! - `G <program> <point> <param> <index or -> <got or -> <oracle derivative> <oracle
//!   derivative, perturbed inputs> <central difference>`: one partial (the difference, of the
//!   plain function, only informs reports).
//!
//! "Perturbed inputs": every float input scaled by `1 ± PERTURB`; for a partial, also every
//! operation of the oracle's scaled by `1 ± JITTER` (`dual::with_jitter`: rounding a few ulps
//! large, which reaches what the inputs' perturbation cannot, the constants' sums). Where that
//! moves the oracle by more than rounding would, the point is ill-conditioned and the check is
//! skipped.
//! - `L <program> <point> <param> <got length> <want length>`: a gradient field's length.
//! - `P <program> <point> <plain|grad|oracle> <message>`: a panic.
//! - `S <program> <point> <message>`: the plain function panicked at a point where a size is 0
//!   (`x[0]` of an empty slice, `n - 1`): the point is skipped.
//! - `E <program> <point> <value|grad> <index> <got> <want>`: `_hvp`'s value or gradient
//!   component against `_grad`'s.
//! - `H <program> <point> <index> <got> <difference at h> <at h/2> <scale>`: a component of
//!   `_hvp`'s `H·v` against central differences of `_grad` along `v` (`scale`: the largest
//!   gradient component there, for the differences' rounding error).
//! - `D <program>`: the program's checks are done.
//!
//! A vector-valued function's checks print the same lines: `V` and `O` once per output (for
//! `_jacobian`, `_vjp` and `_jvp`), `G` with the parameter named `jac<o>.<param>` (row `o` of
//! the Jacobian), `vjp.<param>` (`Σ_o seed[o]·∂f_o`), or `jvp` with the output as its index
//! (`J·t` against the oracle along `t`).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::dual::{D, cst, take_nonfinite, with_jitter};

/// Silences the default panic hook: panics are caught and printed as `P` lines.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

/// Runs `f`, turning a panic into its one-line message.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| message(&*e))
}

fn message(payload: &(dyn Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".to_string()
    };
    text.replace(['\n', '\r'], " ")
}

/// The relative perturbation of the conditioning check.
pub const PERTURB: f64 = 1e-13;

/// The relative noise on every operation of the oracle in the conditioning checks of a partial
/// and of a value (about 2 ulps: see [`with_jitter`]).
pub const JITTER: f64 = 4e-16;

/// `x` scaled by `1 ± e` (the sign alternating with `salt`).
#[must_use]
pub fn perturbed1(x: f64, e: f64, salt: usize) -> f64 {
    if salt % 2 == 0 {
        x * (1.0 + e)
    } else {
        x * (1.0 - e)
    }
}

/// The slice scaled elementwise by `1 ± e` (alternating signs).
#[must_use]
pub fn perturbed(xs: &[f64], e: f64, salt: usize) -> Vec<f64> {
    xs.iter()
        .enumerate()
        .map(|(i, &x)| perturbed1(x, e, salt + i))
        .collect()
}

/// The slice, perturbed by `e`, as oracle numbers: constants, or element `k` seeded (tangent
/// one) when `seed`.
#[must_use]
pub fn dual_slice(xs: &[f64], e: f64, salt: usize, seed: bool, k: usize) -> Vec<D> {
    let mut out: Vec<D> = perturbed(xs, e, salt).into_iter().map(cst).collect();
    if seed {
        out[k].t = 1.0;
    }
    out
}

/// The array scaled elementwise by `1 ± e` (alternating signs).
#[must_use]
pub fn perturbed_array<const K: usize>(xs: &[f64; K], e: f64, salt: usize) -> [f64; K] {
    std::array::from_fn(|i| perturbed1(xs[i], e, salt + i))
}

/// The array, perturbed by `e`, as oracle numbers, element `k` seeded when `seed`.
#[must_use]
pub fn dual_array<const K: usize>(
    xs: &[f64; K],
    e: f64,
    salt: usize,
    seed: bool,
    k: usize,
) -> [D; K] {
    let mut out = perturbed_array(xs, e, salt).map(cst);
    if seed {
        out[k].t = 1.0;
    }
    out
}

/// The scalar, perturbed by `e`, as an oracle number, seeded when `seed`.
#[must_use]
pub fn dual_scalar(x: f64, e: f64, salt: usize, seed: bool) -> D {
    D {
        v: perturbed1(x, e, salt),
        t: if seed { 1.0 } else { 0.0 },
    }
}

/// The slice, perturbed by `e`, as oracle numbers with the tangents `t` (a direction).
#[must_use]
pub fn dual_slice_along(xs: &[f64], e: f64, salt: usize, t: &[f64]) -> Vec<D> {
    perturbed(xs, e, salt)
        .into_iter()
        .zip(t)
        .map(|(v, &t)| D { v, t })
        .collect()
}

/// The array, perturbed by `e`, as oracle numbers with the tangents `t`.
#[must_use]
pub fn dual_array_along<const K: usize>(
    xs: &[f64; K],
    e: f64,
    salt: usize,
    t: &[f64; K],
) -> [D; K] {
    let moved = perturbed_array(xs, e, salt);
    std::array::from_fn(|i| D {
        v: moved[i],
        t: t[i],
    })
}

/// `xs + h·t`.
#[must_use]
pub fn stepped(xs: &[f64], h: f64, t: &[f64]) -> Vec<f64> {
    xs.iter().zip(t).map(|(x, t)| x + h * t).collect()
}

/// `xs + h·t` for an array.
#[must_use]
pub fn stepped_array<const K: usize>(xs: &[f64; K], h: f64, t: &[f64; K]) -> [f64; K] {
    std::array::from_fn(|i| xs[i] + h * t[i])
}

/// `Σ_o seed[o]·d[o]`, value and tangent.
#[must_use]
pub fn seeded<const M: usize>(d: &[D; M], seed: &[f64; M]) -> D {
    d.iter().zip(seed).fold(cst(0.0), |acc, (d, s)| D {
        v: acc.v + s * d.v,
        t: acc.t + s * d.t,
    })
}

/// `Σ_o seed[o]·x[o]` (`x` an array of outputs, or a `Vec` of them).
///
/// # Panics
///
/// If `x` and `seed` differ in length (a `Vec` of outputs of the wrong length).
#[must_use]
pub fn dotted(x: &[f64], seed: &[f64]) -> f64 {
    assert_eq!(x.len(), seed.len(), "one seed per output");
    x.iter().zip(seed).map(|(x, s)| x * s).sum()
}

/// The step of the central differences.
pub const FD_STEP: f64 = 1e-6;

/// A float in `{:?}` form, `NaN` for a panic.
fn show(r: Result<f64, String>) -> String {
    format!("{:?}", r.unwrap_or(f64::NAN))
}

/// The slice with `h` added to element `k`.
#[must_use]
pub fn nudged(xs: &[f64], k: usize, h: f64) -> Vec<f64> {
    let mut out = xs.to_vec();
    out[k] += h;
    out
}

/// The array with `h` added to element `k`.
#[must_use]
pub fn nudged_array<const K: usize>(xs: &[f64; K], k: usize, h: f64) -> [f64; K] {
    let mut out = *xs;
    out[k] += h;
    out
}

/// The direction of `_hvp`'s check for the `j`-th differentiated parameter, `len` elements in
/// `[-1, 1]`, fixed by `j` and the position.
#[must_use]
pub fn direction(len: usize, j: usize) -> Vec<f64> {
    (0..len)
        .map(|i| (0.7 * (i + 1) as f64 + 1.3 * (j + 1) as f64).sin())
        .collect()
}

/// `xs + h·v`.
#[must_use]
pub fn shifted(xs: &[f64], v: &[f64], h: f64) -> Vec<f64> {
    xs.iter().zip(v).map(|(x, d)| x + h * d).collect()
}

/// `xs + h·v` for an array.
#[must_use]
pub fn shifted_array<const K: usize>(xs: &[f64; K], v: &[f64; K], h: f64) -> [f64; K] {
    std::array::from_fn(|i| xs[i] + h * v[i])
}

/// The step of the differences that check `H·v`; the second is half of it.
pub const HVP_STEP: f64 = 1e-4;

/// The fields of a `G` line (after the program and point), or the oracle's panic: `param index
/// got oracle oracle-perturbed central-difference`, "perturbed" the inputs by `PERTURB` and
/// every operation by `JITTER`.
///
/// # Errors
///
/// The oracle's panic message, when it panics at the unperturbed inputs.
pub fn partial_fields(
    param: &str,
    index: Option<usize>,
    got: Option<f64>,
    oracle: impl Fn(f64) -> D,
    fd: impl Fn(f64) -> f64,
) -> Result<String, String> {
    let index = index.map_or_else(|| "-".to_string(), |k| k.to_string());
    let got = got.map_or_else(|| "-".to_string(), |g| format!("{g:?}"));
    let central = show(guarded(|| (fd(FD_STEP) - fd(-FD_STEP)) / (2.0 * FD_STEP)));
    let moved = show(guarded(|| with_jitter(JITTER, || oracle(PERTURB).t)));
    let _ = take_nonfinite();
    let at = guarded(|| oracle(0.0));
    // Through a value that is not finite, the oracle is outside its domain: reported as not
    // finite, which skips the check.
    let outside = take_nonfinite();
    let d = at?;
    let want = if outside { f64::NAN } else { d.t };
    Ok(format!("{param} {index} {got} {want:?} {moved} {central}"))
}

/// The fields of a `V` line (after the program and point): `got plain plain-perturbed
/// oracle-jittered oracle-jittered-the-other-way`. `plain_at(e)` is the function at inputs
/// perturbed by `e`, `oracle_at(e)` the oracle's value there (unseeded), evaluated with every
/// operation jittered by `JITTER` and by `-JITTER` (the opposite signs).
pub fn value_fields(
    got: f64,
    plain: f64,
    plain_at: impl Fn(f64) -> f64,
    oracle_at: impl Fn(f64) -> f64,
) -> String {
    let moved = show(guarded(|| plain_at(PERTURB)));
    let up = show(guarded(|| with_jitter(JITTER, || oracle_at(PERTURB))));
    let down = show(guarded(|| with_jitter(-JITTER, || oracle_at(PERTURB))));
    let _ = take_nonfinite();
    format!("{got:?} {plain:?} {moved} {up} {down}")
}

/// Prints the check lines of one point of one program.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    program: u64,
    point: usize,
}

impl Probe {
    /// The probe of `point` of program `program`.
    #[must_use]
    pub fn new(program: u64, point: usize) -> Self {
        Self { program, point }
    }

    fn emit(&self, tag: char, rest: &str) {
        println!("{tag} {} {} {rest}", self.program, self.point);
    }

    /// `_grad`'s value against the plain function's (`plain_at(e)`: at inputs perturbed by `e`;
    /// `oracle_at(e)`: the oracle's value there, for the rounding check: see [`value_fields`]).
    pub fn value(
        &self,
        got: f64,
        plain: f64,
        plain_at: impl Fn(f64) -> f64,
        oracle_at: impl Fn(f64) -> f64,
    ) {
        self.emit('V', &value_fields(got, plain, plain_at, oracle_at));
    }

    /// The oracle's value against the plain function's.
    pub fn oracle(&self, oracle: Result<D, String>, plain: f64) {
        match oracle {
            Ok(d) => self.emit('O', &format!("{:?} {plain:?}", d.v)),
            Err(m) => self.panic("oracle", &m),
        }
    }

    /// One partial derivative: `got` is `None` when the gradient field has no such element;
    /// `oracle(e)` is the seeded oracle at inputs perturbed by `e`; `fd(h)` the plain function
    /// with the input component offset by `h`.
    pub fn partial(
        &self,
        param: &str,
        index: Option<usize>,
        got: Option<f64>,
        oracle: impl Fn(f64) -> D,
        fd: impl Fn(f64) -> f64,
    ) {
        match partial_fields(param, index, got, oracle, fd) {
            Ok(fields) => self.emit('G', &fields),
            Err(m) => self.panic("oracle", &m),
        }
    }

    /// `_hvp`'s `what` (`value`, `grad`) against `_grad`'s, component by component.
    pub fn same(&self, what: &str, got: &[f64], want: &[f64]) {
        if got.len() != want.len() {
            self.emit('L', &format!("hvp-{what} {} {}", got.len(), want.len()));
            return;
        }
        for (k, (a, b)) in got.iter().zip(want).enumerate() {
            self.emit('E', &format!("{what} {k} {a:?} {b:?}"));
        }
    }

    /// `H·v` (`got`) against central differences of the gradient along `v` (`grad_at(h)`: the
    /// gradient at `θ + h·v`), at steps `HVP_STEP` and half of it; one `H` line per component:
    /// `index got difference-at-h difference-at-h/2 largest-gradient-component`.
    pub fn hvp(&self, got: &[f64], grad_at: impl Fn(f64) -> Vec<f64>) {
        let at = |h: f64| guarded(|| grad_at(h)).unwrap_or_default();
        let (up, down) = (at(HVP_STEP), at(-HVP_STEP));
        let (up2, down2) = (at(HVP_STEP / 2.0), at(-HVP_STEP / 2.0));
        let scale = up.iter().chain(&down).fold(0.0f64, |m, g| m.max(g.abs()));
        for (k, g) in got.iter().enumerate() {
            let diff = |u: &[f64], d: &[f64], h: f64| match (u.get(k), d.get(k)) {
                (Some(u), Some(d)) => (u - d) / (2.0 * h),
                _ => f64::NAN,
            };
            let d1 = diff(&up, &down, HVP_STEP);
            let d2 = diff(&up2, &down2, HVP_STEP / 2.0);
            self.emit('H', &format!("{k} {g:?} {d1:?} {d2:?} {scale:?}"));
        }
    }

    /// A gradient field's length against its parameter's.
    pub fn length(&self, param: &str, got: usize, want: usize) {
        self.emit('L', &format!("{param} {got} {want}"));
    }

    /// A panic of the plain function at a point where a size is 0: the point is outside the
    /// function's domain, skipped.
    pub fn outside(&self, message: &str) {
        self.emit('S', message);
    }

    /// A panic in `which` (`plain`, `grad` or `oracle`).
    pub fn panic(&self, which: &str, message: &str) {
        self.emit('P', &format!("{which} {message}"));
    }
}
