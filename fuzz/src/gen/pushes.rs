//! Buffers grown with `push`, as the README's language table lists them: `let mut z =
//! Vec::new();` (or `Vec::with_capacity(n)`, sometimes typed `: Vec<f64>`), a few pushes
//! outside loops, and one loop pushing once an iteration at the top level of its body, then
//! reads after:
//!
//! ```text
//! let mut pv = Vec::with_capacity(n);      // before: nothing the generator wrote grew a Vec
//! pv.push(a * 0.5);
//! for i in 1..n {
//!     let t = x[i] * w[0];
//!     pv.push((t + a).tanh());
//! }
//! pv.push(b);
//! let t2 = pv[n] * 1.5;                    // an element in bounds (length n + 1)
//! let t3 = (pv.len() as f64) * a;          // the length, as a float
//! let t4 = pv.iter().sum::<f64>();         // a sum, `for &v in &pv`, loops over it
//! let k5 = dot(&pv, z);                    // a helper taking slices, the others as long
//! ```
//!
//! A loop body sometimes grows a buffer of its own the same way, per iteration (`for i in 0..n
//! { let mut pv = Vec::new(); for j in 0..d { pv.push(x[i * d + j] * e); } s += pv[0]; }`),
//! read by the rest of the body.
//!
//! What keeps the programs in the accepted language: the loop pushing is in the array's own
//! body (no push in a loop nested in it, none under `if`, no `continue` or `break` in it),
//! pushes once an iteration, and reads nothing of the array while it grows (the array is
//! declared in the scope only once every push is written). Every pushed value is typed `f64`,
//! so the array is `Vec<f64>` and its elements take methods. Its length is known: the pushes
//! outside loops plus the loop's trip count (`0..n`, `1..n` after a push, `0..x.len()`, `0..K`,
//! `for &v in x`), an [`Extent`] every read is kept in bounds by.
//!
//! Every decision comes from a stream of its own (`Gen::p`), drawn only where `buffer_push` is
//! not 0: at 0 (the default) the programs are unchanged. No function with a push gets
//! `hessian` (`second_order`): the README does not promise second derivatives through one.

use super::Gen;
use super::arrays::Arr;
use super::scope::{LocalKind, LoopVar};
use crate::ast::{
    Arg, ArrayInit, Base, BinOp, Chain, Dim, Expr, Extent, IntExpr, Pat, Range, Stmt,
};

/// How the loop that pushes runs.
enum Head {
    /// `for var in range`.
    Range(Range, LoopVar),
    /// `for &v in slice`.
    Items(String),
}

/// The loop that pushes: its head, and how many iterations it runs.
struct PushLoop {
    head: Head,
    /// The iterations: `dim + plus - minus`.
    trips: Extent,
    /// Iterations fewer than `trips` says (`1..n`: one).
    minus: usize,
}

