//! Local arrays, the forms the README's language table lists: created by `vec![v; n]`,
//! `[v; K]`, `vec![a, b, c]`, `[a, b, c]` (sometimes typed, `let mut z: Vec<f64> = ..`),
//! written element by element, read after.
//!
//! - Writes: a loop at its own index over the whole array or part of it (`for c in 0..n`,
//!   `1..n`, `0..z.len() - 1`, `0..K`), with `=`, `+=`, `-=`, `*=`, `/=`, sometimes two writes
//!   in one iteration, an `if c { break; }` before or after the write, loop-local `let`s, a loop
//!   nest computing the element (`let mut q = 0.0; for j .. { q += .. } z[c] = q.tanh();`), and
//!   carried variables updated from the element just written (`m = m.max(z[c])`); and writes
//!   outside loops at any index in bounds (a literal, `n - 1`, an enclosing loop's index for an
//!   array of the loop body).
//! - Elements computed from parameters, data, indices, other arrays, iterator sums, the
//!   per-iteration accumulators of a nest, and (`+=`) the element before.
//! - Reads: elements anywhere after (through `element()`, wherever an expression reads a slice:
//!   at the top level, in later loops and nests, at offsets of the loop indices), loops over the
//!   array (`for c in 0..z.len()`, with an inner loop), iteration (`for &v in &z`, `z.iter()`
//!   with the adaptors of `chains.rs`, `z.windows(2)`, `z.iter().map(..).sum::<f64>()`,
//!   `z.iter().sum::<f64>()`), and through the generic grammar (an array in scope is a slice to
//!   it, see `Scope::slices`).
//! - Arrays of a loop body (GMM's per-point scores: `for i .. { let mut z = vec![0.0; k]; for c
//!   in 0..k { z[c] = .. } .. }`), read by the rest of the body.
//!
//! What keeps the programs in the accepted language and valid Rust:
//!
//! - Only the loop writing an array reads it while it does, and only at its index (`z[c]`): the
//!   array is out of `Scope::slices` then and `element()` offers that one element
//!   ([`Gen::array_candidates`]). The element never reads what the loop carries (its targets
//!   are unreadable there, as in every loop), but for the one float `array_reads_carried`
//!   declares for it, whose update reads only itself and the data.
//! - An array is written where it is declared: at the top level of its own body, or by a loop
//!   directly in it; never under `if` (no write in a branch), never in a closure (closures bound
//!   by `let` do not see local arrays: a closure borrowing one would keep it borrowed across a
//!   later write).
//! - A `break` condition is drawn before the body's locals exist (it reads nothing the loop
//!   assigns), and there is none in a loop updating a target that starts at `±∞`. A condition
//!   after the write does not read the arrays (`local_array_break_reads = 0`: the macro
//!   rejects a `break` on an element the loop wrote before it), one in a loop nested in
//!   another compares integers (`inner_exit_floats = 0`).
//! - No array is built in a loop updating a recurrence, or in a loop inside one
//!   (`local_array_in_recurrence = 0`: the macro rejects that shape).
//! - Every index is in bounds: a loop's range is within the array's length, a write or read
//!   outside the writing loop takes the indices `element()` would take for a slice of that
//!   length. A `/=` divides by `1 + e²`.
//! - rustc sees `vec![0.0; n]` as `Vec<{float}>` until a write of an `f64` value: until then its
//!   elements are not `typed` (no method call on them), and it is not iterated.
//!
//! Every decision to use an array is drawn from a stream of its own (`Gen::a`), and only where a
//! weight allows one: a program without local arrays is the program the grammar without them
//! generates.

use super::Gen;
use super::chains::{Built, Item};
use super::loops::Target;
use super::scope::{LocalKind, LoopVar};
use crate::ast::{
    Adaptor, ArrayInit, AssignOp, Base, BinOp, Chain, Cond, Dim, Expr, Extent, IntExpr, IterExpr,
    MapFn, Pat, Range, RunKind, Stmt,
};

/// A local array in the making: its name, its length, and where its `let` is in the block.
#[derive(Debug, Clone)]
pub(super) struct Arr {
    pub(super) name: String,
    pub(super) ext: Extent,
    pub(super) decl: usize,
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::bin(op, a, b)
}

/// `1.0 + e * e`: positive, at least one.
fn one_plus_square(e: &Expr) -> Expr {
    bin(
        BinOp::Add,
        Expr::Lit(1.0),
        bin(BinOp::Mul, e.clone(), e.clone()),
    )
}

