//! Scheduling: where each node of the differentiated graph is computed, with no tokens in
//! sight. Which nodes a region (a function body, a loop body, a branch) evaluates, which of them
//! get a `let`, what a loop's body may read from outside it, which sums over one loop share one
//! `for` (and at which member), which sums run in a recurrence's reverse loop, which element
//! read goes first; `emit` prints what this decides. Each move is justified by the dependency
//! check named in `emit`'s table.

use std::collections::{HashMap, HashSet};

use crate::graph::{Graph, IntOp, Kind, LoopMask, NodeId, Op, StretchPatch};

pub mod tree;

/// One statement of a region, in the order it runs.
pub enum Step {
    /// One `for` loop: sums over one loop and bounds, fused (`group[0]`'s loop), or a reverse
    /// sweep (`group[0]`, a `RevFold`) with the sums that run in its reverse loop.
    Loop(Vec<NodeId>),
    /// The loop of `Loop` over `lo..hi` that ends where a `break` stops (the `Op::Until` given,
    /// over the same `lo..hi`): it breaks at the first iteration whose condition holds and
    /// binds that index, so no loop of its own runs before it to find it.
    Exit(Vec<NodeId>, NodeId),
    /// A recurrence's reverse sweep (`group[0]`, a `RevFold`) with the sums that run in its
    /// reverse loop, where nothing else in the region needs the recurrence's value: it runs,
    /// the forward loop first, only where its seed is not zero (`if seed != 0 { … }`), which is
    /// only where the function computes the recurrence. `if n > x.len() { return x[0]; }`
    /// then `p *= x[n - 1 - i]` in a loop: the gradient must not run that loop when the
    /// `return` is taken.
    Guarded(Vec<NodeId>),
    /// A `let` binding the node (a loop of its own for a recurrence or a loop's end, an `if`
    /// for a select).
    Bind(NodeId),
    /// A node written inline where it is used, usable from here on.
    Inline(NodeId),
}

/// A carried array's new value written in place (see [`Schedule::in_place_patch`]): its
/// elements `lo..hi` replaced by those of `written`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Patch {
    pub written: NodeId,
    pub lo: NodeId,
    pub hi: NodeId,
}

/// The statements of a region (see [`Schedule::plan`]).
pub struct Plan {
    pub steps: Vec<Step>,
    /// The scatters into the slices' gradients, run after the statements, in this order.
    pub scatters: Vec<NodeId>,
    /// Every node of the region: defined once it has run.
    pub nodes: Vec<NodeId>,
}

/// What the scheduler knows of the nodes to emit.
pub struct Schedule<'a> {
    pub g: &'a Graph,
    /// How many nodes (and roots) read each node: one read is written inline.
    pub uses: HashMap<NodeId, usize>,
    /// Calls whose partial derivatives are needed.
    pub differentiated_calls: HashSet<NodeId>,
    /// Calls whose second partial derivatives are needed too (`__partials2`).
    pub second_order_calls: HashSet<NodeId>,
    /// Calls of vector-valued functions (their outputs are read by `CallOutput`).
    pub array_calls: HashSet<NodeId>,
    /// Recurrences whose forward loop saves its values for a reverse sweep.
    pub traced: HashSet<u32>,
    /// The arrays of coupled recurrences' values (`Component`s) that a statement in the loop of
    /// the reverse sweep of a recurrence around them reads, not only for their length (see
    /// `zero_vector_reads`): an inner loop's value the outer forward loop keeps per iteration
    /// for that sweep (`emit::nest`) need only keep these (ADBench's LSTM: the layers' `input`,
    /// which the prediction reads, not `hidden` and `cell`).
    pub swept_values: HashSet<NodeId>,
    /// Recurrences whose reverse sweep only keeps or kills `λ` (a running max or min), with the
    /// condition and the value it kills on: the forward loop records the last iteration that
    /// kills, the only one with contributions, and the reverse sweep is that one iteration.
    pub last_kill: HashMap<u32, (NodeId, bool)>,
    /// The sums that read a recurrence's adjoint `λ`, with the `RevFold` whose reverse loop they
    /// run in.
    pub sweeps: HashMap<NodeId, NodeId>,
    /// Nodes whose evaluation may panic (an index out of range, integer overflow or division by
    /// zero), themselves or through what they read: not evaluated before a loop that might not
    /// run (`for i in 0..n { … x[k] … }` with `n = 0`).
    pub may_panic: HashSet<NodeId>,
    /// Per node, the loops that may not run inside whose bodies every evaluation of it is
    /// (see [`only_in_loops`]): taken out of one of them, it would run where nothing needs it.
    only_in: HashMap<NodeId, LoopMask>,
    /// Per node the function's own code evaluates, conditions under which it surely does
    /// (outside any loop that may not run): see [`evaluated_where`].
    sure: HashMap<NodeId, Conditions>,
    /// Per loop, the conditions that hold wherever it runs (see [`run_where`]).
    run_under: HashMap<u32, Conditions>,
    /// Per slice and loop, the element read at the largest offset (`x[i + 1]` beside `x[i]`):
    /// bound, and read first in its region, so its bounds check covers the others'.
    pub leading_reads: HashSet<NodeId>,
    /// Per node, the loops whose bodies the user wrote the loops it reads in
    /// ([`Graph::written_in`]): it is not hoisted out of those.
    written: HashMap<NodeId, LoopMask>,
    /// The loops carrying a recurrence that saves its values for a reverse sweep (a mask, bit
    /// `v` for loop `v`): with `checkpoint = K`, the recurrences of loops written inside one of
    /// them save every value ([`Schedule::checkpoint_of`]).
    swept_loops: LoopMask,
}

impl<'a> Schedule<'a> {
    /// The analyses of the nodes `roots` need.
    #[cfg(test)]
    pub fn of(g: &'a Graph, roots: &[NodeId]) -> Schedule<'a> {
        Self::of_in(g, roots, (&g.primal, &[]))
    }

    /// [`Schedule::of`] where the function's own code evaluates `primal` (not `g.primal`), and
    /// the conditions `holds` hold: one side of a choice the gradient is split on
    /// (`plan::Split`), whose code runs only where the function's value is that side's.
    pub fn of_in(
        g: &'a Graph,
        roots: &[NodeId],
        (primal, holds): (&[NodeId], &[(NodeId, bool)]),
    ) -> Schedule<'a> {
        let all = g.reachable_with_sweeps(roots);
        let ReverseSweeps {
            traced,
            sweeps,
            last_kill,
            swept_values,
        } = ReverseSweeps::of(g, &all);
        let mut uses: HashMap<NodeId, usize> = HashMap::new();
        let mut differentiated_calls = HashSet::new();
        let mut array_calls = HashSet::new();
        let mut second_order_calls = HashSet::new();
        for n in &all {
            for c in g.op(*n).children() {
                *uses.entry(c).or_default() += 1;
            }
            match *g.op(*n) {
                // Output `k` of a vector-valued call: the call's partials are needed.
                Op::Partial(output, _) if let Op::CallOutput(call, _) = *g.op(output) => {
                    differentiated_calls.insert(call);
                }
                Op::Partial(call, _) => {
                    differentiated_calls.insert(call);
                }
                Op::Partial2(call, ..) => {
                    differentiated_calls.insert(call);
                    second_order_calls.insert(call);
                }
                Op::CallOutput(call, _) => {
                    array_calls.insert(call);
                }
                _ => {}
            }
        }
        for r in roots {
            *uses.entry(*r).or_default() += 1;
        }
        let mut written: HashMap<NodeId, LoopMask> = HashMap::new();
        for &n in &all {
            let children = g
                .op(n)
                .children()
                .iter()
                .fold(0, |m, c| m | written.get(c).copied().unwrap_or(0));
            let mask = match *g.op(n) {
                // A local array's loop is its own (it may be the user's loop writing it): what
                // its elements read in that loop's body stays in it, not in what reads it.
                Op::Table { v, .. } => children & !(1 << v),
                ref op => op.loop_var().map_or(children, |v| g.loop_nest(v)),
            };
            written.insert(n, mask);
        }
        let swept_loops = swept_loops(g, &all, &traced);
        let may_panic = g.panicking(&all);
        let only_in = only_in_loops(g, roots, primal);
        let sure = evaluated_where(g, primal, holds);
        let run_under = run_where(g, roots);
        Schedule {
            g,
            written,
            swept_loops,
            uses,
            differentiated_calls,
            second_order_calls,
            array_calls,
            traced,
            last_kill,
            sweeps,
            swept_values,
            leading_reads: leading_reads(g, &all),
            may_panic,
            only_in,
            sure,
            run_under,
        }
    }
}

