//! The plan: what the companions are generated from. The checked signature, then the body
//! lowered to a graph and differentiated (the gradient, the partials a caller chains through,
//! the vector-Jacobian product, second order if asked for; for a vector-valued function its
//! Jacobian, vjp and jvp), or the tape's rewrite, or a user rule; and the callees to check.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident};
use syn::ItemFn;

use crate::attr::Args;
use crate::callees::{self, Callee};
use crate::ctxt::{Ctxt, msg};
use crate::graph::{Kind, NodeId, Op};
use crate::hvp::Hvp;
use crate::jacobian::{self, Jacobian, Mode};
use crate::lower::{self, Lowered};
use crate::signature::{self, ParamKind, Sig};
use crate::{diff, tape};

/// What the companions are generated from.
pub struct Plan {
    pub sig: Sig,
    pub body: Body,
    /// The functions called for their derivative, checked beside the companions.
    pub callees: Vec<Callee>,
}

pub enum Body {
    /// The body, lowered and differentiated.
    Graph(Box<Derivatives>),
    /// A vector-valued function's body (`-> [T; M]`), lowered, with its Jacobian.
    Vector(Box<VectorDerivatives>),
    /// `rule = path`: the user's function supplies value and partials.
    Rule(syn::Path),
    /// Arrays are differentiated: the body, rewritten to run on the reverse-mode tape.
    Tape(syn::Block),
}

pub struct Derivatives {
    pub lowered: Lowered,
    /// `∂f/∂p` for every float parameter `p`, in declaration order.
    pub partials: Vec<NodeId>,
    /// For every differentiated slice parameter, in order, the effect that accumulates its
    /// gradient (`None`: the value does not depend on it).
    pub slice_effects: Vec<Option<NodeId>>,
    /// `∂²f/∂pᵢ∂pⱼ` over the differentiated parameters, when `hessian` was asked for.
    pub hessian: Option<Vec<Vec<NodeId>>>,
    /// `H·v` along the symbols `v.p`, `v.x[i]`, when `hessian` was asked for.
    pub hvp: Option<Hvp>,
    /// `∂²f/∂pᵢ∂pⱼ` over every float scalar parameter (`i ≤ j`, row `i` from column `i` on),
    /// for the hidden `__partials2` a caller's Hessian chains through, when `hessian` was asked
    /// for.
    pub second_partials: Option<Vec<Vec<NodeId>>>,
    /// The vector-Jacobian product a caller passing a slice needs: for every differentiated
    /// slice, the effect accumulating `seed · ∂f/∂x` (the seed is the symbol `__seed`).
    pub vjp_effects: Vec<Option<NodeId>>,
    /// What a caller's Hessian through a call giving this function a differentiated slice
    /// needs (its hidden `__hvp`), with `hessian` and a differentiated slice parameter.
    pub call_hvp: Option<crate::hvp::CallHvp>,
    /// The gradient, `__vjp` and `H·v` of each side of the function's last choice (`if n ==
    /// 0 { return 0.0; }`, then loops), where one is made: see [`Split`].
    pub split: Option<Box<Split>>,
}

/// A function whose value is `if c { a } else { b }` (an early `return` under a guard, or an
/// `if`/`match` in tail position), `c` computed without a loop or a call, and a side running a
/// loop: its gradient, `__partials` and `__vjp` are those of `a` where `c` holds and of `b`
/// where it does not, each computed in its own block (`if c { … } else { … }`). The
/// derivative of a choice is the choice of the derivatives, so the nodes are those `a` and `b`
/// differentiated alone; what changes is where they run. The gradient of the side the function
/// does not take is never computed, nor what it reads: `if d.len() < 2 { return 0.0; }` and a
/// loop over `0..d.len() - 2`, or a reverse sweep's forward loop over `0..x.len() / d` after
/// `if d == 0 { return 0.0; }`, are computed only where the function computes them, never at
/// `d = 0`, whatever else the scheduler moves (a reverse sweep and the bounds it reads run
/// where their adjoints are added, not under the condition the function's value is).
pub struct Split<S = Side> {
    pub cond: NodeId,
    /// Where `cond` holds, then where it does not.
    pub sides: [S; 2],
}

/// One side of a [`Split`] of a scalar function: its value, `∂/∂p` for every float parameter,
/// the effects accumulating the slices' gradients and their seeded product (`__vjp`), and the
/// split of its own last choice.
pub struct Side {
    pub output: NodeId,
    pub partials: Vec<NodeId>,
    pub slice_effects: Vec<Option<NodeId>>,
    pub vjp_effects: Vec<Option<NodeId>>,
    /// `H·v` of the side, with `hessian`.
    pub hvp: Option<Hvp>,
    pub split: Option<Box<Split>>,
}

/// What a side of a [`Split`] is, for the kernels built on it: a scalar function's [`Side`] or
/// a vector-valued function's [`VectorSide`].
pub trait Branch: Sized {
    /// The function's values on this side.
    fn values(&self) -> &[NodeId];
    /// The split of this side's own last choice.
    fn split(&self) -> Option<&Split<Self>>;
    fn set_split(&mut self, split: Option<Box<Split<Self>>>);
    /// Every node the side computes, its split's aside.
    fn nodes(&self) -> Vec<NodeId>;
}