/// `e - 1`, folded on a literal.
fn minus_one(e: IntExpr) -> IntExpr {
    match e {
        IntExpr::Const(c) if c > 0 => IntExpr::Const(c - 1),
        e => IntExpr::minus(e, IntExpr::Const(1)),
    }
}

/// `if cond { break; }`.
fn break_if(cond: Cond) -> Stmt {
    Stmt::If {
        cond,
        then: vec![Stmt::Break],
        els: None,
    }
}

/// The fewest elements an array of extent `e` has (every size is at least 1).
pub(super) fn min_len(e: Extent) -> usize {
    match e.dim {
        Dim::Fixed(k) => k + e.plus,
        _ => 1 + e.plus,
    }
}

/// Whether a loop index with these bounds runs at least once at every size.
fn never_empty(lv: &LoopVar, ext: Extent) -> bool {
    let size = i64::try_from(min_len(Extent { plus: 0, ..ext })).unwrap_or(0);
    lv.lo <= size - 1 - lv.slack
}

impl Gen<'_> {
    /// One in ten tries per the weight, on the arrays' stream (drawn whatever the weight: a
    /// knob at 0 leaves the other decisions on arrays as they were).
    pub(super) fn a_tenth(&mut self, weight: u32) -> bool {
        self.a.below(10) < weight as usize
    }

    /// The elements of a new array: `[e0, .., e(k-1)]` (`list`, of a fixed length `k`), or
    /// `len` copies of a value.
    fn array_init(&mut self, fixed: Option<usize>, list: bool, len: &IntExpr) -> ArrayInit {
        match fixed {
            Some(k) if list => ArrayInit::List((0..k).map(|_| self.expr(2)).collect()),
            _ => {
                // (Per `zero_fills`, drawn only where it is not 0: zeros.)
                let zeros = self.w.zero_fills > 0 && self.a_tenth(self.w.zero_fills);
                let value = match self.a.weighted(&[6, 2, 3]) {
                    _ if zeros => Expr::Lit(0.0),
                    0 => Expr::Lit(0.0),
                    1 => Expr::Lit(self.rng.literal(-1.5, 1.5)),
                    _ => self.expr(1),
                };
                ArrayInit::Repeat {
                    value,
                    len: len.clone(),
                }
            }
        }
    }

    /// Whether rustc knows the elements of an array so built are floats of the program's type.
    fn init_typed(&self, init: &ArrayInit) -> bool {
        match init {
            ArrayInit::Repeat { value, .. } => self.is_typed(value),
            ArrayInit::List(items) => items.iter().any(|e| self.is_typed(e)),
            ArrayInit::Chosen { then, other, .. } => {
                self.init_typed(then) || self.init_typed(other)
            }
            ArrayInit::Copy { .. } | ArrayInit::Empty { .. } | ArrayInit::Run { .. } => true,
        }
    }

    /// One in twenty tries per the weight, the same way.
    pub(super) fn a_twentieth(&mut self, weight: u32) -> bool {
        self.a.below(20) < weight as usize
    }

    /// Top level: a local array, its writes, and values reading it (the block's results).
    pub(super) fn local_array_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let z = self.new_array(&mut out);
        self.array_writes(&z, &mut out);
        let reads = self.array_reads(&z, &mut out);
        self.results.extend(reads);
        out
    }

    /// In a loop body: an array of its own, written, and read by what follows (the values read
    /// are locals the body's updates may read).
    pub(super) fn loop_local_array(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let z = self.new_array(&mut out);
        self.array_writes(&z, &mut out);
        if self.a.chance(0.6) {
            let _ = self.array_reads(&z, &mut out);
        }
        out
    }

    /// `let mut z = vec![v; n];` (or `[v; K]`, `vec![a, b, c]`, `[a, b]`, sometimes typed),
    /// declared.
    fn new_array(&mut self, out: &mut Vec<Stmt>) -> Arr {
        let dims = self.scope.dims();
        let slices: Vec<(String, Extent)> = self
            .scope
            .slices()
            .into_iter()
            .filter(|(_, e)| !matches!(e.dim, Dim::View(_)))
            .collect();
        let weights = [
            u32::from(!dims.is_empty()) * 5,
            u32::from(!slices.is_empty()) * 2,
            4,
        ];
        let (ext, len) = match self.a.weighted(&weights) {
            0 => {
                let dim = *self.a.pick(&dims);
                let len = self.scope.dim_expr(dim);
                if self.a.chance(0.2) {
                    (
                        Extent { dim, plus: 1 },
                        IntExpr::plus(len, IntExpr::Const(1)),
                    )
                } else {
                    (Extent { dim, plus: 0 }, len)
                }
            }
            1 => {
                let (name, ext) = self.a.pick(&slices).clone();
                (ext, IntExpr::Len(name))
            }
            _ => {
                let k = *self.a.pick(&[1, 2, 2, 3, 3, 4]);
                (
                    Extent {
                        dim: Dim::Fixed(k),
                        plus: 0,
                    },
                    IntExpr::Const(k),
                )
            }
        };
        let fixed = match (ext.dim, &len) {
            (Dim::Fixed(k), IntExpr::Const(_)) => Some(k),
            _ => None,
        };
        let vec = fixed.is_none() || self.a.chance(0.5);
        let list = fixed.is_some() && self.a.chance(0.4);
        let mut init = self.array_init(fixed, list, &len);
        if self.w.local_array_chosen > 0 && self.a_tenth(self.w.local_array_chosen) {
            let list = fixed.is_some() && self.a.chance(0.4);
            let other = self.array_init(fixed, list, &len);
            init = ArrayInit::Chosen {
                cond: self.cond(),
                then: Box::new(init),
                other: Box::new(other),
            };
        }
        let annotated = self.a.chance(0.25);
        let typed = annotated || self.init_typed(&init);
        let name = self.fresh("zs");
        let kind = LocalKind::Array { ext, writer: None };
        self.scope.declare_kind(&name, kind, typed);
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec,
            typed: annotated,
            init,
        });
        Arr {
            name,
            ext,
            decl: out.len() - 1,
        }
    }

    /// None to three writes: loops at their index, or one element at the top level. An array
    /// never written is `let`, not `let mut`.
    pub(super) fn array_writes(&mut self, z: &Arr, out: &mut Vec<Stmt>) {
        let count = *self.a.pick(&[0, 1, 1, 1, 2, 2, 3]);
        for _ in 0..count {
            if self.a_tenth(self.w.local_array_add) && !self.scope.dims().is_empty() {
                out.push(self.add_into_nest(z));
            } else if self.a.chance(0.65) {
                self.fill_loop(z, out);
            } else {
                let s = self.element_write(z);
                out.push(s);
            }
        }
        if count == 0
            && let Some(Stmt::NewArray { mutable, .. }) = out.get_mut(z.decl)
        {
            *mutable = false;
        }
    }

    /// `for i in .. { [for j in .. {] z[k] += e; [}] }`: additions into `z` at an index in
    /// bounds, any (a literal, the last, a loop's index where its range is within `z`), each
    /// maybe under `if c { .. }` (with another addition under `else`), and the inner loop too.
    /// No local array is read in the nest (the macro rejects reading one inside the loops
    /// adding into it).
    fn add_into_nest(&mut self, z: &Arr) -> Stmt {
        self.scope.hide_arrays += 1;
        self.nesting += 1;
        let (outer_range, outer) = self.pick_range();
        let outer_name = outer.name.clone();
        self.scope.loops.push(outer);
        let mut body = Vec::new();
        if self.a.chance(0.6) {
            self.nesting += 1;
            let (range, lv) = self.pick_range();
            let var = lv.name.clone();
            self.scope.loops.push(lv);
            let add = self.addition(z);
            let inner = vec![self.maybe_guarded(add, Some(z))];
            self.scope.loops.pop();
            self.nesting -= 1;
            let nest = Stmt::For {
                var,
                range,
                body: inner,
            };
            body.push(self.maybe_guarded(nest, None));
        } else {
            let add = self.addition(z);
            body.push(self.maybe_guarded(add, Some(z)));
        }
        self.scope.loops.pop();
        self.nesting -= 1;
        self.scope.hide_arrays -= 1;
        Stmt::For {
            var: outer_name,
            range: outer_range,
            body,
        }
    }

    /// `z[k] += e;` or `z[k] -= e;` at an index in bounds here.
    fn addition(&mut self, z: &Arr) -> Stmt {
        let options: Vec<IntExpr> = self.indices(z.ext).into_iter().map(|(i, _)| i).collect();
        let index = self.a.pick(&options).clone();
        let index = self.maybe_div_rem(z.ext, index);
        let value = self.expr(2);
        Stmt::SetElem {
            array: z.name.clone(),
            index,
            op: if self.a.chance(0.7) {
                AssignOp::Add
            } else {
                AssignOp::Sub
            },
            value,
        }
    }

    /// `s`, or (`local_array_cond` out of 10) `if c { s }`, sometimes with another addition
    /// into `z` under `else`.
    fn maybe_guarded(&mut self, s: Stmt, z: Option<&Arr>) -> Stmt {
        if !self.a_tenth(self.w.local_array_cond) {
            return s;
        }
        let cond = self.cond();
        let els = match z {
            Some(z) if self.a.chance(0.3) => Some(vec![self.addition(z)]),
            _ => None,
        };
        Stmt::If {
            cond,
            then: vec![s],
            els,
        }
    }

    /// A loop's range over `z` or part of it (`0..n`, `1..z.len()`, `0..n - 1`, `0..n` of an
    /// array of `n + 1`), and what it proves about its index.
    fn fill_range(&mut self, z: &Arr) -> (Range, LoopVar) {
        let name = self.index_name();
        let ext = z.ext;
        let plus = i64::try_from(ext.plus).unwrap_or(0);
        let dim_len = self.scope.dim_expr(ext.dim);
        let full = if self.a.chance(0.4) {
            IntExpr::Len(z.name.clone())
        } else if ext.plus == 0 {
            dim_len.clone()
        } else {
            IntExpr::plus(dim_len.clone(), IntExpr::Const(ext.plus))
        };
        let (start, end, lo, slack) = match self.a.weighted(&[6, 2, 2, u32::from(plus > 0) * 2, 1])
        {
            1 => (1, full, 1, -plus),
            2 => (0, minus_one(full), 0, 1 - plus),
            3 => (0, dim_len, 0, 0),
            4 => (1, minus_one(full), 1, 1 - plus),
            _ => (0, full, 0, -plus),
        };
        let range = Range {
            start: IntExpr::Const(start),
            end,
        };
        (range, LoopVar::new(name, ext.dim, lo, slack))
    }

    /// Marks `z` as written by the loop of index `writer` (`None`: no longer).
    pub(super) fn set_writer(&mut self, z: &str, writer: Option<String>) {
        if let Some(l) = self
            .scope
            .locals
            .iter_mut()
            .rev()
            .find(|l| l.name == z && !l.shadowed)
            && let LocalKind::Array { writer: w, .. } = &mut l.kind
        {
            *w = writer;
        }
    }

    /// The float a loop writing an array carries for its elements to read, per
    /// `array_reads_carried` (drawn only where it is not 0), its `let` pushed to `out`; none
    /// that starts at `±∞` (an element would read it).
    fn read_target(&mut self, out: &mut Vec<Stmt>) -> Option<Target> {
        if self.w.array_reads_carried == 0 || !self.a_tenth(self.w.array_reads_carried) {
            return None;
        }
        let mark = self.scope.locals.len();
        let (stmt, t) = self.declare_target();
        if t.infinite {
            self.scope.truncate(mark);
            return None;
        }
        out.push(stmt);
        Some(t)
    }

    /// The update of `t` from the data (not the arrays) and the element's `value` reading `t`
    /// (`value ± t`, `value * t`); whether the update goes before the write (the element reads
    /// the value after it) or after (the value before).
    fn reading_target(&mut self, t: &Target, value: &mut Expr) -> (Stmt, bool) {
        self.scope.hide_arrays += 1;
        let e = self.typed_expr(1);
        self.scope.hide_arrays -= 1;
        let update = self.update_with(t, e);
        let op = *self.a.pick(&[BinOp::Add, BinOp::Mul, BinOp::Sub]);
        let element = std::mem::replace(value, Expr::Lit(0.0));
        *value = Expr::bin(op, element, Expr::Var(t.name.clone()));
        (update, self.a.chance(0.5))
    }

    /// A second write of the element an iteration wrote (`z[c] += e`, never `=`).
    fn second_write(&mut self, z: &Arr, var: &IntExpr, rows: &[String]) -> Stmt {
        let (op, value) = self.element_value(z, var, rows);
        Stmt::SetElem {
            array: z.name.clone(),
            index: var.clone(),
            op: if op == AssignOp::Set {
                AssignOp::Add
            } else {
                op
            },
            value,
        }
    }

    /// `for c in lo..hi { ..; z[c] op e; .. }`: maybe a carried variable updated from the
    /// element, loop-local `let`s, a nest computing the element, a `break` before or after the
    /// write, a second write of the element.
    fn fill_loop(&mut self, z: &Arr, out: &mut Vec<Stmt>) {
        let (range, lv) = self.fill_range(z);
        // (Per `zero_fills`, drawn only where it is not 0: a plain fill, no `break` and no
        // target.)
        let plain = self.w.zero_fills > 0 && self.a_tenth(self.w.zero_fills);
        let brk = !plain && self.a_tenth(self.w.local_array_break);
        let mut targets = Vec::new();
        if !plain && self.a.chance(0.35) {
            let mark = self.scope.locals.len();
            let (stmt, t) = self.declare_target();
            if t.infinite && (brk || !never_empty(&lv, z.ext)) {
                self.scope.truncate(mark);
            } else {
                out.push(stmt);
                targets.push(t);
            }
        }
        // Per `array_reads_carried` (drawn only where it is not 0): a float the loop carries,
        // updated from the data, that the element reads before or after its update (`h = h *
        // 0.5 + e; z[c] = .. + h;`). Not one starting at `±∞` (an element would read it).
        let read = self.read_target(out);
        for t in targets.iter().chain(&read) {
            self.scope.set_carried(&t.name, true);
        }
        let recurrence = usize::from(targets.iter().chain(&read).any(|t| !t.is_sum()));
        self.recurrence += recurrence;
        let index = lv.name.clone();
        let var = IntExpr::Var(index.clone());
        self.set_writer(&z.name, Some(index.clone()));
        self.scope.loops.push(lv);
        self.nesting += 1;
        let mark = self.scope.locals.len();
        let mut body = Vec::new();
        // The condition is drawn before the body's locals exist: it reads nothing the loop
        // assigns. In a loop inside another, on integers only where `inner_exit_floats` says
        // so; after the write, not reading the arrays unless `local_array_break_reads` says so.
        let early = self.a.chance(0.5);
        let hide = u32::from(!early && self.w.local_array_break_reads == 0);
        self.scope.hide_arrays += hide;
        let brk = match brk {
            false => None,
            true if self.nesting > 1 && self.w.inner_exit_floats == 0 => Some(self.int_cond()),
            true => Some(self.cond()),
        };
        self.scope.hide_arrays -= hide;
        if early && let Some(c) = &brk {
            body.push(break_if(c.clone()));
        }
        if self.a.chance(0.3) {
            let t = self.fresh("t");
            let e = self.expr(2);
            body.push(self.let_stmt(&t, false, e));
        }
        let mut rows = Vec::new();
        // A nest only in a loop at the top level (deeper, some programs took minutes to check).
        let shallow = self.nesting == 1;
        if self.a_tenth(self.w.local_array_nest) && shallow && !self.scope.dims().is_empty() {
            let saved = self.results.len();
            body.extend(self.loop_block());
            rows = self.results.split_off(saved);
        }
        let (op, mut value) = self.element_value(z, &var, &rows);
        let mut after_write = None;
        if let Some(t) = &read {
            let (update, before) = self.reading_target(t, &mut value);
            if before {
                body.push(update);
            } else {
                after_write = Some(update);
            }
        }
        let typed_set = op == AssignOp::Set && self.is_typed(&value);
        let write = Stmt::SetElem {
            array: z.name.clone(),
            index: var.clone(),
            op,
            value,
        };
        let write = self.maybe_conditional(z, &var, &rows, write);
        body.push(write);
        body.extend(after_write);
        if typed_set {
            self.scope.set_typed(&z.name);
        }
        if self.a.chance(0.15) {
            body.push(self.second_write(z, &var, &rows));
        }
        for t in &targets {
            let e = self.reading(Expr::Index(z.name.clone(), var.clone()));
            body.push(self.update_with(t, e));
        }
        if !early && let Some(c) = brk {
            body.push(break_if(c));
        }
        self.scope.truncate(mark);
        self.nesting -= 1;
        self.recurrence -= recurrence;
        self.scope.loops.pop();
        self.set_writer(&z.name, None);
        for t in targets.iter().chain(&read) {
            self.scope.set_carried(&t.name, false);
            self.scope.set_typed(&t.name);
            if self.nesting == 0 {
                self.results.push(t.name.clone());
            }
        }
        out.push(self.fill_for(index, range, body));
    }

    /// `for c in lo..hi { body }`, or sometimes (per `local_array_rev`, on the shapes' stream)
    /// `for c in (lo..hi).rev() { body }`: the same elements, written from the end (up to the
    /// `break`, if any); over `0..hi`, sometimes (per `local_array_enumerate_rev`) as
    /// `for (c, _) in (0..hi).enumerate().rev()`.
    fn fill_for(&mut self, var: String, range: Range, body: Vec<Stmt>) -> Stmt {
        if self.s.below(10) < self.w.local_array_rev as usize {
            let counted = range.start == IntExpr::Const(0)
                && self.w.local_array_enumerate_rev > 0
                && self.s.below(10) < self.w.local_array_enumerate_rev as usize;
            if counted {
                return Stmt::ForIter {
                    pat: Pat::Pair(Box::new(Pat::Bind(var)), Box::new(Pat::Wild)),
                    chain: Chain {
                        base: Base::Range(range),
                        adaptors: vec![Adaptor::Enumerate, Adaptor::Rev],
                    },
                    body,
                };
            }
            return Stmt::ForIter {
                pat: Pat::Bind(var),
                chain: Chain {
                    base: Base::Range(range),
                    adaptors: vec![Adaptor::Rev],
                },
                body,
            };
        }
        Stmt::For { var, range, body }
    }

    /// An expression reading `e` (an element), typed: `e * f`, `f(e)`, `e + f`.
    fn reading(&mut self, e: Expr) -> Expr {
        let e = match self.a.below(4) {
            0 => bin(BinOp::Mul, e, self.expr(1)),
            1 if self.is_typed(&e) => self.method_on(e, 1),
            2 => bin(BinOp::Add, e, self.expr(2)),
            _ => e,
        };
        if self.is_typed(&e) {
            e
        } else {
            let leaf = self.typed_leaf();
            bin(BinOp::Add, e, leaf)
        }
    }

    /// The operator and value of a write of `z[index]`: the value from anything in scope
    /// (elements, the nest's accumulators `rows`, the index, the element before).
    fn element_value(&mut self, z: &Arr, index: &IntExpr, rows: &[String]) -> (AssignOp, Expr) {
        let mut e = self.expr(2);
        match self.a.below(6) {
            0 if !rows.is_empty() => {
                let r = self.a.pick(rows).clone();
                let term = self.shape(&r);
                e = bin(BinOp::Add, term, e);
            }
            1 => {
                let old = Expr::Index(z.name.clone(), index.clone());
                e = bin(BinOp::Mul, old, e);
            }
            2 => {
                let c = bin(BinOp::Mul, Expr::Lit(0.3), Expr::Cast(index.clone()));
                e = bin(BinOp::Add, e, c);
            }
            _ => {}
        }
        match self.a.weighted(&[11, 4, 2, 2, 1]) {
            1 => (AssignOp::Add, e),
            2 => (AssignOp::Sub, e),
            3 => {
                let e = if self.is_typed(&e) { self.factor(e) } else { e };
                (AssignOp::Mul, e)
            }
            4 => (AssignOp::Div, one_plus_square(&e)),
            _ => (AssignOp::Set, e),
        }
    }

    /// `z[i] op e;` outside loops: at a literal, the last index, an enclosing loop's index (an
    /// array of the loop body), anything in bounds.
    fn element_write(&mut self, z: &Arr) -> Stmt {
        // Not `z[z.len() - 1]`: `z.len()` borrows the `Vec` being written.
        let options: Vec<IntExpr> = self.indices(z.ext).into_iter().map(|(i, _)| i).collect();
        let index = self.a.pick(&options).clone();
        let (op, value) = self.element_value(z, &index, &[]);
        if op == AssignOp::Set && self.is_typed(&value) {
            self.scope.set_typed(&z.name);
        }
        let write = Stmt::SetElem {
            array: z.name.clone(),
            index: index.clone(),
            op,
            value,
        };
        self.maybe_conditional(z, &index, &[], write)
    }

    /// `write`, or (`local_array_cond` out of 10) `if c { write }`, sometimes with another
    /// write of the element under `else`. The condition reads no local array.
    fn maybe_conditional(
        &mut self,
        z: &Arr,
        index: &IntExpr,
        rows: &[String],
        write: Stmt,
    ) -> Stmt {
        if !self.a_tenth(self.w.local_array_cond) {
            return write;
        }
        self.scope.hide_arrays += 1;
        let cond = self.cond();
        self.scope.hide_arrays -= 1;
        let els = self.a.chance(0.3).then(|| {
            let (op, value) = self.element_value(z, index, rows);
            vec![Stmt::SetElem {
                array: z.name.clone(),
                index: index.clone(),
                op,
                value,
            }]
        });
        Stmt::If {
            cond,
            then: vec![write],
            els,
        }
    }

    /// One or two values reading `z`: an expression of its elements, a loop over it, an
    /// iteration (typed arrays only). Returns their names.
    pub(super) fn array_reads(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..self.a.range(1, 2) {
            let typed = self.scope.var_typed(&z.name);
            let name = if typed && self.a_tenth(self.w.local_array_iter) {
                self.array_iteration(z, out)
            } else if self.a.chance(0.5) {
                self.array_loop_read(z, out)
            } else {
                self.array_value_read(z, out)
            };
            names.push(name);
        }
        names
    }

    /// An element of `z` in bounds here.
    fn array_element(&mut self, z: &Arr) -> Expr {
        let options = self.indices(z.ext);
        let looped: Vec<&(IntExpr, bool)> = options.iter().filter(|(_, l)| *l).collect();
        let index = if !looped.is_empty() && self.a.chance(0.6) {
            looped[self.a.below(looped.len())].0.clone()
        } else {
            options[self.a.below(options.len())].0.clone()
        };
        let index = self.div_rem_read(&z.name, index);
        Expr::Index(z.name.clone(), index)
    }

    /// `let t = <expression of z's elements>;`.
    fn array_value_read(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> String {
        let a = self.array_element(z);
        let e = match self.a.below(4) {
            0 => bin(BinOp::Mul, a, self.expr(1)),
            1 => {
                let b = self.array_element(z);
                bin(BinOp::Add, a, b)
            }
            2 => self.reading(a),
            _ => bin(BinOp::Sub, self.expr(2), a),
        };
        let name = self.fresh("t");
        out.push(self.let_stmt(&name, false, e));
        name
    }

    /// `let mut s = ..; for c in <part of z> { s op= f(z[c]) }`, sometimes through an inner
    /// loop.
    fn array_loop_read(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> String {
        let (stmt, t) = self.declare_target();
        out.push(stmt);
        let (mut range, mut lv) = self.fill_range(z);
        if t.infinite && !never_empty(&lv, z.ext) {
            lv.lo = 0;
            lv.slack = -i64::try_from(z.ext.plus).unwrap_or(0);
            range = Range {
                start: IntExpr::Const(0),
                end: IntExpr::Len(z.name.clone()),
            };
        }
        self.scope.set_carried(&t.name, true);
        // (A target other than a sum is a recurrence: no local array is built in its loop.)
        let recurrence = usize::from(!t.is_sum());
        self.recurrence += recurrence;
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        self.nesting += 1;
        let element = Expr::Index(z.name.clone(), IntExpr::Var(var.clone()));
        let inner = !t.infinite && !self.scope.dims().is_empty() && self.a.chance(0.3);
        let body = if inner {
            let (r, ilv) = self.pick_range();
            let ivar = ilv.name.clone();
            self.scope.loops.push(ilv);
            self.nesting += 1;
            let e = self.reading(element);
            let e = bin(BinOp::Mul, e, self.typed_leaf());
            let update = self.update_with(&t, e);
            self.nesting -= 1;
            self.scope.loops.pop();
            vec![Stmt::For {
                var: ivar,
                range: r,
                body: vec![update],
            }]
        } else {
            let e = self.reading(element);
            vec![self.update_with(&t, e)]
        };
        self.nesting -= 1;
        self.recurrence -= recurrence;
        self.scope.loops.pop();
        self.scope.set_carried(&t.name, false);
        self.scope.set_typed(&t.name);
        out.push(Stmt::For { var, range, body });
        t.name.clone()
    }

    /// A sum over `z`'s items: `for &v in &z { s += .. }`, `for pat in z.iter()<adaptors> {
    /// .. }`, `for r in z.windows(k) { .. }`, or `let t = z.iter()<adaptors>.map(..).sum::<f64>()`
    /// (or `.sum()` of the items themselves).
    fn array_iteration(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> String {
        let (mark, loops) = (self.scope.locals.len(), self.scope.loops.len());
        let b = match self.a.weighted(&[3, 5, 2]) {
            0 => Built::of(
                Base::Borrow(z.name.clone()),
                Item::Float { by_ref: true },
                z.ext,
            ),
            2 => {
                let kind = *self.a.pick(&[
                    RunKind::Windows,
                    RunKind::Windows,
                    RunKind::Chunks,
                    RunKind::ChunksExact,
                ]);
                let k = self.a.range(1, 3);
                let fixed = if kind == RunKind::Chunks { 1 } else { k };
                Built::of(
                    Base::Runs(kind, z.name.clone(), IntExpr::Const(k)),
                    Item::Run { fixed },
                    z.ext,
                )
            }
            _ => {
                let mut b = Built::of(
                    Base::Iter(z.name.clone()),
                    Item::Float { by_ref: true },
                    z.ext,
                );
                self.adapt(&mut b, 6);
                b
            }
        };
        let sum = self.a.chance(0.4) && !matches!(b.chain.base, Base::Borrow(_));
        if sum {
            let floats = matches!(b.item, Item::Float { .. });
            let map = if floats && self.a.chance(0.3) {
                MapFn::Items
            } else {
                let pat = self.bind(&b.item, "e", Some(0.6));
                let was = self.in_closure;
                self.in_closure = true;
                let body = self.item_term(&pat);
                self.in_closure = was;
                MapFn::Closure { pat, body }
            };
            self.scope.truncate(mark);
            self.scope.loops.truncate(loops);
            let product = self.a.chance(0.15) && matches!(map, MapFn::Items);
            let e = Expr::Iter(Box::new(IterExpr {
                chain: b.chain,
                map,
                product,
            }));
            let name = self.fresh("t");
            out.push(self.let_stmt(&name, false, e));
            return name;
        }
        let s = self.fresh("s");
        out.push(self.let_stmt(&s, true, Expr::Lit(0.0)));
        self.scope.set_carried(&s, true);
        let inner = (self.scope.locals.len(), self.scope.loops.len());
        let pat = self.bind(&b.item, "e", Some(0.6));
        self.nesting += 1;
        let e = self.item_term(&pat);
        self.nesting -= 1;
        self.scope.truncate(inner.0);
        self.scope.loops.truncate(inner.1);
        self.scope.set_carried(&s, false);
        self.scope.set_typed(&s);
        let op = if self.a.chance(0.8) {
            AssignOp::Add
        } else {
            AssignOp::Sub
        };
        out.push(Stmt::ForIter {
            pat,
            chain: b.chain,
            body: vec![Stmt::Assign {
                name: s.clone(),
                op,
                value: e,
            }],
        });
        s
    }

    /// A typed term reading what `pat` binds (a float item, a run's first element, an index).
    fn item_term(&mut self, pat: &Pat) -> Expr {
        let mut reads = Vec::new();
        self.pattern_reads(pat, &mut reads);
        let e = self.typed_expr(1);
        if reads.is_empty() {
            return e;
        }
        let item = reads.swap_remove(self.a.below(reads.len()));
        let item = self.reading(item);
        match self.a.below(3) {
            0 => bin(BinOp::Mul, item, e),
            1 => bin(BinOp::Add, item, e),
            _ => item,
        }
    }

    /// What a pattern's names read as: `*v` or `v` of a float, `r[0]` of a run, `(i as f64)`
    /// of an index.
    fn pattern_reads(&self, pat: &Pat, reads: &mut Vec<Expr>) {
        match pat {
            Pat::Bind(v) | Pat::Deref(v) => {
                let run = self.scope.view_fixed(v).is_some();
                if run {
                    reads.push(Expr::Index(v.clone(), IntExpr::Const(0)));
                } else if self.scope.loops.iter().any(|l| l.name == *v) {
                    reads.push(bin(
                        BinOp::Mul,
                        Expr::Lit(0.3),
                        Expr::Cast(IntExpr::Var(v.clone())),
                    ));
                } else {
                    reads.push(self.read_var(v));
                }
            }
            Pat::Wild => {}
            Pat::Pair(a, b) => {
                self.pattern_reads(a, reads);
                self.pattern_reads(b, reads);
            }
        }
    }
}

impl Gen<'_> {
    /// The elements of local arrays [`Gen::element`] offers besides the slices': the element a
    /// loop writing an array is at, and every element in bounds of an array rustc does not type
    /// as `f64` yet (left out of `Scope::slices`). Draws nothing.
    pub(super) fn array_candidates(
        &self,
        cands: &mut Vec<(String, IntExpr)>,
        weights: &mut Vec<u32>,
    ) {
        for (name, ext, writer, typed) in self.scope.arrays() {
            match writer {
                Some(index) => {
                    cands.push((name, IntExpr::Var(index)));
                    weights.push(12);
                }
                None if !typed => {
                    for (index, looped) in self.indices(ext) {
                        cands.push((name.clone(), index));
                        weights.push(if looped { 6 } else { 2 });
                    }
                }
                None => {}
            }
        }
    }
}
