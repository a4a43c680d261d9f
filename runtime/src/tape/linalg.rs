//! `dot` (matrix·matrix, matrix·vector, vector·matrix, vector·vector) and transpose `t()`,
//! forward and backward side by side.

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{Array0, ArrayD, ArrayViewD, Axis, Dimension, Ix0, Ix1, Ix2, IxDyn};
use ndarray::{ArrayView2, ArrayViewMut2};

use super::adjoints::Adjoints;
use super::cache;
use super::error::ShapeError;
use super::float::TapeFloat;
use super::graph::{Node, Op, Reads};
use super::operand::Operand;
use super::var::Var;

/// Result dimensionality of `dot`, as in ndarray: Ix2·Ix2 → Ix2, Ix2·Ix1 → Ix1, Ix1·Ix2 → Ix1,
/// Ix1·Ix1 → Ix0 (a scalar).
pub trait DotDim<Rhs: Dimension>: Dimension {
    /// The product's dimensionality.
    type Product: Dimension;
}

impl DotDim<Ix2> for Ix2 {
    type Product = Ix2;
}
impl DotDim<Ix1> for Ix2 {
    type Product = Ix1;
}
impl DotDim<Ix2> for Ix1 {
    type Product = Ix1;
}
impl DotDim<Ix1> for Ix1 {
    type Product = Ix0;
}
/// Dynamic ranks: checked when the op runs (each side must have rank 1 or 2).
impl DotDim<IxDyn> for IxDyn {
    type Product = IxDyn;
}

/// Linear-algebra ops; fields are input node ids.
pub(crate) enum LinalgOp {
    /// `a.dot(b)` for the four rank combinations.
    Dot(usize, usize),
    /// `a.t()`: all axes reversed.
    Transpose(usize),
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    /// Matrix/vector product, like ndarray's `dot`; `rhs` may be a tape value or an array.
    ///
    /// ```
    /// use ndarray::array;
    /// use symgrad::tape::Tape;
    ///
    /// let (a, b) = (array![[1.0_f64, 2.0]], array![[3.0], [4.0]]);
    /// let tape = Tape::new();
    /// let (a_var, b_var) = (tape.watch(&a), tape.watch(&b));
    /// let c = a_var.dot(&b_var);
    /// assert_eq!(c.value(), array![[11.0]]);
    /// let grads = tape.gradient(&c.sum());
    /// assert_eq!(grads.wrt(&a_var), array![[3.0, 4.0]]); // G·Bᵀ
    /// assert_eq!(grads.wrt(&b_var), array![[1.0], [2.0]]); // Aᵀ·G
    /// ```
    ///
    /// # Panics
    ///
    /// If the inner lengths differ (the [`ShapeError`] message).
    #[must_use]
    pub fn dot<R: Operand<'t, T>>(&self, rhs: R) -> Var<'t, T, D::Product>
    where
        D: DotDim<R::Dim>,
    {
        self.try_dot(rhs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`dot`](Var::dot), returning a [`ShapeError`] instead of panicking.
    pub fn try_dot<R: Operand<'t, T>>(&self, rhs: R) -> Result<Var<'t, T, D::Product>, ShapeError>
    where
        D: DotDim<R::Dim>,
    {
        let rhs = rhs.record(self.tape);
        let value = {
            let nodes = self.tape.values(&[self.id, rhs.id]);
            dot_forward(&nodes[self.id].value.view(), &nodes[rhs.id].value.view())?
        };
        let op = Op::Linalg(LinalgOp::Dot(self.id, rhs.id));
        Ok(self.tape.push(value, op, &[self.id, rhs.id]))
    }

    /// Transpose (all axes reversed), like ndarray's `t()`.
    #[must_use]
    pub fn t(&self) -> Self {
        // The transpose of a row-major copy: a column-major array, copied in memory order.
        let value = cache::copy(&self.tape.values(&[self.id])[self.id].value).reversed_axes();
        self.tape
            .push(value, Op::Linalg(LinalgOp::Transpose(self.id)), &[self.id])
    }
}

fn dot_forward<T: TapeFloat>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>, ShapeError> {
    let error = || ShapeError::new("dot", a.shape(), b.shape());
    let inner_ok = match (a.ndim(), b.ndim()) {
        (1 | 2, 1 | 2) => a.shape()[a.ndim() - 1] == b.shape()[0],
        _ => false,
    };
    if !inner_ok {
        return Err(error());
    }
    let (one, zero) = (T::one(), T::zero());
    Ok(match (a.ndim(), b.ndim()) {
        (2, 2) => {
            let mut c = cache::scratch(&[a.shape()[0], b.shape()[1]]);
            mat_mul(one, &as2(a), &as2(b), zero, as2_mut(&mut c));
            c
        }
        (2, 1) => {
            let mut c = cache::scratch(&[a.shape()[0]]);
            general_mat_vec_mul(one, &as2(a), &as1(b), zero, &mut as1_mut(&mut c));
            c
        }
        // u·B = Bᵀ·u
        (1, 2) => {
            let mut c = cache::scratch(&[b.shape()[1]]);
            general_mat_vec_mul(one, &as2(b).t(), &as1(a), zero, &mut as1_mut(&mut c));
            c
        }
        _ => Array0::from_elem((), as1(a).dot(&as1(b))).into_dyn(),
    })
}

/// `c = α a·b + β c` for matrices, computed as `cᵀ = α bᵀ·aᵀ + β cᵀ` when `c` has more columns
/// than rows: `matrixmultiply` is faster on tall outputs. Measured: W3's ∂(Wᵀ) = Xᵀ Ḡ (100 × 443)
/// 3–6 % faster transposed; W4's ∂W = Xᵀ Ḡ (784 × 10) 35–40 % slower transposed.
fn mat_mul<T: TapeFloat>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) {
    if c.ncols() > c.nrows() {
        general_mat_mul(alpha, &b.t(), &a.t(), beta, &mut c.reversed_axes());
    } else {
        general_mat_mul(alpha, a, b, beta, &mut c);
    }
}

