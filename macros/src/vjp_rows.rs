//! One forward pass of a vector-valued callee for two rows of a Jacobian.
//!
//! A Jacobian computed in reverse mode runs one reverse sweep per output. Where a sweep reaches
//! a call of a vector-valued function given a differentiated slice, it calls the callee's hidden
//! `__vjp`, which runs the callee's forward pass again before its own reverse sweep: an
//! M-row Jacobian ran the callee's forward pass M times (and its callees', each in turn). Here
//! the products of one call in two rows become one [`Op::VjpRows`], a call of the callee's
//! hidden `__vjp_rows`, which runs its forward pass once and both sweeps:
//!
//! ```text
//! row 0:  { __grad0 = &mut *__grad2; project::__vjp(cam, x, &[w], &mut __grad0[..]) }
//! row 1:  { __grad0 = &mut *__grad4; project::__vjp(cam, x, &[0.0, w], &mut __grad0[..]) }
//!   →     project::__vjp_rows(cam, x, [&[w], &[0.0, w]], [&mut __grad2[..], &mut __grad4[..]])
//! ```
//!
//! A local array passed to the call (`&xo`), whose adjoint each row's product adds into (an
//! [`Op::ArrayVjp`]), is one more column of sinks, each row's adjoint vector. Only products that
//! run unconditionally at the top level of their rows are merged (a call's product outside any
//! loop and condition, written into its row's sinks by a [`Op::Rebound`]): the merged call runs
//! where each of them did, with the arguments each of them had. A product under a condition
//! (which runs only where its seed is not zero, so that an argument out of range where the call
//! is not taken is never formed) or in a loop keeps its own `__vjp` call.

use std::collections::HashMap;

use crate::graph::{Graph, NO_ARRAY, NodeId, Op, SinkPairs};

/// How many rows a function's hidden `__vjp_rows` takes: a caller's Jacobian pairs its rows.
pub const ROWS: usize = 2;

/// One row's product of a call: the effect that writes it into the row's sinks, its seeds and
/// the sinks.
#[derive(Clone)]
struct Product {
    rebound: NodeId,
    seeds: NodeId,
    sinks: SinkPairs,
}

/// The products of one call to merge: one per row, [`ROWS`] of them, and the local arrays'
/// products that go with them.
struct Group {
    call: NodeId,
    products: Vec<Product>,
    arrays: Arrays,
}

/// `rows[r]` lists the effects of row `r` (per differentiated slice, the effect accumulating
/// its gradient); the products of one call in [`ROWS`] rows are merged, group by group, until
/// none is left to merge. `values` are the other nodes computed with the rows (the scalar
/// entries of a Jacobian), rebuilt too: one that reads a local array's adjoint must read the one
/// the merged call fills, or the row's own product would run as well and add into it twice.
pub fn share(g: &mut Graph, rows: &mut [Vec<Option<NodeId>>], values: &mut [NodeId]) {
    // Each merge removes `ROWS` products (a candidate always merges): at most as many rounds
    // as products.
    for _ in 0..g.len() {
        let Some(group) = candidate(g, rows) else {
            return;
        };
        merge(g, (rows, &mut *values), &group);
    }
}

/// The first call with unconditional top-level products in [`ROWS`] rows that can be merged:
/// their sinks alike (as many per row), and their local-array products (if any) mergeable too.
fn candidate(g: &Graph, rows: &[Vec<Option<NodeId>>]) -> Option<Group> {
    let mut per_call: Vec<(NodeId, Vec<Option<Product>>)> = Vec::new();
    let mut twice: Vec<NodeId> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let mut found: Vec<(NodeId, Product)> = Vec::new();
        for e in row.iter().flatten() {
            top_level_products(g, *e, &mut found);
        }
        for (call, p) in found {
            let entry = match per_call.iter_mut().find(|(c, _)| *c == call) {
                Some(entry) => entry,
                None => {
                    per_call.push((call, vec![None; rows.len()]));
                    per_call.last_mut()?
                }
            };
            if entry.1[r].is_some() {
                twice.push(call);
            }
            entry.1[r] = Some(p);
        }
    }
    per_call.into_iter().find_map(|(call, products)| {
        if twice.contains(&call) {
            return None;
        }
        let products: Vec<Product> = products.into_iter().flatten().take(ROWS).collect();
        let per_row = products.first()?.sinks.len();
        if products.len() != ROWS || products.iter().any(|p| p.sinks.len() != per_row) {
            return None;
        }
        let arrays = arrays(g, rows, call, &products)?;
        Some(Group {
            call,
            products,
            arrays,
        })
    })
}

