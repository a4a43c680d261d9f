//! Top-level blocks (straight-line code, `if`s, early returns, calls; loop nests are in
//! `loops.rs`, closures and array patterns in `closures.rs`) and the final expression that
//! combines their results.

use super::Gen;
use crate::ast::{AssignOp, BinOp, Expr, Method, Stmt};

impl Gen<'_> {
    /// One top-level block.
    pub(super) fn block(&mut self) -> Vec<Stmt> {
        let w = self.w;
        if self.push_chance() {
            return self.push_block();
        }
        if self.split_chance() {
            let block = self.split_block();
            if !block.is_empty() {
                return block;
            }
        }
        if self.local_arg_block_chance() {
            return self.local_arg_block();
        }
        if self.scan_chance() {
            return self.array_scan_block();
        }
        if self.a_twentieth(w.local_array) {
            return self.local_array_block();
        }
        if self.carried_array_chance() {
            return self.carried_array_block();
        }
        if self.layers_chance() {
            return self.layers_block();
        }
        if self.fill_chance() {
            return self.fill_block();
        }
        let arrays = self
            .scope
            .slices()
            .iter()
            .any(|(_, e)| matches!(e.dim, crate::ast::Dim::Fixed(_)));
        let array_w = if arrays { w.block_array } else { 0 };
        match self.x.weighted(&[20, w.block_closure, array_w]) {
            1 => return self.closure_block(),
            2 => return self.array_block(),
            _ => {}
        }
        let loops = if self.scope.dims().is_empty() {
            0
        } else {
            w.block_loop
        };
        let calls = if self.helpers.is_empty() {
            0
        } else {
            w.block_call
        };
        let weights = [
            loops,
            w.block_chain,
            w.block_lets,
            w.block_if,
            w.block_return,
            calls,
        ];
        match self.rng.weighted(&weights) {
            0 => self.loop_block(),
            1 => self.chain_block(),
            2 => self.lets_block(),
            3 => self.if_block(),
            4 => vec![self.early_return()],
            _ => self.call_block(),
        }
    }

    /// `let c1 = e; let c2 = (c1 * c1).sin() + c1; ...`, 1 to 8 deep.
    fn chain_block(&mut self) -> Vec<Stmt> {
        let first = self.typed_expr(2);
        let mut name = self.fresh("c");
        let mut out = vec![self.let_stmt(&name, false, first)];
        for _ in 1..self.rng.range(1, 8) {
            let v = Expr::var(&name);
            let sq = Expr::bin(BinOp::Mul, v.clone(), v.clone());
            let link = match self.rng.below(4) {
                0 => Expr::bin(BinOp::Mul, Expr::method(Method::Tanh, sq, vec![]), v),
                1 => Expr::bin(BinOp::Add, Expr::method(Method::Cos, v.clone(), vec![]), v),
                _ => Expr::bin(BinOp::Add, Expr::method(Method::Sin, sq, vec![]), v),
            };
            name = self.fresh("c");
            out.push(self.let_stmt(&name, false, link));
        }
        self.results.push(name);
        out
    }

    /// `let t = e;` and a shadowing `let t = f(t);` or two.
    pub(super) fn lets_block(&mut self) -> Vec<Stmt> {
        let name = self.fresh("t");
        let first = self.expr(2);
        let mut out = vec![self.let_stmt(&name, false, first)];
        for _ in 0..self.rng.range(0, 2) {
            let v = Expr::var(&name);
            let v = if self.is_typed(&v) {
                v
            } else {
                Expr::bin(BinOp::Add, v, self.typed_leaf())
            };
            let depth = 1;
            let f = self.method_on(v.clone(), depth);
            let other = self.expr(1);
            let next = Expr::bin(BinOp::Add, f, Expr::bin(BinOp::Mul, v, other));
            out.push(self.let_stmt(&name, false, next));
        }
        self.results.push(name);
        out
    }

    /// `let mut v = e; if c { v = e2; } [else { v += e3; }]`, or `let v = if c { a } else { b };`.
    fn if_block(&mut self) -> Vec<Stmt> {
        let name = self.fresh("f");
        if self.rng.chance(0.3) {
            let c = self.cond();
            let e = Expr::if_else(c, self.expr(2), self.expr(2));
            let stmt = self.let_stmt(&name, false, e);
            self.results.push(name);
            return vec![stmt];
        }
        let init = self.expr(2);
        let decl = self.let_stmt(&name, true, init);
        let cond = self.cond();
        let then = self.branch(&name);
        let els = if self.rng.chance(0.6) {
            Some(self.branch(&name))
        } else {
            None
        };
        self.results.push(name);
        vec![decl, Stmt::If { cond, then, els }]
    }

    /// A branch of `if_block`: maybe a local `let`, then an update of `name`.
    fn branch(&mut self, name: &str) -> Vec<Stmt> {
        let mark = self.scope.locals.len();
        let mut out = Vec::new();
        if self.rng.chance(0.3) {
            let t = self.fresh("t");
            let e = self.expr(2);
            out.push(self.let_stmt(&t, false, e));
        }
        let op = *self.rng.pick(&[
            AssignOp::Set,
            AssignOp::Set,
            AssignOp::Add,
            AssignOp::Sub,
            AssignOp::Mul,
        ]);
        let value = self.typed_expr(2);
        out.push(Stmt::Assign {
            name: name.into(),
            op,
            value,
        });
        self.scope.truncate(mark);
        self.scope.set_typed(name);
        out
    }

    /// `if c { return e; }`; out of 10 (`return_size_guard`), on a size (`if n <= 2 { … }`,
    /// `if x.len() == 0 { … }`), a guard clause the gradient is split on.
    fn early_return(&mut self) -> Stmt {
        let on_size =
            self.w.return_size_guard > 0 && self.c.below(10) < self.w.return_size_guard as usize;
        let cond = if on_size {
            self.size_cond()
        } else {
            self.cond()
        };
        let value = self.returned(2);
        Stmt::If {
            cond,
            then: vec![Stmt::Return(value)],
            els: None,
        }
    }

    /// `let k = helper(...);`.
    fn call_block(&mut self) -> Vec<Stmt> {
        if let Some(h) = self.vector_helper()
            && self.v.chance(0.5)
        {
            return self.outputs_block(&h);
        }
        let name = self.fresh("k");
        let e = self.helper_call(2);
        let stmt = self.let_stmt(&name, false, e);
        self.results.push(name);
        vec![stmt]
    }

    /// The returned expression: up to three results (the last always), each maybe reused
    /// twice (`s * s`, `s.sin() + s`) or through a method, combined by `+ - *`.
    pub(super) fn final_expr(&mut self) -> Expr {
        let mut picked: Vec<String> = Vec::new();
        let results = self.results.clone();
        if let Some(last) = results.last() {
            picked.push(last.clone());
        }
        for r in results.iter().rev().skip(1) {
            if picked.len() < 3 && self.rng.chance(0.7) {
                picked.push(r.clone());
            }
        }
        if picked.is_empty() {
            return self.typed_expr(2);
        }
        let mut acc = self.shape(&picked[0]);
        for r in &picked[1..] {
            let op = *self.rng.pick(&[BinOp::Add, BinOp::Sub, BinOp::Mul]);
            let term = self.shape(r);
            acc = Expr::bin(op, acc, term);
        }
        acc
    }

    /// `v`, `v * v`, `v.sin() + v`, or a method of `v`.
    pub(super) fn shape(&mut self, name: &str) -> Expr {
        let v = Expr::var(name);
        match self.rng.below(6) {
            0 => Expr::bin(BinOp::Mul, v.clone(), v),
            1 if self.is_typed(&v) => {
                Expr::bin(BinOp::Add, Expr::method(Method::Sin, v.clone(), vec![]), v)
            }
            2 if self.is_typed(&v) => self.method_on(v, 1),
            _ => v,
        }
    }
}
