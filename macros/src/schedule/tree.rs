//! The statement tree: every decision of the schedule, written down before anything is printed.
//!
//! ```text
//! Σᵢ (w·x[i] − y[i])²  and its gradient      Block
//!                                             ├─ Sums [loss, ∂w]  for i0 in 0..n
//!                                             │   └─ Block: Let(r), accumulators
//!                                             └─ (scatters)
//! ```
//!
//! [`Schedule::tree`] walks the regions [`Schedule::plan`] orders and decides, per statement,
//! what `emit` then only prints: which loop form runs a group of sums (fused, breaking where a
//! `break` stops, a reverse sweep, a guarded sweep), which additions are summed in a local and
//! added once after their loop, which vectors the iterations of a loop reuse (and the pools that
//! hold them), which local arrays are small enough to live on the stack, and what a
//! recurrence's forward loop saves for its reverse sweep.

use std::cell::RefCell;
use std::collections::HashSet;

use super::{Patch, Schedule, Step};
use crate::graph::{Graph, Kind, NodeId, Op};

/// The longest local array of constant length kept on the stack (longer ones, and those whose
/// length is known only at run time, are vectors).
pub const MAX_STACK_ARRAY: usize = 32;

/// A kernel's statements, and the vectors its loops reuse.
pub struct Tree {
    pub body: Block,
    /// The pools, declared before the statements, in order of first use.
    pub pools: Vec<Vector>,
}

/// The statements of a region (a function body, a loop body, a branch).
#[derive(Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The scatters into the slices' gradients, after the statements (a loop adds to its
    /// accumulators between the two).
    pub scatters: Vec<Stmt>,
    /// In a loop's body: the vectors this iteration took from their pools, given back at its
    /// end.
    pub give_back: Vec<Vector>,
}

impl Block {
    /// How many forward loops of coupled recurrence `x` this block runs (`Stmt::Coupled`, at any
    /// depth: in loops, branches, the block of a guarded sweep).
    pub fn count_coupled(&self, x: NodeId) -> usize {
        self.all_stmts()
            .map(|s| {
                let own = usize::from(matches!(s, Stmt::Coupled { node, .. } if *node == x));
                own + s.blocks().iter().map(|b| b.count_coupled(x)).sum::<usize>()
            })
            .sum()
    }

    /// The statements, then the scatters.
    fn all_stmts(&self) -> impl Iterator<Item = &Stmt> {
        self.stmts.iter().chain(&self.scatters)
    }

    /// Whether a forward loop binding the state of a recurrence (`__s{c}`) runs inside a
    /// reverse sweep of that recurrence, where it would bind `__s{c}` over the sweep's saved
    /// value, which the sweep reads after it (`swept`: the carries of the sweeps around). A
    /// forward loop saving nothing and a scan are emitted in a block of their own there, and
    /// are no risk; the scheduler places no other there (it would recompute the recurrence in
    /// every iteration of its own sweep): the emitter would not print such a tree correctly.
    fn forward_loop_in_own_sweep(&self, g: &Graph, swept: &mut Vec<u32>) -> bool {
        self.all_stmts()
            .any(|s| s.forward_loop_in_own_sweep(g, swept))
    }
}

impl Stmt {
    /// [`Block::forward_loop_in_own_sweep`] of this statement.
    fn forward_loop_in_own_sweep(&self, g: &Graph, swept: &mut Vec<u32>) -> bool {
        let binds = match self {
            Stmt::Fold { node, saved, .. } if *saved != Saved::Nothing => g.carries_of(*node),
            Stmt::Coupled { node, .. } => g.carries_of(*node),
            _ => 0..0,
        };
        if binds.clone().any(|c| swept.contains(&c)) {
            return true;
        }
        if let Stmt::Guarded { reads, sweep, .. } = self {
            return reads.forward_loop_in_own_sweep(g, swept)
                || sweep.forward_loop_in_own_sweep(g, swept);
        }
        let around = swept.len();
        if let Stmt::Reverse { group, .. } = self
            && let Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. } = *g.op(group[0])
        {
            swept.extend(g.carries_of(fold));
        }
        let inside = self
            .blocks()
            .iter()
            .any(|b| b.forward_loop_in_own_sweep(g, swept));
        swept.truncate(around);
        inside
    }

    /// The blocks in this statement.
    fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::Effect { then, other, .. } | Stmt::Select { then, other, .. } => {
                vec![then, other]
            }
            Stmt::Exit { test, body, .. } => vec![test, body],
            Stmt::Logic { right: b, .. }
            | Stmt::Rebound { body: b, .. }
            | Stmt::Sums { body: b, .. }
            | Stmt::Fold { body: b, .. }
            | Stmt::Scan { body: b, .. }
            | Stmt::Coupled { body: b, .. }
            | Stmt::Tables { body: b, .. }
            | Stmt::Until { body: b, .. } => vec![b],
            Stmt::Reverse {
                body, recompute, ..
            } => std::iter::once(body)
                .chain(recompute.as_ref().map(|r| &r.1))
                .collect(),
            Stmt::Guarded { reads, sweep, .. } => {
                let mut blocks = vec![reads];
                blocks.extend(sweep.blocks());
                blocks
            }
            Stmt::Table { body, .. } => body.iter().collect(),
            Stmt::Let(_)
            | Stmt::Add(_)
            | Stmt::AddToSum(_)
            | Stmt::Partials(..)
            | Stmt::Vjp(_)
            | Stmt::Alloc { .. }
            | Stmt::Internal(_) => Vec::new(),
        }
    }
}

/// A vector whose allocation the iterations of a loop share.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Vector {
    /// A local array (a `Table` node).
    Array(NodeId),
    /// A vector added into (an `Alloc`'s buffer).
    Buffer(u32),
    /// The values a recurrence's forward loop saves for its reverse sweep.
    Trace(u32),
    /// The states coupled recurrence `c` saves for its reverse sweep: tuples of so many floats.
    States(u32, usize),
    /// The rows an array carried across a loop's iterations saves (coupled member `d`).
    Rows(u32),
    /// Member `k` of a tuple (a `Coupled` node, or its `RevCoupled` reverse sweep) that is a
    /// vector: an array carried across a loop's iterations, or its adjoint; `d` numbers the
    /// local that holds it while the loop runs (the member's `Carry`, or its `Adjoint`).
    Member(NodeId, u32, u32),
    /// With checkpoints, in the reverse sweep of coupled state carrying arrays: the working
    /// vector member `d` (an array) is recomputed in from its checkpoint.
    Work(u32),
    /// ... and the rows of member `d` recomputed for the sweep of a stretch.
    StretchRows(u32),
    /// ... and the indices and saved floats of the stretch of coupled recurrence `c` (a vector
    /// of tuples whose type the code infers).
    Stretch(u32),
}

/// Where a local array or a vector added into lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Storage {
    /// On the stack: a constant length of at most [`MAX_STACK_ARRAY`].
    Stack(usize),
    /// A vector of its own.
    Fresh,
    /// A vector the previous iteration of the loop gave back.
    Pooled,
}

/// What a recurrence's forward loop saves for its reverse sweep.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Saved {
    Nothing,
    /// The value of the last iteration that kills `λ` (a running max), and its index.
    LastKill(NodeId, bool),
    /// Every iteration's value, in a vector.
    Every(Storage),
    /// The value every `K` iterations (`checkpoint = K`), in a vector: the reverse sweep
    /// recomputes the others.
    Checkpoints(usize, Storage),
}

