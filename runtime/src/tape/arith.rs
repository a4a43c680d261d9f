//! `+ - * /` between tape values and arrays (with broadcasting), with scalars, and unary `-`:
//! forward and backward side by side. The `std::ops` impls live in `operators.rs`.

use ndarray::{ArrayD, ArrayViewD, CowArray, DimMax, Dimension, IxDyn};

use super::error::ShapeError;
use super::float::TapeFloat;
use super::grads::Grads;
use super::graph::{Node, Op, Var};
use super::operand::Operand;
use super::shape::co_broadcast;

/// Arithmetic ops; `usize` fields are input node ids, `T` fields scalar constants.
pub(crate) enum ArithOp<T> {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Neg(usize),
    /// `a + c` (and `a - c`, recorded as `a + (−c)`).
    AddScalar(usize),
    /// `c - a`.
    ScalarSub(usize),
    /// `a · c`.
    MulScalar(usize, T),
    /// `a / c`.
    DivScalar(usize, T),
    /// `c / a`.
    ScalarDiv(usize),
}

/// The four binary operations, for the shared forward path.
#[derive(Clone, Copy)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
}

impl Binary {
    fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
        }
    }

    fn op<T>(self, a: usize, b: usize) -> ArithOp<T> {
        match self {
            Binary::Add => ArithOp::Add(a, b),
            Binary::Sub => ArithOp::Sub(a, b),
            Binary::Mul => ArithOp::Mul(a, b),
            Binary::Div => ArithOp::Div(a, b),
        }
    }

    fn apply<T: TapeFloat>(self, a: &ArrayViewD<'_, T>, b: &ArrayViewD<'_, T>) -> ArrayD<T> {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
        }
    }
}

/// The dimensionality of `a ⊕ b` for `Var<D> ⊕ R`.
pub type Broadcast<D, R> = <D as DimMax<R>>::Output;

macro_rules! try_binary_methods {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<R: Operand<'t, T>>(
            self,
            rhs: R,
        ) -> Result<Var<'t, T, Broadcast<D, R::Dim>>, ShapeError>
        where
            D: DimMax<R::Dim>,
        {
            self.binary(rhs, Binary::$kind)
        }
    )*};
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    try_binary_methods! {
        /// `self + rhs` with NumPy/ndarray broadcasting, or a [`ShapeError`] naming `add`.
        ///
        /// ```
        /// use ndarray::array;
        /// use symgrad_runtime::tape::Tape;
        ///
        /// let tape = Tape::new();
        /// let a = tape.watch(array![[1.0_f64, 2.0], [3.0, 4.0]]);
        /// let b = tape.watch(array![10.0, 20.0]); // broadcast over rows
        /// let c = a.try_add(b).unwrap();
        /// assert_eq!(c.value(), array![[11.0, 22.0], [13.0, 24.0]]);
        /// assert_eq!(tape.gradient(c.sum()).wrt(b), array![2.0, 2.0]); // summed over rows
        /// assert!(a.try_add(array![1.0, 2.0, 3.0]).is_err());
        /// ```
        try_add => Add;
        /// `self - rhs` with broadcasting, or a [`ShapeError`] naming `sub`.
        try_sub => Sub;
        /// `self * rhs` (elementwise) with broadcasting, or a [`ShapeError`] naming `mul`.
        try_mul => Mul;
        /// `self / rhs` (elementwise) with broadcasting, or a [`ShapeError`] naming `div`.
        try_div => Div;
    }

    fn binary<R: Operand<'t, T>>(
        self,
        rhs: R,
        kind: Binary,
    ) -> Result<Var<'t, T, Broadcast<D, R::Dim>>, ShapeError>
    where
        D: DimMax<R::Dim>,
    {
        let rhs = rhs.record(self.tape);
        let value = {
            let nodes = self.tape.nodes();
            let (a, b) = (nodes[self.id].value.view(), nodes[rhs.id].value.view());
            co_broadcast(kind.name(), a.shape(), b.shape())?;
            kind.apply(&a, &b)
        };
        Ok(self.tape.push(
            value,
            Op::Arith(kind.op(self.id, rhs.id)),
            &[self.id, rhs.id],
        ))
    }

    /// Records `f(value)` for an op with one tape input.
    fn unary_arith(self, op: ArithOp<T>, f: impl FnMut(T) -> T) -> Self {
        let value = self.tape.nodes()[self.id].value.mapv(f);
        self.tape.push(value, Op::Arith(op), &[self.id])
    }

    /// `self + c`.
    #[must_use]
    pub fn add_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::AddScalar(self.id), |x| x + c)
    }

    /// `self - c`.
    #[must_use]
    pub fn sub_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::AddScalar(self.id), |x| x - c)
    }

    /// `c - self`.
    #[must_use]
    pub fn rsub_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::ScalarSub(self.id), |x| c - x)
    }

    /// `self * c`.
    #[must_use]
    pub fn mul_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::MulScalar(self.id, c), |x| x * c)
    }

    /// `self / c`.
    #[must_use]
    pub fn div_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::DivScalar(self.id, c), |x| x / c)
    }

    /// `c / self`.
    #[must_use]
    pub fn rdiv_scalar(self, c: T) -> Self {
        self.unary_arith(ArithOp::ScalarDiv(self.id), |x| c / x)
    }

    /// `-self` (what the `Neg` impls call).
    pub(crate) fn negated(self) -> Self {
        self.unary_arith(ArithOp::Neg(self.id), |x| -x)
    }
}

