//! Control flow, if-converted: `if`, `match`, `return`, and the branches they join.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, ExprIf, ExprMatch, Pat};

use super::syntax::want_of_kind;
use super::{Binding, Enclosing, Lower, State, Tail, Want};
use crate::ctxt::msg;
use crate::graph::{Cmp, Kind, NodeId, Op};

/// What a `match` tests: nothing (`match () { _ if c => … }`), one value, or each element of a
/// tuple (`match (i, k)`).
pub(super) enum Scrutinee {
    Unit,
    One(NodeId),
    Tuple(Vec<NodeId>),
}

impl Lower<'_> {
    /// An expression in tail position, where `if`, `match`, blocks and `return` may diverge.
    pub(super) fn expr_tail(&mut self, e: &Expr, want: Want) -> Tail {
        match e {
            Expr::If(i) => self.if_expr(i, want),
            Expr::Match(m) => self.match_expr(m, want),
            Expr::Block(b) if b.label.is_none() => self.block(&b.block, want),
            Expr::Paren(p) => self.expr_tail(&p.expr, want),
            // An assignment as a `match` arm's or a block's value (`0 => z[c] = e,`).
            Expr::Assign(_) => self.expr_stmt(e),
            Expr::Binary(b) if super::syntax::compound_op(&b.op).is_some() => self.expr_stmt(e),
            Expr::ForLoop(f) => {
                self.for_loop(f);
                Tail::Unit
            }
            Expr::While(w) => {
                self.while_loop(w);
                Tail::Unit
            }
            Expr::Loop(l) => {
                self.loop_loop(l);
                Tail::Unit
            }
            Expr::Return(r) => {
                let Some(value) = &r.expr else {
                    self.cx.error_spanned_by(
                        r,
                        msg(
                            "`return` needs the value of the function",
                            "write `return <loss>;`",
                        ),
                    );
                    return Tail::Diverged;
                };
                if let Some(around) = self.enclosing.last() {
                    let (what, help) = match around {
                        Enclosing::Loop => (
                            "`return` inside a loop cannot be differentiated",
                            "compute the value in the loop and return after it",
                        ),
                        Enclosing::Closure => (
                            "`return` inside a closure cannot be differentiated",
                            "give the closure's value with `if … { … } else { … }`",
                        ),
                    };
                    self.cx.error_spanned_by(r, msg(what, help));
                    return Tail::Diverged;
                }
                let want = self.returns();
                if let Some(v) = self.expr(value, want) {
                    if want == Want::Array {
                        self.check_returned(v, value);
                    }
                    let (returned, ret_val) = (self.state.returned, self.state.ret_val);
                    self.state.ret_val = self.g.select(returned, ret_val, v);
                    self.state.returned = self.g.boolean(true);
                }
                Tail::Diverged
            }
            other => match self.expr(other, want) {
                Some(v) => Tail::Value(v),
                None => Tail::Unit,
            },
        }
    }

    /// Lowers two branches from the same state and merges them under `cond`.
    pub(super) fn branch(
        &mut self,
        cond: NodeId,
        then: impl FnOnce(&mut Self) -> Tail,
        otherwise: impl FnOnce(&mut Self) -> Tail,
    ) -> Tail {
        let before = self.state.clone();
        self.conditional += 1;
        self.path.push(cond);
        self.sides.push((cond, true));
        let t = then(self);
        let then_state = std::mem::replace(&mut self.state, before.clone());
        let not = self.g.not(cond);
        if let Some(last) = self.path.last_mut() {
            *last = not;
        }
        if let Some(last) = self.sides.last_mut() {
            *last = (cond, false);
        }
        let e = otherwise(self);
        self.path.pop();
        self.sides.pop();
        self.conditional -= 1;
        let else_state = std::mem::replace(&mut self.state, then_state.clone());
        self.check_arrays_unchanged(&then_state, &else_state);
        self.state = self.merge(cond, &then_state, &else_state);
        // After an earlier `return` may have happened, this `if` runs only where it did not:
        // its condition is evaluated only then (`if k == 0 { return x; } if 10 / k > 2 { … }`).
        let (r0, v0) = (before.returned, before.ret_val);
        if self.g.as_bool(r0) != Some(false) {
            let yes = self.g.boolean(true);
            self.state.returned = self.g.select(r0, yes, self.state.returned);
            self.state.ret_val = self.g.select(r0, v0, self.state.ret_val);
        }
        match (t, e) {
            // Local arrays chosen by the condition (`let z = if c { [a, b] } else { [b, a] };`):
            // merged element by element, one array of the same length (a select of two arrays
            // has no elements for the differentiation to route adjoints to).
            (Tail::Value(a), Tail::Value(b))
                if a != b && (self.g.kind(a) == Kind::Array || self.g.kind(b) == Kind::Array) =>
            {
                let same = self.g.kind(a) == self.g.kind(b);
                match same.then(|| self.merge_arrays(cond, a, b)).flatten() {
                    Some(z) => Tail::Value(z),
                    None => {
                        let span = self.origin_span();
                        self.cx.error_at(
                            span,
                            msg(
                                "the branches of this `if` or `match` give local arrays that may differ in length (or an array and something else), which cannot be differentiated",
                                "give both branches arrays of one length (`vec![0.0; n]` in each), or declare the array before and write its elements in each branch",
                            ),
                        );
                        Tail::Unit
                    }
                }
            }
            (Tail::Value(a), Tail::Value(b)) => Tail::Value(self.g.select(cond, a, b)),
            (Tail::Diverged, Tail::Diverged) => Tail::Diverged,
            (Tail::Diverged, other) | (other, Tail::Diverged) => other,
            _ => Tail::Unit,
        }
    }

    /// The versions a local array has after the two branches must have one length (they are
    /// merged element by element, see `merge`): not so where one branch rebinds it to another
    /// array.
    fn check_arrays_unchanged(&mut self, a: &State, b: &State) {
        for (sa, sb) in a.scopes.iter().zip(&b.scopes) {
            for ((name, ba), (_, bb)) in sa.iter().zip(sb) {
                if let (Binding::Value(x), Binding::Value(y)) = (*ba, *bb)
                    && x != y
                    && self.g.kind(x) == Kind::Array
                    && self.g.array_len(x) != self.g.array_len(y)
                {
                    let message = super::buffers::conditional_write_message(name);
                    match self.array_writes.get(name) {
                        Some(tokens) => self.cx.error_spanned_by(tokens.clone(), message),
                        None => {
                            let span = self.origin_span();
                            self.cx.error_at(span, message);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn merge(&mut self, cond: NodeId, a: &State, b: &State) -> State {
        let a_gone = self.g.as_bool(a.returned) == Some(true);
        let b_gone = self.g.as_bool(b.returned) == Some(true);
        let mut scopes = a.scopes.clone();
        for (sa, (scope, sb)) in a.scopes.iter().zip(scopes.iter_mut().zip(&b.scopes)) {
            for (k, ((_, ba), (_, bb))) in sa.iter().zip(sb).enumerate() {
                scope[k].1 = match (*ba, *bb) {
                    _ if b_gone => *ba,
                    _ if a_gone => *bb,
                    (Binding::Value(x), Binding::Value(y))
                        if x != y && self.g.kind(x) == Kind::Array =>
                    {
                        Binding::Value(self.merge_arrays(cond, x, y).unwrap_or(x))
                    }
                    (Binding::Value(x), Binding::Value(y)) => {
                        Binding::Value(self.g.select(cond, x, y))
                    }
                    (Binding::Uninit, other) | (other, Binding::Uninit) => other,
                };
            }
        }
        State {
            scopes,
            returned: self.g.select(cond, a.returned, b.returned),
            ret_val: self.g.select(cond, a.ret_val, b.ret_val),
        }
    }

    /// The version of a local array after a branch that wrote it under `cond` (`a`) or not
    /// (`b`), of one length: element by element, `if cond { a[j] } else { b[j] }` (an element
    /// written under `if` keeps its old value where the condition fails).
    fn merge_arrays(&mut self, cond: NodeId, a: NodeId, b: NodeId) -> Option<NodeId> {
        let n = self.g.array_len(b);
        if self.g.array_len(a) != n {
            return None;
        }
        let zero = self.g.int(0);
        let span = self.origin_span();
        let v = self.new_loop(zero, n, quote::quote_spanned!(span=> if))?;
        let j = self.g.add(Op::LoopVar(v));
        let x = self.g.add(Op::At(a, j));
        let y = self.g.add(Op::At(b, j));
        let body = self.g.select(cond, x, y);
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: n,
            body,
        }))
    }

    /// The span of the user's tokens being lowered (the call site where there are none).
    fn origin_span(&self) -> Span {
        self.g
            .current_origin
            .map_or_else(Span::call_site, |o| self.spans[o.0 as usize])
    }

    pub(super) fn if_expr(&mut self, i: &ExprIf, want: Want) -> Tail {
        if let Expr::Let(l) = &*i.cond {
            self.cx.error_spanned_by(
                l,
                msg(
                    "`if let` cannot be differentiated",
                    "branch on a comparison: `if x > 0.0 { ... }`; `if let Some(v) = x.last()` (also `first()`, `get(i)`) of a slice or local array named by a plain name is taken as `if !x.is_empty() { let v = x[x.len() - 1]; … }`",
                ),
            );
            return Tail::Unit;
        }
        let Some(cond) = self.expr(&i.cond, Want::Bool) else {
            return Tail::Unit;
        };
        self.branch(
            cond,
            |l| l.block(&i.then_branch, want),
            |l| match &i.else_branch {
                Some((_, e)) => l.expr_tail(e, want),
                None => Tail::Unit,
            },
        )
    }

    pub(super) fn match_expr(&mut self, m: &ExprMatch, want: Want) -> Tail {
        let scrutinee = match &*m.expr {
            Expr::Tuple(t) if t.elems.is_empty() => Scrutinee::Unit,
            // `match (i, k) { (0, _) => …, (_, 0) | (_, 1) => …, _ => … }`: each element once.
            Expr::Tuple(t) => {
                let mut elems = Vec::with_capacity(t.elems.len());
                for e in &t.elems {
                    match self.expr(e, Want::Any) {
                        Some(v) => elems.push(v),
                        None => return Tail::Unit,
                    }
                }
                Scrutinee::Tuple(elems)
            }
            e => match self.expr(e, Want::Any) {
                Some(v) => Scrutinee::One(v),
                None => return Tail::Unit,
            },
        };
        if m.arms.is_empty() {
            self.cx
                .error_spanned_by(m, msg("a `match` without arms has no value", "add arms"));
            return Tail::Unit;
        }
        self.arms(&scrutinee, &m.arms, want)
    }

    pub(super) fn arms(&mut self, scrutinee: &Scrutinee, arms: &[syn::Arm], want: Want) -> Tail {
        let (arm, rest) = arms
            .split_first()
            .expect("internal error: arms checked non-empty");
        self.state.scopes.push(Vec::new());
        let matched = self.matches(scrutinee, &arm.pat);
        if rest.is_empty() {
            // Rust checked exhaustiveness: the last arm matches whatever is left.
            let tail = self.expr_tail(&arm.body, want);
            self.state.scopes.pop();
            return tail;
        }
        let guard = match &arm.guard {
            Some((_, g)) => self.expr(g, Want::Bool),
            None => Some(self.g.boolean(true)),
        };
        let (Some(matched), Some(guard)) = (matched, guard) else {
            self.state.scopes.pop();
            return Tail::Unit;
        };
        let cond = self.g.and(matched, guard);
        let bindings = self.state.scopes.pop().unwrap_or_default();
        self.branch(
            cond,
            |l| {
                l.state.scopes.push(bindings);
                let t = l.expr_tail(&arm.body, want);
                l.state.scopes.pop();
                t
            },
            |l| l.arms(scrutinee, rest, want),
        )
    }

    /// The condition under which `pat` matches `scrutinee`; binds names in the current scope.
    fn matches(&mut self, scrutinee: &Scrutinee, pat: &Pat) -> Option<NodeId> {
        let elems = match scrutinee {
            Scrutinee::Unit => return self.pattern(None, pat),
            Scrutinee::One(s) => return self.pattern(Some(*s), pat),
            Scrutinee::Tuple(elems) => elems,
        };
        match pat {
            Pat::Wild(_) => Some(self.g.boolean(true)),
            Pat::Paren(p) => self.matches(scrutinee, &p.pat),
            Pat::Or(o) => self.any_case(o, |l, case| l.matches(scrutinee, case)),
            // Element by element; `..` stands for the elements between those written.
            Pat::Tuple(t) => {
                let pats: Vec<&Pat> = t.elems.iter().collect();
                let rest = pats.iter().position(|p| matches!(p, Pat::Rest(_)));
                let pairs: Vec<(NodeId, &Pat)> = match rest {
                    None if pats.len() == elems.len() => {
                        elems.iter().copied().zip(pats.iter().copied()).collect()
                    }
                    Some(r) if pats.len() - 1 <= elems.len() => {
                        let after = pats.len() - 1 - r;
                        let tail = elems.len() - after;
                        let mut pairs: Vec<(NodeId, &Pat)> = elems[..r]
                            .iter()
                            .copied()
                            .zip(pats[..r].iter().copied())
                            .collect();
                        pairs.extend(
                            elems[tail..]
                                .iter()
                                .copied()
                                .zip(pats[r + 1..].iter().copied()),
                        );
                        pairs
                    }
                    _ => {
                        self.cx.error_spanned_by(
                            t,
                            msg(
                                "this tuple pattern does not have as many elements as the tuple `match`ed",
                                "write one pattern per element, or `..` for those left out",
                            ),
                        );
                        return None;
                    }
                };
                let mut acc = self.g.boolean(true);
                for (s, p) in pairs {
                    let c = self.pattern(Some(s), p)?;
                    acc = self.g.and(acc, c);
                }
                Some(acc)
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "a `match` on a tuple takes tuple patterns here",
                        "write `(0, _) => …`, `(a, 1..=3) => …` or `_ => …`",
                    ),
                );
                None
            }
        }
    }

    /// Whether any case of `a | b | …` matches, each tested by `case`.
    fn any_case(
        &mut self,
        or: &syn::PatOr,
        mut case: impl FnMut(&mut Self, &Pat) -> Option<NodeId>,
    ) -> Option<NodeId> {
        let mut acc = self.g.boolean(false);
        for c in &or.cases {
            let m = case(self, c)?;
            acc = self.g.or(acc, m);
        }
        Some(acc)
    }

    /// The condition under which `pat` matches one value (`None`: `match ()`); binds names in
    /// the current scope.
    pub(super) fn pattern(&mut self, scrutinee: Option<NodeId>, pat: &Pat) -> Option<NodeId> {
        let yes = self.g.boolean(true);
        let Some(s) = scrutinee else {
            return match pat {
                Pat::Wild(_) => Some(yes),
                Pat::Tuple(t) if t.elems.is_empty() => Some(yes),
                other => {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            "`match ()` arms must be `_ if <condition>`",
                            "write `_ if x > 0.0 => ...`",
                        ),
                    );
                    None
                }
            };
        };
        match pat {
            Pat::Wild(_) => Some(yes),
            Pat::Ident(p) if p.subpat.is_none() => {
                self.declare(p.ident.to_string(), Binding::Value(s));
                Some(yes)
            }
            Pat::Paren(p) => self.pattern(scrutinee, &p.pat),
            Pat::Or(o) => self.any_case(o, |l, case| l.pattern(scrutinee, case)),
            Pat::Lit(l) => {
                let v = self.expr(&Expr::Lit(l.clone()), want_of_kind(self.g.kind(s)))?;
                Some(self.equals(s, v))
            }
            Pat::Path(p) => {
                let v = self.sym_node(p.to_token_stream(), self.g.kind(s));
                Some(self.equals(s, v))
            }
            Pat::Range(r) => {
                let want = want_of_kind(self.g.kind(s));
                let mut cond = yes;
                if let Some(lo) = &r.start {
                    let lo = self.expr(lo, want)?;
                    let c = self.g.compare(Cmp::Ge, s, lo);
                    cond = self.g.and(cond, c);
                }
                if let Some(hi) = &r.end {
                    let hi = self.expr(hi, want)?;
                    let op = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                        Cmp::Le
                    } else {
                        Cmp::Lt
                    };
                    let c = self.g.compare(op, s, hi);
                    cond = self.g.and(cond, c);
                }
                Some(cond)
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this pattern is not supported in a differentiated `match`",
                        "use literals, ranges, `|`, `_`, a name, and `if` guards",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn equals(&mut self, s: NodeId, v: NodeId) -> NodeId {
        if self.g.kind(s) == Kind::Bool {
            // `b == true` is `b`; `b == false` is `!b`.
            let nv = self.g.not(v);
            let both = self.g.and(s, v);
            let neither = self.g.not(s);
            let neither = self.g.and(neither, nv);
            return self.g.or(both, neither);
        }
        self.g.compare(Cmp::Eq, s, v)
    }
}
