//! The tape itself: [`Tape`] records nodes (handed out as [`Var`]s), and [`Tape::gradient`]
//! runs the reverse sweep.
//!
//! Invariant: a node's inputs precede it on the tape (ids are increasing), so sweeping the ids
//! downwards visits every node after all of its consumers.

use std::cell::{Cell, Ref, RefCell};
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, ArrayRef, ArrayView1, CowArray, Dimension, IxDyn};

use super::adjoints::{Adjoints, Incoming};
use super::arith::ArithOp;
use super::cache::{self, Buffer};
use super::elementwise::{MapOver, SumOver, UnaryOp};
use super::float::TapeFloat;
use super::gradients::Gradients;
use super::linalg::LinalgOp;
use super::nn::NnOp;
use super::operand::IntoArray;
use super::reduce::ReduceOp;
use super::var::Var;

/// How a node was computed. Each family's forward and backward rules live in its own file.
pub(crate) enum Op<T> {
    /// A watched variable or a constant: the sweep stops here.
    Leaf,
    /// `+ - * /`, unary `-`, and the scalar forms (`arith.rs`).
    Arith(ArithOp<T>),
    /// `dot`, `t()` (`linalg.rs`).
    Linalg(LinalgOp),
    /// `sum`, `sum_axis`, `mean`, `mean_axis`, `insert_axis` (`reduce.rs`).
    Reduce(ReduceOp),
    /// Elementwise functions and `mapv` (`elementwise.rs`).
    Unary(UnaryOp<T>),
    /// softmax family and losses (`nn.rs`).
    Nn(NnOp),
}

/// A node's value: the caller's array read in place, a buffer the tape owns (which goes back
/// to the [`cache`] when the tape is dropped), or not computed yet.
pub(crate) enum Value<'t, T> {
    /// Always a view: an owned `CowArray` is stored as `Owned`.
    Borrowed(CowArray<'t, T, IxDyn>),
    Owned(Buffer<T>),
    /// An elementwise op's value, computed from its input when first read
    /// ([`Tape::values`]); the input's value is always there.
    Deferred,
}

impl<T> Deref for Value<'_, T> {
    type Target = ArrayRef<T, IxDyn>;
    fn deref(&self) -> &ArrayRef<T, IxDyn> {
        match self {
            Value::Borrowed(view) => view,
            Value::Owned(buffer) => buffer,
            Value::Deferred => panic!("internal error: a deferred value read before `values`"),
        }
    }
}

/// One recorded value: what it is, how it was computed, and whether a watched variable feeds it.
pub(crate) struct Node<'t, T> {
    /// The value. Emptied when an op that consumed the only handle reuses the buffer for its own
    /// output, which happens only when no backward rule reads it (`value_read`).
    pub(crate) value: Value<'t, T>,
    /// The value's shape (kept when the buffer is reused).
    pub(crate) shape: Vec<usize>,
    pub(crate) op: Op<T>,
    pub(crate) requires_grad: bool,
    /// A recorded backward rule reads this value, so its buffer must stay.
    pub(crate) value_read: Cell<bool>,
}

/// The values a backward rule reads: some inputs, and possibly the op's own output.
pub(crate) struct Reads {
    pub(crate) inputs: Vec<usize>,
    pub(crate) output: bool,
}

impl Reads {
    pub(crate) fn none() -> Self {
        Self {
            inputs: Vec::new(),
            output: false,
        }
    }

    pub(crate) fn inputs(inputs: impl IntoIterator<Item = Option<usize>>) -> Self {
        Self {
            inputs: inputs.into_iter().flatten().collect(),
            output: false,
        }
    }

    pub(crate) fn output() -> Self {
        Self {
            inputs: Vec::new(),
            output: true,
        }
    }

    pub(crate) fn and_output(mut self, output: bool) -> Self {
        self.output |= output;
        self
    }
}

impl<T: TapeFloat> Op<T> {
    /// What this op's backward rule reads, given which nodes need gradients.
    fn reads(&self, requires: &dyn Fn(usize) -> bool) -> Reads {
        match self {
            Op::Leaf | Op::Reduce(_) => Reads::none(),
            Op::Arith(op) => op.reads(requires),
            Op::Linalg(op) => op.reads(requires),
            Op::Unary(op) => op.reads(),
            Op::Nn(op) => op.reads(),
        }
    }
}

