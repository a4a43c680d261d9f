//! Float expressions, element reads (in bounds by the enclosing loops' ranges), conditions and
//! helper calls. Every function argument is kept in its domain: `ln` of `1 + e²`, `sqrt` of
//! `e² + 0.5`, division by `1 + e²` or `2 + sin e`, `exp` of a bounded argument.

use super::scope::LocalKind;
use super::{Gen, Helper};
use crate::ast::{Arg, BinOp, CmpOp, Cond, Dim, Expr, Extent, IntExpr, Method, ParamTy};

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::bin(op, a, b)
}

fn call(m: Method, recv: Expr, args: Vec<Expr>) -> Expr {
    Expr::method(m, recv, args)
}

/// `1.0 + e * e`: positive, at least one.
fn one_plus_square(e: &Expr) -> Expr {
    bin(
        BinOp::Add,
        Expr::Lit(1.0),
        bin(BinOp::Mul, e.clone(), e.clone()),
    )
}

fn int_offset(v: &str, k: i64) -> IntExpr {
    let var = IntExpr::Var(v.into());
    let by = IntExpr::Const(usize::try_from(k.unsigned_abs()).unwrap_or(0));
    match k {
        0 => var,
        k if k > 0 => IntExpr::plus(var, by),
        _ => IntExpr::minus(var, by),
    }
}

