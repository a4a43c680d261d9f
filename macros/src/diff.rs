//! Differentiation: reverse accumulation over the DAG.
//!
//! Given an output node and the input nodes to differentiate with respect to, we visit the nodes
//! reachable from the output in reverse topological order (decreasing `NodeId`), carrying each
//! node's adjoint `ā = ∂output/∂node` as a node of the same graph. Each operation pushes
//! `ā · ∂node/∂child` to its *active* children (those that depend on an input), so nothing is
//! built for constants and data. The result is a set of ordinary nodes: the gradient is itself a
//! graph, which the Hessian differentiates again.
//!
//! The rules are one exhaustive `match` over [`Op`], with the textbook rule beside each arm.

use std::collections::{HashMap, HashSet};

use crate::graph::{
    Cmp, Fun, Fun2, Graph, IntOp, Kind, LoopMask, NodeId, Op, Origin, StretchPatch,
};
use crate::unswitch;

/// A node that cannot be differentiated (the partial derivatives of called functions, and
/// second derivatives through a recurrence).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffError {
    pub origin: Option<Origin>,
    pub message: String,
    pub help: &'static str,
}

/// `∂output/∂w` for each `w` in `wrt`, as nodes of `g`.
pub fn gradient(g: &mut Graph, output: NodeId, wrt: &[NodeId]) -> Result<Vec<NodeId>, DiffError> {
    Ok(gradient_with_slices(g, output, wrt, &[])?.0)
}

/// The gradient with respect to scalar inputs `wrt` (nodes) and to the elements of the
/// differentiated slices `slices` (by slice number). A slice's gradient is an *effect*: a
/// `Scatter` (`∇x[i] += …`), inside the loops of the element it scatters to, or `None` if the
/// output does not depend on the slice.
///
/// Loops: the adjoint of a node inside loop `v` is a per-iteration value. Where it flows to a
/// node outside that loop, the contributions of all iterations add up:
/// `ā_outside += Σ_v (ā_inside · ∂inside/∂outside)`, a `Sum` over `v` — a reverse sweep that
/// needs no tape for the sums this macro builds.
///
/// Recurrences (`Fold`: `s = body(s, i)`) are the exception: iteration `i`'s adjoint `λ` depends
/// on the later iterations' (`λᵢ = λᵢ₊₁ · ∂body/∂s`), so it is a reverse loop of its own, a
/// `RevFold`, over the values of `s` the forward loop saved. The body is swept in a frame of its
/// own with `λ` (an `Adjoint` node) as its adjoint; what leaves the body is summed over the loop
/// *after* the `RevFold` is built, so those sums can run in its reverse loop.
pub fn gradient_with_slices(
    g: &mut Graph,
    output: NodeId,
    wrt: &[NodeId],
    slices: &[u32],
) -> Result<(Vec<NodeId>, Vec<Option<NodeId>>), DiffError> {
    let one = g.one();
    gradient_seeded(g, output, one, wrt, slices)
}

/// [`gradient_with_slices`] for one row of a Jacobian, whose slices' effects are moved to the
/// row's own sinks afterwards (`jacobian::retarget`): a call's product that writes a local
/// array's adjoint writes nothing else, since only the effects are moved.
pub fn gradient_of_row(
    g: &mut Graph,
    output: NodeId,
    wrt: &[NodeId],
    slices: &[u32],
) -> Result<(Vec<NodeId>, Vec<Option<NodeId>>), DiffError> {
    let one = g.one();
    gradient_seeded(g, output, one, wrt, slices)
}

/// [`activity`], where nothing in `order` is refused ([`refuse_second_order`],
/// [`refuse_chosen_arrays`]).
fn checked_activity(
    g: &Graph,
    order: &[NodeId],
    wrt: &[NodeId],
    slices: &[u32],
) -> Result<Vec<bool>, DiffError> {
    refuse_second_order(g, order)?;
    let active = activity(g, order, wrt, slices);
    refuse_chosen_arrays(g, order, &active)?;
    Ok(active)
}

/// A select between local arrays has no elements to route adjoints to (the lowering merges
/// arrays chosen by a condition element by element): reported, never a zero gradient.
fn refuse_chosen_arrays(g: &Graph, order: &[NodeId], active: &[bool]) -> Result<(), DiffError> {
    match order.iter().find(|n| {
        active[n.index()] && g.kind(**n) == Kind::Array && matches!(g.op(**n), Op::Select(..))
    }) {
        Some(&n) => Err(DiffError {
            origin: g.node(n).origin,
            message: "internal error: a local array chosen by a condition as a whole".into(),
            help: "please report this; choose its elements instead: `[if c { a } else { b }, …]`",
        }),
        None => Ok(()),
    }
}

/// The error where a gradient is taken of a graph that holds a reverse sweep or a local array's
/// adjoint (a Hessian through them), `Ok` elsewhere.
fn refuse_second_order(g: &Graph, order: &[NodeId]) -> Result<(), DiffError> {
    if let Some(&n) = order.iter().find(|n| {
        matches!(
            g.op(**n),
            Op::Adjoint { .. } | Op::RevFold { .. } | Op::RevCoupled { .. }
        )
    }) {
        // Point at the loop: the forward recurrence the sweep reverses.
        let (Op::Adjoint { sweep: c, .. }
        | Op::RevFold { sweep: c, .. }
        | Op::RevCoupled { sweep: c, .. }) = *g.op(n)
        else {
            return Err(DiffError {
                origin: None,
                message: "internal error: not a reverse sweep".into(),
                help: "please report this",
            });
        };
        let fold = match g.reverse_sweep_of(c).map(|r| g.op(r)) {
            Some(Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. }) => *fold,
            _ => n,
        };
        return Err(DiffError {
            origin: g.node(fold).origin,
            message: "second derivatives through a loop recurrence (a product, a running `max`, …) are not supported".into(),
            help: "remove `hessian`, or write the loop as a sum (`+=`)",
        });
    }
    if let Some(&n) = order.iter().find(|n| {
        // (An `Accumulate` may also be a local array's own, in a `Buffer`.)
        matches!(
            g.op(**n),
            Op::AdjAt(..) | Op::Cleared { .. } | Op::Alloc { zero: true, .. }
        )
    }) {
        return Err(DiffError {
            origin: g.node(n).origin,
            message: "second derivatives through a local array (`vec![…]`, `[…; N]` written element by element) are not supported yet".into(),
            help: "remove `hessian`, or compute the elements where they are read",
        });
    }
    Ok(())
}

/// The gradient of `seed · output` (a vector-Jacobian product when `seed` is a symbol): what a
/// caller's reverse pass needs from a function it passes a differentiated slice to.
pub fn gradient_seeded(
    g: &mut Graph,
    output: NodeId,
    seed: NodeId,
    wrt: &[NodeId],
    slices: &[u32],
) -> Result<(Vec<NodeId>, Vec<Option<NodeId>>), DiffError> {
    // A call given a local array and differentiated slices runs one product for each: the
    // product that writes the array's adjoint runs only where that adjoint is needed (under
    // the condition its elements are read by, only for the partials that read it), and a
    // slice's gradient through the same call is needed everywhere.
    let order = g.reachable(&[output]);
    let active = checked_activity(g, &order, wrt, slices)?;
    let mut sweep = Sweep {
        active,
        scattered: Vec::new(),
        vjps: Vec::new(),
        hvps: Vec::new(),
        array_vjps: Vec::new(),
        jvp_arrays: Vec::new(),
        output_vjps: Vec::new(),
        unconditional: read_unconditionally(g, output),
        loops_aside: HashSet::new(),
        read_in: HashMap::new(),
        loop_reads: HashMap::new(),
        forward: order.clone(),
    };
    let iterations = read_in_iterations(g, output, true);
    sweep.loops_aside = read_without_loops(g, &iterations);
    for &(n, entered) in &iterations {
        if matches!(g.op(n), Op::Element(..) | Op::At(..)) {
            sweep.read_in.entry(n).or_default().push(entered);
        }
    }
    let mut top = Frame::new(None, 0);
    // Through `contribute`, like every other adjoint: an output that is itself an element
    // (`fn f(y: &[f64]) -> f64 { y[0] }`) is scattered to, not left as an adjoint no one reads.
    let from = g.loops_of(output);
    sweep.contribute(g, &mut top, from, output, seed);
    sweep.sweep(g, &mut top, &order)?;
    let scalars: Vec<NodeId> = wrt
        .iter()
        .map(|w| top.adjoint.get(w).copied().unwrap_or_else(|| g.zero()))
        .collect();
    // Read everywhere the function runs, even where its loops run zero times: an element read
    // only in a loop's body at an index the loop does not change (`y[n - 1]` in `for i in 0..n`)
    // may be out of range where the loop does not run, and its effect is guarded.
    let unconditional = std::mem::take(&mut sweep.loops_aside);
    let mut effects: Vec<Option<NodeId>> = vec![None; slices.len()];
    let scattered = std::mem::take(&mut sweep.scattered);
    scatter_effects(
        g,
        scattered,
        slices,
        &unconditional,
        &sweep.read_in,
        &mut effects,
    );
    // Calls given a differentiated slice: one vector-Jacobian product per call site (and per
    // iteration of the loops it is in), listed with the first slice it writes.
    for ((call, loops, _), adj) in sweep.vjps {
        let Some(slot) = first_slice_slot(g, call, slices) else {
            continue;
        };
        let everywhere = unconditional.contains(&call);
        // Not evaluated where the loops run zero times (read only in a loop's body, or under a
        // condition): the product runs where its seed is not zero (`dot(v, v)` in `for i in
        // 0..n`, at `n = 0`, would read `v[0]` of an empty `v`; the seed is the empty sum).
        push_effect(
            g,
            &mut effects[slot],
            loops,
            everywhere,
            0,
            adj,
            &mut |g, seed, _| {
                let effect = g.add(Op::CallVjp(call, seed));
                nonzero_only(g, !everywhere, seed, effect)
            },
        );
    }
    // Directional derivatives of calls given a differentiated slice: the slices' part of
    // `H·ȧ`, one `__hvp` per call site (and iteration), listed like the calls' products; the
    // outputs' of a vector-valued call, one `__hvp_outputs` seeded with their adjoints.
    let (outputs, hvps): (Vec<_>, Vec<_>) = sweep
        .hvps
        .into_iter()
        .partition(|((jvp, ..), _)| output_jvp(g, *jvp).is_some());
    output_hvp_effects(g, &outputs, slices, &unconditional, &mut effects);
    for ((jvp, loops, _), adj) in hvps {
        let Op::CallJvp(call, _) = *g.op(jvp) else {
            continue;
        };
        let Some(slot) = first_slice_slot(g, g.called(call), slices) else {
            continue;
        };
        let everywhere = unconditional.contains(&jvp);
        // (As a call's product above.)
        push_effect(
            g,
            &mut effects[slot],
            loops,
            everywhere,
            0,
            adj,
            &mut |g, seed, _| {
                let effect = g.add(Op::CallHvp(jvp, seed));
                nonzero_only(g, !everywhere, seed, effect)
            },
        );
    }
    vector_call_effects(g, &sweep.output_vjps, slices, &unconditional, &mut effects);
    // A loop the function runs only under a condition, summed over in the gradient where the
    // condition holds: unswitched, the gradient runs it (and computes its bounds) only there.
    let roots: Vec<NodeId> = scalars
        .iter()
        .chain(effects.iter().flatten())
        .copied()
        .collect();
    let mut unswitched = unswitch::unswitch(g, &roots, &unconditional).into_iter();
    let scalars = scalars.iter().filter_map(|_| unswitched.next()).collect();
    let effects = effects
        .iter()
        .map(|e| e.and_then(|_| unswitched.next()))
        .collect();
    Ok((scalars, effects))
}

/// The additions into the slices' gradients of the elements' adjoints, `scattered` (see
/// [`push_effect`]). `read_in`: per element, the loops the function reads it in every
/// iteration of ([`read_in_iterations`] with `empty_loops`).
fn scatter_effects(
    g: &mut Graph,
    scattered: Vec<(ScatterKey, NodeId)>,
    slices: &[u32],
    unconditional: &HashSet<NodeId>,
    read_in: &HashMap<NodeId, Vec<LoopMask>>,
    effects: &mut [Option<NodeId>],
) {
    for ((element, loops, _), contribution) in scattered {
        let Op::Element(k, idx) = *g.op(element) else {
            continue;
        };
        let Some(slot) = slices.iter().position(|s| *s == k) else {
            continue;
        };
        let everywhere = unconditional.contains(&element);
        // Where the function does not read the element in every iteration of the loops the
        // addition is made in (of `loops` and those its index changes with): `x[0]` read only in
        // the body of `for i in 0..n`, added once after it; `y[n - 1]` read only in an inner
        // loop over `0..n`, added after a sum over it; read under conditions inside a sum, or
        // in a running minimum's one-iteration sweep. The addition runs only where its value
        // is not zero (where the loops do not run, the index may be out of range), except in
        // the branch of a condition `guarded` took out of the value (the index is valid there).
        let once = !read_there(read_in, element, loops | g.loops_of(element));
        push_effect(
            g,
            &mut effects[slot],
            loops,
            everywhere,
            0,
            contribution,
            &mut |g, value, tested| {
                let effect = g.add(Op::Scatter(k, idx, value));
                nonzero_only(g, once && !tested, value, effect)
            },
        );
    }
}

/// Whether the function reads `element` in every iteration of the loops `made_in` (see
/// [`read_in_iterations`]): an addition into its adjoint made there finds its index valid.
fn read_there(
    read_in: &HashMap<NodeId, Vec<LoopMask>>,
    element: NodeId,
    made_in: LoopMask,
) -> bool {
    read_in
        .get(&element)
        .is_some_and(|sets| sets.iter().any(|entered| entered & !made_in == 0))
}

/// `(call, k)` where `jvp` is the directional derivative of output `k` of a vector-valued call.
fn output_jvp(g: &Graph, jvp: NodeId) -> Option<(NodeId, u32)> {
    match *g.op(jvp) {
        Op::CallJvp(output, _) => match *g.op(output) {
            Op::CallOutput(call, k) => Some((call, k)),
            _ => None,
        },
        _ => None,
    }
}

