//! Control flow in loop bodies, the forms the README's language table lists: integer counters
//! stepped once per iteration at the top level of a body (`let mut ct = 0; for .. { ..; ct +=
//! 1; }`), read as indices, in conditions and after the loop; `while` and `loop` loops a counter
//! decides (`while ct < n { ..; ct += 1; }`, `loop { ..; ct += 1; if ct >= n { break; } }`, and
//! counting down); `if c { [updates;] continue; }` and `if c { [updates;] break; }` as statements
//! of a body.
//!
//! Every decision here is drawn from the generator's third stream (`Gen::c`), and only where a
//! weight allows one: a program with none of these forms is the program the grammar without
//! them generates.
//!
//! What keeps the programs valid and in bounds:
//!
//! - A counter's bounds are a [`LoopVar`]'s (`lo <= ct <= size - 1 - slack`), moved by each step
//!   as the body is written: reads before the step see the value at the start of the iteration,
//!   reads after it the stepped one. An index counter steps by 1, up from 0 or 1 or down from
//!   the size of the loop's trip (which bounds its number of iterations); other steps (2, `d`)
//!   give a counter read only in conditions and casts. After the loop, its bounds are those of its
//!   first value and of its value after any step.
//! - A `while` or `loop` counter is the loop's index: its bounds are the range's it replaces
//!   (`for i in a..b` → `let mut ct = a; while ct < b { ..; ct += 1; }`), a `loop` only for a range
//!   that never runs empty (it runs at least once), counting down only to a start fixed in the
//!   loop.
//! - Every step comes before any `continue` (a `while` would never end, a counter would step in
//!   some iterations only); a `loop` has no `continue` or `break` but its exit.
//! - A `break` condition reads nothing the loop assigns: not its targets (carried), nor the
//!   `let mut` locals and counters its body declares; it may read its own counters.
//! - No `continue` or `break` in a loop updating a target that starts at `±∞` (it must be
//!   updated in every iteration of a loop that runs).
//! - A closure in a body that reads a counter not stepped yet is a `move` closure (a borrowing
//!   one would keep the counter borrowed across its step).
//!
//! Three knobs keep shapes out: `exit_after_continue = 0` (no `break` after a `continue`), the
//! default, as the macro rejects that shape; `inner_exit_floats = 0` (no float comparison in the
//! `break` of an inner loop), the default, which the macro once rejected; `exit_after_step = 0`
//! (no `break` after a step).

use super::Gen;
use super::loops::Target;
use super::scope::{LocalKind, LoopVar};
use crate::ast::{CmpOp, Cond, Expr, IntExpr, Range, Stmt};

/// How a loop over a range is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `for i in a..b`.
    For,
    /// `let mut ct = a; while ct < b { ..; ct += 1; }`, or counting down.
    While,
    /// `let mut ct = a; loop { ..; ct += 1; if ct >= b { break; } }`, or counting down.
    Loop,
}

/// A counter's step, due once in every iteration of its loop.
#[derive(Debug, Clone)]
struct Step {
    name: String,
    by: IntExpr,
    down: bool,
    /// How far one step moves the counter's bounds (0: bounds not kept).
    shift: i64,
    /// Its bounds before the loop.
    init: LoopVar,
    /// The loop's own counter (`while`, `loop`): among the enclosing loops, not the locals.
    own: bool,
}

/// What a loop body still has to place among its statements.
#[derive(Debug, Default)]
pub(super) struct Flow {
    /// Steps not placed yet.
    steps: Vec<Step>,
    /// Steps placed.
    done: Vec<Step>,
    /// `if c { ..; continue; }` still to place.
    conts: usize,
    /// An `if c { ..; break; }` still to place.
    brk: bool,
    /// `loop`: its final `if ct >= n { break; }`.
    exit: Option<Cond>,
    /// What a `continue` or `break` branch may update.
    targets: Vec<Target>,
    /// An integer declared before the loop that the `break`'s branch sets (`if c { at = i;
    /// break; }`, the `break_found` weight), and its value there.
    found: Option<(String, IntExpr)>,
}

impl Flow {
    /// A flow with nothing to place: writes the body as the grammar without these forms.
    pub(super) fn none() -> Self {
        Self::default()
    }

