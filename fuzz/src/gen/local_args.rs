//! Local arrays passed to helpers in place of a slice parameter (the `helper_local_array`
//! weight), the shapes the README's language table lists for calls: `weigh(&[a * b, a + b],
//! w)`, a `vec!` filled by a loop at its index, `let p = [..]; cross(r, &p)`, and the outputs of
//! a vector-valued helper handed on element by element (`let r = rot(..); f(&[r[0], r[1]])`).
//!
//! - A top-level block builds an array and passes it to a helper taking slices (the scalar
//!   `dot(u, v[, t])` or the vector-valued `r(u, b)`): `let la = [e0, e1];` (or `vec![..]`),
//!   `let mut la = vec![0.0; n]; for i in 0..n { la[i] = e; }`, `let mut la = [0.0; K]; la[0] =
//!   e0; ..`, or written in the call: `&[e0, e1]`, `&[r1, r2 * e]` after `let [r1, r2] =
//!   r(..);`, `&[rv[0], rv[1]]` after `let rv = r(..);`. The call's value (or outputs) is a
//!   result of the function; a named array stays in scope, read and passed on like the others.
//! - Elsewhere, a call of a helper taking slices sometimes gets a local array in scope that no
//!   loop is writing (`&zs`, of `arrays.rs` too) or an array written in the call, `&[e0, e1]`.
//! - The helper's other slices have the same length: another local array of that length, a
//!   slice parameter (or a run of one) as long, an array written in the call, or the same array
//!   again.
//!
//! What keeps the programs in the accepted language: an array is built from expressions, with
//! `=` only, at the top level or in one loop of its own, outside conditions (so a function doing
//! this stays eligible for `hessian`: no array added into or chosen by a condition is given to
//! a call under `hessian`); no array is passed from inside the loop writing it (`Scope::arrays`
//! names the writer); a vector-valued helper's outputs are passed element by element, never the
//! output array whole (`&rv`: rejected by design).
//!
//! Every decision comes from a stream of its own (`Gen::l`), drawn only where the weight is not
//! 0: at 0, the programs are those of the grammar without it.

use super::scope::{LocalKind, LoopVar};
use super::{Gen, Helper};
use crate::ast::{
    Arg, ArrayInit, AssignOp, BinOp, Dim, Expr, Extent, IntExpr, ParamTy, Range, Stmt,
};

/// The length `K` of a fixed array.
fn fixed(k: usize) -> Extent {
    Extent {
        dim: Dim::Fixed(k),
        plus: 0,
    }
}

/// The lengths of fixed arrays, 1 the edge case.
const LENGTHS: [usize; 6] = [1, 2, 2, 3, 3, 4];

