//! Reads of a carried array's own stretch, taken from the array's value before the loop.
//!
//! A loop that replaces a stretch of an array it carries in each iteration, where the
//! stretches of two iterations never overlap, and that reads the array (as it was at the start
//! of the iteration) only inside the iteration's own stretch, reads there what no earlier
//! iteration wrote: the array's value before the loop. ADBench's LSTM is written that way, its
//! layers each updating their stretch of `hidden` and `cell`:
//!
//! ```text
//! for ly in 0..l {                                    // Coupled { parts: [h0, …, h'] }
//!     for i in 0..b {                                 //   h' = [if s ≤ j < s + b { new[j − s] }
//!         hidden[b * ly + i] = f(hidden[b * ly + i]); //         else { h[j] } for j in 0..n]
//!     }                                               //   new = [f(h[s + i]) for i in 0..b]
//! }                                                   //   s = b·ly
//! ```
//!
//! This pass rewrites the reads `h[s + i]` (of the member's value at the start of the
//! iteration, `Carry`) into `h0[s + i]` (of its initial value): the same number in every
//! iteration, so the same function of the inputs, derivatives included. The loop then reads
//! the member only to keep the elements outside the stretch, so its reverse sweep keeps no row
//! of it per iteration (`n·len` floats: `l²·b` per time step of the LSTM, `l` rows of `l·b`),
//! and the reads' adjoints go to the initial value's, element by element, where the carried
//! adjoint would have passed them on unchanged.
//!
//! The conditions, each checked on the graph, for member `d` of a `Coupled` recurrence over
//! loop `v`:
//! - its new value is an in-place patch (`Schedule::in_place_patch`'s shape): `[if lo ≤ j <
//!   hi { w[j − lo] } else { d[j] }]`;
//! - the stretches are disjoint: `lo = m·v` or `m·v + c`, `hi = lo + m`, `m` and `c` not
//!   changing with `v` (so iteration `v` owns `m·v + c .. m·(v + 1) + c`);
//! - every other use of the member's value in the loop's bodies is its length or an element at
//!   `lo + u`, `u` the index of a loop over `0..m` (inside the stretch).

use std::collections::HashMap;

use crate::graph::{Graph, IntOp, NodeId, Op};

/// Rewrites, in the graph reachable from `roots`, the reads of carried arrays' own stretches
/// into reads of their initial values (see the module docs). Returns what each node rebuilt
/// became (empty if nothing was rewritten); nodes not in it are unchanged.
pub fn read_from_initial_values(g: &mut Graph, roots: &[NodeId]) -> HashMap<NodeId, NodeId> {
    let mut all = HashMap::new();
    let mut roots = roots.to_vec();
    // One recurrence at a time: its reads' new nodes may be rewritten by the next.
    while let Some(reads) = next_rewrite(g, &roots) {
        let memo = g.rebuild(&roots, &reads);
        // Loop bounds and carried lengths are kept as nodes by the graph: leave everything as
        // it was if one of them would change (an index reading a float element).
        if changes_bookkeeping(g, &memo) {
            return HashMap::new();
        }
        for r in &mut roots {
            *r = memo.get(r).copied().unwrap_or(*r);
        }
        for v in all.values_mut() {
            *v = memo.get(v).copied().unwrap_or(*v);
        }
        for (k, v) in memo {
            all.entry(k).or_insert(v);
        }
    }
    all
}

/// The reads of the first recurrence with a member whose stretch reads can be rewritten, each
/// mapped to its replacement.
fn next_rewrite(g: &mut Graph, roots: &[NodeId]) -> Option<HashMap<NodeId, NodeId>> {
    for n in g.reachable(roots) {
        let Op::Coupled { c, v, .. } = *g.op(n) else {
            continue;
        };
        let (inits, bodies) = g.coupled_parts(n)?;
        let (inits, bodies) = (inits.to_vec(), bodies.to_vec());
        for (d, (init, body)) in (c..).zip(inits.iter().zip(&bodies)) {
            let Some(reads) = stretch_reads(g, (d, v), *body, &bodies) else {
                continue;
            };
            if reads.is_empty() {
                continue;
            }
            let map = reads
                .into_iter()
                .map(|(read, at)| (read, g.add(Op::At(*init, at))))
                .collect();
            return Some(map);
        }
    }
    None
}