impl Gen<'_> {
    /// Whether rustc types `e` as `f64` (not a bare `{float}` literal type, on which a method
    /// call does not compile).
    pub(super) fn is_typed(&self, e: &Expr) -> bool {
        match e {
            // An array is a vector-valued function's value, never an operand.
            Expr::Lit(_) | Expr::Array(_) => false,
            Expr::Var(v) => self.scope.var_typed(v),
            Expr::Neg(a) => self.is_typed(a),
            Expr::Bin(_, a, b) | Expr::If(_, a, b) => self.is_typed(a) || self.is_typed(b),
            Expr::Index(s, _) => self.scope.element_typed(s),
            Expr::NegInf
            | Expr::Deref(_)
            | Expr::Iter(_)
            | Expr::Cast(_)
            | Expr::Method(..)
            | Expr::Call(..)
            | Expr::Output(..) => true,
        }
    }

    /// A random expression of nesting `depth` at most.
    pub(super) fn expr(&mut self, depth: u32) -> Expr {
        if depth == 0 {
            return self.leaf();
        }
        let w = self.w;
        let call_weight = if self.helpers.is_empty() {
            0
        } else {
            w.expr_call
        };
        let closures = self
            .scope
            .closures()
            .iter()
            .any(|(_, p)| p.iter().all(|r| !r));
        let weights = [
            w.expr_leaf,
            w.expr_binary,
            w.expr_method,
            w.expr_neg,
            call_weight,
            w.expr_if,
            w.expr_iter,
            if closures { w.expr_closure } else { 0 },
        ];
        match self.rng.weighted(&weights) {
            1 => self.binary(depth),
            2 => self.method(depth),
            3 => Expr::negate(self.expr(depth - 1)),
            4 => self.helper_call(depth),
            5 => {
                let c = self.cond();
                Expr::if_else(c, self.expr(depth - 1), self.expr(depth - 1))
            }
            6 => self.iter_expr(depth),
            7 => self.closure_call(depth),
            _ => self.leaf(),
        }
    }

    /// An expression rustc types as `f64` (a method may be called on it).
    pub(super) fn typed_expr(&mut self, depth: u32) -> Expr {
        let e = self.expr(depth);
        if self.is_typed(&e) {
            e
        } else {
            let leaf = self.typed_leaf();
            bin(BinOp::Add, e, leaf)
        }
    }

    fn binary(&mut self, depth: u32) -> Expr {
        let a = self.expr(depth - 1);
        let b = self.expr(depth - 1);
        let (a, b) = (self.maybe_bare(a), self.maybe_bare(b));
        match self.rng.below(7) {
            0 | 1 => bin(BinOp::Add, a, b),
            2 => bin(BinOp::Sub, a, b),
            3 | 4 => bin(BinOp::Mul, a, b),
            5 => bin(BinOp::Div, a, one_plus_square(&b)),
            _ => {
                let b = self.typed_wrap(b);
                let den = bin(BinOp::Add, Expr::Lit(2.0), call(Method::Sin, b, vec![]));
                bin(BinOp::Div, a, den)
            }
        }
    }

    /// `e` itself if typed, else `e + leaf`.
    fn typed_wrap(&mut self, e: Expr) -> Expr {
        if self.is_typed(&e) {
            e
        } else {
            let leaf = self.typed_leaf();
            bin(BinOp::Add, e, leaf)
        }
    }

    /// A float method applied to a random receiver, kept in its domain.
    pub(super) fn method(&mut self, depth: u32) -> Expr {
        let r = self.typed_expr(depth - 1);
        let mut e = self.method_on(r, depth);
        if let Expr::Method(_, recv, _) = &mut e
            && matches!(**recv, Expr::Deref(_))
        {
            let r = std::mem::replace(&mut **recv, Expr::NegInf);
            **recv = self.maybe_bare(r);
        }
        e
    }

    /// `*v` of a `&f64` item as `v` itself, sometimes: an operand or a receiver may be the
    /// reference (`b - a`, `v.sin()`, as users write them).
    fn maybe_bare(&mut self, e: Expr) -> Expr {
        match e {
            Expr::Deref(v) if self.rng.chance(0.4) => Expr::Var(v),
            e => e,
        }
    }

    /// The float variable `name` as read: `*v` of a `&f64`.
    pub(super) fn read_var(&self, name: &str) -> Expr {
        if self.scope.by_ref(name) {
            Expr::Deref(name.into())
        } else {
            Expr::Var(name.into())
        }
    }

    /// A float method applied to `r` (typed), kept in its domain.
    pub(super) fn method_on(&mut self, r: Expr, depth: u32) -> Expr {
        let sub = depth.saturating_sub(1);
        match self.rng.below(20) {
            0 | 1 => self.bounded_exp(r),
            2 => call(Method::Ln, one_plus_square(&r), vec![]),
            3 => call(Method::Ln1p, bin(BinOp::Mul, r.clone(), r), vec![]),
            4 => call(Method::Sin, r, vec![]),
            5 => call(Method::Cos, r, vec![]),
            6 | 7 => call(Method::Tanh, r, vec![]),
            8 => call(
                Method::Sqrt,
                bin(BinOp::Add, bin(BinOp::Mul, r.clone(), r), Expr::Lit(0.5)),
                vec![],
            ),
            9 => call(
                Method::Cbrt,
                bin(BinOp::Add, bin(BinOp::Mul, r.clone(), r), Expr::Lit(0.5)),
                vec![],
            ),
            10 => call(Method::Atan, r, vec![]),
            11 => call(Method::Abs, r, vec![]),
            12 => call(Method::Recip, one_plus_square(&r), vec![]),
            13 => call(Method::Powi(*self.rng.pick(&[2, 2, 3])), r, vec![]),
            14 => self.powf(&r, sub),
            15 | 16 => {
                let m = if self.rng.chance(0.5) {
                    Method::Max
                } else {
                    Method::Min
                };
                call(m, r, vec![self.expr(sub)])
            }
            17 => call(Method::Hypot, r, vec![self.expr(sub)]),
            18 => call(Method::MulAdd, r, vec![self.expr(sub), self.expr(sub)]),
            _ => self.bounded_hyperbolic(r),
        }
    }

    /// `exp` of a bounded argument: `r.tanh().exp()`, `(0.3 * r).exp()`, or `r.exp()` of an
    /// element or parameter (in `[-1.5, 1.5]`).
    fn bounded_exp(&mut self, r: Expr) -> Expr {
        let leaf = matches!(r, Expr::Index(..))
            || matches!(&r, Expr::Var(v) if self.scope.scalars().contains(v));
        match self.rng.below(3) {
            0 if leaf => call(Method::Exp, r, vec![]),
            0 | 1 => call(Method::Exp, call(Method::Tanh, r, vec![]), vec![]),
            _ => call(
                Method::Exp,
                bin(BinOp::Mul, Expr::Lit(0.3), call(Method::Tanh, r, vec![])),
                vec![],
            ),
        }
    }

    /// `r.tanh().sinh()` or `r.tanh().exp_m1()`.
    fn bounded_hyperbolic(&mut self, r: Expr) -> Expr {
        let m = if self.rng.chance(0.5) {
            Method::Sinh
        } else {
            Method::ExpM1
        };
        call(m, call(Method::Tanh, r, vec![]), vec![])
    }

    /// `(1.0 + r * r).powf(y)`, `y` a literal in `[0.5, 2]` or `0.5 + 0.5 * e.tanh()`-like.
    fn powf(&mut self, r: &Expr, depth: u32) -> Expr {
        let y = if self.rng.chance(0.6) {
            Expr::Lit(self.rng.literal(0.5, 2.0))
        } else {
            let e = self.typed_expr(depth);
            bin(
                BinOp::Add,
                Expr::Lit(1.0),
                bin(BinOp::Mul, Expr::Lit(0.5), call(Method::Tanh, e, vec![])),
            )
        };
        call(Method::Powf, one_plus_square(r), vec![y])
    }

    /// A leaf: an element, a float variable, a literal or an integer cast.
    pub(super) fn leaf(&mut self) -> Expr {
        let w = self.w;
        let element = if self.loop_depth() > 0 {
            w.leaf_element * 2
        } else {
            w.leaf_element
        };
        let var = if self.items().is_empty() {
            w.leaf_var
        } else {
            w.leaf_var * 3
        };
        match self
            .rng
            .weighted(&[element, var, w.leaf_literal, w.leaf_cast])
        {
            0 => self.element().unwrap_or_else(|| self.literal()),
            1 => self.variable().unwrap_or_else(|| self.literal()),
            2 => self.literal(),
            _ => self.cast(),
        }
    }

    /// A leaf rustc types as `f64`: a float parameter, a typed local, an element or a cast.
    pub(super) fn typed_leaf(&mut self) -> Expr {
        let mut vars = self.scope.scalars();
        vars.extend(
            self.scope
                .readable()
                .iter()
                .filter(|l| l.typed)
                .map(|l| l.name.clone()),
        );
        let slices = !self.scope.slices().is_empty();
        let ints = !self.ints().is_empty();
        let weights = [
            u32::from(!vars.is_empty()) * 4,
            u32::from(slices) * 6,
            u32::from(ints),
        ];
        match self.rng.weighted(&weights) {
            0 if !vars.is_empty() => {
                let items = self.items();
                let name = if !items.is_empty() && self.x.chance(0.5) {
                    self.rng.pick(&items).clone()
                } else {
                    self.rng.pick(&vars).clone()
                };
                self.read_var(&name)
            }
            2 if ints => self.cast(),
            // Not an element of a local array rustc does not type yet: a variable instead
            // (a cast may be a literal where there is no integer).
            _ => match self.element() {
                Some(e) if self.is_typed(&e) => e,
                Some(_) if !vars.is_empty() => {
                    let name = self.rng.pick(&vars).clone();
                    self.read_var(&name)
                }
                _ => self.cast(),
            },
        }
    }

    fn literal(&mut self) -> Expr {
        Expr::Lit(self.rng.literal(-1.5, 1.5))
    }

    pub(super) fn loop_depth(&self) -> usize {
        self.scope.loops.len()
    }

    /// A readable float parameter or local (an item, closure parameter or array element half
    /// the time where there are some).
    fn variable(&mut self) -> Option<Expr> {
        let mut names = self.scope.scalars();
        names.extend(self.scope.readable().iter().map(|l| l.name.clone()));
        if names.is_empty() {
            return None;
        }
        let items = self.items();
        let name = if !items.is_empty() && self.x.chance(0.5) {
            self.rng.pick(&items).clone()
        } else {
            self.rng.pick(&names).clone()
        };
        Some(self.read_var(&name))
    }

    /// The readable items (floats bound by patterns, closure parameters, array elements).
    fn items(&self) -> Vec<String> {
        self.scope
            .readable()
            .iter()
            .filter(|l| matches!(l.kind, LocalKind::Float { item: true, .. }))
            .map(|l| l.name.clone())
            .collect()
    }

    /// The integers a cast may read: loop indices, sizes, slice lengths.
    fn ints(&self) -> Vec<IntExpr> {
        let mut ints: Vec<IntExpr> = self
            .scope
            .loops
            .iter()
            .map(|l| IntExpr::Var(l.name.clone()))
            .collect();
        for p in &self.scope.params {
            match p.ty {
                ParamTy::Size(_) => ints.push(IntExpr::Var(p.name.clone())),
                ParamTy::Slice(_) | ParamTy::Array { .. } => {
                    ints.push(IntExpr::Len(p.name.clone()));
                }
                ParamTy::Scalar => {}
            }
        }
        for (name, e) in self.scope.slices() {
            if matches!(e.dim, Dim::View(_)) {
                ints.push(IntExpr::Len(name));
            }
        }
        ints.extend(
            self.scope
                .counters()
                .into_iter()
                .map(|c| IntExpr::Var(c.name)),
        );
        ints
    }

    /// `0.3 * (i as f64)` of a loop index, a size or a slice length (a literal if none).
    fn cast(&mut self) -> Expr {
        let ints = self.ints();
        if ints.is_empty() {
            return self.literal();
        }
        let scale = Expr::Lit(self.rng.literal(0.1, 0.5));
        bin(BinOp::Mul, scale, Expr::Cast(self.rng.pick(&ints).clone()))
    }

    /// A slice element, in bounds: indices from the enclosing loops weigh six times a fixed one,
    /// `x[i * d + j]` (where there is an `n` loop and a `d` loop) four times more.
    pub(super) fn element(&mut self) -> Option<Expr> {
        let mut cands: Vec<(String, IntExpr)> = Vec::new();
        let mut weights: Vec<u32> = Vec::new();
        for (name, ext) in self.scope.slices() {
            let view = matches!(ext.dim, Dim::View(_));
            for (index, looped) in self.indices(ext) {
                let row_major =
                    matches!(index, IntExpr::Add(ref a, _) if matches!(**a, IntExpr::Mul(..)));
                weights.push(match (looped, row_major) {
                    _ if view => 10,
                    (_, true) => 24,
                    (true, false) => 6,
                    (false, false) => 1,
                });
                cands.push((name.clone(), index));
            }
        }
        self.array_candidates(&mut cands, &mut weights);
        if cands.is_empty() {
            return None;
        }
        let (s, i) = cands.swap_remove(self.rng.weighted(&weights));
        let i = self.div_rem_read(&s, i);
        Some(Expr::Index(s, i))
    }

    /// Every in-bounds index of a slice of length `ext` here, and whether it uses a loop index.
    pub(super) fn indices(&self, ext: Extent) -> Vec<(IntExpr, bool)> {
        let mut out = vec![(IntExpr::Const(0), false)];
        // The elements every array, or every run, has.
        let fixed = match ext.dim {
            Dim::Fixed(k) => k,
            Dim::View(_) => self.view_fixed(ext),
            _ => 0,
        };
        out.extend((1..fixed).map(|k| (IntExpr::Const(k), false)));
        let last = self.scope.dim_expr(ext.dim);
        if !matches!(ext.dim, Dim::Fixed(_)) {
            out.push((
                match ext.plus {
                    0 => IntExpr::minus(last, IntExpr::Const(1)),
                    _ => last,
                },
                false,
            ));
        }
        let plus = i64::try_from(ext.plus).unwrap_or(0);
        let counters = self.scope.counters();
        for lv in self
            .scope
            .loops
            .iter()
            .chain(&counters)
            .filter(|l| l.index && l.dim == ext.dim)
        {
            for k in (-lv.lo).max(-1)..=(lv.slack + plus).min(2) {
                out.push((int_offset(&lv.name, k), true));
            }
        }
        if ext.dim == Dim::Nd {
            out.extend(self.row_major_indices());
        }
        out
    }

    /// `i * d + j` for an `n`-index `i` and a `d`-index `j`.
    fn row_major_indices(&self) -> Vec<(IntExpr, bool)> {
        let loops = &self.scope.loops;
        let mut out = Vec::new();
        for a in loops
            .iter()
            .filter(|l| l.index && l.dim == Dim::N && l.slack >= 0)
        {
            for b in loops
                .iter()
                .filter(|l| l.index && l.dim == Dim::D && l.slack >= 0)
            {
                let row = IntExpr::times(IntExpr::Var(a.name.clone()), IntExpr::Var("d".into()));
                out.push((IntExpr::plus(row, IntExpr::Var(b.name.clone())), true));
            }
        }
        out
    }

    /// A condition on data, or (inside loops, sometimes) on indices.
    pub(super) fn cond(&mut self) -> Cond {
        if super::vector::tenth(self.v, self.w.match_tuple) {
            return self.matched_cond();
        }
        if self.loop_depth() > 0 && self.rng.chance(0.25) {
            return self.int_cond();
        }
        let a = self.expr(1);
        let b = if self.rng.chance(0.7) {
            Expr::Lit(self.rng.literal(-0.6, 0.6))
        } else {
            self.expr(1)
        };
        let op = *self.rng.pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]);
        let c = Cond::Float(op, a, b);
        match self.rng.below(12) {
            0 => Cond::And(Box::new(c), Box::new(self.cond())),
            1 => Cond::Or(Box::new(c), Box::new(self.cond())),
            2 => Cond::Not(Box::new(c)),
            _ => c,
        }
    }

    /// 2–3 comparisons (on indices inside loops, sometimes, else on data) joined by `&&` and
    /// `||`, written as a `match` on a tuple of them (`Cond::Matched`): each comparison is valid
    /// alone here, so the tuple may evaluate all of them.
    fn matched_cond(&mut self) -> Cond {
        let n = 2 + self.v.below(2);
        let mut parts = Vec::with_capacity(n);
        for _ in 0..n {
            let part = if self.loop_depth() > 0 && self.v.chance(0.5) {
                self.int_cond()
            } else {
                let a = self.expr(1);
                let b = Expr::Lit(self.rng.literal(-0.6, 0.6));
                let op = *self.rng.pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]);
                let c = Cond::Float(op, a, b);
                if self.v.chance(0.2) {
                    Cond::Not(Box::new(c))
                } else {
                    c
                }
            };
            parts.push(part);
        }
        let mut parts = parts.into_iter();
        let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
            return Cond::Int(CmpOp::Lt, IntExpr::Const(0), IntExpr::Const(1));
        };
        let join = |v: &mut crate::rng::Rng, a: Cond, b: Cond| {
            if v.chance(0.5) {
                Cond::And(Box::new(a), Box::new(b))
            } else {
                Cond::Or(Box::new(a), Box::new(b))
            }
        };
        let mut tree = join(self.v, first, second);
        if let Some(third) = parts.next() {
            tree = if self.v.chance(0.5) {
                join(self.v, tree, third)
            } else {
                join(self.v, third, tree)
            };
        }
        Cond::Matched(Box::new(tree))
    }

    /// `j < i`, `i == 0`, `i + 1 < n`-like conditions on loop indices.
    pub(super) fn int_cond(&mut self) -> Cond {
        let counters = self.scope.counters();
        let loops: Vec<_> = self
            .scope
            .loops
            .iter()
            .filter(|l| l.index)
            .cloned()
            .chain(counters)
            .collect();
        if loops.is_empty() {
            return self.size_cond();
        }
        let a = self.rng.pick(&loops).clone();
        let b = self.rng.pick(&loops).clone();
        let op = *self
            .rng
            .pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Eq, CmpOp::Ne]);
        let rhs = match self.rng.below(3) {
            0 if a.name != b.name => IntExpr::Var(b.name),
            0 | 1 => IntExpr::Const(self.rng.below(3)),
            _ => self.scope.dim_expr(a.dim),
        };
        let lhs = if self.rng.chance(0.3) {
            int_offset(&a.name, 1)
        } else {
            IntExpr::Var(a.name)
        };
        Cond::Int(op, lhs, rhs)
    }

    /// `n >= 2`, `x.len() > 3`-like conditions on sizes and lengths (`0 < 1` where there are
    /// none).
    pub(super) fn size_cond(&mut self) -> Cond {
        let mut sizes: Vec<IntExpr> = self
            .scope
            .dims()
            .into_iter()
            .filter(|d| *d != Dim::Nd)
            .map(|d| self.scope.dim_expr(d))
            .collect();
        sizes.extend(
            self.scope
                .slices()
                .into_iter()
                .map(|(name, _)| IntExpr::Len(name)),
        );
        if sizes.is_empty() {
            return Cond::Int(CmpOp::Lt, IntExpr::Const(0), IntExpr::Const(1));
        }
        let size = self.rng.pick(&sizes).clone();
        let op = *self.rng.pick(&[
            CmpOp::Ge,
            CmpOp::Gt,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Eq,
            CmpOp::Ne,
        ]);
        Cond::Int(op, size, IntExpr::Const(self.rng.range(1, 4)))
    }

    /// How many leading elements the run of extent `ext` surely has.
    fn view_fixed(&self, ext: Extent) -> usize {
        let IntExpr::Len(name) = self.scope.dim_expr(ext.dim) else {
            return 1;
        };
        self.scope.view_fixed(&name).unwrap_or(1)
    }

    /// A call to a helper, its slices passed whole (all of one length).
    pub(super) fn helper_call(&mut self, depth: u32) -> Expr {
        let helper: Helper = self.rng.pick(&self.helpers.clone()).clone();
        if helper.outputs.is_some() {
            return self.output_of(&helper, depth);
        }
        let mut groups: Vec<(Extent, Vec<String>)> = Vec::new();
        for (name, ext) in self.scope.slice_params() {
            match groups.iter_mut().find(|(e, _)| *e == ext) {
                Some((_, names)) => names.push(name),
                None => groups.push((ext, vec![name])),
            }
        }
        let groups: Vec<Vec<String>> = groups.into_iter().map(|(_, names)| names).collect();
        let needs_slices = helper
            .params
            .iter()
            .any(|p| matches!(p.ty, ParamTy::Slice(_)));
        if needs_slices
            && self.local_arg_chance()
            && let Some(call) = self.call_with(&helper, None, depth)
        {
            return call;
        }
        if needs_slices && groups.is_empty() {
            return self.leaf();
        }
        let group = if groups.is_empty() {
            Vec::new()
        } else {
            self.rng.pick(&groups).clone()
        };
        let hide = u32::from(self.w.call_run_args == 0);
        self.scope.hide_runs += hide;
        let args = helper
            .params
            .iter()
            .map(|p| match p.ty {
                ParamTy::Slice(_) => {
                    let whole = self.rng.pick(&group).clone();
                    match self
                        .scope
                        .slice_params()
                        .into_iter()
                        .find(|(s, _)| *s == whole)
                    {
                        Some((_, ext)) => self.slice_arg(whole, ext),
                        None => Arg::Slice(whole),
                    }
                }
                _ => Arg::Float(self.expr(depth.saturating_sub(1))),
            })
            .collect();
        self.scope.hide_runs -= hide;
        Expr::Call(helper.name, args)
    }
}
