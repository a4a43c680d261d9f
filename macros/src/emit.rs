//! Emission: graph nodes become Rust statements.
//!
//! ```text
//! // Graph:                               // Output:
//! // out = (w·x − y)², ∂w = 2·x·(w·x − y)   let __t2 = w * x - y;
//! //                                       let __t3 = __t2.powi(2);
//! //                                       let __t5 = 2.0f64 * x * __t2;
//! ```
//!
//! Shared nodes get one `let` each (common subexpressions are computed once); nodes used once are
//! written inline. A `Select` becomes `if c { … } else { … }` whose branches hold the nodes only
//! that branch needs, so an untaken branch costs nothing and cannot produce a NaN. Nodes needed
//! by both branches are hoisted before the `if`, which keeps the output linear in the graph.
//! Generated names use `Span::mixed_site()`, so they cannot collide with the user's.
//!
//! # What the scheduler moves, and the check that allows it
//!
//! Each transformation of the order the graph implies is made only where one dependency check,
//! written once (in the function named), says it is safe; where it cannot tell, it does not
//! move the code. The differential fuzzer (`fuzz/`) runs the emitted code against an oracle.
//!
//! | transformation | allowed when | where |
//! |---|---|---|
//! | hoisting a node out of a loop over `v` | it does not depend on `v`'s index (its loop mask), is not an effect (a scatter, or a loop of them, runs once per iteration), and neither may panic nor is under a condition; a whole loop is hoisted even so, the one move made without a proof: under a condition whose bounds it needs, `_grad` may panic where the function would not (not hoisting it makes a conditional mean O(n²); caching it at its first use would be safe) | [`Emitter::loop_invariants`] |
//! | reusing, inside a loop over `v`, a value bound outside | it does not depend on `v`'s index: a loop over `v` can run inside an iteration of another (the reverse pass sums over rows inside the loop over columns) | [`Emitter::visible_in_loop`] |
//! | reading a bound value in a statement of a region | it was bound before that statement; a loop or branch that needs a value bound later computes it itself | [`Emitter::region_parts`] |
//! | fusing sums over one loop into one `for` (at the last member) | same loop and bounds, no member reads another, and no statement between them reads a member | [`Emitter::loop_group`] |
//! | fusing them at the first member | everything each member reads from outside the loop is bound before the first | [`Emitter::early_group`] |
//! | running sums inside a recurrence's reverse loop | they read that sweep's `λ` | [`emit`] (`sweeps`) |
//! | a reverse sweep as one recorded iteration | its step only keeps or kills `λ`, and its sums vanish where it does | [`kill_or_keep_sweeps`] |
//! | binding an element read first | it is the largest offset of the loop's index into that slice (its bounds check covers the others) | [`leading_reads`] |
//!
//! The interchange of loops (a contribution summed over the loops its target is not in, at the
//! target) is the differentiation pass's (`diff::Sweep::contribute`), which keeps a contribution
//! per iteration where the sum would rerun a loop that varies with them.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::formula::Prec;
use crate::graph::{Fun, Graph, IntOp, NodeId, Op, SymId};
use crate::signature::FloatTy;

pub struct Emitter<'a> {
    g: &'a Graph,
    symbols: Symbols<'a>,
    /// The tokens of each float input (the parameter's identifier), by input index.
    inputs: &'a [TokenStream],
    /// The tokens of each differentiated slice parameter, by slice number.
    slices: &'a [TokenStream],
    float: FloatTy,
    uses: HashMap<NodeId, usize>,
    /// Calls whose partial derivatives are needed.
    differentiated_calls: HashSet<NodeId>,
    /// Recurrences whose forward loop saves its values for a reverse sweep.
    traced: HashSet<u32>,
    /// Recurrences whose reverse sweep only keeps or kills `λ` (a running max or min), with the
    /// condition and the value it kills on: the forward loop records the last iteration that
    /// kills, the only one with contributions, and the reverse sweep is that one iteration.
    last_kill: HashMap<u32, (NodeId, bool)>,
    /// The sums that read a recurrence's adjoint `λ`, with the `RevFold` whose reverse loop they
    /// run in.
    sweeps: HashMap<NodeId, NodeId>,
    /// Where the slices' gradients accumulate.
    sinks: Sinks,
    /// Nodes whose evaluation may panic (an index out of range, integer overflow or division by
    /// zero), themselves or through what they read: not evaluated before a loop that might not
    /// run (`for i in 0..n { … x[k] … }` with `n = 0`).
    may_panic: HashSet<NodeId>,
    /// Per slice and loop, the element read at the largest offset (`x[i + 1]` beside `x[i]`):
    /// bound, and read first in its region, so its bounds check covers the others'.
    leading_reads: HashSet<NodeId>,
}

/// Where the gradients of the differentiated slices accumulate.
#[derive(Clone, Copy)]
pub enum Sinks {
    /// Vectors, arrays or `&mut [T]` (passed on as `&mut g[..]`).
    Slices,
    /// A `__vjp`'s generic `&mut S` parameters (passed on as `&mut *g`).
    Generic,
}

/// The tokens of the graph's symbols, and the path each callee's derivative is reached by.
#[derive(Clone, Copy)]
pub struct Symbols<'a> {
    /// The tokens of every symbol, by `SymId`.
    pub tokens: &'a [TokenStream],
    /// For the callees whose derivative the code calls, by the `SymId` of their path: the
    /// checked alias of `callees` (a path not in it is used as written).
    pub callees: &'a HashMap<u32, TokenStream>,
}

impl Symbols<'_> {
    /// The path of a call's `__partials` and `__vjp`.
    fn derivative_path(&self, f: SymId) -> &TokenStream {
        self.callees.get(&f.0).unwrap_or(&self.tokens[f.0 as usize])
    }
}

/// Emits statements computing `roots`, and an expression for each root.
pub fn emit(
    g: &Graph,
    symbols: Symbols<'_>,
    inputs: &[TokenStream],
    slices: &[TokenStream],
    float: FloatTy,
    roots: &[NodeId],
    sinks: Sinks,
) -> (TokenStream, Vec<TokenStream>) {
    let all = g.reachable_with_sweeps(roots);
    let ReverseSweeps {
        traced,
        sweeps,
        last_kill,
    } = ReverseSweeps::of(g, &all);
    let mut uses: HashMap<NodeId, usize> = HashMap::new();
    let mut differentiated_calls = HashSet::new();
    for n in &all {
        for c in g.op(*n).children() {
            *uses.entry(c).or_default() += 1;
        }
        if let Op::Partial(call, _) = g.op(*n) {
            differentiated_calls.insert(*call);
        }
    }
    for r in roots {
        *uses.entry(*r).or_default() += 1;
    }
    let e = Emitter {
        g,
        symbols,
        inputs,
        slices,
        float,
        uses,
        differentiated_calls,
        traced,
        last_kill,
        sweeps,
        sinks,
        leading_reads: leading_reads(g, &all),
        may_panic: g.panicking(&all),
    };
    let mut defined = HashSet::new();
    let stmts = e.region(roots, &mut defined);
    let exprs = roots.iter().map(|r| e.expr(*r, Prec::Select)).collect();
    (stmts, exprs)
}

