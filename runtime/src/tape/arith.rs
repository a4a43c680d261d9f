//! `+ - * /` between tape values and arrays (with broadcasting), with scalars, and unary `-`:
//! forward and backward side by side. The `std::ops` impls live in `operators.rs`.

use ndarray::{ArrayD, ArrayViewD, CowArray, DimMax, Dimension, IxDyn, Zip};

use super::adjoints::Adjoints;
use super::cache;
use super::error::ShapeError;
use super::float::TapeFloat;
use super::graph::{Node, Op, Reads, Recorded, Tape};
use super::operand::Operand;
use super::shape::co_broadcast;
use super::var::Var;

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
pub(crate) enum Binary {
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
}

/// The operations with one tape operand and a scalar constant `k`.
#[derive(Clone, Copy)]
pub(crate) enum WithScalar {
    /// `a + k`
    Add,
    /// `a − k`
    Sub,
    /// `k − a`
    SubFrom,
    /// `a · k`
    Mul,
    /// `a / k`
    Div,
    /// `k / a`
    DivInto,
    /// `−a` (`k` unused)
    Neg,
}

impl WithScalar {
    fn op<T>(self, a: usize, k: T) -> ArithOp<T> {
        match self {
            WithScalar::Add | WithScalar::Sub => ArithOp::AddScalar(a),
            WithScalar::SubFrom => ArithOp::ScalarSub(a),
            WithScalar::Mul => ArithOp::MulScalar(a, k),
            WithScalar::Div => ArithOp::DivScalar(a, k),
            WithScalar::DivInto => ArithOp::ScalarDiv(a),
            WithScalar::Neg => ArithOp::Neg(a),
        }
    }
}

/// The dimensionality of `a ⊕ b` for `Var<D> ⊕ R`.
pub type Broadcast<D, R> = <D as DimMax<R>>::Output;

/// Records `a ⊕ b` with broadcasting, computing in place in an operand's buffer when the caller
/// gave it up and nothing else needs it (see [`Tape::reusable`]).
pub(crate) fn binary<'t, T: TapeFloat, E: Dimension>(
    tape: &'t Tape<'t, T>,
    a: Recorded,
    b: Recorded,
    kind: Binary,
) -> Result<Var<'t, T, E>, ShapeError> {
    let out_shape = {
        let nodes = tape.nodes();
        co_broadcast(kind.name(), &nodes[a.id].shape, &nodes[b.id].shape)?
    };
    let op = Op::Arith(kind.op(a.id, b.id));
    let reads = tape.reads_of(&op);
    // One loop per operation: a `match` inside the loop would keep it from vectorizing.
    let value = match kind {
        Binary::Add => binary_value(tape, a, b, &out_shape, &reads, |x, y| x + y),
        Binary::Sub => binary_value(tape, a, b, &out_shape, &reads, |x, y| x - y),
        Binary::Mul => binary_value(tape, a, b, &out_shape, &reads, |x, y| x * y),
        Binary::Div => binary_value(tape, a, b, &out_shape, &reads, |x, y| x / y),
    };
    Ok(tape.push(value, op, &[a.id, b.id]))
}

/// `f(a, b)` elementwise with broadcasting, in `a`'s or `b`'s buffer when it can be reused,
/// otherwise in a cached one.
fn binary_value<T: TapeFloat>(
    tape: &Tape<'_, T>,
    a: Recorded,
    b: Recorded,
    out_shape: &[usize],
    reads: &Reads,
    f: impl Fn(T, T) -> T,
) -> ArrayD<T> {
    let distinct = a.id != b.id;
    if let Some(mut buf) = tape.reusable(a, out_shape, reads).filter(|_| distinct) {
        let nodes = tape.values(&[b.id]);
        buf.zip_mut_with(&nodes[b.id].value, |x, &y| *x = f(*x, y));
        buf
    } else if let Some(mut buf) = tape.reusable(b, out_shape, reads).filter(|_| distinct) {
        let nodes = tape.values(&[a.id]);
        Zip::from(&mut buf)
            .and_broadcast(&*nodes[a.id].value)
            .for_each(|y, &x| *y = f(x, *y));
        buf
    } else {
        let nodes = tape.values(&[a.id, b.id]);
        let mut out = cache::scratch(out_shape);
        Zip::from(&mut out)
            .and_broadcast(&*nodes[a.id].value)
            .and_broadcast(&*nodes[b.id].value)
            .for_each(|o, &x, &y| *o = f(x, y));
        out
    }
}

