//! The adjoint accumulator used by the backward sweep.
//!
//! The first contribution to a node's adjoint is moved in (or computed in place in the incoming
//! gradient's buffer); later ones are added with `+=` or a fused [`Zip`], so no contribution is
//! copied just to be added. A uniform adjoint (what `sum` and `mean` send back) stays a single
//! number until something needs it as an array, so `x.powi(2).sum()` never fills an array of
//! ones.
//!
//! Adjoint buffers come from the [`cache`](super::cache), and a contribution that was added into
//! an existing adjoint (rather than moved in) goes back to it at once.

use ndarray::{ArrayD, ArrayViewD, Zip};

use super::cache;
use super::float::TapeFloat;
use super::shape::sum_to_shape;

/// The adjoint arriving at a node in the backward sweep.
pub(crate) enum Incoming<T> {
    /// An array of the node's shape.
    Array(ArrayD<T>),
    /// The same value at every element.
    Uniform(T),
}

/// One optional adjoint per tape node: an array, plus a pending uniform part. Adjoints still
/// here when it is dropped go back to the cache.
pub(crate) struct Adjoints<T: TapeFloat> {
    slots: Vec<Option<ArrayD<T>>>,
    uniform: Vec<Option<T>>,
    shapes: Vec<Vec<usize>>,
}

impl<T: TapeFloat> Adjoints<T> {
    /// Adjoints for nodes of the given shapes, all zero.
    pub(crate) fn new(shapes: Vec<Vec<usize>>) -> Self {
        Self {
            slots: shapes.iter().map(|_| None).collect(),
            uniform: shapes.iter().map(|_| None).collect(),
            shapes,
        }
    }

    /// Folds the pending uniform part of `adj[id]` into its array.
    fn settle(&mut self, id: usize) {
        if let Some(c) = self.uniform[id].take() {
            match &mut self.slots[id] {
                Some(acc) => acc.mapv_inplace(|a| a + c),
                slot @ None => *slot = Some(cache::filled(self.shapes[id].as_slice(), c)),
            }
        }
    }

    /// Removes and returns `adj[id]`, uniform when nothing but uniform parts arrived.
    pub(crate) fn take(&mut self, id: usize) -> Option<Incoming<T>> {
        if self.slots[id].is_none() {
            return self.uniform[id].take().map(Incoming::Uniform);
        }
        self.settle(id);
        self.slots[id].take().map(Incoming::Array)
    }

    pub(crate) fn into_slots(mut self) -> Vec<Option<ArrayD<T>>> {
        (0..self.slots.len()).for_each(|id| self.settle(id));
        std::mem::take(&mut self.slots)
    }

    /// `adj[id] += f(g, x)` elementwise for an incoming adjoint of either kind (`x` has the
    /// node's shape): the chain rule of elementwise functions.
    pub(crate) fn chain(
        &mut self,
        id: usize,
        g: Incoming<T>,
        x: &ArrayViewD<'_, T>,
        f: impl Fn(T, T) -> T,
    ) {
        match g {
            Incoming::Array(g) => self.add_map_owned(id, g, x, f),
            Incoming::Uniform(c) => {
                self.settle(id);
                match &mut self.slots[id] {
                    Some(acc) => Zip::from(acc).and(x).for_each(|a, &x| *a += f(c, x)),
                    slot @ None => *slot = Some(cache::map(x, |x| f(c, x))),
                }
            }
        }
    }