/// One vector-valued call's outputs' directional derivatives in a loop nest and frame: the
/// key, the first one, whether all are evaluated everywhere, and `(k, λ_k)` per output.
type OutputJvps = (ScatterKey, NodeId, bool, Vec<(u32, NodeId)>);

/// The slices' part of `Σ_k λ_k·H_k·ȧ` for the outputs' directional derivatives of
/// vector-valued calls (`outputs`: each with its adjoint `λ_k`, keyed as [`Sweep::hvps`]): per
/// call, loop nest and frame, one `CallHvp` seeded with `[λ₀, λ₁, …]` (an [`Op::Seeds`]),
/// listed with the first slice the call is given.
fn output_hvp_effects(
    g: &mut Graph,
    outputs: &[(ScatterKey, NodeId)],
    slices: &[u32],
    unconditional: &HashSet<NodeId>,
    effects: &mut [Option<NodeId>],
) {
    // Per call, loops and frame: the first output's directional derivative (they differ only
    // in the output: the arguments' tangents are the same), whether every one is evaluated
    // everywhere, and the adjoints by output.
    let mut per_call: Vec<OutputJvps> = Vec::new();
    for &((jvp, loops, fold), adj) in outputs {
        let Some((call, k)) = output_jvp(g, jvp) else {
            continue;
        };
        let everywhere = unconditional.contains(&jvp);
        match per_call
            .iter_mut()
            .find(|(key, ..)| *key == (call, loops, fold))
        {
            Some((_, _, all, seeds)) => {
                *all &= everywhere;
                seeds.push((k, adj));
            }
            None => per_call.push(((call, loops, fold), jvp, everywhere, vec![(k, adj)])),
        }
    }
    for ((call, loops, _), jvp, everywhere, seeds) in per_call {
        let Some(slot) = first_slice_slot(g, call, slices) else {
            continue;
        };
        let seeds = seeds_node(g, seeds.into_iter().map(|(k, adj)| (k as usize, adj)));
        push_effect(
            g,
            &mut effects[slot],
            loops,
            true,
            0,
            seeds,
            &mut |g, seed, _| {
                let effect = g.add(Op::CallHvp(jvp, seed));
                seeded_only(g, everywhere, seed, effect)
            },
        );
    }
}

/// Where, among `slices`, the first differentiated slice a call is given is: the call's
/// vector-Jacobian product is listed with that slice's effects.
fn first_slice_slot(g: &Graph, call: NodeId, slices: &[u32]) -> Option<usize> {
    let Op::Call(_, args) = g.op(call) else {
        return None;
    };
    args.iter().find_map(|a| match g.op(*a) {
        Op::SliceArg(k, ..) => slices.iter().position(|s| s == k),
        _ => None,
    })
}

/// The effects of vector-valued calls given a differentiated slice: one vector-Jacobian
/// product per call (and loop nest), seeded with the adjoints of its outputs (see
/// [`Sweep::output_vjps`]), listed with the first slice it writes.
fn vector_call_effects(
    g: &mut Graph,
    outputs: &[(ScatterKey, NodeId)],
    slices: &[u32],
    unconditional: &HashSet<NodeId>,
    effects: &mut [Option<NodeId>],
) {
    for ((call, loops, _), seeds) in seeds_per_call(g, outputs) {
        let Some(slot) = first_slice_slot(g, call, slices) else {
            continue;
        };
        let everywhere = unconditional.contains(&call);
        push_effect(
            g,
            &mut effects[slot],
            loops,
            true,
            0,
            seeds,
            &mut |g, seed, _| {
                let effect = g.add(Op::CallVjp(call, seed));
                seeded_only(g, everywhere, seed, effect)
            },
        );
    }
}

/// The adjoints of vector-valued calls' outputs (`CallOutput`s, keyed as in
/// [`Sweep::vjps`]), gathered per call, loop nest and frame: `[ā₀, ā₁, …]` (an [`Op::Seeds`],
/// zero for an output without adjoint there), in order of first appearance.
///
/// ```text
/// (r[0], loops 0) → a,  (r[1], loops 0) → b,  (r[1], loop i) → c
///   →  (r, loops 0) → [a, b],  (r, loop i) → [0, c]
/// ```
fn seeds_per_call(g: &mut Graph, outputs: &[(ScatterKey, NodeId)]) -> Vec<(ScatterKey, NodeId)> {
    let mut per_call: Vec<(ScatterKey, Vec<(usize, NodeId)>)> = Vec::new();
    for &((output, loops, fold), adj) in outputs {
        let Op::CallOutput(call, k) = *g.op(output) else {
            continue;
        };
        let key = (call, loops, fold);
        let k = k as usize;
        match per_call.iter_mut().find(|(c, _)| *c == key) {
            Some((_, seeds)) => seeds.push((k, adj)),
            None => per_call.push((key, vec![(k, adj)])),
        }
    }
    per_call
        .into_iter()
        .map(|(key, seeds)| (key, seeds_node(g, seeds)))
        .collect()
}

/// `[λ₀, λ₁, …]` (an [`Op::Seeds`]) from `(k, λ)` pairs: the adjoints of output `k` added, zero
/// for an output none is given.
fn seeds_node(g: &mut Graph, seeds: impl IntoIterator<Item = (usize, NodeId)>) -> NodeId {
    let mut values = Vec::new();
    for (k, adj) in seeds {
        if values.len() <= k {
            values.resize(k + 1, g.zero());
        }
        values[k] = g.plus(values[k], adj);
    }
    g.add(Op::Seeds(values))
}

/// `effect`, a vector-Jacobian product seeded with `seeds`, run only where a seed is not zero
/// when the call is not evaluated on every path: its arguments may not be valid elsewhere (an
/// index past the end), as a scalar call's product is guarded by its seed (see [`guarded`]).
fn seeded_only(g: &mut Graph, everywhere: bool, seeds: NodeId, effect: NodeId) -> NodeId {
    let Op::Seeds(values) = g.op(seeds).clone() else {
        return effect;
    };
    if everywhere {
        return effect;
    }
    let zero = g.zero();
    let mut any: Option<NodeId> = None;
    for v in values {
        if g.as_const(v) == Some(0.0) {
            continue;
        }
        let nonzero = g.compare(Cmp::Ne, v, zero);
        any = Some(match any {
            Some(a) => g.or(a, nonzero),
            None => nonzero,
        });
    }
    match any {
        Some(c) => {
            let none = g.add(Op::NoEffect);
            g.select(c, effect, none)
        }
        None => g.add(Op::NoEffect),
    }
}

/// `effect` (seeded with `seed`), run only where `seed` is not zero when `guard` (see
/// [`seeded_only`]).
///
/// ```text
/// dot(v, v) read only in `for i in 0..n`:   if ā != 0.0 { dot::__vjp(v, v, ā, ∇v) }
/// ```
fn nonzero_only(g: &mut Graph, guard: bool, seed: NodeId, effect: NodeId) -> NodeId {
    if !guard || g.as_const(seed).is_some() {
        return effect;
    }
    let zero = g.zero();
    let nonzero = g.compare(Cmp::Ne, seed, zero);
    let none = g.add(Op::NoEffect);
    g.select(nonzero, effect, none)
}

/// The state of one reverse pass over a graph.
struct Sweep {
    active: Vec<bool>,
    /// Contributions to slice elements, summed per element, per loop nest they are made in,
    /// and per frame (a recurrence's contributions run in its reverse loop).
    scattered: Vec<(ScatterKey, NodeId)>,
    /// Calls that were passed a differentiated slice, with their adjoints (summed per call,
    /// loop nest and frame, like `scattered`).
    vjps: Vec<(ScatterKey, NodeId)>,
    /// The directional derivatives of calls given a differentiated slice (`CallJvp`s, in
    /// second derivatives), with their adjoints, keyed as `vjps`: one `__hvp` each.
    hvps: Vec<(ScatterKey, NodeId)>,
    /// Calls that were passed a local array, per argument position, with their adjoints: each
    /// array's adjoint takes its calls' vector-Jacobian products (see `Sweep::table`).
    array_vjps: Vec<(ArrayKey, NodeId)>,
    /// In second derivatives, the directional derivatives of calls given a local array with a
    /// tangent (`CallJvp`s), per argument position, with their adjoints `λ`: the array's
    /// tangent `ż` takes `λ·∇_z f` (the call's vector-Jacobian product), and the array `z`
    /// `λ·(H·ż)_z` (the callee's `__hvp`, an `ArrayVjp` of the `CallJvp`; see `array_adjoint`).
    jvp_arrays: Vec<(ArrayKey, NodeId)>,
    /// The outputs of vector-valued calls that were passed a differentiated slice or a local
    /// array, with their adjoints (keyed as `vjps`, by the `CallOutput`): per call, loop nest and
    /// frame, the seeds of one vector-Jacobian product (see [`seeds_per_call`]).
    output_vjps: Vec<(ScatterKey, NodeId)>,
    /// The nodes the function evaluates on every path (see [`read_unconditionally`]).
    unconditional: HashSet<NodeId>,
    /// Those of them it evaluates even where its loops run zero times (see
    /// [`read_without_loops`]).
    loops_aside: HashSet<NodeId>,
    /// Per element read (of a slice or a local array), the loops the function reads it in
    /// every iteration of (see [`read_in_iterations`]).
    read_in: HashMap<NodeId, Vec<LoopMask>>,
    /// Per node, the loops that the loops it reads (sums, recurrences) vary with.
    loop_reads: HashMap<NodeId, LoopMask>,
    /// The nodes the output reads (the function; not the graph's nodes that rewrites left
    /// behind, which no one reads).
    forward: Vec<NodeId>,
}

/// A slice element, the loops a contribution to it is made in, and the recurrence whose reverse
/// sweep makes it (if any).
type ScatterKey = (NodeId, LoopMask, Option<u32>);

/// A call passed a local array, the loops and recurrence it is made in (as [`ScatterKey`]),
/// and the argument's position.
type ArrayKey = (NodeId, LoopMask, Option<u32>, u32);

/// The adjoints of one sweep: the whole graph, or the body of one recurrence.
struct Frame {
    adjoint: HashMap<NodeId, NodeId>,
    /// `(s, v)` for the body of a recurrence over loop `v`, swept by reverse sweep `s`.
    fold: Option<(u32, u32)>,
    /// The loops around the recurrence: the frame is one iteration of them, so its nodes are
    /// treated as varying with them, and nothing is summed over them inside it.
    outer: LoopMask,
    /// Per-iteration contributions to nodes outside the recurrence's loop.
    exits: Vec<(NodeId, NodeId)>,
    /// Nodes of the body that do not change with the recurrence's loop but are evaluated in a
    /// sum nested in the body that does (see [`swept_in_body`]): swept in the body, per
    /// iteration, rather than left.
    nested: HashSet<NodeId>,
    /// Contributions to a node kept per iteration of loops it is not in, with those loops (see
    /// [`Sweep::contribute`]).
    deferred: HashMap<NodeId, Vec<(LoopMask, NodeId)>>,
    /// The body of coupled state carrying arrays: the local arrays built in it are swept in its
    /// reverse loop.
    arrays: bool,
    /// Adjoints of whole arrays (vectors): the adjoint `λ` of an array carried across a loop's
    /// iterations, given to its value after an iteration, and the adjoint of its initial value.
    wholes: HashMap<NodeId, Vec<NodeId>>,
}

impl Frame {
    fn new(fold: Option<(u32, u32)>, outer: LoopMask) -> Frame {
        Frame {
            adjoint: HashMap::new(),
            fold,
            outer,
            exits: Vec::new(),
            nested: HashSet::new(),
            deferred: HashMap::new(),
            arrays: false,
            wholes: HashMap::new(),
        }
    }
}

impl Sweep {
    /// Visits `nodes` (increasing order) in reverse, pushing each one's adjoint to its children.
    fn sweep(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        nodes: &[NodeId],
    ) -> Result<(), DiffError> {
        let mut scans = CoupledScans::of(g, nodes, &self.active);
        for &n in nodes.iter().rev() {
            if !self.active[n.index()] {
                continue;
            }
            if let Op::CoupledScan { .. } = g.op(n) {
                self.coupled_scan(g, frame, n, &mut scans)?;
                continue;
            }
            if let Op::Table { .. } | Op::Filled { .. } | Op::Scanned { .. } = g.op(n) {
                self.table(g, frame, n)?;
                continue;
            }
            // Coupled recurrences are swept at the group, from the adjoints its members' values
            // (`Component`s, read after it) gathered.
            match *g.op(n) {
                Op::Coupled { .. } => {
                    self.coupled(g, frame, n)?;
                    continue;
                }
                Op::Component(of, _) if matches!(g.op(of), Op::Coupled { .. }) => continue,
                _ => {}
            }
            if let Some(adj) = frame.adjoint.get(&n).copied() {
                if let Op::Fold { .. } = g.op(n) {
                    self.fold(g, frame, n, adj, None)?;
                    continue;
                }
                // A node nested in a recurrence's body (see `swept_in_body`) is one iteration's.
                let own = frame.fold.map_or(0, |(_, v)| 1 << v);
                self.push_through(g, frame, n, adj, g.loops_of(n) | own)?;
            }
            // The contributions kept per iteration of loops the node is not in (see
            // `contribute`; never a recurrence's).
            for (inner, adj) in frame.deferred.remove(&n).unwrap_or_default() {
                self.push_through(g, frame, n, adj, g.loops_of(n) | inner)?;
            }
        }
        Ok(())
    }

