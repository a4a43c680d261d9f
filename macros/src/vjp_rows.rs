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

use crate::graph::{Graph, NO_ARRAY, NodeId, Op, SinkPairs, WITH_SLICES};

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

/// `rows[r]` lists the effects of row `r` (per differentiated slice, the effect accumulating
/// its gradient); the products of one call in two rows are merged, pair by pair, until none
/// is left to merge. `values` are the other nodes computed with the rows (the scalar entries
/// of a Jacobian), rebuilt too: one that reads a local array's adjoint must read the one the
/// merged call fills, or the row's own product would run as well and add into it twice.
pub fn share(g: &mut Graph, rows: &mut [Vec<Option<NodeId>>], values: &mut [NodeId]) {
    // Each merge removes two products: at most as many rounds as products.
    for _ in 0..g.len() {
        let Some((call, pair)) = candidate(g, rows) else {
            return;
        };
        merge(g, (rows, &mut *values), call, &pair);
    }
}

/// The first call with unconditional top-level products in two rows, whose local-array
/// products (if any) can be merged too: the call and the two products.
fn candidate(g: &Graph, rows: &[Vec<Option<NodeId>>]) -> Option<(NodeId, Vec<Product>)> {
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
        let pair: Vec<Product> = products.into_iter().flatten().take(ROWS).collect();
        (pair.len() == ROWS && arrays(g, rows, call, &pair).is_some()).then_some((call, pair))
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

/// The local-array products of `call` the rows reach, one per product of `pair` (same seeds)
/// or none at all (`NO_ARRAY`): the position they write and, per row, the `ArrayVjp` and its
/// vector.
/// `None` where they cannot be merged (in a loop, writing slices too, two arrays, an array
/// product of another row's seeds that is not in the pair is fine: it keeps its call).
fn arrays(
    g: &Graph,
    rows: &[Vec<Option<NodeId>>],
    call: NodeId,
    pair: &[Product],
) -> Option<Arrays> {
    let roots: Vec<NodeId> = rows.iter().flatten().flatten().copied().collect();
    let mut found: Vec<Option<(NodeId, NodeId)>> = vec![None; pair.len()];
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
        let Some(r) = pair.iter().position(|q| q.seeds == seed) else {
            continue;
        };
        if p & WITH_SLICES != 0 || g.loops_of(n) != 0 || found[r].is_some() {
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

/// The products of `pair` as one [`Op::VjpRows`]: it takes the first product's place in its
/// row, the others' become nothing, and the local arrays' adjoints are filled by it.
fn merge(
    g: &mut Graph,
    (rows, values): (&mut [Vec<Option<NodeId>>], &mut [NodeId]),
    call: NodeId,
    pair: &[Product],
) {
    let Some((position, found)) = arrays(g, rows, call, pair) else {
        return;
    };
    let mut parts: Vec<NodeId> = pair.iter().map(|p| p.seeds).collect();
    parts.extend(found.iter().map(|(_, alloc)| *alloc));
    let per_row = pair[0].sinks.len();
    if pair.iter().any(|p| p.sinks.len() != per_row) {
        return;
    }
    let merged = g.add(Op::VjpRows {
        call,
        rows: u32::try_from(pair.len()).unwrap_or(0),
        position,
        sinks: pair.iter().flat_map(|p| p.sinks.iter().copied()).collect(),
        parts,
    });
    let none = g.add(Op::NoEffect);
    let mut map: HashMap<NodeId, NodeId> = HashMap::new();
    for (r, p) in pair.iter().enumerate() {
        map.insert(p.rebound, if r == 0 { merged } else { none });
    }
    for (product, _) in &found {
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
