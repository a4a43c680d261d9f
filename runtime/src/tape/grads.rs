//! The adjoint accumulator used by the backward sweep.
//!
//! The first contribution to a node's adjoint is moved in (or computed in place in the incoming
//! gradient's buffer); later ones are added with `+=` or a fused [`Zip`], so no contribution is
//! copied just to be added.

use ndarray::{ArrayD, ArrayViewD, Zip};

use super::float::TapeFloat;
use super::shape::{sum_owned_to_shape, sum_to_shape};

/// One optional adjoint per tape node.
pub(crate) struct Grads<T> {
    slots: Vec<Option<ArrayD<T>>>,
}

impl<T: TapeFloat> Grads<T> {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            slots: (0..len).map(|_| None).collect(),
        }
    }

    pub(crate) fn take(&mut self, id: usize) -> Option<ArrayD<T>> {
        self.slots[id].take()
    }

    pub(crate) fn into_slots(self) -> Vec<Option<ArrayD<T>>> {
        self.slots
    }

    /// `adj[id] += g`, moving `g` in when it is the first contribution.
    pub(crate) fn add_owned(&mut self, id: usize, g: ArrayD<T>) {
        match &mut self.slots[id] {
            Some(acc) => *acc += &g,
            slot @ None => *slot = Some(g),
        }
    }

    /// `adj[id] += g` for a borrowed `g` (copied only when it is the first contribution).
    pub(crate) fn add_view(&mut self, id: usize, g: &ArrayViewD<'_, T>) {
        match &mut self.slots[id] {
            Some(acc) => *acc += g,
            slot @ None => *slot = Some(g.to_owned()),
        }
    }

    /// `adj[id] += f(g)` elementwise, reusing `g`'s buffer for the first contribution.
    pub(crate) fn add_owned_mapped(&mut self, id: usize, mut g: ArrayD<T>, f: impl Fn(T) -> T) {
        match &mut self.slots[id] {
            Some(acc) => acc.zip_mut_with(&g, |a, &g| *a += f(g)),
            slot @ None => {
                g.mapv_inplace(f);
                *slot = Some(g);
            }
        }
    }

    /// `adj[id] += unbroadcast(g)` where the node has `shape`.
    pub(crate) fn add_reduced_owned(&mut self, id: usize, g: ArrayD<T>, shape: &[usize]) {
        self.add_owned(id, sum_owned_to_shape(g, shape));
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
        match &mut self.slots[id] {
            Some(acc) => Zip::from(acc)
                .and(&g)
                .and_broadcast(x)
                .for_each(|a, &g, &x| *a += f(g, x)),
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
        match &mut self.slots[id] {
            Some(acc) => Zip::from(acc)
                .and(&g)
                .and(x)
                .and(y)
                .for_each(|a, &g, &x, &y| *a += f(g, x, y)),
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
        if g.shape() == shape
            && let Some(acc) = &mut self.slots[id]
        {
            Zip::from(acc)
                .and(g)
                .and_broadcast(x)
                .for_each(|a, &g, &x| *a += f(g, x));
            return;
        }
        let full = Zip::from(g).and_broadcast(x).map_collect(|&g, &x| f(g, x));
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
        match &mut self.slots[id] {
            Some(acc) => Zip::from(acc).and(&spread).for_each(|a, &g| *a += k * g),
            slot @ None => *slot = Some(spread.mapv(|g| k * g)),
        }
    }

    /// `adj[id] += c` for every element of a node of `shape` (the adjoint of a full reduction).
    pub(crate) fn add_fill(&mut self, id: usize, c: T, shape: &[usize]) {
        match &mut self.slots[id] {
            Some(acc) => acc.mapv_inplace(|a| a + c),
            slot @ None => *slot = Some(ArrayD::from_elem(shape, c)),
        }
    }

    /// The adjoint of `id`, created as zeros of `shape` if absent, for in-place accumulation
    /// (`general_mat_mul` with `beta = 1`).
    pub(crate) fn slot_mut(&mut self, id: usize, shape: &[usize]) -> &mut ArrayD<T> {
        self.slots[id].get_or_insert_with(|| ArrayD::zeros(shape))
    }
}
