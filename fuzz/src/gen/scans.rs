//! Recurrences through a local array's elements (scans): a loop writing `z[i]` from the element
//! the previous iteration wrote, `z[i - 1]`, in `for i in a..b` (`a` 1, 2 or a size), or (per
//! `array_scan_rev`) from `z[i + 1]` in `for i in (a..b).rev()`, `b` within the array or its
//! length with the guarded read `if i + 1 < z.len() { z[i + 1] } else { 0.0 }`.
//!
//! - Bodies: products (`z[i - 1] * e`), sums, `(c * z[i - 1] + e).tanh()`, `e - c * z[i - 1]`,
//!   `z[i - 1].sin() + e`, a `+=` reading the element as it was too; the write under `if c`
//!   (sometimes on the previous element) with another under `else` or none (the element keeps
//!   its value); loop-local `let`s, `if c { continue; }` before the write, `if c { break; }`
//!   before or after it; a second write `z[i] += e`.
//! - Read in the loop (per `array_scan_read`): a float declared before the loop sums or
//!   recurs on the element the iteration wrote or the previous one (`sr += z[i] * e;`, `sr =
//!   c * sr + z[i - 1];`, `sr += z[i].sin() + e;`), after the write, read after the loop.
//! - Where: a block at the top level, or the body of a loop (a scan per row), not inside a
//!   loop updating a recurrence (`local_array_in_recurrence`).
//! - Reads after the loop: any element, sums over the array (loops, iteration), with the reads
//!   `arrays.rs` writes, and the array passed to a helper taking slices (`let k = dot(&z, y);`).
//!
//! The element is written at the loop's own index only, the previous one read only as
//! `z[i - 1]` (`z[i + 1]` reversed) with the literal offset the macro takes, and every index is
//! in bounds: a forward loop starts at 1 or more, a reversed one ends before the last element
//! or guards its read. Conditions of `break` and `continue` do not read the array (the macro
//! rejects a `break` on an element the loop wrote before it). Every decision is drawn from a
//! stream of its own, and only where `array_scan` is not 0: at 0 (the default) the programs are
//! unchanged.

use super::Gen;
use super::arrays::Arr;
use super::scope::{LocalKind, LoopVar};
use crate::ast::{
    Adaptor, Arg, ArrayInit, AssignOp, Base, BinOp, Chain, CmpOp, Cond, Dim, Expr, Extent, IntExpr,
    Method, Pat, Range, Stmt,
};

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::bin(op, a, b)
}

/// `if cond { s }`.
fn when(cond: Cond, s: Stmt) -> Stmt {
    Stmt::If {
        cond,
        then: vec![s],
        els: None,
    }
}