    /// `adj[id] += g`, moving `g` in when it is the first contribution.
    pub(crate) fn add_owned(&mut self, id: usize, g: ArrayD<T>) {
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => {
                *acc += &g;
                cache::recycle(g);
            }
            slot @ None => *slot = Some(g),
        }
    }

    /// `adj[id] += g` for a borrowed `g` (copied only when it is the first contribution).
    pub(crate) fn add_view(&mut self, id: usize, g: &ArrayViewD<'_, T>) {
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => *acc += g,
            slot @ None => *slot = Some(cache::copy(g)),
        }
    }

    /// `adj[id] += f(g)` elementwise, reusing `g`'s buffer for the first contribution.
    pub(crate) fn add_owned_mapped(&mut self, id: usize, mut g: ArrayD<T>, f: impl Fn(T) -> T) {
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => {
                acc.zip_mut_with(&g, |a, &g| *a += f(g));
                cache::recycle(g);
            }
            slot @ None => {
                g.mapv_inplace(f);
                *slot = Some(g);
            }
        }
    }

    /// `adj[id] += unbroadcast(g)` where the node has `shape`.
    pub(crate) fn add_reduced_owned(&mut self, id: usize, g: ArrayD<T>, shape: &[usize]) {
        if g.shape() == shape {
            self.add_owned(id, g);
        } else {
            self.add_owned(id, sum_to_shape(g.view(), shape).into_owned());
            cache::recycle(g);
        }
    }

    /// `adj[id] += unbroadcast(g)` for a borrowed `g`.
    pub(crate) fn add_reduced_view(&mut self, id: usize, g: &ArrayViewD<'_, T>, shape: &[usize]) {
        if g.shape() == shape {
            self.add_view(id, g);
        } else {
            self.add_owned(id, sum_to_shape(g.view(), shape).into_owned());
        }
    }

    /// `adj[id] += f(g, x)` elementwise, reusing `g`'s buffer for the first contribution.
    /// `x` has (or broadcasts to) `g`'s shape, which is the node's shape.
    pub(crate) fn add_map_owned(
        &mut self,
        id: usize,
        mut g: ArrayD<T>,
        x: &ArrayViewD<'_, T>,
        f: impl Fn(T, T) -> T,
    ) {
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => {
                Zip::from(acc)
                    .and(&g)
                    .and_broadcast(x)
                    .for_each(|a, &g, &x| *a += f(g, x));
                cache::recycle(g);
            }
            slot @ None => {
                Zip::from(&mut g)
                    .and_broadcast(x)
                    .for_each(|g, &x| *g = f(*g, x));
                *slot = Some(g);
            }
        }
    }

    /// `adj[id] += f(g, x, y)` elementwise, reusing `g`'s buffer for the first contribution.
    pub(crate) fn add_map2_owned(
        &mut self,
        id: usize,
        mut g: ArrayD<T>,
        x: &ArrayViewD<'_, T>,
        y: &ArrayViewD<'_, T>,
        f: impl Fn(T, T, T) -> T,
    ) {
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => {
                Zip::from(acc)
                    .and(&g)
                    .and(x)
                    .and(y)
                    .for_each(|a, &g, &x, &y| *a += f(g, x, y));
                cache::recycle(g);
            }
            slot @ None => {
                Zip::from(&mut g)
                    .and(x)
                    .and(y)
                    .for_each(|g, &x, &y| *g = f(*g, x, y));
                *slot = Some(g);
            }
        }
    }

    /// `adj[id] += unbroadcast(f(g, x))` for a borrowed `g`; `x` broadcasts to `g`'s shape and
    /// the node has `shape`. Fused into the accumulator when no reduction is needed.
    pub(crate) fn add_map_view(
        &mut self,
        id: usize,
        g: &ArrayViewD<'_, T>,
        x: &ArrayViewD<'_, T>,
        shape: &[usize],
        f: impl Fn(T, T) -> T,
    ) {
        self.settle(id);
        if g.shape() == shape
            && let Some(acc) = &mut self.slots[id]
        {
            Zip::from(acc)
                .and(g)
                .and_broadcast(x)
                .for_each(|a, &g, &x| *a += f(g, x));
            return;
        }
        let mut full = cache::scratch(g.shape());
        Zip::from(&mut full)
            .and(g)
            .and_broadcast(x)
            .for_each(|o, &g, &x| *o = f(g, x));
        self.add_reduced_owned(id, full, shape);
    }

    /// `adj[id] += k · broadcast(g)` where `g` broadcasts to the node's `shape` (the adjoint of
    /// an axis reduction).
    pub(crate) fn add_broadcast_scaled(
        &mut self,
        id: usize,
        g: &ArrayViewD<'_, T>,
        shape: &[usize],
        k: T,
    ) {
        let spread = g
            .broadcast(shape)
            .expect("internal error: reduction gradient broadcasts back");
        self.settle(id);
        match &mut self.slots[id] {
            Some(acc) => Zip::from(acc).and(&spread).for_each(|a, &g| *a += k * g),
            slot @ None => *slot = Some(cache::map(&spread, |g| k * g)),
        }
    }

    /// `adj[id] += c` at every element (the adjoint of a full reduction), kept as one number
    /// while nothing else arrives.
    pub(crate) fn add_fill(&mut self, id: usize, c: T) {
        match &mut self.slots[id] {
            Some(acc) => acc.mapv_inplace(|a| a + c),
            None => self.uniform[id] = Some(self.uniform[id].map_or(c, |u| u + c)),
        }
    }

    /// The adjoint of `id`, created as zeros of `shape` if absent, for in-place accumulation
    /// (`general_mat_mul` with `beta = 1`).
    pub(crate) fn slot_mut(&mut self, id: usize, shape: &[usize]) -> &mut ArrayD<T> {
        self.settle(id);
        self.slots[id].get_or_insert_with(|| cache::zeros(shape))
    }
}

impl<T: TapeFloat> Drop for Adjoints<T> {
    fn drop(&mut self) {
        self.slots.drain(..).flatten().for_each(cache::recycle);
    }
}
