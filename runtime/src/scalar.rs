//! Differentiable scalar helpers: activation functions and friends.
//!
//! Each helper is an ordinary generic function over `f32`/`f64` that you can call anywhere, and
//! `#[differentiable]` functions can call it: the macro chains through the helper's derivative.
//!
//! ```
//! use symgrad::sigmoid;
//!
//! let s = sigmoid(0.5_f64);
//! // The derivative `#[differentiable]` chains through, with the value, in one call:
//! let (y, (dy,)) = sigmoid::__partials(0.5_f64);
//! assert_eq!(y, s);
//! assert!((dy - s * (1.0 - s)).abs() < 1e-16);
//! ```
//!
//! # The calling convention generated code relies on
//!
//! For a differentiable function `f(a, b, …) -> T`, the item `f` in the *type* namespace (an
//! uninhabited `enum f {}`) has an associated function
//! `f::__partials(a, b, …) -> (T, (Da, Db, …))` that returns the value and the partial
//! derivative with respect to every parameter, `Da = T` for a float parameter and `()` for any
//! other. Because `use path::f;` imports both namespaces, the convention survives imports and
//! module paths. `#[differentiable]` emits the same item for every function it annotates.

use num_traits::Float;

/// `a[i][j]`: what generated code reads for two-level indexing of data (`inputs[k][0]` on a
/// `&[[f64; 2]]`, a `&[Vec<f64>]`, a `Vec<Vec<usize>>`).
///
/// ```
/// let pairs = [[1.0, 2.0], [3.0, 4.0]];
/// assert_eq!(symgrad::scalar::at2(&pairs[..], 1, 0), 3.0);
/// ```
#[inline]
pub fn at2<A, R, T>(a: &A, i: usize, j: usize) -> T
where
    A: ?Sized + core::ops::Index<usize, Output = R>,
    R: ?Sized + core::ops::Index<usize, Output = T>,
    T: Copy,
{
    a[i][j]
}

/// Sign with `sign(0) = 0` (unlike [`f64::signum`], which gives `1.0` at `+0.0`): the derivative
/// of `|x|` that PyTorch and JAX use.
///
/// ```
/// assert_eq!(symgrad::scalar::sign(-2.0_f64), -1.0);
/// assert_eq!(symgrad::scalar::sign(0.0_f64), 0.0);
/// ```
#[inline]
pub fn sign<T: Float>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        // zero stays zero; NaN stays NaN.
        x
    }
}

/// The identity, through which no gradient flows: in a `#[differentiable]` function,
/// `stop_gradient(x)` has the value of `x` and derivative zero (TensorFlow's `tf.stop_gradient`,
/// JAX's `lax.stop_gradient`, PyTorch's `.detach()`). Typical use: the shift of a stable
/// log-sum-exp, whose gradient is zero in exact arithmetic, so nothing is spent on it.
///
/// The macro knows it by name (any path ending in `stop_gradient`); called directly it is
/// just the identity:
///
/// ```
/// assert_eq!(symgrad::stop_gradient(2.5_f64), 2.5);
/// ```
#[inline]
pub fn stop_gradient<T: Float>(x: T) -> T {
    x
}

/// A gradient sink that throws its contributions away: what generated code passes for an
/// argument whose gradient the caller does not want (data) when it calls another
/// `#[differentiable]` function's hidden vector-Jacobian product. Every index is the same cell.
///
/// ```
/// use symgrad::scalar::Discard;
/// let mut d = Discard::<f64>::default();
/// d[7] += 1.0;
/// d[0] += 2.0;
/// assert_eq!(d[123], 3.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard<T>(T);

/// Implemented by the hidden item (`enum f {}`) of a `#[differentiable]` function for the
/// position `I` of every slice parameter it differentiates. A caller that passes a
/// differentiated slice at a position the callee takes as data (which would silently lose that
/// slice's gradient) checks it with this trait, and gets its error at the argument.
#[diagnostic::on_unimplemented(
    message = "a differentiated slice is passed where `{Self}` takes data",
    label = "`{Self}` does not differentiate this parameter, so the gradient of this slice would be lost",
    note = "differentiate `{Self}` with respect to it too (name it in its `wrt(...)`, or drop `wrt`), or pass data here"
)]
pub trait DifferentiatesSlice<const I: usize> {
    /// Evaluated by generated code where it checks an argument.
    const CHECKED: () = ();
}