impl Gen<'_> {
    /// Whether to write a scan here: `array_scan` out of 20, on the scans' stream, drawn only
    /// where the weight is not 0.
    pub(super) fn scan_chance(&mut self) -> bool {
        self.w.array_scan > 0 && self.q.below(20) < self.w.array_scan as usize
    }

    /// Top level: a local array, its scan, and values reading it (the block's results).
    pub(super) fn array_scan_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let z = self.scan_array(&mut out);
        let read = self.scan_loop(&z, &mut out);
        self.results.extend(read);
        let mut reads = self.array_reads(&z, &mut out);
        reads.extend(self.scan_passed(&z, &mut out));
        self.results.extend(reads);
        out
    }

    /// In a loop body: an array of its own and its scan (a scan per row), read by what follows
    /// (the values read are locals the body's updates may read).
    pub(super) fn loop_array_scan(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let z = self.scan_array(&mut out);
        let _ = self.scan_loop(&z, &mut out);
        let _ = self.array_reads(&z, &mut out);
        let _ = self.scan_passed(&z, &mut out);
        out
    }

    /// Sometimes `let k = dot(&z, ..);`: the scanned array passed to a helper taking slices
    /// (scalar-valued), its other slices as long (`local_args.rs`). Returns the local's name.
    fn scan_passed(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> Option<String> {
        let helpers: Vec<_> = self
            .slice_helpers()
            .into_iter()
            .filter(|h| h.outputs.is_none())
            .collect();
        if helpers.is_empty() || !self.q.chance(0.4) {
            return None;
        }
        let h = self.q.pick(&helpers).clone();
        let call = self.call_with(&h, Some((Arg::LocalArray(z.name.clone()), z.ext)), 2)?;
        let name = self.fresh("k");
        out.push(self.let_stmt(&name, false, call));
        Some(name)
    }

    /// `let mut z: Vec<f64> = vec![v; len];` (or `[f64; K]`), sometimes its first or last
    /// element set after.
    fn scan_array(&mut self, out: &mut Vec<Stmt>) -> Arr {
        let dims: Vec<Dim> = self.scope.dims();
        let ext = if !dims.is_empty() && self.q.chance(0.8) {
            let dim = *self.q.pick(&dims);
            Extent {
                dim,
                plus: usize::from(self.q.chance(0.2)),
            }
        } else {
            Extent {
                dim: Dim::Fixed(*self.q.pick(&[1, 2, 3, 4, 5])),
                plus: 0,
            }
        };
        let len = match ext.dim {
            Dim::Fixed(k) => IntExpr::Const(k),
            dim if ext.plus == 0 => self.scope.dim_expr(dim),
            dim => IntExpr::plus(self.scope.dim_expr(dim), IntExpr::Const(ext.plus)),
        };
        let value = match self.q.below(3) {
            0 => Expr::Lit(0.0),
            1 => Expr::Lit(self.rng.literal(-1.5, 1.5)),
            _ => self.expr(1),
        };
        let name = self.fresh("zs");
        let kind = LocalKind::Array { ext, writer: None };
        self.scope.declare_kind(&name, kind, true);
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: !matches!(ext.dim, Dim::Fixed(_)) || self.q.chance(0.5),
            typed: true,
            init: ArrayInit::Repeat { value, len },
        });
        let z = Arr {
            name,
            ext,
            decl: out.len() - 1,
        };
        if self.q.chance(0.3) {
            let index = if self.q.chance(0.5) {
                IntExpr::Const(0)
            } else {
                self.last_index(&z)
            };
            let value = self.expr(2);
            out.push(Stmt::SetElem {
                array: z.name.clone(),
                index,
                op: AssignOp::Set,
                value,
            });
        }
        z
    }

    /// The last index: `K - 1`, `n - 1` of an array of `n`, `n` of one of `n + 1` (not
    /// `z.len() - 1`: `z.len()` borrows the `Vec` being written).
    fn last_index(&self, z: &Arr) -> IntExpr {
        match z.ext.dim {
            Dim::Fixed(k) => IntExpr::Const(k - 1),
            dim if z.ext.plus == 0 => IntExpr::minus(self.scope.dim_expr(dim), IntExpr::Const(1)),
            dim => self.scope.dim_expr(dim),
        }
    }

    /// The scan's loop over `z`: forward (`for i in a..b { z[i] = f(z[i - 1]) }`) or, per
    /// `array_scan_rev` out of 10, reversed (`for i in (a..b).rev() { z[i] = f(z[i + 1]) }`).
    /// Per `array_scan_read` out of 10, a float before the loop reads the scan's elements in
    /// it (see `scan_reader`): returns its name, declared after the loop (the loop's own
    /// expressions do not read it).
    fn scan_loop(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> Option<String> {
        let reversed =
            self.w.array_scan_rev > 0 && self.q.below(10) < self.w.array_scan_rev as usize;
        let two = self.w.array_scan_two_back > 0
            && self.q.below(10) < self.w.array_scan_two_back as usize;
        let var = self.index_name();
        let plus = i64::try_from(z.ext.plus).unwrap_or(0);
        let full = if self.q.chance(0.5) {
            IntExpr::Len(z.name.clone())
        } else {
            self.scope.dim_expr(z.ext.dim)
        };
        let full_is_len = matches!(full, IntExpr::Len(_)) || plus == 0;
        // (`full` is `n` of an array of `n + 1`: one short of the end, slack 1 - 1 = 0.)
        let full_slack = if full_is_len { -plus } else { 0 };
        let (range, lv, back, guarded) = if reversed {
            // `(0..full - 1).rev()` reads `z[i + 1]` in bounds; `(0..full).rev()` of the whole
            // array guards the read (the element past the end is 0.0).
            let guard = full_is_len && self.q.chance(0.5);
            let end = if guard {
                full
            } else {
                IntExpr::minus(full, IntExpr::Const(1))
            };
            let slack = if guard { full_slack } else { full_slack + 1 };
            let range = Range {
                start: IntExpr::Const(0),
                end,
            };
            let back = IntExpr::plus(IntExpr::Var(var.clone()), IntExpr::Const(1));
            (
                range,
                LoopVar::new(var.clone(), z.ext.dim, 0, slack),
                back,
                guard,
            )
        } else {
            let sizes: Vec<IntExpr> = self
                .scope
                .dims()
                .into_iter()
                .filter(|d| matches!(d, Dim::N | Dim::D))
                .map(|d| self.scope.dim_expr(d))
                .collect();
            let start = match self.q.weighted(&[6, 1, u32::from(!sizes.is_empty()) * 3]) {
                1 => IntExpr::Const(2),
                2 => self.q.pick(&sizes).clone(),
                _ => IntExpr::Const(1),
            };
            // Two back: from 2 or 3, where `z[i - 2]` is in bounds.
            let start = match start {
                _ if two && self.q.chance(0.7) => IntExpr::Const(2),
                _ if two => IntExpr::Const(3),
                start => start,
            };
            let (end, slack) = if self.q.chance(0.25) {
                (IntExpr::minus(full, IntExpr::Const(1)), full_slack + 1)
            } else {
                (full, full_slack)
            };
            let back = IntExpr::minus(IntExpr::Var(var.clone()), IntExpr::Const(1));
            let range = Range { start, end };
            let lo = if two { 2 } else { 1 };
            (
                range,
                LoopVar::new(var.clone(), z.ext.dim, lo, slack),
                back,
                false,
            )
        };
        // The element two back: `z[i - 2]`, or reversed the guarded `z[i + 2]`.
        let back2 = two.then(|| {
            let i = IntExpr::Var(var.clone());
            let at = |k| IntExpr::plus(i.clone(), IntExpr::Const(k));
            if reversed {
                let inside = Cond::Int(CmpOp::Lt, at(2), IntExpr::Len(z.name.clone()));
                let read = Expr::Index(z.name.clone(), at(2));
                Expr::If(Box::new(inside), Box::new(read), Box::new(Expr::Lit(0.0)))
            } else {
                Expr::Index(z.name.clone(), IntExpr::minus(i, IntExpr::Const(2)))
            }
        });
        let reader = (self.w.array_scan_read > 0
            && self.q.below(10) < self.w.array_scan_read as usize)
            .then(|| self.fresh("sr"));
        if let Some(r) = &reader {
            out.push(Stmt::Let {
                name: r.clone(),
                mutable: true,
                value: Expr::Lit(0.0),
            });
        }
        let body = self.scan_body(z, (&var, lv), (back, guarded, back2), reader.as_deref());
        if let Some(r) = &reader {
            self.scope.declare(r, false);
        }
        let counted = self.w.array_scan_enumerate > 0
            && self.q.below(10) < self.w.array_scan_enumerate as usize;
        out.push(scan_for(reversed, counted, var, range, body));
        reader
    }

    /// `reader`'s update in the scan's body, after the write: a sum or a recurrence on the
    /// element the iteration wrote (`z[i]`) or the previous one (`prev`).
    fn scan_reader(&mut self, z: &Arr, var: &str, prev: &Expr, reader: &str) -> Stmt {
        let element = if self.q.chance(0.5) {
            Expr::Index(z.name.clone(), IntExpr::Var(var.to_string()))
        } else {
            prev.clone()
        };
        let e = self.expr(1);
        let (op, value) = match self.q.below(3) {
            0 => (AssignOp::Add, bin(BinOp::Mul, element, e)),
            1 => {
                let c = Expr::Lit(self.rng.literal(-0.9, 0.9));
                let decayed = bin(BinOp::Mul, c, Expr::Var(reader.to_string()));
                (AssignOp::Set, bin(BinOp::Add, decayed, element))
            }
            _ => (
                AssignOp::Add,
                bin(BinOp::Add, Expr::method(Method::Sin, element, vec![]), e),
            ),
        };
        Stmt::Assign {
            name: reader.to_string(),
            op,
            value,
        }
    }

    /// The scan's body: `let`s, `continue`, `break`, the write of `z[i]` from `prev` (the element
    /// one step back, through `if i + 1 < z.len() { .. } else { 0.0 }` where `guarded`).
    fn scan_body(
        &mut self,
        z: &Arr,
        (var, lv): (&str, LoopVar),
        (back, guarded, back2): (IntExpr, bool, Option<Expr>),
        reader: Option<&str>,
    ) -> Vec<Stmt> {
        self.set_writer(&z.name, Some(var.to_string()));
        self.scope.loops.push(lv);
        self.nesting += 1;
        let mark = self.scope.locals.len();
        let mut body = Vec::new();
        let exit_cond = |g: &mut Self| {
            g.scope.hide_arrays += 1;
            let c = if g.nesting > 1 && g.w.inner_exit_floats == 0 {
                g.int_cond()
            } else {
                g.cond()
            };
            g.scope.hide_arrays -= 1;
            c
        };
        // A `break` comes before any `continue` (`exit_after_continue = 0`: the macro rejects
        // one after).
        let brk = self.q.chance(0.15).then(|| exit_cond(self));
        let skip = self.q.chance(0.2).then(|| exit_cond(self));
        let early = skip.is_some() || self.q.chance(0.5);
        if early && let Some(c) = &brk {
            body.push(when(c.clone(), Stmt::Break));
        }
        if let Some(c) = skip {
            body.push(when(c, Stmt::Continue));
        }
        if self.q.chance(0.3) {
            let t = self.fresh("t");
            let e = self.expr(2);
            body.push(self.let_stmt(&t, false, e));
        }
        let prev = Expr::Index(z.name.clone(), back);
        let prev = if guarded {
            let inside = Cond::Int(
                CmpOp::Lt,
                IntExpr::plus(IntExpr::Var(var.to_string()), IntExpr::Const(1)),
                IntExpr::Len(z.name.clone()),
            );
            Expr::If(Box::new(inside), Box::new(prev), Box::new(Expr::Lit(0.0)))
        } else {
            prev
        };
        let write = self.scan_write(z, var, &prev, back2.as_ref());
        let write = if self.q.chance(0.3) {
            let cond = if self.q.chance(0.4) {
                let op = *self.q.pick(&[CmpOp::Lt, CmpOp::Gt]);
                Cond::Float(op, prev.clone(), Expr::Lit(self.rng.literal(-0.6, 0.6)))
            } else {
                self.scope.hide_arrays += 1;
                let c = self.cond();
                self.scope.hide_arrays -= 1;
                c
            };
            let els = self
                .q
                .chance(0.4)
                .then(|| vec![self.scan_write(z, var, &prev, back2.as_ref())]);
            Stmt::If {
                cond,
                then: vec![write],
                els,
            }
        } else {
            write
        };
        body.push(write);
        if self.q.chance(0.1) {
            let e = self.expr(2);
            body.push(Stmt::SetElem {
                array: z.name.clone(),
                index: IntExpr::Var(var.to_string()),
                op: AssignOp::Add,
                value: e,
            });
        }
        if let Some(r) = reader {
            // (Sometimes of the element two back.)
            let prev = match &back2 {
                Some(p2) if self.q.chance(0.5) => p2.clone(),
                _ => prev,
            };
            let read = self.scan_reader(z, var, &prev, r);
            body.push(read);
        }
        if !early && let Some(c) = brk {
            body.push(when(c, Stmt::Break));
        }
        self.scope.truncate(mark);
        self.nesting -= 1;
        self.scope.loops.pop();
        self.set_writer(&z.name, None);
        body
    }

    /// `z[i] = f(prev);` (or `z[i] += f(prev);`, reading the element as it was too); with
    /// `prev2` (the element two back), mostly `f(prev, prev2)`.
    fn scan_write(&mut self, z: &Arr, var: &str, prev: &Expr, prev2: Option<&Expr>) -> Stmt {
        let e = self.expr(1);
        let two = prev2.filter(|_| self.q.chance(0.7)).cloned();
        let value = match self.q.below(6) {
            k if let Some(p2) = two => {
                let (c0, c1) = (
                    Expr::Lit(self.rng.literal(-0.7, 0.7)),
                    Expr::Lit(self.rng.literal(-0.7, 0.7)),
                );
                let lin = bin(
                    BinOp::Add,
                    bin(BinOp::Mul, c0, prev.clone()),
                    bin(BinOp::Mul, c1, p2.clone()),
                );
                match k % 3 {
                    0 => bin(BinOp::Add, lin, e),
                    1 => Expr::method(Method::Tanh, bin(BinOp::Sub, lin, e), vec![]),
                    _ => bin(
                        BinOp::Add,
                        bin(
                            BinOp::Mul,
                            prev.clone(),
                            Expr::method(Method::Sin, p2, vec![]),
                        ),
                        e,
                    ),
                }
            }
            0 => {
                let e = if self.is_typed(&e) { self.factor(e) } else { e };
                bin(BinOp::Mul, prev.clone(), e)
            }
            1 => bin(BinOp::Add, prev.clone(), e),
            2 => {
                let c = Expr::Lit(self.rng.literal(-0.9, 0.9));
                let inner = bin(BinOp::Add, bin(BinOp::Mul, c, prev.clone()), e);
                Expr::method(Method::Tanh, inner, vec![])
            }
            3 => {
                let c = Expr::Lit(self.rng.literal(-0.9, 0.9));
                bin(BinOp::Sub, e, bin(BinOp::Mul, c, prev.clone()))
            }
            4 => bin(
                BinOp::Add,
                Expr::method(Method::Sin, prev.clone(), vec![]),
                e,
            ),
            _ => {
                let own = Expr::Index(z.name.clone(), IntExpr::Var(var.to_string()));
                bin(
                    BinOp::Add,
                    own,
                    bin(BinOp::Mul, Expr::Lit(0.5), prev.clone()),
                )
            }
        };
        let op = if self.q.chance(0.15) {
            AssignOp::Add
        } else {
            AssignOp::Set
        };
        Stmt::SetElem {
            array: z.name.clone(),
            index: IntExpr::Var(var.to_string()),
            op,
            value,
        }
    }
}