/// The reads `At(carry, at)` of member `d` of a recurrence over loop `v` in `bodies` (every
/// member's new value), with their index, if `body` (member `d`'s) is a patch of disjoint
/// stretches and every other use of the member is its length or a read inside the stretch;
/// `None` otherwise.
fn stretch_reads(
    g: &Graph,
    (d, v): (u32, u32),
    body: NodeId,
    bodies: &[NodeId],
) -> Option<Vec<(NodeId, NodeId)>> {
    let (lo, width, kept) = disjoint_patch(g, (d, v), body)?;
    let is_member = |x: NodeId| matches!(*g.op(x), Op::Carry { c, .. } if c == d);
    let mut reads = Vec::new();
    for n in g.reachable(bodies) {
        if n == kept || !g.op(n).children().into_iter().any(is_member) {
            continue;
        }
        match *g.op(n) {
            Op::ArrayLen(_) => {}
            Op::At(a, at) if is_member(a) && !is_member(at) && in_stretch(g, at, lo, width) => {
                reads.push((n, at));
            }
            _ => return None,
        }
    }
    Some(reads)
}

/// `(lo, m, kept)` if `body` is member `d`'s array with the stretch `lo..lo + m` replaced,
/// `lo = m·v (+ c)`, `m` and `c` the same in every iteration of loop `v`: the stretches of two
/// iterations are disjoint. `kept` is the patch's read of the elements it keeps, `d[j]`.
fn disjoint_patch(g: &Graph, (d, v): (u32, u32), body: NodeId) -> Option<(NodeId, NodeId, NodeId)> {
    let Op::Table {
        v: j,
        lo: zero,
        body: value,
        ..
    } = *g.op(body)
    else {
        return None;
    };
    let Op::Select(cond, new, kept) = *g.op(value) else {
        return None;
    };
    let (&Op::And(from, to), &Op::At(_, k), &Op::At(old, j0)) = (g.op(cond), g.op(new), g.op(kept))
    else {
        return None;
    };
    let (&Op::Compare(crate::graph::Cmp::Ge, j1, lo), &Op::Compare(crate::graph::Cmp::Lt, j2, hi)) =
        (g.op(from), g.op(to))
    else {
        return None;
    };
    let is_j = |x: NodeId| matches!(*g.op(x), Op::LoopVar(w) if w == j);
    let own = matches!(*g.op(old), Op::Carry { c, .. } if c == d);
    let offset = matches!(*g.op(k), Op::IntBin(IntOp::Sub, j3, lo3) if is_j(j3) && lo3 == lo);
    if g.as_int(zero) != Some(0) || !(is_j(j0) && is_j(j1) && is_j(j2) && own && offset) {
        return None;
    }
    let width = stride(g, lo, v)?;
    let ends = |a: NodeId, b: NodeId| g.same_int(a, lo) && g.same_int(b, width);
    match *g.op(hi) {
        Op::IntBin(IntOp::Add, a, b) if ends(a, b) || ends(b, a) => Some((lo, width, kept)),
        _ => None,
    }
}

/// `m` if `lo` is `m·v`, `v·m`, or one of them plus `c`, `m` and `c` not changing with loop
/// `v`.
fn stride(g: &Graph, lo: NodeId, v: u32) -> Option<NodeId> {
    let invariant = |x: NodeId| g.loops_of(x) & (1u128 << v) == 0;
    let is_v = |x: NodeId| matches!(*g.op(x), Op::LoopVar(w) if w == v);
    let scaled = |x: NodeId| match *g.op(x) {
        Op::IntBin(IntOp::Mul, a, b) if is_v(b) && invariant(a) => Some(a),
        Op::IntBin(IntOp::Mul, a, b) if is_v(a) && invariant(b) => Some(b),
        _ => None,
    };
    match *g.op(lo) {
        Op::IntBin(IntOp::Add, a, b) if invariant(b) => scaled(a),
        Op::IntBin(IntOp::Add, a, b) if invariant(a) => scaled(b),
        _ => scaled(lo),
    }
}

