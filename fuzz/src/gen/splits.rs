//! `split_at`, as the README's language table lists it: `let (a, b) = x.split_at(k);` of a
//! slice parameter, an array parameter or a local array, then the runs read at indices in
//! range, measured, iterated, zipped and passed to helpers taking slices:
//!
//! ```text
//! let (sa1, sb2) = z.split_at(n);          // before: no run the generator bound was `x[..k]`
//! let t3 = sa1[n - 1] * a;                 // `sa1` is `z[..n]`: n elements, `sb2` one
//! let t4 = sb2.iter().map(|&e5| e5.sin()).sum::<f64>();
//! let t6 = sa1.iter().zip(sb2).map(|(&za7, &zb8)| za7 * zb8).sum::<f64>();
//! let t9 = (sb2.len() as f64) * b;
//! let k10 = dot(sa1, y);                   // a helper, its other slices as long
//! ```
//!
//! Where `k` is drawn, each run's length is known as an [`Extent`] (`z: n + 1` split at `1` or
//! `n`, `[f64; K]` at a literal, `y: n` at `n`, `x: n·d` at `d`) or only known to be at most
//! that (`y.split_at(1)` leaves `n - 1`, maybe none): a run of known, non-zero length stays in
//! scope as an array of that length (read at indices in bounds anywhere after, passed to
//! helpers bare, `sa1`, never `&sa1` iterated); a run that may be empty is only iterated,
//! zipped and measured, where it is split.
//!
//! Only a run of a parameter or of a local array is passed; a parameter is then differentiated
//! (added to the function's `wrt`): the macro rejects a run of a slice it does not
//! differentiate passed to a function bare ("`sa1` (a run of a slice) can only be indexed,
//! measured or iterated here", with the rewrite `&x[..k]`).
//!
//! Three blocks in ten copy a part of known length instead, `let mut zs = x[k..].to_vec();` (or
//! `x[..k]`), a local array written and read as `arrays.rs` writes and reads one.
//!
//! Every decision comes from a stream of its own (`Gen::t`), drawn only where `split_at` is
//! not 0: at 0 (the default) the programs are unchanged. No function with a split gets
//! `hessian` (`second_order`): the README does not promise second derivatives through one.

use super::Gen;
use super::arrays::Arr;
use super::scope::LocalKind;
use crate::ast::{
    Adaptor, Arg, ArrayInit, Base, BinOp, Chain, Dim, Expr, Extent, Func, IntExpr, IterExpr, MapFn,
    Pat, Stmt,
};

/// One run of a split: its name and, if known and not zero, its length.
struct Run {
    name: String,
    ext: Option<Extent>,
    /// Whether what was split is a parameter (not a local array or a run): the run may be
    /// passed to a helper, the parameter then differentiated.
    of_param: bool,
    /// Whether what was split is a local array: the run may be passed to a helper by its name
    /// too (lent as the copy `&z[a..b]` is).
    of_local: bool,
}