/// The scan's loop: `for i in a..b`, `for i in (0..b).rev()`, or per `counted` at `enumerate`'s
/// count over `0..b`, `(0..b).enumerate().skip(a)`, `(0..b).enumerate().rev()`: the same
/// indices.
fn scan_for(reversed: bool, counted: bool, var: String, range: Range, body: Vec<Stmt>) -> Stmt {
    match (reversed, counted) {
        (true, false) => Stmt::ForIter {
            pat: Pat::Bind(var),
            chain: Chain {
                base: Base::Range(range),
                adaptors: vec![Adaptor::Rev],
            },
            body,
        },
        (false, false) => Stmt::For { var, range, body },
        (true, true) => Stmt::ForIter {
            pat: Pat::Pair(Box::new(Pat::Bind(var)), Box::new(Pat::Wild)),
            chain: Chain {
                base: Base::Range(range),
                adaptors: vec![Adaptor::Enumerate, Adaptor::Rev],
            },
            body,
        },
        (false, true) => Stmt::ForIter {
            pat: Pat::Pair(Box::new(Pat::Bind(var)), Box::new(Pat::Wild)),
            chain: Chain {
                base: Base::Range(Range {
                    start: IntExpr::Const(0),
                    end: range.end,
                }),
                adaptors: vec![Adaptor::Enumerate, Adaptor::Skip(range.start)],
            },
            body,
        },
    }
}