/// Implemented by the hidden item (`enum f {}`) of every function whose derivative generated
/// code can chain through: each `#[differentiable]` function and each helper of this module.
/// A `#[differentiable]` body that needs the derivative of a call checks its callee with this
/// trait, so a call of a plain function is reported at the call, with the two ways to fix it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a differentiable function",
    label = "the derivative of this call is needed, but `{Self}` has none that this call can chain through",
    note = "put `#[differentiable]` on `fn {Self}`, so that its derivative is generated",
    note = "or, if its body cannot be differentiated, keep the body and give the derivative: `#[differentiable(rule = {Self}_rule)]` on `fn {Self}`, with `fn {Self}_rule` taking the same parameters and returning `(value, [∂{Self}/∂p; K])` for its K float parameters",
    note = "a call whose arguments do not depend on a differentiated parameter needs no derivative: it may call any function"
)]
pub trait Differentiable {
    /// Evaluated by generated code where it checks a callee.
    const CHECKED: () = ();
}

/// Implemented by the hidden item (`enum f {}`) of every `#[differentiable]` function that returns
/// one float (and by the stand-in of a function that is not differentiable, whose own error is
/// the one to fix). A body that uses a call's value as one float (passes it on, computes with
/// it) checks its callee with this trait, so a vector-valued callee (`-> [f64; M]`, a tuple, a
/// nalgebra matrix, a `Vec`) used that way is reported at the call, with the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` returns several outputs: the value of this call is used as one float",
    label = "`{Self}` is vector-valued; read its outputs one by one",
    note = "bind the outputs and use them element by element: `let r = {Self}(…);` then `r[0]`, `r[1]` (a matrix's element `(i, j)` is `r[i + R·j]`), or `let (u, v) = {Self}(…);` for a tuple",
    note = "to pass the outputs on to a function taking a slice, list them: `&[r[0], r[1], r[2]]`"
)]
pub trait ScalarValued {
    /// Evaluated by generated code where it checks a callee.
    const CHECKED: () = ();
}

/// Implemented by the hidden item (`enum f {}`) of every `#[differentiable(hessian)]` function,
/// whose hidden `__partials2` (or, for a vector-valued function, `__hvp_outputs`) gives its
/// second derivatives. A `#[differentiable]` body
/// whose Hessian goes through a call checks its callee with this trait, so a callee without
/// `hessian` is reported at the call, with the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no second derivatives: the Hessian of the caller goes through this call",
    label = "the second derivatives of this call are needed, but `{Self}` was not given `hessian`",
    note = "add `hessian` to the attribute on `fn {Self}`: `#[differentiable(hessian)]` (a scalar function's own `_hessian` and `_hvp` come with it; a vector-valued one's callers' Hessians go through it)",
    note = "a function with a `rule` has no second derivatives: write its body with `#[differentiable(hessian)]` instead"
)]
pub trait TwiceDifferentiable {
    /// Evaluated by generated code where it checks a callee.
    const CHECKED: () = ();
}

/// What a call of `f::__partials2` resolves to when `f` has no such item (it lacks `hessian`):
/// generated code checks [`TwiceDifferentiable`] beside it, so this is never compiled into a
/// program that runs; it only keeps that check's error the only one.
pub trait SecondOrderFallback {
    /// Never run: see the trait.
    #[must_use]
    fn __partials2<A, R>(_: A) -> R {
        unreachable!("internal error: a callee without second derivatives")
    }

    /// Never run: see the trait (`__hvp`, a caller's Hessian through a call given a slice).
    #[must_use]
    fn __hvp<A, D, F, S, R>(_: A, _: D, _: F, _: S) -> R {
        unreachable!("internal error: a callee without second derivatives")
    }

    /// Never run: see the trait (`__hvp_outputs`, a caller's Hessian through the outputs of a
    /// vector-valued call).
    #[must_use]
    fn __hvp_outputs<A, D, F, S, O, R>(_: A, _: D, _: F, _: S, _: O) -> R {
        unreachable!("internal error: a callee without second derivatives")
    }
}

impl<T: ?Sized> SecondOrderFallback for T {}

impl<T> core::ops::Index<usize> for Discard<T> {
    type Output = T;
    #[inline]
    fn index(&self, _: usize) -> &T {
        &self.0
    }
}

