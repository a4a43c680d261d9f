//! `std::ops` for tape values: `+ - * /` with tape values, arrays and scalars on either side,
//! unary `-`, and the compound assignments. Every binary operator panics on incompatible shapes
//! with the [`ShapeError`](super::ShapeError) message; the `try_*` methods return it instead.
//!
//! As with ndarray's arrays, an operand taken by value is given up: the result may be computed
//! in its buffer (`a + &b` reuses `a`'s storage when the backward pass does not need it).

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use ndarray::{Array, ArrayBase, ArrayView, Data, DimMax, Dimension};

use super::arith::{Binary, Broadcast, WithScalar, binary, with_scalar};
use super::float::TapeFloat;
use super::graph::Recorded;
use super::operand::Operand;
use super::var::Var;

/// `Var ⊕ operand`, `&Var ⊕ operand` (operand: tape value or array), and the array-on-the-left
/// forms `array ⊕ Var`.
macro_rules! binary_operators {
    ($($trait:ident $method:ident $kind:ident;)*) => {$(
        impl<'t, T, D, R> $trait<R> for Var<'t, T, D>
        where
            T: TapeFloat,
            D: Dimension + DimMax<R::Dim>,
            R: Operand<'t, T>,
        {
            type Output = Var<'t, T, Broadcast<D, R::Dim>>;
            fn $method(self, rhs: R) -> Self::Output {
                let tape = self.tape;
                let rhs = rhs.record(tape);
                or_panic(binary(tape, self.consumed(), rhs, Binary::$kind))
            }
        }

        impl<'t, T, D, R> $trait<R> for &Var<'t, T, D>
        where
            T: TapeFloat,
            D: Dimension + DimMax<R::Dim>,
            R: Operand<'t, T>,
        {
            type Output = Var<'t, T, Broadcast<D, R::Dim>>;
            fn $method(self, rhs: R) -> Self::Output {
                or_panic(binary(self.tape, self.borrowed(), rhs.record(self.tape), Binary::$kind))
            }
        }

        binary_operators!(@lhs $trait $method $kind; [S: Data<Elem = T>] &'t ArrayBase<S, D>);
        binary_operators!(@lhs $trait $method $kind; [] Array<T, D>);
        binary_operators!(@lhs $trait $method $kind; [] ArrayView<'t, T, D>);
    )*};
    (@lhs $trait:ident $method:ident $kind:ident; [$($gen:tt)*] $lhs:ty) => {
        impl<'t, T, D, E, $($gen)*> $trait<Var<'t, T, E>> for $lhs
        where
            T: TapeFloat,
            D: Dimension + DimMax<E>,
            E: Dimension,
        {
            type Output = Var<'t, T, Broadcast<D, E>>;
            fn $method(self, rhs: Var<'t, T, E>) -> Self::Output {
                let tape = rhs.tape;
                let lhs = tape.constant(self).consumed();
                or_panic(binary(tape, lhs, rhs.consumed(), Binary::$kind))
            }
        }

        impl<'t, T, D, E, $($gen)*> $trait<&Var<'t, T, E>> for $lhs
        where
            T: TapeFloat,
            D: Dimension + DimMax<E>,
            E: Dimension,
        {
            type Output = Var<'t, T, Broadcast<D, E>>;
            fn $method(self, rhs: &Var<'t, T, E>) -> Self::Output {
                let lhs = rhs.tape.constant(self).consumed();
                or_panic(binary(rhs.tape, lhs, rhs.borrowed(), Binary::$kind))
            }
        }
    };
}

/// The operator path: a shape error becomes a panic with its message, as in ndarray.
fn or_panic<V, E: std::fmt::Display>(result: Result<V, E>) -> V {
    result.unwrap_or_else(|e| panic!("{e}"))
}

binary_operators! {
    Add add Add;
    Sub sub Sub;
    Mul mul Mul;
    Div div Div;
}

/// `Var ⊕ scalar` and `scalar ⊕ Var` for the concrete float types (a generic `T` on the left of
/// an operator is not allowed by the orphan rules).
macro_rules! scalar_operators {
    ($($float:ty),*) => {$(
        scalar_operators!(@one $float; Var<'t, $float, D>, consumed);
        scalar_operators!(@one $float; &Var<'t, $float, D>, borrowed);
    )*};
    (@one $float:ty; $var:ty, $take:ident) => {
        scalar_operators!(@op $float; $var, $take; Add add Add, Add);
        scalar_operators!(@op $float; $var, $take; Sub sub Sub, SubFrom);
        scalar_operators!(@op $float; $var, $take; Mul mul Mul, Mul);
        scalar_operators!(@op $float; $var, $take; Div div Div, DivInto);
    };
    (@op $float:ty; $var:ty, $take:ident; $trait:ident $method:ident $right:ident, $left:ident) => {
        impl<'t, D: Dimension> $trait<$float> for $var {
            type Output = Var<'t, $float, D>;
            fn $method(self, k: $float) -> Self::Output {
                with_scalar(self.tape, self.$take(), WithScalar::$right, k)
            }
        }
        impl<'t, D: Dimension> $trait<$var> for $float {
            type Output = Var<'t, $float, D>;
            fn $method(self, v: $var) -> Self::Output {
                with_scalar(v.tape, v.$take(), WithScalar::$left, self)
            }
        }
    };
}

scalar_operators!(f32, f64);

impl<T: TapeFloat, D: Dimension> Neg for Var<'_, T, D> {
    type Output = Self;
    fn neg(self) -> Self {
        with_scalar(self.tape, self.consumed(), WithScalar::Neg, T::zero())
    }
}

impl<'t, T: TapeFloat, D: Dimension> Neg for &Var<'t, T, D> {
    type Output = Var<'t, T, D>;
    fn neg(self) -> Var<'t, T, D> {
        with_scalar(self.tape, self.borrowed(), WithScalar::Neg, T::zero())
    }
}