impl<T: TapeFloat> ArithOp<T> {
    pub(crate) fn backward(
        &self,
        nodes: &[Node<'_, T>],
        out: &ArrayViewD<'_, T>,
        g: ArrayD<T>,
        grads: &mut Grads<T>,
    ) {
        let needs = |id: usize| nodes[id].requires_grad;
        let shape = |id: usize| nodes[id].value.shape();
        let value = |id: usize| nodes[id].value.view();
        match *self {
            // c = a + b  ⇒  ā += Σ_bcast c̄,  b̄ += Σ_bcast c̄
            ArithOp::Add(a, b) => fan_out(
                g,
                [needs(a), needs(b)],
                shape(a) == out.shape(),
                grads,
                |grads, i, g| {
                    let id = [a, b][i];
                    add_reduced(grads, id, g, shape(id));
                },
            ),
            // c = a − b  ⇒  ā += Σ_bcast c̄,  b̄ −= Σ_bcast c̄
            ArithOp::Sub(a, b) => fan_out(
                g,
                [needs(a), needs(b)],
                shape(a) == out.shape(),
                grads,
                |grads, i, g| {
                    let (id, sign) = [(a, T::one()), (b, -T::one())][i];
                    add_mapped(grads, id, g, &out.view(), shape(id), move |g, _| sign * g);
                },
            ),
            // c = a ∘ b  ⇒  ā += Σ_bcast c̄ ∘ b,  b̄ += Σ_bcast c̄ ∘ a
            ArithOp::Mul(a, b) => fan_out(
                g,
                [needs(a), needs(b)],
                shape(a) == out.shape(),
                grads,
                |grads, i, g| {
                    let (id, other) = [(a, b), (b, a)][i];
                    add_mapped(grads, id, g, &value(other), shape(id), |g, o| g * o);
                },
            ),
            // c = a / b  ⇒  ā += Σ_bcast c̄ / b,  b̄ += Σ_bcast −c̄ ∘ c / b
            ArithOp::Div(a, b) => fan_out(
                g,
                [needs(a), needs(b)],
                shape(a) == out.shape(),
                grads,
                |grads, i, g| {
                    if i == 0 {
                        add_mapped(grads, a, g, &value(b), shape(a), |g, b| g / b);
                    } else {
                        let q = ndarray::Zip::from(out)
                            .and_broadcast(&value(b))
                            .map_collect(|&c, &b| c / b);
                        add_mapped(grads, b, g, &q.view(), shape(b), |g, q| -g * q);
                    }
                },
            ),
            // c = −a  ⇒  ā −= c̄
            ArithOp::Neg(a) => grads.add_map_owned(a, g, out, |g, _| -g),
            // c = a + k  ⇒  ā += c̄
            ArithOp::AddScalar(a) => grads.add_owned(a, g),
            // c = k − a  ⇒  ā −= c̄
            ArithOp::ScalarSub(a) => grads.add_map_owned(a, g, out, |g, _| -g),
            // c = a·k  ⇒  ā += k c̄
            ArithOp::MulScalar(a, k) => grads.add_map_owned(a, g, out, |g, _| g * k),
            // c = a / k  ⇒  ā += c̄ / k
            ArithOp::DivScalar(a, k) => grads.add_map_owned(a, g, out, |g, _| g / k),
            // c = k / a  ⇒  ā += −c̄ ∘ c / a
            ArithOp::ScalarDiv(a) => {
                grads.add_map2_owned(a, g, out, &value(a), |g, c, x| -g * c / x);
            }
        }
    }
}

/// Hands the incoming gradient to the inputs that need it: when both do, a view to one and the
/// owned buffer to the other (preferably the input of the output's shape, which can then reuse
/// it), so at most one input pays for a copy.
fn fan_out<T: TapeFloat>(
    g: ArrayD<T>,
    needs: [bool; 2],
    first_has_output_shape: bool,
    grads: &mut Grads<T>,
    mut give: impl FnMut(&mut Grads<T>, usize, CowArray<'_, T, IxDyn>),
) {
    match needs {
        [true, true] => {
            let (viewer, owner) = if first_has_output_shape {
                (1, 0)
            } else {
                (0, 1)
            };
            give(grads, viewer, CowArray::from(g.view()));
            give(grads, owner, CowArray::from(g));
        }
        [true, false] => give(grads, 0, CowArray::from(g)),
        [false, true] => give(grads, 1, CowArray::from(g)),
        [false, false] => {}
    }
}

/// `adj[id] += unbroadcast(g)`.
fn add_reduced<T: TapeFloat>(
    grads: &mut Grads<T>,
    id: usize,
    g: CowArray<'_, T, IxDyn>,
    shape: &[usize],
) {
    if g.is_view() {
        grads.add_reduced_view(id, &g.view(), shape);
    } else {
        grads.add_reduced_owned(id, g.into_owned(), shape);
    }
}

/// `adj[id] += unbroadcast(f(g, x))`, reusing `g`'s buffer when it is owned and needs no
/// reduction. `x` broadcasts to `g`'s shape.
fn add_mapped<T: TapeFloat>(
    grads: &mut Grads<T>,
    id: usize,
    g: CowArray<'_, T, IxDyn>,
    x: &ArrayViewD<'_, T>,
    shape: &[usize],
    f: impl Fn(T, T) -> T,
) {
    if !g.is_view() && g.shape() == shape {
        grads.add_map_owned(id, g.into_owned(), x, f);
    } else {
        grads.add_map_view(id, &g.view(), x, shape, f);
    }
}