impl Schedule<'_> {
    /// The loops of this region that can find their own end: a group of sums over `lo..u`,
    /// where `u` is where a `break` stops (`Op::Until` over `lo..hi`), runs `lo..hi` and breaks
    /// where `u`'s condition holds, binding `u` there, instead of a loop of its own finding `u`
    /// first. Only the first group (in `order`) over `u`, and only when no statement before it
    /// reads `u`. Pairs of the group's anchor and `u`.
    fn exits(
        &self,
        order: &[NodeId],
        at_anchor: &HashMap<NodeId, Vec<NodeId>>,
        grouped: &HashSet<NodeId>,
        defined: &HashSet<NodeId>,
    ) -> Vec<(NodeId, NodeId)> {
        let mut out: Vec<(NodeId, NodeId)> = Vec::new();
        let mut seen = HashSet::new();
        for (at, &anchor) in order.iter().enumerate() {
            let Some(group) = at_anchor.get(&anchor) else {
                continue;
            };
            let Op::Sum { lo, hi: until, .. } = *self.g.op(group[0]) else {
                continue;
            };
            let Op::Until { lo: from, .. } = *self.g.op(until) else {
                continue;
            };
            if defined.contains(&until) || !seen.insert(until) || from != lo {
                continue;
            }
            // Nothing bound or looped before the anchor may read `u` (it is bound by the loop).
            let read_before = order[..at].iter().any(|&n| {
                n != until
                    && !group.contains(&n)
                    && (at_anchor.contains_key(&n) || (self.is_bound(n) && !grouped.contains(&n)))
                    && self.g.mentions(n, until)
            });
            if !read_before {
                out.push((anchor, until));
            }
        }
        out
    }

    /// The statements of the region of `roots` (its nodes not in `defined`), in order: loops
    /// (sums over one loop fused, a reverse sweep with the sums that read its `λ`), `let`s, and
    /// the nodes written inline, from the point where what they read is available; then the
    /// scatters into the slices' gradients.
    pub fn plan(&self, roots: &[NodeId], defined: &HashSet<NodeId>) -> Plan {
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
        order.sort_unstable_by_key(|n| (!leading.contains(n), self.place(*n), *n));
        self.scans_after_their_folds(&mut order);
        // Sums over one loop run in one `for`, placed where the last of them stands.
        let mut grouped: HashSet<NodeId> = HashSet::new();
        let mut at_anchor: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        // A reverse sweep and the sums that read its `λ`: one reverse loop, placed at the sweep
        // (the differentiation pass builds those sums, and their uses, after it).
        // Where each grouped node is emitted: its group's anchor.
        let mut anchor_of: HashMap<NodeId, NodeId> = HashMap::new();
        for &n in &order {
            if matches!(self.g.op(n), Op::RevFold { .. } | Op::RevCoupled { .. }) {
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
                let early = self.early_group(n, &order, &grouped, &anchor_of, defined);
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
        self.group_tables(
            &order,
            &mut grouped,
            &mut at_anchor,
            &mut anchor_of,
            defined,
        );
        // What a statement may read: what was bound before it (the scatters run last, when
        // everything is). A loop, a branch or a short-circuit operand that reads a node this
        // region binds only later computes it itself (as `loop_invariants` assumed of what it
        // does not hoist): `for i { s += y[i]; ∇y[i] += y[0]; } let t = y[0]; … s * t`.
        let exits = self.exits(&order, &at_anchor, &grouped, defined);
        let mut visible = defined.clone();
        let mut steps = Vec::new();
        let mut scatters = Vec::new();
        for &n in &order {
            if let Some(group) = at_anchor.remove(&n) {
                visible.extend(group.iter().copied());
                match exits.iter().find(|(anchor, _)| *anchor == n) {
                    Some(&(_, until)) => {
                        visible.insert(until);
                        steps.push(Step::Exit(group, until));
                    }
                    None if self.guarded_sweep(n, &here, defined) => {
                        steps.push(Step::Guarded(group));
                    }
                    None => steps.push(Step::Loop(group)),
                }
            } else if matches!(self.g.op(n), Op::Scatter(..)) {
                // (An `Accumulate` runs in order: the `Filled` after it reads its vector.)
                scatters.push(n);
            } else if exits.iter().any(|(_, until)| *until == n) {
                // Found by the loop that breaks there (`Step::Exit`).
            } else if self.is_bound(n) && !grouped.contains(&n) {
                steps.push(Step::Bind(n));
                visible.insert(n);
            } else if !grouped.contains(&n)
                && self.g.op(n).children().iter().all(|c| visible.contains(c))
            {
                // Written inline where it is used: usable once what it reads is bound
                // (`seed · Σ…` before the sum's loop has run is not).
                steps.push(Step::Inline(n));
                visible.insert(n);
            }
        }
        // Scatters last, the one into `∇x[i]` before those into `∇x[i + 1]`, …: the element the
        // previous iteration wrote is read first, which keeps the store-to-load chain short
        // (measured 2× on Rosenbrock).
        scatters.sort_by_key(|n| match self.g.op(*n) {
            Op::Scatter(_, i, _) => (!matches!(self.g.op(*i), Op::LoopVar(_)), *n),
            _ => (true, *n),
        });
        Plan {
            steps,
            scatters,
            nodes: order,
        }
    }

    /// The values of members of one coupled state (`Op::CoupledScan`s of the same fields) in
    /// `order` moved to just after the state's forward loop (its `Coupled` node, of the same
    /// fields; moved first to before them where it stands after), else after the first of
    /// them: they read what the
    /// state's loop reads, and the loops then run as one (`emit::stmt_list`), not the
    /// recurrence once for each (an integrator's `pos[i] = x; vel[i] = v;`, and its trace).
    fn member_scans_together(&self, order: &mut Vec<NodeId>) {
        // A state's forward loop after some of its members' values: moved to before the first
        // (it reads what they read, all computed before them).
        let states: Vec<NodeId> = order
            .iter()
            .copied()
            .filter(|n| matches!(self.g.op(*n), Op::Coupled { .. }))
            .collect();
        for state in states {
            let twins = self.g.scanned_twins(state);
            let first = order.iter().position(|m| twins.contains(m));
            let at = order.iter().position(|m| *m == state);
            if let (Some(first), Some(at)) = (first, at)
                && first < at
            {
                order.remove(at);
                order.insert(first, state);
            }
        }
        let mut heads: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
        for &n in order.iter() {
            let twins = self.g.scanned_twins(n);
            if matches!(self.g.op(n), Op::Coupled { .. }) && !twins.is_empty() {
                heads.push((n, twins));
            } else if let Op::CoupledScan { .. } = self.g.op(n)
                && !heads.iter().any(|(_, t)| t.contains(&n))
            {
                // (No forward loop of the state before it: the first of its members' values.)
                let twins = self.g.coupled_scan_siblings(n);
                heads.push((n, twins.into_iter().filter(|t| *t != n).collect()));
            }
        }
        for (head, twins) in heads {
            let mut at = order.iter().position(|m| *m == head);
            for t in twins {
                let (Some(h), Some(k)) = (at, order.iter().position(|m| *m == t)) else {
                    continue;
                };
                if k > h {
                    order.remove(k);
                    order.insert(h + 1, t);
                    at = Some(h + 1);
                }
            }
        }
    }

    /// Each scan (`Op::Scanned`, a recurrence's every value) in `order` moved to just after the
    /// forward loop of its recurrence (`Op::Fold` of the same bounds, initial value and body,
    /// [`Graph::scanned_twin`]) where that stands before it: what the scan reads is what the
    /// loop reads, available there, and the two then run as one loop (`emit::stmt_list`), not
    /// the recurrence twice (the Thomas algorithm's elimination, once for the sweep's trace and
    /// once for the array of its values).
    fn scans_after_their_folds(&self, order: &mut Vec<NodeId>) {
        self.member_scans_together(order);
        let folds: Vec<(NodeId, NodeId)> = order
            .iter()
            .filter_map(|&f| self.g.scanned_twin(f).map(|s| (f, s)))
            .collect();
        for (fold, scan) in folds {
            let (Some(at_fold), Some(at_scan)) = (
                order.iter().position(|n| *n == fold),
                order.iter().position(|n| *n == scan),
            ) else {
                continue;
            };
            if at_scan > at_fold + 1 {
                order.remove(at_scan);
                order.insert(at_fold + 1, scan);
            }
        }
    }

    /// Where a node stands in a region's order: its own number, except that a vector added into
    /// (`Alloc`) is declared as soon as what it is made from is. The additions into it may run in
    /// a loop placed earlier than the `Alloc` node itself (a reverse sweep's loop, at the sweep;
    /// a loop fused at its first member), and must find it declared, never declare their own.
    pub fn place(&self, n: NodeId) -> NodeId {
        match self.g.op(n) {
            Op::Alloc { .. } => self.g.op(n).children().into_iter().max().unwrap_or(n),
            _ => n,
        }
    }

    /// A node bound to a `let` (rather than written inline where it is used).
    pub fn is_bound(&self, n: NodeId) -> bool {
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
                | Op::Scanned { .. }
                | Op::CoupledScan { .. }
                | Op::RevFold { .. }
                | Op::Coupled { .. }
                | Op::RevCoupled { .. }
                | Op::Until { .. }
                | Op::CallVjp(..)
                | Op::CallJvp(..)
                | Op::CallHvp(..)
                | Op::Table { .. }
                | Op::Alloc { .. }
                | Op::Filled { .. }
                | Op::Accumulate { .. }
                | Op::ArrayVjp { .. }
                | Op::Rebound { .. }
                | Op::VjpRows { .. }
                | Op::And(..)
                | Op::Or(..)
        ) || self.uses.get(&n).copied().unwrap_or(0) > 1
            || self.leading_reads.contains(&n)
    }

    /// Nodes reachable from `roots` through [`Op::eager_children`] (not into a select's branches
    /// or the right operand of `&&`/`||`), minus `stop`.
    ///
    /// A reverse sweep whose recurrence nothing else here computes is [`Step::Guarded`]: only
    /// its seed is read before it; the rest (the forward loop, the bounds, what its loop and
    /// the sums in it read) is computed in its own block, where it runs.
    pub fn closure(&self, roots: &[NodeId], stop: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        // Reverse sweeps a sum of this region runs in: emitted here even if already emitted
        // outside (the sum's loop is the sweep's loop).
        let mut forced = HashSet::new();
        // The reverse sweeps reached, and the sums in their loops, whose reads wait until it is
        // known whether the region computes the recurrence anyway.
        let mut waiting: Vec<NodeId> = Vec::new();
        loop {
            self.closure_from(&mut stack, stop, &mut seen, &mut forced, &mut waiting);
            // A sweep whose recurrence this region computes (or an enclosing one did) runs
            // here as it is: what it reads is read here too.
            let ready: Vec<NodeId> = waiting
                .iter()
                .copied()
                .filter(|&n| {
                    let r = self.sweeps.get(&n).copied().unwrap_or(n);
                    let (Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. }) = *self.g.op(r)
                    else {
                        return true;
                    };
                    seen.contains(&fold) || stop.contains(&fold)
                })
                .collect();
            if ready.is_empty() {
                return seen;
            }
            waiting.retain(|n| !ready.contains(n));
            for n in ready {
                stack.extend(self.sweep_reads(n));
            }
        }
    }

    /// What a reverse sweep (with its recurrence) or a sum in its loop reads before the loop.
    pub fn sweep_reads(&self, n: NodeId) -> Vec<NodeId> {
        match *self.g.op(n) {
            Op::Sum { v, lo, hi, body } => {
                let mut out = vec![lo, hi];
                out.extend(self.loop_invariants(v, body));
                out
            }
            Op::RevFold { v, fold, step, .. } => {
                let mut out = vec![fold];
                out.extend(self.loop_invariants(v, step));
                out
            }
            Op::RevCoupled { v, fold, .. } => {
                let mut out = vec![fold];
                for &step in self.g.coupled_parts(n).map_or(&[][..], |p| p.1) {
                    out.extend(self.loop_invariants(v, step));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// Whether reverse sweep `r` runs guarded in the region of the nodes `here` (defined
    /// outside: `defined`): nothing there computes its recurrence (see [`Step::Guarded`]).
    pub fn guarded_sweep(
        &self,
        r: NodeId,
        here: &HashSet<NodeId>,
        defined: &HashSet<NodeId>,
    ) -> bool {
        match *self.g.op(r) {
            Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. } => {
                let computed = |n: NodeId| here.contains(&n) || defined.contains(&n);
                // A scan's values are the recurrence's: where they are computed, so is it.
                let scanned = self.g.scanned_twins(fold);
                !computed(fold) && !scanned.into_iter().any(computed)
            }
            _ => false,
        }
    }

    /// [`closure`](Self::closure) from `stack`, the reads of reverse sweeps (and of the sums in
    /// their loops) left `waiting`.
    fn closure_from(
        &self,
        stack: &mut Vec<NodeId>,
        stop: &HashSet<NodeId>,
        seen: &mut HashSet<NodeId>,
        forced: &mut HashSet<NodeId>,
        waiting: &mut Vec<NodeId>,
    ) {
        while let Some(n) = stack.pop() {
            // An effect is a statement, not a value: where it is reached it runs, even if an
            // enclosing region ran the same node (`∇w[0] += v` at the top and in a loop).
            let done = stop.contains(&n) && !forced.contains(&n) && !self.g.is_effect(n);
            if done || !seen.insert(n) {
                continue;
            }
            match self.g.op(n) {
                // A sum run in a reverse sweep's loop: its reads wait for the sweep's.
                Op::Sum { .. } if self.sweeps.contains_key(&n) => {
                    let r = self.sweeps[&n];
                    forced.insert(r);
                    stack.push(r);
                    waiting.push(n);
                }
                // A loop's body is emitted inside the loop; what it reads from outside, before.
                Op::Sum { v, lo, hi, body } | Op::Table { v, lo, hi, body } => {
                    stack.extend([*lo, *hi]);
                    stack.extend(self.loop_invariants(*v, *body));
                }
                Op::Fold {
                    v,
                    lo,
                    hi,
                    init,
                    body,
                    ..
                }
                | Op::Scanned {
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
                Op::RevFold { seed, fold, .. } => {
                    stack.push(*seed);
                    // A scan's reverse sweep runs where its values are computed, its forward
                    // loop (saving the values the sweep reads) before it.
                    if self.g.scanned_twin(*fold).is_some() {
                        stack.push(*fold);
                    }
                    waiting.push(n);
                }
                // Coupled recurrences: their bounds and initial values, what their bodies
                // read from outside the loop; their sweep: its seeds.
                Op::Coupled { v, lo, hi, .. } | Op::CoupledScan { v, lo, hi, .. } => {
                    stack.extend([*lo, *hi]);
                    let (inits, bodies) = self.g.state_parts(n).unwrap_or_default();
                    stack.extend(inits);
                    for &body in bodies {
                        stack.extend(self.loop_invariants(*v, body));
                    }
                }
                Op::RevCoupled { fold, .. } => {
                    stack.extend(self.g.coupled_parts(n).map_or(&[][..], |p| p.0));
                    // As a scan's (above): its members' values (`Op::CoupledScan`).
                    if !self.g.scanned_twins(*fold).is_empty() {
                        stack.push(*fold);
                    }
                    waiting.push(n);
                }
                // An adjoint vector of a local array's length: the array's bounds, or nothing
                // (see `zero_vector_reads`).
                Op::Alloc { .. } if let Some(reads) = zero_vector_reads(self.g, n) => {
                    stack.extend(reads);
                }
                // A select's branches and the right operand of `&&`/`||` are emitted in their
                // own blocks.
                op => stack.extend(op.eager_children()),
            }
        }
    }

    /// `K` if recurrence `n` (a `Fold` or `Coupled`) saves its values every `K` iterations
    /// (`checkpoint = K`) rather than every iteration: unless the user wrote its loop inside
    /// the body of a loop whose own recurrence saves values for a reverse sweep (a layer loop
    /// inside a time loop). That outer recurrence is checkpointed itself (or sits inside one
    /// that is: the outermost is), and its reverse sweep runs its body, this loop included,
    /// one outer iteration at a time, so this loop's saved values live for one outer iteration
    /// only and are reused by the next: checkpointing it would save at most a stretch of them
    /// and cost one more forward pass over it per outer iteration (a second one over an inner
    /// loop shorter than `K`, for no memory saved at all). What the outer checkpoint saves is
    /// untouched: the memory stays `n/K + K` outer states plus one inner trace (or, an inner
    /// loop carrying arrays whose rows the outer loop keeps per iteration, a stretch of them:
    /// see `Builder::nest`). Saving every
    /// value is the path taken without `checkpoint`, so the gradient is the same bit for bit.
    pub fn checkpoint_of(&self, n: NodeId) -> Option<usize> {
        let (Op::Fold { v, .. } | Op::Coupled { v, .. }) = *self.g.op(n) else {
            return None;
        };
        // A recurrence scanned into an array (`z[i] = f(z[i - 1])`) keeps every value there:
        // checkpointing its trace would save no memory and cost a recomputation.
        self.g
            .checkpoint
            .filter(|_| self.g.loop_nest(v) & self.swept_loops == 0)
            .filter(|_| self.g.scanned_twin(n).is_none())
    }

    /// The members of coupled recurrences `n` a checkpoint (`checkpoint = K`) holds: those an
    /// iteration reads (some member's new value mentions the member's value at its start) and
    /// those the reverse sweep reads. A member neither reads is overwritten before it is read
    /// in every iteration (an array filled anew each step, `ypred[i] = …`), so the stretch
    /// recomputed from a checkpoint does not need its value there: its first iteration gives it
    /// the value the forward loop gave it, and the sweep never reads it.
    pub fn checkpointed(&self, n: NodeId) -> Vec<u32> {
        let g = self.g;
        let (Op::Coupled { c, .. }, Some((_, bodies))) = (g.op(n), g.coupled_parts(n)) else {
            return Vec::new();
        };
        let read: HashSet<u32> = g
            .reachable(bodies)
            .into_iter()
            .filter_map(|x| match *g.op(x) {
                Op::Carry { c: d, .. } => Some(d),
                _ => None,
            })
            .collect();
        (*c..)
            .take(bodies.len())
            .filter(|d| read.contains(d) || self.traced.contains(d))
            .collect()
    }

    /// Whether the new value `body` of member `d` of coupled state carrying arrays (`bodies`:
    /// every member's) is the member's array with a stretch replaced, and can be written in
    /// place: `[if lo <= j && j < hi { written[j − lo] } else { old[j] } for j in 0..n]` (what
    /// a loop writing `h[off + i]` lowers to), `old` the member's own value at the start of
    /// the iteration, `written` an array filled by a loop of its own (not `old`), and no other
    /// member's new value reading `body`. The forward loop then does not fill `body`: once
    /// every member has its new value (those reading `old` read it before), it writes
    /// `old[j] = written[j − lo]` for `j` in `lo..min(hi, n)`, the elements `body` replaces,
    /// reading the same elements of `written`, in place of copying all `n`.
    pub fn in_place_patch(&self, d: u32, body: NodeId, bodies: &[NodeId]) -> Option<Patch> {
        let g = self.g;
        let StretchPatch {
            written,
            lo,
            hi,
            old,
            ..
        } = g.stretch_patch(d, body)?;
        let Op::Table { v, .. } = *g.op(body) else {
            return None;
        };
        let bit = 1u128 << v;
        let once = bodies.iter().filter(|b| **b == body).count() == 1;
        let unread = bodies
            .iter()
            .filter(|b| **b != body)
            .all(|b| !g.mentions(*b, body));
        (written != old
            && matches!(g.op(written), Op::Table { .. })
            && g.loops_of(lo) & bit == 0
            && g.loops_of(hi) & bit == 0
            && once
            && unread)
            .then_some(Patch { written, lo, hi })
    }

    /// For a vector of zeros as long as a local array filled by a loop (an adjoint vector; the
    /// array a vector, neither a constant fill nor on the stack), the bounds of that loop: the vector needs the array's length, `hi − lo`, not its elements,
    /// so a region whose statements read nothing else of the array does not fill it (a reverse
    /// sweep running a step again for the adjoints of the arrays it builds). Emitted with the
    /// array's `len()` where the array is bound before it, with the bounds where it is not
    /// (`tree::Builder::alloc`).
    pub fn zero_sized_by_bounds(&self, n: NodeId) -> Option<[NodeId; 2]> {
        zero_vector_reads(self.g, n).and_then(|reads| <[NodeId; 2]>::try_from(reads).ok())
    }

    /// The nodes outside loop `v` that its body reads: reachable from `body` without passing
    /// through a node that depends on `v`'s index.
    pub fn loop_invariants(&self, v: u32, body: NodeId) -> Vec<NodeId> {
        // `(node, conditional)`: whether it is only evaluated under a condition (in a branch of
        // a select, or the right operand of `&&`/`||`). Such a node is not hoisted before the
        // loop (`if k < x.len() { x[k] }` must not read `x[k]` when `k` is out of range) unless
        // it is a whole loop, which would otherwise rerun in every iteration.
        let mut seen = [HashSet::new(), HashSet::new()];
        let mut out = Vec::new();
        // The vectors whose additions stay in the loop: declared there too (hoisted alone, its
        // additions would pile up across the iterations).
        let mut kept = HashSet::new();
        let mut stack = vec![(body, false)];
        let may_not_run = self.g.may_not_run(v);
        let mut risks = HashMap::new();
        // What the loop's own bounds evaluate, before it: evaluated there, no risk.
        let covered = self.g.loop_bounds(v).map_or_else(HashSet::new, |(lo, hi)| {
            let mut covered = HashSet::new();
            let mut stack = vec![lo, hi];
            while let Some(c) = stack.pop() {
                if covered.insert(c) {
                    stack.extend(self.g.op(c).eager_children());
                }
            }
            covered
        });
        while let Some((n, conditional)) = stack.pop() {
            if !seen[usize::from(conditional)].insert(n) {
                continue;
            }
            // An effect runs once per iteration even where nothing in it changes with the index.
            let effect = self.g.is_effect(n);
            let op = self.g.op(n);
            // A loop the user wrote in this loop's body (`for k { … for i { p *= x[n - 1 - i] }
            // … }`), and what reads it, stays in it even where it does not change with the
            // index: the user computes it only in the iterations that reach it (this loop may
            // not run, or break first, or reach it only under a condition).
            let written_here = self.written.get(&n).copied().unwrap_or(0) & (1 << v) != 0;
            let invariant = self.g.loops_of(n) & (1 << v) == 0 && !effect && !written_here;
            let a_loop = op.runs_a_loop();
            // Before a loop that may not run, nothing that may panic where the user's code
            // would not run it (a call, a loop over `0..d - 1`): it stays in the loop.
            let stays = invariant
                && (may_not_run && self.early_risk(n, v, &covered, &mut risks)
                    || conditional && a_loop && self.out_of_branch_risk(n, v, &covered));
            // What the function's own code evaluates wherever this loop's statement runs is
            // no risk before it, even under a condition here (`s1 * s1` of a guarded sum).
            let sure = invariant && self.surely_evaluated_around(n, v);
            let safe = !conditional && !self.may_panic.contains(&n);
            if invariant && !stays && (a_loop || sure || safe) {
                out.push(n);
            } else if invariant && !a_loop {
                // Evaluated in the loop (each iteration; LLVM hoists it into the loop's
                // preheader, which only runs when the loop does), what it reads before: a
                // select's branches (`&&`'s right side) only under its condition.
                stack.extend(op.eager_children().into_iter().map(|c| (c, conditional)));
                stack.extend(op.lazy_children().into_iter().map(|c| (c, true)));
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
            } else if let Some((inner, [lo, hi, init, body])) = recurrence_fields(op) {
                stack.extend([lo, hi, init].map(|r| (r, conditional)));
                let reads = self.loop_invariants(inner, body);
                stack.extend(reads.into_iter().map(|r| (r, conditional)));
            } else if self.g.coupled_parts(n).is_some() || self.g.state_parts(n).is_some() {
                let reads = self.coupled_reads(n);
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
            } else if let Op::Table {
                v: inner,
                lo,
                hi,
                body,
            } = *op
            {
                stack.extend([(lo, conditional), (hi, conditional)]);
                let reads = self.loop_invariants(inner, body);
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
                if let Op::Filled { alloc, .. } = *op {
                    kept.insert(alloc);
                }
                if let Some(reads) = zero_vector_reads(self.g, n) {
                    stack.extend(reads.into_iter().map(|c| (c, conditional)));
                    continue;
                }
                stack.extend(op.eager_children().into_iter().map(|c| (c, conditional)));
                stack.extend(op.lazy_children().into_iter().map(|c| (c, true)));
            }
        }
        out.retain(|n| !kept.contains(n));
        out
    }

    /// Whether evaluating `n` before loop `v` (which may not run) may panic where nothing
    /// evaluates it: only loop `v`'s body reads it (see [`only_in_loops`]), and it is a call
    /// (its body may read `v[0]` of an empty `v`), a loop whose bounds or initial value may
    /// panic, evaluated only in loop `v` too (`0..d - 1` in a loop over `0..d`), or reads one;
    /// not what loop `v`'s own bounds evaluate before it (`covered`: a table filled over `0..n -
    /// 1`, read in a loop over `0..n - 1`). (What may panic itself, an element read or integer
    /// arithmetic, is never taken out of a loop that may not run: see `may_panic`.)
    ///
    /// ```text
    /// for i in 0..n * d { m = m.max(dot(v, v)); }    // dot(v, v): stays in the loop
    /// for i in 0..3 { m = m.max(dot(v, v)); }        // taken out: the loop runs
    /// ```
    fn early_risk(
        &self,
        n: NodeId,
        v: u32,
        covered: &HashSet<NodeId>,
        memo: &mut HashMap<NodeId, bool>,
    ) -> bool {
        if covered.contains(&n) || self.surely_evaluated_around(n, v) {
            return false;
        }
        if let Some(&r) = memo.get(&n) {
            return r;
        }
        let only_here = |m: NodeId| {
            self.only_in
                .get(&m)
                .is_some_and(|mask| mask & (1 << v) != 0)
        };
        let op = self.g.op(n);
        let risky = only_here(n)
            && match *op {
                Op::Call(..) | Op::CallJvp(..) => true,
                _ => {
                    let own = op.own_loop();
                    // A loop's bounds and initial values run before it; its body, in it. A
                    // body that does not change with it runs wherever the loop is not empty:
                    // before `v` too, unless the loop has `v`'s bounds (`[x[0].sin() for i in
                    // 0..n]` read in a loop over `0..n` runs only where that loop does).
                    let each = op
                        .per_iteration()
                        .filter(|_| own.is_some_and(|w| self.same_bounds(w, v)));
                    let before = |c: &NodeId| {
                        each != Some(*c) && own.is_none_or(|w| self.g.loops_of(*c) & (1 << w) == 0)
                    };
                    let fails = |c: NodeId| {
                        !covered.contains(&c)
                            && self.fails_eagerly(c, v, &mut HashMap::new())
                            && only_here(c)
                    };
                    // What the body evaluates without changing with the loop, the same way
                    // (`[x[n - 1] * j for j in 0..3]` in a loop over `0..n`).
                    let inside = own.zip(op.per_iteration()).is_some_and(|(w, body)| {
                        !self.same_bounds(w, v) && self.in_every_iteration(body, w).any(fails)
                    });
                    inside
                        || op.children().into_iter().filter(before).any(|c| {
                            own.is_some() && fails(c) || self.early_risk(c, v, covered, memo)
                        })
                }
            };
        memo.insert(n, risky);
        risky
    }

    /// The nodes `body`, the body of loop `w`, evaluates in every iteration without changing
    /// with `w`: reached from it through nodes that change with `w` (not into a select's
    /// branches).
    fn in_every_iteration(&self, body: NodeId, w: u32) -> impl Iterator<Item = NodeId> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut stack = vec![body];
        while let Some(m) = stack.pop() {
            if !seen.insert(m) {
                continue;
            }
            if self.g.loops_of(m) & (1 << w) == 0 {
                out.push(m);
            } else {
                stack.extend(self.g.op(m).eager_children());
            }
        }
        out.into_iter()
    }

    /// Whether loops `w` and `v` have the same bounds: one runs where the other does.
    fn same_bounds(&self, w: u32, v: u32) -> bool {
        self.g.loop_bounds(w).is_some() && self.g.loop_bounds(w) == self.g.loop_bounds(v)
    }

    /// Whether taking loop `n`, read only under a condition in loop `v`'s body (a branch of a
    /// select), out of its branch and before `v` may panic where the function does not
    /// evaluate it: what it evaluates before its own loop (bounds, initial value) may fail, and
    /// the function's own code does not surely evaluate that wherever `v` runs. `for i in 0..d
    /// { s += if c { m } else { 0 } · x[i] }` with `m` a running max from `x[0]`, `c` that `m`'s
    /// loop ran: taken before the loop, `m` reads `x[0]` of an empty `x`; it stays in its
    /// branch.
    fn out_of_branch_risk(&self, n: NodeId, v: u32, covered: &HashSet<NodeId>) -> bool {
        if covered.contains(&n) || self.surely_evaluated_around(n, v) {
            return false;
        }
        let op = self.g.op(n);
        // (An adjoint vector's additions are guarded where their indices may not be valid.)
        let Some(own) = op.own_loop() else {
            return false;
        };
        let each = op.per_iteration();
        op.children().into_iter().any(|c| {
            each != Some(c)
                && self.g.loops_of(c) & (1 << own) == 0
                && !covered.contains(&c)
                && self.fails_eagerly(c, v, &mut HashMap::new())
        })
    }

    /// Whether evaluating `n` before loop `v` may panic (see `may_panic`) other than by
    /// overflowing an integer `+` or `*`, which takes values near `usize::MAX`: an index past the
    /// end, an integer `-` below zero (`d - 1` at `d = 0`), a division by zero; by what it
    /// evaluates on every path, not in a select's branches, evaluated only under their condition
    /// (`if n > 0 { x[0] } else { 0 }`, a scan's tangent from `z[0] = x[0]`), nor what the
    /// function surely evaluates wherever `v` runs. A stretch's end `s + b` beside a layer's `s =
    /// b * layer` is not such a risk; `0..d - 1` is.
    fn fails_eagerly(&self, n: NodeId, v: u32, memo: &mut HashMap<NodeId, bool>) -> bool {
        if !self.may_panic.contains(&n) || self.surely_evaluated_around(n, v) {
            return false;
        }
        if let Some(&r) = memo.get(&n) {
            return r;
        }
        let op = self.g.op(n);
        let itself =
            op.may_panic_itself() && !matches!(op, Op::IntBin(IntOp::Add | IntOp::Mul, ..));
        let r = itself
            || op
                .eager_children()
                .into_iter()
                .any(|c| self.fails_eagerly(c, v, memo));
        memo.insert(n, r);
        r
    }

    /// Whether the function's own code evaluates `n` wherever loop `v` runs: under conditions
    /// that hold wherever `v` runs (`if x.len() < 2 { return 0.0; }`, then `let mut m =
    /// z[0];` and a loop of the gradient under the same `if`). Evaluated before `v` there, it
    /// panics only where the function does.
    fn surely_evaluated_around(&self, n: NodeId, v: u32) -> bool {
        let (Some(sure), Some(run)) = (self.sure.get(&n), self.run_under.get(&v)) else {
            return false;
        };
        sure.iter().all(|c| run.contains(c))
    }

    /// What coupled recurrences (or their reverse sweep) read before their loop: their bounds
    /// and initial values (a sweep: its recurrence and seeds), and their bodies' (steps')
    /// invariants.
    fn coupled_reads(&self, n: NodeId) -> Vec<NodeId> {
        let mut out = match *self.g.op(n) {
            Op::Coupled { lo, hi, .. } | Op::CoupledScan { lo, hi, .. } => vec![lo, hi],
            Op::RevCoupled { fold, .. } => vec![fold],
            _ => return Vec::new(),
        };
        let Some(v) = self.g.op(n).loop_var() else {
            return out;
        };
        // (A reverse sweep's: its seeds and steps.)
        let (before, bodies) = self
            .g
            .state_parts(n)
            .or_else(|| self.g.coupled_parts(n))
            .unwrap_or_default();
        out.extend(before);
        for &body in bodies {
            out.extend(self.loop_invariants(v, body));
        }
        out
    }

    /// The nodes this region evaluates: the closure of its roots, plus whatever both branches of
    /// one of its selects need (hoisted, so it is computed once).
    pub fn region_nodes(&self, roots: &[NodeId], defined: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut here = self.closure(roots, defined);
        let mut stop: HashSet<NodeId> = defined.union(&here).copied().collect();
        // The selects not yet looked at: after the first round, those of what was hoisted. (A
        // select looked at gives nothing more later: what both its branches read was hoisted
        // into `stop`, where the branches' closures end.)
        let mut fresh: Vec<NodeId> = here.iter().copied().collect();
        loop {
            let mut hoist = Vec::new();
            for n in &fresh {
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
            fresh = extra.iter().copied().collect();
            here.extend(extra);
        }
    }

    /// The sums after `first` in `order`, not yet grouped, over the same loop and bounds, with
    /// their bodies: the candidates to share `first`'s `for`.
    pub fn later_sums_over<'o>(
        &'o self,
        first: NodeId,
        order: &'o [NodeId],
        done: &'o HashSet<NodeId>,
    ) -> impl Iterator<Item = (NodeId, NodeId)> + 'o {
        let bounds = self.fusable_loop(first).map(|(v, lo, hi, _)| (v, lo, hi));
        let table = matches!(self.g.op(first), Op::Table { .. });
        order
            .iter()
            .filter(move |t| **t > first && !done.contains(t))
            .filter(move |t| matches!(self.g.op(**t), Op::Table { .. }) == table)
            .filter_map(move |&t| match self.fusable_loop(t) {
                Some((v, lo, hi, body)) if Some((v, lo, hi)) == bounds => Some((t, body)),
                _ => None,
            })
    }

    /// The loop, bounds and body of a sum, or of a local array filled by a loop of its own
    /// that [`Schedule::plan`] may fuse with others over the same loop (a vector, not a
    /// constant fill nor an array on the stack).
    fn fusable_loop(&self, n: NodeId) -> Option<(u32, NodeId, NodeId, NodeId)> {
        match *self.g.op(n) {
            Op::Sum { v, lo, hi, body } => Some((v, lo, hi, body)),
            Op::Table { v, lo, hi, body }
                if self.g.constant_fill(n).is_none() && self.fixed_len(n).is_none() =>
            {
                Some((v, lo, hi, body))
            }
            _ => None,
        }
    }

    /// The sums over the same loop as `first` that can run in its iteration: the same bounds,
    /// and everything they read from outside the loop is available where `first` is emitted.
    /// One loop then computes a value and its gradient, as a person would write it.
    pub fn loop_group(
        &self,
        first: NodeId,
        order: &[NodeId],
        done: &HashSet<NodeId>,
    ) -> Vec<NodeId> {
        let Some((v, ..)) = self.fusable_loop(first) else {
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

    /// Local arrays filled by loops over one loop and bounds: one `for` fills them all, what
    /// their elements share computed once (an LSTM layer's gates, read by its new `cell` and
    /// its new `hidden`). Grouped like sums ([`loop_group`](Self::loop_group) at the last
    /// member, every reader of a member after it; [`early_group`](Self::early_group) at the
    /// first), after the sums, whose anchors the checks read.
    fn group_tables(
        &self,
        order: &[NodeId],
        grouped: &mut HashSet<NodeId>,
        at_anchor: &mut HashMap<NodeId, Vec<NodeId>>,
        anchor_of: &mut HashMap<NodeId, NodeId>,
        defined: &HashSet<NodeId>,
    ) {
        for &n in order {
            if !matches!(self.g.op(n), Op::Table { .. })
                || self.fusable_loop(n).is_none()
                || grouped.contains(&n)
            {
                continue;
            }
            let late = self.loop_group(n, order, grouped);
            let late = if self.read_after(&late, order, anchor_of) {
                late
            } else {
                vec![n]
            };
            let early = self.early_group(n, order, grouped, anchor_of, defined);
            let (group, anchor) = if early.len() > late.len() {
                (early, n)
            } else {
                let last = *late.last().unwrap_or(&n);
                (late, last)
            };
            if group.len() > 1 {
                grouped.extend(group.iter().copied());
                anchor_of.extend(group.iter().map(|m| (*m, anchor)));
                at_anchor.insert(anchor, group);
            }
        }
    }

    /// Whether every statement of the region that reads a member of `group` (local arrays
    /// fused at their last member) is emitted after that member: where its own group runs,
    /// if it is in one (a sum fused at its first member may run before the arrays' loop).
    fn read_after(
        &self,
        group: &[NodeId],
        order: &[NodeId],
        anchor_of: &HashMap<NodeId, NodeId>,
    ) -> bool {
        let Some(&last) = group.last() else {
            return true;
        };
        order
            .iter()
            .filter(|u| !group.contains(u))
            .filter(|u| group.iter().any(|m| self.g.mentions(**u, *m)))
            .all(|u| anchor_of.get(u).copied().unwrap_or_else(|| self.place(*u)) > last)
    }

    /// The sums over the same loop as `first` that can run in its iteration *at `first`'s
    /// place*: every statement they need is emitted before `first` (outside this region, or
    /// earlier in it, or in a group anchored earlier), and they do not read one another.
    pub fn early_group(
        &self,
        first: NodeId,
        order: &[NodeId],
        done: &HashSet<NodeId>,
        anchor_of: &HashMap<NodeId, NodeId>,
        outside: &HashSet<NodeId>,
    ) -> Vec<NodeId> {
        let Some((v, ..)) = self.fusable_loop(first) else {
            return vec![first];
        };
        let mut group = vec![first];
        for (t, body) in self.later_sums_over(first, order, done) {
            let ready = self.statements_read(v, body, outside).iter().all(|d| {
                !group.contains(d)
                    && anchor_of.get(d).copied().unwrap_or_else(|| self.place(*d)) < first
            });
            if ready {
                group.push(t);
            }
        }
        group
    }

    /// The bound nodes of this region that the body of a loop over `v` reads from outside the
    /// loop (directly, or through nodes written inline).
    pub fn statements_read(&self, v: u32, body: NodeId, outside: &HashSet<NodeId>) -> Vec<NodeId> {
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
    pub fn visible_in_loop(&self, v: u32, defined: &HashSet<NodeId>) -> HashSet<NodeId> {
        let bit = 1u128 << v;
        defined
            .iter()
            .copied()
            .filter(|n| self.g.loops_of(*n) & bit == 0)
            .collect()
    }

    /// The body of a `Sum` node.
    pub fn sum_body(&self, n: NodeId) -> Option<NodeId> {
        match *self.g.op(n) {
            Op::Sum { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// The recurrences' reverse sweeps among the nodes to emit.
struct ReverseSweeps {
    /// Recurrences whose forward loop saves its values.
    traced: HashSet<u32>,
    /// The sums that read a recurrence's adjoint, with the `RevFold` they run in.
    sweeps: HashMap<NodeId, NodeId>,
    /// Recurrences whose reverse sweep is their last kill (see [`Schedule::last_kill`]).
    last_kill: HashMap<u32, (NodeId, bool)>,
    /// The arrays of coupled recurrences' values (`Component`s) read in the loop of the
    /// reverse sweep of a recurrence around them (see [`Schedule::swept_values`]).
    swept_values: HashSet<NodeId>,
}

impl ReverseSweeps {
    fn of(g: &Graph, all: &[NodeId]) -> ReverseSweeps {
        let mut traced = HashSet::new();
        let mut swept_values = HashSet::new();
        let mut sweeps = HashMap::new();
        // Only a gradient through a recurrence has reverse sweeps to find sums for.
        let has_sweeps = all
            .iter()
            .any(|n| matches!(g.op(*n), Op::RevFold { .. } | Op::RevCoupled { .. }));
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
        // Coupled recurrences save the members their reverse loop reads.
        for &r in all {
            let (Op::RevCoupled { v, fold, .. }, Some((_, steps))) = (g.op(r), g.coupled_parts(r))
            else {
                continue;
            };
            let Op::Coupled { c, .. } = *g.op(*fold) else {
                continue;
            };
            let members = c..c + u32::try_from(steps.len()).unwrap_or(0);
            let mut roots: Vec<NodeId> = steps.to_vec();
            roots.extend(
                sweeps
                    .iter()
                    .filter(|(_, s)| **s == r)
                    .filter_map(|(sum, _)| match *g.op(*sum) {
                        Op::Sum { body, .. } => Some(body),
                        _ => None,
                    }),
            );
            for root in roots {
                for m in reads_in_loop(g, root, *v) {
                    match *g.op(m) {
                        Op::Carry { c: d, .. } if members.contains(&d) => {
                            traced.insert(d);
                        }
                        Op::Component(..) if g.kind(m) == Kind::Array => {
                            swept_values.insert(m);
                        }
                        _ => {}
                    }
                }
            }
        }
        let last_kill = kill_or_keep_sweeps(g, all, &sweeps);
        traced.retain(|c| !last_kill.contains_key(c));
        ReverseSweeps {
            traced,
            sweeps,
            last_kill,
            swept_values,
        }
    }
}

/// What the vector of zeros `n` as long as a local array (an adjoint vector, `Alloc { zero:
/// true }`) reads to be made, if not the array: nothing, on the stack (`[0.0; 3]`, a constant
/// length, `tree::stack_len`); the bounds of the loop filling the array, `hi − lo` of a
/// vector (neither a constant fill nor on the stack: `Schedule::zero_sized_by_bounds`), or of a
/// scan's values (one per iteration: a sweep then need not run the scan's forward loop in
/// each of its iterations to know its length, the product scan's `__partials` and `H·v`). So a
/// region that reads nothing else of the array does not compute it: a reverse sweep does not
/// run again the loop building an array whose adjoint it needs, nor keep the rows of an
/// array carried across a loop only to know their length.
pub fn zero_vector_reads(g: &Graph, n: NodeId) -> Option<Vec<NodeId>> {
    let Op::Alloc {
        like, zero: true, ..
    } = *g.op(n)
    else {
        return None;
    };
    if tree::stack_len(g, like).is_some() {
        return Some(Vec::new());
    }
    match *g.op(like) {
        Op::Table { lo, hi, .. } if g.constant_fill(like).is_none() => Some(vec![lo, hi]),
        // A scan's values, one per iteration of its loop.
        Op::Scanned { lo, hi, .. } | Op::CoupledScan { lo, hi, .. } => Some(vec![lo, hi]),
        _ => None,
    }
}

/// The loop and `[lo, hi, init, body]` of a recurrence's forward loop (a `Fold`, or the loop
/// of a scan filling its values, `Op::Scanned`).
fn recurrence_fields(op: &Op) -> Option<(u32, [NodeId; 4])> {
    match *op {
        Op::Fold {
            v,
            lo,
            hi,
            init,
            body,
            ..
        }
        | Op::Scanned {
            v,
            lo,
            hi,
            init,
            body,
            ..
        } => Some((v, [lo, hi, init, body])),
        _ => None,
    }
}

/// Per node reachable from `roots` (and from the function's outputs), the loops that may not
/// run (their bounds are not literals that run) inside whose bodies every path to it passes
/// (not counting a path into a select's branch): what is evaluated only where those loops run.
///
/// ```text
/// for i in 0..n { m = m.max(dot(v, v)); }           // dot(v, v): only in loop i
/// let t = dot(v, v); for i in 0..n { m = m.max(t); } t
///                                                   // dot(v, v): not only in it (read after)
/// ```
fn only_in_loops(g: &Graph, roots: &[NodeId], primal: &[NodeId]) -> HashMap<NodeId, LoopMask> {
    // What the user's code evaluates is no risk either (`let m = a.len() / n;` then loops over
    // `0..m`), even where only a gradient's loops read it.
    let roots: Vec<NodeId> = roots.iter().chain(primal).copied().collect();
    let mut out: HashMap<NodeId, LoopMask> = roots.iter().map(|r| (*r, 0)).collect();
    // Parents before children: a node is built after what it reads.
    for p in g.reachable_with_sweeps(&roots).into_iter().rev() {
        let Some(&mask) = out.get(&p) else { continue };
        let op = g.op(p);
        let body_bit = op
            .own_loop()
            .filter(|v| g.may_not_run(*v))
            .map_or(0, |v| 1u128 << v);
        // `λ` of a reverse sweep: read in its loop, the sweep computes it.
        let sweep = match *op {
            Op::Adjoint { sweep, .. } => g.reverse_sweep_of(sweep),
            _ => None,
        };
        // A vector of zeros shaped like an array reads only what its length needs.
        let reads = zero_vector_reads(g, p)
            .unwrap_or_else(|| op.eager_children().into_iter().chain(sweep).collect());
        for c in reads {
            let inside = if g.loops_of(c) & body_bit != 0 {
                body_bit
            } else {
                0
            };
            let entry = out.entry(c).or_insert(LoopMask::MAX);
            *entry &= mask | inside;
        }
        // Under a condition: not a read that makes it safe to evaluate anywhere.
        for c in op.lazy_children() {
            out.entry(c).or_insert(LoopMask::MAX);
        }
    }
    out
}

/// Conditions that all hold: `(c, side)`, a select's condition `c` is `side`.
type Conditions = Vec<(NodeId, bool)>;

/// `a` and `b` both hold: their union.
fn and(a: &Conditions, b: (NodeId, bool)) -> Conditions {
    let mut out = a.clone();
    if !out.contains(&b) {
        out.push(b);
    }
    out
}

/// Per node the function's own code (`g.primal`) evaluates, conditions under which it surely
/// does: where they hold, the function computes it (the branch of a select it is in is taken,
/// and no loop that may not run is between). The fewest found. `if x.len() < 2 { return 0.0; }
/// let mut m = z[0]; …`: `z[0]` where `x.len() < 2` is false. Also what the lowering recorded
/// the function evaluates beside its value ([`Graph::evaluated`]: the bounds of a loop
/// statement), under the conditions recorded, less those known to hold here (`holds`).
fn evaluated_where(
    g: &Graph,
    primal: &[NodeId],
    holds: &[(NodeId, bool)],
) -> HashMap<NodeId, Conditions> {
    let mut out: HashMap<NodeId, Conditions> = primal.iter().map(|r| (*r, Vec::new())).collect();
    for (n, conditions) in &g.evaluated {
        let left: Conditions = conditions
            .iter()
            .filter(|c| !holds.contains(c))
            .copied()
            .collect();
        match out.get(n) {
            Some(had) if had.len() <= left.len() => {}
            _ => {
                out.insert(*n, left);
            }
        }
    }
    let seeds: Vec<NodeId> = primal
        .iter()
        .copied()
        .chain(g.evaluated.iter().map(|e| e.0))
        .collect();
    for p in g.reachable(&seeds).into_iter().rev() {
        let Some(here) = out.get(&p).cloned() else {
            continue;
        };
        let op = g.op(p);
        // What a loop that may not run reads before it: its bounds and initial values.
        let reads: Vec<(NodeId, Conditions)> = match *op {
            Op::Select(c, a, b) => vec![
                (c, here.clone()),
                (a, and(&here, (c, true))),
                (b, and(&here, (c, false))),
            ],
            Op::And(a, _) | Op::Or(a, _) => vec![(a, here)],
            _ if op.own_loop().is_some_and(|v| g.may_not_run(v)) => match *op {
                Op::Sum { lo, hi, .. }
                | Op::Until { lo, hi, .. }
                | Op::Table { lo, hi, .. }
                | Op::Coupled { lo, hi, .. }
                | Op::CoupledScan { lo, hi, .. } => vec![(lo, here.clone()), (hi, here)],
                Op::Fold { lo, hi, init, .. } | Op::Scanned { lo, hi, init, .. } => {
                    vec![(lo, here.clone()), (hi, here.clone()), (init, here)]
                }
                _ => Vec::new(),
            },
            _ if op.lazy_children().is_empty() => op
                .children()
                .into_iter()
                .map(|c| (c, here.clone()))
                .collect(),
            _ => Vec::new(),
        };
        for (c, conditions) in reads {
            match out.get(&c) {
                Some(had) if had.len() <= conditions.len() => {}
                _ => {
                    out.insert(c, conditions);
                }
            }
        }
    }
    out
}

/// Per loop reachable from `roots`, the conditions that hold wherever a node running it (a sum
/// over it, a recurrence, a local array filled by it) is computed: the branches of the selects
/// every path to those nodes passes through. Only selects no loop is around on the way count:
/// in a loop's body, a loop in a branch may be taken out of the loop before it, and of the
/// branch ([`Schedule::loop_invariants`]).
fn run_where(g: &Graph, roots: &[NodeId]) -> HashMap<u32, Conditions> {
    // Per node: the conditions every path to it passes, and whether one passes a loop.
    let mut at: HashMap<NodeId, (Conditions, bool)> =
        roots.iter().map(|r| (*r, (Vec::new(), false))).collect();
    let mut out: HashMap<u32, Conditions> = HashMap::new();
    for p in g.reachable_with_sweeps(roots).into_iter().rev() {
        let Some((here, in_loop)) = at.get(&p).cloned() else {
            continue;
        };
        let op = g.op(p);
        if let Some(v) = op.own_loop() {
            out.entry(v)
                .and_modify(|had| had.retain(|c| here.contains(c)))
                .or_insert_with(|| here.clone());
        }
        let inner = in_loop || op.own_loop().is_some() || op.runs_a_loop();
        let sweep = match *op {
            Op::Adjoint { sweep, .. } => g.reverse_sweep_of(sweep),
            _ => None,
        };
        let mut reads: Vec<(NodeId, Conditions)> = op
            .eager_children()
            .into_iter()
            .chain(sweep)
            .map(|c| (c, here.clone()))
            .collect();
        match *op {
            Op::Select(c, a, b) if !in_loop => {
                reads.push((a, and(&here, (c, true))));
                reads.push((b, and(&here, (c, false))));
            }
            _ => reads.extend(op.lazy_children().into_iter().map(|c| (c, here.clone()))),
        }
        for (c, conditions) in reads {
            at.entry(c)
                .and_modify(|(had, looped)| {
                    had.retain(|x| conditions.contains(x));
                    *looped |= inner;
                })
                .or_insert((conditions, inner));
        }
    }
    out
}

/// The loops (bit `v` for loop `v`) of the recurrences among `all` that save values for their
/// reverse sweep (`traced`: a recurrence, or a member of coupled ones).
fn swept_loops(g: &Graph, all: &[NodeId], traced: &HashSet<u32>) -> LoopMask {
    let mut mask = 0u128;
    for &n in all {
        let (Op::Fold { v, .. } | Op::Coupled { v, .. }) = *g.op(n) else {
            continue;
        };
        if g.carries_of(n).any(|d| traced.contains(&d)) {
            mask |= 1u128.checked_shl(v).unwrap_or(0);
        }
    }
    mask
}

/// Whether computing `roots` saves a recurrence's values in a vector for its reverse sweep
/// (`p *= x[i]`): the one allocation a gradient's loops make.
pub fn saves_trace(g: &Graph, roots: &[NodeId]) -> bool {
    !ReverseSweeps::of(g, &g.reachable_with_sweeps(roots))
        .traced
        .is_empty()
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
        // (Where the array is bound anyway, what binds it reads it.)
        match zero_vector_reads(g, n) {
            Some(reads) => stack.extend(reads),
            None => stack.extend(g.op(n).children()),
        }
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
        // `if λ != 0 { if c { λ } else { 0 } } else { 0 }` (a sweep whose seed may be zero: a
        // guard clause's `if c { 0 } else { 1 }`) is `if c { λ } else { 0 }`: where `λ` is zero,
        // both are.
        let step = match *g.op(step) {
            Op::Select(k, inner, b)
                if zero(b) && crate::unswitch::tested_nonzero(g, k).is_some_and(adjoint) =>
            {
                inner
            }
            _ => step,
        };
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
            Op::Scatter(_, _, value)
            | Op::CallVjp(_, value)
            | Op::CallHvp(_, value)
            | Op::Accumulate { value, .. }
            | Op::ArrayVjp { seed: value, .. } => self.at(value),
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use quote::quote;

    use super::{Schedule, Step};
    use crate::attr::Args;
    use crate::graph::Op;
    use crate::testing::lower_fn;

    /// The steps of the function body's region: `L` a loop of so many sums, `B` a `let`.
    fn steps(func: proc_macro2::TokenStream) -> String {
        let l = lower_fn(func, &Args::default());
        let s = Schedule::of(&l.graph, &[l.output]);
        let plan = s.plan(&[l.output], &HashSet::new());
        plan.steps
            .iter()
            .filter_map(|step| match step {
                Step::Loop(group) => Some(format!("L{}", group.len())),
                Step::Exit(group, _) => Some(format!("E{}", group.len())),
                Step::Guarded(group) => Some(format!("G{}", group.len())),
                Step::Bind(_) => Some("B".to_string()),
                Step::Inline(_) => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Two sums over one loop, neither reading the other: one `for`.
    #[test]
    fn sums_over_one_loop_share_one_for() {
        let got = steps(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                let mut q = 0.0;
                for i in 0..x.len() {
                    s += x[i];
                    q += x[i] * x[i];
                }
                s * q
            }
        });
        assert_eq!(got, "L2");
    }

    /// A sum whose body reads another sum over the same loop runs after it, in a loop of its
    /// own.
    #[test]
    fn a_sum_reading_another_is_not_fused_with_it() {
        let got = steps(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() {
                    s += x[i];
                }
                let mut q = 0.0;
                for i in 0..x.len() {
                    q += (x[i] - s).powi(2);
                }
                q
            }
        });
        assert_eq!(got, "L1 L1");
    }

    /// What a loop's body reads that does not change in the loop is hoisted before it; an
    /// element read under a condition is not (its index may be out of range elsewhere).
    #[test]
    fn loop_invariants_hoist_what_does_not_change_and_is_not_conditional() {
        let l = lower_fn(
            quote! {
                fn f(w: f64, k: usize, x: &[f64]) -> f64 {
                    let mut s = 0.0;
                    for i in 0..x.len() {
                        s += x[i] * w.exp() + if k < x.len() { x[k] } else { 0.0 };
                    }
                    s
                }
            },
            &Args::default(),
        );
        let s = Schedule::of(&l.graph, &[l.output]);
        let Op::Sum { v, body, .. } = *l.graph.op(l.output) else {
            panic!("internal error: the value is not a loop sum");
        };
        let hoisted = s.loop_invariants(v, body);
        let is = |n: &crate::graph::NodeId, pred: &dyn Fn(&Op) -> bool| pred(l.graph.op(*n));
        assert!(
            hoisted
                .iter()
                .any(|n| is(n, &|op| matches!(op, Op::Unary(crate::graph::Fun::Exp, _)))),
            "w.exp() is hoisted"
        );
        assert!(
            !hoisted
                .iter()
                .any(|n| is(n, &|op| matches!(op, Op::Element(..)))),
            "x[k] under `k < x.len()` is not"
        );
    }

    /// A recurrence the function computes only where an early `return` is not taken: its
    /// reverse sweep, with its forward loop, runs in a block of its own under the sweep's seed.
    #[test]
    fn a_recurrence_after_a_return_runs_guarded() {
        let l = lower_fn(
            quote! {
                fn f(x: &[f64], n: usize) -> f64 {
                    if n > x.len() { return x[0]; }
                    let mut p = 1.0;
                    for i in 0..2 { p *= x[n - 1 - i]; }
                    p
                }
            },
            &Args::default(),
        );
        let mut g = l.graph.clone();
        let slices: Vec<u32> = vec![0];
        let (_, effects) = crate::diff::gradient_with_slices(&mut g, l.output, &[], &slices)
            .expect("internal error: the test function differentiates");
        let mut roots = vec![l.output];
        roots.extend(effects.into_iter().flatten());
        let s = Schedule::of(&g, &roots);
        let plan = s.plan(&roots, &HashSet::new());
        assert!(
            plan.steps.iter().any(|s| matches!(s, Step::Guarded(_))),
            "the sweep is guarded"
        );
        assert!(
            !plan
                .steps
                .iter()
                .any(|s| matches!(s, Step::Bind(n) if matches!(g.op(*n), Op::Fold { .. }))),
            "the forward loop is not bound outside it"
        );
    }

    /// A loop the user wrote in another loop's body stays in it, even where it does not change
    /// with the outer index; one written before the outer loop is hoisted.
    #[test]
    fn a_loop_written_in_a_loops_body_is_not_hoisted_out_of_it() {
        let inner_sums = |func: proc_macro2::TokenStream| {
            let l = lower_fn(func, &Args::default());
            let s = Schedule::of(&l.graph, &[l.output]);
            let Op::Sum { v, body, .. } = *l.graph.op(l.output) else {
                panic!("internal error: the value is not a loop sum");
            };
            s.loop_invariants(v, body)
                .iter()
                .filter(|n| matches!(l.graph.op(**n), Op::Sum { .. }))
                .count()
        };
        let written_inside = inner_sums(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for k in 0..x.len() {
                    if x[k] > 0.0 {
                        let mut p = 0.0;
                        for i in 0..2 { p += x[i].sin(); }
                        s += p * x[k];
                    }
                }
                s
            }
        });
        assert_eq!(written_inside, 0);
        let written_before = inner_sums(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut p = 0.0;
                for i in 0..2 { p += x[i].sin(); }
                let mut s = 0.0;
                for k in 0..x.len() {
                    if x[k] > 0.0 {
                        s += p * x[k];
                    }
                }
                s
            }
        });
        assert_eq!(written_before, 1);
    }
}