/// The left operand of `v ⊕= …`: the old value is replaced, so it is given up.
fn given_up<T, D>(var: &Var<'_, T, D>) -> Recorded {
    Recorded {
        id: var.id,
        consumed: true,
    }
}

/// `v ⊕= operand` (the result must keep `v`'s dimensionality).
macro_rules! assign_operators {
    ($($trait:ident $method:ident $kind:ident;)*) => {$(
        impl<'t, T, D, R> $trait<R> for Var<'t, T, D>
        where
            T: TapeFloat,
            D: Dimension + DimMax<R::Dim, Output = D>,
            R: Operand<'t, T>,
        {
            fn $method(&mut self, rhs: R) {
                let rhs = rhs.record(self.tape);
                *self = or_panic(binary(self.tape, given_up(self), rhs, Binary::$kind));
            }
        }
    )*};
}

assign_operators! {
    AddAssign add_assign Add;
    SubAssign sub_assign Sub;
    MulAssign mul_assign Mul;
    DivAssign div_assign Div;
}

/// `v ⊕= scalar` for the concrete float types.
macro_rules! scalar_assign_operators {
    ($($float:ty),*) => {$(
        scalar_assign_operators!(@op $float; AddAssign add_assign Add);
        scalar_assign_operators!(@op $float; SubAssign sub_assign Sub);
        scalar_assign_operators!(@op $float; MulAssign mul_assign Mul);
        scalar_assign_operators!(@op $float; DivAssign div_assign Div);
    )*};
    (@op $float:ty; $trait:ident $method:ident $kind:ident) => {
        impl<D: Dimension> $trait<$float> for Var<'_, $float, D> {
            fn $method(&mut self, k: $float) {
                *self = with_scalar(self.tape, given_up(self), WithScalar::$kind, k);
            }
        }
    };
}

scalar_assign_operators!(f32, f64);