impl Branch for Side {
    fn values(&self) -> &[NodeId] {
        std::slice::from_ref(&self.output)
    }
    fn split(&self) -> Option<&Split<Self>> {
        self.split.as_deref()
    }
    fn set_split(&mut self, split: Option<Box<Split<Self>>>) {
        self.split = split;
    }
    fn nodes(&self) -> Vec<NodeId> {
        let mut out = vec![self.output];
        out.extend(&self.partials);
        out.extend(self.slice_effects.iter().flatten());
        out.extend(self.vjp_effects.iter().flatten());
        if let Some(h) = &self.hvp {
            out.extend(&h.scalars);
            out.extend(h.effects.iter().flatten());
        }
        out
    }
}

/// What the sides of a [`Split`] are differentiated with respect to: the float parameters'
/// inputs, the slices, the seed of `__vjp` (with a slice) and the tangent of `_hvp` (with
/// `hessian`).
struct SplitWith<'a> {
    inputs: &'a [NodeId],
    slices: &'a [u32],
    seed: Option<NodeId>,
    tangents: Option<&'a Tangents>,
}

impl<S: Branch> Split<S> {
    /// A kernel's roots on either side, each where the conditions `holds` (the sides of the
    /// splits around it) and its own hold: `leaf` gives what the kernel computes of a side
    /// that is not split again, its `values` first, then its effects.
    pub fn kernel(
        &self,
        values: usize,
        leaf: &dyn Fn(&S) -> Vec<NodeId>,
        holds: &[(NodeId, bool)],
    ) -> crate::emit::Roots {
        let side = |s: &S, taken: bool| {
            let mut holds = holds.to_vec();
            holds.push((self.cond, taken));
            match s.split() {
                Some(inner) => inner.kernel(values, leaf, &holds),
                None => crate::emit::Roots::Whole {
                    roots: leaf(s),
                    primal: s.values().to_vec(),
                    holds,
                },
            }
        };
        crate::emit::Roots::Split {
            cond: self.cond,
            values,
            sides: Box::new([side(&self.sides[0], true), side(&self.sides[1], false)]),
        }
    }

    /// Every node the sides compute (for the callees they call).
    pub fn roots(&self) -> Vec<NodeId> {
        let mut out = vec![self.cond];
        for side in &self.sides {
            out.extend(side.nodes());
            if let Some(split) = side.split() {
                out.extend(split.roots());
            }
        }
        out
    }
}

/// `n` where condition `c` is `holds`: the selects, `&&`, `||` and `!` on top of it that test
/// `c` resolved (the graph's rewrites fold the constant); nothing under another operation is
/// rebuilt.
fn assuming(g: &mut crate::graph::Graph, n: NodeId, c: NodeId, holds: bool) -> NodeId {
    if n == c {
        return g.boolean(holds);
    }
    match *g.op(n) {
        Op::Select(k, x, y) => {
            let parts = [k, x, y].map(|m| assuming(g, m, c, holds));
            if parts == [k, x, y] {
                n
            } else {
                g.select(parts[0], parts[1], parts[2])
            }
        }
        Op::Or(x, y) | Op::And(x, y) => {
            let (x2, y2) = (assuming(g, x, c, holds), assuming(g, y, c, holds));
            match *g.op(n) {
                _ if (x2, y2) == (x, y) => n,
                Op::Or(..) => g.or(x2, y2),
                _ => g.and(x2, y2),
            }
        }
        Op::Not(x) => {
            let x2 = assuming(g, x, c, holds);
            if x2 == x { n } else { g.not(x2) }
        }
        _ => n,
    }
}

/// How many choices deep a function's gradient is split (each level differentiates both sides
/// again: `if n == 0 { return …; } if n == 1 { return …; }` then loops is two).
const SPLIT_DEPTH: usize = 3;

