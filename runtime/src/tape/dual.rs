//! [`Dual`]: the scalar a [`Var::mapv`](super::Var::mapv) closure receives, carrying a value and
//! its derivative so one closure gives both the forward values and the backward rule.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::float::{TapeFloat, from_f64};

/// A dual number `re + eps·ε` (ε² = 0): evaluating `f(Dual::variable(x))` gives `f(x)` in `re`
/// and `f'(x)` in `eps`.
///
/// ```
/// use symgrad::tape::Dual;
///
/// let y = (Dual::variable(2.0_f64).powi(3) + 1.0).ln(); // ln(x³ + 1)
/// assert_eq!(y.re, 9.0_f64.ln());
/// assert!((y.eps - 12.0 / 9.0).abs() < 1e-15); // 3x² / (x³ + 1)
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<T> {
    /// The value.
    pub re: T,
    /// The derivative with respect to the closure's input.
    pub eps: T,
}

impl<T: TapeFloat> Dual<T> {
    /// The closure's input `x`: derivative 1.
    #[must_use]
    pub fn variable(x: T) -> Self {
        Self {
            re: x,
            eps: T::one(),
        }
    }

    /// A constant: derivative 0.
    #[must_use]
    pub fn constant(c: T) -> Self {
        Self {
            re: c,
            eps: T::zero(),
        }
    }

    /// The chain rule, stated once: `f(u)` with `f(u.re) = value` and `f'(u.re) = derivative`.
    #[must_use]
    pub fn chain(self, value: T, derivative: T) -> Self {
        Self {
            re: value,
            eps: derivative * self.eps,
        }
    }

    /// eˣ; derivative eˣ.
    #[must_use]
    pub fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }

    /// ln x; derivative 1/x.
    #[must_use]
    pub fn ln(self) -> Self {
        self.chain(self.re.ln(), self.re.recip())
    }

    /// xⁿ; derivative n·xⁿ⁻¹.
    #[must_use]
    pub fn powi(self, n: i32) -> Self {
        let n_t = T::from(n).unwrap_or_else(T::nan);
        self.chain(self.re.powi(n), n_t * self.re.powi(n - 1))
    }

    /// xᵖ; derivative p·xᵖ⁻¹.
    #[must_use]
    pub fn powf(self, p: T) -> Self {
        self.chain(self.re.powf(p), p * self.re.powf(p - T::one()))
    }

    /// √x; derivative 1/(2√x).
    #[must_use]
    pub fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, (s + s).recip())
    }

    /// |x|; derivative sign(x), 0 at 0.
    #[must_use]
    pub fn abs(self) -> Self {
        self.chain(self.re.abs(), sign(self.re))
    }

    /// sin x; derivative cos x.
    #[must_use]
    pub fn sin(self) -> Self {
        self.chain(self.re.sin(), self.re.cos())
    }

    /// cos x; derivative −sin x.
    #[must_use]
    pub fn cos(self) -> Self {
        self.chain(self.re.cos(), -self.re.sin())
    }

    /// tanh x; derivative 1 − tanh² x.
    #[must_use]
    pub fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, T::one() - t * t)
    }

    /// σ(x) = 1/(1 + e⁻ˣ); derivative σ(1 − σ).
    #[must_use]
    pub fn sigmoid(self) -> Self {
        let s = sigmoid(self.re);
        self.chain(s, s * (T::one() - s))
    }

    /// max(x, 0); derivative 1 for x > 0, else 0.
    #[must_use]
    pub fn relu(self) -> Self {
        let positive = self.re > T::zero();
        self.chain(
            if positive { self.re } else { T::zero() },
            if positive { T::one() } else { T::zero() },
        )
    }

    /// tan x; derivative 1 + tan² x.
    #[must_use]
    pub fn tan(self) -> Self {
        let t = self.re.tan();
        self.chain(t, T::one() + t * t)
    }

    /// asin x; derivative 1/√(1 − x²).
    #[must_use]
    pub fn asin(self) -> Self {
        self.chain(
            self.re.asin(),
            (T::one() - self.re * self.re).sqrt().recip(),
        )
    }

    /// acos x; derivative −1/√(1 − x²).
    #[must_use]
    pub fn acos(self) -> Self {
        self.chain(
            self.re.acos(),
            -(T::one() - self.re * self.re).sqrt().recip(),
        )
    }

    /// atan x; derivative 1/(1 + x²).
    #[must_use]
    pub fn atan(self) -> Self {
        self.chain(self.re.atan(), (T::one() + self.re * self.re).recip())
    }

    /// sinh x; derivative cosh x.
    #[must_use]
    pub fn sinh(self) -> Self {
        self.chain(self.re.sinh(), self.re.cosh())
    }

    /// cosh x; derivative sinh x.
    #[must_use]
    pub fn cosh(self) -> Self {
        self.chain(self.re.cosh(), self.re.sinh())
    }

    /// asinh x; derivative 1/√(x² + 1).
    #[must_use]
    pub fn asinh(self) -> Self {
        self.chain(
            self.re.asinh(),
            (self.re * self.re + T::one()).sqrt().recip(),
        )
    }

    /// acosh x; derivative 1/√(x² − 1).
    #[must_use]
    pub fn acosh(self) -> Self {
        self.chain(
            self.re.acosh(),
            (self.re * self.re - T::one()).sqrt().recip(),
        )
    }

    /// atanh x; derivative 1/(1 − x²).
    #[must_use]
    pub fn atanh(self) -> Self {
        self.chain(self.re.atanh(), (T::one() - self.re * self.re).recip())
    }

    /// 2ˣ; derivative 2ˣ ln 2.
    #[must_use]
    pub fn exp2(self) -> Self {
        let e = self.re.exp2();
        self.chain(e, e * from_f64::<T>(std::f64::consts::LN_2))
    }

    /// eˣ − 1; derivative eˣ.
    #[must_use]
    pub fn exp_m1(self) -> Self {
        self.chain(self.re.exp_m1(), self.re.exp())
    }

    /// ln(1 + x); derivative 1/(1 + x).
    #[must_use]
    pub fn ln_1p(self) -> Self {
        self.chain(self.re.ln_1p(), (T::one() + self.re).recip())
    }

    /// log₂ x; derivative 1/(x ln 2).
    #[must_use]
    pub fn log2(self) -> Self {
        self.chain(
            self.re.log2(),
            (self.re * from_f64::<T>(std::f64::consts::LN_2)).recip(),
        )
    }

    /// log₁₀ x; derivative 1/(x ln 10).
    #[must_use]
    pub fn log10(self) -> Self {
        self.chain(
            self.re.log10(),
            (self.re * from_f64::<T>(std::f64::consts::LN_10)).recip(),
        )
    }

    /// ∛x; derivative ∛x / (3x).
    #[must_use]
    pub fn cbrt(self) -> Self {
        let c = self.re.cbrt();
        self.chain(c, c / (from_f64::<T>(3.0) * self.re))
    }

    /// softplus ln(1 + eˣ), computed without overflow; derivative σ(x).
    #[must_use]
    pub fn softplus(self) -> Self {
        let x = self.re;
        let value = x.max(T::zero()) + (-x.abs()).exp().ln_1p();
        self.chain(value, sigmoid(x))
    }

    /// max(x, c) for a constant c; derivative 1 where x > c, else 0.
    #[must_use]
    pub fn max(self, c: T) -> Self {
        if self.re > c { self } else { Self::constant(c) }
    }

    /// min(x, c) for a constant c; derivative 1 where x < c, else 0.
    #[must_use]
    pub fn min(self, c: T) -> Self {
        if self.re < c { self } else { Self::constant(c) }
    }

    /// 1/x; derivative −1/x².
    #[must_use]
    pub fn recip(self) -> Self {
        let r = self.re.recip();
        self.chain(r, -r * r)
    }
}

