//! Layers × time, as ADBench's LSTM writes it: state arrays of `L·K` elements (`hs`, sometimes
//! `cs`), one stretch of `K` per layer, carried across a time loop; in each step an input of
//! `K` (`let mut inp = vec![0.0; K];` filled from the data) handed up through a layer loop whose
//! body updates its layer's stretch in place at an offset (`cs[K * ly + j] = (a·cs[K * ly + j] +
//! b·hs[K * ly + j] + c·inp[j] + e).tanh();`, `hs[..] = ..`), sometimes handing the new hidden
//! element on (`inp[j] = hs[K * ly + j];`), sometimes reading weights per element or per layer
//! (`p[j]`, `p[ly]` of a slice parameter long enough); a loss summed along the way reading the top of the
//! input or an element of the state, and the state read after the loop.
//!
//! The macro saves the layer loop's rows per time step and reads them back in the time loop's
//! sweep (a recurrence nested in another's loop), writes each stretch in place, and with
//! `checkpoint` recomputes stretches of time steps: every one of these is exercised here, on
//! the emitted code. The offset is spelled `K * ly + j` everywhere, or each access its own way
//! (`j + ly * K`, ..: the same element). From a stream of its own, drawn
//! only where `carried_layers` is not 0: at 0 (the default) the programs are unchanged. Second
//! derivatives are not asked for (`second_order::eligible` keeps a carried array written three
//! loops deep out).

use super::Gen;
use super::arrays::min_len;
use crate::ast::{ArrayInit, AssignOp, BinOp, Expr, IntExpr, Method, Range, Stmt};

/// The shape of one program's layered block.
struct Shape {
    layers: usize,
    width: usize,
    hs: String,
    cs: Option<String>,
    inp: String,
    ly: String,
    j: String,
    /// Whether each access spells the index its own way (`K * ly + j`, `j + ly * K`, ..), not
    /// all as `K * ly + j`.
    mixed: bool,
    /// The offset bound in the layer's body, `let s = K * ly;`, read as `s + j` (or `j + s`).
    bound: Option<String>,
    /// The weights' array of `2·L·K` filled from the data before the time loop, and the weight
    /// offset bound in the layer's body, `let wo = 2 * K * ly;`: `wt[wo + j]`, `wt[wo + K + j]`.
    weights: Option<(String, String)>,
}

impl Shape {
    /// `array[K * ly + j]`, spelled the `how`-th way (of four) when the shape mixes them.
    fn at(&self, array: &str, how: usize) -> Expr {
        Expr::Index(array.into(), self.offset(how))
    }

    /// `K * ly + j`, or with the operands of `+` (`how & 1`) and `*` (`how & 2`) swapped; `s +
    /// j` (`j + s`) where the offset is bound.
    fn offset(&self, how: usize) -> IntExpr {
        let how = if self.mixed { how } else { 0 };
        let (k, ly) = (
            Box::new(IntExpr::Const(self.width)),
            Box::new(IntExpr::Var(self.ly.clone())),
        );
        let base = Box::new(match &self.bound {
            Some(s) => IntExpr::Var(s.clone()),
            None if how & 2 == 0 => IntExpr::Mul(k, ly),
            None => IntExpr::Mul(ly, k),
        });
        let j = Box::new(IntExpr::Var(self.j.clone()));
        if how & 1 == 0 {
            IntExpr::Add(base, j)
        } else {
            IntExpr::Add(j, base)
        }
    }
}

impl Shape {
    /// The layer body's `let`s of its bound offsets: `let s = K * ly;`, `let wo = 2 * K * ly;`
    /// (none where the offsets are written inline).
    fn offset_lets(&self) -> Vec<Stmt> {
        let ly = || IntExpr::Var(self.ly.clone());
        let k = IntExpr::Const(self.width);
        let mut out = Vec::new();
        if let Some(s) = &self.bound {
            out.push(Stmt::LetInt {
                name: s.clone(),
                mutable: false,
                value: IntExpr::times(k.clone(), ly()),
            });
        }
        if let Some((_, wo)) = &self.weights {
            let two_k = IntExpr::times(IntExpr::Const(2), k);
            out.push(Stmt::LetInt {
                name: wo.clone(),
                mutable: false,
                value: IntExpr::times(two_k, ly()),
            });
        }
        out
    }
}

