//! Neural-network helpers: `softmax`, `log_softmax`, `log_sum_exp` along an axis (numerically
//! stable), `mse`, and `cross_entropy_with_logits`: forward and backward side by side, with
//! matrix-level rules (no scalarised graph).

use ndarray::{
    Array0, ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, Axis, Dimension, Ix0, Ix2, RemoveAxis,
    Zip,
};

use super::adjoints::Adjoints;
use super::cache;
use super::error::{AxisError, ShapeError};
use super::float::{TapeFloat, from_usize};
use super::graph::{Node, Op, Reads};
use super::operand::Operand;
use super::var::Var;

/// Neural-network ops; `usize` fields are input node ids.
pub(crate) enum NnOp {
    Softmax(usize, Axis),
    LogSoftmax(usize, Axis),
    LogSumExp(usize, Axis),
    /// `mean((a − b)²)`.
    Mse(usize, usize),
    /// `−mean_rows(Σ_j targets ∘ log_softmax(logits))`: (logits, targets).
    CrossEntropy(usize, usize),
}

/// max over a lane (−∞ for an empty lane).
fn lane_max<T: TapeFloat>(x: &ArrayView1<'_, T>) -> T {
    x.fold(T::neg_infinity(), |m, &v| m.max(v))
}

/// log Σ eˣ over a lane, shifted by the max so no term overflows.
fn lane_log_sum_exp<T: TapeFloat>(x: &ArrayView1<'_, T>) -> T {
    let m = lane_max(x);
    if !m.is_finite() {
        return m;
    }
    m + x.fold(T::zero(), |s, &v| s + (v - m).exp()).ln()
}

/// `y = softmax(x)` over one lane.
fn lane_softmax<T: TapeFloat>(x: &ArrayView1<'_, T>, mut y: ArrayViewMut1<'_, T>) {
    let m = lane_max(x);
    y.zip_mut_with(x, |y, &x| *y = (x - m).exp());
    let total = y.sum();
    y.mapv_inplace(|v| v / total);
}

/// `y = log_softmax(x) = x − log_sum_exp(x)` over one lane.
fn lane_log_softmax<T: TapeFloat>(x: &ArrayView1<'_, T>, mut y: ArrayViewMut1<'_, T>) {
    let lse = lane_log_sum_exp(x);
    y.zip_mut_with(x, |y, &x| *y = x - lse);
}

fn along_axis<T: TapeFloat>(
    x: &ArrayViewD<'_, T>,
    axis: Axis,
    f: impl Fn(&ArrayView1<'_, T>, ArrayViewMut1<'_, T>),
) -> ArrayD<T> {
    let mut y = cache::zeros(x.shape());
    Zip::from(x.lanes(axis))
        .and(y.lanes_mut(axis))
        .for_each(|x, y| f(&x, y));
    y
}

fn scalar_value<T: TapeFloat>(v: T) -> ArrayD<T> {
    Array0::from_elem((), v).into_dyn()
}

impl<'t, T: TapeFloat, D: Dimension> Var<'t, T, D> {
    fn along<E: Dimension>(
        &self,
        op: &'static str,
        axis: Axis,
        make: impl FnOnce(&ArrayViewD<'_, T>) -> ArrayD<T>,
        record: NnOp,
    ) -> Result<Var<'t, T, E>, AxisError> {
        let value = {
            let nodes = self.tape.values(&[self.id]);
            let x = nodes[self.id].value.view();
            AxisError::check(op, axis.index(), x.shape())?;
            make(&x)
        };
        Ok(self.tape.push(value, Op::Nn(record), &[self.id]))
    }

    /// softmax along `axis`: `exp(x − max) / Σ exp(x − max)`, as `tf.nn.softmax(x, axis)`.
    ///
    /// # Panics
    ///
    /// If `axis` is out of bounds (the [`AxisError`] message); see
    /// [`try_softmax`](Var::try_softmax).
    #[must_use]
    pub fn softmax(&self, axis: Axis) -> Self {
        self.try_softmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`softmax`](Var::softmax), returning an [`AxisError`] instead of panicking.
    pub fn try_softmax(&self, axis: Axis) -> Result<Self, AxisError> {
        self.along(
            "softmax",
            axis,
            |x| along_axis(x, axis, lane_softmax),
            NnOp::Softmax(self.id, axis),
        )
    }

    /// log-softmax along `axis`: `x − log_sum_exp(x)`, computed stably.
    ///
    /// # Panics
    ///
    /// If `axis` is out of bounds (the [`AxisError`] message); see
    /// [`try_log_softmax`](Var::try_log_softmax).
    #[must_use]
    pub fn log_softmax(&self, axis: Axis) -> Self {
        self.try_log_softmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`log_softmax`](Var::log_softmax), returning an [`AxisError`] instead of panicking.
    pub fn try_log_softmax(&self, axis: Axis) -> Result<Self, AxisError> {
        self.along(
            "log_softmax",
            axis,
            |x| along_axis(x, axis, lane_log_softmax),
            NnOp::LogSoftmax(self.id, axis),
        )
    }

