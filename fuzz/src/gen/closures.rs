//! Closures bound by `let` and array patterns.
//!
//! A closure takes one or two `f64` (called `fc(x[i])`, `fc(a, e)`) or one `&f64` (mapped,
//! `x.iter().map(fc).sum::<f64>()`); its body reads its parameters and captures what an
//! expression there may read (parameters, locals, the enclosing loops' indices). A `move`
//! closure sometimes captures a variable that is assigned after it: it keeps the value it
//! captured. Closures are defined at the top level and in loop bodies, and called anywhere in
//! their scope, other closures' bodies included.
//!
//! `let [a, b] = *p;` (of `p: &[f64; K]`) and `let [a, b, ..] = q;` (of `q: [f64; K]`), with a
//! final `..` and `_` for an element left out, bind an array parameter's elements.

use super::Gen;
use super::scope::LocalKind;
use crate::ast::{Arg, BinOp, ClosureParam, Expr, IterExpr, MapFn, ParamTy, Stmt};

/// Whether `e` reads the variable `name`.
pub(super) fn reads(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Var(v) | Expr::Deref(v) => v == name,
        Expr::Neg(a) => reads(a, name),
        // Conditions are not searched: reading there alone counts as not reading.
        Expr::Bin(_, a, b) | Expr::If(_, a, b) => reads(a, name) || reads(b, name),
        Expr::Method(_, r, args) => reads(r, name) || args.iter().any(|a| reads(a, name)),
        Expr::Call(_, args) => args.iter().any(|a| match a {
            Arg::Float(e) => reads(e, name),
            Arg::ArrayLit(items) => items.iter().any(|e| reads(e, name)),
            Arg::Slice(_) | Arg::Run { .. } | Arg::LocalArray(_) | Arg::LocalRun(..) => false,
        }),
        Expr::Iter(it) => match &it.map {
            MapFn::Closure { body, .. } => reads(body, name),
            _ => false,
        },
        Expr::Array(items) => items.iter().any(|a| reads(a, name)),
        Expr::Output(call, _) => reads(call, name),
        Expr::Lit(_) | Expr::NegInf | Expr::Index(..) | Expr::Cast(_) => false,
    }
}

