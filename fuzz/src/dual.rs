//! The oracle: forward-mode dual numbers (a value and one tangent), written from the textbook
//! rules independently of the macro. This file is also copied verbatim into every generated
//! crate, where the oracle copy of each program runs on it; it must not refer to anything else in
//! this crate.

use std::cmp::Ordering;
use std::iter::{Product, Sum};
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A dual number `v + t·ε` with `ε² = 0`: evaluating a function on `(x, 1)` gives `(f(x), f'(x))`.
#[derive(Debug, Clone, Copy)]
pub struct D {
    /// The value.
    pub v: f64,
    /// The tangent (the derivative along the seeded direction).
    pub t: f64,
}

/// A constant: zero tangent.
#[must_use]
pub fn cst(v: f64) -> D {
    D { v, t: 0.0 }
}

/// `t · dfdx`, zero when the tangent is zero (so an infinite or undefined local derivative off
/// the seeded path does not poison the result). A local derivative that is not finite marks the
/// point as outside the oracle's domain all the same (see [`take_nonfinite`]): it is a point
/// where the function has no derivative (`hypot` at the origin, `sqrt` at 0), and a tangent that
/// is zero by cancellation (`0.17 · j` at `j = 0`) is not one reverse mode can see.
fn chain(t: f64, dfdx: f64) -> f64 {
    if !dfdx.is_finite() {
        NONFINITE.with(|f| f.set(true));
    }
    if t == 0.0 { 0.0 } else { t * dfdx }
}

thread_local! {
    /// Whether an operation gave a value that is not finite since the last [`take_nonfinite`].
    static NONFINITE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The relative size of the noise [`with_jitter`] puts on every result (0: none).
    static JITTER: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    /// The noise's signs: a xorshift state, restarted by each [`with_jitter`].
    static SIGNS: std::cell::Cell<u64> = const { std::cell::Cell::new(JITTER_START) };
}

/// The first state of the noise's signs.
const JITTER_START: u64 = 0x9E37_79B9_7F4A_7C15;

/// `x·(1 ± e)` under [`with_jitter`] (the sign from the next draw of a xorshift), `x` outside.
fn jittered(x: f64) -> f64 {
    let e = JITTER.with(std::cell::Cell::get);
    if e == 0.0 {
        return x;
    }
    let bit = SIGNS.with(|c| {
        let mut z = c.get();
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        c.set(z);
        z & 1
    });
    if bit == 0 {
        x * (1.0 + e)
    } else {
        x * (1.0 - e)
    }
}

/// Runs `f` with every operation's value and tangent scaled by `1 ± e` (the signs a fixed
/// pseudo-random sequence): the rounding of a computation that sums or groups in another order,
/// made a few ulps large. Where that moves the result past a tolerance, so can the order the
/// macro's code computes in (a sum of `exp(16)`-sized terms read by `cos`): the point is
/// ill-conditioned, whatever the inputs' own perturbation shows (constants are not perturbed).
///
/// ```text
/// with_jitter(0.0, || f(x))   // f(x), bit for bit
/// with_jitter(4e-16, || f(x)) // f(x), each +, ·, exp, .. off by about 2 ulps
/// ```
pub fn with_jitter<T>(e: f64, f: impl FnOnce() -> T) -> T {
    /// Puts the level back, also when `f` panics.
    struct Restore(f64);
    impl Drop for Restore {
        fn drop(&mut self) {
            JITTER.with(|j| j.set(self.0));
        }
    }
    let _restore = Restore(JITTER.with(|j| j.replace(e)));
    SIGNS.with(|c| c.set(JITTER_START));
    f()
}

/// Whether a value or a local derivative that is not finite was computed since the last call
/// (and resets it). A point where the oracle passes through `NaN` or `±∞` (`(−∞).sin()`, later
/// discarded by a branch) is outside its domain: forward mode drops the `NaN` with its zero
/// tangent, reverse mode multiplies a zero adjoint by it, and neither is the derivative there.
#[must_use]
pub fn take_nonfinite() -> bool {
    NONFINITE.with(|f| f.replace(false))
}