/// Whether computing `roots` saves a recurrence's values in a vector for its reverse sweep
/// (`p *= x[i]`): the one allocation a gradient's loops make.
pub fn saves_trace(g: &Graph, roots: &[NodeId]) -> bool {
    !ReverseSweeps::of(g, &g.reachable_with_sweeps(roots))
        .traced
        .is_empty()
}

/// The recurrences' reverse sweeps among the nodes to emit.
struct ReverseSweeps {
    /// Recurrences whose forward loop saves its values.
    traced: HashSet<u32>,
    /// The sums that read a recurrence's adjoint, with the `RevFold` they run in.
    sweeps: HashMap<NodeId, NodeId>,
    /// Recurrences whose reverse sweep is their last kill (see [`Emitter::last_kill`]).
    last_kill: HashMap<u32, (NodeId, bool)>,
}

impl ReverseSweeps {
    fn of(g: &Graph, all: &[NodeId]) -> ReverseSweeps {
        let mut traced = HashSet::new();
        let mut sweeps = HashMap::new();
        // Only a gradient through a recurrence has reverse sweeps to find sums for.
        let has_sweeps = all.iter().any(|n| matches!(g.op(*n), Op::RevFold { .. }));
        for n in all.iter().filter(|_| has_sweeps) {
            match *g.op(*n) {
                Op::RevFold { .. } => {
                    traced.extend(g.recurrence_of_sweep(*n));
                }
                Op::Sum { v, body, .. } => {
                    let reads =
                        reads_in_loop(g, body, v)
                            .into_iter()
                            .find_map(|m| match *g.op(m) {
                                Op::Adjoint {
                                    sweep: c, v: v2, ..
                                } if v2 == v => g.reverse_sweep_of(c),
                                _ => None,
                            });
                    if let Some(r) = reads {
                        sweeps.insert(*n, r);
                    }
                }
                _ => {}
            }
        }
        let last_kill = kill_or_keep_sweeps(g, all, &sweeps);
        traced.retain(|c| !last_kill.contains_key(c));
        ReverseSweeps {
            traced,
            sweeps,
            last_kill,
        }
    }
}