    /// `log Σ exp(x)` along `axis` (removing it), shifted by the max so nothing overflows.
    ///
    /// # Panics
    ///
    /// If `axis` is out of bounds (the [`AxisError`] message); see
    /// [`try_log_sum_exp`](Var::try_log_sum_exp).
    #[must_use]
    pub fn log_sum_exp(&self, axis: Axis) -> Var<'t, T, D::Smaller>
    where
        D: RemoveAxis,
    {
        self.try_log_sum_exp(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`log_sum_exp`](Var::log_sum_exp), returning an [`AxisError`] instead of panicking.
    pub fn try_log_sum_exp(&self, axis: Axis) -> Result<Var<'t, T, D::Smaller>, AxisError>
    where
        D: RemoveAxis,
    {
        let make = |x: &ArrayViewD<'_, T>| {
            Zip::from(x.lanes(axis)).map_collect(|lane| lane_log_sum_exp(&lane))
        };
        self.along("log_sum_exp", axis, make, NnOp::LogSumExp(self.id, axis))
    }

    /// Mean squared error `mean((self − target)²)` over all elements; `target` may be a tape
    /// value or an array of the same shape.
    ///
    /// For a batch of rows this is seed 002's `tf.reduce_mean(tf.losses.MSE(y, p))` (MSE
    /// averages each row, then the rows are averaged: the same as averaging every element).
    ///
    /// # Panics
    ///
    /// If the shapes differ (the [`ShapeError`] message); see [`try_mse`](Var::try_mse).
    #[must_use]
    pub fn mse<R: Operand<'t, T, Dim = D>>(&self, target: R) -> Var<'t, T, Ix0> {
        self.try_mse(target).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`mse`](Var::mse), returning a [`ShapeError`] instead of panicking. No broadcasting: the
    /// shapes must be equal.
    pub fn try_mse<R: Operand<'t, T, Dim = D>>(
        &self,
        target: R,
    ) -> Result<Var<'t, T, Ix0>, ShapeError> {
        let target = target.record(self.tape);
        let value = {
            let nodes = self.tape.values(&[self.id, target.id]);
            let (a, b) = (&*nodes[self.id].value, &*nodes[target.id].value);
            if a.shape() != b.shape() {
                return Err(ShapeError::new("mse", a.shape(), b.shape()));
            }
            let total = Zip::from(a)
                .and(b)
                .fold(T::zero(), |s, &a, &b| s + (a - b) * (a - b));
            scalar_value(total / from_usize(a.len()))
        };
        Ok(self.tape.push(
            value,
            Op::Nn(NnOp::Mse(self.id, target.id)),
            &[self.id, target.id],
        ))
    }
}

impl<'t, T: TapeFloat> Var<'t, T, Ix2> {
    /// Mean over rows of the cross-entropy between `targets` (one-hot or probability rows) and
    /// `softmax(self)` along axis 1: `−(1/n) Σᵢ Σⱼ yᵢⱼ log_softmax(z)ᵢⱼ`, as
    /// `tf.reduce_mean(tf.losses.categorical_crossentropy(y, z, from_logits=True))`.
    ///
    /// The backward rule is the textbook `(softmax(z) − y) / n` for one-hot rows.
    ///
    /// # Panics
    ///
    /// If the shapes differ (the [`ShapeError`] message); see
    /// [`try_cross_entropy_with_logits`](Var::try_cross_entropy_with_logits).
    #[must_use]
    pub fn cross_entropy_with_logits<R: Operand<'t, T, Dim = Ix2>>(
        &self,
        targets: R,
    ) -> Var<'t, T, Ix0> {
        self.try_cross_entropy_with_logits(targets)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`cross_entropy_with_logits`](Var::cross_entropy_with_logits), returning a
    /// [`ShapeError`] instead of panicking.
    pub fn try_cross_entropy_with_logits<R: Operand<'t, T, Dim = Ix2>>(
        &self,
        targets: R,
    ) -> Result<Var<'t, T, Ix0>, ShapeError> {
        let targets = targets.record(self.tape);
        let value = {
            let nodes = self.tape.values(&[self.id, targets.id]);
            let (z, y) = (nodes[self.id].value.view(), nodes[targets.id].value.view());
            if z.shape() != y.shape() {
                return Err(ShapeError::new(
                    "cross_entropy_with_logits",
                    z.shape(),
                    y.shape(),
                ));
            }
            let total =
                Zip::from(z.lanes(Axis(1)))
                    .and(y.lanes(Axis(1)))
                    .fold(T::zero(), |s, z, y| {
                        let lse = lane_log_sum_exp(&z);
                        s + Zip::from(&z)
                            .and(&y)
                            .fold(T::zero(), |t, &z, &y| t + y * (lse - z))
                    });
            scalar_value(total / from_usize(z.shape()[0]))
        };
        let op = Op::Nn(NnOp::CrossEntropy(self.id, targets.id));
        Ok(self.tape.push(value, op, &[self.id, targets.id]))
    }
}