/// Whether index `at` is `lo + u` (either way round), `u` the index of a loop over `0..m`:
/// inside the stretch `lo..lo + m`.
fn in_stretch(g: &Graph, at: NodeId, lo: NodeId, width: NodeId) -> bool {
    let below = |u: NodeId| match *g.op(u) {
        Op::LoopVar(w) => g
            .loop_bounds(w)
            .is_some_and(|(a, b)| g.as_int(a) == Some(0) && g.same_int(b, width)),
        _ => false,
    };
    match *g.op(at) {
        Op::IntBin(IntOp::Add, a, b) => {
            (g.same_int(a, lo) && below(b)) || (g.same_int(b, lo) && below(a))
        }
        _ => false,
    }
}

/// Whether rebuilding (`memo`) would change a node the graph keeps by id: a loop's bounds or
/// a carried array's length.
fn changes_bookkeeping(g: &Graph, memo: &HashMap<NodeId, NodeId>) -> bool {
    let changed = |x: NodeId| memo.get(&x).is_some_and(|y| *y != x);
    (0..g.loop_count()).any(|v| {
        g.loop_bounds(v)
            .is_some_and(|(a, b)| changed(a) || changed(b))
    }) || g.carried_len_nodes().any(changed)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::read_from_initial_values;
    use crate::attr::Args;
    use crate::graph::{Graph, NodeId, Op};
    use crate::testing::lower_fn;

    /// The element reads of carried arrays (`At` of a `Carry`) reachable from `root`.
    fn carry_reads(g: &Graph, root: NodeId) -> usize {
        g.reachable(&[root])
            .into_iter()
            .filter(|n| matches!(*g.op(*n), Op::At(a, _) if matches!(g.op(a), Op::Carry { .. })))
            .count()
    }

    /// The element reads of carried arrays in `func`'s lowered graph, before and after the
    /// pass.
    fn reads(func: proc_macro2::TokenStream) -> (usize, usize) {
        let mut l = lower_fn(func, &Args::default());
        let before = carry_reads(&l.graph, l.output);
        let memo = read_from_initial_values(&mut l.graph, &[l.output]);
        let out = memo.get(&l.output).copied().unwrap_or(l.output);
        (before, carry_reads(&l.graph, out))
    }

    /// Each layer reads its own stretch of `hs` (at `b * ly + i`), which the stretches of the
    /// layers before it do not meet: those reads are of the initial value now; the patch's
    /// read of the elements it keeps stays.
    #[test]
    fn reads_of_a_layer_s_own_stretch_read_the_initial_value() {
        let (before, after) = reads(quote! {
            fn f(p: &[f64], l: usize, b: usize) -> f64 {
                let mut hs = vec![0.5; l * b];
                for ly in 0..l {
                    let s = b * ly;
                    for i in 0..b {
                        hs[s + i] = (hs[s + i] * p[s + i]).tanh();
                    }
                }
                hs[0]
            }
        });
        assert_eq!((before, after), (2, 1));
    }

    /// Stretches wider than their stride overlap (`2 * ly + i` for `i` in `0..3`): left alone.
    #[test]
    fn overlapping_stretches_are_left_alone() {
        let (before, after) = reads(quote! {
            fn f(p: &[f64]) -> f64 {
                let mut hs = vec![0.5; 7];
                for ly in 0..3 {
                    for i in 0..3 {
                        hs[2 * ly + i] = (hs[2 * ly + i] * p[i]).tanh();
                    }
                }
                hs[0]
            }
        });
        assert_eq!(before, after);
    }

    /// A read outside the stretch (`hs[0]`, which the first layer writes): left alone.
    #[test]
    fn a_read_outside_the_stretch_is_left_alone() {
        let (before, after) = reads(quote! {
            fn f(p: &[f64]) -> f64 {
                let mut hs = vec![0.5; 6];
                for ly in 0..3 {
                    let first = hs[0];
                    for i in 0..2 {
                        hs[2 * ly + i] = (hs[2 * ly + i] * p[i] + first).tanh();
                    }
                }
                hs[1]
            }
        });
        assert_eq!(before, after);
    }
}
