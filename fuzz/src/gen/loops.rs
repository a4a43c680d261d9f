//! Loop nests 1–3 deep and the variables they carry: sums, products, linear and `tanh`
//! recurrences, running `max`/`min`, `if e > m { m = e; }`; accumulators declared per outer
//! iteration for an inner loop (`let mut q = 0.0; for j .. { q += .. } s += q.exp();`);
//! updates under `if`. A loop runs over a range or, sometimes, an iterator (`chains.rs`: `for &v
//! in x`, `for (i, v) in x.iter().enumerate()`, `for r in x.windows(2)`, `for i in
//! (0..n).rev()`, ...) or, written as a `while` or `loop` on a counter, over a range; a nest or
//! an inner loop sometimes runs under an `if`; a body sometimes binds a closure or an array
//! pattern, steps counters, and has `if c { ..; continue; }` or `if c { ..; break; }` among its
//! statements (`flow.rs`). Inside such a loop, a carried variable is read only by its own
//! update, and every index is in bounds by the ranges of the enclosing loops and the bounds of
//! the counters. Coupled state (`coupled_block`, weight `loop_coupled`) is the exception: 2–3
//! variables one loop updates together, each reading another.

use super::Gen;
use super::arrays::Arr;
use super::flow::{Flow, Form};
use super::scope::{LocalKind, LoopVar};
use crate::ast::{
    ArrayInit, AssignOp, BinOp, CmpOp, Cond, Dim, Expr, Extent, IntExpr, Method, Range, Stmt,
};

/// How a carried variable is updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sum,
    Product,
    Linear,
    Tanh,
    Max,
    Min,
    IfMax,
}

/// A variable a loop nest updates.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) name: String,
    kind: Kind,
    /// Starts at `±∞`: every loop on its way runs at least once and updates it unconditionally,
    /// so no infinity reaches the result.
    pub(super) infinite: bool,
}

impl Target {
    /// A sum (`s += e`, `s -= e`), not a recurrence.
    pub(super) fn is_sum(&self) -> bool {
        self.kind == Kind::Sum
    }
}