    /// Pushes `adj`, the adjoint of `n` made in the loops `from`, through `n`'s local
    /// derivatives to its children (and a call's vector-Jacobian product).
    fn push_through(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        adj: NodeId,
        from: LoopMask,
    ) -> Result<(), DiffError> {
        if let Op::CallOutput(call, _) = *g.op(n)
            && self.passes_vectors(g, call)
        {
            let key = (n, from | frame.outer, frame.fold.map(|(c, _)| c));
            add_to(g, &mut self.output_vjps, key, adj);
        }
        if let Op::CallJvp(call, _) = *g.op(n)
            && let Op::Call(_, args) = g.op(g.called(call))
            && args
                .iter()
                .any(|a| matches!(g.op(*a), Op::SliceArg(..)) && self.active[a.index()])
        {
            let key = (n, from | frame.outer, frame.fold.map(|(c, _)| c));
            add_to(g, &mut self.hvps, key, adj);
        }
        if let Op::CallJvp(call, _) = *g.op(n)
            && let Op::Call(_, args) = g.op(g.called(call))
        {
            let arrays: Vec<u32> = args
                .iter()
                .enumerate()
                .filter(|(_, a)| g.kind(**a) == Kind::Array && self.active[a.index()])
                .filter_map(|(j, _)| u32::try_from(j).ok())
                .collect();
            for position in arrays {
                let key = (n, from | frame.outer, frame.fold.map(|(c, _)| c), position);
                add_to(g, &mut self.jvp_arrays, key, adj);
            }
        }
        if let Op::Call(_, args) = g.op(n).clone() {
            let slice_active = args
                .iter()
                .any(|a| matches!(g.op(*a), Op::SliceArg(..)) && self.active[a.index()]);
            if slice_active {
                let key = (n, from | frame.outer, frame.fold.map(|(c, _)| c));
                add_to(g, &mut self.vjps, key, adj);
            }
            let arrays: Vec<u32> = args
                .iter()
                .enumerate()
                .filter(|(_, a)| g.kind(**a) == Kind::Array && self.active[a.index()])
                .filter_map(|(j, _)| u32::try_from(j).ok())
                .collect();
            for position in arrays {
                let key = (n, from | frame.outer, frame.fold.map(|(c, _)| c), position);
                add_to(g, &mut self.array_vjps, key, adj);
            }
        }
        // A child reached twice (`a·a`, `hypot(a, a)`) gets one summed contribution, as a
        // person writes it (`2·a·ā`), before it joins the others.
        let mut merged: Vec<(NodeId, NodeId)> = Vec::new();
        // A node evaluated only under a condition (in a branch, in a loop body's branch)
        // whose adjoint was summed outside that condition: its chain-rule step runs only
        // where the adjoint is not zero. `Σᵢ if c { √w·xᵢ }` never taking the branch gives
        // `∂/∂w = 0`, not `0 / (2√w) = NaN` at `w < 0`. So does a node outside every loop
        // that only loops read, whose adjoint is their sum: `Σᵢ xᵢ·ln(y)` over an empty loop
        // gives `∂/∂y = 0`, not `0 / y = NaN` at `y = 0`.
        // (Not where the adjoint is pushed through in those loops' iterations, nor where the
        // node's derivatives are constants, `±ā`, `k·ā`.)
        let zero = g.zero();
        let local = local_adjoints(g, n, adj)?;
        let read_only_by_loops = !self.loops_aside.contains(&n)
            && from & !g.loops_of(n) == 0
            && !local.iter().all(|(_, c)| scales(g, *c, adj));
        // So does an element of a local array (its adjoint an element of the array's adjoint
        // vector, zero for an element nothing reads) whose derivative divides: `z[i] =
        // x[i].sqrt()` with `z[0]` unread gives `∂/∂x[0] = 0`, not `0 / (2√0) = NaN`.
        // (An adjoint that is a select with a zero side is zero there already, unless the
        // step divides by a value that is not finite there: `ā / (2√r)` with `ā = if k > 0 {
        // k·w } else { 0 }` and `r` the square root of a negative number, read only by a loop
        // over `0..k`, gave `0 / NaN`.)
        let divides_any = local.iter().any(|(_, c)| divides(g, *c, adj));
        let unread_element = of_elements(g, adj) && divides_any;
        let guard = ((!self.unconditional.contains(&n) || read_only_by_loops || unread_element)
            && (!matches!(g.op(adj), Op::Select(..)) || divides_any))
            .then(|| g.compare(Cmp::Ne, adj, zero));
        for (child, contribution) in local {
            let contribution = match guard {
                Some(nonzero) => g.select(nonzero, contribution, zero),
                None => contribution,
            };
            add_to(g, &mut merged, child, contribution);
        }
        // A sum's body is evaluated in every iteration of its loop, even a body that does not
        // change with it (`Σ(i in 0..d) Σ(j in 0..d - 1) …`): its adjoint is summed over the
        // loop (`d · ā`), not taken once.
        let from = match *g.op(n) {
            Op::Sum { v, .. } => from | 1 << v,
            _ => from,
        };
        for (child, contribution) in merged {
            self.contribute(g, frame, from, child, contribution);
        }
        Ok(())
    }

    /// Whether `call` is given a differentiated slice or a local array (whose gradient its
    /// vector-Jacobian product writes).
    fn passes_vectors(&self, g: &Graph, call: NodeId) -> bool {
        let Op::Call(_, args) = g.op(call) else {
            return false;
        };
        args.iter().any(|a| {
            (matches!(g.op(*a), Op::SliceArg(..)) || g.kind(*a) == Kind::Array)
                && self.active[a.index()]
        })
    }

    /// Adds `contribution`, made by a node inside the loops `from`, to `child`'s adjoint.
    fn contribute(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        from: LoopMask,
        child: NodeId,
        contribution: NodeId,
    ) {
        if !self.active.get(child.index()).copied().unwrap_or(false) {
            return;
        }
        // The adjoint of a whole array: each of its elements gets its element (see
        // `array_adjoint`).
        if g.kind(contribution) == Kind::Array {
            frame.wholes.entry(child).or_default().push(contribution);
            return;
        }
        let from = from | frame.outer;
        // In a recurrence's body, a node swept there is one iteration's (`nested` ones too).
        let own = frame.fold.map_or(0, |(_, v)| 1 << v);
        let child_loops = g.loops_of(child) | frame.outer | own;
        // An element of a differentiated slice (or of a local array): scatter the contribution
        // where it is made, inside all the loops it belongs to (`∇x[i] += …` may run many times
        // per element).
        if matches!(g.op(child), Op::Element(..) | Op::At(..)) {
            let key = (child, from, frame.fold.map(|(c, _)| c));
            add_to(g, &mut self.scattered, key, contribution);
            return;
        }
        // Leaving a recurrence's loop: kept per iteration until the reverse sweep exists.
        if let Some((_, v)) = frame.fold {
            if g.loops_of(child) & (1 << v) == 0 && !frame.nested.contains(&child) {
                let inner = from & !child_loops & !(1 << v);
                let contribution = sum_over_left_loops(g, inner, contribution);
                add_to(g, &mut frame.exits, child, contribution);
                return;
            }
        }
        // Summing over the loops the child is not in, at the child (`Σᵢ āᵢ·∂uᵢ/∂c` once per
        // `c`), is what a person writes (`r` and `r·x` accumulated, scaled after the loop) —
        // unless the summand reads a loop that varies with them: `c = exp(w[j])` read in
        // `qᵢ = Σⱼ c·x[i·d + j]`, with `Σᵢ exp(qᵢ)·x[i·d + j]` at each `j`, would rerun the loop
        // over `j` inside each `j` (`n·d²`). Then the contribution stays per iteration and goes
        // on through the child's own derivative in those loops (`n·d`, as by hand).
        let left = from & !child_loops;
        if left != 0
            && frame.fold.is_none()
            // A leaf's adjoint is read as it is (a parameter's gradient); a recurrence and a
            // call are swept at their own level.
            && !g.op(child).children().is_empty()
            && !matches!(
                g.op(child),
                Op::Fold { .. } | Op::Call(..) | Op::Component(..)
            )
            && self.reads_loop_varying_with(g, contribution) & left != 0
        {
            add_to(
                g,
                frame.deferred.entry(child).or_default(),
                left,
                contribution,
            );
            return;
        }
        let contribution = sum_over_left_loops(g, left, contribution);
        let sum = match frame.adjoint.get(&child) {
            Some(prev) => g.plus(*prev, contribution),
            None => contribution,
        };
        frame.adjoint.insert(child, sum);
    }

    /// The loops that the loops `x` reads (sums, recurrences, reverse sweeps: not looking
    /// inside them) vary with.
    fn reads_loop_varying_with(&mut self, g: &Graph, x: NodeId) -> LoopMask {
        let mut stack = vec![(x, false)];
        while let Some((n, expanded)) = stack.pop() {
            if self.loop_reads.contains_key(&n) {
                continue;
            }
            let op = g.op(n);
            if matches!(
                op,
                Op::Sum { .. }
                    | Op::Fold { .. }
                    | Op::RevFold { .. }
                    | Op::Coupled { .. }
                    | Op::RevCoupled { .. }
                    | Op::Until { .. }
                    | Op::Table { .. }
                    | Op::Filled { .. }
            ) {
                self.loop_reads.insert(n, g.loops_of(n));
            } else if expanded {
                let m = op.children().iter().fold(0, |m, c| m | self.loop_reads[c]);
                self.loop_reads.insert(n, m);
            } else {
                stack.push((n, true));
                stack.extend(op.children().into_iter().map(|c| (c, false)));
            }
        }
        self.loop_reads[&x]
    }

    /// A local array `z = Table { v, len, body }` read as `z[i]` (`At`): the reads scattered
    /// their adjoints, per element, like a slice's (see `contribute`). Those scatters fill the
    /// table's adjoint, a vector `z̄` (a `Filled`), and each element's body then gets its own
    /// adjoint `z̄[v]`: `z̄ = 0; for each read z[i] { z̄[i] += ā }; for v { body(v) gets z̄[v] }`,
    /// what a person writes by hand. Reads of a table inside a recurrence's body scatter from
    /// its reverse loop, as a slice's do.
    fn table(&mut self, g: &mut Graph, frame: &mut Frame, n: NodeId) -> Result<(), DiffError> {
        built_outside_recurrences(g, frame, n)?;
        let Some(adjoint) = self.array_adjoint(g, frame, n)? else {
            return Ok(());
        };
        match *g.op(n) {
            Op::Table { v, lo, body, .. } => {
                let index = g.add(Op::LoopVar(v));
                let index = g.int_bin(IntOp::Sub, index, lo);
                let element = g.add(Op::AdjAt(adjoint, index));
                let from = g.loops_of(n) | 1 << v;
                self.contribute(g, frame, from, body, element);
            }
            // The values of a recurrence after each iteration: its reverse sweep, seeded with
            // zero, each iteration's `λ` given the adjoint of the element it wrote.
            Op::Scanned {
                c,
                v,
                lo,
                hi,
                init,
                body,
            } => {
                let fold = g.add(Op::Fold {
                    c,
                    v,
                    lo,
                    hi,
                    init,
                    body,
                });
                let seed = g.zero();
                self.fold(g, frame, fold, seed, Some(adjoint))?;
            }
            Op::Filled { alloc, fill } => match *g.op(alloc) {
                Op::Alloc {
                    like, zero: false, ..
                } => self.buffer(g, frame, n, like, fill, adjoint)?,
                _ => return Err(internal("an adjoint differentiated again")),
            },
            _ => {}
        }
        Ok(())
    }

    /// The values of a member of coupled recurrences after each iteration (an
    /// [`Op::CoupledScan`]): its adjoint noted, and at the last of the state's members' values
    /// this sweep visits (the lowest node: every read of each of them, a node above it, is
    /// swept by then), the state's reverse sweep, seeded with zeros, each noted member's `λₖ`
    /// given the adjoint of the element it wrote in every iteration: one sweep for all of them
    /// (an integrator's `pos[i] = x; vel[i] = v;`), not one each.
    fn coupled_scan(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        scans: &mut CoupledScans,
    ) -> Result<(), DiffError> {
        built_outside_recurrences(g, frame, n)?;
        let Some((state, k)) = scanned_state(g, n) else {
            return Ok(());
        };
        let adjoint = self.array_adjoint(g, frame, n)?;
        let noted = scans.noted.entry(state).or_default();
        noted.extend(adjoint.map(|a| (k, a)));
        if scans.last.get(&state) != Some(&n) {
            return Ok(());
        }
        let noted = scans.noted.remove(&state).unwrap_or_default();
        if noted.is_empty() {
            return Ok(());
        }
        let members = g.coupled_parts(state).map_or(0, |p| p.1.len());
        self.coupled_sweep(g, frame, state, &vec![None; members], &noted)
    }

    /// The adjoint `z̄` of the array `n` (a `Filled`: a vector, zeros, then the additions):
    /// each read `z[i]` adds its adjoint to `z̄[i]`, each call given `z` its vector-Jacobian
    /// product, and an adjoint of the whole array (`frame.adjoint`, where `n` is carried across
    /// a loop's iterations or is its initial value) each of its elements. `None` where nothing
    /// reads `n`.
    fn array_adjoint(
        &mut self,
        g: &mut Graph,
        frame: &Frame,
        n: NodeId,
    ) -> Result<Option<NodeId>, DiffError> {
        self.array_adjoint_as_long_as(g, frame, n, n)
    }