impl Gen<'_> {
    /// One in `out_of` tries per the weight `helper_local_array`, on its stream (no draw at 0).
    pub(super) fn l_chance(&mut self, out_of: usize) -> bool {
        let w = self.w.helper_local_array as usize;
        w > 0 && self.l.below(out_of) < w
    }

    /// The helpers taking a slice.
    pub(super) fn slice_helpers(&self) -> Vec<Helper> {
        self.helpers
            .iter()
            .filter(|h| h.params.iter().any(|p| matches!(p.ty, ParamTy::Slice(_))))
            .cloned()
            .collect()
    }

    /// Whether this top-level block passes a local array to a helper (`local_arg_block`).
    pub(super) fn local_arg_block_chance(&mut self) -> bool {
        self.w.helper_local_array > 0 && !self.slice_helpers().is_empty() && self.l_chance(20)
    }

    /// Whether this call of a helper taking slices passes a local array.
    pub(super) fn local_arg_chance(&mut self) -> bool {
        self.l_chance(10)
    }

    /// The local arrays in sight that no loop is writing: name and length. Not the runs of a
    /// split (`splits.rs` passes those itself, only runs of a slice it has differentiated).
    fn built_arrays(&self) -> Vec<(String, Extent)> {
        self.scope
            .arrays()
            .into_iter()
            .filter(|(name, e, writer, _)| {
                writer.is_none() && !matches!(e.dim, Dim::View(_)) && !super::splits::is_run(name)
            })
            .map(|(name, e, _, _)| (name, e))
            .collect()
    }

    /// Whether an array may be written in a call here: not in a loop updating a recurrence,
    /// or in a loop inside one (`local_array_in_recurrence = 0`: the macro rejects an array
    /// built there, and `&[a, b]` in a call is one), nor in a closure bound by `let` (its body
    /// is the body of every loop calling it).
    fn inline_allowed(&self) -> bool {
        (self.recurrence == 0 || self.w.local_array_in_recurrence > 0)
            && self.scope.hide_arrays == 0
    }

    /// `&[e0, e1, ..]` of `k` expressions.
    fn inline_array(&mut self, k: usize, depth: u32) -> Arg {
        Arg::ArrayLit((0..k).map(|_| self.expr(depth)).collect())
    }

    /// The arguments of a call's `count` slice parameters, all of one length: `first` (a
    /// local array, with its length) at one of them, if given, else a local array in scope or
    /// an array written in the call; each other one as long ([`Gen::partner`]). `None` where
    /// there is no local array to pass.
    pub(super) fn local_slice_args(
        &mut self,
        count: usize,
        depth: u32,
        first: Option<(Arg, Extent)>,
    ) -> Option<Vec<Arg>> {
        let sub = depth.saturating_sub(1).min(1);
        let (first, ext) = match first {
            Some(f) => f,
            None => {
                let named = self.built_arrays();
                let inline = self.inline_allowed();
                if !named.is_empty() && (!inline || self.l.chance(0.5)) {
                    let (name, ext) = self.l.pick(&named).clone();
                    if self.w.helper_local_run > 0
                        && self.l.below(10) < self.w.helper_local_run as usize
                    {
                        // `&z[1..]` of a `z` one longer than the call's other arguments.
                        let skip = usize::from(ext.plus > 0 && self.l.chance(0.7));
                        let ext = Extent {
                            dim: ext.dim,
                            plus: ext.plus - skip,
                        };
                        (Arg::LocalRun(name, skip), ext)
                    } else {
                        (Arg::LocalArray(name), ext)
                    }
                } else if inline {
                    let k = *self.l.pick(&LENGTHS);
                    (self.inline_array(k, sub), fixed(k))
                } else {
                    return None;
                }
            }
        };
        let hide = u32::from(self.w.call_run_args == 0);
        self.scope.hide_runs += hide;
        let at = self.l.below(count.max(1));
        let mut out = Vec::with_capacity(count);
        for slot in 0..count {
            let arg = if slot == at {
                first.clone()
            } else {
                self.partner(&first, ext, sub)
            };
            out.push(arg);
        }
        self.scope.hide_runs -= hide;
        Some(out)
    }

    /// An argument of length `ext` beside the local array `first`: another local array as
    /// long, a slice parameter as long (or a run of one), an array written in the call (for a
    /// fixed length), or `first` again.
    fn partner(&mut self, first: &Arg, ext: Extent, depth: u32) -> Arg {
        let arrays: Vec<String> = self
            .built_arrays()
            .into_iter()
            .filter(|(_, e)| *e == ext)
            .map(|(name, _)| name)
            .collect();
        let slices: Vec<String> = self
            .scope
            .slice_params()
            .into_iter()
            .filter(|(_, e)| *e == ext)
            .map(|(name, _)| name)
            .collect();
        let inline = match ext.dim {
            Dim::Fixed(k) if self.inline_allowed() => Some(k + ext.plus),
            _ => None,
        };
        let weights = [
            u32::from(!arrays.is_empty()) * 2,
            u32::from(!slices.is_empty()) * 3,
            u32::from(inline.is_some()) * 2,
            1,
        ];
        match self.l.weighted(&weights) {
            0 => {
                let name = self.l.pick(&arrays).clone();
                if self.w.helper_local_run > 0
                    && self.l.below(10) < self.w.helper_local_run as usize
                {
                    Arg::LocalRun(name, 0)
                } else {
                    Arg::LocalArray(name)
                }
            }
            1 => {
                let whole = self.l.pick(&slices).clone();
                self.slice_arg(whole, ext)
            }
            2 => self.inline_array(inline.unwrap_or(1), depth),
            _ => first.clone(),
        }
    }

    /// A call of `h`, a local array at one of its slice parameters at least (`first`, if
    /// given), the others as long; its floats of nesting `depth - 1`. `None` where there is no
    /// local array to pass.
    pub(super) fn call_with(
        &mut self,
        h: &Helper,
        first: Option<(Arg, Extent)>,
        depth: u32,
    ) -> Option<Expr> {
        let count = h
            .params
            .iter()
            .filter(|p| matches!(p.ty, ParamTy::Slice(_)))
            .count();
        let mut slices = self.local_slice_args(count, depth, first)?.into_iter();
        let args = h
            .params
            .iter()
            .map(|p| match p.ty {
                ParamTy::Slice(_) => slices.next().unwrap_or(Arg::ArrayLit(vec![Expr::Lit(0.0)])),
                _ => Arg::Float(self.expr(depth.saturating_sub(1))),
            })
            .collect();
        Some(Expr::Call(h.name.clone(), args))
    }

    /// Top level: a local array built (or written in the call) and passed to a helper taking
    /// slices, the call's value or outputs results of the function.
    pub(super) fn local_arg_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let dims = !self.scope.dims().is_empty();
        let vector = self.vector_helper().is_some();
        let weights = [3, u32::from(dims) * 3, 3, u32::from(vector) * 3, 2];
        let built = match self.l.weighted(&weights) {
            0 => Some(self.literal_array(&mut out)),
            1 => Some(self.filled_array(&mut out)),
            2 => Some(self.set_array(&mut out)),
            3 => self.outputs_array(&mut out),
            _ => None,
        };
        let first = built.unwrap_or_else(|| {
            let k = *self.l.pick(&LENGTHS);
            (self.inline_array(k, 1), fixed(k))
        });
        let helpers = self.slice_helpers();
        let h = self.l.pick(&helpers).clone();
        let Some(call) = self.call_with(&h, Some(first), 2) else {
            return out;
        };
        if h.outputs.is_some() {
            out.extend(self.bind_outputs(&h, call));
        } else {
            let name = self.fresh("k");
            out.push(self.let_stmt(&name, false, call));
            self.results.push(name);
        }
        out
    }

    /// Declares the built local array `name` of length `ext`.
    fn declare_array(&mut self, name: &str, ext: Extent, typed: bool) {
        let kind = LocalKind::Array { ext, writer: None };
        self.scope.declare_kind(name, kind, typed);
    }

    /// `let la = [e0, e1, ..];` (or `vec![..]`).
    fn literal_array(&mut self, out: &mut Vec<Stmt>) -> (Arg, Extent) {
        let k = *self.l.pick(&LENGTHS);
        let items: Vec<Expr> = (0..k).map(|_| self.expr(2)).collect();
        let typed = items.iter().any(|e| self.is_typed(e));
        let name = self.fresh("la");
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: false,
            vec: self.l.chance(0.3),
            typed: false,
            init: ArrayInit::List(items),
        });
        self.declare_array(&name, fixed(k), typed);
        (Arg::LocalArray(name), fixed(k))
    }

    /// `let mut la = [0.0; K]; la[0] = e0; la[1] = e1; ..` (or `vec![0.0; K]`), an element
    /// sometimes left at 0; a later element may read an earlier one.
    fn set_array(&mut self, out: &mut Vec<Stmt>) -> (Arg, Extent) {
        let k = *self.l.pick(&LENGTHS);
        let name = self.fresh("la");
        let annotated = self.l.chance(0.25);
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: self.l.chance(0.4),
            typed: annotated,
            init: ArrayInit::Repeat {
                value: Expr::Lit(0.0),
                len: IntExpr::Const(k),
            },
        });
        self.declare_array(&name, fixed(k), annotated);
        let skip = if k > 1 && self.l.chance(0.3) {
            Some(self.l.below(k))
        } else {
            None
        };
        for at in (0..k).filter(|at| Some(*at) != skip) {
            let value = self.expr(2);
            if self.is_typed(&value) {
                self.scope.set_typed(&name);
            }
            out.push(Stmt::SetElem {
                array: name.clone(),
                index: IntExpr::Const(at),
                op: AssignOp::Set,
                value,
            });
        }
        (Arg::LocalArray(name), fixed(k))
    }

    /// `let mut la = vec![0.0; len]; for i in 0..len { la[i] = e; }`, `len` a size (`n`, `d`,
    /// `n * d`, `n + 1`) or a slice parameter's length, the loop's end `len` or `la.len()`.
    fn filled_array(&mut self, out: &mut Vec<Stmt>) -> (Arg, Extent) {
        let slices: Vec<(String, Extent)> = self.scope.slice_params();
        let (ext, len) = if !slices.is_empty() && self.l.chance(0.4) {
            let (s, ext) = self.l.pick(&slices).clone();
            (ext, IntExpr::Len(s))
        } else {
            let dims: Vec<Dim> = self.scope.dims();
            let dim = *self.l.pick(&dims);
            let plus = usize::from(self.l.chance(0.2));
            let base = self.scope.dim_expr(dim);
            let len = if plus == 0 {
                base
            } else {
                IntExpr::plus(base, IntExpr::Const(plus))
            };
            (Extent { dim, plus }, len)
        };
        let name = self.fresh("la");
        let annotated = self.l.chance(0.3);
        out.push(Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: true,
            typed: annotated,
            init: ArrayInit::Repeat {
                value: Expr::Lit(0.0),
                len: len.clone(),
            },
        });
        let index = self.index_name();
        let kind = LocalKind::Array {
            ext,
            writer: Some(index.clone()),
        };
        self.scope.declare_kind(&name, kind, annotated);
        let end = if self.l.chance(0.4) {
            IntExpr::Len(name.clone())
        } else {
            len
        };
        let slack = -i64::try_from(ext.plus).unwrap_or(0);
        self.scope
            .loops
            .push(LoopVar::new(index.clone(), ext.dim, 0, slack));
        self.nesting += 1;
        let mark = self.scope.locals.len();
        let mut body = Vec::new();
        if self.l.chance(0.3) {
            let t = self.fresh("t");
            let e = self.expr(2);
            body.push(self.let_stmt(&t, false, e));
        }
        let value = self.expr(2);
        let typed = self.is_typed(&value);
        body.push(Stmt::SetElem {
            array: name.clone(),
            index: IntExpr::Var(index.clone()),
            op: AssignOp::Set,
            value,
        });
        self.scope.truncate(mark);
        self.nesting -= 1;
        self.scope.loops.pop();
        self.set_writer(&name, None);
        if typed {
            self.scope.set_typed(&name);
        }
        out.push(Stmt::For {
            var: index,
            range: Range {
                start: IntExpr::Const(0),
                end,
            },
            body,
        });
        (Arg::LocalArray(name), ext)
    }

    /// The outputs of a call of the vector-valued helper, written in the next call:
    /// `let [r1, r2] = r(..);` then `&[r1, r2 * e]`, or `let rv = r(..);` then `&[rv[0],
    /// rv[1]]` (never `&rv` whole: the macro rejects an output array lent to a call). `None`
    /// where the helper cannot be called.
    fn outputs_array(&mut self, out: &mut Vec<Stmt>) -> Option<(Arg, Extent)> {
        let h = self.vector_helper()?;
        let m = h.outputs.unwrap_or(1);
        let call = self.vector_call(&h, 2)?;
        let items: Vec<Expr> = if h.vec || self.l.chance(0.5) {
            let stmts = self.bind_outputs(&h, call);
            let names: Vec<String> = stmts
                .iter()
                .flat_map(|s| match s {
                    Stmt::LetOutputs { names, .. } => names.clone(),
                    Stmt::Let { name, .. } => vec![name.clone()],
                    _ => Vec::new(),
                })
                .collect();
            out.extend(stmts);
            names.iter().map(|n| Expr::var(n)).collect()
        } else {
            let name = self.fresh("rv");
            out.push(Stmt::Let {
                name: name.clone(),
                mutable: false,
                value: call,
            });
            (0..m)
                .map(|k| Expr::Index(name.clone(), IntExpr::Const(k)))
                .collect()
        };
        let items = items
            .into_iter()
            .map(|e| {
                if self.l.chance(0.35) {
                    let other = self.expr(1);
                    let op = *self.l.pick(&[BinOp::Add, BinOp::Mul, BinOp::Sub]);
                    Expr::bin(op, e, other)
                } else {
                    e
                }
            })
            .collect::<Vec<_>>();
        let k = items.len();
        Some((Arg::ArrayLit(items), fixed(k)))
    }
}