/// Records `a ⊕ k` for a scalar `k`, in place when `a` was given up and nothing needs it.
pub(crate) fn with_scalar<'t, T: TapeFloat, E: Dimension>(
    tape: &'t Tape<'t, T>,
    a: Recorded,
    kind: WithScalar,
    k: T,
) -> Var<'t, T, E> {
    let op = Op::Arith(kind.op(a.id, k));
    let reads = tape.reads_of(&op);
    // One loop per operation, as in `binary`.
    let value = match kind {
        WithScalar::Add => scalar_value(tape, a, &reads, |x| x + k),
        WithScalar::Sub => scalar_value(tape, a, &reads, |x| x - k),
        WithScalar::SubFrom => scalar_value(tape, a, &reads, |x| k - x),
        WithScalar::Mul => scalar_value(tape, a, &reads, |x| x * k),
        WithScalar::Div => scalar_value(tape, a, &reads, |x| x / k),
        WithScalar::DivInto => scalar_value(tape, a, &reads, |x| k / x),
        WithScalar::Neg => scalar_value(tape, a, &reads, |x| -x),
    };
    tape.push(value, op, &[a.id])
}

/// `f(a)` elementwise, in `a`'s buffer when it can be reused, otherwise in a cached one.
fn scalar_value<T: TapeFloat>(
    tape: &Tape<'_, T>,
    a: Recorded,
    reads: &Reads,
    f: impl Fn(T) -> T,
) -> ArrayD<T> {
    let shape = tape.nodes()[a.id].shape.clone();
    match tape.reusable(a, &shape, reads) {
        Some(mut buf) => {
            buf.mapv_inplace(f);
            buf
        }
        None => cache::map(&tape.values(&[a.id])[a.id].value, f),
    }
}

macro_rules! try_binary_methods {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<R: Operand<'t, T>>(
            &self,
            rhs: R,
        ) -> Result<Var<'t, T, Broadcast<D, R::Dim>>, ShapeError>
        where
            D: DimMax<R::Dim>,
        {
            binary(self.tape, self.borrowed(), rhs.record(self.tape), Binary::$kind)
        }
    )*};
}

macro_rules! scalar_methods {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $name(&self, k: T) -> Self {
            with_scalar(self.tape, self.borrowed(), WithScalar::$kind, k)
        }
    )*};
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    try_binary_methods! {
        /// `self + rhs` with NumPy/ndarray broadcasting, or a [`ShapeError`] naming `add`.
        ///
        /// ```
        /// use ndarray::array;
        /// use symgrad::tape::Tape;
        ///
        /// let tape = Tape::new();
        /// let a = tape.watch(array![[1.0_f64, 2.0], [3.0, 4.0]]);
        /// let b = tape.watch(array![10.0, 20.0]); // broadcast over rows
        /// let c = a.try_add(&b).unwrap();
        /// assert_eq!(c.value(), array![[11.0, 22.0], [13.0, 24.0]]);
        /// assert_eq!(tape.gradient(&c.sum()).wrt(&b), array![2.0, 2.0]); // summed over rows
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

    scalar_methods! {
        /// `self + k` (what `v + k` and `k + v` record, for any float type).
        add_scalar => Add;
        /// `self - k`.
        sub_scalar => Sub;
        /// `k - self`.
        rsub_scalar => SubFrom;
        /// `self * k`.
        mul_scalar => Mul;
        /// `self / k`.
        div_scalar => Div;
        /// `k / self`.
        rdiv_scalar => DivInto;
    }
}

impl<T: TapeFloat> ArithOp<T> {
    /// The values the backward rule reads.
    pub(crate) fn reads(&self, requires: &dyn Fn(usize) -> bool) -> Reads {
        match *self {
            ArithOp::Add(..)
            | ArithOp::Sub(..)
            | ArithOp::Neg(_)
            | ArithOp::AddScalar(_)
            | ArithOp::ScalarSub(_)
            | ArithOp::MulScalar(..)
            | ArithOp::DivScalar(..) => Reads::none(),
            // ā needs b, b̄ needs a
            ArithOp::Mul(a, b) => {
                Reads::inputs([requires(b).then_some(a), requires(a).then_some(b)])
            }
            // ā needs b, b̄ needs b and c
            ArithOp::Div(a, b) => {
                Reads::inputs([(requires(a) || requires(b)).then_some(b)]).and_output(requires(b))
            }
            // ā needs a and c
            ArithOp::ScalarDiv(a) => Reads::inputs([Some(a)]).and_output(true),
        }
    }

    /// The backward rule for a uniform adjoint `c̄`, when it stays uniform (scalar ops);
    /// `false` when the op needs it as an array.
    pub(crate) fn backward_uniform(&self, c: T, grads: &mut Adjoints<T>) -> bool {
        match *self {
            // c = a + k  ⇒  ā += c̄
            ArithOp::AddScalar(a) => grads.add_fill(a, c),
            // c = k − a, c = −a  ⇒  ā −= c̄
            ArithOp::ScalarSub(a) | ArithOp::Neg(a) => grads.add_fill(a, -c),
            // c = a·k  ⇒  ā += k c̄
            ArithOp::MulScalar(a, k) => grads.add_fill(a, c * k),
            // c = a / k  ⇒  ā += c̄ / k
            ArithOp::DivScalar(a, k) => grads.add_fill(a, c / k),
            ArithOp::Add(..)
            | ArithOp::Sub(..)
            | ArithOp::Mul(..)
            | ArithOp::Div(..)
            | ArithOp::ScalarDiv(_) => return false,
        }
        true
    }