    /// [`array_adjoint`](Self::array_adjoint), its vector as long as the array `like` (of `n`'s
    /// length): an array carried across a loop's iterations, and its value after the loop,
    /// take its initial value's length, so that the reverse sweep need not keep its rows nor
    /// its value (an inner loop's, kept per outer iteration) to know it.
    fn array_adjoint_as_long_as(
        &mut self,
        g: &mut Graph,
        frame: &Frame,
        n: NodeId,
        like: NodeId,
    ) -> Result<Option<NodeId>, DiffError> {
        let buf = g.new_buffer();
        let alloc = g.add(Op::Alloc {
            buf,
            like,
            zero: true,
            mask: 0,
        });
        let own = g.loops_of(n);
        let mut fill = None;
        for whole in frame.wholes.get(&n).cloned().unwrap_or_default() {
            let zero = g.int(0);
            let len = g.array_len(n);
            let v = g.new_loop(zero, len).ok_or_else(|| too_many_loops(g, n))?;
            let j = g.add(Op::LoopVar(v));
            let value = g.add(Op::AdjAt(whole, j));
            let add = g.add(Op::Accumulate { alloc, i: j, value });
            let copy = g.loop_sum(v, add);
            fill = Some(join_effect(g, fill, copy));
        }
        let reads: Vec<(ScatterKey, NodeId)> = self
            .scattered
            .iter()
            .filter(|((e, ..), _)| matches!(g.op(*e), Op::At(t, _) if *t == n))
            .copied()
            .collect();
        self.scattered
            .retain(|((e, ..), _)| !matches!(g.op(*e), Op::At(t, _) if *t == n));
        for ((read, loops, _), contribution) in reads {
            let Op::At(_, i) = *g.op(read) else {
                continue;
            };
            let everywhere = self.unconditional.contains(&read);
            // (As a slice's element, see `scatter_effects`: `z̄[0] += Σ…` once after a loop
            // that reads `z[0]` and may not run, where `z` may be empty; only at an index
            // outside every loop: an element's adjoint routed per element, `z̄[j] += λ[j]`,
            // is not tested per element.)
            let once =
                g.loops_of(i) == 0 && !read_there(&self.read_in, read, loops | g.loops_of(read));
            push_effect(
                g,
                &mut fill,
                loops,
                everywhere,
                own,
                contribution,
                &mut |g, value, tested| {
                    let effect = g.add(Op::Accumulate { alloc, i, value });
                    nonzero_only(g, once && !tested, value, effect)
                },
            );
        }
        let calls: Vec<(ArrayKey, NodeId)> = self
            .array_vjps
            .iter()
            .filter(|((call, _, _, j), _)| matches!(g.op(*call), Op::Call(_, args) if args.get(*j as usize) == Some(&n)))
            .copied()
            .collect();
        self.array_vjps
            .retain(|((call, _, _, j), _)| !matches!(g.op(*call), Op::Call(_, args) if args.get(*j as usize) == Some(&n)));
        for ((call, loops, _, position), adj) in calls {
            let everywhere = self.unconditional.contains(&call);
            push_effect(
                g,
                &mut fill,
                loops,
                everywhere,
                own,
                adj,
                &mut |g, seed, _| {
                    g.add(Op::ArrayVjp {
                        call,
                        seed,
                        alloc,
                        position,
                    })
                },
            );
        }
        self.jvp_array_products(g, n, alloc, own, &mut fill);
        // Vector-valued calls given the array: one product per call, seeded with the adjoints
        // of its outputs.
        for ((call, loops, _), seeds) in seeds_per_call(g, &self.output_vjps) {
            let Op::Call(_, args) = g.op(call).clone() else {
                continue;
            };
            for (position, _) in args.iter().enumerate().filter(|(_, a)| **a == n) {
                let position = u32::try_from(position).unwrap_or(u32::MAX);
                let everywhere = self.unconditional.contains(&call);
                push_effect(g, &mut fill, loops, true, own, seeds, &mut |g, seed, _| {
                    let effect = g.add(Op::ArrayVjp {
                        call,
                        seed,
                        alloc,
                        position,
                    });
                    seeded_only(g, everywhere, seed, effect)
                });
            }
        }
        Ok(fill.map(|fill| g.filled(alloc, fill)))
    }

    /// In second derivatives, the products a call's directional derivative `ḟ = ∇_z f·ż + …`
    /// (a `CallJvp`, adjoint `λ`) adds into the adjoint `alloc` of `n`, a local array passed to
    /// the call (`z`) or the tangent of one (`ż`): `λ·(H·ż)_z` into `z̄`, from the callee's
    /// `__hvp` (an `ArrayVjp` of the `CallJvp` itself), and `λ·∇_z f` into `ż̄`, the call's
    /// vector-Jacobian product (of output `k` alone, for a vector-valued call's `ẏ_k`).
    fn jvp_array_products(
        &mut self,
        g: &mut Graph,
        n: NodeId,
        alloc: NodeId,
        own: LoopMask,
        fill: &mut Option<NodeId>,
    ) {
        // (Each product is listed once, by the `CallJvp` and the position: the array passed
        // there and its tangent each take their own part from it.)
        for ((jvp, loops, _, position), adj) in self.jvp_arrays.clone() {
            let Op::CallJvp(call, dots) = g.op(jvp).clone() else {
                continue;
            };
            let Op::Call(_, args) = g.op(g.called(call)).clone() else {
                continue;
            };
            let j = position as usize;
            let (Some(&arg), Some(&tangent)) = (args.get(j), dots.get(j)) else {
                continue;
            };
            let everywhere = self.unconditional.contains(&jvp);
            if arg == n {
                push_effect(g, fill, loops, everywhere, own, adj, &mut |g, seed, _| {
                    g.add(Op::ArrayVjp {
                        call: jvp,
                        seed,
                        alloc,
                        position,
                    })
                });
            }
            // (An array without a tangent is its own entry among `dots`: nothing to add.)
            if tangent == n && tangent != arg {
                let (target, output) = match *g.op(call) {
                    Op::CallOutput(inner, k) => (inner, Some(k)),
                    _ => (call, None),
                };
                push_effect(g, fill, loops, everywhere, own, adj, &mut |g, seed, _| {
                    let seed = match output {
                        Some(k) => {
                            let mut values = vec![g.zero(); k as usize];
                            values.push(seed);
                            g.add(Op::Seeds(values))
                        }
                        None => seed,
                    };
                    g.add(Op::ArrayVjp {
                        call: target,
                        seed,
                        alloc,
                        position,
                    })
                });
            }
        }
    }

    /// The adjoint `z̄` (a `Filled`) of `z`, an array added into: `init` plus the
    /// accumulations `z[k] += e` of `fill`: each `e` gets `z̄[k]` in its own iteration, and
    /// `init` gets `z̄` whole (each of its elements `z̄[j]`, as if read by a copy loop).
    fn buffer(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        init: NodeId,
        fill: NodeId,
        adjoint: NodeId,
    ) -> Result<(), DiffError> {
        for (k, value, guards, loops) in accumulations(g, fill)? {
            let element = g.add(Op::AdjAt(adjoint, k));
            // An addition made only where conditions hold gets `z̄[k]` only there.
            let element = match guards.split_first() {
                None => element,
                Some((first, rest)) => {
                    let holds = rest.iter().fold(*first, |c, d| g.and(c, *d));
                    let zero = g.zero();
                    g.select(holds, element, zero)
                }
            };
            // The loops the addition runs in count, even where neither `k` nor `e` varies with
            // them: `for _ in 0..m { z[n] -= t; }` adds `t` m times (the conditions too: `if i
            // % 2 == 1 { h[0] += x; }` adds `x` in some iterations only).
            let from = loops | g.loops_of(value) | g.loops_of(k) | g.loops_of(element);
            self.contribute(g, frame, from, value, element);
        }
        if !self.active.get(init.index()).copied().unwrap_or(false) {
            return Ok(());
        }
        let zero = g.int(0);
        let len = g.array_len(init);
        let Some(v) = g.new_loop(zero, len) else {
            return Err(DiffError {
                origin: g.node(n).origin,
                message: "too many loops in one function (128 at most)".into(),
                help: "split the function",
            });
        };
        let j = g.add(Op::LoopVar(v));
        let read = g.add(Op::At(init, j));
        if self.active.len() < g.len() {
            self.active.resize(g.len(), false);
        }
        self.active[read.index()] = true;
        let element = g.add(Op::AdjAt(adjoint, j));
        self.contribute(g, frame, g.loops_of(n) | 1 << v, read, element);
        Ok(())
    }

    /// The adjoint `adj` of recurrence `fold` (`s = init; for v { s = body(s) }`) flows back
    /// through its iterations: `λ = adj; for v in rev { exits += λ·∂body/∂θ; λ = λ·∂body/∂s }`,
    /// and `init` gets the final `λ`. With `scanned`, the adjoint `z̄` of the recurrence's
    /// values after each iteration (an [`Op::Scanned`] array), iteration `v`'s new value also
    /// gets `z̄[v − lo]`: `λ' = λ + z̄[v − lo]` in place of `λ`.
    fn fold(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        adj: NodeId,
        scanned: Option<NodeId>,
    ) -> Result<(), DiffError> {
        let Op::Fold {
            c, v, init, body, ..
        } = *g.op(n)
        else {
            return Ok(());
        };
        let (inside, nested) = swept_in_body(g, &[body], v);
        let carry = inside
            .iter()
            .copied()
            .find(|m| matches!(g.op(*m), Op::Carry { c: k, .. } if *k == c));
        // The sweep runs once per iteration of the loops the fold is in, and of those its
        // adjoint varies with: a recurrence nested in another one's body (`p *= y[j]` inside
        // `m = m.max(p)` inside an outer loop) does not vary with the outer loop, but its
        // adjoint, the outer sweep's `λ`, does.
        let outer = g.loops_of(n) | frame.outer;
        let mask = carry.map_or(outer | 1 << v, |s| g.loops_of(s) | outer);
        let sweep = g.new_sweep();
        let mut lambda = g.add(Op::Adjoint { sweep, v, mask });
        if let (Some(values), &Op::Fold { lo, .. }) = (scanned, g.op(n)) {
            let index = g.add(Op::LoopVar(v));
            let index = g.int_bin(IntOp::Sub, index, lo);
            let element = g.add(Op::AdjAt(values, index));
            lambda = g.plus(lambda, element);
        }
        let mut body_frame = Frame::new(Some((sweep, v)), outer);
        body_frame.nested = nested;
        // Each iteration's new value gets `λ` (through `contribute`: a body that does not change
        // with the iteration, `s = w`, is a contribution leaving the loop in every iteration).
        let from = g.loops_of(body) | 1 << v;
        self.contribute(g, &mut body_frame, from, body, lambda);
        self.sweep(g, &mut body_frame, &inside)?;
        let step = carry
            .and_then(|s| body_frame.adjoint.get(&s).copied())
            .unwrap_or_else(|| g.zero());
        let reverse = g.add(Op::RevFold {
            sweep,
            v,
            fold: n,
            seed: adj,
            step,
        });
        // The sums over the loop first, then their uses: they all follow the `RevFold`.
        let from = g.loops_of(n);
        self.contribute_exits(g, frame, from, v, &body_frame);
        self.contribute(g, frame, from, init, reverse);
        Ok(())
    }
}

impl Sweep {
    /// What left the body of a recurrence's loop `v` per iteration (`body.exits`), summed over
    /// the loop, to the nodes outside it.
    fn contribute_exits(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        from: LoopMask,
        v: u32,
        body: &Frame,
    ) {
        let exits: Vec<(NodeId, NodeId)> = body
            .exits
            .iter()
            .map(|&(child, per_iteration)| (child, g.loop_sum(v, per_iteration)))
            .collect();
        for (child, total) in exits {
            self.contribute(g, frame, from, child, total);
        }
    }

    /// The adjoint `whole` of the array `n` (a vector), made in the loops `from`, added into
    /// `n`'s adjoint element by element, as reads `n[j]` in a loop over its elements would.
    fn scatter_whole(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        from: LoopMask,
        n: NodeId,
        whole: NodeId,
    ) -> Result<(), DiffError> {
        let zero = g.int(0);
        let len = g.array_len(n);
        let v = g.new_loop(zero, len).ok_or_else(|| too_many_loops(g, n))?;
        let j = g.add(Op::LoopVar(v));
        let read = g.add(Op::At(n, j));
        if self.active.len() < g.len() {
            self.active.resize(g.len(), false);
        }
        self.active[read.index()] = true;
        let element = g.add(Op::AdjAt(whole, j));
        self.contribute(g, frame, from | 1 << v, read, element);
        Ok(())
    }

    /// Coupled recurrences `n` (`sₖ = bodyₖ(s₀, …, s_K₋₁)` together, one loop): the adjoints
    /// of the members' final values (gathered at their `Component`s) flow back through the
    /// iterations, one `λₖ` per member, `λₖ ← Σⱼ λⱼ·∂bodyⱼ/∂sₖ` at the iteration's saved state
    /// (the body frame's adjoint of each `Carry`), as a person writes the adjoint of an
    /// integrator by hand; what leaves the bodies is summed in the same reverse loop, and
    /// `initₖ` gets the final `λₖ`.
    fn coupled(&mut self, g: &mut Graph, frame: &mut Frame, n: NodeId) -> Result<(), DiffError> {
        let Op::Coupled { .. } = *g.op(n) else {
            return Ok(());
        };
        let Some((inits, bodies)) = g.coupled_parts(n) else {
            return Err(internal("coupled recurrences without their parts"));
        };
        let (inits, bodies) = (inits.to_vec(), bodies.to_vec());
        let k = u32::try_from(bodies.len()).map_err(|_| internal("too many coupled variables"))?;
        let arrays: Vec<bool> = inits.iter().map(|i| g.kind(*i) == Kind::Array).collect();
        let mut seeds: Vec<Option<NodeId>> = Vec::new();
        for j in 0..k {
            let Some(m) = g.find(&Op::Component(n, j)) else {
                seeds.push(None);
                continue;
            };
            seeds.push(if arrays[j as usize] {
                self.array_adjoint_as_long_as(g, frame, m, inits[j as usize])?
            } else {
                frame.adjoint.get(&m).copied()
            });
        }
        if seeds.iter().all(Option::is_none) {
            return Ok(());
        }
        self.coupled_sweep(g, frame, n, &seeds, &[])
    }