impl Gen<'_> {
    /// Whether a top-level block is layers × time: `carried_layers` out of 20, on the layers'
    /// stream, drawn only where the weight is not 0.
    pub(super) fn layers_chance(&mut self) -> bool {
        self.w.carried_layers > 0
            && !self.scope.dims().is_empty()
            && self.y.below(20) < self.w.carried_layers as usize
    }

    /// The block (see the module's docs).
    pub(super) fn layers_block(&mut self) -> Vec<Stmt> {
        let mut shape = Shape {
            layers: 2 + self.y.below(2),
            width: 2 + self.y.below(2),
            hs: self.fresh("hs"),
            cs: self.y.chance(0.6).then(|| self.fresh("cs")),
            inp: self.fresh("inp"),
            ly: self.fresh("ly"),
            j: self.fresh("j"),
            mixed: self.y.chance(0.4),
            bound: None,
            weights: None,
        };
        let mut out = Vec::new();
        self.bind_offsets(&mut shape, &mut out);
        for name in std::iter::once(&shape.hs).chain(shape.cs.as_ref()) {
            let value = Expr::Lit(self.y.literal(-0.9, 0.9));
            out.push(Stmt::NewArray {
                name: name.clone(),
                mutable: true,
                vec: true,
                // Typed: a body of literals alone would leave the float type open.
                typed: true,
                init: ArrayInit::Repeat {
                    value,
                    len: IntExpr::Const(shape.layers * shape.width),
                },
            });
        }
        if self.w.index_div_rem > 0 && self.r.below(10) < self.w.index_div_rem as usize {
            out.extend(self.gathered_state(&shape));
        }
        let loss = self.fresh("l");
        out.push(self.let_stmt(&loss, true, Expr::Lit(0.0)));
        self.scope.set_carried(&loss, true);
        out.extend(self.layered_time_loop(&shape, &loss));
        self.scope.set_carried(&loss, false);
        self.scope.set_typed(&loss);
        let last = self.fresh("r");
        let k = self.y.below(shape.layers * shape.width);
        let mut read = Expr::bin(
            BinOp::Mul,
            Expr::Index(shape.hs.clone(), IntExpr::Const(k)),
            Expr::Lit(self.y.literal(0.5, 1.5)),
        );
        if let Some(cs) = &shape.cs {
            let k = self.y.below(shape.layers * shape.width);
            read = Expr::bin(BinOp::Add, read, Expr::Index(cs.clone(), IntExpr::Const(k)));
        }
        out.push(self.let_stmt(&last, false, read));
        self.scope.set_typed(&last);
        self.results.push(loss);
        self.results.push(last);
        out
    }

    /// `for t in range { let mut inp = ..; for j .. { inp[j] = e; } for ly in 0..L { for j in
    /// 0..K { ..the layer's updates.. } } loss += ..; }`.
    fn layered_time_loop(&mut self, shape: &Shape, loss: &str) -> Vec<Stmt> {
        let (range, lv) = self.pick_range();
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        let mark = self.scope.locals.len();
        self.nesting += 1;
        self.recurrence += 1;
        let mut body = vec![Stmt::NewArray {
            name: shape.inp.clone(),
            mutable: true,
            vec: true,
            typed: true,
            init: ArrayInit::Repeat {
                value: Expr::Lit(0.0),
                len: IntExpr::Const(shape.width),
            },
        }];
        let fill = self.expr(1);
        body.push(Self::element_loop(
            &shape.j,
            shape.width,
            vec![Stmt::SetElem {
                array: shape.inp.clone(),
                index: IntExpr::Var(shape.j.clone()),
                op: AssignOp::Set,
                value: fill,
            }],
        ));
        let cell = self.layer_body(shape);
        let mut layer = shape.offset_lets();
        layer.push(Self::element_loop(&shape.j, shape.width, cell));
        body.push(Stmt::For {
            var: shape.ly.clone(),
            range: Range {
                start: IntExpr::Const(0),
                end: IntExpr::Const(shape.layers),
            },
            body: layer,
        });
        // The loss along the way: the top of the input, or an element of the state.
        let e = self.expr(1);
        let read = if self.y.chance(0.5) {
            Expr::Index(shape.inp.clone(), IntExpr::Const(self.y.below(shape.width)))
        } else {
            let k = self.y.below(shape.layers * shape.width);
            Expr::Index(shape.hs.clone(), IntExpr::Const(k))
        };
        let value = if self.y.chance(0.5) {
            Expr::method(Method::Powi(2), Expr::bin(BinOp::Sub, read, e), vec![])
        } else {
            Expr::bin(BinOp::Mul, read, e)
        };
        body.push(Stmt::Assign {
            name: loss.into(),
            op: AssignOp::Add,
            value,
        });
        self.recurrence -= 1;
        self.nesting -= 1;
        self.scope.truncate(mark);
        self.scope.loops.pop();
        vec![Stmt::For { var, range, body }]
    }

    /// Sometimes `e` plus a parameter's element at the element's or the layer's index (`e +
    /// c·p[j]·inp[j]`, `e + c·p[ly]`: weights per element or per layer, read in every step), from
    /// a slice at least that long.
    fn weighted(&mut self, shape: &Shape, e: Expr) -> Expr {
        if let Some((wt, wo)) = &shape.weights {
            return self.bound_weighted(shape, wt, wo, e);
        }
        let (index, bound) = if self.y.chance(0.5) {
            (&shape.j, shape.width)
        } else {
            (&shape.ly, shape.layers)
        };
        let long: Vec<String> = self
            .scope
            .slices()
            .into_iter()
            .filter(|(_, ext)| min_len(*ext) >= bound)
            .map(|(name, _)| name)
            .collect();
        if long.is_empty() || self.y.chance(0.4) {
            return e;
        }
        let p = long[self.y.below(long.len())].clone();
        let weight = Expr::Index(p, IntExpr::Var(index.clone()));
        let term = if index == &shape.j {
            let inp = Expr::Index(shape.inp.clone(), IntExpr::Var(shape.j.clone()));
            Expr::bin(BinOp::Mul, weight, inp)
        } else {
            weight
        };
        let c = Expr::Lit(self.y.literal(-0.9, 0.9));
        Expr::bin(BinOp::Add, e, Expr::bin(BinOp::Mul, c, term))
    }

    /// `layers_bound_offset` out of 10 (on the layers' stream, drawn only where it is not 0):
    /// the offset bound in the layer's body, and sometimes the weights read from a local array
    /// `wt` of `2·L·K` filled from the data (its statements pushed to `out`) at a bound weight
    /// offset. Before: `hs[K * ly + j]`, `p[j]`; after: `let s = K * ly;` .. `hs[s + j]`, `let
    /// wo = 2 * K * ly;` .. `wt[wo + j]`, `wt[wo + K + j]`.
    fn bind_offsets(&mut self, shape: &mut Shape, out: &mut Vec<Stmt>) {
        let weight = self.w.layers_bound_offset as usize;
        if weight == 0 || self.y.below(10) >= weight {
            return;
        }
        shape.bound = Some(self.fresh("s"));
        if self.y.chance(0.6) {
            let wt = self.fresh("wt");
            out.extend(self.flat_from_data(&wt, 2 * shape.layers * shape.width));
            shape.weights = Some((wt, self.fresh("wo")));
        }
    }

    /// `let mut a: Vec<f64> = vec![0.0; len]; for k in 0..len { a[k] = e + c * (k as f64); }`,
    /// `e` read from the data before any loop: the flat arrays ADBench's LSTM reads its state
    /// and weights from.
    fn flat_from_data(&mut self, name: &str, len: usize) -> Vec<Stmt> {
        let k = self.fresh("k");
        let e = self.expr(1);
        let c = Expr::Lit(self.y.literal(-0.2, 0.2));
        let value = Expr::bin(
            BinOp::Add,
            e,
            Expr::bin(BinOp::Mul, c, Expr::Cast(IntExpr::Var(k.clone()))),
        );
        let fill = Stmt::SetElem {
            array: name.into(),
            index: IntExpr::Var(k.clone()),
            op: AssignOp::Set,
            value,
        };
        vec![
            Stmt::NewArray {
                name: name.into(),
                mutable: true,
                vec: true,
                typed: true,
                init: ArrayInit::Repeat {
                    value: Expr::Lit(0.0),
                    len: IntExpr::Const(len),
                },
            },
            Self::element_loop(&k, len, vec![fill]),
        ]
    }

    /// The state gathered from a flat array of `2·L·K` (per layer `hs`, then `cs`), as
    /// ADBench's LSTM copies its `state`: `for k in 0..L·K { hs[k] = st[2 * K * (k / K) + k %
    /// K]; cs[k] = st[2 * K * (k / K) + K + k % K]; }`, `st` filled from the data.
    fn gathered_state(&mut self, shape: &Shape) -> Vec<Stmt> {
        let st = self.fresh("st");
        let mut out = self.flat_from_data(&st, 2 * shape.layers * shape.width);
        let k = self.fresh("k");
        let width = IntExpr::Const(shape.width);
        let row = IntExpr::over(IntExpr::Var(k.clone()), width.clone());
        let stretch = IntExpr::times(IntExpr::Const(2 * shape.width), row);
        let col = IntExpr::modulo(IntExpr::Var(k.clone()), width.clone());
        let hidden = IntExpr::plus(stretch.clone(), col.clone());
        let cell = IntExpr::plus(IntExpr::plus(stretch, width), col);
        let gather = |array: &str, at: IntExpr| Stmt::SetElem {
            array: array.into(),
            index: IntExpr::Var(k.clone()),
            op: AssignOp::Set,
            value: Expr::Index(st.clone(), at),
        };
        let mut body = vec![gather(&shape.hs, hidden)];
        if let Some(cs) = &shape.cs {
            body.push(gather(cs, cell));
        }
        out.push(Self::element_loop(&k, shape.layers * shape.width, body));
        out
    }

    /// `e + c·wt[wo + j]·inp[j]` or `e + c·wt[wo + K + j]` (the second stretch of the layer's
    /// weights), or `e`.
    fn bound_weighted(&mut self, shape: &Shape, wt: &str, wo: &str, e: Expr) -> Expr {
        if self.y.chance(0.3) {
            return e;
        }
        let j = IntExpr::Var(shape.j.clone());
        let wo = IntExpr::Var(wo.into());
        let term = if self.y.chance(0.5) {
            let weight = Expr::Index(wt.into(), IntExpr::plus(wo, j.clone()));
            Expr::bin(BinOp::Mul, weight, Expr::Index(shape.inp.clone(), j))
        } else {
            let second = IntExpr::plus(wo, IntExpr::Const(shape.width));
            Expr::Index(wt.into(), IntExpr::plus(second, j))
        };
        let c = Expr::Lit(self.y.literal(-0.9, 0.9));
        Expr::bin(BinOp::Add, e, Expr::bin(BinOp::Mul, c, term))
    }

    /// `for j in 0..K { body }`.
    fn element_loop(j: &str, width: usize, body: Vec<Stmt>) -> Stmt {
        Stmt::For {
            var: j.into(),
            range: Range {
                start: IntExpr::Const(0),
                end: IntExpr::Const(width),
            },
            body,
        }
    }

    /// One element of one layer: `cs` (if any) and `hs` updated, each from its own element, the
    /// other's (new or old) and the input, in either order; sometimes `inp[j] = hs[..];`.
    fn layer_body(&mut self, shape: &Shape) -> Vec<Stmt> {
        let inp = Expr::Index(shape.inp.clone(), IntExpr::Var(shape.j.clone()));
        let mut order = vec![shape.hs.as_str()];
        if let Some(cs) = &shape.cs {
            if self.y.chance(0.5) {
                order.insert(0, cs);
            } else {
                order.push(cs);
            }
        }
        let mut out = Vec::new();
        for (step, &a) in order.iter().enumerate() {
            let other = order[(step + 1) % order.len()];
            let terms = [
                (self.y.literal(-0.95, 0.95), shape.at(a, self.y.below(4))),
                (
                    self.y.literal(-0.95, 0.95),
                    shape.at(other, self.y.below(4)),
                ),
                (self.y.literal(-0.95, 0.95), inp.clone()),
            ];
            let e = self.expr(1);
            let e = self.weighted(shape, e);
            let lin = terms.into_iter().fold(e, |acc, (c, v)| {
                Expr::bin(BinOp::Add, Expr::bin(BinOp::Mul, Expr::Lit(c), v), acc)
            });
            let value = if self.y.chance(0.7) {
                Expr::method(Method::Tanh, lin, vec![])
            } else {
                Expr::bin(
                    BinOp::Mul,
                    Expr::Lit(0.5),
                    Expr::method(Method::Sin, lin, vec![]),
                )
            };
            out.push(Stmt::SetElem {
                array: a.into(),
                index: shape.offset(self.y.below(4)),
                op: AssignOp::Set,
                value,
            });
        }
        if self.y.chance(0.7) {
            out.push(Stmt::SetElem {
                array: shape.inp.clone(),
                index: IntExpr::Var(shape.j.clone()),
                op: AssignOp::Set,
                value: shape.at(&shape.hs, self.y.below(4)),
            });
        }
        out
    }
}