/// The [`Split`] of the gradient of `outputs` (one, or a vector-valued function's), if their
/// last choice is worth splitting on: the condition of the first output that is a choice,
/// computed without a loop or a call (evaluated first, as the function's own `if` evaluates
/// it, before anything either side computes), and a side running a loop. `side` differentiates
/// a side's values; `None` where a side's derivatives cannot be built alone (the whole
/// gradient, which was built, stays unsplit).
fn split_of<S: Branch>(
    g: &mut crate::graph::Graph,
    outputs: &[NodeId],
    side: &dyn Fn(&mut crate::graph::Graph, &[NodeId]) -> Option<S>,
    depth: usize,
) -> Option<Box<Split<S>>> {
    let costly = |g: &crate::graph::Graph, n: NodeId| {
        g.reachable(&[n])
            .iter()
            .any(|m| g.op(*m).panics_like_the_user() || g.kind(*m) == Kind::Array)
    };
    if depth >= SPLIT_DEPTH {
        return None;
    }
    let cond = outputs.iter().find_map(|&o| match *g.op(o) {
        Op::Select(cond, ..) if g.kind(o) == Kind::Float => Some(cond),
        _ => None,
    })?;
    // A condition whose first operand is cheap is split on that operand: `if n == 0 || s >
    // 2.0 { return s; }` is `if n == 0 { s } else if s > 2.0 { s } else { … }`, and a guard
    // clause followed by a `return` on a value the loops compute (`returned = r0 || (m > 1 ||
    // r0)`) is `if r0 { … } else { … }` (the second operand is evaluated only where the first
    // does not decide, as `||` and `&&` do).
    let cond = match *g.op(cond) {
        _ if !costly(g, cond) => cond,
        Op::Or(first, _) | Op::And(first, _) if !costly(g, first) => first,
        _ => return None,
    };
    // Each side's values with what `cond` decides in their choices resolved (`if r0 { v0 }
    // else { … }` in the values returned).
    let [a, b]: [Vec<NodeId>; 2] = [true, false].map(|holds| {
        outputs
            .iter()
            .map(|&o| assuming(g, o, cond, holds))
            .collect()
    });
    if !(g.runs_loops(&a) || g.runs_loops(&b)) {
        return None;
    }
    let mut sides = Vec::with_capacity(2);
    for values in [a, b] {
        let mut s = side(g, &values)?;
        s.set_split(split_of(g, &values, side, depth + 1));
        sides.push(s);
    }
    let [then, otherwise]: [S; 2] = sides.try_into().ok()?;
    Some(Box::new(Split {
        cond,
        sides: [then, otherwise],
    }))
}

/// The derivatives of one side of a scalar function's [`Split`] (its own split aside).
fn scalar_side(g: &mut crate::graph::Graph, x: NodeId, with: &SplitWith<'_>) -> Option<Side> {
    let (inputs, slices) = (with.inputs, with.slices);
    let (partials, slice_effects) = diff::gradient_with_slices(g, x, inputs, slices).ok()?;
    let vjp_effects = match with.seed {
        Some(seed) => diff::gradient_seeded(g, x, seed, &[], slices).ok()?.1,
        None => Vec::new(),
    };
    let hvp = match with.tangents {
        Some((tangents, slices)) => Some(crate::hvp::hvp(g, x, tangents, slices).ok()?),
        None => None,
    };
    Some(Side {
        output: x,
        partials,
        slice_effects,
        vjp_effects,
        hvp,
        split: None,
    })
}

/// The derivatives of a vector-valued function (see `jacobian`).
pub struct VectorDerivatives {
    pub lowered: Lowered,
    /// The derivatives of the outputs, and the split of their last choice where one is made.
    pub whole: VectorSide,
}

/// The derivatives of a vector-valued function's outputs: of all of them, or of one side of a
/// [`Split`] (`if n == 0 { return [w, 0.0]; }`, then loops).
pub struct VectorSide {
    pub outputs: Vec<NodeId>,
    pub jacobian: Jacobian,
    /// `sᵀJ` for the seeds `seed[k]` (symbols): `∂/∂p` of `Σ_k seed[k]·f_k` for every float
    /// scalar parameter, and the effect accumulating it for every differentiated slice.
    pub vjp: (Vec<NodeId>, Vec<Option<NodeId>>),
    /// `J·t` for the tangent `tangent` (symbols: `tangent.p`), and how it is computed.
    pub jvp: (Vec<NodeId>, Mode),
    /// The hidden `__vjp_rows`' products (none without a slice parameter): per row `r`, the
    /// effect adding `Σ_k seeds_r[k]·∂f_k/∂x` into row `r`'s sinks, for the seeds
    /// [`row_seed_param`]`(r)` (symbols: `seed[k]` in row 0).
    pub rows: Vec<Vec<Option<NodeId>>>,
    /// What a caller's Hessian through this function's outputs needs (its hidden `__hvp`),
    /// with `hessian`.
    pub call_hvp: Option<crate::hvp::VectorCallHvp>,
    pub split: Option<Box<Split<VectorSide>>>,
}

impl Branch for VectorSide {
    fn values(&self) -> &[NodeId] {
        &self.outputs
    }
    fn split(&self) -> Option<&Split<Self>> {
        self.split.as_deref()
    }
    fn set_split(&mut self, split: Option<Box<Split<Self>>>) {
        self.split = split;
    }
    fn nodes(&self) -> Vec<NodeId> {
        let j = &self.jacobian;
        let mut roots = self.outputs.clone();
        roots.extend(j.entries.iter().flatten());
        roots.extend(j.row_effects.iter().flatten().flatten());
        roots.extend(&self.vjp.0);
        roots.extend(self.vjp.1.iter().flatten());
        roots.extend(&self.jvp.0);
        roots.extend(self.rows.iter().flatten().flatten());
        if let Some(h) = &self.call_hvp {
            roots.extend(h.roots());
        }
        roots
    }
}

impl VectorDerivatives {
    /// Every node the generated functions compute.
    fn roots(&self) -> Vec<NodeId> {
        let mut roots = self.whole.nodes();
        if let Some(split) = &self.whole.split {
            roots.extend(split.roots());
        }
        roots
    }
}