    /// The reverse sweep of coupled recurrences `n` (see [`coupled`](Self::coupled)) from the
    /// adjoints `seeds` of the members' final values (`None`: zero). For each of `scanned`
    /// (member `k` and the adjoint `z̄` of its values after each iteration, an
    /// [`Op::CoupledScan`]), iteration `v`'s new value of member `k` also gets `z̄[v − lo]`:
    /// `λₖ' = λₖ + z̄[v − lo]` in place of `λₖ`.
    fn coupled_sweep(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        seeds: &[Option<NodeId>],
        scanned: &[(u32, NodeId)],
    ) -> Result<(), DiffError> {
        let (&Op::Coupled { c, v, lo, .. }, Some((inits, bodies))) = (g.op(n), g.coupled_parts(n))
        else {
            return Err(internal("coupled recurrences without their parts"));
        };
        let (inits, bodies) = (inits.to_vec(), bodies.to_vec());
        let k = u32::try_from(bodies.len()).map_err(|_| internal("too many coupled variables"))?;
        let arrays: Vec<bool> = inits.iter().map(|i| g.kind(*i) == Kind::Array).collect();
        check_carried_arrays(g, n, &arrays, &inits, &bodies)?;
        let (inside, nested) = swept_in_body(g, &bodies, v);
        let carries: Vec<Option<NodeId>> = (0..k)
            .map(|j| {
                inside
                    .iter()
                    .copied()
                    .find(|m| matches!(g.op(*m), Op::Carry { c: d, .. } if *d == c + j))
            })
            .collect();
        // As for one recurrence (see `fold`): once per iteration of the loops around it and of
        // those its adjoints vary with.
        let outer = g.loops_of(n) | frame.outer;
        let mask = carries
            .iter()
            .flatten()
            .fold(outer | 1 << v, |m, s| m | g.loops_of(*s));
        let sweep = g.new_sweeps(k);
        let mut body_frame = Frame::new(Some((sweep, v)), outer);
        body_frame.nested = nested;
        body_frame.arrays = arrays.contains(&true);
        let index = g.add(Op::LoopVar(v));
        let index = g.int_bin(IntOp::Sub, index, lo);
        let scanned: Vec<(u32, NodeId)> = scanned
            .iter()
            .map(|&(member, values)| (member, g.add(Op::AdjAt(values, index))))
            .collect();
        let cleared = self.seed_bodies(g, &mut body_frame, n, (mask, &scanned), &carries)?;
        self.sweep(g, &mut body_frame, &inside)?;
        no_whole_leaves(g, &body_frame, v)?;
        let zero = g.zero();
        let mut parts: Vec<NodeId> = Vec::new();
        for (j, seed) in seeds.iter().enumerate() {
            parts.push(match (seed, arrays[j]) {
                (Some(s), _) => *s,
                (None, false) => zero,
                (None, true) => zeros_like(g, inits[j]),
            });
        }
        for (j, carry) in carries.iter().enumerate() {
            if let Some(step) = cleared[j] {
                parts.push(step);
                continue;
            }
            let step = match (carry, arrays[j]) {
                (Some(s), true) => self.array_adjoint_as_long_as(g, &body_frame, *s, inits[j])?,
                (Some(s), false) => body_frame.adjoint.get(s).copied(),
                (None, _) => None,
            };
            parts.push(match (step, arrays[j]) {
                (Some(s), _) => s,
                (None, false) => zero,
                (None, true) => zeros_like(g, inits[j]),
            });
        }
        let reverse = g.add(Op::RevCoupled {
            sweep,
            v,
            fold: n,
            parts,
        });
        // The sums over the loop first, then their uses: they all follow the `RevCoupled`.
        let from = g.loops_of(n);
        self.contribute_exits(g, frame, from, v, &body_frame);
        for (j, &init) in (0..k).zip(&inits) {
            let adjoint = g.add(Op::Component(reverse, j));
            self.contribute_whole(g, frame, from, init, adjoint)?;
        }
        Ok(())
    }

    /// Gives each member's body of coupled state `n` its adjoint `λ` in the body's frame
    /// (sweep `s` of `frame.fold`, `λ`s varying with `mask`), and returns per member its `λ`'s
    /// step where that is its own stretch cleared (see [`cleared_step`](Self::cleared_step)).
    fn seed_bodies(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        n: NodeId,
        (mask, scanned): (LoopMask, &[(u32, NodeId)]),
        carries: &[Option<NodeId>],
    ) -> Result<Vec<Option<NodeId>>, DiffError> {
        let (Op::Coupled { c, .. }, Some((inits, bodies)), Some((sweep, v))) =
            (g.op(n), g.coupled_parts(n), frame.fold)
        else {
            return Err(internal("coupled recurrences without their parts"));
        };
        let (c, inits, bodies) = (*c, inits.to_vec(), bodies.to_vec());
        let mut cleared: Vec<Option<NodeId>> = vec![None; bodies.len()];
        for ((j, &body), init) in (0u32..).zip(&bodies).zip(inits) {
            let array = g.kind(init) == Kind::Array;
            let mut lambda = if array {
                g.array_adjoint(sweep + j, v, mask)
            } else {
                g.add(Op::Adjoint {
                    sweep: sweep + j,
                    v,
                    mask,
                })
            };
            for &(_, element) in scanned.iter().filter(|s| s.0 == j) {
                lambda = g.plus(lambda, element);
            }
            let from = g.loops_of(body) | 1 << v;
            let carry = carries.get(j as usize).copied().flatten();
            if array
                && let Some(patch) = patch_swept_in_place(g, &self.forward, n, c + j, body, carry)
            {
                cleared[j as usize] = Some(self.cleared_step(g, frame, from, body, patch, lambda)?);
                continue;
            }
            // (The same array every iteration, `h[j] = w[j]`: see `contribute_whole`.)
            self.contribute_whole(g, frame, from, body, lambda)?;
        }
        Ok(cleared)
    }

    /// The step of `λ`, the adjoint of member `body`, an in-place stretch patch of the
    /// member's own value that only the loop reads, its old value read by the patch alone
    /// ([`patch_swept_in_place`]): the stretch of `λ` goes to the written values' adjoint, and
    /// the rest of `λ` to the iteration before, unchanged, so `λ` steps by clearing its stretch
    /// ([`Op::Cleared`], in place), as a person writes it, O(stretch) rather than routing the
    /// whole vector through a copy:
    ///
    /// ```text
    /// before: z = 0; z += λ; for j in 0..n { if lo <= j < hi { w̄[j − lo] += z[j] } else { s̄[j] += z[j] } }; λ = s̄
    /// after:  for j in lo..min(hi, n) { w̄[j − lo] += λ[j] }; for j in lo..min(hi, n) { λ[j] = 0 }
    /// ```
    fn cleared_step(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        from: LoopMask,
        body: NodeId,
        patch: StretchPatch,
        lambda: NodeId,
    ) -> Result<NodeId, DiffError> {
        let len = g.array_len(body);
        let short = g.compare(Cmp::Lt, patch.hi, len);
        let end = g.select(short, patch.hi, len);
        let v = g
            .new_loop(patch.lo, end)
            .ok_or_else(|| too_many_loops(g, body))?;
        let j = g.add(Op::LoopVar(v));
        let offset = g.int_bin(IntOp::Sub, j, patch.lo);
        let read = g.add(Op::At(patch.written, offset));
        if self.active.len() < g.len() {
            self.active.resize(g.len(), false);
        }
        self.active[read.index()] = self.active[patch.written.index()];
        let element = g.add(Op::AdjAt(lambda, j));
        self.contribute(g, frame, from | 1 << v, read, element);
        Ok(g.add(Op::Cleared {
            adjoint: lambda,
            lo: patch.lo,
            hi: patch.hi,
        }))
    }

    /// The adjoint of a coupled recurrence's initial value or body `n`, made in loops `from`,
    /// given to it. An array built outside one of those loops (a body that is the same array
    /// every iteration, `h[j] = w[j]`; an initial value hoisted out of a time loop, `let inp =
    /// vec![x; k];` before a layer loop in it) takes each iteration's adjoint element by element
    /// where it is made (`scatter_whole`): as a whole it would reach no sweep of its own.
    fn contribute_whole(
        &mut self,
        g: &mut Graph,
        frame: &mut Frame,
        from: LoopMask,
        n: NodeId,
        adjoint: NodeId,
    ) -> Result<(), DiffError> {
        if g.kind(n) == Kind::Array && from & !g.loops_of(n) != 0 {
            return self.scatter_whole(g, frame, from, n, adjoint);
        }
        self.contribute(g, frame, from, n, adjoint);
        Ok(())
    }
}

/// The stretch patch ([`Graph::stretch_patch`]) that member `d` of coupled state `coupled`
/// takes as its new value, `body`, where `λ`'s step can clear the stretch in place: the
/// patch's old value is the member's own `carry`, and the function (`forward`, the nodes its
/// output reads) reads the old value only in the patch's kept elements (`old[j]`, read by the
/// patch alone), and the patch only as the member's new value, once, beside their lengths.
/// Any other read would add to their adjoints, which the cleared step does not make.
fn patch_swept_in_place(
    g: &Graph,
    forward: &[NodeId],
    coupled: NodeId,
    d: u32,
    body: NodeId,
    carry: Option<NodeId>,
) -> Option<StretchPatch> {
    let patch = g.stretch_patch(d, body)?;
    let Op::Table { body: value, .. } = *g.op(body) else {
        return None;
    };
    if carry != Some(patch.old) {
        return None;
    }
    // Readers that take only the length (a zero vector as long) read no value.
    let length_only = |r: &Op| matches!(r, Op::ArrayLen(_) | Op::Alloc { zero: true, .. });
    let mut ok = true;
    for &id in forward {
        let op = g.op(id);
        let children = op.children();
        let reads = |n: NodeId| children.iter().filter(|c| **c == n).count();
        let allowed = |n: NodeId, reader: NodeId, times: usize| {
            reads(n) == 0 || length_only(op) || (id == reader && reads(n) == times)
        };
        ok &= allowed(patch.old, patch.kept, 1)
            && allowed(patch.kept, value, 1)
            && allowed(value, body, 1)
            && allowed(body, coupled, 1);
        // No other carry of the member (a copy of its value the graph reads elsewhere).
        ok &= id == patch.old || !matches!(*op, Op::Carry { c, .. } if c == d);
        if !ok {
            return None;
        }
    }
    Some(patch)
}

/// Only the arrays built in loop `v` take their adjoints in its reverse loop (the sweep of
/// `body`): one built before it whose whole adjoint the body made would lose it.
fn no_whole_leaves(g: &Graph, body: &Frame, v: u32) -> Result<(), DiffError> {
    if body.wholes.keys().any(|m| g.loops_of(*m) & (1 << v) == 0) {
        return Err(internal(
            "a whole array's adjoint made in a recurrence's reverse loop for an array built before it",
        ));
    }
    Ok(())
}

/// The accumulations `z[k] += e` of a `Buffer`'s fill, as `(k, e, conditions, loops)`: the
/// leaves of its effects, the conditions they are made under (`Not(c)` in an `else`), and the
/// loops they run in (a mask).
#[allow(clippy::type_complexity)] // (index, value, conditions, loops), read once by `buffer`
fn accumulations(
    g: &mut Graph,
    fill: NodeId,
) -> Result<Vec<(NodeId, NodeId, Vec<NodeId>, LoopMask)>, DiffError> {
    let mut out = Vec::new();
    let mut stack = vec![(fill, Vec::new(), 0u128)];
    while let Some((e, guards, loops)) = stack.pop() {
        match *g.op(e) {
            Op::Effects(a, b) => stack.extend([(b, guards.clone(), loops), (a, guards, loops)]),
            Op::Sum { v, body, .. } => stack.push((body, guards, loops | 1 << v)),
            Op::NoEffect => {}
            Op::Accumulate { i, value, .. } => out.push((i, value, guards, loops)),
            Op::Select(c, a, b) => {
                let not = g.not(c);
                let mut then = guards.clone();
                then.push(c);
                let mut other = guards;
                other.push(not);
                stack.extend([(b, other, loops), (a, then, loops)]);
            }
            _ => {
                return Err(internal(
                    "an array's fill that is not a loop of accumulations",
                ));
            }
        }
    }
    Ok(out)
}

/// The nodes the function evaluates whatever its conditions: reachable from `output` through
/// [`Op::eager_children`], plus what both branches of a select evaluate (a loop's body counts:
/// it runs for every index of the loop).
fn read_unconditionally(g: &Graph, output: NodeId) -> HashSet<NodeId> {
    in_every_iteration(g, &read_in_iterations(g, output, false))
}

/// [`read_unconditionally`]'s nodes that the function evaluates in every iteration of the
/// loops they are in even where the other loops (of a length that is not a literal) run zero
/// times: the walk passes through the body of a loop only to the nodes in that loop (a loop's
/// bounds and initial values are evaluated before it; its body, and what the body reads from
/// outside the loop, only in its iterations).
///
/// ```text
/// let c = y.ln(); for i in 0..n { s += x[i] * c; }     // c: not here (read by the body only)
/// let c = y.ln(); for i in 0..3 { s += x[i] * c; }     // c: here (the loop runs)
/// for i in 0..m { let c = w[i].ln();                   // c: not here (read by the inner body
///     for j in 0..n { s += x[j] * c; } }               // only); w[i]: here (read by `ln`)
/// ```
///
/// (Of `iterations`, the walk [`read_in_iterations`] with `empty_loops`.)
fn read_without_loops(g: &Graph, iterations: &HashSet<(NodeId, LoopMask)>) -> HashSet<NodeId> {
    in_every_iteration(g, iterations)
}

/// The nodes of a walk of [`read_in_iterations`] reached in every iteration of the loops they
/// change with (not only in a loop that they do not change with).
fn in_every_iteration(g: &Graph, reached: &HashSet<(NodeId, LoopMask)>) -> HashSet<NodeId> {
    reached
        .iter()
        .filter(|(n, entered)| entered & !g.loops_of(*n) == 0)
        .map(|(n, _)| *n)
        .collect()
}

