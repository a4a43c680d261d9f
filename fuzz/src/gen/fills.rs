//! A local array written in a loop nested in another loop, the outer body not reading it: a
//! table filled row by row, a cube filled by three loops, or the whole array rewritten by every
//! iteration of a loop over a size (only the last iteration's values remain, or the array's
//! value before the loop where it runs zero times). The macro carries the array across the
//! outer loop, each iteration patching its stretch in place.
//!
//! ```text
//! let mut tb3: Vec<f64> = vec![0.4; 2 * 3];      // or 2 · 3 · 2 for a cube
//! for i4 in 0..2 {
//!     for j5 in 0..3 {                           // (under `if e > c` sometimes)
//!         tb3[3 * i4 + j5] = e + c·w[j5] + c·x[i4];  // `i4 * 3 + j5`, `j5 + 3 * i4`, `o + j5`
//!     }
//! }
//! let r6 = (tb3[1] * tb3[4] * c).sin() + tb3[5] * tb3[0];
//! ```
//!
//! From a stream of its own, drawn only where `nested_fill` is not 0: at 0 (the default) the
//! programs are unchanged.

use super::Gen;
use super::arrays::min_len;
use crate::ast::{ArrayInit, AssignOp, BinOp, CmpOp, Cond, Expr, IntExpr, Method, Range, Stmt};

/// `for var in 0..end { body }`.
fn counted(var: &str, end: usize, body: Vec<Stmt>) -> Stmt {
    Stmt::For {
        var: var.into(),
        range: Range {
            start: IntExpr::Const(0),
            end: IntExpr::Const(end),
        },
        body,
    }
}

