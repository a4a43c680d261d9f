//! Arrays carried from one iteration of a loop to the next (a hidden-state vector): `let mut
//! hs = vec![v; K];` (and sometimes a second, `cs`), a loop over the data whose body updates
//! them in place in a loop over their elements (`cs[j] = (a·cs[j] + b·hs[j] + e).tanh();
//! hs[j] = (c·hs[j] + d·cs[j] + e').tanh();`, each reading the other's new or old element at
//! `j`; or added into itself, `hs[j] += 0.5 * (..).tanh()`, `-=`), a loss summed along the way
//! reading an element of the state, and the state read after the loop. Sometimes inside an outer
//! loop, the arrays declared before it (carried through both loops: layers × time).
//!
//! What keeps the programs in the accepted language: the arrays are never in the scope the
//! grammar reads from (only the statements written here read them, at the element loop's index
//! or, after it, at a literal index). Vector-valued functions carry them too, and so do
//! functions with `hessian`, but not the nested form (`second_order::eligible` keeps a carried
//! array written three loops deep out: second derivatives through a recurrence nested in
//! another's loop are refused). The coupling literals keep `tanh` away from saturation.

use super::Gen;
use super::arrays::min_len;
use crate::ast::{ArrayInit, AssignOp, BinOp, Expr, IntExpr, Method, Range, Stmt};

