//! What can stand next to a tape value: [`IntoArray`] (plain arrays), [`Operand`] (arrays or tape
//! values), and [`TapeDot`], which lets [`dot`] take any mix of the two.

use ndarray::linalg::Dot;
use ndarray::{Array, ArrayBase, ArrayRef, ArrayView, CowArray, Data, Dimension};

use super::float::TapeFloat;
use super::graph::{Recorded, Tape, assert_same_tape};
use super::linalg::DotDim;
use super::var::Var;

/// A plain ndarray array the tape can record without differentiating through it.
///
/// Implemented for `&Array`/`&ArrayView`/`&ArcArray` (any `&ArrayBase` with readable data; read in
/// place, so the array must outlive the tape), owned `Array` (moved in), `ArrayView` and
/// `CowArray`.
pub trait IntoArray<'t, T> {
    /// Dimensionality of the array.
    type Dim: Dimension;
    /// The array, borrowed when possible.
    fn into_cow_array(self) -> CowArray<'t, T, Self::Dim>;
}

impl<'t, T, S: Data<Elem = T>, D: Dimension> IntoArray<'t, T> for &'t ArrayBase<S, D> {
    type Dim = D;
    fn into_cow_array(self) -> CowArray<'t, T, D> {
        CowArray::from(self.view())
    }
}

impl<'t, T, D: Dimension> IntoArray<'t, T> for Array<T, D> {
    type Dim = D;
    fn into_cow_array(self) -> CowArray<'t, T, D> {
        CowArray::from(self)
    }
}

impl<'t, T, D: Dimension> IntoArray<'t, T> for ArrayView<'t, T, D> {
    type Dim = D;
    fn into_cow_array(self) -> CowArray<'t, T, D> {
        CowArray::from(self)
    }
}

impl<'t, T, D: Dimension> IntoArray<'t, T> for CowArray<'t, T, D> {
    type Dim = D;
    fn into_cow_array(self) -> CowArray<'t, T, D> {
        self
    }
}

/// Anything a tape operation accepts as an array argument: a [`Var`] (by value or reference) or
/// a plain array ([`IntoArray`]), which is recorded as a constant.
pub trait Operand<'t, T: TapeFloat> {
    /// Dimensionality of the operand.
    type Dim: Dimension;
    /// The tape the operand lives on, if it is a tape value.
    fn tape(&self) -> Option<&'t Tape<'t, T>>;
    /// The operand as a node of `tape`: constants are recorded, tape values checked to belong
    /// to `tape`. Operands passed by value are given up, so the op may reuse their buffer.
    ///
    /// # Panics
    ///
    /// If the operand is a tape value recorded on another tape.
    fn record(self, tape: &'t Tape<'t, T>) -> Recorded;
}

impl<'t, T: TapeFloat, D: Dimension> Operand<'t, T> for Var<'t, T, D> {
    type Dim = D;
    fn tape(&self) -> Option<&'t Tape<'t, T>> {
        Some(self.tape)
    }
    fn record(self, tape: &'t Tape<'t, T>) -> Recorded {
        assert_same_tape(self.tape, tape);
        self.consumed()
    }
}

impl<'t, T: TapeFloat, D: Dimension> Operand<'t, T> for &Var<'t, T, D> {
    type Dim = D;
    fn tape(&self) -> Option<&'t Tape<'t, T>> {
        Some(self.tape)
    }
    fn record(self, tape: &'t Tape<'t, T>) -> Recorded {
        assert_same_tape(self.tape, tape);
        self.borrowed()
    }
}

/// Implements [`Operand`] for a plain array type: recorded as a constant.
macro_rules! array_operand {
    ($([$($gen:tt)*] $array:ty;)*) => {$(
        impl<'t, T: TapeFloat, D: Dimension, $($gen)*> Operand<'t, T> for $array {
            type Dim = D;
            fn tape(&self) -> Option<&'t Tape<'t, T>> {
                None
            }
            fn record(self, tape: &'t Tape<'t, T>) -> Recorded {
                tape.constant(self).consumed()
            }
        }
    )*};
}

array_operand! {
    [S: Data<Elem = T>] &'t ArrayBase<S, D>;
    [] Array<T, D>;
    [] ArrayView<'t, T, D>;
    [] CowArray<'t, T, D>;
}