/// Per node the function evaluates on every path, the loops it is read in every iteration of
/// (each pair one way it is reached; with `empty_loops`, a loop of a length that is not a
/// literal may run zero times, and its body is such a loop): what [`read_without_loops`] keeps, and also the nodes a
/// loop's body reads that do not change with it (`y[n - 1]` in `for j in 0..n`, with `{j}`).
/// A gradient's addition into `∇y[n - 1]` made in every iteration of `L` is made where the
/// function reads `y[n - 1]` when one of its sets is in `L`; outside loop `j` (after a sum over
/// `j` of its terms), it is not.
fn read_in_iterations(g: &Graph, output: NodeId, empty_loops: bool) -> HashSet<(NodeId, LoopMask)> {
    /// A node reached, the loops whose bodies the path to it entered, and whether the path
    /// passed a node that does not change with one of them (read only in some loop's body).
    type Reached = (NodeId, LoopMask, bool);
    /// The nodes reached from `root` (`entered` and `aside` at `root`).
    fn walk(
        g: &Graph,
        root: Reached,
        empty_loops: bool,
        memo: &mut HashMap<Reached, HashSet<Reached>>,
    ) -> HashSet<Reached> {
        if let Some(s) = memo.get(&root) {
            return s.clone();
        }
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        while let Some((n, entered, aside)) = stack.pop() {
            // An array is built where the user builds it, whatever reads it: its adjoint,
            // swept element by element, is not guarded (a test per element). (Not reached
            // from a node read only in a loop's body: such a read does not make it built.)
            let entered = match g.kind(n) {
                Kind::Array if !aside => entered & g.loops_of(n),
                _ => entered,
            };
            let aside = aside || entered & !g.loops_of(n) != 0;
            if !seen.insert((n, entered, aside)) {
                continue;
            }
            let op = g.op(n);
            if let Op::Select(c, a, b) = *op {
                stack.push((c, entered, aside));
                let sa = walk(g, (a, entered, aside), empty_loops, memo);
                let sb = walk(g, (b, entered, aside), empty_loops, memo);
                stack.extend(sa.intersection(&sb).copied());
                continue;
            }
            let body = match op.own_loop().filter(|v| g.may_not_run(*v)) {
                Some(v) if empty_loops => 1 << v,
                _ => 0,
            };
            // (Its element, body or step: in it even where it does not change with it.)
            let each = op.per_iteration();
            stack.extend(op.eager_children().into_iter().map(|c| {
                let into = if g.loops_of(c) & body != 0 || each == Some(c) {
                    body
                } else {
                    0
                };
                (c, entered | into, aside)
            }));
        }
        memo.insert(root, seen.clone());
        seen
    }
    walk(g, (output, 0, false), empty_loops, &mut HashMap::new())
        .into_iter()
        .map(|(n, entered, _)| (n, entered))
        .collect()
}

/// Whether adjoint `a` is made of elements of local arrays' adjoint vectors, zero where they
/// are (`z̄[i]`, sums, selects and products of such, a second order's `z̄[i] + if ż̄[i] != 0 {
/// ż̄[i]·k } else { 0 }`).
fn of_elements(g: &Graph, a: NodeId) -> bool {
    match *g.op(a) {
        Op::AdjAt(..) => true,
        _ if g.as_const(a) == Some(0.0) => true,
        Op::Select(_, x, y) | Op::Add(x, y) | Op::Sub(x, y) => {
            of_elements(g, x) && of_elements(g, y)
        }
        Op::Mul(x, y) => of_elements(g, x) || of_elements(g, y),
        Op::Neg(x) | Op::Div(x, _) => of_elements(g, x),
        _ => false,
    }
}

/// Whether contribution `c` (a chain-rule step of adjoint `adj`) divides, or raises to a
/// power, in its own arithmetic (not in `adj`, nor in the values it reads): a derivative that
/// may be infinite where the value is finite (`√x`, `ln x`, `1/x`, `x^0.5` at 0).
fn divides(g: &Graph, c: NodeId, adj: NodeId) -> bool {
    let mut stack = vec![c];
    let mut seen = HashSet::new();
    while let Some(m) = stack.pop() {
        if m == adj || !seen.insert(m) {
            continue;
        }
        match g.op(m) {
            Op::Div(..) | Op::Powi(..) | Op::Binary(..) => return true,
            // The derivative's own arithmetic, not what the values it reads are made of.
            op @ (Op::Add(..) | Op::Sub(..) | Op::Mul(..) | Op::Neg(_) | Op::Unary(..)) => {
                stack.extend(op.children());
            }
            _ => {}
        }
    }
    false
}

/// Whether `c` is `adj` times a finite constant (`adj`, `-adj`, `k · adj`): zero where `adj` is.
fn scales(g: &Graph, c: NodeId, adj: NodeId) -> bool {
    let finite = |k: NodeId| g.as_const(k).is_some_and(f64::is_finite);
    match *g.op(c) {
        _ if c == adj => true,
        Op::Neg(a) => scales(g, a, adj),
        Op::Mul(k, a) | Op::Mul(a, k) if finite(k) => scales(g, a, adj),
        _ => false,
    }
}

/// Adds the effect `make(value)` to a slice's effects, once per iteration of every loop in
/// `loops` (even where the value, or the index, does not change with that loop: `s += x[0] +
/// y[i]` adds 1 per `i`), except those of `own` (a local array's adjoint is one per iteration of
/// the loops the array is built in). Unless what it comes from is read `everywhere` the function runs, it
/// is [`guarded`] by the conditions of its terms; where it is read everywhere, its index is valid
/// everywhere and it stays one effect (`g[i] += if c { a } else { 0 }`, branch-free).
fn push_effect(
    g: &mut Graph,
    effects: &mut Option<NodeId>,
    loops: LoopMask,
    everywhere: bool,
    own: LoopMask,
    value: NodeId,
    make: &mut MakeEffect,
) {
    let effect = if everywhere {
        make(g, value, false)
    } else {
        guarded(g, value, make)
    };
    if *g.op(effect) == Op::NoEffect {
        return;
    }
    let effect = sum_over_left_loops(g, (loops | g.loops_of(effect)) & !own, effect);
    *effects = Some(join_effect(g, *effects, effect));
}

/// The nodes a recurrence's reverse sweep over loop `v` visits in its body (reached from
/// `bodies`), in graph order, and among them the `nested` ones: those that do not change with
/// `v` but with a loop nested in the body whose sum does (`y[j] * y[j]` in `for i { t = Σ_j
/// if x[i]·y[j] > c { y[j] * y[j] } else { x[i] }; p /= 1 + t² }`). Such a node is evaluated in
/// every iteration of `v`, and its adjoint is one iteration's: left as the others that do not
/// change with `v` are, summed over `v` at the node, the sum would run in every iteration of
/// the nested loop and read the sweep's `λ`, the whole reverse sweep run again per `j` (`n³`
/// for `n²`), and evaluated where the function may not (the nested loop's bounds, `0..n - 1`,
/// before a loop over `0..n` that may not run). Only plain values and sums are nested; a
/// recurrence, a local array or a call there still leaves the body.
fn swept_in_body(g: &Graph, bodies: &[NodeId], v: u32) -> (Vec<NodeId>, HashSet<NodeId>) {
    let reach = g.reachable(bodies);
    let mut loops: LoopMask = 0;
    let mut nested = HashSet::new();
    loop {
        let within = (1 << v) | loops;
        let mut grew = false;
        for &m in &reach {
            let op = g.op(m);
            if let Op::Sum { v: w, .. } = *op
                && g.loops_of(m) & within != 0
                && loops & (1 << w) == 0
            {
                loops |= 1 << w;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    for &m in &reach {
        let op = g.op(m);
        let plain = matches!(op, Op::Sum { .. })
            || !(op.runs_a_loop()
                || g.is_effect(m)
                || matches!(
                    op,
                    Op::Call(..)
                        | Op::CallOutput(..)
                        | Op::CallJvp(..)
                        | Op::Partial(..)
                        | Op::Partial2(..)
                        | Op::Component(..)
                        | Op::Carry { .. }
                        | Op::Adjoint { .. }
                        | Op::At(..)
                ));
        if g.loops_of(m) & (1 << v) == 0 && g.loops_of(m) & loops != 0 && plain {
            nested.insert(m);
        }
    }
    let inside = reach
        .into_iter()
        .filter(|m| g.loops_of(*m) & (1 << v) != 0 || nested.contains(m))
        .collect();
    (inside, nested)
}

/// `acc` then `e`, as one effect. Effects are nodes, and a node is one statement however often
/// it is reached in one block: the same effect joined twice (`s += w[0]` and `s += w[0]` under
/// one condition, once merged by the simplifier) would run once. So the effects joined here are
/// kept as a list in which no node occurs twice: an effect already in it is taken out and joined
/// again scaled by 2 (`∇w[0] += 2·v`), which may in turn meet a scaled one already there (four
/// equal terms make `4·v`, not `2·v`).
fn join_effect(g: &mut Graph, acc: Option<NodeId>, e: NodeId) -> NodeId {
    let mut parts = Vec::new();
    let mut joined = acc.map(|a| g.effect_parts(a)).unwrap_or_default();
    joined.extend(g.effect_parts(e));
    for p in joined {
        insert_effect(g, &mut parts, p);
    }
    g.effect_list(&parts)
}

/// Adds effect `p` to `parts`, a list without repeats: where `p` is already there, the two
/// become `p` scaled by 2, added the same way (at the place of the first).
fn insert_effect(g: &mut Graph, parts: &mut Vec<NodeId>, p: NodeId) {
    let mut p = p;
    let mut place = parts.len();
    while let Some(at) = parts.iter().position(|q| *q == p) {
        parts.remove(at);
        place = place.min(at);
        let doubled = scale_effect(g, p, 2.0);
        if doubled == p {
            // Adds nothing (a zero scaled is the same zero): one copy is both.
            break;
        }
        p = doubled;
    }
    parts.insert(place.min(parts.len()), p);
}

/// Effect `e` with every value it adds multiplied by `k` (`∇x[i] += k·v`, a call's
/// vector-Jacobian product with seed `k·s`).
fn scale_effect(g: &mut Graph, e: NodeId, k: f64) -> NodeId {
    let k_node = g.constant(k);
    match g.op(e).clone() {
        Op::Scatter(slice, i, v) => {
            let v = g.mul(k_node, v);
            g.add(Op::Scatter(slice, i, v))
        }
        Op::CallVjp(call, seed) => {
            let seed = scale_seed(g, k_node, seed);
            g.add(Op::CallVjp(call, seed))
        }
        Op::CallHvp(jvp, seed) => {
            let seed = scale_seed(g, k_node, seed);
            g.add(Op::CallHvp(jvp, seed))
        }
        Op::Accumulate { alloc, i, value } => {
            let value = g.mul(k_node, value);
            g.add(Op::Accumulate { alloc, i, value })
        }
        Op::ArrayVjp {
            call,
            seed,
            alloc,
            position,
        } => {
            let seed = scale_seed(g, k_node, seed);
            g.add(Op::ArrayVjp {
                call,
                seed,
                alloc,
                position,
            })
        }
        Op::Effects(a, b) => {
            let (a, b) = (scale_effect(g, a, k), scale_effect(g, b, k));
            g.add(Op::Effects(a, b))
        }
        Op::Select(c, a, b) => {
            let (a, b) = (scale_effect(g, a, k), scale_effect(g, b, k));
            g.add(Op::Select(c, a, b))
        }
        Op::Sum { v, lo, hi, body } => {
            let body = scale_effect(g, body, k);
            g.add(Op::Sum { v, lo, hi, body })
        }
        _ => e,
    }
}

/// `k·seed`, a product's seed: a float, or one per output of a vector-valued call (`Seeds`,
/// each scaled).
fn scale_seed(g: &mut Graph, k: NodeId, seed: NodeId) -> NodeId {
    match g.op(seed).clone() {
        Op::Seeds(values) => {
            let values = values.into_iter().map(|v| g.mul(k, v)).collect();
            g.add(Op::Seeds(values))
        }
        _ => g.mul(k, seed),
    }
}

/// The effect `make(value)`, run only where `value`'s terms are not zero by an `if`: a term
/// `if c { a } else { 0 }` becomes `if c { make(a) }`. The element (or call) behind it was only
/// read under `c`, and its index or arguments may not even be valid elsewhere (`x[k - 1]` under
/// `k > 0`). The terms without a condition stay one effect.
fn guarded(g: &mut Graph, value: NodeId, make: &mut MakeEffect) -> NodeId {
    guarded_under(g, value, &mut Vec::new(), make)
}

/// [`guarded`] inside the branches of `known` (each a condition and the side taken): a term
/// under one of those conditions is its branch there (`if c { if c { a } else { b } }` is
/// `if c { a }`). The terms under one condition share one `if` (their branches summed).
fn guarded_under(
    g: &mut Graph,
    value: NodeId,
    known: &mut Vec<(NodeId, bool)>,
    make: &mut MakeEffect,
) -> NodeId {
    if g.as_const(value) == Some(0.0) {
        return g.add(Op::NoEffect);
    }
    let mut plain = Vec::new();
    // Per condition, in the order met: the terms of each branch, with their signs.
    let mut conditional: Vec<(NodeId, Terms, Terms)> = Vec::new();
    let mut stack = vec![(value, false)];
    while let Some((t, negated)) = stack.pop() {
        match *g.op(t) {
            Op::Add(a, b) => stack.extend([(a, negated), (b, negated)]),
            Op::Sub(a, b) => stack.extend([(a, negated), (b, !negated)]),
            Op::Neg(a) => stack.push((a, !negated)),
            Op::Select(c, a, b) => match known.iter().find(|(k, _)| *k == c) {
                Some((_, true)) => stack.push((a, negated)),
                Some((_, false)) => stack.push((b, negated)),
                None => match conditional.iter_mut().find(|(k, ..)| *k == c) {
                    Some((_, then, other)) => {
                        then.push((a, negated));
                        other.push((b, negated));
                    }
                    None => conditional.push((c, vec![(a, negated)], vec![(b, negated)])),
                },
            },
            _ => plain.push((t, negated)),
        }
    }
    let tested = !known.is_empty();
    if conditional.is_empty() {
        return make(g, value, tested);
    }
    let mut effects = Vec::new();
    if let Some(total) = signed_sum(g, &plain) {
        effects.push(make(g, total, tested));
    }
    for (c, then, other) in conditional {
        let mut branch = |g: &mut Graph, terms: &[(NodeId, bool)], side: bool| {
            let Some(total) = signed_sum(g, terms) else {
                return g.add(Op::NoEffect);
            };
            known.push((c, side));
            let effect = guarded_under(g, total, known, make);
            known.pop();
            effect
        };
        let then = branch(g, &then, true);
        let other = branch(g, &other, false);
        effects.push(g.add(Op::Select(c, then, other)));
    }
    let mut out = g.add(Op::NoEffect);
    for e in effects {
        out = join_effect(g, Some(out), e);
    }
    out
}

/// Makes the effect of a value (an addition into a gradient, a product seeded with it), told
/// whether it runs in the branch of a condition [`guarded`] took out of the value (`tested`).
type MakeEffect<'a> = dyn FnMut(&mut Graph, NodeId, bool) -> NodeId + 'a;

/// Terms of a sum, each with whether it is subtracted.
type Terms = Vec<(NodeId, bool)>;

/// `±t₁ ± t₂ …`, or `None` for no terms.
fn signed_sum(g: &mut Graph, terms: &[(NodeId, bool)]) -> Option<NodeId> {
    let mut total = None;
    for &(t, negated) in terms {
        total = Some(match total {
            None if negated => g.neg(t),
            None => t,
            Some(acc) if negated => g.add(Op::Sub(acc, t)),
            Some(acc) => g.add(Op::Add(acc, t)),
        });
    }
    total
}

/// Adds `value` to the entry of `key` in `list`, or makes one: contributions summed per key
/// (a slice element, a call, a child, a set of loops), in the order keys first appear.
fn add_to<K: PartialEq>(g: &mut Graph, list: &mut Vec<(K, NodeId)>, key: K, value: NodeId) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, sum)) => *sum = g.plus(*sum, value),
        None => list.push((key, value)),
    }
}