/// What a vector-valued function's outputs are differentiated with respect to, as symbols:
/// see [`vector_side`].
struct VectorWith {
    inputs: Vec<NodeId>,
    wrt: Vec<usize>,
    slices: Vec<u32>,
    /// The seeds of each row of `__vjp_rows` (`_vjp`'s in row 0); none without a slice.
    row_seeds: Vec<Vec<NodeId>>,
    seeds: Vec<NodeId>,
    scalar_tangents: Vec<(NodeId, NodeId)>,
    slice_tangents: Vec<(u32, crate::graph::SymId)>,
    /// The tangents and seeds of `__hvp_outputs`, with `hessian`.
    call_hvp: Option<(Tangents, Vec<NodeId>)>,
}

/// The Jacobian, `sᵀJ`, `__vjp_rows`' products, `J·t` and (with `hessian`) `__hvp_outputs`'
/// nodes of `outputs`.
fn vector_side(
    g: &mut crate::graph::Graph,
    outputs: &[NodeId],
    with: &VectorWith,
) -> Result<VectorSide, diff::DiffError> {
    let jacobian = jacobian::jacobian(g, outputs, &with.inputs, &with.wrt, &with.slices)?;
    let vjp = jacobian::vjp(g, outputs, &with.seeds, &with.inputs, &with.slices)?;
    let rows = if with.slices.is_empty() {
        Vec::new()
    } else {
        jacobian::seeded_rows(g, outputs, &with.row_seeds, &with.inputs, &with.slices)?
    };
    let jvp = jacobian::jvp(
        g,
        outputs,
        &with.scalar_tangents,
        &with.slice_tangents,
        &jacobian,
        &with.inputs,
    )?;
    let call_hvp = match &with.call_hvp {
        Some(((tangents, slices), seeds)) => Some(crate::hvp::vector_call_hvp(
            g, outputs, tangents, slices, seeds,
        )?),
        None => None,
    };
    Ok(VectorSide {
        outputs: outputs.to_vec(),
        jacobian,
        vjp,
        jvp,
        rows,
        call_hvp,
        split: None,
    })
}

/// The seeds of row `r` of `__vjp_rows`: `seed` (as `_vjp`'s) in row 0, `__seed1`, … after.
pub fn row_seed_param(r: usize) -> syn::Ident {
    if r == 0 {
        seed_param()
    } else {
        quote::format_ident!("__seed{}", r, span = proc_macro2::Span::mixed_site())
    }
}

/// The parameter of `_vjp` holding the seeds, and of `_jvp` holding the tangent: mixed-site, so
/// that a parameter of the user's of the same name is another variable.
pub fn seed_param() -> syn::Ident {
    syn::Ident::new("seed", proc_macro2::Span::mixed_site())
}

/// The direction `v` of `_hvp`: see [`seed_param`].
pub fn hvp_param() -> syn::Ident {
    syn::Ident::new("v", proc_macro2::Span::mixed_site())
}

/// See [`seed_param`].
pub fn tangent_param() -> syn::Ident {
    syn::Ident::new("tangent", proc_macro2::Span::mixed_site())
}

/// The plan; or, when the function cannot be differentiated, the calls whose derivative it
/// would need (checked in the stub, so that a plain call is reported with the other errors).
pub fn plan(cx: &Ctxt, func: &ItemFn, args: &Args) -> Result<Plan, Vec<Callee>> {
    let sig = signature::check(cx, func, args).ok_or_else(Vec::new)?;
    if let Some(rule) = &args.rule {
        return Ok(Plan {
            sig,
            body: Body::Rule(rule.clone()),
            callees: Vec::new(),
        });
    }
    if sig.uses_tape() {
        tape::check(cx, &func.block);
        return Ok(Plan {
            sig,
            body: Body::Tape(tape::rewrite(&func.block)),
            callees: Vec::new(),
        });
    }
    let locals = callees::locals(func);
    let on_parameters = |l: &Lowered| {
        let calls = callees::on_parameters(&l.graph);
        callees::of_calls(&l.graph, (&l.symbols, &l.array_args), &calls, &locals)
    };
    let body = crate::nalgebra::rewrite(cx, &sig, &func.sig.output, &func.block);
    let body = crate::tuples::rewrite(cx, func, body);
    let mut lowered = lower::lower(cx, &sig, &body).map_err(|l| on_parameters(&l))?;
    lowered.graph.checkpoint = args.checkpoint;
    read_stretches_from_initial_values(&mut lowered);
    if sig.outputs.is_some() {
        let mut d =
            differentiate_vector(cx, &sig, lowered, args.hessian).map_err(|l| on_parameters(&l))?;
        d.lowered.graph.primal.clone_from(&d.lowered.outputs);
        let calls = callees::differentiated(&d.lowered.graph, &d.roots());
        let callees = callees::of_calls(
            &d.lowered.graph,
            (&d.lowered.symbols, &d.lowered.array_args),
            &calls,
            &locals,
        );
        d.lowered.callees = callees::aliases(&d.lowered.graph, &func.sig.ident, &callees);
        return Ok(Plan {
            sig,
            body: Body::Vector(Box::new(d)),
            callees,
        });
    }
    let mut d = differentiate(cx, &sig, lowered, args.hessian).map_err(|l| on_parameters(&l))?;
    d.lowered.graph.primal = vec![d.lowered.output];
    let mut roots = vec![d.lowered.output];
    roots.extend(&d.partials);
    roots.extend(d.vjp_effects.iter().flatten());
    roots.extend(d.hessian.iter().flatten().flatten());
    if let Some(h) = &d.hvp {
        roots.extend(&h.scalars);
        roots.extend(h.effects.iter().flatten());
    }
    roots.extend(d.second_partials.iter().flatten().flatten());
    if let Some(split) = &d.split {
        roots.extend(split.roots());
    }
    if let Some(h) = &d.call_hvp {
        roots.extend(h.roots());
    }
    let calls = callees::differentiated(&d.lowered.graph, &roots);
    let callees = callees::of_calls(
        &d.lowered.graph,
        (&d.lowered.symbols, &d.lowered.array_args),
        &calls,
        &locals,
    );
    d.lowered.callees = callees::aliases(&d.lowered.graph, &func.sig.ident, &callees);
    Ok(Plan {
        sig,
        body: Body::Graph(Box::new(d)),
        callees,
    })
}