impl<T> core::ops::IndexMut<usize> for Discard<T> {
    #[inline]
    fn index_mut(&mut self, _: usize) -> &mut T {
        &mut self.0
    }
}

/// A gradient sink seen from element `start` on: what generated code passes to a called
/// function's hidden vector-Jacobian product for a run of a slice (`dot(&x[2..5], w)` inside a
/// function whose own gradient sink is generic), so that index `i` lands at `start + i`.
///
/// ```
/// use symgrad::scalar::Offset;
/// let mut g = vec![0.0; 6];
/// let mut run = Offset::new(&mut g[..], 2);
/// run[0] += 1.0;
/// run[3] += 2.0;
/// assert_eq!(g, [0.0, 0.0, 1.0, 0.0, 0.0, 2.0]);
/// ```
pub struct Offset<'a, S: ?Sized> {
    inner: &'a mut S,
    start: usize,
}

impl<'a, S: ?Sized> Offset<'a, S> {
    /// `inner` from element `start` on.
    #[inline]
    pub fn new(inner: &'a mut S, start: usize) -> Self {
        Offset { inner, start }
    }
}

impl<T, S: ?Sized + core::ops::Index<usize, Output = T>> core::ops::Index<usize> for Offset<'_, S> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.inner[self.start + i]
    }
}

impl<T, S: ?Sized + core::ops::IndexMut<usize, Output = T>> core::ops::IndexMut<usize>
    for Offset<'_, S>
{
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.inner[self.start + i]
    }
}

/// A read-only view of an indexable `inner` from element `start` on (generated code passes a
/// run `&v[lo..hi]` of a direction that may itself be such a view), so that index `i` reads
/// `start + i`.
///
/// ```
/// use symgrad::scalar::Shifted;
/// let v = [1.0, 2.0, 3.0, 4.0];
/// let run = Shifted::new(&v[..], 2);
/// assert_eq!((run[0], run[1]), (3.0, 4.0));
/// ```
pub struct Shifted<'a, S: ?Sized> {
    inner: &'a S,
    start: usize,
}

impl<'a, S: ?Sized> Shifted<'a, S> {
    /// `inner` from element `start` on.
    #[inline]
    pub fn new(inner: &'a S, start: usize) -> Self {
        Shifted { inner, start }
    }
}

impl<T, S: ?Sized + core::ops::Index<usize, Output = T>> core::ops::Index<usize>
    for Shifted<'_, S>
{
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.inner[self.start + i]
    }
}