/// The products `{ rename sinks; f::__vjp(…) }` among the effects of `e` that run whenever it
/// does: not under a condition, not in a loop, seeded with a vector-valued call's seeds.
fn top_level_products(g: &Graph, e: NodeId, out: &mut Vec<(NodeId, Product)>) {
    match g.op(e) {
        Op::Effects(a, b) => {
            top_level_products(g, *a, out);
            top_level_products(g, *b, out);
        }
        Op::Rebound { effect, sinks } => {
            if let Op::CallVjp(call, seeds) = *g.op(*effect)
                && matches!(g.op(seeds), Op::Seeds(_))
                && g.loops_of(call) == 0
                && g.loops_of(*effect) == 0
                && distinct_slices(g, call)
            {
                out.push((
                    call,
                    Product {
                        rebound: e,
                        seeds,
                        sinks: sinks.clone(),
                    },
                ));
            }
        }
        _ => {}
    }
}

/// Whether the call is given each differentiated slice once (`dot(w, w)` lends one gradient
/// vector twice, and gets one product per position).
fn distinct_slices(g: &Graph, call: NodeId) -> bool {
    let Op::Call(_, args) = g.op(call) else {
        return false;
    };
    let given: Vec<u32> = args
        .iter()
        .filter_map(|a| match g.op(*a) {
            Op::SliceArg(k, ..) => Some(*k),
            _ => None,
        })
        .collect();
    given
        .iter()
        .enumerate()
        .all(|(i, k)| !given[..i].contains(k))
}

/// The argument position of a local array passed to a call ([`NO_ARRAY`] for none), and per
/// row its product (an `ArrayVjp`) and the adjoint vector it adds into.
type Arrays = (u32, Vec<(NodeId, NodeId)>);

/// The local-array products of `call` the rows reach, one per product of `products` (same
/// seeds) or none at all (`NO_ARRAY`): the position they write and, per row, the `ArrayVjp` and
/// its vector.
/// `None` where they cannot be merged (in a loop, writing slices too, two arrays; an array
/// product of another row's seeds that is not in the group is fine: it keeps its call).
fn arrays(
    g: &Graph,
    rows: &[Vec<Option<NodeId>>],
    call: NodeId,
    products: &[Product],
) -> Option<Arrays> {
    let roots: Vec<NodeId> = rows.iter().flatten().flatten().copied().collect();
    let mut found: Vec<Option<(NodeId, NodeId)>> = vec![None; products.len()];
    let mut position = None;
    for n in g.reachable(&roots) {
        let Op::ArrayVjp {
            call: c,
            seed,
            alloc,
            position: p,
        } = *g.op(n)
        else {
            continue;
        };
        if c != call {
            continue;
        }
        let Some(r) = products.iter().position(|q| q.seeds == seed) else {
            continue;
        };
        if g.loops_of(n) != 0 || found[r].is_some() {
            return None;
        }
        if position.is_some_and(|q| q != p) {
            return None;
        }
        position = Some(p);
        found[r] = Some((n, alloc));
    }
    match position {
        None => Some((NO_ARRAY, Vec::new())),
        Some(p) => {
            let found: Vec<(NodeId, NodeId)> = found.into_iter().collect::<Option<_>>()?;
            let distinct = found
                .iter()
                .enumerate()
                .all(|(i, (_, a))| found[..i].iter().all(|(_, b)| a != b));
            distinct.then_some((p, found))
        }
    }
}