/// Runs `stretches::read_from_initial_values` on the lowered program: its outputs and the
/// calls it keeps the arguments' tokens of follow the nodes rebuilt.
fn read_stretches_from_initial_values(lowered: &mut Lowered) {
    let roots = lowered.outputs.clone();
    let memo = crate::stretches::read_from_initial_values(&mut lowered.graph, &roots);
    if memo.is_empty() {
        return;
    }
    let moved = |n: NodeId| memo.get(&n).copied().unwrap_or(n);
    lowered.output = moved(lowered.output);
    for o in &mut lowered.outputs {
        *o = moved(*o);
    }
    lowered.array_args = std::mem::take(&mut lowered.array_args)
        .into_iter()
        .map(|((call, k), span)| ((moved(call), k), span))
        .collect();
}

/// Reports a derivative that cannot be built, at the user's tokens it comes from.
fn report(cx: &Ctxt, lowered: &Lowered, e: diff::DiffError) {
    let span = e.origin.map_or_else(proc_macro2::Span::call_site, |o| {
        lowered.spans[o.0 as usize]
    });
    cx.error_at(span, msg(e.message, e.help));
}

/// The Jacobian, `sᵀJ` and `J·t` of a vector-valued function, split on its last choice where
/// that is worth it (see [`split_of`]); the graph back if an error was reported.
fn differentiate_vector(
    cx: &Ctxt,
    sig: &Sig,
    mut lowered: Lowered,
    hessian: bool,
) -> Result<VectorDerivatives, Box<Lowered>> {
    let with = vector_symbols(sig, &mut lowered, hessian);
    let outputs = lowered.outputs.clone();
    let mut whole = match vector_side(&mut lowered.graph, &outputs, &with) {
        Ok(whole) => whole,
        Err(e) => {
            report(cx, &lowered, e);
            return Err(Box::new(lowered));
        }
    };
    whole.split = split_of(
        &mut lowered.graph,
        &outputs,
        &|g, values| vector_side(g, values, &with).ok(),
        0,
    );
    Ok(VectorDerivatives { lowered, whole })
}