impl D {
    /// `v + t·ε`, noting a value that is not finite.
    fn new(v: f64, t: f64) -> Self {
        if !v.is_finite() {
            NONFINITE.with(|f| f.set(true));
        }
        Self {
            v: jittered(v),
            t: jittered(t),
        }
    }

    /// The seeded variable: tangent one.
    #[must_use]
    pub fn var(v: f64) -> Self {
        Self { v, t: 1.0 }
    }

    fn unary(self, v: f64, dfdx: f64) -> Self {
        D::new(v, chain(self.t, dfdx))
    }

    /// `e^x`
    #[must_use]
    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.unary(e, e)
    }

    /// `e^x - 1`
    #[must_use]
    pub fn exp_m1(self) -> Self {
        self.unary(self.v.exp_m1(), self.v.exp())
    }

    /// `ln x`
    #[must_use]
    pub fn ln(self) -> Self {
        self.unary(self.v.ln(), 1.0 / self.v)
    }

    /// `ln(1 + x)`
    #[must_use]
    pub fn ln_1p(self) -> Self {
        self.unary(self.v.ln_1p(), 1.0 / (1.0 + self.v))
    }

    /// `sin x`
    #[must_use]
    pub fn sin(self) -> Self {
        self.unary(self.v.sin(), self.v.cos())
    }

    /// `cos x`
    #[must_use]
    pub fn cos(self) -> Self {
        self.unary(self.v.cos(), -self.v.sin())
    }

    /// `tan x`
    #[must_use]
    pub fn tan(self) -> Self {
        let c = self.v.cos();
        self.unary(self.v.tan(), 1.0 / (c * c))
    }

    /// `tanh x`
    #[must_use]
    pub fn tanh(self) -> Self {
        let th = self.v.tanh();
        self.unary(th, 1.0 - th * th)
    }

    /// `sinh x`
    #[must_use]
    pub fn sinh(self) -> Self {
        self.unary(self.v.sinh(), self.v.cosh())
    }

    /// `cosh x`
    #[must_use]
    pub fn cosh(self) -> Self {
        self.unary(self.v.cosh(), self.v.sinh())
    }

    /// `atan x`
    #[must_use]
    pub fn atan(self) -> Self {
        self.unary(self.v.atan(), 1.0 / (1.0 + self.v * self.v))
    }

    /// `√x`
    #[must_use]
    pub fn sqrt(self) -> Self {
        let r = self.v.sqrt();
        self.unary(r, 0.5 / r)
    }

    /// `∛x`
    #[must_use]
    pub fn cbrt(self) -> Self {
        let r = self.v.cbrt();
        self.unary(r, 1.0 / (3.0 * r * r))
    }

    /// `|x|`, with derivative 0 at 0.
    #[must_use]
    pub fn abs(self) -> Self {
        let s = if self.v > 0.0 {
            1.0
        } else if self.v < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.unary(self.v.abs(), s)
    }

    /// `1 / x`
    #[must_use]
    pub fn recip(self) -> Self {
        self.unary(self.v.recip(), -1.0 / (self.v * self.v))
    }

    /// `x^k`
    #[must_use]
    pub fn powi(self, k: i32) -> Self {
        let dfdx = if k == 0 {
            0.0
        } else {
            f64::from(k) * self.v.powi(k - 1)
        };
        self.unary(self.v.powi(k), dfdx)
    }

    /// `x^y`
    #[must_use]
    pub fn powf(self, y: Self) -> Self {
        let v = self.v.powf(y.v);
        let dx = chain(self.t, y.v * self.v.powf(y.v - 1.0));
        let dy = chain(y.t, v * self.v.ln());
        D::new(v, dx + dy)
    }

    /// `max(x, y)`: `f64::max`'s value; the derivative follows the chosen argument, ties and a
    /// NaN `y` choose `x` (the first argument).
    #[must_use]
    pub fn max(self, y: Self) -> Self {
        if y.v.is_nan() || self.v >= y.v {
            self
        } else {
            y
        }
    }

    /// `min(x, y)`, ties to `x` like [`D::max`].
    #[must_use]
    pub fn min(self, y: Self) -> Self {
        if y.v.is_nan() || self.v <= y.v {
            self
        } else {
            y
        }
    }

    /// `√(x² + y²)`
    #[must_use]
    pub fn hypot(self, y: Self) -> Self {
        let h = self.v.hypot(y.v);
        D::new(h, chain(self.t, self.v / h) + chain(y.t, y.v / h))
    }

    /// `x·a + b`, fused like `f64::mul_add`.
    #[must_use]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        D::new(
            self.v.mul_add(a.v, b.v),
            chain(self.t, a.v) + chain(a.t, self.v) + b.t,
        )
    }
}