fn as2<'a, T>(v: &ArrayViewD<'a, T>) -> ndarray::ArrayView2<'a, T> {
    v.clone()
        .into_dimensionality()
        .expect("internal error: dot operand is a matrix")
}

fn as1<'a, T>(v: &ArrayViewD<'a, T>) -> ndarray::ArrayView1<'a, T> {
    v.clone()
        .into_dimensionality()
        .expect("internal error: dot operand is a vector")
}

impl LinalgOp {
    /// The values the backward rule reads.
    pub(crate) fn reads(&self, requires: &dyn Fn(usize) -> bool) -> Reads {
        match *self {
            // Ā needs B, B̄ needs A
            LinalgOp::Dot(a, b) => {
                Reads::inputs([requires(b).then_some(a), requires(a).then_some(b)])
            }
            LinalgOp::Transpose(_) => Reads::none(),
        }
    }

    pub(crate) fn backward<T: TapeFloat>(
        &self,
        nodes: &[Node<'_, T>],
        g: &ArrayD<T>,
        grads: &mut Adjoints<T>,
    ) {
        match *self {
            // C = A·B  ⇒  Ā += C̄·Bᵀ,  B̄ += Aᵀ·C̄ (and the rank-1 forms of the same rule)
            LinalgOp::Dot(a, b) => dot_backward(nodes, a, b, &g.view(), grads),
            // C = Aᵀ  ⇒  Ā += C̄ᵀ
            LinalgOp::Transpose(a) => {
                if nodes[a].requires_grad {
                    grads.add_view(a, &g.t());
                }
            }
        }
    }
}

fn dot_backward<T: TapeFloat>(
    nodes: &[Node<'_, T>],
    a: usize,
    b: usize,
    g: &ArrayViewD<'_, T>,
    grads: &mut Adjoints<T>,
) {
    // Each side reads only the other side's value (marked by `reads`); shapes are always kept.
    let (av, bv) = (nodes[a].value.view(), nodes[b].value.view());
    let ranks = (nodes[a].shape.len(), nodes[b].shape.len());
    let one = T::one();
    if nodes[a].requires_grad {
        let slot = grads.slot_mut(a, &nodes[a].shape);
        match ranks {
            // C = A·B: Ā += C̄·Bᵀ
            (2, 2) => mat_mul(one, &as2(g), &as2(&bv).t(), one, as2_mut(slot)),
            // c = A·v: Ā += c̄ ⊗ v
            (2, 1) => general_mat_mul(one, &col(g), &row(&bv), one, &mut as2_mut(slot)),
            // c = u·A: ū += A·c̄
            (1, 2) => general_mat_vec_mul(one, &as2(&bv), &as1(g), one, &mut as1_mut(slot)),
            // s = u·v: ū += s̄·v
            _ => slot.scaled_add(g.first().copied().unwrap_or_else(T::zero), &bv),
        }
    }
    if nodes[b].requires_grad {
        let slot = grads.slot_mut(b, &nodes[b].shape);
        match ranks {
            // C = A·B: B̄ += Aᵀ·C̄
            (2, 2) => mat_mul(one, &as2(&av).t(), &as2(g), one, as2_mut(slot)),
            // c = A·v: v̄ += Aᵀ·c̄
            (2, 1) => general_mat_vec_mul(one, &as2(&av).t(), &as1(g), one, &mut as1_mut(slot)),
            // c = u·A: Ā += u ⊗ c̄
            (1, 2) => general_mat_mul(one, &col(&av), &row(g), one, &mut as2_mut(slot)),
            // s = u·v: v̄ += s̄·u
            _ => slot.scaled_add(g.first().copied().unwrap_or_else(T::zero), &av),
        }
    }
}

/// A vector as an n×1 matrix.
fn col<'a, T>(v: &ArrayViewD<'a, T>) -> ndarray::ArrayView2<'a, T> {
    as1(v).insert_axis(Axis(1))
}

/// A vector as a 1×n matrix.
fn row<'a, T>(v: &ArrayViewD<'a, T>) -> ndarray::ArrayView2<'a, T> {
    as1(v).insert_axis(Axis(0))
}

fn as2_mut<T>(a: &mut ArrayD<T>) -> ndarray::ArrayViewMut2<'_, T> {
    a.view_mut()
        .into_dimensionality()
        .expect("internal error: matrix gradient")
}

fn as1_mut<T>(a: &mut ArrayD<T>) -> ndarray::ArrayViewMut1<'_, T> {
    a.view_mut()
        .into_dimensionality()
        .expect("internal error: vector gradient")
}