/// One statement.
pub enum Stmt {
    /// `let __tN = expr;`
    Let(NodeId),
    /// `z[i] += x;` or `∇x[i] += x;` (an `Accumulate`, a `Scatter`).
    Add(NodeId),
    /// `__accN += x;`: an addition summed in a local of its loop ([`Stmt::Sums::summed`]).
    AddToSum(NodeId),
    /// A guarded effect: `if c { then } else { other }`.
    Effect {
        node: NodeId,
        then: Block,
        other: Block,
    },
    /// `let __tN = if c { then…; a } else { other…; b };`
    Select {
        node: NodeId,
        then: Block,
        other: Block,
    },
    /// `let __tN = a && { right…; b };` (or `||`).
    Logic { node: NodeId, right: Block },
    /// `let (__tN, __dN) = f::__partials(args…);`, its `__jacobian` or its `__partials2`.
    Partials(NodeId, Companion),
    /// `f::__vjp(args…, seed, sinks…);` (a `CallVjp`, an `ArrayVjp`, a `CallHvp`; a
    /// `VjpRows`: `f::__vjp_rows`, two rows on one forward pass).
    Vjp(NodeId),
    /// The gradient vectors an effect writes, renamed to its sinks, in a block of its own.
    Rebound { node: NodeId, body: Block },
    /// One `for` loop computing the sums of `group` (same loop and bounds): their
    /// accumulators before it, the additions summed in locals (`summed`) added after it.
    Sums {
        group: Vec<NodeId>,
        body: Block,
        accumulators: Vec<(NodeId, NodeId)>,
        summed: Vec<NodeId>,
    },
    /// [`Stmt::Sums`] over `lo..hi` that breaks where `until` does, binding it; `test` is the
    /// condition's region.
    Exit {
        group: Vec<NodeId>,
        until: NodeId,
        test: Block,
        body: Block,
        accumulators: Vec<(NodeId, NodeId)>,
    },
    /// A recurrence's forward loop.
    Fold {
        node: NodeId,
        body: Block,
        saved: Saved,
    },
    /// A recurrence's forward loop writing its value after each iteration into a vector (an
    /// `Op::Scanned`), or coupled recurrences' writing one member's (an `Op::CoupledScan`).
    Scan { node: NodeId, body: Block },
    /// Coupled recurrences' forward loop, saving the members `saved` for the reverse sweep
    /// (with `checkpoint`, every member every `K` iterations instead), in a vector of `storage`.
    Coupled {
        node: NodeId,
        body: Block,
        saved: Vec<u32>,
        checkpoint: Option<usize>,
        storage: Storage,
        /// Per member: its new value written in place, a stretch replaced (`body` computes the
        /// stretch, not the whole array).
        patches: Vec<Option<Patch>>,
        /// The recurrences carrying arrays run in every iteration (statements of `body`) whose
        /// saved rows, trace and value this loop keeps per iteration for its reverse sweep
        /// ([`Stmt::Reverse::nested`]).
        nested: Vec<NodeId>,
    },
    /// A recurrence's reverse loop (`group[0]`, a `RevFold` or `RevCoupled`), with the sums
    /// that read its adjoints.
    Reverse {
        group: Vec<NodeId>,
        body: Block,
        accumulators: Vec<(NodeId, NodeId)>,
        /// The saved members of coupled recurrences (a single recurrence: its own).
        saved: Vec<u32>,
        /// A single recurrence whose sweep is its last kill: one recorded iteration.
        last_kill: bool,
        /// With checkpoints every `K` iterations: `K`, the forward loop's body, which
        /// recomputes the states between two checkpoints before they are swept, and (coupled
        /// state carrying arrays) the members' new values written in place.
        recompute: Option<(usize, Block, Vec<Option<Patch>>)>,
        /// The adjoint vectors of arrays carried across the iterations reuse those of the
        /// previous iteration of a loop around.
        pooled: bool,
        /// The recurrences carrying arrays that the forward loop (and a recomputed stretch) runs
        /// in every iteration, and this sweep's body runs again before sweeping them: their
        /// saved rows, trace and value are those the forward loop kept for the iteration,
        /// not computed a second time (see `Builder::nest`).
        nested: Vec<NodeId>,
    },
    /// A reverse sweep run only where its seed is not zero, with what it reads computed in its
    /// block.
    Guarded {
        group: Vec<NodeId>,
        reads: Block,
        sweep: Box<Stmt>,
    },
    /// A local array: `[c; N]` or `vec![c; n]` for a constant fill (`body` `None`), else a loop
    /// filling it.
    Table {
        node: NodeId,
        storage: Storage,
        body: Option<Block>,
    },
    /// Local arrays filled by one loop (same loop and bounds, none reading another: see
    /// `Schedule::plan`), each a vector of the storage given; `body` binds what their elements
    /// read, once for all of them.
    Tables {
        group: Vec<(NodeId, Storage)>,
        body: Block,
    },
    /// A vector added into; `by_bounds`: of zeros, as long as a local array not bound before
    /// it, its length read from the array's bounds (`Schedule::zero_sized_by_bounds`).
    Alloc {
        node: NodeId,
        storage: Storage,
        by_bounds: bool,
    },
    /// The loop finding where a `break` stops.
    Until { node: NodeId, body: Block },
    /// A node the tree does not know how to run: a compile error naming the bug.
    Internal(&'static str),
}

/// The hidden item a call's partial derivatives come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Companion {
    /// `__partials`: the value and one partial per argument.
    Partials,
    /// `__jacobian`: a vector-valued function's outputs and rows of partials.
    Jacobian,
    /// `__partials2`: with the second partials too.
    Second,
    /// `__hvp`, for a `CallJvp` (a call given a differentiated slice, in second derivatives):
    /// the directional derivative and `H·ȧ` over the float arguments.
    Hvp,
}

/// What the body of a loop adds to the statements around it.
#[derive(Default)]
struct LoopEnd {
    give_back: Vec<Vector>,
    /// In a loop whose additions at an index it does not change are summed in locals: the loop,
    /// and what is bound before it.
    summing: Option<(u32, HashSet<NodeId>)>,
    summed: Vec<NodeId>,
}

impl Schedule<'_> {
    /// The statements computing `roots`.
    pub fn tree(&self, roots: &[NodeId]) -> Tree {
        let b = Builder {
            s: self,
            pools: RefCell::default(),
        };
        let mut body = b.region(roots, &mut HashSet::new());
        if body.forward_loop_in_own_sweep(self.g, &mut Vec::new()) {
            body.stmts.push(Stmt::Internal(
                "a recurrence's forward loop inside its own reverse sweep",
            ));
        }
        Tree {
            body,
            pools: b.pools.into_inner(),
        }
    }

    /// The length of local array `a` where it is a small constant: the array is then on the
    /// stack (`[0.0; 3]`), as the user's `[a, b, c]` is, not a vector.
    pub fn fixed_len(&self, a: NodeId) -> Option<usize> {
        stack_len(self.g, a)
    }
}

/// Whether the reverse sweep `r` (a `RevFold` or `RevCoupled`), guarded by its seeds
/// ([`Stmt::Guarded`]), runs always: a seed is a constant other than zero, or an array's
/// adjoint vector.
pub fn sweep_runs_always(g: &Graph, r: NodeId) -> bool {
    let seeds = match *g.op(r) {
        Op::RevFold { seed, .. } => vec![seed],
        _ => g.coupled_parts(r).map(|p| p.0.to_vec()).unwrap_or_default(),
    };
    seeds
        .iter()
        .any(|s| g.as_const(*s).is_some_and(|c| c != 0.0) || g.kind(*s) == Kind::Array)
}

/// [`Schedule::fixed_len`], of graph `g`.
pub fn stack_len(g: &Graph, a: NodeId) -> Option<usize> {
    match *g.op(a) {
        Op::Table { lo, hi, .. } => {
            let (lo, hi) = (g.as_int(lo)?, g.as_int(hi)?);
            usize::try_from(hi - lo)
                .ok()
                .filter(|n| *n <= MAX_STACK_ARRAY)
        }
        Op::Filled { alloc, .. } => stack_len(g, alloc),
        Op::Alloc { like, .. } => stack_len(g, like),
        _ => None,
    }
}

struct Builder<'s, 'g> {
    s: &'s Schedule<'g>,
    pools: RefCell<Vec<Vector>>,
}

impl Builder<'_, '_> {
    /// The statements binding the nodes of the region of `roots`; marks them defined.
    fn region(&self, roots: &[NodeId], defined: &mut HashSet<NodeId>) -> Block {
        self.region_parts(roots, defined, None)
    }

    /// The region of a loop's body: the vectors bound at its level reuse the previous
    /// iteration's, given back at its end.
    fn loop_body(&self, roots: &[NodeId], defined: &mut HashSet<NodeId>) -> Block {
        let mut end = LoopEnd::default();
        let mut block = self.region_parts(roots, defined, Some(&mut end));
        block.give_back = end.give_back;
        block
    }

    /// [`loop_body`](Self::loop_body) of a loop over `v` whose additions into a vector at an
    /// index the loop does not change are summed in a local (see
    /// [`summed_accumulate`](Self::summed_accumulate)); `outside` is what is bound before
    /// the loop. Also the additions summed.
    fn summing_loop_body(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
        v: u32,
        outside: &HashSet<NodeId>,
    ) -> (Block, Vec<NodeId>) {
        let mut end = LoopEnd {
            summing: Some((v, outside.clone())),
            ..LoopEnd::default()
        };
        let mut block = self.region_parts(roots, defined, Some(&mut end));
        block.give_back = end.give_back;
        (block, end.summed)
    }