impl PartialEq for D {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

impl PartialOrd for D {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.v.partial_cmp(&other.v)
    }
}

impl Neg for D {
    type Output = D;
    /// Exact, and not a step outside the domain: `-f64::NEG_INFINITY`, the start of a running
    /// minimum, is not noted as a value that is not finite.
    fn neg(self) -> D {
        D {
            v: -self.v,
            t: -self.t,
        }
    }
}

impl Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        D::new(self.v + o.v, self.t + o.t)
    }
}

impl Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        D::new(self.v - o.v, self.t - o.t)
    }
}

impl Mul for D {
    type Output = D;
    fn mul(self, o: D) -> D {
        D::new(self.v * o.v, chain(self.t, o.v) + chain(o.t, self.v))
    }
}

impl Div for D {
    type Output = D;
    fn div(self, o: D) -> D {
        let v = self.v / o.v;
        D::new(v, chain(self.t, 1.0 / o.v) - chain(o.t, v / o.v))
    }
}

impl Neg for &D {
    type Output = D;
    fn neg(self) -> D {
        -*self
    }
}

impl Sum for D {
    fn sum<I: Iterator<Item = D>>(iter: I) -> D {
        iter.fold(cst(0.0), |a, b| a + b)
    }
}

impl Product for D {
    fn product<I: Iterator<Item = D>>(iter: I) -> D {
        iter.fold(cst(1.0), |a, b| a * b)
    }
}

/// `x.iter().sum::<D>()`, as `f64` sums `&f64` items.
impl<'a> Sum<&'a D> for D {
    fn sum<I: Iterator<Item = &'a D>>(iter: I) -> D {
        iter.fold(cst(0.0), |a, b| a + *b)
    }
}

impl<'a> Product<&'a D> for D {
    fn product<I: Iterator<Item = &'a D>>(iter: I) -> D {
        iter.fold(cst(1.0), |a, b| a * *b)
    }
}

/// `D op f64`, `f64 op D`, `D op= D | f64`, and the same with `&D` for either `D` (the items of
/// `x.iter()` in arithmetic, `b - a`, as `&f64` has them), through the `D op D` rules.
macro_rules! mixed {
    ($($tr:ident $m:ident $atr:ident $am:ident),*) => {$(
        impl $tr<f64> for D {
            type Output = D;
            fn $m(self, o: f64) -> D { $tr::$m(self, cst(o)) }
        }
        impl $tr<D> for f64 {
            type Output = D;
            fn $m(self, o: D) -> D { $tr::$m(cst(self), o) }
        }
        impl $atr for D {
            fn $am(&mut self, o: D) { *self = $tr::$m(*self, o); }
        }
        impl $atr<f64> for D {
            fn $am(&mut self, o: f64) { *self = $tr::$m(*self, cst(o)); }
        }
        impl $tr<&D> for D {
            type Output = D;
            fn $m(self, o: &D) -> D { $tr::$m(self, *o) }
        }
        impl $tr<D> for &D {
            type Output = D;
            fn $m(self, o: D) -> D { $tr::$m(*self, o) }
        }
        impl $tr<&D> for &D {
            type Output = D;
            fn $m(self, o: &D) -> D { $tr::$m(*self, *o) }
        }
        impl $atr<&D> for D {
            fn $am(&mut self, o: &D) { *self = $tr::$m(*self, *o); }
        }
    )*};
}

mixed!(Add add AddAssign add_assign, Sub sub SubAssign sub_assign,
       Mul mul MulAssign mul_assign, Div div DivAssign div_assign);