impl Gen<'_> {
    /// Whether a top-level block grows a `Vec` with `push`: `buffer_push` out of 20, on the
    /// pushes' stream, drawn only where the weight is not 0.
    pub(super) fn push_chance(&mut self) -> bool {
        self.w.buffer_push > 0 && self.p.below(20) < self.w.buffer_push as usize
    }

    /// The block (see the module's docs): the array, its pushes, and values reading it (the
    /// block's results).
    pub(super) fn push_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let reads = self.push_buffer(&mut out);
        self.results.extend(reads);
        out
    }

    /// Whether a loop body (not one updating a recurrence: no local array is built there) grows
    /// a buffer of its own: `buffer_push` out of 40, on the pushes' stream, drawn only where
    /// the weight is not 0.
    pub(super) fn loop_push_chance(&mut self) -> bool {
        self.w.buffer_push > 0
            && (self.recurrence == 0 || self.w.local_array_in_recurrence > 0)
            && self.p.below(40) < self.w.buffer_push as usize
    }

    /// In a loop body: a buffer per iteration (`let mut pv = Vec::new();` in the body, pushed
    /// to by the body and by a loop in it, once an iteration), read by what follows.
    pub(super) fn loop_push_buffer(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let _ = self.push_buffer(&mut out);
        out
    }

    /// `let mut pv = Vec::new();`, its pushes, and values reading it; returns their names.
    fn push_buffer(&mut self, out: &mut Vec<Stmt>) -> Vec<String> {
        let name = self.fresh("pv");
        let capacity = self.capacity();
        let decl = out.len();
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: true,
            typed: self.p.chance(0.3),
            init: ArrayInit::Empty { capacity },
        });
        let looped = !self.scope.dims().is_empty() && self.p.chance(0.85);
        let before = if looped {
            *self.p.pick(&[0, 0, 1, 1, 2])
        } else {
            self.p.range(1, 3)
        };
        self.pushes(&name, before, out);
        let mut ext = Extent {
            dim: Dim::Fixed(0),
            plus: before,
        };
        if looped {
            let head = self.push_loop(before);
            ext = Extent {
                dim: head.trips.dim,
                plus: head.trips.plus + before - head.minus,
            };
            out.push(self.push_loop_stmt(&name, head));
        }
        let after = if looped {
            *self.p.pick(&[0, 0, 0, 1, 2])
        } else {
            self.p.range(0, 1)
        };
        self.pushes(&name, after, out);
        ext.plus += after;
        if let Extent {
            dim: Dim::Fixed(k),
            plus,
        } = ext
        {
            ext = Extent {
                dim: Dim::Fixed(k + plus),
                plus: 0,
            };
        }
        let z = Arr { name, ext, decl };
        self.scope
            .declare_kind(&z.name, LocalKind::Array { ext, writer: None }, true);
        self.pushed_reads(&z, out)
    }

    /// `Vec::new()`'s capacity: none, a size, a slice's length or a literal.
    fn capacity(&mut self) -> Option<IntExpr> {
        let dims = self.scope.dims();
        match self.p.below(4) {
            0 if !dims.is_empty() => {
                let dim = *self.p.pick(&dims);
                Some(self.scope.dim_expr(dim))
            }
            1 => Some(IntExpr::Const(self.p.range(1, 8))),
            _ => None,
        }
    }

    /// `count` pushes of typed values, outside loops.
    fn pushes(&mut self, name: &str, count: usize, out: &mut Vec<Stmt>) {
        for _ in 0..count {
            let value = self.typed_expr(2);
            out.push(Stmt::Push {
                array: name.into(),
                value,
            });
        }
    }

    /// The pushing loop's head: `0..n`, `1..n` (after a push), `0..x.len()`, `0..K`, or `for
    /// &v in x`.
    fn push_loop(&mut self, before: usize) -> PushLoop {
        let dims: Vec<Dim> = self
            .scope
            .dims()
            .into_iter()
            .filter(|d| !matches!(d, Dim::Nd) || self.p.chance(0.3))
            .collect();
        let slices = self.scope.slice_params();
        let weights = [
            u32::from(!dims.is_empty()) * 5,
            u32::from(!dims.is_empty() && before > 0) * 3,
            u32::from(!slices.is_empty()) * 2,
            1,
            u32::from(!slices.is_empty()) * 3,
        ];
        let var = self.index_name();
        let simple = |dim, plus| Extent { dim, plus };
        match self.p.weighted(&weights) {
            choice @ (0 | 1) => {
                let dim = *self.p.pick(&dims);
                let lo = usize::from(choice == 1);
                let range = Range {
                    start: IntExpr::Const(lo),
                    end: self.scope.dim_expr(dim),
                };
                let lv = LoopVar::new(var, dim, i64::from(choice == 1), 0);
                PushLoop {
                    head: Head::Range(range, lv),
                    trips: simple(dim, 0),
                    minus: lo,
                }
            }
            2 => {
                let (slice, e) = self.p.pick(&slices).clone();
                let range = Range {
                    start: IntExpr::Const(0),
                    end: IntExpr::Len(slice),
                };
                let slack = -i64::try_from(e.plus).unwrap_or(0);
                let lv = LoopVar::new(var, e.dim, 0, slack);
                PushLoop {
                    head: Head::Range(range, lv),
                    trips: e,
                    minus: 0,
                }
            }
            3 => {
                let k = self.p.range(1, 4);
                let range = Range {
                    start: IntExpr::Const(0),
                    end: IntExpr::Const(k),
                };
                let lv = LoopVar::new(var, Dim::Fixed(k), 0, 0);
                PushLoop {
                    head: Head::Range(range, lv),
                    trips: simple(Dim::Fixed(k), 0),
                    minus: 0,
                }
            }
            _ => {
                let (slice, e) = self.p.pick(&slices).clone();
                PushLoop {
                    head: Head::Items(slice),
                    trips: e,
                    minus: 0,
                }
            }
        }
    }

    /// `for i in range { [let t = e;] pv.push(e'); }` (or `for &v in x { .. }`): `e'` reads the
    /// index or the item, and the local.
    fn push_loop_stmt(&mut self, name: &str, head: PushLoop) -> Stmt {
        let (mark, loops) = (self.scope.locals.len(), self.scope.loops.len());
        self.nesting += 1;
        let mut body = Vec::new();
        let mut reads = Vec::new();
        let item = match &head.head {
            Head::Range(_, lv) => {
                self.scope.loops.push(lv.clone());
                let i = Expr::Cast(IntExpr::Var(lv.name.clone()));
                reads.push(Expr::bin(BinOp::Mul, Expr::Lit(0.3), i));
                String::new()
            }
            Head::Items(_) => {
                let v = self.fresh("e");
                self.scope.declare(&v, true);
                reads.push(Expr::var(&v));
                v
            }
        };
        if self.p.chance(0.4) {
            let t = self.fresh("t");
            let e = self.typed_expr(2);
            body.push(self.let_stmt(&t, false, e));
            reads.push(Expr::var(&t));
        }
        let mut value = self.typed_expr(2);
        if !reads.is_empty() && self.p.chance(0.8) {
            let r = reads.swap_remove(self.p.below(reads.len()));
            value = if self.p.chance(0.5) {
                Expr::bin(BinOp::Mul, r, value)
            } else {
                Expr::bin(BinOp::Add, value, r)
            };
        }
        body.push(Stmt::Push {
            array: name.into(),
            value,
        });
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.truncate(loops);
        match head.head {
            Head::Range(range, lv) => Stmt::For {
                var: lv.name,
                range,
                body,
            },
            Head::Items(slice) => Stmt::ForIter {
                pat: Pat::Deref(item),
                chain: Chain {
                    base: Base::Bare(slice),
                    adaptors: Vec::new(),
                },
                body,
            },
        }
    }

    /// What reads the grown array after: the generic reads of local arrays (elements in
    /// bounds, loops over it, iteration), and sometimes its length as a float, its sum, or a
    /// call of a helper taking slices it is passed to. Returns the values' names.
    fn pushed_reads(&mut self, z: &Arr, out: &mut Vec<Stmt>) -> Vec<String> {
        let mut names = self.array_reads(z, out);
        if self.p.chance(0.4) {
            let len = Expr::Cast(IntExpr::Len(z.name.clone()));
            let e = self.typed_expr(1);
            let name = self.fresh("t");
            out.push(self.let_stmt(&name, false, Expr::bin(BinOp::Mul, len, e)));
            names.push(name);
        }
        if self.p.chance(0.3) {
            let sum = Expr::Iter(Box::new(crate::ast::IterExpr {
                chain: Chain {
                    base: Base::Iter(z.name.clone()),
                    adaptors: Vec::new(),
                },
                map: crate::ast::MapFn::Items,
                product: false,
            }));
            let name = self.fresh("t");
            out.push(self.let_stmt(&name, false, sum));
            names.push(name);
        }
        let helpers: Vec<_> = self
            .slice_helpers()
            .into_iter()
            .filter(|h| h.outputs.is_none())
            .collect();
        if !helpers.is_empty() && self.p.chance(0.4) {
            let h = self.p.pick(&helpers).clone();
            let first = Some((Arg::LocalArray(z.name.clone()), z.ext));
            if let Some(call) = self.call_with(&h, first, 2) {
                let name = self.fresh("k");
                out.push(self.let_stmt(&name, false, call));
                names.push(name);
            }
        }
        names
    }
}