/// `dot` for any mix of tape values and plain arrays; see [`dot`].
pub trait TapeDot<Rhs> {
    /// A [`Var`] when either side is on the tape, ndarray's own result otherwise.
    type Output;
    /// The matrix/vector product.
    fn tape_dot(self, rhs: Rhs) -> Self::Output;
}

/// Matrix·matrix, matrix·vector, vector·matrix or vector·vector product of any mix of tape values
/// and arrays: what `a.dot(b)` becomes when `a` is a plain array and `b` a tape value.
///
/// | left | right | result |
/// |---|---|---|
/// | `Var`, `&Var` | `Var`, `&Var`, `&ArrayBase`, `Array`, `ArrayView` | `Var` |
/// | `&ArrayBase`, `Array`, `ArrayView` | `Var`, `&Var` | `Var` |
/// | `&ArrayBase` | `&ArrayBase` | ndarray's `dot` (`Array2`, `Array1` or a scalar) |
///
/// On the tape, vector·vector gives a scalar `Var<T, Ix0>`.
///
/// # Panics
///
/// On incompatible shapes, with the [`ShapeError`](super::ShapeError) message; use
/// [`Var::try_dot`] for a `Result`.
///
/// ```
/// use ndarray::array;
/// use symgrad::tape::{Tape, dot};
///
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// let w_value = array![0.5, -1.0];
/// let tape = Tape::new();
/// let w = tape.watch(&w_value);
/// let y = dot(&x, &w); // constant matrix · tape vector
/// assert_eq!(y.value(), array![-1.5, -2.5]);
/// let grads = tape.gradient(&y.sum());
/// assert_eq!(grads.wrt(&w), array![4.0, 6.0]); // xᵀ·1
/// assert_eq!(dot(&x, &x), x.dot(&x)); // plain arrays stay plain
/// ```
pub fn dot<L: TapeDot<R>, R>(lhs: L, rhs: R) -> L::Output {
    lhs.tape_dot(rhs)
}

impl<'t, T, D, R> TapeDot<R> for Var<'t, T, D>
where
    T: TapeFloat,
    D: Dimension + DotDim<R::Dim>,
    R: Operand<'t, T>,
{
    type Output = Var<'t, T, D::Product>;
    fn tape_dot(self, rhs: R) -> Self::Output {
        self.dot(rhs)
    }
}

impl<'t, T, D, R> TapeDot<R> for &Var<'t, T, D>
where
    T: TapeFloat,
    D: Dimension + DotDim<R::Dim>,
    R: Operand<'t, T>,
{
    type Output = Var<'t, T, D::Product>;
    fn tape_dot(self, rhs: R) -> Self::Output {
        self.dot(rhs)
    }
}

/// Implements `TapeDot<Var>` and `TapeDot<&Var>` for a constant left-hand side.
macro_rules! constant_lhs_dot {
    ($([$($gen:tt)*] $lhs:ty;)*) => {$(
        impl<'t, T, D, E, $($gen)*> TapeDot<Var<'t, T, E>> for $lhs
        where
            T: TapeFloat,
            D: Dimension + DotDim<E>,
            E: Dimension,
            $lhs: IntoArray<'t, T, Dim = D>,
        {
            type Output = Var<'t, T, D::Product>;
            fn tape_dot(self, rhs: Var<'t, T, E>) -> Self::Output {
                rhs.tape.constant(self).dot(rhs)
            }
        }

        impl<'t, T, D, E, $($gen)*> TapeDot<&Var<'t, T, E>> for $lhs
        where
            T: TapeFloat,
            D: Dimension + DotDim<E>,
            E: Dimension,
            $lhs: IntoArray<'t, T, Dim = D>,
        {
            type Output = Var<'t, T, D::Product>;
            fn tape_dot(self, rhs: &Var<'t, T, E>) -> Self::Output {
                rhs.tape.constant(self).dot(rhs)
            }
        }
    )*};
}

constant_lhs_dot! {
    [S: Data<Elem = T>] &'t ArrayBase<S, D>;
    [] Array<T, D>;
    [] ArrayView<'t, T, D>;
}

