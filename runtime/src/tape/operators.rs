//! `std::ops` for tape values: `+ - * /` with tape values, arrays and scalars on either side,
//! unary `-`, and the compound assignments. Every binary operator panics on incompatible shapes
//! with the [`ShapeError`](super::ShapeError) message; the `try_*` methods return it instead.

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use ndarray::{Array, ArrayBase, ArrayView, Data, DimMax, Dimension};

use super::arith::Broadcast;
use super::float::TapeFloat;
use super::graph::Var;
use super::operand::Operand;

/// `Var ⊕ operand`, `&Var ⊕ operand` (operand: tape value or array), and the array-on-the-left
/// forms `array ⊕ Var`.
macro_rules! binary_operators {
    ($($trait:ident $method:ident $try:ident;)*) => {$(
        impl<'t, T, D, R> $trait<R> for Var<'t, T, D>
        where
            T: TapeFloat,
            D: Dimension + DimMax<R::Dim>,
            R: Operand<'t, T>,
        {
            type Output = Var<'t, T, Broadcast<D, R::Dim>>;
            fn $method(self, rhs: R) -> Self::Output {
                self.$try(rhs).unwrap_or_else(|e| panic!("{e}"))
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
                (*self).$try(rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }

        binary_operators!(@lhs $trait $method $try; [S: Data<Elem = T>] &'t ArrayBase<S, D>);
        binary_operators!(@lhs $trait $method $try; [] Array<T, D>);
        binary_operators!(@lhs $trait $method $try; [] ArrayView<'t, T, D>);
    )*};
    (@lhs $trait:ident $method:ident $try:ident; [$($gen:tt)*] $lhs:ty) => {
        impl<'t, T, D, E, $($gen)*> $trait<Var<'t, T, E>> for $lhs
        where
            T: TapeFloat,
            D: Dimension + DimMax<E>,
            E: Dimension,
        {
            type Output = Var<'t, T, Broadcast<D, E>>;
            fn $method(self, rhs: Var<'t, T, E>) -> Self::Output {
                rhs.tape.constant(self).$try(rhs).unwrap_or_else(|e| panic!("{e}"))
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
                rhs.tape.constant(self).$try(*rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
    };
}

binary_operators! {
    Add add try_add;
    Sub sub try_sub;
    Mul mul try_mul;
    Div div try_div;
}

/// `Var ⊕ scalar` and `scalar ⊕ Var` for the concrete float types (a generic `T` on the left of
/// an operator is not allowed by the orphan rules).
macro_rules! scalar_operators {
    ($($float:ty),*) => {$(
        scalar_operators!(@one $float; Var<'t, $float, D>);
        scalar_operators!(@one $float; &Var<'t, $float, D>);
    )*};
    (@one $float:ty; $var:ty) => {
        impl<'t, D: Dimension> Add<$float> for $var {
            type Output = Var<'t, $float, D>;
            fn add(self, c: $float) -> Self::Output {
                self.add_scalar(c)
            }
        }
        impl<'t, D: Dimension> Sub<$float> for $var {
            type Output = Var<'t, $float, D>;
            fn sub(self, c: $float) -> Self::Output {
                self.sub_scalar(c)
            }
        }
        impl<'t, D: Dimension> Mul<$float> for $var {
            type Output = Var<'t, $float, D>;
            fn mul(self, c: $float) -> Self::Output {
                self.mul_scalar(c)
            }
        }
        impl<'t, D: Dimension> Div<$float> for $var {
            type Output = Var<'t, $float, D>;
            fn div(self, c: $float) -> Self::Output {
                self.div_scalar(c)
            }
        }
        impl<'t, D: Dimension> Add<$var> for $float {
            type Output = Var<'t, $float, D>;
            fn add(self, v: $var) -> Self::Output {
                v.add_scalar(self)
            }
        }
        impl<'t, D: Dimension> Sub<$var> for $float {
            type Output = Var<'t, $float, D>;
            fn sub(self, v: $var) -> Self::Output {
                v.rsub_scalar(self)
            }
        }
        impl<'t, D: Dimension> Mul<$var> for $float {
            type Output = Var<'t, $float, D>;
            fn mul(self, v: $var) -> Self::Output {
                v.mul_scalar(self)
            }
        }
        impl<'t, D: Dimension> Div<$var> for $float {
            type Output = Var<'t, $float, D>;
            fn div(self, v: $var) -> Self::Output {
                v.rdiv_scalar(self)
            }
        }
    };
}

scalar_operators!(f32, f64);

impl<T: TapeFloat, D: Dimension> Neg for Var<'_, T, D> {
    type Output = Self;
    fn neg(self) -> Self {
        self.negated()
    }
}

impl<'t, T: TapeFloat, D: Dimension> Neg for &Var<'t, T, D> {
    type Output = Var<'t, T, D>;
    fn neg(self) -> Var<'t, T, D> {
        self.negated()
    }
}

/// `v ⊕= operand` (the result must keep `v`'s dimensionality).
macro_rules! assign_operators {
    ($($trait:ident $method:ident $try:ident;)*) => {$(
        impl<'t, T, D, R> $trait<R> for Var<'t, T, D>
        where
            T: TapeFloat,
            D: Dimension + DimMax<R::Dim, Output = D>,
            R: Operand<'t, T>,
        {
            fn $method(&mut self, rhs: R) {
                *self = self.$try(rhs).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    )*};
}

assign_operators! {
    AddAssign add_assign try_add;
    SubAssign sub_assign try_sub;
    MulAssign mul_assign try_mul;
    DivAssign div_assign try_div;
}

/// `v ⊕= scalar` for the concrete float types.
macro_rules! scalar_assign_operators {
    ($($float:ty),*) => {$(
        impl<D: Dimension> AddAssign<$float> for Var<'_, $float, D> {
            fn add_assign(&mut self, c: $float) {
                *self = self.add_scalar(c);
            }
        }
        impl<D: Dimension> SubAssign<$float> for Var<'_, $float, D> {
            fn sub_assign(&mut self, c: $float) {
                *self = self.sub_scalar(c);
            }
        }
        impl<D: Dimension> MulAssign<$float> for Var<'_, $float, D> {
            fn mul_assign(&mut self, c: $float) {
                *self = self.mul_scalar(c);
            }
        }
        impl<D: Dimension> DivAssign<$float> for Var<'_, $float, D> {
            fn div_assign(&mut self, c: $float) {
                *self = self.div_scalar(c);
            }
        }
    )*};
}

scalar_assign_operators!(f32, f64);