/// `x` summed over each loop in the bit set `loops`, innermost (highest number) first.
fn sum_over_left_loops(g: &mut Graph, loops: LoopMask, mut x: NodeId) -> NodeId {
    for v in (0..LoopMask::BITS).rev() {
        if loops & (1 << v) != 0 {
            x = g.loop_sum(v, x);
        }
    }
    x
}

/// `active[n]`: does float node `n` depend on one of `wrt`? (Integers and booleans never do:
/// their derivative is zero.)
pub fn activity(g: &Graph, order: &[NodeId], wrt: &[NodeId], slices: &[u32]) -> Vec<bool> {
    // A recurrence's `Carry` is active when its fold is, which depends on the carry: grow the
    // set of active carries to a fixed point (once per nesting level at most).
    let mut carries: Vec<u32> = Vec::new();
    loop {
        let active = activity_given(g, order, wrt, slices, &carries);
        let before = carries.len();
        for &n in order {
            if let Op::Fold { c, .. } | Op::Scanned { c, .. } = g.op(n) {
                if active[n.index()] && !carries.contains(c) {
                    carries.push(*c);
                }
            }
            // Every member of coupled recurrences is active when one is.
            let coupled = match g.op(n) {
                Op::Coupled { c, .. } => g.coupled_parts(n).map(|(_, bodies)| (*c, bodies.len())),
                Op::CoupledScan { c, parts, .. } => Some((*c, parts.len() / 2)),
                _ => None,
            };
            if let Some((c, members)) = coupled {
                let members = (c..).take(members);
                for d in members {
                    if active[n.index()] && !carries.contains(&d) {
                        carries.push(d);
                    }
                }
            }
        }
        if carries.len() == before {
            return active;
        }
    }
}

fn activity_given(
    g: &Graph,
    order: &[NodeId],
    wrt: &[NodeId],
    slices: &[u32],
    carries: &[u32],
) -> Vec<bool> {
    let mut active = vec![false; g.len()];
    for w in wrt {
        active[w.index()] = true;
    }
    for &n in order {
        // A differentiated slice passed whole to a call.
        if let Op::Slice(k) | Op::SliceArg(k, ..) = g.op(n) {
            active[n.index()] = slices.contains(k);
            continue;
        }
        // (An effect in a function's value, a local array's accumulations, is active when
        // what it adds is.)
        let value = matches!(g.kind(n), Kind::Float | Kind::Array)
            || g.is_effect(n)
            || matches!(g.op(n), Op::Coupled { .. });
        if !value || active[n.index()] {
            continue;
        }
        match g.op(n) {
            Op::Element(k, _) => active[n.index()] = slices.contains(k),
            Op::Carry { c, .. } => active[n.index()] = carries.contains(c),
            // The condition of a select carries no derivative.
            Op::Select(_, a, b) => active[n.index()] = active[a.index()] || active[b.index()],
            op => active[n.index()] = op.children().iter().any(|c| active[c.index()]),
        }
    }
    active
}

/// A vector of zeros as long as the array `like`: the adjoint of a carried array nothing reads.
fn zeros_like(g: &mut Graph, like: NodeId) -> NodeId {
    let buf = g.new_buffer();
    let alloc = g.add(Op::Alloc {
        buf,
        like,
        zero: true,
        mask: 0,
    });
    let nothing = g.add(Op::NoEffect);
    g.filled(alloc, nothing)
}

/// The sibling [`Op::CoupledScan`]s of one sweep (the values of members of the same coupled
/// state), swept together (see `Sweep::coupled_scan`).
struct CoupledScans {
    /// Per state (its `Coupled` node), the lowest of its members' values among the active
    /// nodes swept: visited last.
    last: HashMap<NodeId, NodeId>,
    /// Per state, the members whose values' adjoints were noted so far, with those adjoints.
    noted: HashMap<NodeId, Vec<(u32, NodeId)>>,
}

impl CoupledScans {
    fn of(g: &mut Graph, nodes: &[NodeId], active: &[bool]) -> Self {
        let mut last = HashMap::new();
        for &n in nodes {
            if active.get(n.index()).copied().unwrap_or(false)
                && let Some((state, _)) = scanned_state(g, n)
            {
                last.entry(state).or_insert(n);
            }
        }
        CoupledScans {
            last,
            noted: HashMap::new(),
        }
    }
}

/// The coupled state whose member `k`'s values `n` is (an [`Op::CoupledScan`]): its `Coupled`
/// node (of the same fields), and `k`.
fn scanned_state(g: &mut Graph, n: NodeId) -> Option<(NodeId, u32)> {
    let Op::CoupledScan {
        c,
        v,
        k,
        lo,
        hi,
        ref parts,
    } = *g.op(n)
    else {
        return None;
    };
    let parts = parts.clone();
    let state = g.add(Op::Coupled {
        c,
        v,
        lo,
        hi,
        parts,
    });
    Some((state, k))
}

/// A local array built in the body of coupled state carrying arrays is swept in its reverse
/// loop (see `Sweep::coupled`); in any other recurrence's body it is not supported.
fn built_outside_recurrences(g: &Graph, frame: &Frame, n: NodeId) -> Result<(), DiffError> {
    if frame.fold.is_some() && !frame.arrays {
        return Err(DiffError {
            origin: g.node(n).origin,
            message: "a local array built inside a loop recurrence (`p *= …`, a running `max`, a scan `z[i] = f(z[i - 1])`) cannot be differentiated yet".into(),
            help: "build the array before the loop; or, for a call given an array of this iteration's values (`dot(&[a, z[i]], w)`), give the callee float parameters instead (`fn dot2(a: f64, b: f64, w: &[f64])`); or write the recurrence as a sum (`+=`)",
        });
    }
    Ok(())
}

/// The arrays of coupled state `n` (`arrays[k]` for member `k`) are what its reverse sweep
/// supports: each iteration's new value an array built in the loop's body (a `Table`, or a
/// vector added into), the initial value a local array.
fn check_carried_arrays(
    g: &Graph,
    n: NodeId,
    arrays: &[bool],
    inits: &[NodeId],
    bodies: &[NodeId],
) -> Result<(), DiffError> {
    let Op::Coupled { v, .. } = *g.op(n) else {
        return Ok(());
    };
    for (k, _) in arrays.iter().enumerate().filter(|(_, a)| **a) {
        // (One that does not change with the iteration is added into element by element.)
        let body_ok = matches!(
            g.op(bodies[k]),
            Op::Table { .. } | Op::Filled { .. } | Op::Component(..)
        ) || (matches!(g.op(bodies[k]), Op::Carry { .. })
            && g.loops_of(bodies[k]) & (1 << v) == 0);
        let init_ok = matches!(
            g.op(inits[k]),
            Op::Table { .. } | Op::Filled { .. } | Op::Component(..) | Op::Carry { .. }
        );
        if !body_ok || !init_ok {
            return Err(DiffError {
                origin: g.node(n).origin,
                message: "this array carried across the loop's iterations is not differentiated yet: each iteration must compute its new value (`let mut next = vec![0.0; n]; … h = next;`, or in place, `for j in 0..n { h[j] = …; }`) from a local array it starts from".into(),
                help: "start the array from `vec![v; n]` or a copy loop before the loop, and compute each iteration's new value from the old in the loop's body",
            });
        }
    }
    Ok(())
}

/// More loops than a function may have (128), where the gradient needs one more at `n`.
fn too_many_loops(g: &Graph, n: NodeId) -> DiffError {
    DiffError {
        origin: g.node(n).origin,
        message: "too many loops in one function (128 at most)".into(),
        help: "split the function",
    }
}

/// An error the user's code cannot cause.
fn internal(what: &str) -> DiffError {
    DiffError {
        origin: None,
        message: format!("internal error: {what}"),
        help: "please report this",
    }
}

/// `ā · ∂n/∂child` for every float child of `n` (for `CallOutput`: of the call's arguments).
#[allow(clippy::too_many_lines)] // one exhaustive match, one arm per rule
pub fn local_adjoints(
    g: &mut Graph,
    n: NodeId,
    adj: NodeId,
) -> Result<Vec<(NodeId, NodeId)>, DiffError> {
    let y = n;
    let op = g.op(n).clone();
    Ok(match op {
        // Leaves and non-float values: nothing to propagate.
        Op::Const(_)
        | Op::Input(_)
        | Op::Sym(..)
        | Op::Cast(_)
        // Its derivative is zero by definition.
        | Op::StopGradient(..)
        | Op::IntConst(_)
        | Op::IntBin(..)
        | Op::IntNeg(_)
        | Op::IntCast(..)
        | Op::FloatToInt(..)
        | Op::Until { .. }
        | Op::BoolConst(_)
        | Op::Compare(..)
        | Op::Predicate(..)
        | Op::And(..)
        | Op::Or(..)
        | Op::Not(_)
        | Op::LoopVar(_)
        | Op::Index(..)
        | Op::IntIndex(..)
        | Op::Slice(_)
        | Op::SliceArg(..)
        | Op::DataRun(..)
        // A recurrence's carry: its adjoint is the reverse sweep's step (see `Sweep::fold`).
        // Folds are swept by `Sweep::fold`; reverse sweeps are refused by `gradient_with_slices`.
        | Op::Carry { .. }
        | Op::Fold { .. }
        | Op::Adjoint { .. }
        | Op::RevFold { .. }
        // Coupled recurrences are swept by `Sweep::coupled`, at the group, from the adjoints of
        // their members' values; a reverse sweep's components are not differentiated again.
        | Op::Coupled { .. }
        | Op::Component(..)
        | Op::RevCoupled { .. }
        | Op::Scatter(..)
        | Op::NoEffect
        | Op::Effects(..)
        | Op::CallVjp(..)
        | Op::CallHvp(..)
        // An element of a differentiated slice: its adjoint is scattered into the slice's
        // gradient (see `gradient_with_slices`).
        | Op::Element(..)
        // An element of a local array, and the array: the reads scatter into the array's
        // adjoint, which the array's elements read (see `Sweep::table`).
        | Op::At(..)
        | Op::Table { .. }
        | Op::Scanned { .. }
        | Op::CoupledScan { .. }
        | Op::Filled { .. }
        | Op::Alloc { .. }
        | Op::ArrayLen(_)
        | Op::Accumulate { .. }
        | Op::ArrayVjp { .. }
        | Op::Seeds(_)
        | Op::Rebound { .. }
        | Op::VjpRows { .. }
        // In gradients only, refused by `gradient_seeded`.
        | Op::AdjAt(..)
        | Op::Cleared { .. } => vec![],
        // (Σᵢ f(i))' = Σᵢ f(i)': each iteration's body gets the sum's adjoint.
        Op::Sum { body, .. } => vec![(body, adj)],
        // (-a)' = -a'
        Op::Neg(a) => vec![(a, g.neg(adj))],
        // (a + b)' = a' + b'
        Op::Add(a, b) => vec![(a, adj), (b, adj)],
        // (a - b)' = a' - b'
        Op::Sub(a, b) => vec![(a, adj), (b, g.neg(adj))],
        // (a·b)' = a'·b + a·b'
        Op::Mul(a, b) => vec![(a, g.mul(adj, b)), (b, g.mul(adj, a))],
        // (a/b)' = a'/b − b'·(a/b)/b
        Op::Div(a, b) => {
            let da = g.div(adj, b);
            let t = g.mul(adj, y);
            let t = g.div(t, b);
            vec![(a, da), (b, g.neg(t))]
        }
        Op::Unary(f, a) => vec![(a, unary_adjoint(g, f, a, y, adj))],
        // (aⁿ)' = n·aⁿ⁻¹·a'
        Op::Powi(a, k) => {
            let one = g.int(1);
            let km1 = g.int_bin(IntOp::Sub, k, one);
            let p = g.add(Op::Powi(a, km1));
            let kf = g.cast(k);
            let d = g.mul(kf, p);
            vec![(a, g.mul(adj, d))]
        }
        Op::Binary(f, a, b) => binary_adjoints(g, f, a, b, y, adj),
        // clamp(x, lo, hi)' = x' inside [lo, hi], lo' below, hi' above
        Op::Clamp(x, lo, hi) => {
            let below = g.compare(Cmp::Lt, x, lo);
            let above = g.compare(Cmp::Gt, x, hi);
            let outside = g.or(below, above);
            vec![
                (x, gate(g, outside, false, adj)),
                (lo, gate(g, below, true, adj)),
                (hi, gate(g, above, true, adj)),
            ]
        }
        // (a·b + c)' = a'·b + a·b' + c'
        Op::MulAdd(a, b, c) => vec![(a, g.mul(adj, b)), (b, g.mul(adj, a)), (c, adj)],
        // (if c { a } else { b })' = if c { a' } else { b' }
        Op::Select(c, a, b) => vec![(a, gate(g, c, true, adj)), (b, gate(g, c, false, adj))],
        // f(a₁, …, aₖ)' = Σᵢ ∂f/∂aᵢ · aᵢ'  (the partials come from f's companion)
        Op::Call(_, args) => {
            let mut out = Vec::new();
            for (i, a) in args.iter().enumerate() {
                if g.kind(*a) == Kind::Float {
                    let i = u32::try_from(i).expect("internal error: too many arguments");
                    let d = g.add(Op::Partial(n, i));
                    out.push((*a, g.mul(adj, d)));
                }
            }
            out
        }
        // fₖ(a₁, …, aₘ)' = Σᵢ ∂fₖ/∂aᵢ · aᵢ'  (output k of a vector-valued call: the partials
        // come from its companion; the call node itself, the whole array, gets no adjoint)
        Op::CallOutput(call, _) => {
            let Op::Call(_, args) = g.op(call).clone() else {
                return Err(internal("an output of something other than a call"));
            };
            let mut out = Vec::new();
            for (i, a) in args.iter().enumerate() {
                if g.kind(*a) == Kind::Float {
                    let i = u32::try_from(i).expect("internal error: too many arguments");
                    let d = g.add(Op::Partial(n, i));
                    out.push((*a, g.mul(adj, d)));
                }
            }
            out
        }
        // (Σᵢ ∂f/∂aᵢ·ȧᵢ + ∇ₓf·ẋ)' = Σᵢ (H·ȧ)ᵢ·aᵢ' + Σᵢ ∂f/∂aᵢ·ȧᵢ' (+ the slices' part of
        // `H·ȧ`, the `CallHvp` effect; a slice's tangent is the direction, a constant)
        // (`call` may be output `k` of a vector-valued call: its `H_k·ȧ`, its partials `J_k`)
        Op::CallJvp(call, dots) => {
            let Op::Call(_, args) = g.op(g.called(call)).clone() else {
                return Err(internal("a directional derivative of a non-call"));
            };
            let mut out = Vec::new();
            for (i, (a, d)) in args.iter().zip(&dots).enumerate() {
                if g.kind(*a) != Kind::Float {
                    continue;
                }
                let i = u32::try_from(i).expect("internal error: too many arguments");
                let h = g.add(Op::JvpPartial(n, i));
                out.push((*a, g.mul(adj, h)));
                let p = g.add(Op::Partial(call, i));
                out.push((*d, g.mul(adj, p)));
            }
            out
        }
        // (∂f/∂aᵢ)' = Σⱼ ∂²f/∂aᵢ∂aⱼ · aⱼ'  (the second partials from f's `__partials2`)
        Op::Partial(call, i) => second_partials(g, call, i, adj)?,
        Op::JvpPartial(jvp, _) => {
            return Err(DiffError {
                origin: g.node(jvp).origin,
                message: "internal error: a third derivative of a call".into(),
                help: "please report this",
            });
        }
        Op::Partial2(call, ..) => {
            return Err(DiffError {
                origin: g.node(call).origin,
                message: "internal error: a third derivative of a call".into(),
                help: "please report this",
            });
        }
    })
}