    /// An addition `z[k] += e` in a summing loop's body whose vector is declared before the
    /// loop and whose index `k` the loop does not change and is bound before it: summed in a
    /// local, `z[k] += acc` once after the loop, if the loop ran (an empty loop reads no
    /// `z[k]`). The loop keeps the sum in a register, not storing to and loading from `z[k]` in
    /// every iteration, as a person writes it (GMM's reverse triangular product spent a third of
    /// its time in that store).
    fn summed_accumulate(&self, n: NodeId, end: &mut LoopEnd) -> Option<Stmt> {
        let g = self.s.g;
        let Op::Accumulate { alloc, i, .. } = *g.op(n) else {
            return None;
        };
        let (v, outside) = end.summing.as_ref()?;
        let bit = 1u128 << v;
        let visible = |k: NodeId| {
            outside.contains(&k)
                || match *g.op(k) {
                    Op::LoopVar(w) => w != *v,
                    Op::IntConst(_) => true,
                    _ => false,
                }
        };
        if !outside.contains(&alloc) || g.loops_of(i) & bit != 0 || !visible(i) {
            return None;
        }
        end.summed.push(n);
        Some(Stmt::AddToSum(n))
    }

    /// The selects bound by `steps`' first statements on one condition, with nothing but
    /// inline nodes and effect lists between them: effects (`if c { ∇x… }` then `if c { ∇y… }`, one slice's
    /// gradient after the other's, each unswitched under a guard clause's condition), after
    /// an effect or a value (`let t = if c { 0.0 } else { … };`, the function's value after its
    /// guard clause) that none of them reads.
    fn selects_on_one_condition(&self, steps: &[Step]) -> Vec<NodeId> {
        let g = self.s.g;
        let mut out: Vec<NodeId> = Vec::new();
        let mut on = None;
        for step in steps {
            match step {
                Step::Bind(n) if let Op::Select(c, ..) = *g.op(*n) => {
                    let first = out.first().copied();
                    let joins = match first {
                        None => true,
                        Some(first) => on == Some(c) && g.is_effect(*n) && !g.mentions(*n, first),
                    };
                    if !joins {
                        break;
                    }
                    on = Some(c);
                    out.push(*n);
                }
                // Inline nodes, and effect lists (whose parts are statements of their own),
                // write nothing here.
                Step::Inline(_) if on.is_some() => {}
                Step::Bind(n) if on.is_some() && matches!(g.op(*n), Op::Effects(..)) => {}
                _ => break,
            }
        }
        out
    }

    /// One `if c { A; B } else { C; D }` for the selects of [`selects_on_one_condition`] (two
    /// or more, returned with it; a value's `let t = if c { …; a } else { …; b };` with the effects in its
    /// branches): what their branches share (a buffer, a recurrence's forward loop and reverse
    /// sweep, the loop both add in) is computed once, as a person writes it. The same values
    /// and additions: the condition is a value, which no addition changes, no effect reads the
    /// value, and the effects add into different gradients (one per slice), so their order in
    /// the block changes nothing.
    ///
    /// [`selects_on_one_condition`]: Self::selects_on_one_condition
    fn joined_selects(
        &self,
        steps: &[Step],
        visible: &HashSet<NodeId>,
    ) -> Option<(Stmt, Vec<NodeId>)> {
        let selects = self.selects_on_one_condition(steps);
        if selects.len() < 2 {
            return None;
        }
        let g = self.s.g;
        let side = |then: bool| -> Vec<NodeId> {
            selects
                .iter()
                .filter_map(|e| match *g.op(*e) {
                    Op::Select(_, a, b) => Some(if then { a } else { b }),
                    _ => None,
                })
                .filter(|x| !matches!(g.op(*x), Op::NoEffect))
                .collect()
        };
        // Not where one addition would be reached from two of them (a node is one statement
        // in a block: it would run once). Additions in a value (the fill of an adjoint vector)
        // are its own statement's, run once wherever it is computed.
        for roots in [side(true), side(false)] {
            let mut seen = HashSet::new();
            for r in roots {
                let mut mine = HashSet::new();
                let mut stack = vec![r];
                while let Some(n) = stack.pop() {
                    if g.is_effect(n) && mine.insert(n) {
                        stack.extend(g.op(n).children());
                    }
                }
                if mine.iter().any(|e| !seen.insert(*e)) {
                    return None;
                }
            }
        }
        let node = selects[0];
        let then = self.region(&side(true), &mut visible.clone());
        let other = self.region(&side(false), &mut visible.clone());
        let stmt = if g.is_effect(node) {
            Stmt::Effect { node, then, other }
        } else {
            Stmt::Select { node, then, other }
        };
        Some((stmt, selects))
    }

    /// [`region`](Self::region) in two parts, the statements then the scatters, in the order
    /// [`Schedule::plan`] gives. In a loop's body (`back`), the vectors bound at its level
    /// reuse the previous iteration's.
    fn region_parts(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
        mut back: Option<&mut LoopEnd>,
    ) -> Block {
        let plan = self.s.plan(roots, defined);
        let mut block = Block::default();
        let mut visible = defined.clone();
        // Effects already emitted in the block of an earlier select on the same condition.
        let mut joined: HashSet<NodeId> = HashSet::new();
        for (at, step) in plan.steps.iter().enumerate() {
            match step {
                Step::Bind(n) if joined.contains(n) => {
                    visible.insert(*n);
                }
                Step::Bind(n)
                    if let Some((stmt, selects)) =
                        self.joined_selects(&plan.steps[at..], &visible) =>
                {
                    joined.extend(selects);
                    block.stmts.push(stmt);
                    visible.insert(*n);
                }
                Step::Loop(group) => {
                    let stmt = if matches!(
                        self.s.g.op(group[0]),
                        Op::RevFold { .. } | Op::RevCoupled { .. }
                    ) {
                        let mut sweep = self.reverse(group, &visible, back.as_deref_mut());
                        Self::nest_in(&mut block.stmts, &mut sweep, self.s.g);
                        sweep
                    } else if matches!(self.s.g.op(group[0]), Op::Table { .. }) {
                        self.tables(group, &visible, back.as_deref_mut())
                    } else {
                        self.sums(group, &visible)
                    };
                    block.stmts.push(stmt);
                    visible.extend(group.iter().copied());
                }
                Step::Guarded(group) => {
                    block
                        .stmts
                        .push(self.guarded(group, &visible, back.is_some()));
                    visible.extend(group.iter().copied());
                }
                Step::Exit(group, until) => {
                    block.stmts.push(self.exit(group, *until, &visible));
                    visible.extend(group.iter().copied());
                    visible.insert(*until);
                }
                Step::Bind(n) => {
                    block.stmts.extend(match back.as_deref_mut() {
                        Some(back) => self.pooled_binding(*n, &visible, back),
                        None => self.binding(*n, &visible),
                    });
                    visible.insert(*n);
                }
                Step::Inline(n) => {
                    visible.insert(*n);
                }
            }
        }
        defined.extend(plan.nodes);
        for n in plan.scatters {
            block.scatters.extend(self.binding(n, defined));
        }
        block
    }

    /// Whether vector `v`, bound in a loop's body when `pool` is given, reuses the previous
    /// iteration's allocation (and is given back at the end of this one).
    fn vector(&self, v: Vector, pool: Option<&mut LoopEnd>) -> Storage {
        let Some(end) = pool else {
            return Storage::Fresh;
        };
        let mut pools = self.pools.borrow_mut();
        if !pools.contains(&v) {
            pools.push(v);
        }
        end.give_back.push(v);
        Storage::Pooled
    }

    /// The float sums among `sums`, each with its body: run in one loop, each in an
    /// accumulator. (A loop of effects has none: its statements are in the loop's region.)
    fn accumulators(&self, sums: &[NodeId]) -> Vec<(NodeId, NodeId)> {
        sums.iter()
            .filter(|n| self.s.g.kind(**n) == Kind::Float)
            .filter_map(|n| Some((*n, self.s.sum_body(*n)?)))
            .collect()
    }