impl Gen<'_> {
    /// `let mut s = 0.0; [let mut h = ...;] for ... { ... }`: one or two carried variables and
    /// a loop nest 1–3 deep that updates them.
    pub(super) fn loop_block(&mut self) -> Vec<Stmt> {
        let w = self.w;
        if w.loop_coupled > 0 && self.k.below(10) < w.loop_coupled as usize {
            return self.coupled_block();
        }
        let depth = 1 + self.rng.weighted(&[w.depth1, w.depth2, w.depth3]);
        let count = if self.rng.chance(0.3) { 2 } else { 1 };
        let mut out = Vec::new();
        let mut targets = Vec::new();
        for _ in 0..count {
            let (stmt, t) = self.declare_target();
            out.push(stmt);
            targets.push(t);
        }
        let guard = self.loop_guard(&targets);
        let (decls, nest) = self.for_loop(depth, &targets);
        let counters: Vec<String> = decls
            .iter()
            .filter_map(|s| match s {
                Stmt::LetInt { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        out.extend(decls);
        out.push(guarded(guard, nest));
        for t in &targets {
            self.results.push(t.name.clone());
        }
        // Sometimes a counter read after the loop.
        for c in counters {
            if self.c.chance(0.5)
                && let Some(e) = self.counter_read(&c)
            {
                let name = self.fresh("t");
                out.push(self.let_stmt(&name, false, e));
                self.results.push(name);
            }
        }
        out
    }

    /// The condition a loop runs under, sometimes (never for a target starting at `±∞`: a loop
    /// that does not run would leave it there).
    fn loop_guard(&mut self, targets: &[Target]) -> Option<Cond> {
        if targets.iter().any(|t| t.infinite) || !self.x_tenth(self.w.loop_guarded) {
            return None;
        }
        // The condition does not read the targets (declared just before, for the loop).
        for t in targets {
            self.scope.set_carried(&t.name, true);
        }
        let cond = if self.rng.chance(0.5) {
            self.size_cond()
        } else {
            self.cond()
        };
        for t in targets {
            self.scope.set_carried(&t.name, false);
        }
        Some(cond)
    }

    /// `let mut <name> = <init>;` for a carried variable of a random kind.
    pub(super) fn declare_target(&mut self) -> (Stmt, Target) {
        let w = self.w;
        let weights = [
            w.kind_sum,
            w.kind_product,
            w.kind_linear,
            w.kind_tanh,
            w.kind_minmax,
            w.kind_ifmax,
        ];
        let kind = match self.rng.weighted(&weights) {
            0 => Kind::Sum,
            1 => Kind::Product,
            2 => Kind::Linear,
            3 => Kind::Tanh,
            4 if self.rng.chance(0.5) => Kind::Max,
            4 => Kind::Min,
            _ => Kind::IfMax,
        };
        let (prefix, init) = match kind {
            Kind::Sum if self.rng.chance(0.8) => ("s", Expr::Lit(0.0)),
            Kind::Sum => ("s", self.expr(1)),
            Kind::Product => ("p", Expr::Lit(1.0)),
            Kind::Linear | Kind::Tanh if self.rng.chance(0.6) => ("h", Expr::Lit(0.0)),
            Kind::Linear | Kind::Tanh => ("h", self.expr(1)),
            Kind::Max | Kind::IfMax if self.rng.chance(0.5) => ("m", Expr::NegInf),
            Kind::Min if self.rng.chance(0.5) => ("m", Expr::negate(Expr::NegInf)),
            Kind::Max | Kind::Min | Kind::IfMax => ("m", self.typed_leaf()),
        };
        let infinite =
            matches!(&init, Expr::NegInf) || matches!(&init, Expr::Neg(e) if **e == Expr::NegInf);
        let name = self.fresh(prefix);
        let stmt = self.let_stmt(&name, true, init);
        (
            stmt,
            Target {
                name,
                kind,
                infinite,
            },
        )
    }

    /// A loop over a random range or iterator whose body updates `targets` (carried:
    /// unreadable inside but by their own updates), and the `let`s of the counters it steps
    /// (`flow.rs`), which go before it.
    fn for_loop(&mut self, depth: usize, targets: &[Target]) -> (Vec<Stmt>, Stmt) {
        for t in targets {
            self.scope.set_carried(&t.name, true);
        }
        let recurrence = usize::from(targets.iter().any(|t| !t.is_sum()));
        self.recurrence += recurrence;
        // An iterator may run no item: not for a target starting at `±∞`.
        let finite = !targets.iter().any(|t| t.infinite);
        let mut decls = Vec::new();
        let stmt = if finite && self.x_tenth(self.w.loop_iter) {
            let b = self.loop_chain();
            let mut flow = self.flow(targets, Form::For);
            decls.extend(self.counters(&mut flow, &b.count));
            let (mark, loops) = (self.scope.locals.len(), self.scope.loops.len());
            let pat = self.bind(&b.item, "e", Some(0.6));
            let body = self.loop_body(depth - 1, targets, &mut flow);
            self.scope.truncate(mark);
            self.scope.loops.truncate(loops);
            self.after_loop(&flow);
            Stmt::ForIter {
                pat,
                chain: b.chain,
                body,
            }
        } else {
            let (range, lv) = self.range_for(targets);
            let form = self.form(finite, &range);
            let mut flow = self.flow(targets, form);
            let trip = LoopVar {
                lo: 0,
                slack: lv.slack + lv.lo,
                ..lv.clone()
            };
            if form == Form::For {
                decls.extend(self.counters(&mut flow, &trip));
                let found = self.found_int(&mut flow, &lv, &mut decls);
                let var = lv.name.clone();
                let dim = lv.dim;
                self.scope.loops.push(lv);
                let mark = self.scope.locals.len();
                let body = self.loop_body(depth - 1, targets, &mut flow);
                self.scope.truncate(mark);
                self.scope.loops.pop();
                self.after_loop(&flow);
                if let Some(name) = found {
                    self.declare_found(&name, dim);
                }
                Stmt::For { var, range, body }
            } else {
                let (decl, cond) = self.counted(&range, &lv, form, &mut flow);
                decls.push(decl);
                decls.extend(self.counters(&mut flow, &trip));
                let mark = self.scope.locals.len();
                let body = self.loop_body(depth - 1, targets, &mut flow);
                self.scope.truncate(mark);
                self.after_loop(&flow);
                match cond {
                    Some(cond) => Stmt::While { cond, body },
                    None => Stmt::Loop(body),
                }
            }
        };
        for t in targets {
            self.scope.set_carried(&t.name, false);
            self.scope.set_typed(&t.name);
        }
        self.recurrence -= recurrence;
        (decls, stmt)
    }

    /// A range for a loop updating `targets`: one that runs at least once when a target starts
    /// at `±∞`.
    fn range_for(&mut self, targets: &[Target]) -> (Range, LoopVar) {
        let mut picked = self.pick_range();
        if !targets.iter().any(|t| t.infinite) {
            return picked;
        }
        for _ in 0..20 {
            if self.never_empty(&picked.0) {
                return picked;
            }
            picked = self.pick_range();
        }
        let dim = self.scope.dims()[0];
        self.plain_range(picked.1.name, dim)
    }

    /// A body: loop-local `let`s, then inner loops (with per-iteration accumulators) or the
    /// updates of the carried variables; between them, what `flow` places (counters' steps,
    /// `continue`s, a `break`, a `loop`'s exit last).
    fn loop_body(&mut self, inner: usize, targets: &[Target], flow: &mut Flow) -> Vec<Stmt> {
        self.nesting += 1;
        let body = self.loop_stmts(inner, targets, flow);
        self.nesting -= 1;
        body
    }

    fn loop_stmts(&mut self, inner: usize, targets: &[Target], flow: &mut Flow) -> Vec<Stmt> {
        let mut body = Vec::new();
        self.flow_point(&mut body, flow);
        let mut lets = 0;
        while self.tenth(self.w.loop_let) && lets < 2 {
            lets += 1;
            let name = self.fresh("t");
            let e = self.expr(2);
            body.push(self.let_stmt(&name, false, e));
            self.flow_point(&mut body, flow);
        }
        if self.x.below(20) < self.w.loop_closure as usize {
            // The closure, and a first call of it the body reads.
            body.push(self.closure_stmt(false, None));
            let name = self.fresh("t");
            let e = self.closure_call(2);
            let kind = LocalKind::Float {
                by_ref: false,
                item: true,
            };
            self.scope.declare_kind(&name, kind, true);
            body.push(Stmt::Let {
                name,
                mutable: false,
                value: e,
            });
        }
        if self.x_tenth(self.w.block_array)
            && let Some(p) = self.array_pattern()
        {
            body.push(p);
        }
        if self.a_twentieth(self.w.local_array_loop)
            && (self.recurrence == 0 || self.w.local_array_in_recurrence > 0)
        {
            body.extend(self.loop_local_array());
        }
        if (self.recurrence == 0 || self.w.local_array_in_recurrence > 0) && self.scan_chance() {
            body.extend(self.loop_array_scan());
        }
        if self.loop_push_chance() {
            body.extend(self.loop_push_buffer());
        }
        self.flow_point(&mut body, flow);
        if inner == 0 {
            for t in targets {
                body.push(self.guarded_update(t));
                if t.kind == Kind::Sum && self.rng.chance(0.2) {
                    body.push(self.guarded_update(t));
                }
                self.flow_point(&mut body, flow);
            }
        } else {
            self.nest(inner, targets, &mut body, flow);
        }
        self.flow_end(&mut body, flow);
        body
    }

    /// The inner loop(s) of a body and the updates after them.
    fn nest(&mut self, inner: usize, targets: &[Target], body: &mut Vec<Stmt>, flow: &mut Flow) {
        let mut down: Vec<Target> = Vec::new();
        let mut here: Vec<Target> = Vec::new();
        for t in targets {
            if self.tenth(self.w.pass_down) {
                down.push(t.clone());
            } else {
                here.push(t.clone());
            }
        }
        let mut rows = Vec::new();
        if self.tenth(self.w.row_local) || down.is_empty() {
            let (stmt, t) = self.declare_target();
            body.push(stmt);
            rows.push(t);
        }
        let mut inner_targets = down.clone();
        inner_targets.extend(rows.iter().cloned());
        let guard = self.loop_guard(&inner_targets);
        let (decls, inner_loop) = self.for_loop(inner, &inner_targets);
        body.extend(decls);
        body.push(guarded(guard, inner_loop));
        self.flow_point(body, flow);
        if self.tenth(self.w.second_inner) {
            let k = self.rng.range(1, inner_targets.len());
            let depth = self.rng.range(1, inner);
            let (decls, second) = self.for_loop(depth, &inner_targets[..k]);
            body.extend(decls);
            body.push(second);
            self.flow_point(body, flow);
        }
        if here.is_empty() && !rows.is_empty() {
            here.push(self.rng.pick(targets).clone());
        }
        for t in &here {
            body.push(self.consume(t, &rows));
            self.flow_point(body, flow);
        }
    }

    /// The update of `t` after the inner loop, reading the row's accumulators
    /// (`s += q.exp()`, `s += q * q`, products of two).
    fn consume(&mut self, t: &Target, rows: &[Target]) -> Stmt {
        let e = if rows.is_empty() {
            self.typed_expr(2)
        } else if t.kind == Kind::Sum && rows[0].kind == Kind::Sum && self.rng.chance(0.3) {
            Expr::method(Method::Exp, Expr::var(&rows[0].name), vec![])
        } else {
            let mut e = self.shape(&rows[0].name);
            if self.rng.chance(0.3) {
                let other = self.expr(1);
                e = Expr::bin(BinOp::Mul, e, other);
            }
            if self.is_typed(&e) {
                e
            } else {
                Expr::bin(BinOp::Add, e, self.typed_leaf())
            }
        };
        self.update_with(t, e)
    }

    /// An update of `t`, sometimes under an `if` on data or on indices.
    fn guarded_update(&mut self, t: &Target) -> Stmt {
        let (data, index) = (self.tenth(self.w.loop_if), self.tenth(self.w.int_if));
        if t.infinite || (!data && !index) {
            return self.update(t);
        }
        let cond = if index { self.int_cond() } else { self.cond() };
        let then = vec![self.update(t)];
        let els = if self.rng.chance(0.6) {
            Some(vec![self.update(t)])
        } else {
            None
        };
        Stmt::If { cond, then, els }
    }

    pub(super) fn update(&mut self, t: &Target) -> Stmt {
        let e = self.typed_expr(2);
        self.update_with(t, e)
    }

    /// The update of `t` by the (typed) value `e`, per its kind.
    pub(super) fn update_with(&mut self, t: &Target, e: Expr) -> Stmt {
        let me = Expr::Var(t.name.clone());
        let set = |value| Stmt::Assign {
            name: t.name.clone(),
            op: AssignOp::Set,
            value,
        };
        match t.kind {
            Kind::Sum => {
                let op = if self.rng.chance(0.75) {
                    AssignOp::Add
                } else {
                    AssignOp::Sub
                };
                Stmt::Assign {
                    name: t.name.clone(),
                    op,
                    value: e,
                }
            }
            Kind::Product if self.rng.chance(0.3) => {
                let den = Expr::bin(
                    BinOp::Add,
                    Expr::Lit(1.0),
                    Expr::bin(BinOp::Mul, e.clone(), e),
                );
                Stmt::Assign {
                    name: t.name.clone(),
                    op: AssignOp::Div,
                    value: den,
                }
            }
            Kind::Product => Stmt::Assign {
                name: t.name.clone(),
                op: AssignOp::Mul,
                value: self.factor(e),
            },
            Kind::Linear => set(self.linear(me, e)),
            Kind::Tanh => set(Expr::method(Method::Tanh, self.linear(me, e), vec![])),
            Kind::Max => set(Expr::method(Method::Max, me, vec![e])),
            Kind::Min => set(Expr::method(Method::Min, me, vec![e])),
            Kind::IfMax => Stmt::If {
                cond: Cond::Float(CmpOp::Gt, e.clone(), me),
                then: vec![set(e)],
                els: None,
            },
        }
    }

    /// A factor of a product that keeps it in range over up to a few hundred iterations: an
    /// element or parameter as is, else `e.tanh()`, `e.cos()` or `1.0 + 0.3 * e.tanh()`.
    pub(super) fn factor(&mut self, e: Expr) -> Expr {
        if matches!(e, Expr::Index(..) | Expr::Var(_)) && self.rng.chance(0.7) {
            return e;
        }
        let bounded = if self.rng.chance(0.5) {
            Method::Tanh
        } else {
            Method::Cos
        };
        let b = Expr::method(bounded, e, vec![]);
        if self.rng.chance(0.5) {
            b
        } else {
            Expr::bin(
                BinOp::Add,
                Expr::Lit(1.0),
                Expr::bin(BinOp::Mul, Expr::Lit(0.3), b),
            )
        }
    }

    /// `c * h + e`, `c` a literal in `(-0.95, 0.95)` or `a.tanh()` of a scalar parameter.
    fn linear(&mut self, me: Expr, e: Expr) -> Expr {
        let scalars = self.scope.scalars();
        let c = if !scalars.is_empty() && self.rng.chance(0.25) {
            Expr::method(
                Method::Tanh,
                Expr::Var(self.rng.pick(&scalars).clone()),
                vec![],
            )
        } else {
            Expr::Lit(self.rng.literal(-0.95, 0.95))
        };
        Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, c, me), e)
    }

    /// A range for the next loop and what it proves about its index.
    pub(super) fn pick_range(&mut self) -> (Range, LoopVar) {
        let name = self.index_name();
        if self.flat_dims().is_empty() {
            // No size, only local arrays (in a helper without slices): over one of them.
            return self.len_range(name);
        }
        let w = self.w;
        let tri = if self.scope.loops.iter().any(|l| l.index) {
            w.range_triangular
        } else {
            0
        };
        let nd = if self.scope.dims().contains(&Dim::Nd) {
            w.range_nd
        } else {
            0
        };
        let lens = self.scope.slices();
        let len_w = if lens.is_empty() { 0 } else { w.range_len };
        match self
            .rng
            .weighted(&[w.range_plain, len_w, w.range_offset, nd, tri])
        {
            1 => self.len_range(name),
            2 => self.offset_range(name),
            3 => self.plain_range(name, Dim::Nd),
            4 => self.triangular_range(name),
            _ => {
                let dims = self.flat_dims();
                let dim = *self.rng.pick(&dims);
                self.plain_range(name, dim)
            }
        }
    }

    /// The sizes in scope other than `n·d`.
    fn flat_dims(&self) -> Vec<Dim> {
        self.scope
            .dims()
            .into_iter()
            .filter(|d| *d != Dim::Nd)
            .collect()
    }

    /// Whether the range runs at least once at every size (all sizes are at least 1).
    pub(super) fn never_empty(&self, range: &Range) -> bool {
        let enclosing = |name: &str| self.scope.loops.iter().find(|l| l.name == name);
        match (&range.start, &range.end) {
            // `0..n`, `0..d` (not `0..i`), `0..n * d`, `0..x.len()`, `0..i + 1`
            (IntExpr::Const(0), IntExpr::Var(v)) => enclosing(v).is_none(),
            (IntExpr::Const(0), IntExpr::Mul(..) | IntExpr::Len(_) | IntExpr::Add(..)) => true,
            // `i..n` with `i <= n - 1`
            (IntExpr::Var(o), _) => enclosing(o).is_some_and(|o| o.slack >= 0),
            _ => false,
        }
    }

    fn plain_range(&mut self, name: String, dim: Dim) -> (Range, LoopVar) {
        let range = Range {
            start: IntExpr::Const(0),
            end: self.scope.dim_expr(dim),
        };
        (
            range,
            LoopVar {
                name,
                dim,
                lo: 0,
                slack: 0,
                index: true,
            },
        )
    }

    /// `0..x.len()`.
    fn len_range(&mut self, name: String) -> (Range, LoopVar) {
        let (slice, ext) = self.rng.pick(&self.scope.slices()).clone();
        let range = Range {
            start: IntExpr::Const(0),
            end: IntExpr::Len(slice),
        };
        let slack = -i64::try_from(ext.plus).unwrap_or(0);
        (
            range,
            LoopVar {
                name,
                dim: ext.dim,
                lo: 0,
                slack,
                index: true,
            },
        )
    }

    /// `1..n` or `0..n - 1`.
    fn offset_range(&mut self, name: String) -> (Range, LoopVar) {
        let dims = self.flat_dims();
        let dim = *self.rng.pick(&dims);
        let end = self.scope.dim_expr(dim);
        if self.rng.chance(0.5) {
            (
                Range {
                    start: IntExpr::Const(1),
                    end,
                },
                LoopVar {
                    name,
                    dim,
                    lo: 1,
                    slack: 0,
                    index: true,
                },
            )
        } else {
            let end = IntExpr::minus(end, IntExpr::Const(1));
            (
                Range {
                    start: IntExpr::Const(0),
                    end,
                },
                LoopVar {
                    name,
                    dim,
                    lo: 0,
                    slack: 1,
                    index: true,
                },
            )
        }
    }

    /// `0..i`, `0..i + 1`, `i..n`, `i + 1..n` over an enclosing index `i`.
    fn triangular_range(&mut self, name: String) -> (Range, LoopVar) {
        let indices: Vec<LoopVar> = self
            .scope
            .loops
            .iter()
            .filter(|l| l.index)
            .cloned()
            .collect();
        let outer = self.rng.pick(&indices).clone();
        let o = IntExpr::Var(outer.name.clone());
        let o1 = IntExpr::plus(o.clone(), IntExpr::Const(1));
        let size = self.scope.dim_expr(outer.dim);
        let dim = outer.dim;
        let (start, end, lo, slack) = match self.rng.below(4) {
            0 => (IntExpr::Const(0), o, 0, outer.slack + 1),
            1 => (IntExpr::Const(0), o1, 0, outer.slack),
            2 => (o, size, outer.lo, 0),
            _ => (o1, size, outer.lo + 1, 0),
        };
        (
            Range { start, end },
            LoopVar {
                name,
                dim,
                lo,
                slack,
                index: true,
            },
        )
    }
}