/// `ā · ∂²f/∂aᵢ∂aⱼ` for every float argument `aⱼ` of `call`: the adjoint of its partial
/// derivative `∂f/∂aᵢ` pushed on to the arguments. Refused where the second partials are not
/// exposed: output `k` of a vector-valued call, a differentiated slice or local array among
/// the arguments (its part of the Hessian is not a scalar).
fn second_partials(
    g: &mut Graph,
    call: NodeId,
    i: u32,
    adj: NodeId,
) -> Result<Vec<(NodeId, NodeId)>, DiffError> {
    let refuse = |g: &Graph, message: &str, help: &'static str| DiffError {
        origin: g.node(call).origin,
        message: message.into(),
        help,
    };
    let args = match g.op(call).clone() {
        Op::Call(_, args) => args,
        Op::CallOutput(..) => {
            return Err(refuse(
                g,
                "second derivatives through the outputs of a vector-valued function are not supported yet",
                "remove `hessian`, or write the output you need as a scalar function with `#[differentiable(hessian)]`",
            ));
        }
        _ => {
            return Err(refuse(
                g,
                "internal error: a partial derivative of a non-call",
                "please report this",
            ));
        }
    };
    if args
        .iter()
        .any(|a| matches!(g.op(*a), Op::SliceArg(..)) || g.kind(*a) == Kind::Array)
    {
        return Err(refuse(
            g,
            "second derivatives through a call given a differentiated slice or a local array are not supported yet",
            "remove `hessian`, or pass the elements the called function needs as scalars (`x[0]`, `x[i]`)",
        ));
    }
    let mut out = Vec::new();
    for (j, a) in args.iter().enumerate() {
        if g.kind(*a) == Kind::Float {
            let j = u32::try_from(j).expect("internal error: too many arguments");
            let d = g.add(Op::Partial2(call, i.min(j), i.max(j)));
            out.push((*a, g.mul(adj, d)));
        }
    }
    Ok(out)
}

/// `ā · f'(a)` for the elementary functions; `y = f(a)` is reused where it saves work.
#[allow(clippy::too_many_lines)] // one exhaustive match, one arm per rule
fn unary_adjoint(g: &mut Graph, f: Fun, a: NodeId, y: NodeId, adj: NodeId) -> NodeId {
    let one = g.one();
    match f {
        // (√a)' = 1/(2√a)
        Fun::Sqrt => {
            let two_y = mul_const(g, 2.0, y);
            g.div(adj, two_y)
        }
        // (∛a)' = 1/(3·∛a²)
        Fun::Cbrt => {
            let yy = g.mul(y, y);
            let d = mul_const(g, 3.0, yy);
            g.div(adj, d)
        }
        // (eᵃ)' = eᵃ
        Fun::Exp => g.mul(adj, y),
        // (2ᵃ)' = 2ᵃ·ln 2
        Fun::Exp2 => {
            let t = g.mul(adj, y);
            mul_const(g, std::f64::consts::LN_2, t)
        }
        // (eᵃ − 1)' = eᵃ = y + 1
        Fun::ExpM1 => {
            let e = g.plus(y, one);
            g.mul(adj, e)
        }
        // (ln a)' = 1/a
        Fun::Ln => g.div(adj, a),
        // (log₂ a)' = 1/(a·ln 2)
        Fun::Log2 => {
            let d = mul_const(g, std::f64::consts::LN_2, a);
            g.div(adj, d)
        }
        // (log₁₀ a)' = 1/(a·ln 10)
        Fun::Log10 => {
            let d = mul_const(g, std::f64::consts::LN_10, a);
            g.div(adj, d)
        }
        // (ln(1 + a))' = 1/(1 + a)
        Fun::Ln1p => {
            let d = g.plus(one, a);
            g.div(adj, d)
        }
        // (sin a)' = cos a
        Fun::Sin => {
            let d = g.unary(Fun::Cos, a);
            g.mul(adj, d)
        }
        // (cos a)' = −sin a
        Fun::Cos => {
            let d = g.unary(Fun::Sin, a);
            let t = g.mul(adj, d);
            g.neg(t)
        }
        // (tan a)' = 1 + tan² a
        Fun::Tan => {
            let yy = g.mul(y, y);
            let d = g.plus(one, yy);
            g.mul(adj, d)
        }
        // (asin a)' = 1/√(1 − a²)
        Fun::Asin => {
            let d = sqrt_one_minus_sq(g, a);
            g.div(adj, d)
        }
        // (acos a)' = −1/√(1 − a²)
        Fun::Acos => {
            let d = sqrt_one_minus_sq(g, a);
            let t = g.div(adj, d);
            g.neg(t)
        }
        // (atan a)' = 1/(1 + a²)
        Fun::Atan => {
            let aa = g.mul(a, a);
            let d = g.plus(one, aa);
            g.div(adj, d)
        }
        // (sinh a)' = cosh a
        Fun::Sinh => {
            let d = g.unary(Fun::Cosh, a);
            g.mul(adj, d)
        }
        // (cosh a)' = sinh a
        Fun::Cosh => {
            let d = g.unary(Fun::Sinh, a);
            g.mul(adj, d)
        }
        // (tanh a)' = 1 − tanh² a
        Fun::Tanh => {
            let yy = g.mul(y, y);
            let d = g.minus(one, yy);
            g.mul(adj, d)
        }
        // (asinh a)' = 1/√(a² + 1)
        Fun::Asinh => {
            let aa = g.mul(a, a);
            let s = g.plus(aa, one);
            let d = g.unary(Fun::Sqrt, s);
            g.div(adj, d)
        }
        // (acosh a)' = 1/√(a² − 1)
        Fun::Acosh => {
            let aa = g.mul(a, a);
            let s = g.minus(aa, one);
            let d = g.unary(Fun::Sqrt, s);
            g.div(adj, d)
        }
        // (atanh a)' = 1/(1 − a²)
        Fun::Atanh => {
            let aa = g.mul(a, a);
            let d = g.minus(one, aa);
            g.div(adj, d)
        }
        // |a|' = sign(a), with sign(0) = 0
        Fun::Abs => {
            let d = g.unary(Fun::Sign, a);
            g.mul(adj, d)
        }
        // Piecewise constant: zero almost everywhere.
        Fun::Signum | Fun::Sign | Fun::Floor | Fun::Ceil | Fun::Round | Fun::Trunc => g.zero(),
        // (a − trunc a)' = 1
        Fun::Fract => adj,
        // (1/a)' = −1/a²  = −y²
        Fun::Recip => {
            let yy = g.mul(y, y);
            let t = g.mul(adj, yy);
            g.neg(t)
        }
        // (a·180/π)' = 180/π
        Fun::ToDegrees => mul_const(g, 180.0 / std::f64::consts::PI, adj),
        // (a·π/180)' = π/180
        Fun::ToRadians => mul_const(g, std::f64::consts::PI / 180.0, adj),
    }
}

/// The adjoints of the two-argument functions.
fn binary_adjoints(
    g: &mut Graph,
    f: Fun2,
    a: NodeId,
    b: NodeId,
    y: NodeId,
    adj: NodeId,
) -> Vec<(NodeId, NodeId)> {
    let one = g.one();
    match f {
        // (aᵇ)' = b·aᵇ⁻¹·a' + aᵇ·ln a·b'
        Fun2::Powf => {
            let bm1 = g.minus(b, one);
            let p = g.binary(Fun2::Powf, a, bm1);
            let da = g.mul(b, p);
            let ln_a = g.unary(Fun::Ln, a);
            let db = g.mul(y, ln_a);
            vec![(a, g.mul(adj, da)), (b, g.mul(adj, db))]
        }
        // (log_b a)' = a'/(a·ln b) − b'·y/(b·ln b)
        Fun2::Log => {
            let ln_b = g.unary(Fun::Ln, b);
            let a_ln_b = g.mul(a, ln_b);
            let da = g.div(adj, a_ln_b);
            let b_ln_b = g.mul(b, ln_b);
            let t = g.mul(adj, y);
            let t = g.div(t, b_ln_b);
            vec![(a, da), (b, g.neg(t))]
        }
        // atan2(a, b)' = (b·a' − a·b')/(a² + b²)
        Fun2::Atan2 => {
            let aa = g.mul(a, a);
            let bb = g.mul(b, b);
            let r2 = g.plus(aa, bb);
            let t = g.mul(adj, b);
            let da = g.div(t, r2);
            let t = g.mul(adj, a);
            let t = g.div(t, r2);
            vec![(a, da), (b, g.neg(t))]
        }
        // hypot(a, b)' = (a·a' + b·b')/hypot(a, b)
        Fun2::Hypot => {
            let t = g.mul(adj, a);
            let da = g.div(t, y);
            let t = g.mul(adj, b);
            let db = g.div(t, y);
            vec![(a, da), (b, db)]
        }
        // max(a, b)' = a' where a ≥ b, else b';  min(a, b)' = a' where a ≤ b, else b'
        // (`max`/`min` ignore a NaN argument: a NaN `b` leaves the value, and the derivative,
        // to `a`; a NaN `a` fails the comparison and leaves them to `b`.)
        Fun2::Max | Fun2::Min => {
            let cmp = if f == Fun2::Max { Cmp::Ge } else { Cmp::Le };
            let picks_a = g.compare(cmp, a, b);
            let b_nan = g.add(Op::Predicate(crate::graph::Pred::IsNan, b));
            let c = g.or(picks_a, b_nan);
            vec![(a, gate(g, c, true, adj)), (b, gate(g, c, false, adj))]
        }
    }
}

/// `if cond { adj } else { 0 }` (`on_then`) or `if cond { 0 } else { adj }`, with `cond` tested
/// *inside* the conditions `adj` is already zero outside of. `cond` belongs to the node being
/// differentiated, so it is only valid where that node is evaluated, which is under its adjoint's
/// conditions: in `if i > 0 { m.max(x[i - 1]) }` the max's comparison reads `x[i - 1]`, and must
/// not be evaluated when `i == 0`.
fn gate(g: &mut Graph, cond: NodeId, on_then: bool, adj: NodeId) -> NodeId {
    let zero = g.zero();
    if let Op::Select(d, a, b) = *g.op(adj) {
        if g.as_const(b) == Some(0.0) {
            let inner = gate(g, cond, on_then, a);
            return g.select(d, inner, b);
        }
        if g.as_const(a) == Some(0.0) {
            let inner = gate(g, cond, on_then, b);
            return g.select(d, a, inner);
        }
    }
    if on_then {
        g.select(cond, adj, zero)
    } else {
        g.select(cond, zero, adj)
    }
}

fn mul_const(g: &mut Graph, c: f64, x: NodeId) -> NodeId {
    let c = g.constant(c);
    g.mul(c, x)
}

/// `√(1 − a²)`
fn sqrt_one_minus_sq(g: &mut Graph, a: NodeId) -> NodeId {
    let one = g.one();
    let aa = g.mul(a, a);
    let s = g.minus(one, aa);
    g.unary(Fun::Sqrt, s)
}