#[cfg(test)]
mod tests {
    use super::{D, cst};

    /// Central difference of `f` at `x`.
    fn numeric(f: impl Fn(D) -> D, x: f64) -> f64 {
        let h = 1e-6;
        (f(cst(x + h)).v - f(cst(x - h)).v) / (2.0 * h)
    }

    /// A named function of one dual number.
    type Rule = (&'static str, Box<dyn Fn(D) -> D>);

    #[test]
    fn every_rule_matches_central_differences() {
        let rules: Vec<Rule> = vec![
            ("exp", Box::new(D::exp)),
            ("exp_m1", Box::new(D::exp_m1)),
            ("ln", Box::new(|x: D| (x * x + 1.0).ln())),
            ("ln_1p", Box::new(|x: D| (x * x).ln_1p())),
            ("sin", Box::new(D::sin)),
            ("cos", Box::new(D::cos)),
            ("tan", Box::new(D::tan)),
            ("tanh", Box::new(D::tanh)),
            ("sinh", Box::new(D::sinh)),
            ("cosh", Box::new(D::cosh)),
            ("atan", Box::new(D::atan)),
            ("sqrt", Box::new(|x: D| (x * x + 0.5).sqrt())),
            ("cbrt", Box::new(|x: D| (x * x + 0.5).cbrt())),
            ("abs", Box::new(D::abs)),
            ("recip", Box::new(|x: D| (1.0 + x * x).recip())),
            ("powi", Box::new(|x: D| x.powi(3))),
            ("powf", Box::new(|x: D| (1.0 + x * x).powf(x.tanh() + 0.5))),
            ("max", Box::new(|x: D| x.max(x * x - 1.0))),
            ("min", Box::new(|x: D| (x * 2.0).min(0.3 - x))),
            ("hypot", Box::new(|x: D| x.hypot(x.sin() + 2.0))),
            ("mul_add", Box::new(|x: D| x.mul_add(x.cos(), x.exp()))),
            (
                "arith",
                Box::new(|x: D| (x - 2.0) / (1.0 + x * x) * 3.0 - -x + 1.5 / (2.0 + x.sin())),
            ),
        ];
        for (name, f) in rules {
            for x in [-1.3, -0.4, 0.7, 1.2] {
                let got = f(D::var(x)).t;
                let want = numeric(&f, x);
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "{name}'({x}): {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn max_and_min_follow_f64_and_send_ties_to_the_first_argument() {
        let (a, b) = (D::var(1.0), cst(1.0));
        assert_eq!(a.max(b).t, 1.0);
        assert_eq!(b.max(a).t, 0.0);
        assert_eq!(a.min(b).t, 1.0);
        assert_eq!(cst(f64::NAN).max(D::var(2.0)).t, 1.0);
        assert_eq!(D::var(2.0).max(cst(f64::NAN)).t, 1.0);
        assert_eq!(cst(0.0).abs().t, 0.0);
    }

    #[test]
    fn compound_assignment_and_comparisons_use_the_value() {
        let mut s = cst(0.0);
        s += D::var(2.0);
        s *= 3.0;
        s -= cst(1.0);
        s /= D::var(2.0);
        // s = (3x - 1) / x at x = 2: value 2.5, derivative 1/x² = 0.25
        assert_eq!((s.v, s.t), (2.5, 0.25));
        assert!(cst(1.0) < D::var(2.0) && cst(2.0) == D::var(2.0));
    }

    #[test]
    fn references_compute_like_values() {
        let xs = [D::var(2.0), cst(3.0)];
        let (a, b) = (&xs[0], &xs[1]);
        let d = b - a;
        let p = a * b;
        let q = *b / a;
        assert_eq!((d.v, d.t), (1.0, -1.0));
        assert_eq!((p.v, p.t), (6.0, 3.0));
        assert_eq!((q.v, q.t), (1.5, -0.75));
        assert_eq!((-a).t, -1.0);
        let s: D = xs.iter().sum();
        let m: D = xs.iter().product();
        assert_eq!((s.v, s.t, m.v, m.t), (5.0, 1.0, 6.0, 3.0));
    }
}