impl Gen<'_> {
    /// `let fc = [move] |params| body;`, declared in scope. `by_ref`: one `&f64` parameter.
    /// `capture`: a variable the body must read.
    pub(super) fn closure_stmt(&mut self, by_ref: bool, capture: Option<&str>) -> Stmt {
        let count = if !by_ref && self.rng.chance(0.3) {
            2
        } else {
            1
        };
        let mark = self.scope.locals.len();
        let params: Vec<ClosureParam> = (0..count)
            .map(|_| {
                let name = self.fresh("v");
                let kind = LocalKind::Float { by_ref, item: true };
                self.scope.declare_kind(&name, kind, true);
                ClosureParam { name, by_ref }
            })
            .collect();
        let was = self.in_closure;
        self.in_closure = true;
        self.scope.hide_arrays += 1;
        let mut body = self.typed_expr(2);
        self.scope.hide_arrays -= 1;
        for p in &params {
            if !reads(&body, &p.name) {
                let v = self.read_var(&p.name);
                body = Expr::bin(*self.rng.pick(&[BinOp::Add, BinOp::Mul]), body, v);
            }
        }
        if let Some(c) = capture
            && !reads(&body, c)
        {
            body = Expr::bin(BinOp::Add, body, Expr::var(c));
        }
        self.in_closure = was;
        self.scope.truncate(mark);
        let name = self.fresh("fc");
        let sig = params.iter().map(|p| p.by_ref).collect();
        self.scope
            .declare_kind(&name, LocalKind::Closure(sig), false);
        let moved = capture.is_some() || self.rng.chance(0.25);
        // A closure borrowing a counter would keep it borrowed across its step.
        let stepped = self
            .stepping
            .iter()
            .any(|c| super::flow::reads_int(&body, c));
        Stmt::Closure {
            name,
            moved: moved || stepped,
            params,
            body,
        }
    }

    /// A call of a closure in scope taking `f64`s (a leaf if there is none).
    pub(super) fn closure_call(&mut self, depth: u32) -> Expr {
        let callable: Vec<(String, Vec<bool>)> = self
            .scope
            .closures()
            .into_iter()
            .filter(|(_, p)| p.iter().all(|r| !r))
            .collect();
        if callable.is_empty() {
            return self.leaf();
        }
        let (name, params) = self.rng.pick(&callable).clone();
        let args = params
            .iter()
            .map(|_| Arg::Float(self.expr(depth.saturating_sub(1))))
            .collect();
        Expr::Call(name, args)
    }

    /// A closure and its first use, `let k = fc(e);` or `let k = x.iter().map(fc).sum::<f64>()`;
    /// sometimes a `move` closure with the variable it captures assigned after it.
    pub(super) fn closure_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let by_ref = !self.scope.slices().is_empty() && self.rng.chance(0.3);
        let captured = if !by_ref && self.rng.chance(0.25) {
            let name = self.fresh("m");
            let init = self.typed_expr(1);
            out.push(self.let_stmt(&name, true, init));
            Some(name)
        } else {
            None
        };
        out.push(self.closure_stmt(by_ref, captured.as_deref()));
        let Some(Stmt::Closure { name: fc, .. }) = out.last().cloned() else {
            unreachable!("closure_stmt gives a closure");
        };
        if let Some(c) = &captured {
            // The closure keeps the value it captured; the variable moves on.
            let me = Expr::var(c);
            let next = Expr::bin(
                BinOp::Add,
                Expr::bin(BinOp::Mul, Expr::Lit(self.rng.literal(-0.9, 0.9)), me),
                self.typed_expr(1),
            );
            out.push(Stmt::Assign {
                name: c.clone(),
                op: crate::ast::AssignOp::Set,
                value: next,
            });
        }
        let use_ = if by_ref {
            let mut b = self.slice_base(false);
            self.adapt(&mut b, self.w.iter_adaptor);
            if !matches!(b.item, super::chains::Item::Float { by_ref: true }) {
                b = self.slice_base(false);
            }
            Expr::Iter(Box::new(IterExpr {
                chain: b.chain,
                map: MapFn::Named(fc),
                product: false,
            }))
        } else {
            let mut e = self.closure_call(2);
            if self.rng.chance(0.4) {
                let again = self.closure_call(2);
                e = Expr::bin(BinOp::Add, e, again);
            }
            e
        };
        let use_ = match &captured {
            Some(c) => Expr::bin(BinOp::Sub, use_, Expr::var(c)),
            None => use_,
        };
        let name = self.fresh("k");
        out.push(self.let_stmt(&name, false, use_));
        self.results.push(name);
        out
    }

    /// `let [a, b, ..] = *p;` of an array parameter, its names declared.
    pub(super) fn array_pattern(&mut self) -> Option<Stmt> {
        let arrays: Vec<(String, usize, bool)> = self
            .scope
            .params
            .iter()
            .filter_map(|p| match p.ty {
                ParamTy::Array { len, by_ref } => Some((p.name.clone(), len, by_ref)),
                _ => None,
            })
            .collect();
        if arrays.is_empty() {
            return None;
        }
        let (array, len, deref) = self.rng.pick(&arrays).clone();
        // All of them, or the first few and `..` (the macro takes a final `..` only).
        let (count, rest) = if self.rng.chance(0.5) {
            (len, None)
        } else {
            let k = self.rng.range(1, len);
            (k, Some(k))
        };
        let names: Vec<Option<String>> = (0..count)
            .map(|_| {
                if count > 1 && self.rng.chance(0.15) {
                    return None;
                }
                let name = self.fresh("ar");
                let kind = LocalKind::Float {
                    by_ref: false,
                    item: true,
                };
                self.scope.declare_kind(&name, kind, true);
                Some(name)
            })
            .collect();
        Some(Stmt::LetArray {
            names,
            rest,
            array,
            deref,
        })
    }

    /// `let [a, b] = *p;` and a value reading the elements.
    pub(super) fn array_block(&mut self) -> Vec<Stmt> {
        let Some(pattern) = self.array_pattern() else {
            return self.lets_block();
        };
        let name = self.fresh("t");
        let e = self.typed_expr(2);
        let stmt = self.let_stmt(&name, false, e);
        self.results.push(name);
        vec![pattern, stmt]
    }
}
