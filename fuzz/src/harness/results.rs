//! Reading the check lines (`check_support`'s format) and judging them: `_grad`'s value against
//! the function's (1e-12 relative), each partial against the oracle (1e-8 relative), lengths,
//! panics. Checks where the oracle is not finite, or where perturbing the inputs by 1e-13 moves
//! the expected number by more than 1e-9 (ill-conditioned: rounding alone can move it past the
//! tolerance), are skipped and counted; so is a value that rounding a few ulps otherwise (the
//! oracle with its operations jittered) moves as far as `_grad`'s is off.

use super::report::{Class, Issue};

/// Relative tolerance of a partial derivative.
pub const GRAD_TOL: f64 = 1e-8;
/// Relative tolerance of `_grad`'s value.
pub const VALUE_TOL: f64 = 1e-12;
/// How far (relative) perturbed inputs may move the oracle's derivative at a well-conditioned
/// point.
pub const CONDITION_TOL: f64 = 1e-9;
/// How far (relative) perturbed inputs may move the function's value at a well-conditioned
/// point.
pub const VALUE_CONDITION_TOL: f64 = 1e-11;

/// What the checks of one program found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Comparisons made.
    pub checks: usize,
    /// Of those, components of `H·v`.
    pub hvp_checks: usize,
    /// Partials skipped because the oracle's was not finite.
    pub skipped: usize,
    /// Checks skipped as ill-conditioned.
    pub ill: usize,
    /// Everything that disagreed.
    pub issues: Vec<Issue>,
    /// Whether the program printed its `D` line.
    pub done: bool,
    /// The points where a partial's oracle was not finite (through a value or a local
    /// derivative that is not: `hypot` or `sqrt` at 0), outside the oracle's domain: their
    /// `H·v` is not compared either (`_hvp` may give `NaN` there, as `_grad` may).
    pub outside: Vec<usize>,
}

/// `|a - b| <= tol · max(1, |a|, |b|)`, NaN equal to NaN.
#[must_use]
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}