/// sign(x) with sign(0) = 0 (the subgradient TensorFlow and PyTorch use for |x| at 0).
pub(crate) fn sign<T: TapeFloat>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// σ(x), computed without overflow for large |x|.
pub(crate) fn sigmoid<T: TapeFloat>(x: T) -> T {
    if x >= T::zero() {
        (T::one() + (-x).exp()).recip()
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

impl<T: TapeFloat> Add for Dual<T> {
    type Output = Self;
    /// (u + v)' = u' + v'
    fn add(self, v: Self) -> Self {
        Self {
            re: self.re + v.re,
            eps: self.eps + v.eps,
        }
    }
}

impl<T: TapeFloat> Sub for Dual<T> {
    type Output = Self;
    /// (u − v)' = u' − v'
    fn sub(self, v: Self) -> Self {
        Self {
            re: self.re - v.re,
            eps: self.eps - v.eps,
        }
    }
}

impl<T: TapeFloat> Mul for Dual<T> {
    type Output = Self;
    /// (u·v)' = u'·v + u·v'
    fn mul(self, v: Self) -> Self {
        Self {
            re: self.re * v.re,
            eps: self.eps * v.re + self.re * v.eps,
        }
    }
}

impl<T: TapeFloat> Div for Dual<T> {
    type Output = Self;
    /// (u/v)' = (u'·v − u·v') / v²
    fn div(self, v: Self) -> Self {
        Self {
            re: self.re / v.re,
            eps: (self.eps * v.re - self.re * v.eps) / (v.re * v.re),
        }
    }
}

impl<T: TapeFloat> Neg for Dual<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Self {
            re: -self.re,
            eps: -self.eps,
        }
    }
}

impl<T: TapeFloat> Add<T> for Dual<T> {
    type Output = Self;
    fn add(self, c: T) -> Self {
        self + Self::constant(c)
    }
}

impl<T: TapeFloat> Sub<T> for Dual<T> {
    type Output = Self;
    fn sub(self, c: T) -> Self {
        self - Self::constant(c)
    }
}

impl<T: TapeFloat> Mul<T> for Dual<T> {
    type Output = Self;
    fn mul(self, c: T) -> Self {
        Self {
            re: self.re * c,
            eps: self.eps * c,
        }
    }
}

impl<T: TapeFloat> Div<T> for Dual<T> {
    type Output = Self;
    fn div(self, c: T) -> Self {
        Self {
            re: self.re / c,
            eps: self.eps / c,
        }
    }
}

/// `scalar ⊕ Dual` for the concrete float types.
macro_rules! scalar_lhs {
    ($($float:ty),*) => {$(
        impl Add<Dual<$float>> for $float {
            type Output = Dual<$float>;
            fn add(self, d: Dual<$float>) -> Dual<$float> {
                Dual::constant(self) + d
            }
        }
        impl Sub<Dual<$float>> for $float {
            type Output = Dual<$float>;
            fn sub(self, d: Dual<$float>) -> Dual<$float> {
                Dual::constant(self) - d
            }
        }
        impl Mul<Dual<$float>> for $float {
            type Output = Dual<$float>;
            fn mul(self, d: Dual<$float>) -> Dual<$float> {
                d * self
            }
        }
        impl Div<Dual<$float>> for $float {
            type Output = Dual<$float>;
            fn div(self, d: Dual<$float>) -> Dual<$float> {
                Dual::constant(self) / d
            }
        }
    )*};
}

scalar_lhs!(f32, f64);

/// ½, for derivative formulas.
pub(crate) fn half<T: TapeFloat>() -> T {
    from_f64(0.5)
}