/// Defines a one-argument differentiable helper: the function, and the hidden `__partials` item
/// that states its value and derivative once (num-dual's `chain_rule` habit).
macro_rules! helper {
    (
        $(#[$doc:meta])*
        fn $name:ident($x:ident) {
            value: $value:expr,
            derivative($y:ident): $deriv:expr,
            second($y2:ident): $second:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        #[inline]
        pub fn $name<T: Float>($x: T) -> T {
            $value
        }

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        pub enum $name {}

        #[diagnostic::do_not_recommend]
        impl $crate::scalar::Differentiable for $name {}
        #[diagnostic::do_not_recommend]
        impl $crate::scalar::ScalarValued for $name {}

        #[diagnostic::do_not_recommend]
        impl $crate::scalar::TwiceDifferentiable for $name {}

        impl $name {
            /// Value and derivative; the calling convention of generated code.
            #[doc(hidden)]
            #[inline]
            pub fn __partials<T: Float>($x: T) -> (T, (T,)) {
                let $y: T = $value;
                (
                    $y,
                    ($deriv,),
                )
            }

            /// Value, derivative and second derivative: what a caller's Hessian chains through.
            #[doc(hidden)]
            #[inline]
            pub fn __partials2<T: Float>(($x,): (T,)) -> (T, (T,), ((T,),)) {
                let $y: T = $value;
                let $y2: T = $y;
                ($y, ($deriv,), (($second,),))
            }
        }
    };
}

fn c<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or_else(|| unreachable!("internal error: {v} is representable"))
}

helper! {
    /// The logistic function `1 / (1 + e^(-x))`, computed without overflow for large `|x|`.
    /// Derivative `σ(x)(1 − σ(x))`.
    ///
    /// ```
    /// assert_eq!(symgrad::sigmoid(0.0_f64), 0.5);
    /// ```
    fn sigmoid(x) {
        value: if x >= T::zero() {
            T::one() / (T::one() + (-x).exp())
        } else {
            let e = x.exp();
            e / (T::one() + e)
        },
        derivative(y): y * (T::one() - y),
        second(y): y * (T::one() - y) * (T::one() - c::<T>(2.0) * y),
    }
}

helper! {
    /// `max(x, 0)`. Derivative `1` for `x > 0`, else `0` (PyTorch's choice at `0`).
    ///
    /// ```
    /// assert_eq!(symgrad::relu(-3.0_f64), 0.0);
    /// assert_eq!(symgrad::relu(2.5_f64), 2.5);
    /// ```
    fn relu(x) {
        value: if x > T::zero() { x } else { T::zero() },
        derivative(y): if x > T::zero() { T::one() } else { T::zero() },
        second(y): T::zero(),
    }
}

helper! {
    /// `ln(1 + e^x)`, computed stably. Derivative `σ(x)`.
    ///
    /// ```
    /// assert!((symgrad::softplus(0.0_f64) - 2f64.ln()).abs() < 1e-15);
    /// ```
    fn softplus(x) {
        value: x.max(T::zero()) + (-x.abs()).exp().ln_1p(),
        derivative(y): sigmoid(x),
        second(y): {
            let s = sigmoid(x);
            s * (T::one() - s)
        },
    }
}

helper! {
    /// `ln σ(x) = −softplus(−x)`, computed stably. Derivative `1 − σ(x) = σ(−x)`.
    ///
    /// ```
    /// assert!((symgrad::log_sigmoid(0.0_f64) + 2f64.ln()).abs() < 1e-15);
    /// ```
    fn log_sigmoid(x) {
        value: -softplus(-x),
        derivative(y): sigmoid(-x),
        second(y): {
            let s = sigmoid(x);
            -s * (T::one() - s)
        },
    }
}

helper! {
    /// `x · σ(x)` (SiLU, also called swish). Derivative `σ(x)(1 + x(1 − σ(x)))`.
    ///
    /// ```
    /// assert_eq!(symgrad::silu(0.0_f64), 0.0);
    /// ```
    fn silu(x) {
        value: x * sigmoid(x),
        derivative(y): {
            let s = sigmoid(x);
            s * (T::one() + x * (T::one() - s))
        },
        second(y): {
            let s = sigmoid(x);
            s * (T::one() - s) * (c::<T>(2.0) + x * (T::one() - c::<T>(2.0) * s))
        },
    }
}

helper! {
    /// `x / (1 + |x|)`. Derivative `1 / (1 + |x|)²`.
    ///
    /// ```
    /// assert_eq!(symgrad::softsign(1.0_f64), 0.5);
    /// ```
    fn softsign(x) {
        value: x / (T::one() + x.abs()),
        derivative(y): {
            let d = T::one() + x.abs();
            (d * d).recip()
        },
        second(y): {
            let d = T::one() + x.abs();
            -c::<T>(2.0) * sign(x) / (d * d * d)
        },
    }
}

helper! {
    /// `x` for `x > 0`, else `0.01·x`. Derivative `1` or `0.01`.
    ///
    /// ```
    /// assert_eq!(symgrad::leaky_relu(-1.0_f64), -0.01);
    /// ```
    fn leaky_relu(x) {
        value: if x > T::zero() { x } else { c::<T>(0.01) * x },
        derivative(y): if x > T::zero() { T::one() } else { c(0.01) },
        second(y): T::zero(),
    }
}

helper! {
    /// `x` for `x > 0`, else `e^x − 1` (ELU with α = 1). Derivative `1` or `e^x`.
    ///
    /// ```
    /// assert_eq!(symgrad::elu(2.0_f64), 2.0);
    /// ```
    fn elu(x) {
        value: if x > T::zero() { x } else { x.exp_m1() },
        derivative(y): if x > T::zero() { T::one() } else { x.exp() },
        second(y): if x > T::zero() { T::zero() } else { x.exp() },
    }
}

helper! {
    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`):
    /// `x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))`.
    ///
    /// ```
    /// assert_eq!(symgrad::gelu(0.0_f64), 0.0);
    /// ```
    fn gelu(x) {
        value: {
            let k: T = c(0.797_884_560_802_865_4); // sqrt(2/pi)
            let u = k * (x + c::<T>(0.044_715) * x * x * x);
            c::<T>(0.5) * x * (T::one() + u.tanh())
        },
        derivative(y): {
            let k: T = c(0.797_884_560_802_865_4);
            let u = k * (x + c::<T>(0.044_715) * x * x * x);
            let t = u.tanh();
            let du = k * (T::one() + c::<T>(3.0 * 0.044_715) * x * x);
            c::<T>(0.5) * (T::one() + t) + c::<T>(0.5) * x * (T::one() - t * t) * du
        },
        // f'' = (1 − t²)·u' + x/2 · (1 − t²)·(u'' − 2t·u'²)
        second(y): {
            let k: T = c(0.797_884_560_802_865_4);
            let u = k * (x + c::<T>(0.044_715) * x * x * x);
            let t = u.tanh();
            let du = k * (T::one() + c::<T>(3.0 * 0.044_715) * x * x);
            let ddu = k * c::<T>(6.0 * 0.044_715) * x;
            let sech2 = T::one() - t * t;
            sech2 * du + c::<T>(0.5) * x * sech2 * (ddu - c::<T>(2.0) * t * du * du)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    macro_rules! check_helper {
        ($name:ident, $($x:expr),+) => {
            $(
                let (y, (d,)) = $name::__partials::<f64>($x);
                assert_eq!(y, $name::<f64>($x), "value of {} at {}", stringify!($name), $x);
                let fd = central($name::<f64>, $x);
                assert!((d - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                    "{}'({}) = {} but finite differences give {}", stringify!($name), $x, d, fd);
            )+
        };
    }

    macro_rules! check_second {
        ($name:ident, $($x:expr),+) => {
            $(
                let (y, (d,), ((dd,),)) = $name::__partials2::<f64>(($x,));
                assert_eq!((y, (d,)), $name::__partials::<f64>($x), "{} at {}", stringify!($name), $x);
                let fd = central(|x| $name::__partials::<f64>(x).1.0, $x);
                assert!((dd - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                    "{}''({}) = {} but finite differences of the derivative give {}", stringify!($name), $x, dd, fd);
            )+
        };
    }

    #[test]
    fn every_second_derivative_matches_finite_differences_of_the_first() {
        check_second!(sigmoid, -30.0, -2.0, -0.3, 0.0, 0.7, 4.0, 30.0);
        check_second!(relu, -2.0, 0.5, 3.0);
        check_second!(softplus, -40.0, -2.0, 0.0, 0.1, 3.0, 40.0);
        check_second!(log_sigmoid, -40.0, -2.0, 0.0, 3.0, 40.0);
        check_second!(silu, -5.0, -0.5, 0.0, 1.5);
        check_second!(softsign, -3.0, -0.2, 0.4, 8.0);
        check_second!(leaky_relu, -3.0, 2.0);
        check_second!(elu, -3.0, -0.1, 2.0);
        check_second!(gelu, -3.0, -0.5, 0.0, 0.3, 2.0);
    }

    #[test]
    fn every_helper_matches_finite_differences() {
        check_helper!(sigmoid, -30.0, -2.0, -0.3, 0.0, 0.7, 4.0, 30.0);
        check_helper!(relu, -2.0, 0.5, 3.0);
        check_helper!(softplus, -40.0, -2.0, 0.0, 0.1, 3.0, 40.0);
        check_helper!(log_sigmoid, -40.0, -2.0, 0.0, 3.0, 40.0);
        check_helper!(silu, -5.0, -0.5, 0.0, 1.5);
        check_helper!(softsign, -3.0, -0.2, 0.4, 8.0);
        check_helper!(leaky_relu, -3.0, 2.0);
        check_helper!(elu, -3.0, -0.1, 2.0);
        check_helper!(gelu, -3.0, -0.5, 0.0, 0.3, 2.0);
    }

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(sigmoid(-1000.0_f64), 0.0);
        assert_eq!(sigmoid(1000.0_f64), 1.0);
        assert!(softplus(1000.0_f64).is_finite());
    }

    #[test]
    fn sign_is_zero_at_zero() {
        assert_eq!(sign(0.0_f64), 0.0);
        assert_eq!(sign(-0.0_f64), 0.0);
        assert_eq!(sign(3.0_f32), 1.0);
        assert!(sign(f64::NAN).is_nan());
    }
}