/// The products of `group` as one [`Op::VjpRows`]: it takes the first product's place in its
/// row, the others' become nothing, and the local arrays' adjoints are filled by it.
fn merge(
    g: &mut Graph,
    (rows, values): (&mut [Vec<Option<NodeId>>], &mut [NodeId]),
    group: &Group,
) {
    let (position, found) = &group.arrays;
    let (call, products) = (group.call, &group.products);
    let mut parts: Vec<NodeId> = products.iter().map(|p| p.seeds).collect();
    parts.extend(found.iter().map(|(_, alloc)| *alloc));
    let position = *position;
    let merged = g.add(Op::VjpRows {
        call,
        rows: u32::try_from(products.len()).unwrap_or(0),
        position,
        sinks: products
            .iter()
            .flat_map(|p| p.sinks.iter().copied())
            .collect(),
        parts,
    });
    let none = g.add(Op::NoEffect);
    let mut map: HashMap<NodeId, NodeId> = HashMap::new();
    for (r, p) in products.iter().enumerate() {
        map.insert(p.rebound, if r == 0 { merged } else { none });
    }
    for (product, _) in found {
        map.insert(*product, merged);
    }
    for row in rows.iter_mut() {
        for e in row.iter_mut().flatten() {
            *e = g.substitute(*e, &map);
        }
    }
    for v in values.iter_mut() {
        *v = g.substitute(*v, &map);
    }
}

#[cfg(test)]
mod tests {
    use super::{ROWS, candidate, share};
    use crate::graph::{Graph, NodeId, Op};

    /// `f(x)` and row `r`'s product of it, `{ ∇x → sinks; f::__vjp(x, seeds_r) }`.
    fn product(g: &mut Graph, call: NodeId, r: usize, sinks: Vec<(u32, u32)>) -> NodeId {
        let seed = g.new_input(format!("s{r}"));
        let seeds = g.add(Op::Seeds(vec![seed]));
        let effect = g.add(Op::CallVjp(call, seeds));
        g.add(Op::Rebound { effect, sinks })
    }

    fn called(g: &mut Graph) -> NodeId {
        g.new_slice("x");
        let f = g.new_symbol("f");
        let s = g.new_symbol("x");
        let x = g.add(Op::SliceArg(0, s, Vec::new()));
        g.add(Op::Call(f, vec![x]))
    }

    fn merged_rows(g: &Graph, rows: &[Vec<Option<NodeId>>]) -> Vec<u32> {
        let roots: Vec<NodeId> = rows.iter().flatten().flatten().copied().collect();
        g.reachable(&roots)
            .into_iter()
            .filter_map(|n| match g.op(n) {
                Op::VjpRows { rows, .. } => Some(*rows),
                _ => None,
            })
            .collect()
    }

    /// Three rows' products of one call: [`ROWS`] of them become one `__vjp_rows`, the rest
    /// keep their `__vjp`, each row's sinks its own.
    #[test]
    fn three_rows_merge_rows_at_a_time() {
        let mut g = Graph::with_rewrite(crate::simplify::rewrite);
        let call = called(&mut g);
        let mut rows: Vec<Vec<Option<NodeId>>> = (0..3u32)
            .map(|r| vec![Some(product(&mut g, call, r as usize, vec![(0, r + 1)]))])
            .collect();
        share(&mut g, &mut rows, &mut []);
        assert_eq!(
            merged_rows(&g, &rows),
            vec![u32::try_from(ROWS).expect("internal error: ROWS fits u32")]
        );
        let alone = rows[2][0].expect("internal error: row 2's effect");
        assert!(
            matches!(g.op(alone), Op::Rebound { .. }),
            "row 2 keeps its call"
        );
        let Some(Op::VjpRows { sinks, .. }) = rows[0][0].map(|e| g.op(e).clone()) else {
            panic!("internal error: row 0 is not the merged call");
        };
        assert_eq!(sinks, vec![(0, 1), (0, 2)]);
        assert!(matches!(
            g.op(rows[1][0].expect("internal error: row 1's effect")),
            Op::NoEffect
        ));
    }

    /// Products whose sinks differ in number are no candidate: `share` returns at once, rows
    /// unchanged (it used to pick the same pair again, merge refusing, until its round limit).
    #[test]
    fn sinks_of_different_lengths_are_left_alone() {
        let mut g = Graph::with_rewrite(crate::simplify::rewrite);
        let call = called(&mut g);
        let a = product(&mut g, call, 0, vec![(0, 1)]);
        let b = product(&mut g, call, 1, vec![(0, 2), (1, 3)]);
        let mut rows = vec![vec![Some(a)], vec![Some(b)]];
        assert!(candidate(&g, &rows).is_none());
        let before = g.len();
        share(&mut g, &mut rows, &mut []);
        assert_eq!(rows, vec![vec![Some(a)], vec![Some(b)]]);
        assert_eq!(g.len(), before, "nothing built");
    }
}