/// An operand as recorded on a tape: its node, and whether the caller gave up its handle (so
/// the op may reuse the buffer). Opaque; produced by [`Operand::record`](super::Operand::record).
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    pub(crate) id: usize,
    pub(crate) consumed: bool,
}

/// A reverse-mode tape: the role of `tf.GradientTape`, on `ndarray` arrays.
///
/// Watch the arrays you want gradients for ([`watch`](Tape::watch)), compute with the returned
/// [`Var`] handles (operators, methods, [`dot`](super::dot)), then call
/// [`gradient`](Tape::gradient) on the result. The tape is persistent: `gradient` can be called
/// several times, on several outputs.
///
/// The lifetime `'t` is that of the borrow of the tape; arrays watched or used as constants by
/// reference must outlive it (they are read in place, never copied).
///
/// ```
/// use ndarray::array;
/// use symgrad::tape::Tape;
///
/// let w_value = array![3.0_f64];
/// let tape = Tape::new();
/// let w = tape.watch(&w_value);
/// let cost = ((&w * 1.0 - 1.0).powi(2)).sum(); // (w·x − y)², x = y = 1
/// let grads = tape.gradient(&cost);
/// assert_eq!(grads.wrt(&w), array![4.0]); // 2x(xw − y)
/// ```
pub struct Tape<'t, T> {
    nodes: RefCell<Vec<Node<'t, T>>>,
    /// Distinguishes tapes, so a `Var` of one tape is never looked up in another's gradients.
    pub(crate) serial: u64,
}

/// The next tape's serial number.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(0);

impl<T> fmt::Debug for Tape<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes = self.nodes.try_borrow().map(|n| n.len()).ok();
        f.debug_struct("Tape")
            .field("nodes", &nodes)
            .field("serial", &self.serial)
            .finish()
    }
}

impl<T: TapeFloat> Default for Tape<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'t, T: TapeFloat> Tape<'t, T> {
    /// An empty tape.
    #[must_use]
    pub fn new() -> Self {
        Self {
            nodes: RefCell::new(Vec::new()),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Records a variable to differentiate with respect to.
    ///
    /// Accepts `&Array`/`&ArrayView` (read in place, no copy), an owned `Array` (moved in) or an
    /// `ArrayView`. The handle has the array's dimensionality: watching an `Array2` gives a
    /// `Var<'t, T, Ix2>` and a gradient of type `Array2<T>`.
    pub fn watch<A: IntoArray<'t, T>>(&'t self, value: A) -> Var<'t, T, A::Dim> {
        self.leaf(value, true)
    }