impl Gen<'_> {
    /// Whether a top-level block is arrays carried across a loop's iterations: one in twenty
    /// tries per the weight, on a stream of its own (the block's literals too: a program
    /// without carried arrays is the program the grammar without them generates).
    pub(super) fn carried_array_chance(&mut self) -> bool {
        let w = self.w.carried_array;
        w > 0 && self.h.below(20) < w as usize && !self.scope.dims().is_empty()
    }

    /// The block (see the module's docs).
    pub(super) fn carried_array_block(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        let len = 2 + self.h.below(3);
        let h = self.fresh("hs");
        let c = self.h.chance(0.5).then(|| self.fresh("cs"));
        for name in std::iter::once(&h).chain(c.as_ref()) {
            let value = Expr::Lit(self.h.literal(-0.9, 0.9));
            let init = self
                .copied_start(name == &h, &h, len)
                .unwrap_or(ArrayInit::Repeat {
                    value,
                    len: IntExpr::Const(len),
                });
            out.push(Stmt::NewArray {
                name: name.clone(),
                mutable: true,
                vec: true,
                typed: true,
                init,
            });
        }
        let loss = self.fresh("l");
        out.push(self.let_stmt(&loss, true, Expr::Lit(0.0)));
        self.scope.set_carried(&loss, true);
        let nested = self.h.chance(0.3);
        let mut time = if nested {
            // An outer loop around the time loop: the state carried through both.
            let (range, lv) = self.pick_range();
            let var = lv.name.clone();
            self.scope.loops.push(lv);
            let mark = self.scope.locals.len();
            self.nesting += 1;
            let inner = self.time_loop(&h, c.as_deref(), &loss, len, true);
            self.nesting -= 1;
            self.scope.truncate(mark);
            self.scope.loops.pop();
            vec![Stmt::For {
                var,
                range,
                body: inner,
            }]
        } else {
            self.time_loop(&h, c.as_deref(), &loss, len, false)
        };
        let added = if nested {
            None
        } else {
            self.added_beside(&h, len, &mut out, &mut time)
        };
        out.extend(time);
        if let Some(read) = added {
            out.push(read);
        }
        self.scope.set_carried(&loss, false);
        self.scope.set_typed(&loss);
        // The state after the loop.
        let last = self.fresh("r");
        let k = self.h.below(len);
        let read = Expr::bin(
            BinOp::Mul,
            Expr::Index(h.clone(), IntExpr::Const(k)),
            Expr::Lit(self.h.literal(0.5, 1.5)),
        );
        let read = match &c {
            Some(c) if self.h.chance(0.5) => Expr::bin(
                BinOp::Add,
                read,
                Expr::Index(c.clone(), IntExpr::Const(len - 1)),
            ),
            _ => read,
        };
        out.push(self.let_stmt(&last, false, read));
        self.scope.set_typed(&last);
        self.results.push(loss);
        self.results.push(last);
        out
    }

    /// Sometimes (per `carried_array_copy`, on the shapes' stream) the start of a carried
    /// array as a copy: the first, `first`, from a slice at least `len` long (`z[..len].to_vec()`),
    /// the second from the first (`cs = hs.clone()`, `h` the first's name).
    fn copied_start(&mut self, first: bool, h: &str, len: usize) -> Option<ArrayInit> {
        if self.s.below(10) >= self.w.carried_array_copy as usize {
            return None;
        }
        if !first {
            return Some(ArrayInit::Copy {
                of: h.into(),
                len: None,
            });
        }
        let long: Vec<String> = self
            .scope
            .slices()
            .into_iter()
            .filter(|(_, e)| min_len(*e) >= len)
            .map(|(name, _)| name)
            .collect();
        let of = long.get(self.s.below(long.len().max(1)))?.clone();
        Some(ArrayInit::Copy { of, len: Some(len) })
    }

    /// Sometimes (per `carried_array_add`, on the shapes' stream) an array added into beside
    /// the state, in the loop over its elements (`acc[j] += hs[j] * c;` or `-=`): declared
    /// first in `out`, the addition put into the element loop of `time` (the time loop, not in
    /// an outer one), and its element read after the loop (returned, the read as a result).
    fn added_beside(
        &mut self,
        h: &str,
        len: usize,
        out: &mut Vec<Stmt>,
        time: &mut [Stmt],
    ) -> Option<Stmt> {
        if self.s.below(10) >= self.w.carried_array_add as usize {
            return None;
        }
        let Some(Stmt::For { body, .. }) = time.first_mut() else {
            return None;
        };
        let Some(Stmt::For {
            var: j,
            body: inner,
            ..
        }) = body.first_mut()
        else {
            return None;
        };
        let acc = self.fresh("acc");
        out.insert(
            0,
            Stmt::NewArray {
                name: acc.clone(),
                mutable: true,
                vec: true,
                typed: true,
                init: ArrayInit::Repeat {
                    value: Expr::Lit(self.s.literal(-0.5, 0.5)),
                    len: IntExpr::Const(len),
                },
            },
        );
        let state = Expr::Index(h.into(), IntExpr::Var(j.clone()));
        let at = self.s.below(inner.len() + 1);
        inner.insert(
            at,
            Stmt::SetElem {
                array: acc.clone(),
                index: IntExpr::Var(j.clone()),
                op: if self.s.chance(0.3) {
                    AssignOp::Sub
                } else {
                    AssignOp::Add
                },
                value: Expr::bin(BinOp::Mul, state, Expr::Lit(self.s.literal(0.3, 1.3))),
            },
        );
        let read = self.fresh("r");
        let k = self.s.below(len);
        let value = Expr::bin(
            BinOp::Mul,
            Expr::Index(acc, IntExpr::Const(k)),
            Expr::Lit(self.s.literal(0.5, 1.5)),
        );
        let stmt = self.let_stmt(&read, false, value);
        self.scope.set_typed(&read);
        self.results.push(read);
        Some(stmt)
    }

    /// `for t in range { for j in 0..len { [cs[j] = ..;] hs[j] = ..; } loss += ..; }`, or the
    /// loss added after the loop.
    fn time_loop(
        &mut self,
        h: &str,
        c: Option<&str>,
        loss: &str,
        len: usize,
        nested: bool,
    ) -> Vec<Stmt> {
        let (range, lv) = self.pick_range();
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        let mark = self.scope.locals.len();
        self.nesting += 1;
        self.recurrence += 1;
        let j = self.fresh("j");
        let at = |a: &str| Expr::Index(a.into(), IntExpr::Var(j.clone()));
        let mut inner = Vec::new();
        let mut order = vec![h];
        if let Some(c) = c {
            if self.h.chance(0.5) {
                order.insert(0, c);
            } else {
                order.push(c);
            }
        }
        for (step, &a) in order.iter().enumerate() {
            let other = order[(step + 1) % order.len()];
            let (c0, c1) = (
                Expr::Lit(self.h.literal(-0.95, 0.95)),
                Expr::Lit(self.h.literal(-0.95, 0.95)),
            );
            let e = self.expr(1);
            let lin = Expr::bin(
                BinOp::Add,
                Expr::bin(
                    BinOp::Add,
                    Expr::bin(BinOp::Mul, c0, at(a)),
                    Expr::bin(BinOp::Mul, c1, at(other)),
                ),
                e,
            );
            let value = if self.h.chance(0.7) {
                Expr::method(Method::Tanh, lin, vec![])
            } else {
                Expr::bin(
                    BinOp::Mul,
                    Expr::Lit(0.5),
                    Expr::method(Method::Sin, lin, vec![]),
                )
            };
            // Sometimes added into itself (`hs[j] += 0.5 * tanh(.. hs[j] ..)`, or `-=`): state
            // too, not an accumulation (its right-hand side reads the element's current value).
            // Not inside an outer loop: there the addition is two loops deep, which the macro
            // rejects.
            let op = match self.h.below(10) {
                0..=1 if !nested => AssignOp::Add,
                2 if !nested => AssignOp::Sub,
                _ => AssignOp::Set,
            };
            let value = match op {
                AssignOp::Set => value,
                _ => Expr::bin(BinOp::Mul, Expr::Lit(0.5), value),
            };
            inner.push(Stmt::SetElem {
                array: a.into(),
                index: IntExpr::Var(j.clone()),
                op,
                value,
            });
        }
        let mut body = vec![Stmt::For {
            var: j.clone(),
            range: Range {
                start: IntExpr::Const(0),
                end: IntExpr::Const(len),
            },
            body: inner,
        }];
        // The loss along the way, reading the state (not always: a state only read after the
        // loop is a shape of its own, `hs[j] += …` once taken for an accumulation; the loss then
        // reads the state after the loop).
        let along = self.h.below(4) > 0;
        let k = self.h.below(len);
        let e = self.expr(1);
        let state = Expr::Index(h.into(), IntExpr::Const(k));
        let value = if self.h.chance(0.5) {
            Expr::method(Method::Powi(2), Expr::bin(BinOp::Sub, state, e), vec![])
        } else {
            Expr::bin(BinOp::Mul, state, e)
        };
        let add = |value| Stmt::Assign {
            name: loss.into(),
            op: AssignOp::Add,
            value,
        };
        if along {
            body.push(add(value));
        }
        self.recurrence -= 1;
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.pop();
        let time = Stmt::For { var, range, body };
        if along {
            vec![time]
        } else {
            // After the loop: the state times a literal (`e` may read the loop's index).
            let state = Expr::Index(h.into(), IntExpr::Const(k));
            let scaled = Expr::bin(BinOp::Mul, state, Expr::Lit(self.h.literal(0.5, 1.5)));
            vec![time, add(scaled)]
        }
    }
}