    /// `out` is this op's value: read only where [`reads`](ArithOp::reads) says so (otherwise
    /// a consumer may have reused its buffer).
    pub(crate) fn backward(
        &self,
        nodes: &[Node<'_, T>],
        out: &ArrayViewD<'_, T>,
        g: ArrayD<T>,
        grads: &mut Adjoints<T>,
    ) {
        let needs = |id: usize| nodes[id].requires_grad;
        let shape = |id: usize| nodes[id].shape.as_slice();
        let value = |id: usize| nodes[id].value.view();
        match *self {
            // c = a + b  ⇒  ā += Σ_bcast c̄,  b̄ += Σ_bcast c̄
            ArithOp::Add(a, b) => {
                let full = shape(a) == g.shape();
                fan_out(g, [needs(a), needs(b)], full, grads, |grads, i, g| {
                    let id = [a, b][i];
                    add_reduced(grads, id, g, shape(id), T::one());
                });
            }
            // c = a − b  ⇒  ā += Σ_bcast c̄,  b̄ −= Σ_bcast c̄
            ArithOp::Sub(a, b) => {
                let full = shape(a) == g.shape();
                fan_out(g, [needs(a), needs(b)], full, grads, |grads, i, g| {
                    let (id, sign) = [(a, T::one()), (b, -T::one())][i];
                    add_reduced(grads, id, g, shape(id), sign);
                });
            }
            // c = a ∘ b  ⇒  ā += Σ_bcast c̄ ∘ b,  b̄ += Σ_bcast c̄ ∘ a
            ArithOp::Mul(a, b) => {
                let full = shape(a) == g.shape();
                fan_out(g, [needs(a), needs(b)], full, grads, |grads, i, g| {
                    let (id, other) = [(a, b), (b, a)][i];
                    add_mapped(grads, id, g, &value(other), shape(id), |g, o| g * o);
                });
            }
            // c = a / b  ⇒  ā += Σ_bcast c̄ / b,  b̄ += Σ_bcast −c̄ ∘ c / b
            ArithOp::Div(a, b) => {
                let full = shape(a) == g.shape();
                fan_out(g, [needs(a), needs(b)], full, grads, |grads, i, g| {
                    if i == 0 {
                        add_mapped(grads, a, g, &value(b), shape(a), |g, b| g / b);
                    } else {
                        let mut q = cache::scratch(out.shape());
                        Zip::from(&mut q)
                            .and(out)
                            .and_broadcast(&value(b))
                            .for_each(|q, &c, &b| *q = c / b);
                        add_mapped(grads, b, g, &q.view(), shape(b), |g, q| -g * q);
                        cache::recycle(q);
                    }
                });
            }
            // c = −a  ⇒  ā −= c̄
            ArithOp::Neg(a) => grads.add_owned_mapped(a, g, |g| -g),
            // c = a + k  ⇒  ā += c̄
            ArithOp::AddScalar(a) => grads.add_owned(a, g),
            // c = k − a  ⇒  ā −= c̄
            ArithOp::ScalarSub(a) => grads.add_owned_mapped(a, g, |g| -g),
            // c = a·k  ⇒  ā += k c̄
            ArithOp::MulScalar(a, k) => grads.add_owned_mapped(a, g, |g| g * k),
            // c = a / k  ⇒  ā += c̄ / k
            ArithOp::DivScalar(a, k) => grads.add_owned_mapped(a, g, |g| g / k),
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
    grads: &mut Adjoints<T>,
    mut give: impl FnMut(&mut Adjoints<T>, usize, CowArray<'_, T, IxDyn>),
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
        [false, false] => cache::recycle(g),
    }
}

/// `adj[id] += sign · unbroadcast(g)` (`sign` is ±1).
fn add_reduced<T: TapeFloat>(
    grads: &mut Adjoints<T>,
    id: usize,
    g: CowArray<'_, T, IxDyn>,
    shape: &[usize],
    sign: T,
) {
    if sign == T::one() && !g.is_view() {
        grads.add_reduced_owned(id, g.into_owned(), shape);
    } else if sign == T::one() {
        grads.add_reduced_view(id, &g.view(), shape);
    } else if !g.is_view() && g.shape() == shape {
        grads.add_owned_mapped(id, g.into_owned(), |g| sign * g);
    } else {
        grads.add_map_view(id, &g.view(), &g.view(), shape, |g, _| sign * g);
        recycle_cow(g);
    }
}

/// `adj[id] += unbroadcast(f(g, x))`, reusing `g`'s buffer when it is owned and needs no
/// reduction. `x` broadcasts to `g`'s shape.
fn add_mapped<T: TapeFloat>(
    grads: &mut Adjoints<T>,
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
        recycle_cow(g);
    }
}

/// Gives `g`'s buffer back to the cache if it owns one.
fn recycle_cow<T: TapeFloat>(g: CowArray<'_, T, IxDyn>) {
    if !g.is_view() {
        cache::recycle(g.into_owned());
    }
}