    /// Records a constant: it takes part in the computation but gets no gradient.
    ///
    /// Plain arrays can also be used directly as operands; this is for when a [`Var`] is
    /// needed (to call tape methods on data).
    pub fn constant<A: IntoArray<'t, T>>(&'t self, value: A) -> Var<'t, T, A::Dim> {
        self.leaf(value, false)
    }

    /// Number of recorded nodes (variables, constants and intermediate results).
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing has been recorded yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.borrow().is_empty()
    }

    /// Gradients of `output` with respect to every watched variable.
    ///
    /// `output` is normally a scalar (`Var<T, Ix0>`, as returned by `sum`, `mean`, `mse`, …).
    /// For a non-scalar output the gradient is that of the sum of its elements, as in
    /// `tf.GradientTape.gradient`.
    ///
    /// # Panics
    ///
    /// If `output` was recorded on another tape.
    #[must_use]
    pub fn gradient<D: Dimension>(&'t self, output: &Var<'t, T, D>) -> Gradients<T> {
        assert_same_tape(self, output.tape);
        let nodes = self.nodes.borrow();
        let mut grads = Adjoints::new(
            nodes[..=output.id]
                .iter()
                .map(|n| n.shape.clone())
                .collect(),
        );
        if nodes[output.id].requires_grad {
            grads.add_fill(output.id, T::one());
        }
        for id in (0..=output.id).rev() {
            let node = &nodes[id];
            if matches!(node.op, Op::Leaf) {
                continue;
            }
            if let Some(g) = grads.take(id) {
                backward(&nodes, node, g, &mut grads);
            }
        }
        Gradients::new(grads.into_slots(), self.serial)
    }

    pub(crate) fn leaf<A: IntoArray<'t, T>>(
        &'t self,
        value: A,
        requires_grad: bool,
    ) -> Var<'t, T, A::Dim> {
        let value = value.into_cow_array().into_dyn();
        let shape = value.shape().to_vec();
        let value = if value.is_view() {
            Value::Borrowed(value)
        } else {
            Value::Owned(Buffer::new(value.into_owned()))
        };
        let node = Node {
            value,
            shape,
            op: Op::Leaf,
            requires_grad,
            value_read: Cell::new(false),
        };
        self.push_node(node)
    }

    /// Records the result of `op`, whose inputs are `inputs`, marking the values its backward
    /// rule will read.
    pub(crate) fn push<E: Dimension>(
        &'t self,
        value: ArrayD<T>,
        op: Op<T>,
        inputs: &[usize],
    ) -> Var<'t, T, E> {
        debug_assert!(
            value.ndim() == E::NDIM.unwrap_or(value.ndim()),
            "internal error: op output rank"
        );
        let shape = value.shape().to_vec();
        self.record(Value::Owned(Buffer::new(value)), shape, op, inputs)
    }

    /// Records a new handle on the value of `input` (`Var::view`): the caller's array stays
    /// borrowed, a tape buffer is copied (it cannot be borrowed for the tape's lifetime).
    pub(crate) fn push_view<E: Dimension>(&'t self, input: usize, op: Op<T>) -> Var<'t, T, E> {
        let (value, shape) = {
            let nodes = self.values(&[input]);
            let node = &nodes[input];
            let value = match &node.value {
                Value::Borrowed(view) => Value::Borrowed(view.clone()),
                other => Value::Owned(Buffer::new(cache::copy(other))),
            };
            (value, node.shape.clone())
        };
        self.record(value, shape, op, &[input])
    }

    /// Records the elementwise op `op` of `input` without computing its value (see
    /// [`Value::Deferred`]); `input`'s value must be there, and stays: its buffer is never
    /// reused, even if no backward rule reads it.
    pub(crate) fn push_deferred<E: Dimension>(
        &'t self,
        shape: Vec<usize>,
        op: Op<T>,
        input: usize,
    ) -> Var<'t, T, E> {
        self.nodes.borrow()[input].value_read.set(true);
        self.record(Value::Deferred, shape, op, &[input])
    }

    fn record<E: Dimension>(
        &'t self,
        value: Value<'t, T>,
        shape: Vec<usize>,
        op: Op<T>,
        inputs: &[usize],
    ) -> Var<'t, T, E> {
        let (requires_grad, reads_output) = {
            let nodes = self.nodes.borrow();
            let requires_grad = inputs.iter().any(|&i| nodes[i].requires_grad);
            if requires_grad {
                let reads = op.reads(&|i| nodes[i].requires_grad);
                reads
                    .inputs
                    .iter()
                    .for_each(|&i| nodes[i].value_read.set(true));
                (true, reads.output)
            } else {
                (false, false)
            }
        };
        let node = Node {
            value,
            shape,
            op,
            requires_grad,
            value_read: Cell::new(reads_output),
        };
        self.push_node(node)
    }

    /// The buffer of `input` to compute an op's output in place, if that is safe: the caller
    /// gave up the only handle, the buffer is owned, no backward rule reads it (including the
    /// op about to be recorded, per `reads`), and it has the output's shape.
    pub(crate) fn reusable(
        &self,
        input: Recorded,
        out_shape: &[usize],
        reads: &Reads,
    ) -> Option<ArrayD<T>> {
        let mut nodes = self.nodes.borrow_mut();
        let node = &mut nodes[input.id];
        let usable = input.consumed
            && !node.value_read.get()
            && !reads.inputs.contains(&input.id)
            && matches!(node.value, Value::Owned(_))
            && node.shape == out_shape;
        if !usable {
            return None;
        }
        let empty = Value::Owned(Buffer::new(ArrayD::zeros(IxDyn(&[0]))));
        match std::mem::replace(&mut node.value, empty) {
            Value::Owned(buffer) => Some(buffer.into_inner()),
            Value::Borrowed(_) | Value::Deferred => None,
        }
    }

    /// What the backward rule of `op` will read (to decide whether an input buffer can be
    /// reused before recording it).
    pub(crate) fn reads_of(&self, op: &Op<T>) -> Reads {
        let nodes = self.nodes.borrow();
        op.reads(&|i| nodes[i].requires_grad)
    }

    fn push_node<E: Dimension>(&'t self, node: Node<'t, T>) -> Var<'t, T, E> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(node);
        Var::new(self, nodes.len() - 1)
    }

    /// The nodes, for reading shapes and flags. To read values, use [`values`](Tape::values).
    pub(crate) fn nodes(&self) -> Ref<'_, Vec<Node<'t, T>>> {
        self.nodes.borrow()
    }

    /// The nodes, with the values of `ids` computed if they were deferred: what forward rules
    /// and value accessors read values through.
    pub(crate) fn values(&self, ids: &[usize]) -> Ref<'_, Vec<Node<'t, T>>> {
        let deferred = {
            let nodes = self.nodes.borrow();
            ids.iter()
                .any(|&id| matches!(nodes[id].value, Value::Deferred))
        };
        if deferred {
            let mut nodes = self.nodes.borrow_mut();
            for &id in ids {
                if let (Value::Deferred, Op::Unary(op)) = (&nodes[id].value, &nodes[id].op) {
                    let value = op.forward(MapOver(&nodes[op.input()].value));
                    nodes[id].value = Value::Owned(Buffer::new(value));
                }
            }
        }
        self.nodes.borrow()
    }

    /// The sum of the elements of `id`, without computing the value if it is deferred.
    pub(crate) fn total(&self, id: usize) -> T {
        {
            let nodes = self.nodes.borrow();
            if let (Value::Deferred, Op::Unary(op)) = (&nodes[id].value, &nodes[id].op)
                && let Some(x) = nodes[op.input()].value.as_slice()
            {
                return op.forward(SumOver(x));
            }
        }
        self.values(&[id])[id].value.sum()
    }
}