/// Whether `name` is a run bound by a split (`sa3`, `sb4`: prefixes no other part of the
/// generator gives its names).
pub(super) fn is_run(name: &str) -> bool {
    ["sa", "sb"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Adds to `main`'s `wrt`, if it has one, every parameter a run passed to a helper was split
/// from (`let (sa1, sb2) = x.split_at(n); dot(sa1, y)`: `x`). The macro rejects a run of a
/// slice it does not differentiate passed bare to a function ("can only be indexed, measured
/// or iterated here"), where `&x[..n]` would be taken. Draws nothing.
pub(super) fn differentiate_passed(main: &mut Func) {
    let Some(wrt) = main.wrt.as_mut() else {
        return;
    };
    let mut roots: Vec<(String, String)> = Vec::new();
    splits_of(&main.body, &mut roots);
    let text = format!("{:?}", main.body);
    for (run, root) in &roots {
        // (A local array's run is passed as it is: the array is not a parameter.)
        let param = main.params.iter().any(|p| &p.name == root);
        if param && text.contains(&format!("Slice({run:?})")) && !wrt.contains(root) {
            wrt.push(root.clone());
        }
    }
}

/// Each run split in `body` (at any depth), with the parameter it was split from (through runs
/// of runs).
fn splits_of(body: &[Stmt], roots: &mut Vec<(String, String)>) {
    for s in body {
        match s {
            Stmt::SplitAt {
                left, right, of, ..
            } => {
                let root = roots
                    .iter()
                    .find(|(run, _)| run == of)
                    .map_or_else(|| of.clone(), |(_, r)| r.clone());
                roots.push((left.clone(), root.clone()));
                roots.push((right.clone(), root));
            }
            Stmt::For { body, .. }
            | Stmt::ForIter { body, .. }
            | Stmt::Fold { body, .. }
            | Stmt::While { body, .. }
            | Stmt::Loop(body) => splits_of(body, roots),
            Stmt::If { then, els, .. } => {
                splits_of(then, roots);
                splits_of(els.as_deref().unwrap_or_default(), roots);
            }
            _ => {}
        }
    }
}

/// A length of `k` elements (`None`: none).
fn fixed(k: usize) -> Option<Extent> {
    (k > 0).then_some(Extent {
        dim: Dim::Fixed(k),
        plus: 0,
    })
}

impl Gen<'_> {
    /// Whether a top-level block splits a slice: `split_at` out of 20, on the splits' stream,
    /// drawn only where the weight is not 0.
    pub(super) fn split_chance(&mut self) -> bool {
        self.w.split_at > 0 && self.t.below(20) < self.w.split_at as usize
    }

    /// The block (see the module's docs). Nothing where there is nothing to split.
    pub(super) fn split_block(&mut self) -> Vec<Stmt> {
        let whole: Vec<(String, Extent)> = self
            .scope
            .slices()
            .into_iter()
            .filter(|(_, e)| !matches!(e.dim, Dim::View(_)))
            .collect();
        if whole.is_empty() {
            return Vec::new();
        }
        let (of, ext) = self.t.pick(&whole).clone();
        let of_param = self.scope.params.iter().any(|p| p.name == of);
        let of_local = !of_param && !is_run(&of);
        let cuts = self.cuts(&of, ext);
        let (at, left, right) = cuts[self.t.below(cuts.len())].clone();
        if self.t.chance(0.3) {
            return self.run_copy(of, at, left, right);
        }
        let a = Run {
            name: self.fresh("sa"),
            ext: left,
            of_param,
            of_local,
        };
        let b = Run {
            name: self.fresh("sb"),
            ext: right,
            of_param,
            of_local,
        };
        let mut out = vec![Stmt::SplitAt {
            left: a.name.clone(),
            right: b.name.clone(),
            of,
            at,
        }];
        for run in [&a, &b] {
            if let Some(ext) = run.ext {
                let kind = LocalKind::Array { ext, writer: None };
                self.scope.declare_kind(&run.name, kind, true);
            }
        }
        let reads = self.split_reads(&a, &b, &mut out);
        self.results.extend(reads);
        out
    }

    /// `let mut zs = of[..at].to_vec();` (or `of[at..]`) of a part of known length, written
    /// and read as any local array (`arrays.rs`); nothing where neither part is known.
    fn run_copy(
        &mut self,
        of: String,
        at: IntExpr,
        left: Option<Extent>,
        right: Option<Extent>,
    ) -> Vec<Stmt> {
        let tail = right.is_some() && (left.is_none() || self.t.chance(0.5));
        let (ext, start, end) = match (tail, left, right) {
            (true, _, Some(ext)) => (ext, Some(at), None),
            (false, Some(ext), _) => (ext, None, Some(at)),
            _ => return Vec::new(),
        };
        let name = self.fresh("zs");
        let mut out = vec![Stmt::NewArray {
            name: name.clone(),
            mutable: true,
            vec: true,
            typed: self.t.chance(0.3),
            init: ArrayInit::Run { of, start, end },
        }];
        self.scope
            .declare_kind(&name, LocalKind::Array { ext, writer: None }, true);
        let z = Arr { name, ext, decl: 0 };
        self.array_writes(&z, &mut out);
        let reads = self.array_reads(&z, &mut out);
        self.results.extend(reads);
        out
    }

    /// Where `of` (of length `ext`) may be split, and the two runs' lengths there (`None`:
    /// unknown, or none).
    fn cuts(&self, of: &str, ext: Extent) -> Vec<(IntExpr, Option<Extent>, Option<Extent>)> {
        if let Dim::Fixed(k) = ext.dim {
            let k = k + ext.plus;
            return (0..=k)
                .map(|j| (IntExpr::Const(j), fixed(j), fixed(k - j)))
                .collect();
        }
        let size = self.scope.dim_expr(ext.dim);
        let mut out: Vec<_> = (0..=ext.plus.min(2))
            .map(|j| {
                let rest = Extent {
                    plus: ext.plus - j,
                    ..ext
                };
                (IntExpr::Const(j), fixed(j), Some(rest))
            })
            .collect();
        out.push((size, Some(Extent { plus: 0, ..ext }), fixed(ext.plus)));
        out.push((IntExpr::Len(of.into()), Some(ext), None));
        if ext.plus == 0 {
            out.push((IntExpr::Const(1), fixed(1), None));
        }
        if ext.dim == Dim::Nd {
            for dim in [Dim::N, Dim::D] {
                let part = Extent { dim, plus: 0 };
                out.push((self.scope.dim_expr(dim), Some(part), None));
            }
        }
        out
    }

    /// One to three values reading the runs: an element, a sum over one, the two zipped, a
    /// length, a call of a helper given one. Returns their names.
    fn split_reads(&mut self, a: &Run, b: &Run, out: &mut Vec<Stmt>) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..self.t.range(1, 3) {
            let run = if self.t.chance(0.5) { a } else { b };
            let known = u32::from(run.ext.is_some());
            let helpers = u32::from(!self.slice_helpers().is_empty()) * known;
            let value = match self.t.weighted(&[3 * known, 3, 2, 2, 2 * helpers]) {
                0 => self.run_element(run),
                1 => self.run_sum(run),
                2 => self.runs_zipped(a, b),
                3 => {
                    let len = Expr::Cast(IntExpr::Len(run.name.clone()));
                    Expr::bin(BinOp::Mul, len, self.typed_expr(1))
                }
                _ => match self.run_passed(run) {
                    Some(call) => call,
                    None => self.run_sum(run),
                },
            };
            let name = self.fresh("t");
            out.push(self.let_stmt(&name, false, value));
            names.push(name);
        }
        names
    }

    /// `run[i] * e` (or `+`) at an index in bounds: the run's length is known.
    fn run_element(&mut self, run: &Run) -> Expr {
        let options = self.indices(run.ext.unwrap_or(Extent {
            dim: Dim::Fixed(1),
            plus: 0,
        }));
        let index = options[self.t.below(options.len())].0.clone();
        let element = Expr::Index(run.name.clone(), index);
        let e = self.typed_expr(1);
        let op = *self.t.pick(&[BinOp::Mul, BinOp::Add, BinOp::Sub]);
        Expr::bin(op, element, e)
    }

    /// `run.iter().map(|&e| f(e)).sum::<f64>()`, or `.sum()` of the items themselves.
    fn run_sum(&mut self, run: &Run) -> Expr {
        let chain = Chain {
            base: Base::Iter(run.name.clone()),
            adaptors: Vec::new(),
        };
        let map = if self.t.chance(0.25) {
            MapFn::Items
        } else {
            let e = self.fresh("e");
            let body = self.item_body(&[e.as_str()]);
            MapFn::Closure {
                pat: Pat::Deref(e),
                body,
            }
        };
        Expr::Iter(Box::new(IterExpr {
            chain,
            map,
            product: false,
        }))
    }

    /// `a.iter().zip(b).map(|(&u, &v)| f(u, v)).sum::<f64>()`: as many pairs as the shorter run.
    fn runs_zipped(&mut self, a: &Run, b: &Run) -> Expr {
        let (u, v) = (self.fresh("za"), self.fresh("zb"));
        let body = self.item_body(&[u.as_str(), v.as_str()]);
        let other = Chain {
            base: Base::Bare(b.name.clone()),
            adaptors: Vec::new(),
        };
        Expr::Iter(Box::new(IterExpr {
            chain: Chain {
                base: Base::Iter(a.name.clone()),
                adaptors: vec![Adaptor::Zip(Box::new(other))],
            },
            map: MapFn::Closure {
                pat: Pat::Pair(Box::new(Pat::Deref(u)), Box::new(Pat::Deref(v))),
                body,
            },
            product: false,
        }))
    }

    /// A closure body reading the items `items` (floats by value): their product, or one of
    /// them times an expression.
    fn item_body(&mut self, items: &[&str]) -> Expr {
        let mark = self.scope.locals.len();
        for v in items {
            self.scope.declare(v, true);
        }
        let was = self.in_closure;
        self.in_closure = true;
        let e = self.typed_expr(1);
        self.in_closure = was;
        self.scope.truncate(mark);
        let first = Expr::var(items[0]);
        let read = match items.get(1) {
            Some(second) if self.t.chance(0.5) => Expr::bin(BinOp::Mul, first, Expr::var(second)),
            Some(second) => Expr::bin(BinOp::Sub, first, Expr::var(second)),
            None => first,
        };
        match self.t.below(3) {
            0 => Expr::bin(BinOp::Mul, read, e),
            1 => Expr::bin(BinOp::Add, read, e),
            _ => Expr::method(crate::ast::Method::Sin, read, vec![]),
        }
    }

    /// A call of a scalar helper taking slices given the run bare (`dot(sa1, y)`), its other
    /// slices as long (`local_args.rs`).
    fn run_passed(&mut self, run: &Run) -> Option<Expr> {
        let ext = run.ext.filter(|_| run.of_param || run.of_local)?;
        let helpers: Vec<_> = self
            .slice_helpers()
            .into_iter()
            .filter(|h| h.outputs.is_none())
            .collect();
        if helpers.is_empty() {
            return None;
        }
        let h = self.t.pick(&helpers).clone();
        self.call_with(&h, Some((Arg::Slice(run.name.clone()), ext)), 2)
    }
}