impl Emitter<'_> {
    /// A node bound to a `let` (rather than written inline where it is used).
    fn is_bound(&self, n: NodeId) -> bool {
        if self.g.is_leaf(n) {
            return false;
        }
        matches!(
            self.g.op(n),
            Op::Select(..)
                | Op::Call(..)
                | Op::Sum { .. }
                | Op::Scatter(..)
                | Op::Effects(..)
                | Op::Fold { .. }
                | Op::RevFold { .. }
                | Op::Until { .. }
                | Op::CallVjp(..)
                | Op::And(..)
                | Op::Or(..)
        ) || self.uses.get(&n).copied().unwrap_or(0) > 1
            || self.leading_reads.contains(&n)
    }

    /// `__t<id>`, or `__t<id>_<name>` for a node the user bound with `let` (renumbered in
    /// order of appearance by [`renumber`]).
    fn name(&self, n: NodeId) -> proc_macro2::Ident {
        match self.g.let_name(n) {
            Some(user) => format_ident!("__t{}_{}", n.0, user, span = Span::mixed_site()),
            None => format_ident!("__t{}", n.0, span = Span::mixed_site()),
        }
    }

    fn partials_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__d{}", n.0, span = Span::mixed_site())
    }

    /// Nodes reachable from `roots` through [`Op::eager_children`] (not into a select's branches
    /// or the right operand of `&&`/`||`), minus `stop`.
    fn closure(&self, roots: &[NodeId], stop: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        // Reverse sweeps a sum of this region runs in: emitted here even if already emitted
        // outside (the sum's loop is the sweep's loop).
        let mut forced = HashSet::new();
        while let Some(n) = stack.pop() {
            // An effect is a statement, not a value: where it is reached it runs, even if an
            // enclosing region ran the same node (`∇w[0] += v` at the top and in a loop).
            let done = stop.contains(&n) && !forced.contains(&n) && !self.g.is_effect(n);
            if done || !seen.insert(n) {
                continue;
            }
            match self.g.op(n) {
                // A loop's body is emitted inside the loop; what it reads from outside, before.
                Op::Sum { v, lo, hi, body } => {
                    stack.extend([*lo, *hi]);
                    stack.extend(self.loop_invariants(*v, *body));
                    if let Some(r) = self.sweeps.get(&n) {
                        forced.insert(*r);
                        stack.push(*r);
                    }
                }
                Op::Fold {
                    v,
                    lo,
                    hi,
                    init,
                    body,
                    ..
                } => {
                    stack.extend([*lo, *hi, *init]);
                    stack.extend(self.loop_invariants(*v, *body));
                }
                Op::Until { v, lo, hi, cond } => {
                    stack.extend([*lo, *hi]);
                    stack.extend(self.loop_invariants(*v, *cond));
                }
                Op::RevFold {
                    v,
                    fold,
                    seed,
                    step,
                    ..
                } => {
                    stack.extend([*fold, *seed]);
                    stack.extend(self.loop_invariants(*v, *step));
                }
                // A select's branches and the right operand of `&&`/`||` are emitted in their
                // own blocks.
                op => stack.extend(op.eager_children()),
            }
        }
        seen
    }

    /// The nodes outside loop `v` that its body reads: reachable from `body` without passing
    /// through a node that depends on `v`'s index.
    fn loop_invariants(&self, v: u32, body: NodeId) -> Vec<NodeId> {
        // `(node, conditional)`: whether it is only evaluated under a condition (in a branch of
        // a select, or the right operand of `&&`/`||`). Such a node is not hoisted before the
        // loop (`if k < x.len() { x[k] }` must not read `x[k]` when `k` is out of range) unless
        // it is a whole loop, which would otherwise rerun in every iteration.
        let mut seen = [HashSet::new(), HashSet::new()];
        let mut out = Vec::new();
        let mut stack = vec![(body, false)];
        while let Some((n, conditional)) = stack.pop() {
            if !seen[usize::from(conditional)].insert(n) {
                continue;
            }
            // An effect runs once per iteration even where nothing in it changes with the index.
            let effect = self.g.is_effect(n);
            let op = self.g.op(n);
            if self.g.loops_of(n) & (1 << v) == 0 && !effect {
                let a_loop = matches!(
                    op,
                    Op::Sum { .. } | Op::Fold { .. } | Op::RevFold { .. } | Op::Until { .. }
                );
                if a_loop || (!conditional && !self.may_panic.contains(&n)) {
                    out.push(n);
                } else {
                    // Evaluated in the loop (each iteration; LLVM hoists it into the loop's
                    // preheader, which only runs when the loop does), what it reads before.
                    stack.extend(op.children().into_iter().map(|c| (c, conditional)));
                }
            } else if let Op::Sum {
                v: inner,
                lo,
                hi,
                body: inner_body,
            } = *op
            {
                // A loop nested in this one reads its own invariants before it starts.
                stack.extend([(lo, conditional), (hi, conditional)]);
                let reads = self.loop_invariants(inner, inner_body);
                stack.extend(reads.into_iter().map(|r| (r, conditional)));
                stack.extend(self.sweeps.get(&n).map(|r| (*r, conditional)));
            } else if let Op::Fold {
                v: inner,
                lo,
                hi,
                init,
                body,
                ..
            } = *op
            {
                stack.extend([lo, hi, init].map(|r| (r, conditional)));
                let reads = self.loop_invariants(inner, body);
                stack.extend(reads.into_iter().map(|r| (r, conditional)));
            } else if let Op::Until {
                v: inner,
                lo,
                hi,
                cond,
            } = *op
            {
                stack.extend([(lo, conditional), (hi, conditional)]);
                let reads = self.loop_invariants(inner, cond);
                stack.extend(reads.into_iter().map(|r| (r, conditional)));
            } else if let Op::RevFold {
                v: inner,
                fold,
                seed,
                step,
                ..
            } = *op
            {
                stack.extend([(fold, conditional), (seed, conditional)]);
                let reads = self.loop_invariants(inner, step);
                stack.extend(reads.into_iter().map(|r| (r, conditional)));
            } else {
                stack.extend(op.eager_children().into_iter().map(|c| (c, conditional)));
                stack.extend(op.lazy_children().into_iter().map(|c| (c, true)));
            }
        }
        out
    }

    /// The nodes this region evaluates: the closure of its roots, plus whatever both branches of
    /// one of its selects need (hoisted, so it is computed once).
    fn region_nodes(&self, roots: &[NodeId], defined: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut here = self.closure(roots, defined);
        loop {
            let mut stop: HashSet<NodeId> = defined.union(&here).copied().collect();
            let mut hoist = Vec::new();
            for n in &here {
                if let Op::Select(_, a, b) = self.g.op(*n) {
                    let ta = self.closure(&[*a], &stop);
                    let tb = self.closure(&[*b], &stop);
                    // Effects run in their branch (each branch runs its own).
                    let both = ta.intersection(&tb).filter(|m| !self.g.is_effect(**m));
                    hoist.extend(both.copied());
                }
            }
            if hoist.is_empty() {
                return here;
            }
            let extra = self.closure(&hoist, &stop);
            stop.extend(extra.iter().copied());
            here.extend(extra);
        }
    }

    /// Statements binding the nodes of the region of `roots`; marks them defined.
    fn region(&self, roots: &[NodeId], defined: &mut HashSet<NodeId>) -> TokenStream {
        let (mut out, scatters) = self.region_parts(roots, defined);
        out.extend(scatters);
        out
    }

    /// [`region`](Self::region) in two parts: the statements, then the scatters into the
    /// slices' gradients (a loop adds to its accumulators between the two).
    fn region_parts(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
    ) -> (TokenStream, TokenStream) {
        let here = self.region_nodes(roots, defined);
        let mut order: Vec<NodeId> = here.iter().copied().collect();
        // The leading element reads (and what their indices need) first, then in graph order.
        let mut leading = HashSet::new();
        let mut stack: Vec<NodeId> = order
            .iter()
            .copied()
            .filter(|n| self.leading_reads.contains(n))
            .collect();
        while let Some(n) = stack.pop() {
            if here.contains(&n) && leading.insert(n) {
                stack.extend(self.g.op(n).children());
            }
        }
        order.sort_unstable_by_key(|n| (!leading.contains(n), *n));
        let before = defined.clone();
        let mut out = TokenStream::new();
        // Sums over one loop run in one `for`, placed where the last of them stands.
        let mut grouped: HashSet<NodeId> = HashSet::new();
        let mut at_anchor: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        // A reverse sweep and the sums that read its `λ`: one reverse loop, placed at the sweep
        // (the differentiation pass builds those sums, and their uses, after it).
        // Where each grouped node is emitted: its group's anchor.
        let mut anchor_of: HashMap<NodeId, NodeId> = HashMap::new();
        for &n in &order {
            if matches!(self.g.op(n), Op::RevFold { .. }) {
                let mut group = vec![n];
                group.extend(order.iter().filter(|s| self.sweeps.get(s) == Some(&n)));
                grouped.extend(group.iter().copied());
                anchor_of.extend(group.iter().map(|m| (*m, n)));
                at_anchor.insert(n, group);
            }
        }
        for &n in &order {
            if matches!(self.g.op(n), Op::Sum { .. }) && !grouped.contains(&n) {
                // At the last member (everything before may be read), or at the first (members
                // whose inputs are all emitted by then): whichever fuses more loops.
                let late = self.loop_group(n, &order, &grouped);
                let early = self.early_group(n, &order, &grouped, &anchor_of, &before);
                let (group, anchor) = if early.len() > late.len() {
                    (early, n)
                } else {
                    let last = *late.last().unwrap_or(&n);
                    (late, last)
                };
                grouped.extend(group.iter().copied());
                anchor_of.extend(group.iter().map(|m| (*m, anchor)));
                at_anchor.insert(anchor, group);
            }
        }
        // What a statement may read: what was bound before it (the scatters run last, when
        // everything is). A loop, a branch or a short-circuit operand that reads a node this
        // region binds only later computes it itself (as `loop_invariants` assumed of what it
        // does not hoist): `for i { s += y[i]; ∇y[i] += y[0]; } let t = y[0]; … s * t`.
        let mut visible = defined.clone();
        let mut scatters = Vec::new();
        for &n in &order {
            if let Some(group) = at_anchor.get(&n) {
                if matches!(self.g.op(n), Op::RevFold { .. }) {
                    out.extend(self.reverse_loop(group, &visible));
                } else {
                    out.extend(self.fused_loop(group, &visible));
                }
                visible.extend(group.iter().copied());
            } else if matches!(self.g.op(n), Op::Scatter(..)) {
                scatters.push(n);
            } else if self.is_bound(n) && !grouped.contains(&n) {
                out.extend(self.binding(n, &visible));
                visible.insert(n);
            } else if !grouped.contains(&n)
                && self.g.op(n).children().iter().all(|c| visible.contains(c))
            {
                // Written inline where it is used: usable once what it reads is bound
                // (`seed · Σ…` before the sum's loop has run is not).
                visible.insert(n);
            }
        }
        defined.extend(order.iter().copied());
        // Scatters last, the one into `∇x[i]` before those into `∇x[i + 1]`, …: the element the
        // previous iteration wrote is read first, which keeps the store-to-load chain short
        // (measured 2× on Rosenbrock).
        scatters.sort_by_key(|n| match self.g.op(*n) {
            Op::Scatter(_, i, _) => (!matches!(self.g.op(*i), Op::LoopVar(_)), *n),
            _ => (true, *n),
        });
        let mut effects = TokenStream::new();
        for n in scatters {
            effects.extend(self.binding(n, defined));
        }
        (out, effects)
    }

    /// The sums after `first` in `order`, not yet grouped, over the same loop and bounds, with
    /// their bodies: the candidates to share `first`'s `for`.
    fn later_sums_over<'o>(
        &'o self,
        first: NodeId,
        order: &'o [NodeId],
        done: &'o HashSet<NodeId>,
    ) -> impl Iterator<Item = (NodeId, NodeId)> + 'o {
        let bounds = match *self.g.op(first) {
            Op::Sum { v, lo, hi, .. } => Some((v, lo, hi)),
            _ => None,
        };
        order
            .iter()
            .filter(move |t| **t > first && !done.contains(t))
            .filter_map(move |&t| match *self.g.op(t) {
                Op::Sum { v, lo, hi, body } if Some((v, lo, hi)) == bounds => Some((t, body)),
                _ => None,
            })
    }

    /// The sums over the same loop as `first` that can run in its iteration: the same bounds,
    /// and everything they read from outside the loop is available where `first` is emitted.
    /// One loop then computes a value and its gradient, as a person would write it.
    fn loop_group(&self, first: NodeId, order: &[NodeId], done: &HashSet<NodeId>) -> Vec<NodeId> {
        let Op::Sum { v, .. } = *self.g.op(first) else {
            return vec![first];
        };
        let mut group = vec![first];
        for (t, body) in self.later_sums_over(first, order, done) {
            // `t` must not read a member (its adjoint may need the finished sum) ...
            let invariants = self.loop_invariants(v, body);
            let reads_member = invariants
                .iter()
                .any(|n| group.iter().any(|m| self.g.mentions(*n, *m)));
            // ... and no statement emitted before the fused loop (at `t`) may read a member.
            let used_early = order
                .iter()
                .filter(|u| !matches!(self.g.op(**u), Op::Effects(..)))
                .filter(|u| **u > first && **u < t && self.is_bound(**u) && !group.contains(u))
                .any(|u| group.iter().any(|m| self.g.mentions(*u, *m)));
            if !reads_member && !used_early {
                group.push(t);
            }
        }
        group
    }

    /// The sums over the same loop as `first` that can run in its iteration *at `first`'s
    /// place*: every statement they need is emitted before `first` (outside this region, or
    /// earlier in it, or in a group anchored earlier), and they do not read one another.
    fn early_group(
        &self,
        first: NodeId,
        order: &[NodeId],
        done: &HashSet<NodeId>,
        anchor_of: &HashMap<NodeId, NodeId>,
        outside: &HashSet<NodeId>,
    ) -> Vec<NodeId> {
        let Op::Sum { v, .. } = *self.g.op(first) else {
            return vec![first];
        };
        let mut group = vec![first];
        for (t, body) in self.later_sums_over(first, order, done) {
            let ready = self
                .statements_read(v, body, outside)
                .iter()
                .all(|d| !group.contains(d) && anchor_of.get(d).copied().unwrap_or(*d) < first);
            if ready {
                group.push(t);
            }
        }
        group
    }

    /// The bound nodes of this region that the body of a loop over `v` reads from outside the
    /// loop (directly, or through nodes written inline).
    fn statements_read(&self, v: u32, body: NodeId, outside: &HashSet<NodeId>) -> Vec<NodeId> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut stack = self.loop_invariants(v, body);
        while let Some(n) = stack.pop() {
            if outside.contains(&n) || !seen.insert(n) {
                continue;
            }
            if self.is_bound(n) {
                out.push(n);
            } else {
                stack.extend(self.g.op(n).children());
            }
        }
        out
    }

    /// One `for` loop computing every sum (and effect) of `group`, which share loop and bounds:
    /// `let mut acc = 0.0; … for i in lo..hi { …; acc += body; … } let __tN = acc;`
    fn fused_loop(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Sum { v, lo, hi, .. } = *self.g.op(group[0]) else {
            return quote!(::core::compile_error!("internal error: not a loop"));
        };
        let i = loop_var_name(v);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let bodies: Vec<NodeId> = group.iter().filter_map(|n| self.sum_body(*n)).collect();
        let mut inner = self.visible_in_loop(v, defined);
        let (stmts, scatters) = self.region_parts(&bodies, &mut inner);
        let (init, add, bind) = self.accumulators(group);
        // The accumulators before the scatters, as a person writes it: the value's arithmetic is
        // not held behind the stores (measured 1.25 → 1.0 of hand-written on Rosenbrock).
        quote! {
            #init
            for #i in #lo..#hi {
                #stmts
                #add
                #scatters
            }
            #bind
        }
    }

    /// The bindings made outside a loop over `v` that its body may read: those that do not
    /// depend on `v`'s index. A loop over `v` can run inside an iteration of another loop over
    /// `v`: the reverse pass sums a row's adjoint over the rows inside the loop over the columns
    /// (`∂/∂w[j] = Σᵢ exp(qᵢ)·exp(w[j])·x[i·d + j]` with `qᵢ = Σⱼ exp(w[j])·x[i·d + j]`), and
    /// the inner `for __i{v}` rebinds the index, so what the outer iteration computed from it
    /// (`exp(w[j])` at the outer `j`) is stale inside: it is computed again there.
    ///
    /// ```text
    /// for __i1 in 0..d {                      // ∇w[j]
    ///     let __t13 = w[__i1].exp();
    ///     for __i0 in 0..n {
    ///         let mut __acc19 = 0.0;
    ///         for __i1 in 0..d {              // qᵢ: `__t13` of the outer `j` is not visible
    ///             let __t13 = w[__i1].exp();
    ///             __acc19 += __t13 * x[__i0 * d + __i1];
    ///         }
    ///         …
    /// ```
    fn visible_in_loop(&self, v: u32, defined: &HashSet<NodeId>) -> HashSet<NodeId> {
        let bit = 1u64 << v;
        defined
            .iter()
            .copied()
            .filter(|n| self.g.loops_of(*n) & bit == 0)
            .collect()
    }

    /// The body of a `Sum` node.
    fn sum_body(&self, n: NodeId) -> Option<NodeId> {
        match *self.g.op(n) {
            Op::Sum { body, .. } => Some(body),
            _ => None,
        }
    }

    /// For the float sums among `sums`, run in one loop: `let mut acc = 0.0;` before it,
    /// `acc += body;` in it, `let __tN = acc;` after it. (A loop of effects has no
    /// accumulator: its statements are in the loop's region.)
    fn accumulators(&self, sums: &[NodeId]) -> (TokenStream, TokenStream, TokenStream) {
        let zero = self.float_lit(0.0);
        let (mut init, mut add, mut bind) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for &n in sums {
            let Some(body) = self.sum_body(n) else {
                continue;
            };
            if self.g.kind(n) != crate::graph::Kind::Float {
                continue;
            }
            let acc = format_ident!("__acc{}", n.0, span = Span::mixed_site());
            let name = self.name(n);
            let value = self.expr(body, Prec::Select);
            init.extend(quote! { let mut #acc = #zero; });
            add.extend(quote! { #acc += #value; });
            bind.extend(quote! { let #name = #acc; });
        }
        (init, add, bind)
    }

    /// The forward loop of recurrence `n`, saving each iteration's value when a reverse sweep
    /// needs it: `let mut s = init; for i in lo..hi { trace.push(s); …; s = body; } let __tN = s;`
    fn fold_loop(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.g.op(n)
        else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (i, s, trace, name) = (loop_var_name(v), carry_name(c), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let init = self.expr(init, Prec::Select);
        let mut inner = self.visible_in_loop(v, defined);
        let kill = self.last_kill.get(&c).copied();
        let mut roots = vec![body];
        roots.extend(kill.map(|(cond, _)| cond));
        let stmts = self.region(&roots, &mut inner);
        let next = self.expr(body, Prec::Select);
        let (declare, save) = if let Some((cond, on)) = kill {
            let cond = self.expr(cond, Prec::Prefix);
            let kills = if on { cond } else { quote!(!#cond) };
            (
                quote! { let mut #trace = ::core::option::Option::None; },
                quote! {
                    #stmts
                    if #kills {
                        #trace = ::core::option::Option::Some((#i, #s));
                    }
                },
            )
        } else if self.traced.contains(&c) {
            (
                // The loop's length, for any integer type of its bounds.
                quote! {
                    let mut #trace = ::std::vec::Vec::with_capacity(
                        ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
                    );
                },
                quote! { #trace.push(#s); #stmts },
            )
        } else {
            (TokenStream::new(), stmts)
        };
        quote! {
            let mut #s = #init;
            #declare
            for #i in #lo..#hi {
                #save
                #s = #next;
            }
            let #name = #s;
        }
    }

    /// The loop that finds where `for v in lo..hi { …; if cond { break; } … }` breaks:
    /// `let mut __tN = hi; for v in lo..hi { …; if cond { __tN = v; break; } }`.
    fn until_loop(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Until { v, lo, hi, cond } = *self.g.op(n) else {
            return quote!(::core::compile_error!("internal error: not a loop's end"));
        };
        let (i, name) = (loop_var_name(v), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let mut inner = self.visible_in_loop(v, defined);
        let stmts = self.region(&[cond], &mut inner);
        let cond = self.expr(cond, Prec::Or);
        quote! {
            let mut #name = #hi;
            for #i in #lo..#hi {
                #stmts
                if #cond {
                    #name = #i;
                    break;
                }
            }
        }
    }

    /// The reverse loop of a recurrence's gradient, with the sums that read its `λ` (`group[0]`
    /// is the `RevFold`): each iteration reads its saved value, adds its contributions, and
    /// steps `λ` back one iteration.
    fn reverse_loop(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> TokenStream {
        let Op::RevFold {
            sweep,
            v,
            fold,
            seed,
            step,
        } = *self.g.op(group[0])
        else {
            return quote!(::core::compile_error!(
                "internal error: not a reverse sweep"
            ));
        };
        let Op::Fold { c, lo, hi, .. } = *self.g.op(fold) else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (i, s, trace, lam) = (
            loop_var_name(v),
            carry_name(c),
            trace_name(c),
            adjoint_name(sweep),
        );
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let seed = self.expr(seed, Prec::Select);
        let mut bodies = vec![step];
        bodies.extend(group[1..].iter().filter_map(|n| self.sum_body(*n)));
        let mut inner = self.visible_in_loop(v, defined);
        let (stmts, scatters) = self.region_parts(&bodies, &mut inner);
        let (init, add, bind) = self.accumulators(&group[1..]);
        let back = self.expr(step, Prec::Select);
        let name = self.name(group[0]);
        // Only the last iteration that kills `λ` contributes, if the sweep only keeps or kills it
        // (`λ` is the seed until then, and zero before it), with the value the recurrence had
        // there; otherwise every iteration, with its saved value.
        let iterations = if self.last_kill.contains_key(&c) {
            quote!(if let ::core::option::Option::Some((#i, #s)) = #trace)
        } else {
            quote!(for (#i, &#s) in (#lo..#hi).rev().zip(#trace.iter().rev()))
        };
        quote! {
            let mut #lam = #seed;
            #init
            #iterations {
                #stmts
                #add
                #scatters
                #lam = #back;
            }
            let #name = #lam;
            #bind
        }
    }

    /// An argument of a call: a differentiated slice as the user wrote it (`x`, `&x`),
    /// everything else as an expression.
    fn call_arg(&self, a: NodeId) -> TokenStream {
        match self.g.op(a) {
            Op::SliceArg(_, s) => self.symbols.tokens[s.0 as usize].clone(),
            _ => self.expr(a, Prec::Select),
        }
    }

    /// `let __tN = …;` for one bound node.
    fn binding(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let name = self.name(n);
        match self.g.op(n) {
            // A guarded effect: a statement, each branch's effects in its block.
            Op::Select(c, a, b) if self.g.is_effect(n) => {
                let cond = self.expr(*c, Prec::Or);
                let then = self.region(&[*a], &mut defined.clone());
                let other = self.region(&[*b], &mut defined.clone());
                match (then.is_empty(), other.is_empty()) {
                    (_, true) => quote! { if #cond { #then } },
                    (true, false) => {
                        let cond = self.expr(*c, Prec::Prefix);
                        quote! { if !#cond { #other } }
                    }
                    (false, false) => quote! { if #cond { #then } else { #other } },
                }
            }
            Op::Select(c, a, b) => {
                let cond = self.expr(*c, Prec::Or);
                let then = self.branch(*a, defined);
                let other = self.branch(*b, defined);
                quote! { let #name = if #cond { #then } else { #other }; }
            }
            // Short-circuiting: what the right operand needs is computed only when it is read.
            Op::And(a, b) | Op::Or(a, b) => {
                let (op, left, right) = if matches!(self.g.op(n), Op::And(..)) {
                    (quote!(&&), Prec::And, Prec::Compare)
                } else {
                    (quote!(||), Prec::Or, Prec::And)
                };
                let left = self.expr(*a, left);
                let mut inner = defined.clone();
                let stmts = self.region(&[*b], &mut inner);
                let right = self.expr(*b, right);
                if stmts.is_empty() {
                    quote! { let #name = #left #op #right; }
                } else {
                    quote! { let #name = #left #op { #stmts #right }; }
                }
            }
            Op::Call(f, args) if self.differentiated_calls.contains(&n) => {
                let path = self.symbols.derivative_path(*f);
                let args = args.iter().map(|a| self.call_arg(*a));
                let d = Self::partials_name(n);
                quote! { let (#name, #d) = #path::__partials(#(#args),*); }
            }
            Op::Sum { .. } => self.fused_loop(&[n], defined),
            Op::Fold { .. } => self.fold_loop(n, defined),
            Op::Until { .. } => self.until_loop(n, defined),
            Op::RevFold { .. } => self.reverse_loop(&[n], defined),
            Op::Scatter(k, i, x) => {
                let g = grad_vec_name(*k);
                let i = self.expr(*i, Prec::Select);
                let x = self.expr(*x, Prec::Select);
                quote! { #g[#i] += #x; }
            }
            // Its two effects are bound, and emitted, on their own.
            Op::Effects(..) => TokenStream::new(),
            Op::CallVjp(call, seed) => self.call_vjp(*call, *seed),
            _ => {
                let value = self.bare(n);
                quote! { let #name = #value; }
            }
        }
    }

    /// `f::__vjp(args…, seed, sinks…)` for a call given differentiated slices: each slice's
    /// gradient vector as its sink, `Discard` for the other arguments.
    fn call_vjp(&self, call: NodeId, seed: NodeId) -> TokenStream {
        let Op::Call(f, args) = self.g.op(call) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let path = self.symbols.derivative_path(*f);
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        let values: Vec<TokenStream> = args.iter().map(|a| self.call_arg(*a)).collect();
        let seed = self.expr(seed, Prec::Select);
        // Passed on to a called function's `__vjp`, spanned at the argument.
        let sink = |(k, at): (u32, Span)| {
            let mut g = grad_vec_name(k);
            g.set_span(g.span().located_at(at));
            match self.sinks {
                Sinks::Generic => quote_spanned!(at=> &mut *#g),
                Sinks::Slices => quote_spanned!(at=> &mut #g[..]),
            }
        };
        let discard = quote!(&mut ::symgrad::__private::Discard::<#ty>::default());
        let slots: Vec<Option<(u32, Span)>> = args
            .iter()
            .map(|a| match self.g.op(*a) {
                Op::SliceArg(k, s) => {
                    let at = self.symbols.tokens[s.0 as usize].clone().into_iter().next();
                    Some((*k, at.map_or_else(Span::call_site, |t| t.span())))
                }
                _ => None,
            })
            .collect();
        let given: Vec<u32> = slots.iter().flatten().map(|(k, _)| *k).collect();
        let distinct = given
            .iter()
            .enumerate()
            .all(|(i, k)| !given[..i].contains(k));
        // One call; or, when one slice is passed twice (`dot(w, w)`), one call per
        // position, since a gradient vector can be lent mutably only once at a time.
        let rounds: Vec<Vec<TokenStream>> = if distinct {
            vec![
                slots
                    .iter()
                    .map(|s| s.map_or_else(|| discard.clone(), sink))
                    .collect(),
            ]
        } else {
            (0..slots.len())
                .filter(|j| slots[*j].is_some())
                .map(|j| {
                    slots
                        .iter()
                        .enumerate()
                        .map(|(i, s)| match s {
                            Some(slot) if i == j => sink(*slot),
                            _ => discard.clone(),
                        })
                        .collect()
                })
                .collect()
        };
        let calls = rounds.iter().map(|sinks| {
            quote! { #path::__vjp(#(#values,)* #seed, #(#sinks),*); }
        });
        quote! { #(#calls)* }
    }

    /// The body of one branch of a select: its own region, then its value.
    fn branch(&self, root: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let mut inner = defined.clone();
        let stmts = self.region(&[root], &mut inner);
        let value = self.expr(root, Prec::Select);
        quote! { #stmts #value }
    }

    /// `n` as an expression usable where precedence `min` is required.
    fn expr(&self, n: NodeId, min: Prec) -> TokenStream {
        if self.is_bound(n) {
            let name = self.name(n);
            return quote! { #name };
        }
        let text = self.bare(n);
        // `n as f64 < x` would parse as generics: a cast is parenthesized wherever it is an operand.
        let is_cast = matches!(
            self.g.op(n),
            Op::Cast(_) | Op::IntCast(..) | Op::FloatToInt(..)
        );
        if Prec::of(self.g, n) < min || (is_cast && min > Prec::Select) {
            quote! { (#text) }
        } else {
            text
        }
    }

    fn float_lit(&self, v: f64) -> TokenStream {
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        if v.is_nan() {
            return quote!(::core::#ty::NAN);
        }
        if v.is_infinite() {
            return if v > 0.0 {
                quote!(::core::#ty::INFINITY)
            } else {
                quote!(::core::#ty::NEG_INFINITY)
            };
        }
        #[allow(clippy::cast_possible_truncation)] // an f32 function's constants are f32
        let lit = match self.float {
            FloatTy::F32 => Literal::f32_suffixed(v.abs() as f32),
            FloatTy::F64 => Literal::f64_suffixed(v.abs()),
        };
        if v.is_sign_negative() {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    }

    fn infix(&self, a: NodeId, op: &TokenStream, b: NodeId, p: Prec) -> TokenStream {
        let (left, right) = if p == Prec::Compare {
            (Prec::Sum, Prec::Sum)
        } else {
            (p, p.next())
        };
        let a = self.expr(a, left);
        let b = self.expr(b, right);
        quote! { #a #op #b }
    }

    fn method(&self, recv: NodeId, name: &str, args: &[NodeId]) -> TokenStream {
        let recv = self.expr(recv, Prec::Postfix);
        let m = format_ident!("{}", name);
        let args = args.iter().map(|a| self.expr(*a, Prec::Select));
        quote! { #recv.#m(#(#args),*) }
    }

    /// The node's own expression (its children by name or inline).
    #[allow(clippy::too_many_lines)] // one arm per operation
    fn bare(&self, n: NodeId) -> TokenStream {
        let g = self.g;
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        match g.op(n) {
            Op::Const(bits) => self.float_lit(f64::from_bits(*bits)),
            Op::Input(i) => self.inputs[*i as usize].clone(),
            Op::Sym(s, _) | Op::SliceArg(_, s) => self.symbols.tokens[s.0 as usize].clone(),
            Op::Cast(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { #a as #ty }
            }
            Op::Neg(a) | Op::IntNeg(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { -#a }
            }
            Op::Add(a, b) => self.infix(*a, &quote!(+), *b, Prec::Sum),
            Op::Sub(a, b) => self.infix(*a, &quote!(-), *b, Prec::Sum),
            Op::Mul(a, b) => self.infix(*a, &quote!(*), *b, Prec::Product),
            Op::Div(a, b) => self.infix(*a, &quote!(/), *b, Prec::Product),
            Op::Unary(Fun::Sign, a) => {
                let a = self.expr(*a, Prec::Select);
                quote! { ::symgrad::__private::sign(#a) }
            }
            Op::Unary(f, a) => self.method(*a, f.name(), &[]),
            Op::Powi(a, k) => self.method(*a, "powi", &[*k]),
            Op::Binary(f, a, b) => self.method(*a, f.name(), &[*b]),
            Op::Clamp(a, lo, hi) => self.method(*a, "clamp", &[*lo, *hi]),
            Op::MulAdd(a, b, c) => self.method(*a, "mul_add", &[*b, *c]),
            Op::Select(c, a, b) => {
                // Only reached for selects bound by `binding`; kept total for safety.
                let cond = self.expr(*c, Prec::Or);
                let a = self.expr(*a, Prec::Select);
                let b = self.expr(*b, Prec::Select);
                quote! { if #cond { #a } else { #b } }
            }
            Op::Call(f, args) => {
                let path = &self.symbols.tokens[f.0 as usize];
                let args = args.iter().map(|a| self.call_arg(*a));
                quote! { #path(#(#args),*) }
            }
            Op::StopGradient(f, a) => {
                let path = &self.symbols.tokens[f.0 as usize];
                let a = self.expr(*a, Prec::Select);
                quote! { #path(#a) }
            }
            Op::Partial(call, i) => {
                let d = Self::partials_name(*call);
                let i = syn::Index::from(*i as usize);
                quote! { #d.#i }
            }
            Op::IntConst(v) => {
                let lit = Literal::u64_unsuffixed(v.unsigned_abs());
                if *v < 0 { quote!(-#lit) } else { quote!(#lit) }
            }
            Op::IntBin(o, a, b) => {
                let op: TokenStream = o.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::of(g, n))
            }
            Op::IntCast(a, t) | Op::FloatToInt(a, t) => {
                let a = self.expr(*a, Prec::Prefix);
                let t = &self.symbols.tokens[t.0 as usize];
                quote! { #a as #t }
            }
            Op::BoolConst(v) => quote!(#v),
            Op::Compare(c, a, b) => {
                let op: TokenStream = c.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::Compare)
            }
            Op::Predicate(p, a) => self.method(*a, p.name(), &[]),
            Op::And(a, b) => self.infix(*a, &quote!(&&), *b, Prec::And),
            Op::Or(a, b) => self.infix(*a, &quote!(||), *b, Prec::Or),
            Op::Not(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { !#a }
            }
            Op::LoopVar(v) => {
                let i = loop_var_name(*v);
                quote! { #i }
            }
            Op::Index(s, i) | Op::IntIndex(s, i) => {
                let s = &self.symbols.tokens[s.0 as usize];
                let i = self.expr(*i, Prec::Select);
                quote! { #s[#i] }
            }
            Op::Element(k, i) => {
                let s = &self.slices[*k as usize];
                let i = self.expr(*i, Prec::Select);
                quote! { #s[#i] }
            }
            Op::Slice(k) => self.slices[*k as usize].clone(),
            // Statements, emitted by `binding`; no value of their own.
            Op::Sum { .. }
            | Op::Scatter(..)
            | Op::Effects(..)
            | Op::NoEffect
            | Op::Fold { .. }
            | Op::RevFold { .. }
            | Op::Until { .. }
            | Op::CallVjp(..) => {
                quote!(())
            }
            Op::Carry { c, .. } => {
                let s = carry_name(*c);
                quote! { #s }
            }
            Op::Adjoint { sweep: c, .. } => {
                let l = adjoint_name(*c);
                quote! { #l }
            }
            Op::Placeholder { .. } => quote!(::core::compile_error!(
                "internal error: a loop-carried placeholder escaped lowering"
            )),
        }
    }
}

/// The index of loop `v` in generated code.
fn loop_var_name(v: u32) -> proc_macro2::Ident {
    format_ident!("__i{}", v, span = Span::mixed_site())
}

/// The nodes inside loop `v` that `root` reads, where reading the `λ` of a recurrence nested in
/// the loop reads its reverse sweep too (`λ` is a leaf of the graph, but its value is the
/// sweep's, whose seed can read the `λ` of a recurrence over `v`).
fn reads_in_loop(g: &Graph, root: NodeId, v: u32) -> Vec<NodeId> {
    let inside = |n: NodeId| g.loops_of(n) & (1 << v) != 0;
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if !inside(n) || !seen.insert(n) {
            continue;
        }
        if let Op::Adjoint { sweep: c, .. } = g.op(n) {
            stack.extend(g.reverse_sweep_of(*c));
        }
        stack.extend(g.op(n).children());
    }
    let mut out: Vec<NodeId> = seen.into_iter().collect();
    out.sort_unstable();
    out
}

/// The recurrences whose every reverse sweep steps `λ` by `if c { λ } else { 0 }` (or the
/// mirror), and whose sums vanish where `c` keeps `λ` and where `λ` is zero: only the last
/// iteration that kills `λ` contributes. Returns `c` and the value on which it kills.
fn kill_or_keep_sweeps(
    g: &Graph,
    all: &[NodeId],
    sweeps: &HashMap<NodeId, NodeId>,
) -> HashMap<u32, (NodeId, bool)> {
    let zero = |n: NodeId| g.as_const(n) == Some(0.0);
    let mut found: HashMap<u32, Option<(NodeId, bool)>> = HashMap::new();
    for &r in all {
        let Op::RevFold {
            sweep, fold, step, ..
        } = *g.op(r)
        else {
            continue;
        };
        let Op::Fold { c, .. } = *g.op(fold) else {
            continue;
        };
        let adjoint = |n: NodeId| matches!(*g.op(n), Op::Adjoint { sweep: s, .. } if s == sweep);
        let this = match *g.op(step) {
            Op::Select(cond, a, b) if adjoint(a) && zero(b) => Some((cond, false)),
            Op::Select(cond, a, b) if zero(a) && adjoint(b) => Some((cond, true)),
            _ => None,
        }
        .filter(|&(cond, kills_on)| {
            sweeps.iter().filter(|(_, rev)| **rev == r).all(|(sum, _)| {
                let keeps = Vanishes {
                    g,
                    zero: &|_| false,
                    taken: Some((cond, !kills_on)),
                };
                let dead = Vanishes {
                    g,
                    zero: &adjoint,
                    taken: None,
                };
                keeps.at(*sum) && dead.at(*sum)
            })
        });
        let entry = found.entry(c).or_insert(this);
        if *entry != this {
            *entry = None;
        }
    }
    found
        .into_iter()
        .filter_map(|(c, k)| Some((c, k?)))
        .collect()
}

/// Whether a node is zero wherever the nodes matching `zero` are, with the selects on
/// condition `taken.0` taking the branch of its value `taken.1`: as a polynomial without a
/// constant term in them (products, sums, quotients' numerators, the effects built from them).
struct Vanishes<'a> {
    g: &'a Graph,
    zero: &'a dyn Fn(NodeId) -> bool,
    taken: Option<(NodeId, bool)>,
}

impl Vanishes<'_> {
    fn at(&self, n: NodeId) -> bool {
        if (self.zero)(n) {
            return true;
        }
        match *self.g.op(n) {
            Op::Const(_) => self.g.as_const(n) == Some(0.0),
            Op::NoEffect => true,
            Op::Neg(a) | Op::Div(a, _) => self.at(a),
            Op::Mul(a, b) => self.at(a) || self.at(b),
            Op::Add(a, b) | Op::Sub(a, b) | Op::Effects(a, b) => self.at(a) && self.at(b),
            Op::MulAdd(a, b, c) => (self.at(a) || self.at(b)) && self.at(c),
            Op::Select(c, a, b) => match self.taken {
                Some((cond, value)) if cond == c => self.at(if value { a } else { b }),
                _ => self.at(a) && self.at(b),
            },
            Op::Scatter(_, _, value) | Op::CallVjp(_, value) => self.at(value),
            Op::Sum { body, .. } => self.at(body),
            _ => false,
        }
    }
}

/// Per slice and loop variable, the element read `x[i + c]` with the largest constant `c`, when
/// the same slice is also read at a smaller offset of the same loop's index.
fn leading_reads(g: &Graph, all: &[NodeId]) -> HashSet<NodeId> {
    // (slice kind, slice, loop) → (offset, node, whether a smaller offset is read too)
    let mut best: HashMap<(u8, u32, u32), (i64, NodeId, bool)> = HashMap::new();
    for &n in all {
        let (key, idx) = match *g.op(n) {
            Op::Element(k, i) => ((0, k), i),
            Op::Index(s, i) => ((1, s.0), i),
            Op::IntIndex(s, i) => ((2, s.0), i),
            _ => continue,
        };
        let Some((v, c)) = loop_offset(g, idx) else {
            continue;
        };
        best.entry((key.0, key.1, v))
            .and_modify(|(bc, bn, several)| {
                if c != *bc {
                    *several = true;
                }
                if c > *bc {
                    (*bc, *bn) = (c, n);
                }
            })
            .or_insert((c, n, false));
    }
    best.into_values()
        .filter(|(_, _, several)| *several)
        .map(|(_, n, _)| n)
        .collect()
}

/// `i`, `i + c`, `c + i` or `i - c` for loop index `i` and an integer literal `c`: `(i, ±c)`.
fn loop_offset(g: &Graph, idx: NodeId) -> Option<(u32, i64)> {
    let int = |n: NodeId| match *g.op(n) {
        Op::IntConst(c) => Some(c),
        _ => None,
    };
    match *g.op(idx) {
        Op::LoopVar(v) => Some((v, 0)),
        Op::IntBin(op @ (IntOp::Add | IntOp::Sub), a, b) => {
            let (v, c) = match (g.op(a), g.op(b)) {
                (Op::LoopVar(v), _) => (*v, int(b)?),
                (_, Op::LoopVar(v)) if op == IntOp::Add => (*v, int(a)?),
                _ => return None,
            };
            Some((
                v,
                if op == IntOp::Sub {
                    c.checked_neg()?
                } else {
                    c
                },
            ))
        }
        _ => None,
    }
}

/// A recurrence's value in its forward loop, and its saved value in its reverse loop.
fn carry_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__s{}", c, span = Span::mixed_site())
}

/// The values of recurrence `c` its forward loop saved for the reverse sweep.
fn trace_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__trace{}", c, span = Span::mixed_site())
}

/// A recurrence's adjoint `λ` in its reverse loop.
fn adjoint_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__lam{}", c, span = Span::mixed_site())
}

/// The vector the gradient of differentiated slice `k` accumulates in.
pub fn grad_vec_name(k: u32) -> proc_macro2::Ident {
    format_ident!("__grad{}", k, span = Span::mixed_site())
}

/// The generated temporaries (`__t<id>`, `__d<id>`, `__acc<id>`, named after graph nodes, with
/// gaps) renumbered in order of appearance, from 0 in each item: `__t3, __t7, __t16` read
/// `__t0, __t1, __t2`, and an edit to the graph no longer renames every temporary. The names of
/// one node keep one number (`let (__t4, __d4) = f::__partials(…)`, `let __t2 = __acc2;`), and
/// a user's `let` name stays as the suffix (`__t1_err`).
pub fn renumber(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut numbers = HashMap::new();
                let inner = renumber_with(g.stream(), &mut numbers);
                let mut out = proc_macro2::Group::new(g.delimiter(), inner);
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            other => other,
        })
        .collect()
}

/// [`renumber`] inside one item: `numbers` maps each node's old number to its new one.
fn renumber_with(tokens: TokenStream, numbers: &mut HashMap<String, usize>) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let inner = renumber_with(g.stream(), numbers);
                let mut out = proc_macro2::Group::new(g.delimiter(), inner);
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            TokenTree::Ident(id) => {
                let text = id.to_string();
                let Some((family, number, suffix)) = temporary(&text) else {
                    return TokenTree::Ident(id);
                };
                let next = numbers.len();
                let k = *numbers.entry(number.to_string()).or_insert(next);
                TokenTree::Ident(proc_macro2::Ident::new(
                    &format!("{family}{k}{suffix}"),
                    id.span(),
                ))
            }
            other => other,
        })
        .collect()
}

/// `__t12_err` → `("__t", "12", "_err")`: a generated temporary's family, number and suffix.
fn temporary(ident: &str) -> Option<(&'static str, &str, &str)> {
    ["__acc", "__t", "__d"].into_iter().find_map(|family| {
        let rest = ident.strip_prefix(family)?;
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, suffix) = rest.split_at(digits);
        (!number.is_empty() && (suffix.is_empty() || suffix.starts_with('_')))
            .then_some((family, number, suffix))
    })
}

#[cfg(test)]
mod renumber_tests {
    use super::{renumber, temporary};

    #[test]
    fn temporaries_are_recognised_by_family_number_and_suffix() {
        assert_eq!(temporary("__t12_err"), Some(("__t", "12", "_err")));
        assert_eq!(temporary("__d3"), Some(("__d", "3", "")));
        assert_eq!(temporary("__acc40"), Some(("__acc", "40", "")));
        for other in [
            "__tape", "__trace0", "__t", "__tx1", "__grad0", "__i1", "t3",
        ] {
            assert_eq!(temporary(other), None, "{other}");
        }
    }

    /// In order of appearance, from 0 in each item; one node's names keep one number.
    #[test]
    fn temporaries_are_renumbered_in_order_per_item() {
        let before: proc_macro2::TokenStream = "fn a() { let __t7 = 1; let __t3_err = __t7; \
             let (__t9, __d9) = f(); let mut __acc4 = __t3_err; let __t4 = __acc4; } \
             fn b() { let __t9 = __tape; }"
            .parse()
            .unwrap();
        let after = renumber(before).to_string();
        let want: proc_macro2::TokenStream = "fn a() { let __t0 = 1; let __t1_err = __t0; \
             let (__t2, __d2) = f(); let mut __acc3 = __t1_err; let __t3 = __acc3; } \
             fn b() { let __t0 = __tape; }"
            .parse()
            .unwrap();
        assert_eq!(after, want.to_string());
    }
}