/// Panics unless both references point at the same tape.
pub(crate) fn assert_same_tape<T>(a: &Tape<'_, T>, b: &Tape<'_, T>) {
    assert!(
        std::ptr::addr_eq(a, b),
        "symgrad tape: a value recorded on one tape was used with another tape"
    );
}

/// The one dispatch over op families; each family's `backward` is an exhaustive match with the
/// adjoint formulas.
fn backward<T: TapeFloat>(
    nodes: &[Node<'_, T>],
    node: &Node<'_, T>,
    g: Incoming<T>,
    grads: &mut Adjoints<T>,
) {
    let empty: [T; 0] = [];
    let out = match &node.value {
        // Deferred ops' rules read their input, never their output.
        Value::Deferred => ArrayView1::from(&empty[..]).into_dyn(),
        value => value.view(),
    };
    let g = match (&node.op, g) {
        // Elementwise rules take a uniform adjoint as it is (one pass instead of two).
        (Op::Unary(op), g) => return op.backward(nodes, &out, g, grads),
        (Op::Arith(op), Incoming::Uniform(c)) if op.backward_uniform(c, grads) => return,
        (_, Incoming::Uniform(c)) => cache::filled(node.shape.as_slice(), c),
        (_, Incoming::Array(g)) => g,
    };
    // Rules that take the adjoint by value move it on or give it back to the cache; the others
    // borrow it, and it goes back here.
    match &node.op {
        Op::Leaf | Op::Unary(_) => cache::recycle(g),
        Op::Arith(op) => op.backward(nodes, &out, g, grads),
        Op::Linalg(op) => {
            op.backward(nodes, &g, grads);
            cache::recycle(g);
        }
        Op::Reduce(op) => op.backward(nodes, g, grads),
        Op::Nn(op) => {
            op.backward(nodes, &out, &g, grads);
            cache::recycle(g);
        }
    }
}