    fn idle(&self) -> bool {
        self.steps.is_empty() && self.conts == 0 && !self.brk
    }
}

/// `name`, `name + k` or `name - k`.
fn offset(name: &str, k: i64) -> IntExpr {
    let var = IntExpr::Var(name.into());
    let by = IntExpr::Const(usize::try_from(k.unsigned_abs()).unwrap_or(0));
    match k {
        0 => var,
        k if k > 0 => IntExpr::plus(var, by),
        _ => IntExpr::minus(var, by),
    }
}

/// `e + k` for a constant `k` (folded on a literal).
fn plus(e: &IntExpr, k: usize) -> IntExpr {
    match e {
        IntExpr::Const(c) => IntExpr::Const(c + k),
        e if k == 0 => e.clone(),
        e => IntExpr::plus(e.clone(), IntExpr::Const(k)),
    }
}

/// The bounds that hold for both `a` and `b`'s values.
fn hull(a: &LoopVar, b: &LoopVar) -> LoopVar {
    LoopVar {
        lo: a.lo.min(b.lo),
        slack: a.slack.min(b.slack),
        index: a.index && b.index,
        ..a.clone()
    }
}

/// Whether `e` reads the integer `name` (in an index, a cast or a condition).
pub(super) fn reads_int(e: &Expr, name: &str) -> bool {
    crate::print::expr(e)
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == name)
}