impl Gen<'_> {
    /// Whether a top-level block is a nested fill: `nested_fill` out of 20, on the fills'
    /// stream, drawn only where the weight is not 0 (in a function with a size to loop over).
    pub(super) fn fill_chance(&mut self) -> bool {
        self.w.nested_fill > 0
            && !self.scope.dims().is_empty()
            && self.f.below(20) < self.w.nested_fill as usize
    }

    /// The block (see the module's docs).
    pub(super) fn fill_block(&mut self) -> Vec<Stmt> {
        let name = self.fresh("tb");
        let shape: Vec<usize> = match self.f.below(3) {
            0 => vec![1 + self.f.below(3), 2 + self.f.below(2)],
            1 => vec![2, 1 + self.f.below(2), 2],
            _ => Vec::new(),
        };
        let (len, mut out) = if shape.is_empty() {
            self.overwrite(&name)
        } else {
            let len = shape.iter().product();
            (len, self.table(&name, &shape))
        };
        out.insert(
            0,
            Stmt::NewArray {
                name: name.clone(),
                mutable: true,
                vec: true,
                typed: true,
                init: ArrayInit::Repeat {
                    value: Expr::Lit(self.f.literal(-0.9, 0.9)),
                    len: IntExpr::Const(len),
                },
            },
        );
        let r = self.fresh("r");
        let at = |k: usize| Expr::Index(name.clone(), IntExpr::Const(k));
        let (a, b, c) = (self.f.below(len), self.f.below(len), self.f.below(len));
        let product = Expr::bin(
            BinOp::Mul,
            Expr::bin(BinOp::Mul, at(a), at(b)),
            Expr::Lit(self.f.literal(0.3, 1.2)),
        );
        let read = Expr::bin(
            BinOp::Add,
            Expr::method(Method::Sin, product, vec![]),
            Expr::bin(BinOp::Mul, at(c), at(a)),
        );
        out.push(self.let_stmt(&r, false, read));
        self.scope.set_typed(&r);
        self.results.push(r);
        out
    }

    /// The loops over `shape` (two or three extents) writing `name` at the flat index of their
    /// indices, spelled one of a few ways.
    fn table(&mut self, name: &str, shape: &[usize]) -> Vec<Stmt> {
        let vars: Vec<String> = shape.iter().map(|_| self.fresh("i")).collect();
        let var = |k: usize| IntExpr::Var(vars[k].clone());
        // `B * i + j` (or `i * B + j`, `j + B * i`), `(B * i + j) * C + k` for a cube.
        let mut index = var(0);
        for (k, &extent) in shape.iter().enumerate().skip(1) {
            let scaled = if self.f.chance(0.5) {
                IntExpr::times(IntExpr::Const(extent), index)
            } else {
                IntExpr::times(index, IntExpr::Const(extent))
            };
            index = if self.f.chance(0.7) {
                IntExpr::plus(scaled, var(k))
            } else {
                IntExpr::plus(var(k), scaled)
            };
        }
        // Sometimes the row's offset bound in the outer body: `let o = B * i;` then `o + j`.
        let mut lets = Vec::new();
        if shape.len() == 2 && self.f.chance(0.3) {
            let o = self.fresh("o");
            lets.push(Stmt::LetInt {
                name: o.clone(),
                mutable: false,
                value: IntExpr::times(IntExpr::Const(shape[1]), var(0)),
            });
            index = IntExpr::plus(IntExpr::Var(o), var(1));
        }
        let value = self.fill_value(&vars, shape);
        let mut body = self.fill_guarded(Stmt::SetElem {
            array: name.into(),
            index,
            op: AssignOp::Set,
            value,
        });
        for k in (0..shape.len()).rev() {
            let mut inner = if k == 0 { lets.clone() } else { Vec::new() };
            inner.extend(body);
            body = vec![counted(&vars[k], shape[k], inner)];
        }
        body
    }

    /// A loop over a size whose body rewrites the whole array (`len` elements) in a loop
    /// nested in it: the array's length and the statements.
    fn overwrite(&mut self, name: &str) -> (usize, Vec<Stmt>) {
        let len = 2 + self.f.below(2);
        let (range, lv) = self.pick_range();
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        let mark = self.scope.locals.len();
        self.nesting += 1;
        self.recurrence += 1;
        let j = self.fresh("j");
        let value = self.fill_value(std::slice::from_ref(&j), &[len]);
        let write = self.fill_guarded(Stmt::SetElem {
            array: name.into(),
            index: IntExpr::Var(j.clone()),
            op: AssignOp::Set,
            value,
        });
        let body = vec![counted(&j, len, write)];
        self.recurrence -= 1;
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.pop();
        (len, vec![Stmt::For { var, range, body }])
    }

    /// An element's value: an expression of the data, plus terms reading a slice at each loop
    /// index it is long enough for (`c·w[j]`) or the index itself (`c·(i as f64)`).
    fn fill_value(&mut self, vars: &[String], shape: &[usize]) -> Expr {
        let mut e = self.expr(1);
        for (v, &extent) in vars.iter().zip(shape) {
            let long: Vec<String> = self
                .scope
                .slices()
                .into_iter()
                .filter(|(_, ext)| min_len(*ext) >= extent)
                .map(|(name, _)| name)
                .collect();
            let c = Expr::Lit(self.f.literal(-0.9, 0.9));
            let term = if long.is_empty() || self.f.chance(0.3) {
                Expr::Cast(IntExpr::Var(v.clone()))
            } else {
                let p = long[self.f.below(long.len())].clone();
                Expr::Index(p, IntExpr::Var(v.clone()))
            };
            let term = Expr::bin(BinOp::Mul, c, term);
            e = if self.f.chance(0.5) {
                Expr::bin(BinOp::Add, e, term)
            } else {
                Expr::method(Method::Tanh, Expr::bin(BinOp::Add, e, term), vec![])
            };
        }
        e
    }

    /// `write`, or 3 times out of 10 `if e > c { write }` (the element keeps its value where
    /// the condition fails).
    fn fill_guarded(&mut self, write: Stmt) -> Vec<Stmt> {
        if !self.f.chance(0.3) {
            return vec![write];
        }
        let e = self.expr(1);
        let c = Expr::Lit(self.f.literal(-0.5, 0.5));
        vec![Stmt::If {
            cond: Cond::Float(CmpOp::Gt, e, c),
            then: vec![write],
            els: None,
        }]
    }
}