impl NnOp {
    /// The values the backward rule reads.
    pub(crate) fn reads(&self) -> Reads {
        match *self {
            NnOp::Softmax(..) | NnOp::LogSoftmax(..) => Reads::output(),
            NnOp::LogSumExp(a, _) => Reads::inputs([Some(a)]).and_output(true),
            NnOp::Mse(a, b) | NnOp::CrossEntropy(a, b) => Reads::inputs([Some(a), Some(b)]),
        }
    }

    pub(crate) fn backward<T: TapeFloat>(
        &self,
        nodes: &[Node<'_, T>],
        out: &ArrayViewD<'_, T>,
        g: &ArrayD<T>,
        grads: &mut Adjoints<T>,
    ) {
        let value = |id: usize| nodes[id].value.view();
        let scalar = || g.first().copied().unwrap_or_else(T::zero);
        match *self {
            // y = softmax(x)  ⇒  x̄ += y ∘ (ȳ − Σ_axis ȳ∘y)
            NnOp::Softmax(a, axis) => {
                let acc = grads.slot_mut(a, out.shape());
                Zip::from(acc.lanes_mut(axis))
                    .and(g.lanes(axis))
                    .and(out.lanes(axis))
                    .for_each(|mut acc, g, y| {
                        let dot = g.dot(&y);
                        Zip::from(&mut acc)
                            .and(&g)
                            .and(&y)
                            .for_each(|a, &g, &y| *a += y * (g - dot));
                    });
            }
            // y = x − lse(x)  ⇒  x̄ += ȳ − exp(y) Σ_axis ȳ
            NnOp::LogSoftmax(a, axis) => {
                let acc = grads.slot_mut(a, out.shape());
                Zip::from(acc.lanes_mut(axis))
                    .and(g.lanes(axis))
                    .and(out.lanes(axis))
                    .for_each(|mut acc, g, y| {
                        let total = g.sum();
                        Zip::from(&mut acc)
                            .and(&g)
                            .and(&y)
                            .for_each(|a, &g, &y| *a += g - y.exp() * total);
                    });
            }
            // s = lse_axis(x)  ⇒  x̄ += s̄ ∘ exp(x − s)  (s̄, s broadcast along axis)
            NnOp::LogSumExp(a, axis) => {
                let x = value(a);
                let acc = grads.slot_mut(a, x.shape());
                Zip::from(acc.lanes_mut(axis))
                    .and(x.lanes(axis))
                    .and(g)
                    .and(out)
                    .for_each(|mut acc, x, &g, &s| {
                        acc.zip_mut_with(&x, |a, &x| *a += g * (x - s).exp());
                    });
            }
            // m = mean((a − b)²)  ⇒  ā += 2 m̄ (a − b) / n,  b̄ −= 2 m̄ (a − b) / n
            NnOp::Mse(a, b) => {
                let (av, bv) = (value(a), value(b));
                let k = (scalar() + scalar()) / from_usize(av.len());
                for (id, sign) in [(a, T::one()), (b, -T::one())] {
                    if nodes[id].requires_grad {
                        let acc = grads.slot_mut(id, av.shape());
                        Zip::from(acc)
                            .and(&av)
                            .and(&bv)
                            .for_each(|acc, &a, &b| *acc += sign * k * (a - b));
                    }
                }
            }
            // L = −(1/n) Σ y ∘ log_softmax(z)  ⇒  z̄ += L̄/n (softmax(z) Σ_j y − y),  ȳ −= L̄/n log_softmax(z)
            NnOp::CrossEntropy(z, y) => {
                let (zv, yv) = (value(z), value(y));
                let k = scalar() / from_usize(zv.shape()[0]);
                if nodes[z].requires_grad {
                    let acc = grads.slot_mut(z, zv.shape());
                    Zip::from(acc.lanes_mut(Axis(1)))
                        .and(zv.lanes(Axis(1)))
                        .and(yv.lanes(Axis(1)))
                        .for_each(|mut acc, z, y| {
                            let (lse, mass) = (lane_log_sum_exp(&z), y.sum());
                            Zip::from(&mut acc)
                                .and(&z)
                                .and(&y)
                                .for_each(|a, &z, &y| *a += k * ((z - lse).exp() * mass - y));
                        });
                }
                if nodes[y].requires_grad {
                    let acc = grads.slot_mut(y, yv.shape());
                    Zip::from(acc.lanes_mut(Axis(1)))
                        .and(zv.lanes(Axis(1)))
                        .for_each(|mut acc, z| {
                            let lse = lane_log_sum_exp(&z);
                            acc.zip_mut_with(&z, |a, &z| *a -= k * (z - lse));
                        });
                }
            }
        }
    }
}