fn float(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// Folds one line into the outcome of its program (`lines` of one program only).
pub fn judge(outcome: &mut Outcome, line: &str) {
    let f: Vec<&str> = line.splitn(4, ' ').collect();
    let point = f.get(2).and_then(|p| p.parse().ok());
    let rest: Vec<&str> = f.get(3).map(|r| r.split(' ').collect()).unwrap_or_default();
    let mut issue = |class, detail: String| {
        outcome.issues.push(Issue {
            class,
            point,
            detail,
        });
    };
    match f.first().copied() {
        Some("D") => outcome.done = true,
        Some("S") => outcome.skipped += 1,
        Some("V") if rest.len() == 3 || rest.len() == 5 => {
            let [got, want, moved] = [0, 1, 2].map(|k| float(rest[k]).unwrap_or(f64::NAN));
            // Where the function is not finite, the simplifier's `0 · x → 0` (documented in
            // `macros/src/simplify.rs`) may give `_grad` a finite value: outside the domain.
            if !want.is_finite() {
                outcome.skipped += 1;
                return;
            }
            let jittered: Vec<f64> = rest[3..].iter().filter_map(|r| float(r)).collect();
            if !close(want, moved, VALUE_CONDITION_TOL) || rounds_as_far(got, want, &jittered) {
                outcome.ill += 1;
                return;
            }
            if !close(got, want, VALUE_TOL) {
                let detail = format!(
                    "value: _grad gives {got:e}, the function {want:e} ({moved:e} at perturbed inputs)"
                );
                issue(Class::Value, detail);
            }
            outcome.checks += 1;
        }
        Some("O") => {
            let (got, want) = (
                float(rest[0]).unwrap_or(f64::NAN),
                float(rest[1]).unwrap_or(f64::NAN),
            );
            if !close(got, want, 0.0) {
                issue(
                    Class::Harness,
                    format!("oracle value {got:e} differs from the function's {want:e}"),
                );
            }
        }
        Some("L") if rest.len() == 3 && rest[1] != rest[2] => {
            issue(
                Class::Wrong,
                format!(
                    "gradient field `{}` has length {}, want {}",
                    rest[0], rest[1], rest[2]
                ),
            );
        }
        Some("G") if rest.len() == 6 => partial(outcome, point, &rest),
        Some("E") if rest.len() == 4 => same(outcome, point, &rest),
        Some("H") if rest.len() == 5 => hvp(outcome, point, &rest),
        Some("P") => {
            let class = if matches!(rest.first(), Some(&("grad" | "hvp"))) {
                Class::Panic
            } else {
                Class::Harness
            };
            issue(
                class,
                format!(
                    "{} panicked: {}",
                    rest.first().unwrap_or(&"?"),
                    rest.get(1..).unwrap_or(&[]).join(" ")
                ),
            );
        }
        _ => {}
    }
}

/// Whether `_grad`'s value `got`, off the function's `want`, is no farther off than the oracle's
/// `jittered` evaluations (every operation rounded a few ulps otherwise: see `dual::with_jitter`)
/// spread around `want`: the macro's code rounds in another order (`n · c` for `c` added `n`
/// times), and rounding alone moves the value that far. A jittered value that is not finite
/// (the oracle outside its domain, or panicking) tells nothing.
fn rounds_as_far(got: f64, want: f64, jittered: &[f64]) -> bool {
    let off = (got - want).abs();
    let spread = jittered
        .iter()
        .filter(|j| j.is_finite())
        .fold(0.0f64, |m, j| m.max((j - want).abs()));
    off > 0.0 && off <= spread
}

/// A `G` line: `param index got want want-at-perturbed-inputs central-difference`.
fn partial(outcome: &mut Outcome, point: Option<usize>, rest: &[&str]) {
    let want = float(rest[3]).unwrap_or(f64::NAN);
    if !want.is_finite() {
        outcome.skipped += 1;
        outcome.outside.extend(point);
        return;
    }
    if !close(want, float(rest[4]).unwrap_or(f64::NAN), CONDITION_TOL) {
        outcome.ill += 1;
        return;
    }
    outcome.checks += 1;
    let name = if rest[1] == "-" {
        rest[0].to_string()
    } else {
        format!("{}[{}]", rest[0], rest[1])
    };
    let fd = rest[5];
    let detail = match float(rest[2]) {
        None => format!("∂/∂{name}: missing from the gradient, oracle {want:e}"),
        Some(got) if !close(got, want, GRAD_TOL) => {
            format!("∂/∂{name}: _grad gives {got:e}, oracle {want:e} (central difference {fd})")
        }
        Some(_) => return,
    };
    outcome.issues.push(Issue {
        class: Class::Wrong,
        point,
        detail,
    });
}

/// Relative tolerance of a component of `H·v` against the extrapolated central differences.
pub const HVP_TOL: f64 = 1e-6;
/// How far (relative) the differences at the two steps may differ at a well-conditioned point.
pub const HVP_CONDITION_TOL: f64 = 1e-4;
/// The differences' rounding error, relative to the largest gradient component.
const HVP_ROUNDING: f64 = 1e-9;

/// An `E` line: `value|grad index got want`, `_hvp`'s against `_grad`'s.
fn same(outcome: &mut Outcome, point: Option<usize>, rest: &[&str]) {
    let (got, want) = (
        float(rest[2]).unwrap_or(f64::NAN),
        float(rest[3]).unwrap_or(f64::NAN),
    );
    if !want.is_finite() {
        outcome.skipped += 1;
        return;
    }
    outcome.checks += 1;
    let (class, tol) = if rest[0] == "value" {
        (Class::Value, VALUE_TOL)
    } else {
        (Class::Wrong, GRAD_TOL)
    };
    if !close(got, want, tol) {
        outcome.issues.push(Issue {
            class,
            point,
            detail: format!(
                "_hvp's {}[{}] is {got:e}, _grad's {want:e}",
                rest[0], rest[1]
            ),
        });
    }
}

/// An `H` line: `index got difference-at-h difference-at-h/2 scale`. The differences are
/// extrapolated (Richardson: `(4·d₂ − d₁)/3`); where the two disagree, a branch switched between
/// the points or the step is too coarse there: skipped as ill-conditioned.
fn hvp(outcome: &mut Outcome, point: Option<usize>, rest: &[&str]) {
    let [got, d1, d2, scale] = [1, 2, 3, 4].map(|k| float(rest[k]).unwrap_or(f64::NAN));
    // (The point's `G` lines come first.)
    let outside = point.is_some_and(|p| outcome.outside.contains(&p));
    if outside || !(d1.is_finite() && d2.is_finite() && scale.is_finite()) {
        outcome.skipped += 1;
        return;
    }
    let rounding = HVP_ROUNDING * scale.max(1.0);
    let spread = (d1 - d2).abs();
    if spread > HVP_CONDITION_TOL * 1f64.max(d1.abs()).max(d2.abs()) + rounding {
        outcome.ill += 1;
        return;
    }
    outcome.checks += 1;
    outcome.hvp_checks += 1;
    let want = (4.0 * d2 - d1) / 3.0;
    let ok = (got - want).abs() <= HVP_TOL * 1f64.max(got.abs()).max(want.abs()) + rounding;
    if !ok {
        outcome.issues.push(Issue {
            class: Class::Wrong,
            point,
            detail: format!(
                "(H·v)[{}]: _hvp gives {got:e}, central differences of _grad {want:e} ({d1:e} and {d2:e} at the two steps)",
                rest[0]
            ),
        });
    }
}

/// The program id of a check line.
#[must_use]
pub fn program_of(line: &str) -> Option<u64> {
    line.split(' ').nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{GRAD_TOL, Outcome, VALUE_TOL, close, judge};
    use crate::check_support::{PERTURB, dual_scalar, partial_fields, value_fields};
    use crate::dual::{D, cst};
    use crate::harness::report::Class;

    /// Where a partial's oracle is not finite (`hypot` at the origin, on the seeded path), the
    /// point is outside the oracle's domain: its `H·v` is skipped, `NaN` or not; the other
    /// points' are still compared.
    #[test]
    fn hvp_is_not_compared_where_the_oracle_left_its_domain() {
        let mut o = Outcome::default();
        for line in [
            "G 5 2 x 0 0.5 NaN 0.5 0.5",
            "H 5 2 0 NaN 1.6 1.6 2.0",
            "H 5 1 0 NaN 1.6 1.6 2.0",
        ] {
            judge(&mut o, line);
        }
        assert_eq!(
            (o.checks, o.skipped, o.outside.as_slice()),
            (1, 2, &[2][..])
        );
        let points: Vec<Option<usize>> = o.issues.iter().map(|i| i.point).collect();
        assert_eq!(points, [Some(1)]);
    }

    #[test]
    fn lines_are_judged_with_their_tolerances() {
        let mut o = Outcome::default();
        for line in [
            "V 3 0 1.0 1.0000000000000002 1.0",
            "V 3 1 1.0 2.0 2.1",
            "O 3 0 1.0 1.0",
            "G 3 0 x 0 0.5 0.5000000001 0.5000000001 0.5",
            "G 3 2 a - 2.0 inf inf NaN",
            "G 3 1 x 1 0.0 1.0 1.0 1.0",
            "G 3 1 x 2 - 1.0 1.0 1.0",
            "G 3 1 x 3 7.0 1.0 1.1 1.0",
            "L 3 1 x 2 3",
            "P 3 2 grad index out of bounds: the len is 2 but the index is 2",
            "E 3 0 value 0 1.0 1.0",
            "E 3 0 grad 1 1.0 NaN",
            "H 3 0 0 2.0 2.0000001 2.000000025 5.0",
            "H 3 0 1 2.0 2.0 3.0 5.0",
            "H 3 0 2 2.0 NaN 2.0 5.0",
            "D 3",
        ] {
            judge(&mut o, line);
        }
        assert_eq!((o.checks, o.skipped, o.ill, o.done), (6, 3, 3, true));
        let classes: Vec<(Class, Option<usize>)> =
            o.issues.iter().map(|i| (i.class, i.point)).collect();
        assert_eq!(
            classes,
            [
                (Class::Wrong, Some(1)),
                (Class::Wrong, Some(1)),
                (Class::Wrong, Some(1)),
                (Class::Panic, Some(2))
            ]
        );
        assert!(o.issues[3].detail.contains("index out of bounds"));
        let mut o = Outcome::default();
        judge(&mut o, "H 3 1 0 2.5 2.0000001 2.000000025 5.0");
        judge(&mut o, "E 3 1 grad 0 1.5 1.0");
        judge(&mut o, "P 3 1 hvp index out of bounds");
        let classes: Vec<Class> = o.issues.iter().map(|i| i.class).collect();
        assert_eq!(classes, [Class::Wrong, Class::Wrong, Class::Panic]);
        assert!(close(f64::NAN, f64::NAN, 0.0) && !close(f64::NAN, 1.0, 1.0));
    }

    /// `sin(s) + s`, `s = 4·Σₖ (e^(16 + k/100) + x/10)`, its sum `rounding` off (relative): the
    /// shape of seed 2611's program 39, whose `cos` of an argument near 1.4·10⁸ turns a few
    /// ulps of a sum of constants into 10⁻⁸ of the derivative.
    fn big_sine(x: D, rounding: f64) -> D {
        let mut s = cst(0.0);
        for k in 0..4 {
            s += (cst(16.0) + cst(0.01 * f64::from(k))).exp() + x * 0.1;
        }
        let s = s * (4.0 * (1.0 + rounding));
        s.sin() + s
    }

    /// A `G` line of `f`'s derivative at `x0` with `got`, through the generated crates' own
    /// `check_support::partial_fields`.
    fn g_line(f: impl Fn(D) -> D, x0: f64, got: f64) -> String {
        let oracle = |e: f64| f(dual_scalar(x0, e, 0, true));
        let fd = |h: f64| f(cst(x0 + h)).v;
        let fields = partial_fields("x", None, Some(got), oracle, fd).unwrap();
        format!("G 7 0 {fields}")
    }

    /// A `V` line of `f`'s value at `x0` with `_grad`'s value `got`, through the generated
    /// crates' own `check_support::value_fields`.
    fn v_line(f: impl Fn(D) -> D, x0: f64, got: f64) -> String {
        let plain = f(cst(x0)).v;
        let plain_at = |e: f64| f(dual_scalar(x0, e, 0, false)).v;
        let oracle_at = |e: f64| f(dual_scalar(x0, e, 0, false)).v;
        format!("V 7 0 {}", value_fields(got, plain, plain_at, oracle_at))
    }

    /// `cos(sin(s) + s)` of a large sum `s` of `n` equal terms `e^(16 + x/1000)`: `_grad`'s value
    /// with the sum as `n · term` (seed 2903's program 22) rounds otherwise than adding the terms
    /// one by one, and `cos` of an argument near 10⁸ turns that ulp into 10⁻⁹ of the value
    /// (perturbing the input alone moves the sum by far less).
    fn count_times_term(x: D, n: usize, as_product: bool) -> D {
        let term = (x * 1e-3 + 16.0).exp();
        let s = if as_product {
            term * (n as f64)
        } else {
            (0..n).fold(cst(0.0), |acc, _| acc + term)
        };
        (s.sin() + s).cos()
    }

    /// The value check skips a value that rounding alone moves as far as `_grad`'s is off (the
    /// oracle jittered), and still flags a value off by 10⁻⁶ at a well-conditioned point.
    #[test]
    fn rounding_noise_skips_ill_conditioned_values_not_wrong_ones() {
        let x0 = 0.7;
        let f = |x: D| count_times_term(x, 7, false);
        let want = f(cst(x0)).v;
        let other_order = count_times_term(cst(x0), 7, true).v;
        assert!(!close(other_order, want, VALUE_TOL), "{other_order} {want}");
        // Without the jittered evaluations (the old line): flagged.
        let mut o = Outcome::default();
        judge(&mut o, &format!("V 7 0 {other_order:?} {want:?} {want:?}"));
        assert_eq!((o.issues.len(), o.ill), (1, 0));
        // With them: ill-conditioned, skipped.
        let mut o = Outcome::default();
        judge(&mut o, &v_line(f, x0, other_order));
        assert_eq!(
            (o.issues.len(), o.ill, o.checks),
            (0, 1, 0),
            "{}",
            v_line(f, x0, other_order)
        );
        // A well-conditioned function: right is right, and 10⁻⁶ off is wrong.
        let smooth = |x: D| (x * x + 1.0).ln() * 3.0 + (x * 2.0).sin() * x;
        let right = smooth(cst(x0)).v;
        let mut o = Outcome::default();
        judge(&mut o, &v_line(smooth, x0, right));
        judge(&mut o, &v_line(smooth, x0, right * (1.0 + 1e-6)));
        assert_eq!((o.checks, o.ill), (2, 0));
        let classes: Vec<Class> = o.issues.iter().map(|i| i.class).collect();
        assert_eq!(classes, [Class::Value]);
        // Also where the function's sum is large (jittered evaluations spread by 10⁻¹⁴ or so):
        // 10⁻⁶ off is far past that spread.
        let mut o = Outcome::default();
        judge(&mut o, &v_line(f, x0, want * (1.0 + 1e-6)));
        assert_eq!(
            (o.issues.len(), o.ill),
            (1, 0),
            "{}",
            v_line(f, x0, want * (1.0 + 1e-6))
        );
    }

    /// The conditioning check skips the point where the order of a sum of constants moves the
    /// derivative past the tolerance (perturbing the inputs alone did not: the constants do not
    /// move), and still flags a gradient off by 10⁻⁶ at a well-conditioned point.
    #[test]
    fn rounding_noise_skips_ill_conditioned_points_not_wrong_gradients() {
        let x0 = 0.7;
        let want = big_sine(D::var(x0), 0.0).t;
        // 2 ulps of the sum, as another order of its terms gives.
        let other_order = big_sine(D::var(x0), 4.4e-16).t;
        assert!(!close(other_order, want, GRAD_TOL), "{other_order} {want}");
        // Perturbing the inputs alone: the oracle does not move, the check fails.
        let inputs_only = big_sine(dual_scalar(x0, PERTURB, 0, true), 0.0).t;
        let line = format!("G 7 0 x - {other_order:?} {want:?} {inputs_only:?} NaN");
        let mut o = Outcome::default();
        judge(&mut o, &line);
        assert_eq!((o.issues.len(), o.ill), (1, 0), "{line}");
        // With the noise: ill-conditioned, skipped.
        let mut o = Outcome::default();
        judge(&mut o, &g_line(|x| big_sine(x, 0.0), x0, other_order));
        assert_eq!((o.issues.len(), o.ill, o.checks), (0, 1, 0));
        // A well-conditioned function: right is right, and 10⁻⁶ off is wrong.
        let smooth = |x: D| (x * x + 1.0).ln() * 3.0 + (x * 2.0).sin() * x;
        let right = smooth(D::var(x0)).t;
        let mut o = Outcome::default();
        judge(&mut o, &g_line(smooth, x0, right));
        judge(&mut o, &g_line(smooth, x0, right * (1.0 + 1e-6)));
        assert_eq!((o.checks, o.ill), (2, 0));
        let classes: Vec<Class> = o.issues.iter().map(|i| i.class).collect();
        assert_eq!(classes, [Class::Wrong]);
    }
}