    /// One `for` loop computing every sum (and effect) of `group`, which share loop and bounds.
    fn sums(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> Stmt {
        let Op::Sum { v, .. } = *self.s.g.op(group[0]) else {
            return Stmt::Internal("not a loop");
        };
        let bodies: Vec<NodeId> = group.iter().filter_map(|n| self.s.sum_body(*n)).collect();
        let mut inner = self.s.visible_in_loop(v, defined);
        let (body, summed) = self.summing_loop_body(&bodies, &mut inner, v, defined);
        Stmt::Sums {
            group: group.to_vec(),
            body,
            accumulators: self.accumulators(group),
            summed,
        }
    }

    /// [`sums`](Self::sums) that stops where `until` (a `break`'s `Op::Until` over the same
    /// range) does, binding it.
    fn exit(&self, group: &[NodeId], until: NodeId, defined: &HashSet<NodeId>) -> Stmt {
        let Op::Sum { v, .. } = *self.s.g.op(group[0]) else {
            return Stmt::Internal("not a loop");
        };
        let Op::Until { v: v0, cond, .. } = *self.s.g.op(until) else {
            return Stmt::Internal("not a loop's end");
        };
        // The condition, read with its own loop's index bound to this one's.
        let mut outside = self.s.visible_in_loop(v0, defined);
        let test = self.loop_body(&[cond], &mut outside);
        let bodies: Vec<NodeId> = group.iter().filter_map(|n| self.s.sum_body(*n)).collect();
        let mut inner = self.s.visible_in_loop(v, defined);
        let body = self.loop_body(&bodies, &mut inner);
        Stmt::Exit {
            group: group.to_vec(),
            until,
            test,
            body,
            accumulators: self.accumulators(group),
        }
    }

    /// The forward loop of recurrence `n`, saving what its reverse sweep reads.
    fn fold(&self, n: NodeId, defined: &HashSet<NodeId>, pool: Option<&mut LoopEnd>) -> Stmt {
        let Op::Fold { c, v, body, .. } = *self.s.g.op(n) else {
            return Stmt::Internal("not a recurrence");
        };
        let mut inner = self.s.visible_in_loop(v, defined);
        let kill = self.s.last_kill.get(&c).copied();
        let mut roots = vec![body];
        roots.extend(kill.map(|(cond, _)| cond));
        let body = self.loop_body(&roots, &mut inner);
        let mut pool = pool;
        let saved = match (kill, self.s.checkpoint_of(n)) {
            (Some((cond, on)), _) => Saved::LastKill(cond, on),
            (None, _) if !self.s.traced.contains(&c) => Saved::Nothing,
            // The checkpoints, and the stretch kept for the sweep (`emit::kept_stretch`).
            (None, Some(k)) => {
                self.vector(Vector::Stretch(c), pool.as_deref_mut());
                Saved::Checkpoints(k, self.vector(Vector::Trace(c), pool))
            }
            (None, None) => Saved::Every(self.vector(Vector::Trace(c), pool)),
        };
        Stmt::Fold {
            node: n,
            body,
            saved,
        }
    }

    /// The forward loop of a scan (`Op::Scanned`): a recurrence whose every value is kept; or
    /// of coupled recurrences one of whose members' every value is kept (`Op::CoupledScan`).
    fn scan(&self, n: NodeId, defined: &HashSet<NodeId>) -> Stmt {
        let (v, roots) = match self.s.g.op(n) {
            Op::Scanned { v, body, .. } => (*v, vec![*body]),
            Op::CoupledScan { v, .. } => match self.s.g.state_parts(n) {
                Some((_, bodies)) => (*v, bodies.to_vec()),
                None => return Stmt::Internal("not a scan"),
            },
            _ => return Stmt::Internal("not a scan"),
        };
        let mut inner = self.s.visible_in_loop(v, defined);
        Stmt::Scan {
            node: n,
            body: self.loop_body(&roots, &mut inner),
        }
    }

    /// [`binding`](Self::binding) of a node bound in a loop's body: a local array, a vector
    /// added into, or a recurrence's saved values reuse the previous iteration's vector; an
    /// addition may be summed in a local.
    fn pooled_binding(
        &self,
        n: NodeId,
        defined: &HashSet<NodeId>,
        end: &mut LoopEnd,
    ) -> Option<Stmt> {
        match self.s.g.op(n) {
            Op::Table { .. } => Some(self.table(n, defined, Some(end))),
            Op::Alloc { .. } => Some(self.alloc(n, defined, Some(end))),
            Op::Fold { .. } => Some(self.fold(n, defined, Some(end))),
            Op::Coupled { .. } => Some(self.coupled(n, defined, Some(end))),
            Op::Accumulate { .. } => self
                .summed_accumulate(n, end)
                .or_else(|| self.binding(n, defined)),
            _ => self.binding(n, defined),
        }
    }

    /// The members of coupled recurrence `c` (`k` of them) its reverse sweep reads.
    fn saved_members(&self, c: u32, k: usize) -> Vec<u32> {
        let k = u32::try_from(k).unwrap_or(0);
        (c..c + k).filter(|d| self.s.traced.contains(d)).collect()
    }

    /// The forward loop of coupled recurrences `n`; its saved states reuse the previous
    /// iteration's vector where `pool` is given (a recurrence per row of an outer loop).
    fn coupled(&self, n: NodeId, defined: &HashSet<NodeId>, pool: Option<&mut LoopEnd>) -> Stmt {
        let (Op::Coupled { c, v, .. }, Some((_, bodies))) =
            (self.s.g.op(n), self.s.g.coupled_parts(n))
        else {
            return Stmt::Internal("not a recurrence");
        };
        let (roots, patches) = self.step_roots(n);
        let mut inner = self.s.visible_in_loop(*v, defined);
        let body = self.loop_body(&roots, &mut inner);
        let saved = self.saved_members(*c, bodies.len());
        let checkpoint = self.s.checkpoint_of(n).filter(|_| !saved.is_empty());
        // A checkpoint holds every member; otherwise the trace holds the members the sweep reads.
        let arity = if checkpoint.is_some() {
            bodies.len()
        } else {
            saved.len()
        };
        // An array carried across the iterations and its rows: vectors of their own (see
        // `emit::coupled_arrays`), reused by the iterations of a loop around; with checkpoints,
        // the rows of the members a checkpoint holds (`Schedule::checkpointed`).
        let mut pool = pool;
        // With checkpoints, the stretch kept for the sweep (`emit::kept_stretch`): the floats
        // it reads and the rows of the arrays it reads.
        if let (Some(_), Some(end)) = (checkpoint, pool.as_deref_mut()) {
            for (d, b) in (*c..).zip(bodies) {
                if self.s.g.kind(*b) == Kind::Array && saved.contains(&d) {
                    self.vector(Vector::StretchRows(d), Some(&mut *end));
                }
            }
            self.vector(Vector::Stretch(*c), Some(end));
        }
        let storage = if self.s.g.carries_arrays(n) {
            let rows = match checkpoint {
                Some(_) => self.s.checkpointed(n),
                None => saved.clone(),
            };
            let storage = self.member_vectors(n, &rows, pool.as_deref_mut());
            // The floats saved (every iteration's, or the checkpoints'), reused too.
            let floats = (*c..)
                .zip(bodies)
                .filter(|(d, b)| self.s.g.kind(**b) != Kind::Array && rows.contains(d))
                .count();
            if checkpoint.is_some() || floats > 0 {
                self.vector(Vector::States(*c, floats), pool);
            }
            storage
        } else if saved.is_empty() {
            Storage::Fresh
        } else {
            self.vector(Vector::States(*c, arity), pool)
        };
        Stmt::Coupled {
            node: n,
            body,
            checkpoint,
            saved,
            storage,
            patches,
            nested: Vec::new(),
        }
    }

    /// What one iteration of coupled recurrences `n` computes: each member's new value, or for
    /// a carried array whose new value is a stretch replaced (written in place), what the
    /// stretch reads (the loop computes those, not the whole new array); and the patches.
    fn step_roots(&self, n: NodeId) -> (Vec<NodeId>, Vec<Option<Patch>>) {
        let (Op::Coupled { c, .. }, Some((_, bodies))) =
            (self.s.g.op(n), self.s.g.coupled_parts(n))
        else {
            return (Vec::new(), Vec::new());
        };
        let patches: Vec<Option<Patch>> = if self.s.g.carries_arrays(n) {
            (*c..)
                .zip(bodies)
                .map(|(d, b)| self.s.in_place_patch(d, *b, bodies))
                .collect()
        } else {
            vec![None; bodies.len()]
        };
        let mut roots = Vec::new();
        for (b, p) in bodies.iter().zip(&patches) {
            match p {
                Some(p) => roots.extend([p.written, p.lo, p.hi]),
                None => roots.push(*b),
            }
        }
        (roots, patches)
    }

    /// The vectors of coupled state `n` carrying arrays (its array members, their rows where
    /// `saved`; or, `n` a reverse sweep, the adjoints of its array members), reused by the
    /// iterations of the loop around where `pool` is given.
    fn member_vectors(&self, n: NodeId, saved: &[u32], pool: Option<&mut LoopEnd>) -> Storage {
        let Some(end) = pool else {
            return Storage::Fresh;
        };
        let g = self.s.g;
        let (Some((firsts, _)), Some(first)) = (
            g.coupled_parts(n),
            match *g.op(n) {
                Op::Coupled { c, .. } => Some(c),
                Op::RevCoupled { sweep, .. } => Some(sweep),
                _ => None,
            },
        ) else {
            return Storage::Fresh;
        };
        for (k, m) in (0..).zip(firsts) {
            if g.kind(*m) != Kind::Array {
                continue;
            }
            self.vector(Vector::Member(n, k, first + k), Some(end));
            if matches!(g.op(n), Op::Coupled { .. }) && saved.contains(&(first + k)) {
                self.vector(Vector::Rows(first + k), Some(end));
            }
        }
        Storage::Pooled
    }

    /// The reverse loop of a recurrence's gradient (`group[0]`), with the sums that read its
    /// adjoints; the adjoint vectors of coupled state carrying arrays reused by the iterations
    /// of the loop around where `pool` is given.
    fn reverse(
        &self,
        group: &[NodeId],
        defined: &HashSet<NodeId>,
        pool: Option<&mut LoopEnd>,
    ) -> Stmt {
        let g = self.s.g;
        let (v, fold, mut bodies) = match g.op(group[0]) {
            Op::RevFold { v, fold, step, .. } => (*v, *fold, vec![*step]),
            Op::RevCoupled { v, fold, .. } => match g.coupled_parts(group[0]) {
                Some((_, steps)) => (*v, *fold, steps.to_vec()),
                None => return Stmt::Internal("not a reverse sweep"),
            },
            _ => return Stmt::Internal("not a reverse sweep"),
        };
        let k = bodies.len();
        let (saved, last_kill, forward) = match (g.op(group[0]), g.op(fold)) {
            (Op::RevFold { .. }, Op::Fold { c, body, .. }) => {
                (vec![*c], self.s.last_kill.contains_key(c), vec![*body])
            }
            (Op::RevCoupled { .. }, Op::Coupled { c, .. }) => (
                self.saved_members(*c, k),
                false,
                g.coupled_parts(fold)
                    .map_or_else(Vec::new, |p| p.1.to_vec()),
            ),
            _ => return Stmt::Internal("not a recurrence"),
        };
        bodies.extend(group[1..].iter().filter_map(|n| self.s.sum_body(*n)));
        let mut inner = self.s.visible_in_loop(v, defined);
        let body = self.loop_body(&bodies, &mut inner);
        // The forward loop's body, scheduled here: it runs again, a stretch at a time.
        // Coupled state carrying arrays: what `coupled` runs, the patches written in place.
        let recompute = match (self.s.checkpoint_of(fold), g.op(fold)) {
            (Some(every), Op::Fold { v, .. } | Op::Coupled { v, .. })
                if !last_kill && !saved.is_empty() =>
            {
                let (forward, patches) = if g.carries_arrays(fold) {
                    self.step_roots(fold)
                } else {
                    (forward, Vec::new())
                };
                let mut inner = self.s.visible_in_loop(*v, defined);
                Some((every, self.loop_body(&forward, &mut inner), patches))
            }
            _ => None,
        };
        let mut pool = pool;
        let pooled = g
            .coupled_parts(group[0])
            .is_some_and(|(seeds, _)| seeds.iter().any(|x| g.kind(*x) == Kind::Array))
            && self.member_vectors(group[0], &[], pool.as_deref_mut()) == Storage::Pooled;
        // Recomputing coupled state carrying arrays: its working vectors, reused (the stretch
        // is the forward loop's, see `coupled`).
        if let (true, Some(_), Op::Coupled { c, .. }) = (pooled, &recompute, g.op(fold)) {
            for (d, init) in (*c..).zip(g.coupled_parts(fold).map_or(&[][..], |p| p.0)) {
                if g.kind(*init) == Kind::Array {
                    self.vector(Vector::Work(d), pool.as_deref_mut());
                }
            }
        }
        Stmt::Reverse {
            group: group.to_vec(),
            body,
            accumulators: self.accumulators(&group[1..]),
            saved,
            last_kill,
            recompute,
            pooled,
            nested: Vec::new(),
        }
    }

    /// [`nest`](Self::nest) with the forward loop of `reverse`'s recurrence among `stmts` (the
    /// statements before it in its block), if it is there.
    fn nest_in(stmts: &mut [Stmt], reverse: &mut Stmt, g: &crate::graph::Graph) {
        let Stmt::Reverse { group, .. } = &*reverse else {
            return;
        };
        let Op::RevCoupled { fold, .. } = *g.op(group[0]) else {
            return;
        };
        let forward = stmts
            .iter_mut()
            .find(|s| matches!(s, Stmt::Coupled { node, .. } if *node == fold));
        if let Some(forward) = forward {
            Self::nest(forward, reverse, g);
        }
    }

    /// The inner recurrences whose forward loop an outer one's reverse sweep (`reverse`, the
    /// `Stmt::Reverse` of coupled state carrying arrays) reads from what its forward loop
    /// (`forward`, its `Stmt::Coupled` in the same block) kept, rather than running them again:
    /// coupled state carrying arrays saving rows for a sweep of its own, without checkpoints,
    /// run at the top level of the forward loop's body, of the sweep's, and of a recomputed
    /// stretch's (so once per iteration in each). A person writing the adjoint of a time loop
    /// around a layer loop keeps each step's layers' state in the forward pass and recomputes
    /// the gates once, in the reverse (ADBench's LSTM); running the layer loop forward again
    /// in the sweep, to save rows that its own sweep then reads, computes them a third time.
    fn nest(forward: &mut Stmt, reverse: &mut Stmt, g: &crate::graph::Graph) {
        let (
            Stmt::Coupled {
                node,
                body: outer,
                nested: kept,
                ..
            },
            Stmt::Reverse {
                group,
                body,
                recompute,
                nested,
                ..
            },
        ) = (forward, reverse)
        else {
            return;
        };
        let sweeps = matches!(*g.op(group[0]), Op::RevCoupled { fold, .. } if fold == *node);
        if !sweeps || !g.carries_arrays(*node) {
            return;
        }
        // (A sweep run always, with its forward loop in its block, runs it once too.)
        let top = |b: &Block| -> Vec<NodeId> {
            fn always<'b>(g: &crate::graph::Graph, s: &'b Stmt) -> Option<&'b [Stmt]> {
                match s {
                    Stmt::Guarded { group, reads, .. } if sweep_runs_always(g, group[0]) => {
                        Some(&reads.stmts[..])
                    }
                    _ => None,
                }
            }
            b.stmts
                .iter()
                .chain(b.stmts.iter().filter_map(|s| always(g, s)).flatten())
                .filter_map(|s| match s {
                    Stmt::Coupled {
                        node,
                        checkpoint: None,
                        saved,
                        ..
                    } if !saved.is_empty() && g.carries_arrays(*node) => Some(*node),
                    _ => None,
                })
                .collect()
        };
        let mut both: Vec<NodeId> = top(outer);
        let (in_sweep, redone) = (top(body), recompute.as_ref().map(|r| top(&r.1)));
        both.retain(|x| in_sweep.contains(x) && redone.as_ref().is_none_or(|r| r.contains(x)));
        // Run once per iteration in each: kept or read back exactly once (a copy of the loop
        // in a branch, say, would read a second iteration's part of the tables, or none).
        let once = |b: &Block, x: NodeId| b.count_coupled(x) == 1;
        both.retain(|x| {
            once(outer, *x) && once(body, *x) && recompute.as_ref().is_none_or(|r| once(&r.1, *x))
        });
        kept.clone_from(&both);
        *nested = both;
    }

    /// A reverse sweep and the sums in its loop, with its recurrence's forward loop, run only
    /// where its seed is not zero.
    fn guarded(&self, group: &[NodeId], defined: &HashSet<NodeId>, in_loop: bool) -> Stmt {
        let g = self.s.g;
        let (Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. }) = *g.op(group[0]) else {
            return Stmt::Internal("not a reverse sweep");
        };
        let (Op::Fold { lo, hi, .. } | Op::Coupled { lo, hi, .. }) = *g.op(fold) else {
            return Stmt::Internal("not a recurrence");
        };
        let mut reads = vec![lo, hi];
        for n in group {
            reads.extend(self.s.sweep_reads(*n));
        }
        let mut inner = defined.clone();
        // In a loop's body, the vectors of the block are given back at its end.
        let reads = if in_loop {
            self.loop_body(&reads, &mut inner)
        } else {
            self.region(&reads, &mut inner)
        };
        let mut reads = reads;
        let mut sweep = self.reverse(group, &inner, None);
        Self::nest_in(&mut reads.stmts, &mut sweep, g);
        Stmt::Guarded {
            group: group.to_vec(),
            reads,
            sweep: Box::new(sweep),
        }
    }

    /// A local array, computed once.
    fn table(&self, n: NodeId, defined: &HashSet<NodeId>, pool: Option<&mut LoopEnd>) -> Stmt {
        let Op::Table { v, body, .. } = *self.s.g.op(n) else {
            return Stmt::Internal("not a local array");
        };
        let constant = self.s.g.constant_fill(n).is_some();
        let fixed = self.s.fixed_len(n);
        if constant {
            let storage = match fixed {
                Some(len) => Storage::Stack(len),
                None => self.vector(Vector::Array(n), pool),
            };
            return Stmt::Table {
                node: n,
                storage,
                body: None,
            };
        }
        let mut inner = self.s.visible_in_loop(v, defined);
        let body = self.loop_body(&[body], &mut inner);
        let storage = match fixed {
            Some(len) => Storage::Stack(len),
            None => self.vector(Vector::Array(n), pool),
        };
        Stmt::Table {
            node: n,
            storage,
            body: Some(body),
        }
    }

    /// Local arrays over one loop and bounds (`group`, see `Schedule::plan`), filled by one
    /// loop: each a vector (reused by the iterations of a loop around where `pool` is given).
    fn tables(
        &self,
        group: &[NodeId],
        defined: &HashSet<NodeId>,
        mut pool: Option<&mut LoopEnd>,
    ) -> Stmt {
        let Op::Table { v, .. } = *self.s.g.op(group[0]) else {
            return Stmt::Internal("not a local array");
        };
        let mut bodies = Vec::new();
        for n in group {
            let Op::Table { body, .. } = *self.s.g.op(*n) else {
                return Stmt::Internal("not a local array");
            };
            bodies.push(body);
        }
        let mut inner = self.s.visible_in_loop(v, defined);
        let body = self.loop_body(&bodies, &mut inner);
        let group = group
            .iter()
            .map(|n| (*n, self.vector(Vector::Array(*n), pool.as_deref_mut())))
            .collect();
        Stmt::Tables { group, body }
    }

    /// A vector added into: on the stack when short, else a vector (reused in a loop).
    fn alloc(&self, n: NodeId, defined: &HashSet<NodeId>, pool: Option<&mut LoopEnd>) -> Stmt {
        let Op::Alloc { buf, like, .. } = *self.s.g.op(n) else {
            return Stmt::Internal("not a vector");
        };
        let storage = match self.s.fixed_len(like) {
            Some(len) => Storage::Stack(len),
            None => self.vector(Vector::Buffer(buf), pool),
        };
        Stmt::Alloc {
            node: n,
            storage,
            by_bounds: self.s.zero_sized_by_bounds(n).is_some() && !defined.contains(&like),
        }
    }

    /// The loop that finds where a `break` stops.
    fn until(&self, n: NodeId, defined: &HashSet<NodeId>) -> Stmt {
        let Op::Until { v, cond, .. } = *self.s.g.op(n) else {
            return Stmt::Internal("not a loop's end");
        };
        let mut inner = self.s.visible_in_loop(v, defined);
        Stmt::Until {
            node: n,
            body: self.loop_body(&[cond], &mut inner),
        }
    }

    /// The statement binding node `n` (none for what is bound by another's statement).
    fn binding(&self, n: NodeId, defined: &HashSet<NodeId>) -> Option<Stmt> {
        let g = self.s.g;
        Some(match g.op(n) {
            Op::Select(_, a, b) if g.is_effect(n) => Stmt::Effect {
                node: n,
                then: self.region(&[*a], &mut defined.clone()),
                other: self.region(&[*b], &mut defined.clone()),
            },
            Op::Select(_, a, b) => Stmt::Select {
                node: n,
                then: self.region(&[*a], &mut defined.clone()),
                other: self.region(&[*b], &mut defined.clone()),
            },
            // Short-circuiting: what the right operand needs is computed only when it is read.
            Op::And(_, b) | Op::Or(_, b) => Stmt::Logic {
                node: n,
                right: self.region(&[*b], &mut defined.clone()),
            },
            Op::Call(..) if self.s.differentiated_calls.contains(&n) => {
                let companion = if self.s.second_order_calls.contains(&n) {
                    Companion::Second
                } else if self.s.array_calls.contains(&n) {
                    Companion::Jacobian
                } else {
                    Companion::Partials
                };
                Stmt::Partials(n, companion)
            }
            Op::Sum { .. } => self.sums(&[n], defined),
            Op::Fold { .. } => self.fold(n, defined, None),
            Op::Scanned { .. } | Op::CoupledScan { .. } => self.scan(n, defined),
            Op::Coupled { .. } => self.coupled(n, defined, None),
            Op::RevFold { .. } | Op::RevCoupled { .. } => self.reverse(&[n], defined, None),
            Op::Until { .. } => self.until(n, defined),
            Op::Table { .. } => self.table(n, defined, None),
            Op::Alloc { .. } => self.alloc(n, defined, None),
            Op::Accumulate { .. } | Op::Scatter(..) => Stmt::Add(n),
            // Its two effects are bound on their own; a vector once added into is read by its
            // name.
            Op::Effects(..) | Op::Filled { .. } => return None,
            Op::CallJvp(..) => Stmt::Partials(n, Companion::Hvp),
            Op::CallVjp(..) | Op::ArrayVjp { .. } | Op::CallHvp(..) | Op::VjpRows { .. } => {
                Stmt::Vjp(n)
            }
            Op::Rebound { effect, .. } => Stmt::Rebound {
                node: n,
                body: self.region(&[*effect], &mut defined.clone()),
            },
            _ => Stmt::Let(n),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use quote::quote;

    use super::{Block, Saved, Stmt};
    use crate::attr::Args;
    use crate::schedule::Schedule;
    use crate::testing::lower_fn;

    /// The tree of a function's value and gradient (scalar parameters and the slices numbered
    /// `slices` differentiated), in a compact text form: `for[accumulators]{…}` a loop of sums,
    /// `+=` an addition, `sum+=` one summed in a local, `array(storage){…}`, `fold(saved){…}`,
    /// `reverse{…}`, `guarded{…}`, `let`; `|` before a block's scatters, `^` before the vectors
    /// it gives back. Then the pools.
    fn outline(func: proc_macro2::TokenStream, slices: &[u32]) -> String {
        let l = lower_fn(func, &Args::default());
        let mut g = l.graph.clone();
        let (grads, effects) =
            crate::diff::gradient_with_slices(&mut g, l.output, &l.inputs, slices)
                .expect("internal error: the test function differentiates");
        let mut roots = vec![l.output];
        roots.extend(grads);
        roots.extend(effects.into_iter().flatten());
        let tree = Schedule::of(&g, &roots).tree(&roots);
        let mut out = block(&tree.body);
        if !tree.pools.is_empty() {
            let _ = write!(out, " pools{:?}", tree.pools);
        }
        out
    }

    fn block(b: &Block) -> String {
        let mut parts: Vec<String> = b.stmts.iter().map(stmt).collect();
        if !b.scatters.is_empty() {
            parts.push(format!(
                "| {}",
                b.scatters.iter().map(stmt).collect::<Vec<_>>().join(" ")
            ));
        }
        if !b.give_back.is_empty() {
            parts.push(format!("^{:?}", b.give_back));
        }
        parts.join(" ")
    }

    fn stmt(s: &Stmt) -> String {
        match s {
            Stmt::Let(_) => "let".into(),
            Stmt::Add(_) => "+=".into(),
            Stmt::AddToSum(_) => "sum+=".into(),
            Stmt::Effect { then, other, .. } => {
                format!("if{{{}}}else{{{}}}", block(then), block(other))
            }
            Stmt::Select { then, other, .. } => {
                format!("let-if{{{}}}else{{{}}}", block(then), block(other))
            }
            Stmt::Logic { right, .. } => format!("let-and{{{}}}", block(right)),
            Stmt::Partials(_, c) => format!("partials({c:?})"),
            Stmt::Vjp(_) => "vjp".into(),
            Stmt::Rebound { body, .. } => format!("rebound{{{}}}", block(body)),
            Stmt::Sums {
                accumulators,
                summed,
                body,
                ..
            } => format!(
                "for[{}{}]{{{}}}",
                accumulators.len(),
                if summed.is_empty() {
                    String::new()
                } else {
                    format!(" summed {}", summed.len())
                },
                block(body)
            ),
            Stmt::Exit { test, body, .. } => {
                format!("for-break{{{}|{}}}", block(test), block(body))
            }
            Stmt::Fold { body, saved, .. } => {
                let saved = match saved {
                    Saved::Nothing => "nothing".to_string(),
                    Saved::LastKill(..) => "last kill".to_string(),
                    Saved::Every(s) => format!("every {s:?}"),
                    Saved::Checkpoints(k, s) => format!("every {k}th {s:?}"),
                };
                format!("fold({saved}){{{}}}", block(body))
            }
            Stmt::Scan { body, .. } => format!("scan{{{}}}", block(body)),
            Stmt::Coupled { body, saved, .. } => format!("coupled({saved:?}){{{}}}", block(body)),
            Stmt::Reverse {
                body,
                last_kill,
                recompute,
                ..
            } => format!(
                "reverse{}{}{{{}}}",
                if *last_kill { "(last kill)" } else { "" },
                recompute
                    .as_ref()
                    .map_or(String::new(), |(k, b, _)| format!(
                        "(recompute {k}: {{{}}})",
                        block(b)
                    )),
                block(body)
            ),
            Stmt::Guarded { reads, sweep, .. } => {
                format!("guarded{{{} {}}}", block(reads), stmt(sweep))
            }
            Stmt::Table { storage, body, .. } => format!(
                "array({storage:?}){}",
                body.as_ref()
                    .map_or(String::new(), |b| format!("{{{}}}", block(b)))
            ),
            Stmt::Tables { group, body } => format!(
                "arrays({:?}){{{}}}",
                group.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
                block(body)
            ),
            Stmt::Alloc { storage, .. } => format!("vector({storage:?})"),
            Stmt::Until { body, .. } => format!("until{{{}}}", block(body)),
            Stmt::Internal(what) => format!("INTERNAL({what})"),
        }
    }

    /// Each of two loops runs its sum and its derivative's sum together: two `for`s of two
    /// accumulators, not four loops.
    #[test]
    fn sums_over_one_loop_run_in_one_for() {
        let t = outline(
            quote! {
                fn f(w: f64, x: &[f64]) -> f64 {
                    x.iter().map(|xi| (w * xi).sin()).sum::<f64>()
                        * x.iter().map(|xi| (w * xi).cos()).sum::<f64>()
                }
            },
            &[],
        );
        assert_eq!(t.matches("for[").count(), 2, "{t}");
        assert_eq!(t.matches("for[2]").count(), 2, "{t}");
    }

    /// A buffer built in each iteration of a loop over points reuses one allocation: bound in
    /// the loop's body, given back at its end, its pool declared once for the kernel.
    #[test]
    fn a_buffer_per_iteration_is_pooled() {
        let t = outline(
            quote! {
                fn f(w: &[f64], xs: &[f64], k: usize) -> f64 {
                    let mut total = 0.0;
                    for i in 0..xs.len() {
                        let mut z = vec![0.0; k];
                        for c in 0..k {
                            z[c] = w[c] * xs[i];
                        }
                        for c in 0..k {
                            total += z[c].exp();
                        }
                    }
                    total
                }
            },
            &[0],
        );
        assert!(t.contains("array(Pooled)"), "{t}");
        assert!(t.contains("^[Array("), "{t}");
        assert!(t.ends_with(']') && t.contains(" pools[Array("), "{t}");
    }

    /// A small array of constant length lives on the stack, neither allocated nor pooled.
    #[test]
    fn a_short_constant_array_is_on_the_stack() {
        let t = outline(
            quote! {
                fn f(w: &[f64], xs: &[f64]) -> f64 {
                    let mut total = 0.0;
                    for i in 0..xs.len() {
                        let mut p = [0.0; 3];
                        for c in 0..3 {
                            p[c] = w[c] * xs[i];
                        }
                        total += p[0] * p[1] + p[2];
                    }
                    total
                }
            },
            &[0],
        );
        assert!(t.contains("array(Stack(3))"), "{t}");
        assert!(!t.contains("Pooled") && !t.contains("pools"), "{t}");
    }

    /// An addition at an index its loop does not change is summed in a local and added once
    /// after the loop; one at the loop's own index is not.
    #[test]
    fn an_addition_at_an_index_the_loop_keeps_is_summed_in_a_local() {
        let t = outline(
            quote! {
                fn f(w: &[f64], k: usize) -> f64 {
                    let n = w.len();
                    let mut z = vec![0.0; n];
                    for i in 0..n {
                        for j in 0..n {
                            z[i] += w[i] * w[j];
                        }
                    }
                    let mut s = 0.0;
                    for i in 0..n {
                        s += z[i].sin();
                    }
                    s + k as f64
                }
            },
            &[0],
        );
        assert!(t.contains("sum+="), "{t}");
        assert!(t.contains("summed 1"), "{t}");
    }

    /// A product saves every iteration's value for its reverse sweep; a running max saves only
    /// the last iteration that replaces the maximum, and its sweep is that one iteration.
    #[test]
    fn a_recurrence_saves_what_its_reverse_sweep_reads() {
        let product = outline(
            quote! {
                fn f(x: &[f64]) -> f64 {
                    let mut p = 1.0;
                    for i in 0..x.len() { p *= x[i]; }
                    p
                }
            },
            &[0],
        );
        assert!(product.contains("fold(every Fresh)"), "{product}");
        assert!(product.contains("reverse{"), "{product}");
        let max = outline(
            quote! {
                fn f(x: &[f64]) -> f64 {
                    let mut m = f64::NEG_INFINITY;
                    for i in 0..x.len() { m = m.max(x[i]); }
                    m
                }
            },
            &[0],
        );
        assert!(max.contains("fold(last kill)"), "{max}");
        assert!(max.contains("reverse(last kill)"), "{max}");
    }

    /// The body of the first reverse sweep at the top of `b` (or in a guarded block there).
    fn sweep_body(b: &mut Block) -> Option<&mut Block> {
        b.stmts.iter_mut().find_map(|s| match s {
            Stmt::Reverse { body, .. } => Some(body),
            Stmt::Guarded { sweep, .. } => match &mut **sweep {
                Stmt::Reverse { body, .. } => Some(body),
                _ => None,
            },
            _ => None,
        })
    }

    /// The tree builder's check that no forward loop binds a recurrence's state inside that
    /// recurrence's reverse sweep (over the state the sweep reads): false on the tree the
    /// scheduler builds, true once its forward loop is moved into the sweep's body, false
    /// again once that loop saves nothing (then the emitter binds its state in a block).
    #[test]
    fn a_forward_loop_inside_its_own_sweep_is_found() {
        let l = lower_fn(
            quote! {
                fn f(x: &[f64]) -> f64 {
                    let mut p = 1.0;
                    for i in 0..x.len() { p *= x[i]; }
                    p
                }
            },
            &Args::default(),
        );
        let mut g = l.graph.clone();
        let (grads, effects) = crate::diff::gradient_with_slices(&mut g, l.output, &l.inputs, &[0])
            .expect("internal error: the test function differentiates");
        let mut roots = vec![l.output];
        roots.extend(grads);
        roots.extend(effects.into_iter().flatten());
        let mut tree = Schedule::of(&g, &roots).tree(&roots).body;
        assert!(!tree.forward_loop_in_own_sweep(&g, &mut Vec::new()));
        let at = tree
            .stmts
            .iter()
            .position(|s| matches!(s, Stmt::Fold { .. }));
        let mut fold = tree.stmts.remove(at.expect("the forward loop at the top"));
        let text = block(&tree);
        let body = sweep_body(&mut tree).unwrap_or_else(|| panic!("no sweep in {text}"));
        if let Stmt::Fold { saved, .. } = &mut fold {
            assert!(
                matches!(saved, Saved::Every(_)),
                "the product saves its values"
            );
        }
        body.stmts.insert(0, fold);
        assert!(tree.forward_loop_in_own_sweep(&g, &mut Vec::new()));
        let body = sweep_body(&mut tree).expect("the sweep is still there");
        if let Stmt::Fold { saved, .. } = &mut body.stmts[0] {
            *saved = Saved::Nothing;
        }
        assert!(!tree.forward_loop_in_own_sweep(&g, &mut Vec::new()));
    }

    /// A recurrence after an early `return`: the sweep, with its forward loop, in a guarded
    /// block.
    #[test]
    fn a_recurrence_after_a_return_is_swept_in_a_guarded_block() {
        let t = outline(
            quote! {
                fn f(x: &[f64], n: usize) -> f64 {
                    if n > x.len() { return x[0]; }
                    let mut p = 1.0;
                    for i in 0..2 { p *= x[n - 1 - i]; }
                    p
                }
            },
            &[0],
        );
        let guarded = t.find("guarded{").map(|at| &t[at..]);
        assert!(
            guarded.is_some_and(|g| g.contains("fold(every Fresh)") && g.contains("reverse{")),
            "{t}"
        );
        // The value computes the product in the branch that reads it, the sweep its own.
        assert!(t.starts_with("let let-if{}else{fold("), "{t}");
        assert_eq!(t.matches("fold(").count(), 2, "{t}");
    }

    /// With `checkpoint = K`, a product saves every Kth value, and its reverse sweep runs the
    /// forward body again, a stretch at a time.
    #[test]
    fn a_checkpointed_recurrence_saves_every_kth_value_and_recomputes() {
        let l = lower_fn(
            quote! {
                fn f(x: &[f64]) -> f64 {
                    let mut p = 1.0;
                    for i in 0..x.len() { p *= x[i].sin(); }
                    p
                }
            },
            &Args::default(),
        );
        let mut g = l.graph.clone();
        g.checkpoint = Some(8);
        let (_, effects) = crate::diff::gradient_with_slices(&mut g, l.output, &[], &[0])
            .expect("internal error: the test function differentiates");
        let mut roots = vec![l.output];
        roots.extend(effects.into_iter().flatten());
        let t = block(&Schedule::of(&g, &roots).tree(&roots).body);
        assert!(t.contains("fold(every 8th Fresh)"), "{t}");
        assert!(t.contains("reverse(recompute 8: {let let})"), "{t}");
    }

    /// With `checkpoint = K`, a recurrence in a loop written inside a checkpointed recurrence's
    /// loop saves every value (it lives for one outer iteration), the outer one every `K`th; a
    /// recurrence per row of a plain loop over rows keeps its checkpoints.
    #[test]
    fn a_recurrence_inside_a_checkpointed_one_saves_every_value() {
        let tree = |f: proc_macro2::TokenStream| {
            let l = lower_fn(f, &Args::default());
            let mut g = l.graph.clone();
            g.checkpoint = Some(8);
            let (_, effects) = crate::diff::gradient_with_slices(&mut g, l.output, &[], &[0])
                .expect("internal error: the test function differentiates");
            let mut roots = vec![l.output];
            roots.extend(effects.into_iter().flatten());
            block(&Schedule::of(&g, &roots).tree(&roots).body)
        };
        let nested = tree(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 1.0;
                for t in 0..x.len() {
                    let mut q = 1.0;
                    for l in 0..3 { q *= (s * x[t] + l as f64).sin(); }
                    s = s * 0.5 + q;
                }
                s
            }
        });
        assert_eq!(nested.matches("every 8th").count(), 1, "{nested}");
        assert_eq!(nested.matches("(recompute 8:").count(), 1, "{nested}");
        assert!(nested.contains("fold(every Pooled)"), "{nested}");
        let rows = tree(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut total = 0.0;
                for r in 0..x.len() {
                    let mut p = 1.0;
                    for j in 0..3 { p *= (x[r] + j as f64).sin(); }
                    total += p;
                }
                total
            }
        });
        assert!(rows.contains("every 8th"), "{rows}");
        assert!(rows.contains("(recompute 8:"), "{rows}");
    }

    /// The tree as pseudo-code (`formula::statements`): the sum of squares over data and its
    /// gradient in one loop, the accumulators named after their sums.
    #[test]
    fn the_tree_prints_as_pseudo_code() {
        let l = lower_fn(
            quote! {
                fn f(w: f64, x: &[f64], y: &[f64]) -> f64 {
                    let mut s = 0.0;
                    for i in 0..x.len() { s += (w * x[i] - y[i]).powi(2); }
                    s
                }
            },
            &Args::default(),
        );
        let mut g = l.graph.clone();
        let (grads, _) = crate::diff::gradient_with_slices(&mut g, l.output, &l.inputs, &[])
            .expect("internal error: the test function differentiates");
        let mut roots = vec![l.output];
        roots.extend(grads);
        let s = Schedule::of(&g, &roots);
        let text = crate::formula::statements(&g, &s, &s.tree(&roots), "f64");
        println!("{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("for i0 in 0..x.len() {"), "{text}");
        assert!(
            lines
                .iter()
                .filter(|l| l.trim_start().starts_with("acc"))
                .count()
                == 2,
            "{text}"
        );
        assert!(
            lines.last().is_some_and(|l| l.starts_with("let t")),
            "{text}"
        );
    }

    /// Coupled recurrences save the members their reverse sweep reads.
    #[test]
    fn coupled_state_saves_its_members_for_the_sweep() {
        let t = outline(
            quote! {
                fn f(w: f64, n: usize) -> f64 {
                    let mut a = 1.0;
                    let mut b = 0.5;
                    for _ in 0..n {
                        let t = a + b;
                        a = b;
                        b = t * w;
                    }
                    b
                }
            },
            &[],
        );
        assert!(t.contains("coupled(["), "{t}");
        assert!(!t.contains("coupled([])"), "the sweep reads the state: {t}");
        assert!(t.contains("reverse{"), "{t}");
    }

    /// Two local arrays filled over one loop, their elements sharing a subexpression: one
    /// `for` fills both; an array another loop fills from them gets a loop of its own.
    #[test]
    fn arrays_over_one_loop_fill_in_one_for() {
        let t = outline(
            quote! {
                fn f(w: &[f64], n: usize) -> f64 {
                    let mut a = vec![0.0; n];
                    let mut b = vec![0.0; n];
                    for i in 0..n {
                        let e = (w[i] * w[i]).exp();
                        a[i] = e.sin();
                        b[i] = e.cos();
                    }
                    let mut c = vec![0.0; n];
                    for i in 0..n {
                        c[i] = a[n - 1 - i] * 2.0;
                    }
                    let mut s = 0.0;
                    for i in 0..n {
                        s += a[i] * b[i] + c[i];
                    }
                    s
                }
            },
            &[0],
        );
        assert_eq!(t.matches("arrays([").count(), 1, "{t}");
        assert!(t.contains("arrays([Fresh, Fresh])"), "{t}");
        assert!(t.contains("array(Fresh){"), "the array reading `a`: {t}");
        // `b` reads `a` where the loop wrote it: the value, not the array (the two still fill
        // in one loop).
        let t = outline(
            quote! {
                fn f(w: &[f64], n: usize) -> f64 {
                    let mut a = vec![0.0; n];
                    let mut b = vec![0.0; n];
                    for i in 0..n {
                        a[i] = (w[i] * w[i]).exp();
                        b[i] = a[i] * w[i];
                    }
                    let mut s = 0.0;
                    for i in 0..n {
                        s += a[i] * b[i];
                    }
                    s
                }
            },
            &[0],
        );
        assert!(t.starts_with("arrays([Fresh, Fresh])"), "{t}");
    }

    /// A vector added into, built in the loop's body: pooled, given back at the end of each
    /// iteration, and its additions placed after it.
    #[test]
    fn an_adjoint_vector_in_a_loop_is_pooled() {
        let t = outline(
            quote! {
                fn f(w: &[f64], xs: &[f64]) -> f64 {
                    let k = w.len();
                    let mut total = 0.0;
                    for i in 0..xs.len() {
                        let mut z = vec![0.0; k];
                        for c in 0..k {
                            z[c] = (w[c] * xs[i]).sin();
                        }
                        let mut s = 0.0;
                        for c in 0..k {
                            s += z[c] * z[c];
                        }
                        total += s.ln();
                    }
                    total
                }
            },
            &[0],
        );
        assert!(t.contains("vector(Pooled)"), "{t}");
        assert!(t.contains("Buffer("), "{t}");
    }
}