/// The symbols a vector-valued function is differentiated with: the seeds `seed[k]` (and
/// `__vjp_rows`' rows' seeds), the tangent `tangent.p`, `tangent.x[i]`, and `__hvp_outputs`'
/// tangents and seeds.
fn vector_symbols(sig: &Sig, lowered: &mut Lowered, hessian: bool) -> VectorWith {
    let inputs = lowered.inputs.clone();
    let slices: Vec<u32> = (0..u32::try_from(lowered.graph.slice_count()).unwrap_or(0)).collect();
    let wrt: Vec<usize> = sig
        .floats()
        .enumerate()
        .filter(|(_, p)| p.differentiated)
        .map(|(i, _)| i)
        .collect();
    let m = lowered.outputs.len();
    let seeded = |lowered: &mut Lowered, name: &syn::Ident| -> Vec<NodeId> {
        (0..m)
            .map(|k| {
                let at = proc_macro2::Literal::usize_unsuffixed(k);
                symbol(lowered, quote::quote!(#name[#at]), Kind::Float)
            })
            .collect()
    };
    let seeds = seeded(lowered, &seed_param());
    let mut row_seeds = Vec::new();
    if !slices.is_empty() {
        row_seeds.push(seeds.clone());
        for r in 1..crate::vjp_rows::ROWS {
            row_seeds.push(seeded(lowered, &row_seed_param(r)));
        }
    }
    let tangent = tangent_param();
    let mut scalar_tangents = Vec::new();
    let mut slice_tangents = Vec::new();
    let (mut i, mut k) = (0usize, 0u32);
    for p in &sig.params {
        let id = &p.ident;
        match p.kind {
            ParamKind::Float => {
                if p.differentiated {
                    let t = symbol(lowered, quote::quote!(#tangent.#id), Kind::Float);
                    scalar_tangents.push((inputs[i], t));
                }
                i += 1;
            }
            ParamKind::Slice if p.differentiated => {
                let t = symbol(lowered, quote::quote!(#tangent.#id), Kind::Other);
                if let Op::Sym(s, _) = *lowered.graph.op(t) {
                    slice_tangents.push((k, s));
                }
                k += 1;
            }
            _ => {}
        }
    }
    let call_hvp = hessian.then(|| {
        let tangents = call_hvp_tangents(sig, lowered);
        let seed = format_ident!("__hseed", span = proc_macro2::Span::mixed_site());
        (tangents, seeded(lowered, &seed))
    });
    VectorWith {
        inputs,
        wrt,
        slices,
        row_seeds,
        seeds,
        scalar_tangents,
        slice_tangents,
        call_hvp,
    }
}

/// A new symbol of `lowered` standing for `tokens`, as a node.
fn symbol(lowered: &mut Lowered, tokens: TokenStream, kind: Kind) -> NodeId {
    let name = crate::lower::pretty(&tokens);
    let s = lowered.graph.new_symbol(name);
    lowered.symbols.push(tokens);
    lowered.graph.add(Op::Sym(s, kind))
}

/// The derivatives of `lowered`; the graph back if an error was reported.
fn differentiate(
    cx: &Ctxt,
    sig: &Sig,
    mut lowered: Lowered,
    hessian: bool,
) -> Result<Derivatives, Box<Lowered>> {
    let inputs = lowered.inputs.clone();
    let slices: Vec<u32> = (0..u32::try_from(lowered.graph.slice_count()).unwrap_or(0)).collect();
    let (partials, slice_effects) =
        match diff::gradient_with_slices(&mut lowered.graph, lowered.output, &inputs, &slices) {
            Ok(p) => p,
            Err(e) => {
                report(cx, &lowered, e);
                return Err(Box::new(lowered));
            }
        };
    // The seeded gradient of the slices, for `__vjp` (callers that pass a differentiated slice).
    let mut seed = None;
    let vjp_effects = if slices.is_empty() {
        Vec::new()
    } else {
        let name = format_ident!("__seed", span = proc_macro2::Span::mixed_site());
        let s = lowered.graph.new_symbol("seed");
        lowered.symbols.push(name.to_token_stream());
        let sym = lowered
            .graph
            .add(crate::graph::Op::Sym(s, crate::graph::Kind::Float));
        seed = Some(sym);
        match diff::gradient_seeded(&mut lowered.graph, lowered.output, sym, &[], &slices) {
            Ok((_, effects)) => effects,
            Err(e) => {
                report(cx, &lowered, e);
                return Err(Box::new(lowered));
            }
        }
    };
    let mut tangents = None;
    let hvp = if hessian {
        match hvp_of(sig, &mut lowered) {
            Ok((h, t)) => {
                tangents = Some(t);
                Some(h)
            }
            Err(e) => {
                report(cx, &lowered, e);
                return Err(Box::new(lowered));
            }
        }
    } else {
        None
    };
    // Symbolic second derivatives when every differentiated parameter is a scalar; with slices,
    // `_hessian` is built from `H·v` (see `second_order`).
    let hessian = if hessian && slices.is_empty() {
        let wrt: Vec<usize> = sig
            .floats()
            .enumerate()
            .filter(|(_, p)| p.differentiated)
            .map(|(i, _)| i)
            .collect();
        let wrt_nodes: Vec<NodeId> = wrt.iter().map(|&i| inputs[i]).collect();
        let rows = wrt
            .iter()
            .map(|&i| diff::gradient(&mut lowered.graph, partials[i], &wrt_nodes))
            .collect::<Result<Vec<_>, _>>()
            // Through a loop recurrence, forward over reverse (see `hvp::hessian_by_columns`).
            .or_else(|_| {
                crate::hvp::hessian_by_columns(&mut lowered.graph, lowered.output, &wrt_nodes)
            });
        match rows {
            Ok(rows) => Some(rows),
            Err(e) => {
                report(cx, &lowered, e);
                return Err(Box::new(lowered));
            }
        }
    } else {
        None
    };
    let with = SplitWith {
        inputs: &inputs,
        slices: &slices,
        seed,
        tangents: tangents.as_ref(),
    };
    let output = lowered.output;
    let split = split_of(
        &mut lowered.graph,
        &[output],
        &|g, values| scalar_side(g, values[0], &with),
        0,
    );
    let (second_partials, call_hvp) = if hvp.is_some() {
        for_callers(sig, &mut lowered, &partials, !slices.is_empty())
    } else {
        (None, None)
    };
    Ok(Derivatives {
        lowered,
        partials,
        slice_effects,
        hessian,
        hvp,
        second_partials,
        vjp_effects,
        call_hvp,
        split,
    })
}

/// What the Hessians of callers go through: `__partials2`'s second partials over every float
/// parameter, and, with a differentiated slice, `__hvp`'s nodes. Where they cannot be built,
/// neither is: a caller's Hessian through this function is then reported at its call (its
/// `TwiceDifferentiable` check), never a stand-in run.
fn for_callers(
    sig: &Sig,
    lowered: &mut Lowered,
    partials: &[NodeId],
    slices: bool,
) -> (Option<Vec<Vec<NodeId>>>, Option<crate::hvp::CallHvp>) {
    let inputs = lowered.inputs.clone();
    // Through a loop recurrence (whose reverse sweep is not differentiated again), forward
    // over reverse.
    let second = second_partials(&mut lowered.graph, partials, &inputs).or_else(|_| {
        let h = crate::hvp::hessian_by_columns(&mut lowered.graph, lowered.output, &inputs)?;
        Ok::<_, diff::DiffError>(
            h.into_iter()
                .enumerate()
                .map(|(i, row)| row[i..].to_vec())
                .collect(),
        )
    });
    let Ok(second) = second else {
        return (None, None);
    };
    if !slices {
        return (Some(second), None);
    }
    match call_hvp_of(sig, lowered) {
        Ok(h) => (Some(second), Some(h)),
        Err(_) => (None, None),
    }
}

/// `(input, tangent)` per float parameter, `(k, tangent symbol)` per differentiated slice.
type Tangents = (Vec<(NodeId, NodeId)>, Vec<(u32, crate::graph::SymId)>);

/// The tangent symbols of `__hvp` (`__dot{j}` for parameter `j`): `(input, symbol)` for every
/// float parameter, `(k, symbol)` for every differentiated slice.
fn call_hvp_tangents(sig: &Sig, lowered: &mut Lowered) -> Tangents {
    let mixed = proc_macro2::Span::mixed_site();
    let (mut tangents, mut slices) = (Vec::new(), Vec::new());
    let (mut i, mut k) = (0usize, 0u32);
    for (j, p) in sig.params.iter().enumerate() {
        let dot = format_ident!("__dot{}", j, span = mixed);
        match p.kind {
            ParamKind::Float => {
                let t = symbol(lowered, dot.to_token_stream(), Kind::Float);
                tangents.push((lowered.inputs[i], t));
                i += 1;
            }
            ParamKind::Slice if p.differentiated => {
                let t = symbol(lowered, dot.to_token_stream(), Kind::Other);
                if let Op::Sym(s, _) = *lowered.graph.op(t) {
                    slices.push((k, s));
                }
                k += 1;
            }
            _ => {}
        }
    }
    (tangents, slices)
}

/// `__hvp`'s nodes: see [`crate::hvp::CallHvp`].
fn call_hvp_of(sig: &Sig, lowered: &mut Lowered) -> Result<crate::hvp::CallHvp, diff::DiffError> {
    let mixed = proc_macro2::Span::mixed_site();
    let (tangents, slices) = call_hvp_tangents(sig, lowered);
    let seed = format_ident!("__hseed", span = mixed);
    let seed = symbol(lowered, seed.to_token_stream(), Kind::Float);
    crate::hvp::call_hvp(&mut lowered.graph, lowered.output, &tangents, &slices, seed)
}

/// The upper triangle of `∂²f/∂pᵢ∂pⱼ` over every float scalar parameter (`inputs`, whose
/// partials are `partials`), data or differentiated: a caller may pass a differentiated value
/// anywhere. Row `i` holds columns `i..`.
fn second_partials(
    g: &mut crate::graph::Graph,
    partials: &[NodeId],
    inputs: &[NodeId],
) -> Result<Vec<Vec<NodeId>>, diff::DiffError> {
    let mut rows = Vec::with_capacity(inputs.len());
    for (i, &p) in partials.iter().enumerate() {
        let row = diff::gradient(g, p, &inputs[i..])?;
        rows.push(row);
    }
    Ok(rows)
}

/// `H·v` of a scalar function along `v` (the symbols `v.p` and `v.x[i]`, the fields of the
/// direction `_hvp` takes).
fn hvp_of(sig: &Sig, lowered: &mut Lowered) -> Result<(Hvp, Tangents), diff::DiffError> {
    let v = hvp_param();
    let (mut tangents, mut slices) = (Vec::new(), Vec::new());
    let (mut i, mut k) = (0usize, 0u32);
    for p in &sig.params {
        let id = &p.ident;
        match p.kind {
            ParamKind::Float => {
                if p.differentiated {
                    let t = symbol(lowered, quote::quote!(#v.#id), Kind::Float);
                    tangents.push((lowered.inputs[i], t));
                }
                i += 1;
            }
            ParamKind::Slice if p.differentiated => {
                let t = symbol(lowered, quote::quote!(#v.#id), Kind::Other);
                if let Op::Sym(s, _) = *lowered.graph.op(t) {
                    slices.push((k, s));
                }
                k += 1;
            }
            _ => {}
        }
    }
    let h = crate::hvp::hvp(&mut lowered.graph, lowered.output, &tangents, &slices)?;
    Ok((h, (tangents, slices)))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::time::Instant;

    use quote::quote;

    /// `fn f(x: f64) -> f64 { x.sin().exp().cos()… }`, `depth` calls deep.
    fn chain(depth: usize) -> proc_macro2::TokenStream {
        let funs = ["sin", "exp", "cos", "tanh", "atan", "sqrt"];
        let mut body = String::from("x");
        for k in 0..depth {
            let f = funs[k % funs.len()];
            body = if f == "sqrt" {
                format!("(({body}).powi(2) + 1.0).sqrt()")
            } else {
                format!("({body}).{f}()")
            };
        }
        let body: proc_macro2::TokenStream = body.parse().expect("internal error: chain tokenizes");
        quote! { fn f(x: f64) -> f64 { #body } }
    }

    fn expanded_len(depth: usize) -> usize {
        let out = crate::expand::differentiable(proc_macro2::TokenStream::new(), chain(depth))
            .expect("internal error: chain expands");
        out.to_string().len()
    }

    #[test]
    fn expansion_grows_linearly_with_the_chain() {
        // The formulas in doc strings switch to `let` form past a few hundred characters, and
        // the emitted code binds every shared node once: doubling the depth about doubles the
        // output, never squares it.
        let (a, b, c) = (expanded_len(10), expanded_len(20), expanded_len(40));
        assert!((b as f64) / (a as f64) < 2.6, "10 → 20: {a} → {b}");
        assert!((c as f64) / (b as f64) < 2.6, "20 → 40: {b} → {c}");
    }

    /// Bodies of growing size `n`, one per shape the macro's passes could walk as a tree or
    /// square: a chain that uses each level twice, a wide loop body, loops nested deep, many
    /// loops in a row.
    fn shaped(shape: &str, n: usize) -> String {
        let mut body = String::new();
        match shape {
            "shared chain" => {
                body += "let a1 = x * w;";
                for k in 2..=n {
                    let _ = write!(body, "let a{k} = (a{p} * a{p}).sin() + a{p};", p = k - 1);
                }
                let _ = write!(body, "a{n}");
            }
            "wide loop body" => {
                body += "let mut s = 0.0; for i in 0..y.len() { s += 0.0";
                for k in 1..=n {
                    let _ = write!(body, " + (w * y[i] + {k}.0).tanh() * x");
                }
                body += "; } s";
            }
            "nested loops" => {
                body += "let mut s = 0.0;";
                for k in 0..n {
                    let _ = write!(body, "for i{k} in 0..y.len() {{");
                }
                body += "s += (w * y[i0] - x).powi(2)";
                for k in 1..n {
                    let _ = write!(body, " * y[i{k}]");
                }
                body += ";";
                body += &"}".repeat(n);
                body += "s";
            }
            "loops in a row" => {
                body += "let mut s = 0.0;";
                for k in 0..n {
                    let _ = write!(
                        body,
                        "for i in 0..y.len() {{ s += (w * y[i] + {k}.0).sin() * s; }}"
                    );
                }
                body += "s";
            }
            _ => unreachable!("internal error: unknown shape"),
        }
        format!("fn f(x: f64, w: f64, y: &[f64]) -> f64 {{ {body} }}")
    }

    fn expand_shaped(shape: &str, n: usize) -> (usize, std::time::Duration) {
        let item: proc_macro2::TokenStream = shaped(shape, n)
            .parse()
            .expect("internal error: body tokenizes");
        let start = Instant::now();
        let out = crate::expand::differentiable(proc_macro2::TokenStream::new(), item)
            .expect("internal error: body expands");
        (out.to_string().len(), start.elapsed())
    }

    #[test]
    fn a_chain_reusing_each_level_twice_expands_linearly() {
        // As a tree, depth 40 has 2⁴⁰ nodes: a pass that walks the graph as a tree never ends.
        let (a, _) = expand_shaped("shared chain", 20);
        let (b, _) = expand_shaped("shared chain", 40);
        assert!((b as f64) / (a as f64) < 2.6, "20 → 40: {a} → {b}");
    }

    #[test]
    fn every_shape_expands_to_code_linear_in_its_size() {
        for (shape, n) in [
            ("wide loop body", 8),
            ("nested loops", 3),
            ("loops in a row", 6),
        ] {
            let (a, _) = expand_shaped(shape, n);
            let (b, _) = expand_shaped(shape, 2 * n);
            assert!(
                (b as f64) / (a as f64) < 2.6,
                "{shape}: {n} → {}: {a} → {b}",
                2 * n
            );
        }
    }

    /// Macro time by shape and size, best of 3 (`cargo test -p symgrad-macros --release --lib
    /// macro_time -- --ignored --nocapture`): each doubling of the size should about double it.
    #[test]
    #[ignore = "a measurement: prints a table"]
    fn macro_time() {
        for (shape, sizes) in [
            ("shared chain", [10, 20, 50, 100]),
            ("wide loop body", [10, 20, 40, 80]),
            ("nested loops", [2, 4, 8, 16]),
            ("loops in a row", [5, 10, 20, 40]),
        ] {
            let row: Vec<String> = sizes
                .iter()
                .map(|&n| {
                    let best = (0..3)
                        .map(|_| expand_shaped(shape, n).1)
                        .min()
                        .unwrap_or_default();
                    format!("n = {n}: {:.2} ms", best.as_secs_f64() * 1e3)
                })
                .collect();
            println!("{shape:>16}: {}", row.join(", "));
        }
    }

    #[test]
    fn a_twenty_deep_chain_expands_in_milliseconds() {
        let start = Instant::now();
        let _ = expanded_len(20);
        assert!(
            start.elapsed().as_secs_f64() < 0.5,
            "took {:?}",
            start.elapsed()
        );
    }
}