impl<'b, T, S, S2, D, E> TapeDot<&'b ArrayBase<S2, E>> for &ArrayBase<S, D>
where
    S: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
    E: Dimension,
    ArrayRef<T, D>: Dot<ArrayRef<T, E>>,
{
    type Output = <ArrayRef<T, D> as Dot<ArrayRef<T, E>>>::Output;
    fn tape_dot(self, rhs: &'b ArrayBase<S2, E>) -> Self::Output {
        Dot::dot(&**self, &**rhs)
    }
}

/// `a.__tape_dot(b)`: the method form of [`dot`], which generated code writes where the user
/// wrote `a.dot(b)`, so that method-call auto-referencing still applies to `a` whether it is an
/// array, a reference to one, or a tape value.
#[doc(hidden)]
pub trait TapeDotMethod {
    /// [`dot`] of `self` (by reference) and `rhs`.
    fn __tape_dot<'s, R>(&'s self, rhs: R) -> <&'s Self as TapeDot<R>>::Output
    where
        &'s Self: TapeDot<R>,
    {
        self.tape_dot(rhs)
    }
}

impl<X: ?Sized> TapeDotMethod for X {}

/// `a.mapv(f)` with `f` a named function (`my_fn`, `f64::floor`), as `#[differentiable]`
/// writes it in an array body: ndarray's `mapv` on a plain array (data), and on a tape value a
/// compile error at `f` that shows the supported forms ([`MapvFunction`]). [`Var::mapv`] takes
/// a closure over [`Dual`] numbers; a plain `fn(f64) -> f64` gives no derivative the tape could
/// use. (`mapv(f64::exp)` and the other float methods a [`Dual`] has are rewritten to closures
/// before they get here.)
///
/// [`Dual`]: super::Dual
#[doc(hidden)]
pub fn __mapv_named<R, F>(receiver: &R, f: F) -> R::Output
where
    R: MapvPath<F> + ?Sized,
    F: MapvFunction<R>,
{
    receiver.__mapv_path(f)
}

/// ndarray's `mapv` for [`__mapv_named`]; for a tape value, the tape value it would give, so
/// that the one error the user sees is [`MapvFunction`]'s.
#[doc(hidden)]
pub trait MapvPath<F> {
    /// An array, or a tape value.
    type Output;
    /// ndarray's `mapv`.
    fn __mapv_path(&self, f: F) -> Self::Output;
}

impl<A, B, S, D, F> MapvPath<F> for ArrayBase<S, D>
where
    A: Clone,
    S: Data<Elem = A>,
    D: Dimension,
    F: FnMut(A) -> B,
{
    type Output = Array<B, D>;
    fn __mapv_path(&self, f: F) -> Array<B, D> {
        self.mapv(f)
    }
}

impl<'t, T: TapeFloat, D: Dimension, F> MapvPath<F> for Var<'t, T, D> {
    type Output = Var<'t, T, D>;
    fn __mapv_path(&self, _: F) -> Var<'t, T, D> {
        unreachable!("internal error: no function is a `MapvFunction` on a tape value")
    }
}

impl<X: MapvPath<F> + ?Sized, F> MapvPath<F> for &X {
    type Output = X::Output;
    fn __mapv_path(&self, f: F) -> X::Output {
        (**self).__mapv_path(f)
    }
}

/// A function `mapv` can take on the receiver `R`: any on a plain array (data), none on a tape
/// value, whose `mapv` needs a closure over [`Dual`] numbers: so the compiler reports the
/// supported forms at the function's name.
///
/// [`Dual`]: super::Dual
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`mapv` with a named function cannot be differentiated on the reverse-mode tape",
    label = "a named function: the tape has no derivative for it",
    note = "write the function as a closure, `x.mapv(|v| v.exp() * 2.0)`: its element is a dual number with the float methods (`exp`, `ln`, `powi`, `sqrt`, `sin`, `tanh`, …) and `+ - * /`",
    note = "or use an elementwise method of the array: `x.exp()`, `x.ln()`, `x.tanh()`, `x.sigmoid()`, `x.relu()`; `x.mapv(f64::exp)`, `x.mapv(f64::tanh)`, … work as written"
)]
pub trait MapvFunction<R: ?Sized> {}

impl<S: Data, D: Dimension, F> MapvFunction<ArrayBase<S, D>> for F {}

impl<X: ?Sized, F: MapvFunction<X>> MapvFunction<&X> for F {}