impl Gen<'_> {
    /// [`Gen::tenth`] on the stream of the control-flow forms.
    fn c_tenth(&mut self, weight: u32) -> bool {
        weight > 0 && self.c.below(10) < weight as usize
    }

    /// How to write a loop over `range` (a `while` or `loop` only for a finite loop; a `loop`
    /// only over a range that never runs empty).
    pub(super) fn form(&mut self, finite: bool, range: &Range) -> Form {
        if !finite {
            return Form::For;
        }
        if self.c_tenth(self.w.loop_while) {
            return Form::While;
        }
        if self.never_empty(range) && self.c_tenth(self.w.loop_loop) {
            return Form::Loop;
        }
        Form::For
    }

    /// The `continue`s and `break` a loop body updating `targets` gets (none in a `loop`, nor
    /// with a target starting at `±∞`).
    pub(super) fn flow(&mut self, targets: &[Target], form: Form) -> Flow {
        let mut f = Flow {
            targets: targets.to_vec(),
            ..Flow::none()
        };
        if form == Form::Loop || targets.iter().any(|t| t.infinite) {
            return f;
        }
        if self.c_tenth(self.w.loop_continue) {
            f.conts = 1 + usize::from(self.c.chance(0.2));
        }
        f.brk = self.c_tenth(self.w.loop_break);
        f
    }

    /// Sometimes one or two counters the loop steps, declared in scope (returned: their
    /// `let`s, which go before the loop). `trip` bounds the loop's iterations: the `k`-th
    /// (from 0) has `k <= size(trip.dim) - 1 - trip.slack`.
    pub(super) fn counters(&mut self, flow: &mut Flow, trip: &LoopVar) -> Vec<Stmt> {
        let mut decls = Vec::new();
        if !self.c_tenth(self.w.loop_counter) {
            return decls;
        }
        let count = if self.c.chance(0.25) { 2 } else { 1 };
        for _ in 0..count {
            let name = self.fresh("ct");
            let sigma = trip.slack;
            let lv = |lo: i64, slack: i64, index: bool| LoopVar {
                name: name.clone(),
                dim: trip.dim,
                lo,
                slack,
                index,
            };
            // (first value, step, down, shift, bounds before the loop, in the first iteration)
            let (value, by, down, shift, init, pre) = match self.c.below(8) {
                0..=2 => (
                    IntExpr::Const(0),
                    1,
                    false,
                    1,
                    lv(0, 0, true),
                    lv(0, sigma, true),
                ),
                3 => (
                    IntExpr::Const(1),
                    1,
                    false,
                    1,
                    lv(1, -1, true),
                    lv(1, sigma - 1, true),
                ),
                4 | 5 if sigma >= 0 => {
                    let size = self.scope.dim_expr(trip.dim);
                    (size, 1, true, 1, lv(1, -1, true), lv(sigma + 1, -1, true))
                }
                k => {
                    let by = match k % 3 {
                        0 => IntExpr::Const(2),
                        1 => IntExpr::Const(3),
                        _ => self.scope.dim_expr(trip.dim),
                    };
                    let step = Step {
                        name: name.clone(),
                        by,
                        down: false,
                        shift: 0,
                        init: lv(0, 0, false),
                        own: false,
                    };
                    self.declare_counter(&name, lv(0, 0, false));
                    decls.push(Stmt::LetInt {
                        name: name.clone(),
                        mutable: true,
                        value: IntExpr::Const(0),
                    });
                    flow.steps.push(step);
                    continue;
                }
            };
            self.declare_counter(&name, pre);
            decls.push(Stmt::LetInt {
                name: name.clone(),
                mutable: true,
                value,
            });
            flow.steps.push(Step {
                name,
                by: IntExpr::Const(by),
                down,
                shift,
                init,
                own: false,
            });
        }
        decls
    }

    /// Per `break_found` (drawn only where it is not 0), for a `for` loop over `lv` that breaks:
    /// an integer declared before it (its `let` pushed to `decls`) that the `break`'s branch
    /// sets to the index or one past it. Returns its name, to declare once the loop is done (in
    /// the loop it is out of sight: the exit may not read what the loop assigns).
    pub(super) fn found_int(
        &mut self,
        flow: &mut Flow,
        lv: &LoopVar,
        decls: &mut Vec<Stmt>,
    ) -> Option<String> {
        if !flow.brk || self.w.break_found == 0 || !self.c_tenth(self.w.break_found) {
            return None;
        }
        let name = self.fresh("at");
        let index = IntExpr::Var(lv.name.clone());
        let value = if self.c.chance(0.5) {
            index
        } else {
            IntExpr::plus(index, IntExpr::Const(1))
        };
        let start = if self.c.chance(0.5) {
            IntExpr::Const(0)
        } else {
            self.scope.dim_expr(lv.dim)
        };
        decls.push(Stmt::LetInt {
            name: name.clone(),
            mutable: true,
            value: start,
        });
        flow.found = Some((name.clone(), value));
        Some(name)
    }

    /// The integer `found_int` declared, in sight after its loop over `dim`: read in conditions
    /// and casts (its bounds not kept).
    pub(super) fn declare_found(&mut self, name: &str, dim: crate::ast::Dim) {
        let lv = LoopVar {
            name: name.to_string(),
            dim,
            lo: 0,
            slack: 0,
            index: false,
        };
        self.scope.declare_kind(name, LocalKind::Counter(lv), false);
    }

    fn declare_counter(&mut self, name: &str, lv: LoopVar) {
        self.scope.declare_kind(name, LocalKind::Counter(lv), false);
        self.stepping.push(name.to_string());
    }

    /// A `while` or `loop` over `range` (index bounds `lv`): its counter's `let`, pushed on the
    /// enclosing loops with its bounds in the first iteration and its step due in `flow`; the
    /// `while`'s condition (`None` for a `loop`, whose exit goes in `flow`).
    pub(super) fn counted(
        &mut self,
        range: &Range,
        lv: &LoopVar,
        form: Form,
        flow: &mut Flow,
    ) -> (Stmt, Option<Cond>) {
        let name = self.fresh("ct");
        let ct = IntExpr::Var(name.clone());
        let (start, end) = (range.start.clone(), range.end.clone());
        // Counting down needs a start fixed in the loop (a constant or an enclosing index).
        let down = self.c.chance(0.35);
        let by: usize = if form == Form::While && self.c.chance(0.25) {
            2
        } else {
            1
        };
        let s = i64::try_from(by).unwrap_or(1);
        let b = |lo: i64, slack: i64| LoopVar {
            name: name.clone(),
            lo,
            slack,
            ..lv.clone()
        };
        let (first, pre, init) = if down {
            (
                end.clone(),
                b(lv.lo + s, lv.slack - 1),
                b(lv.lo, lv.slack - 1),
            )
        } else {
            // The first value is the range's start, which may lie past its end (`ct + 1..n`
            // at `ct = n`): its own bounds, if known, are those after a loop that does not run.
            let init = match self.int_bounds(&start) {
                Some((lo, slack)) => b(lo, slack),
                None => LoopVar {
                    index: false,
                    ..b(lv.lo, lv.slack)
                },
            };
            (start.clone(), b(lv.lo, lv.slack), init)
        };
        let flip = self.c.chance(0.4);
        let cmp = |op: CmpOp, a: IntExpr, other: IntExpr| {
            if flip {
                let mirrored = match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    o => o,
                };
                Cond::Int(mirrored, other, a)
            } else {
                Cond::Int(op, a, other)
            }
        };
        // `<=`, `>` against `end - 1`: only where `end >= 1` (a range never empty).
        let inclusive = self.c.chance(0.4) && self.never_empty(range);
        let cond = match (form, down) {
            (Form::While, false) if inclusive => cmp(
                CmpOp::Le,
                ct,
                IntExpr::minus(end.clone(), IntExpr::Const(1)),
            ),
            (Form::While, false) => cmp(CmpOp::Lt, ct, end.clone()),
            (Form::While, true) if self.c.chance(0.5) => cmp(CmpOp::Ge, ct, plus(&start, by)),
            (Form::While, true) => cmp(CmpOp::Gt, ct, plus(&start, by - 1)),
            (_, false) => match self.c.below(3) {
                0 => cmp(CmpOp::Ge, ct, end.clone()),
                1 => cmp(CmpOp::Eq, ct, end.clone()),
                _ => cmp(
                    CmpOp::Gt,
                    ct,
                    IntExpr::minus(end.clone(), IntExpr::Const(1)),
                ),
            },
            (_, true) => match self.c.below(3) {
                0 => cmp(CmpOp::Le, ct, start.clone()),
                1 => cmp(CmpOp::Eq, ct, start.clone()),
                _ => cmp(CmpOp::Lt, ct, plus(&start, 1)),
            },
        };
        self.scope.loops.push(pre);
        self.stepping.push(name.clone());
        flow.steps.push(Step {
            name: name.clone(),
            by: IntExpr::Const(by),
            down,
            shift: s,
            init,
            own: true,
        });
        let decl = Stmt::LetInt {
            name,
            mutable: true,
            value: first,
        };
        match form {
            Form::Loop => {
                flow.exit = Some(cond);
                (decl, None)
            }
            _ => (decl, Some(cond)),
        }
    }

    /// The bounds `(lo, slack)` of a range's start: a constant, an index or counter in scope,
    /// or one of those plus a constant.
    fn int_bounds(&self, e: &IntExpr) -> Option<(i64, i64)> {
        let of = |name: &str| {
            self.scope
                .loops
                .iter()
                .rev()
                .chain(self.scope.counters().iter().rev())
                .find(|l| l.name == name && l.index)
                .map(|l| (l.lo, l.slack))
        };
        match e {
            IntExpr::Const(c) => {
                let c = i64::try_from(*c).ok()?;
                Some((c, -c))
            }
            IntExpr::Var(v) => of(v),
            IntExpr::Add(a, k) => match (&**a, &**k) {
                (IntExpr::Var(v), IntExpr::Const(k)) => {
                    let k = i64::try_from(*k).ok()?;
                    of(v).map(|(lo, slack)| (lo + k, slack - k))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// After a loop: its counters' bounds from here on (a `while` or `loop` counter leaves the
    /// enclosing loops for the locals).
    pub(super) fn after_loop(&mut self, flow: &Flow) {
        for s in &flow.done {
            self.stepping.retain(|n| *n != s.name);
            if s.own {
                let Some(at) = self.scope.loops.iter().rposition(|l| l.name == s.name) else {
                    continue;
                };
                let post = self.scope.loops.remove(at);
                let after = hull(&s.init, &post);
                self.scope
                    .declare_kind(&s.name, LocalKind::Counter(after), false);
            } else if let Some(lv) = self.scope.counter_mut(&s.name) {
                let after = hull(&s.init, lv);
                *lv = after;
            }
        }
    }

    /// Places, at this point of a body, what `flow` still has to place, sometimes.
    pub(super) fn flow_point(&mut self, body: &mut Vec<Stmt>, flow: &mut Flow) {
        if flow.idle() {
            return;
        }
        if flow.brk && self.c.chance(0.15) {
            self.place_break(body, flow);
        }
        let mut k = 0;
        while k < flow.steps.len() && self.step_may_come(flow) {
            if self.c.chance(0.3) {
                let s = flow.steps.remove(k);
                self.place_step(body, s, flow);
            } else {
                k += 1;
            }
        }
        if flow.conts > 0 && self.c.chance(0.3) {
            self.place_continue(body, flow);
        }
        if flow.brk && self.c.chance(0.15) {
            self.place_break(body, flow);
        }
    }

    /// The end of a body: the steps, `continue`s and `break` not placed yet, and a `loop`'s
    /// exit.
    pub(super) fn flow_end(&mut self, body: &mut Vec<Stmt>, flow: &mut Flow) {
        if flow.brk && (!self.step_may_come(flow) || self.c.chance(0.5)) {
            self.place_break(body, flow);
        }
        self.place_steps(body, flow);
        while flow.conts > 0 {
            self.place_continue(body, flow);
        }
        if flow.brk {
            self.place_break(body, flow);
        }
        if let Some(exit) = flow.exit.take() {
            body.push(Stmt::If {
                cond: exit,
                then: vec![Stmt::Break],
                els: None,
            });
        }
    }

    fn place_steps(&mut self, body: &mut Vec<Stmt>, flow: &mut Flow) {
        for s in std::mem::take(&mut flow.steps) {
            self.place_step(body, s, flow);
        }
    }

    /// `ct += by;`, the counter's bounds moved.
    fn place_step(&mut self, body: &mut Vec<Stmt>, s: Step, flow: &mut Flow) {
        body.push(Stmt::Step {
            name: s.name.clone(),
            by: s.by.clone(),
            down: s.down,
            spelled: self.c.chance(0.2),
        });
        if let Some(lv) = self.scope.counter_mut(&s.name) {
            if s.down {
                lv.lo -= s.shift;
                lv.slack += s.shift;
            } else {
                lv.lo += s.shift;
                lv.slack -= s.shift;
            }
        }
        self.stepping.retain(|n| *n != s.name);
        flow.done.push(s);
    }

    /// Whether a step may be placed now (`exit_after_step = 0`: not before the `break`).
    fn step_may_come(&self, flow: &Flow) -> bool {
        !flow.brk || self.w.exit_after_step > 0
    }

    /// `if c { [update;] continue; }`, after every step (and, with `exit_after_continue = 0`,
    /// after the `break`).
    fn place_continue(&mut self, body: &mut Vec<Stmt>, flow: &mut Flow) {
        if flow.brk && (self.w.exit_after_continue == 0 || !self.step_may_come(flow)) {
            self.place_break(body, flow);
        }
        self.place_steps(body, flow);
        let cond = self.flow_cond(body, flow, false);
        let then = self.branch_then(flow, Stmt::Continue);
        body.push(Stmt::If {
            cond,
            then,
            els: None,
        });
        flow.conts -= 1;
    }

    /// `if c { [update;] [at = i;] break; }`.
    fn place_break(&mut self, body: &mut Vec<Stmt>, flow: &mut Flow) {
        let cond = self.flow_cond(body, flow, true);
        let mut then = self.branch_then(flow, Stmt::Break);
        if let Some((name, value)) = flow.found.take() {
            then.insert(then.len() - 1, Stmt::SetInt { name, value });
        }
        body.push(Stmt::If {
            cond,
            then,
            els: None,
        });
        flow.brk = false;
    }

    /// A branch that updates a target, sometimes, and ends with `last`.
    fn branch_then(&mut self, flow: &Flow, last: Stmt) -> Vec<Stmt> {
        let mut then = Vec::new();
        if !flow.targets.is_empty() && self.c.chance(0.5) {
            let t = flow.targets[self.c.below(flow.targets.len())].clone();
            then.push(self.update(&t));
        }
        then.push(last);
        then
    }

    /// The condition of a `continue` or (`exit`) a `break`: on data and parameters, indices,
    /// counters or sizes. An exit's reads nothing the loop assigns: the `let mut` locals, local
    /// arrays and counters declared in its body, and the `let`s reading them, are out of sight.
    fn flow_cond(&mut self, body: &[Stmt], flow: &Flow, exit: bool) -> Cond {
        let mut hidden: Vec<String> = Vec::new();
        for s in body.iter().filter(|_| exit) {
            match s {
                Stmt::Let {
                    name,
                    mutable: true,
                    ..
                }
                | Stmt::LetInt { name, .. }
                | Stmt::NewArray {
                    name,
                    mutable: true,
                    ..
                } => hidden.push(name.clone()),
                // A `let` reading a local array the body writes (or such a `let`): the
                // condition would see the array as it was before the loop.
                Stmt::Let { name, value, .. } if hidden.iter().any(|h| reads_int(value, h)) => {
                    hidden.push(name.clone());
                }
                _ => {}
            }
        }
        for n in &hidden {
            self.scope.set_carried(n, true);
        }
        let own: Vec<String> = flow
            .steps
            .iter()
            .chain(&flow.done)
            .map(|s| s.name.clone())
            .collect();
        let mut counters: Vec<String> = self.scope.counters().into_iter().map(|c| c.name).collect();
        for n in own {
            if !counters.contains(&n) {
                counters.push(n);
            }
        }
        // `inner_exit_floats = 0`: no float comparison in the exit of a loop inside another.
        let floats = if exit && self.nesting > 1 && self.w.inner_exit_floats == 0 {
            0
        } else {
            4
        };
        let weights = [floats, 2, if counters.is_empty() { 0 } else { 3 }, 1];
        let cond = match self.c.weighted(&weights) {
            1 => self.int_cond(),
            2 => self.counter_cond(&counters),
            3 => self.size_cond(),
            _ => self.cond(),
        };
        for n in &hidden {
            self.scope.set_carried(n, false);
        }
        cond
    }

    /// `ct >= 2`, `ct + 1 == n`, `ct < i`-like conditions on one of `counters`.
    fn counter_cond(&mut self, counters: &[String]) -> Cond {
        let name = counters[self.c.below(counters.len())].clone();
        let indices: Vec<String> = self
            .scope
            .loops
            .iter()
            .filter(|l| l.index && l.name != name)
            .map(|l| l.name.clone())
            .collect();
        let op = *self.c.pick(&[
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
            CmpOp::Eq,
            CmpOp::Ne,
        ]);
        let rhs = match self.c.below(4) {
            0 | 1 => IntExpr::Const(self.c.below(4)),
            2 if !indices.is_empty() => IntExpr::Var(indices[self.c.below(indices.len())].clone()),
            _ => {
                let sizes = self.scope.dims();
                if sizes.is_empty() {
                    IntExpr::Const(1)
                } else {
                    let dim = sizes[self.c.below(sizes.len())];
                    self.scope.dim_expr(dim)
                }
            }
        };
        let lhs = if self.c.chance(0.25) {
            offset(&name, 1)
        } else {
            IntExpr::Var(name)
        };
        Cond::Int(op, lhs, rhs)
    }

    /// A value reading the counter `name` after its loop: an element at it where its bounds
    /// allow, else `0.3 * (ct as f64)`, times a leaf.
    pub(super) fn counter_read(&mut self, name: &str) -> Option<Expr> {
        let lv = self.scope.counters().into_iter().find(|c| c.name == name)?;
        let mut cands = Vec::new();
        for (slice, ext) in self.scope.slices() {
            if !lv.index || lv.dim != ext.dim {
                continue;
            }
            let plus = i64::try_from(ext.plus).unwrap_or(0);
            for k in (-lv.lo).max(-1)..=(lv.slack + plus).min(1) {
                cands.push(Expr::Index(slice.clone(), offset(name, k)));
            }
        }
        let read = if !cands.is_empty() && self.c.chance(0.7) {
            cands.swap_remove(self.c.below(cands.len()))
        } else {
            Expr::bin(
                crate::ast::BinOp::Mul,
                Expr::Lit(0.3),
                Expr::Cast(IntExpr::Var(name.into())),
            )
        };
        let leaf = self.typed_leaf();
        Some(Expr::bin(crate::ast::BinOp::Mul, read, leaf))
    }
}