/// How a member of coupled state is updated, reading another member `o` (and itself, `m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coupling {
    /// `m = (c·m + c'·o + e).tanh()`.
    Tanh,
    /// `m = c·m + c'·o + e`, `|c|, |c'| < 0.45`: contracting.
    Linear,
    /// `let t = m; m = o; o = c·t + e` (the two-term recurrence, `t = a + b; a = b; b = t·w`).
    Shift,
    /// `m = m.max(c·o + e)`.
    Max,
    /// `m += c·o·e`: a sum reading another member.
    Sum,
}

impl Gen<'_> {
    /// Coupled state: 2–3 variables one loop updates together, each reading another's value
    /// (before or after its own update in the iteration), with `let` temporaries reading them,
    /// updates under `if` (on data or on the state), and sometimes a loss summed along the way
    /// (`l += (m - e).powi(2)`: a sum reading the state). Sometimes in the body of an outer loop,
    /// declared there (an outer sum reading the final state) or before it (the state carried
    /// through both loops). Decisions from a stream of their own (`k`): a program without
    /// coupled state is the program the grammar without it generates.
    pub(super) fn coupled_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let outer = self.k.below(10);
        if outer >= 4 || self.scope.dims().is_empty() {
            let (stmts, results) = self.coupled_loop(&mut out);
            out.extend(stmts);
            self.results.extend(results);
            return out;
        }
        // In an outer loop: the state declared before it (carried through both loops), or in
        // its body with an outer sum of the final state.
        let carried_through = outer < 2;
        let sum = self.fresh("s");
        out.push(self.let_stmt(&sum, true, Expr::Lit(0.0)));
        let mut decls = Vec::new();
        let (range, lv) = self.pick_range();
        self.scope.set_carried(&sum, true);
        let var = lv.name.clone();
        let body = if carried_through {
            // The state's declarations go before the outer loop.
            let (mut inner, results) = self.coupled_in_loop(&mut decls, lv);
            let read = self.combine_members(&results);
            inner.push(Stmt::Assign {
                name: sum.clone(),
                op: AssignOp::Add,
                value: read,
            });
            self.results.extend(results);
            inner
        } else {
            self.scope.loops.push(lv);
            let mark = self.scope.locals.len();
            self.nesting += 1;
            let mut inner = Vec::new();
            let (stmts, results) = self.coupled_loop(&mut inner);
            inner.extend(stmts);
            let read = self.combine_members(&results);
            inner.push(Stmt::Assign {
                name: sum.clone(),
                op: AssignOp::Add,
                value: read,
            });
            self.nesting -= 1;
            self.scope.truncate(mark);
            self.scope.loops.pop();
            inner
        };
        self.scope.set_carried(&sum, false);
        self.scope.set_typed(&sum);
        out.extend(decls);
        out.push(Stmt::For { var, range, body });
        self.results.push(sum);
        out
    }

    /// The body of an outer loop over `lv` whose inner loop updates coupled state declared
    /// (into `decls`) before the outer loop; the state's names.
    fn coupled_in_loop(&mut self, decls: &mut Vec<Stmt>, lv: LoopVar) -> (Vec<Stmt>, Vec<String>) {
        let members = self.coupled_members(decls);
        for m in &members {
            self.scope.set_carried(m, true);
        }
        self.scope.loops.push(lv);
        let mark = self.scope.locals.len();
        self.nesting += 1;
        let mut body = Vec::new();
        let inner = self.coupled_updates_loop(&members, &mut body);
        body.push(inner);
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.pop();
        for m in &members {
            self.scope.set_carried(m, false);
            self.scope.set_typed(m);
        }
        (body, members)
    }

    /// `let mut a = ..; let mut b = ..; [let mut l = 0.0;]` into `decls`, then the loop that
    /// updates them; the statements after the declarations, and the names to read after.
    fn coupled_loop(&mut self, decls: &mut Vec<Stmt>) -> (Vec<Stmt>, Vec<String>) {
        let members = self.coupled_members(decls);
        for m in &members {
            self.scope.set_carried(m, true);
        }
        let mut body = Vec::new();
        let stmt = self.coupled_updates_loop(&members, &mut body);
        // Per `coupled_into_arrays` (drawn only where it is not 0): the loop also writes a
        // local array from the members, read after it. Not in the body of a loop updating a
        // recurrence (`local_array_in_recurrence = 0`: the macro rejects an array built there).
        let written = (self.w.coupled_into_arrays > 0
            && (self.recurrence == 0 || self.w.local_array_in_recurrence > 0)
            && self.k.below(10) < self.w.coupled_into_arrays as usize)
            .then(|| self.coupled_array(&members, &mut body, stmt.clone()))
            .flatten();
        let (stmt, written) = match written {
            Some((stmt, arrays)) => (stmt, Some(arrays)),
            None => (stmt, None),
        };
        // With `fold_tuple`, the declarations and the loop as a fold to a tuple (drawn only
        // where the weight is not zero; not with an array written, which a closure cannot).
        let folded = written.is_none()
            && self.w.fold_tuple > 0
            && self.k.below(10) < self.w.fold_tuple as usize;
        // (Not where a member starts from another: the tuple's values are all computed before
        // any member is bound.)
        let start = decls.len().saturating_sub(members.len());
        let chained = decls[start..].iter().any(|s| {
            let Stmt::Let { value, .. } = s else {
                return true;
            };
            let text = crate::print::expr(value);
            text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| members.iter().any(|m| m == w))
        });
        match stmt {
            Stmt::For {
                var,
                range,
                body: updates,
            } if folded && !chained && decls.len() >= members.len() => {
                let inits = decls.split_off(decls.len() - members.len());
                let members = members
                    .iter()
                    .zip(inits)
                    .map(|(m, s)| match s {
                        Stmt::Let { value, .. } => (m.clone(), value),
                        _ => (m.clone(), Expr::Lit(0.0)),
                    })
                    .collect();
                body.push(Stmt::Fold {
                    members,
                    var,
                    range,
                    body: updates,
                });
            }
            stmt => body.push(stmt),
        }
        for m in &members {
            self.scope.set_carried(m, false);
            self.scope.set_typed(m);
        }
        let mut members = members;
        for z in written.into_iter().flatten() {
            members.extend(self.array_reads(&z, &mut body));
        }
        (body, members)
    }

    /// The coupled loop `stmt` (over `0..size`, else none) also writing a new local array
    /// `zc` (of that size, declared into `decls`) at its index from the `members`' values:
    /// before, between or after their updates; sometimes a second one (an integrator's
    /// positions and velocities). The loop, and the arrays to read after it.
    fn coupled_array(
        &mut self,
        members: &[String],
        decls: &mut Vec<Stmt>,
        stmt: Stmt,
    ) -> Option<(Stmt, Vec<Arr>)> {
        let Stmt::For {
            var,
            range,
            mut body,
        } = stmt
        else {
            return None;
        };
        let dim = self
            .scope
            .dims()
            .into_iter()
            .find(|d| self.scope.dim_expr(*d) == range.end)?;
        if range.start != IntExpr::Const(0) {
            return None;
        }
        let count = if self.k.chance(0.4) { 2 } else { 1 };
        let mut arrays = Vec::new();
        for _ in 0..count {
            let z = self.coupled_write(members, decls, (&var, &range.end, dim), &mut body);
            arrays.push(z);
        }
        // (In scope once all are written: no write reads another.)
        for z in &arrays {
            let kind = LocalKind::Array {
                ext: z.ext,
                writer: None,
            };
            self.scope.declare_kind(&z.name, kind, true);
        }
        Some((Stmt::For { var, range, body }, arrays))
    }

    /// A new local array `zc` (declared into `decls`, of the loop's size `len`; not yet in
    /// scope) written in `body` at its index `var` from the `members`' values.
    fn coupled_write(
        &mut self,
        members: &[String],
        decls: &mut Vec<Stmt>,
        (var, len, dim): (&str, &IntExpr, Dim),
        body: &mut Vec<Stmt>,
    ) -> Arr {
        let a = Expr::var(&self.k.pick(members).clone());
        let b = Expr::var(&self.k.pick(members).clone());
        let value = match self.k.below(4) {
            0 | 1 => a,
            2 => Expr::bin(BinOp::Mul, a, b),
            _ => {
                // (Typed, for the method: a loss member starts from a bare `0.0`.)
                let e = self.typed_expr(1);
                let inner = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, a, b), e);
                Expr::method(Method::Sin, inner, vec![])
            }
        };
        let name = self.fresh("zc");
        let ext = Extent { dim, plus: 0 };
        decls.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: true,
            typed: true,
            init: ArrayInit::Repeat {
                value: Expr::Lit(0.0),
                len: len.clone(),
            },
        });
        let at = self.k.below(body.len() + 1);
        body.insert(
            at,
            Stmt::SetElem {
                array: name.clone(),
                index: IntExpr::Var(var.to_string()),
                op: AssignOp::Set,
                value,
            },
        );
        Arr {
            name,
            ext,
            decl: decls.len() - 1,
        }
    }

    /// The declarations of 2–3 members (typed initial values) and, sometimes, a loss.
    fn coupled_members(&mut self, decls: &mut Vec<Stmt>) -> Vec<String> {
        let count = if self.k.chance(0.3) { 3 } else { 2 };
        let mut members = Vec::new();
        for _ in 0..count {
            let name = self.fresh("c");
            let init = if self.k.chance(0.5) {
                self.typed_leaf()
            } else {
                Expr::method(Method::Tanh, self.typed_expr(1), vec![])
            };
            decls.push(self.let_stmt(&name, true, init));
            members.push(name);
        }
        if self.k.chance(0.5) {
            let name = self.fresh("l");
            decls.push(self.let_stmt(&name, true, Expr::Lit(0.0)));
            members.push(name);
        }
        members
    }

    /// `for i in range { [let t = ..;] updates }` of the coupled `members` (the state first;
    /// a last member named `l…` is the loss summed along the way).
    fn coupled_updates_loop(&mut self, members: &[String], _: &mut Vec<Stmt>) -> Stmt {
        let (range, lv) = self.pick_range();
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        let mark = self.scope.locals.len();
        self.nesting += 1;
        self.recurrence += 1;
        let loss = members.last().filter(|m| m.starts_with('l')).cloned();
        let state: Vec<String> = members
            .iter()
            .filter(|m| Some(*m) != loss.as_ref())
            .cloned()
            .collect();
        let mut body = Vec::new();
        // A temporary reading the state.
        let mut temp = None;
        if self.k.chance(0.5) {
            let name = self.fresh("t");
            let a = self.k.pick(&state).clone();
            let e = self.expr(1);
            let read = Expr::method(Method::Sin, Expr::bin(BinOp::Add, Expr::var(&a), e), vec![]);
            body.push(self.let_stmt(&name, false, read));
            temp = Some(name);
        }
        let n = state.len();
        // The first update is never a sum (a `hessian` program has no recurrence).
        let mut order: Vec<usize> = (0..n).collect();
        if self.k.chance(0.5) {
            order.reverse();
        }
        for (step, &j) in order.iter().enumerate() {
            let m = state[j].clone();
            let o = state[(j + 1) % n].clone();
            let other = match &temp {
                Some(t) if self.k.chance(0.3) => t.clone(),
                _ => o.clone(),
            };
            let kinds = [
                Coupling::Tanh,
                Coupling::Linear,
                Coupling::Shift,
                Coupling::Max,
                Coupling::Sum,
            ];
            let mut kind = *self.k.pick(&kinds);
            if step == 0 && kind == Coupling::Sum {
                kind = Coupling::Linear;
            }
            let update = self.coupling(kind, &m, &o, &other);
            if self.k.chance(0.25) {
                // Under `if`, on data or on the state, with another update in `else`.
                let cond = if self.k.chance(0.5) {
                    let e = self.expr(1);
                    Cond::Float(CmpOp::Gt, Expr::var(&other), e)
                } else {
                    self.cond()
                };
                let els = self
                    .k
                    .chance(0.6)
                    .then(|| self.coupling(Coupling::Linear, &m, &o, &other));
                body.push(Stmt::If {
                    cond,
                    then: update,
                    els,
                });
            } else {
                body.extend(update);
            }
        }
        if let Some(l) = &loss {
            let a = self.k.pick(&state).clone();
            let e = self.expr(1);
            let value = if self.k.chance(0.5) {
                Expr::method(
                    Method::Powi(2),
                    Expr::bin(BinOp::Sub, Expr::var(&a), e),
                    vec![],
                )
            } else {
                let b = self.k.pick(&state).clone();
                Expr::bin(BinOp::Mul, Expr::var(&a), Expr::var(&b))
            };
            body.push(Stmt::Assign {
                name: l.clone(),
                op: AssignOp::Add,
                value,
            });
        }
        self.recurrence -= 1;
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.pop();
        Stmt::For { var, range, body }
    }

    /// The statements updating member `m` per `kind`, reading `other` (another member, or a
    /// temporary reading one) and, for a shift, swapping with `o`.
    fn coupling(&mut self, kind: Coupling, m: &str, o: &str, other: &str) -> Vec<Stmt> {
        let set = |name: &str, value| Stmt::Assign {
            name: name.into(),
            op: AssignOp::Set,
            value,
        };
        let e = self.expr(1);
        match kind {
            Coupling::Tanh | Coupling::Linear => {
                let bound = if kind == Coupling::Tanh { 0.95 } else { 0.45 };
                let (c0, c1) = (self.coupling_literal(bound), self.coupling_literal(bound));
                let lin = Expr::bin(
                    BinOp::Add,
                    Expr::bin(
                        BinOp::Add,
                        Expr::bin(BinOp::Mul, c0, Expr::var(m)),
                        Expr::bin(BinOp::Mul, c1, Expr::var(other)),
                    ),
                    e,
                );
                let value = if kind == Coupling::Tanh {
                    Expr::method(Method::Tanh, lin, vec![])
                } else {
                    lin
                };
                vec![set(m, value)]
            }
            Coupling::Shift => {
                let t = self.fresh("t");
                let c = self.coupling_literal(0.95);
                // Not declared in the scope: it may be in an `if` branch, and nothing else
                // reads it.
                let keep = Stmt::Let {
                    name: t.clone(),
                    mutable: false,
                    value: Expr::var(m),
                };
                vec![
                    keep,
                    set(m, Expr::var(o)),
                    set(
                        o,
                        Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, c, Expr::var(&t)), e),
                    ),
                ]
            }
            Coupling::Max => {
                let c = self.coupling_literal(0.95);
                let value = Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, c, Expr::var(other)), e);
                vec![set(m, Expr::method(Method::Max, Expr::var(m), vec![value]))]
            }
            Coupling::Sum => {
                let c = self.coupling_literal(0.5);
                let value = Expr::bin(BinOp::Mul, Expr::bin(BinOp::Mul, c, Expr::var(other)), e);
                vec![Stmt::Assign {
                    name: m.into(),
                    op: AssignOp::Add,
                    value,
                }]
            }
        }
    }

    /// A literal coefficient in `(-bound, bound)`.
    fn coupling_literal(&mut self, bound: f64) -> Expr {
        Expr::Lit(self.k.literal(-bound, bound))
    }

    /// `a * b + c`-like reading of the members (for an outer sum).
    fn combine_members(&mut self, members: &[String]) -> Expr {
        let mut e = Expr::var(&members[0]);
        for m in &members[1..] {
            let op = if self.k.chance(0.5) {
                BinOp::Add
            } else {
                BinOp::Mul
            };
            e = Expr::bin(op, e, Expr::var(m));
        }
        e
    }
}

/// `stmt`, under `if cond { .. }` when there is one.
fn guarded(cond: Option<Cond>, stmt: Stmt) -> Stmt {
    match cond {
        Some(cond) => Stmt::If {
            cond,
            then: vec![stmt],
            els: None,
        },
        None => stmt,
    }
}
