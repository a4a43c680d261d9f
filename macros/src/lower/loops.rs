//! Lowering of loops over data: `for i in a..b { … }` and iterator sums
//! (`x.iter().zip(y).map(|(a, b)| …).sum()`), as `Sum` nodes — never unrolled.
//!
//! ```text
//! // Input:                                 // Graph:
//! let mut acc = 0.0;                        // acc₀ = 0
//! for i in 0..x.len() {                     // Δ(i) = (w·x[i] + b − y[i])²
//!     acc += (w * x[i] + b - y[i]).powi(2); // acc₁ = acc₀ + Σ_{i in 0..x.len()} Δ(i)
//! }
//! ```
//!
//! The loop body is lowered with each outer float variable replaced by a placeholder
//! (`Carried`). A variable the body assigns as `placeholder + Δ` (or `− Δ`, possibly under
//! `if`), with `Δ` free of every placeholder, is an accumulation: its value after the loop is its
//! value before plus `Σ Δ`, and the sum's gradient is the sum of the gradients (a loop in the
//! generated code, with no tape). Any other update that reads only its own previous value
//! (`p *= x[i]`, `m = m.max(z[i])`, `s = 0.9 * s + x[i]`) is a recurrence, a `Fold`: its gradient
//! runs a reverse sweep over the values the forward loop saved (see `diff`).

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Expr, ExprForLoop, Pat};

use super::{Binding, Enclosing, Lower, Want, pretty};
use crate::ctxt::msg;
use crate::graph::{Cmp, IntOp, Kind, NodeId, Op};

/// What one iteration of an iterator chain yields.
enum Item {
    /// An element of a slice (data or differentiated), at the loop index plus nothing.
    Element(NodeId),
    /// The loop index itself (`enumerate`, or a range).
    Index,
    Pair(Box<Item>, Box<Item>),
}

impl Lower<'_> {
    /// `for i in a..b { body }` as a statement.
    pub(super) fn for_loop(&mut self, f: &ExprForLoop) {
        if let Some(label) = &f.label {
            self.cx.error_spanned_by(
                label,
                msg("loop labels are not supported", "remove the label"),
            );
            return;
        }
        let Some((lo, hi)) = self.range(&f.expr) else {
            return;
        };
        let Some(v) = self.g.new_loop(lo, hi) else {
            self.cx.error_spanned_by(
                f.for_token,
                msg(
                    "too many loops in one function (64 at most)",
                    "split the function",
                ),
            );
            return;
        };
        let index = self.g.add(Op::LoopVar(v));
        let outer = self.carry_outer_floats(self.g.loops_of(index));
        self.state.scopes.push(Vec::new());
        match &*f.pat {
            Pat::Ident(p) => self.declare(p.ident.to_string(), Binding::Value(index)),
            Pat::Wild(_) => {}
            other => self.cx.error_spanned_by(
                other,
                msg(
                    "a `for` loop over a range binds one index",
                    "write `for i in 0..n`",
                ),
            ),
        }
        self.enclosing.push(Enclosing::Loop);
        let _ = self.stmts(&f.body.stmts, Want::Any);
        self.enclosing.pop();
        self.state.scopes.pop();
        self.finish_carried(v, &outer, f.for_token.span);
    }

    /// `lo..hi` or `lo..=hi` (integers).
    fn range(&mut self, e: &Expr) -> Option<(NodeId, NodeId)> {
        match e {
            Expr::Paren(p) => self.range(&p.expr),
            Expr::Range(r) => {
                let lo = match &r.start {
                    Some(s) => self.expr(s, Want::Int)?,
                    None => self.g.int(0),
                };
                let Some(end) = &r.end else {
                    self.cx.error_spanned_by(
                        r,
                        msg(
                            "a loop over an unbounded range cannot be differentiated",
                            "give the range an end: `0..n`",
                        ),
                    );
                    return None;
                };
                let mut hi = self.expr(end, Want::Int)?;
                if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                    let one = self.g.int(1);
                    hi = self.g.int_bin(IntOp::Add, hi, one);
                }
                Some((lo, hi))
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "a `for` loop must run over a range of indices to be differentiated",
                        "write `for i in 0..x.len() { … x[i] … }`, or an iterator sum: `x.iter().map(|a| …).sum::<f64>()`",
                    ),
                );
                None
            }
        }
    }

    /// Replaces every float variable in scope by a placeholder varying with the loops of `mask`
    /// (the loop's index's); returns `(scope, entry, before)`.
    fn carry_outer_floats(&mut self, mask: u64) -> Vec<(usize, usize, Binding, NodeId)> {
        let mut carried = Vec::new();
        for s in 0..self.state.scopes.len() {
            for e in 0..self.state.scopes[s].len() {
                let b = self.state.scopes[s][e].1;
                let is_float = matches!(b, Binding::Value(n) if self.g.kind(n) == Kind::Float);
                let is_int_or_bool = matches!(b, Binding::Value(n) if matches!(self.g.kind(n), Kind::Int | Kind::Bool));
                if is_float || matches!(b, Binding::Uninit) {
                    // Numbered across the whole function: nested loops need distinct placeholders.
                    let k = self.placeholders;
                    self.placeholders += 1;
                    let placeholder = self.g.add(Op::Carried(k, mask));
                    carried.push((s, e, b, placeholder));
                    self.state.scopes[s][e].1 = Binding::Value(placeholder);
                } else if is_int_or_bool {
                    // Integers and conditions are not carried: remember them to detect assignments.
                    carried.push((s, e, b, NodeId(u32::MAX)));
                }
            }
        }
        carried
    }

    /// After the body of loop `v`: each carried variable is its value before, plus the loop's
    /// sum of what the body added to it.
    fn finish_carried(&mut self, v: u32, outer: &[(usize, usize, Binding, NodeId)], span: Span) {
        let mut restore: HashMap<NodeId, NodeId> = HashMap::new();
        let mut updates = Vec::new();
        for &(s, e, before, placeholder) in outer {
            let after = self.state.scopes[s][e].1;
            let name = self.state.scopes[s][e].0.clone();
            if placeholder == NodeId(u32::MAX) {
                if after != before {
                    self.cx.error_at(
                        span,
                        msg(
                            format!("the loop assigns the integer or condition `{name}`"),
                            "use the loop index, or compute the value from it",
                        ),
                    );
                    self.state.scopes[s][e].1 = before;
                }
                continue;
            }
            let before_node = match before {
                Binding::Value(n) => n,
                Binding::Uninit => self.g.zero(),
            };
            restore.insert(placeholder, before_node);
            if after != Binding::Value(placeholder) {
                updates.push((s, e, name, before, before_node, placeholder, after));
            }
        }
        let assigned: Vec<NodeId> = updates.iter().map(|u| u.5).collect();
        for (s, e, name, before, before_node, placeholder, after) in updates {
            let Binding::Value(after) = after else {
                continue;
            };
            // An accumulation `name += Δ` becomes a sum; any other update, a recurrence.
            let delta = self.increment(after, placeholder);
            let read = delta.unwrap_or(after);
            if let Some(other) = assigned
                .iter()
                .find(|p| **p != placeholder && self.g.mentions(read, **p))
            {
                let other_name = outer
                    .iter()
                    .find(|o| o.3 == *other)
                    .map(|o| self.state.scopes[o.0][o.1].0.clone())
                    .unwrap_or_default();
                let what = if delta.is_some() {
                    "adds to"
                } else {
                    "assigns to"
                };
                self.cx.error_at(span, msg(format!("what the loop {what} `{name}` reads `{other_name}`, which the loop also updates"), "compute each variable from the data and the values fixed before the loop; a variable can read its own previous value (`p *= x[i]`, `m = m.max(z[i])`) but not another's"));
                self.state.scopes[s][e].1 = before;
                continue;
            }
            let value = match delta {
                Some(delta) => {
                    let delta = self.g.substitute(delta, &restore);
                    let total = self.g.loop_sum(v, delta);
                    self.g.sum(before_node, total)
                }
                None => self.at(span, |l| {
                    l.recurrence(v, before_node, after, placeholder, &restore)
                }),
            };
            self.state.scopes[s][e].1 = Binding::Value(value);
        }
        // The variables the loop only read get their values back.
        for &(s, e, before, placeholder) in outer {
            if placeholder != NodeId(u32::MAX)
                && self.state.scopes[s][e].1 == Binding::Value(placeholder)
            {
                self.state.scopes[s][e].1 = before;
            }
        }
    }

    /// `s = init; for v { s = after(s) }` as a `Fold`: the placeholder becomes the recurrence's
    /// `Carry`, the other placeholders their values before the loop.
    fn recurrence(
        &mut self,
        v: u32,
        init: NodeId,
        after: NodeId,
        placeholder: NodeId,
        restore: &HashMap<NodeId, NodeId>,
    ) -> NodeId {
        self.fold(v, init, after, |l, carry| {
            let mut map = restore.clone();
            map.insert(placeholder, carry);
            l.g.substitute(after, &map)
        })
    }

    /// A new recurrence over loop `v` from `init`, whose body `body(carry)` reads the running
    /// value `carry`; `shape` is what the body is built from (the loops it varies with, outside
    /// `v`, are the carry's too).
    fn fold(
        &mut self,
        v: u32,
        init: NodeId,
        shape: NodeId,
        body: impl FnOnce(&mut Self, NodeId) -> NodeId,
    ) -> NodeId {
        let Some((lo, hi)) = self.g.loop_bounds(v) else {
            return init;
        };
        let c = self.g.new_recurrence();
        let around = [shape, init, lo, hi]
            .iter()
            .fold(0, |m, n| m | self.g.loops_of(*n));
        let carry = self.g.add(Op::Carry(c, v, around | 1 << v));
        let body = body(self, carry);
        self.g.add(Op::Fold(c, v, lo, hi, init, body))
    }

    /// `Δ` such that `after = carried + Δ` and `Δ` does not read `carried`.
    fn increment(&mut self, after: NodeId, carried: NodeId) -> Option<NodeId> {
        if after == carried {
            return Some(self.g.zero());
        }
        let mentions = |l: &Self, n: NodeId| l.g.mentions(n, carried);
        match *self.g.op(after) {
            Op::Add(a, b) if mentions(self, a) && !mentions(self, b) => {
                let d = self.increment(a, carried)?;
                Some(self.g.sum(d, b))
            }
            Op::Add(a, b) if mentions(self, b) && !mentions(self, a) => {
                let d = self.increment(b, carried)?;
                Some(self.g.sum(a, d))
            }
            Op::Sub(a, b) if mentions(self, a) && !mentions(self, b) => {
                let d = self.increment(a, carried)?;
                Some(self.g.diff(d, b))
            }
            Op::Select(c, a, b) if !mentions(self, c) => {
                let da = self.increment(a, carried)?;
                let db = self.increment(b, carried)?;
                Some(self.g.select(c, da, db))
            }
            _ => None,
        }
    }

    /// `x[i]`: an element of a slice parameter (differentiated or data).
    pub(super) fn index(&mut self, e: &syn::ExprIndex, want: Want) -> Option<NodeId> {
        match self.bound_to(&e.expr) {
            Some(n) if matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other)) => {
                let i = self.expr(&e.index, Want::Int)?;
                if self.g.kind(i) != Kind::Int {
                    self.cx.error_spanned_by(&e.index, msg("an index must be an integer", "index with the loop variable or an integer expression; a float index has no derivative"));
                    return None;
                }
                Some(self.element(n, i))
            }
            _ => self.opaque(&Expr::Index(e.clone()), want),
        }
    }

    fn element(&mut self, slice: NodeId, i: NodeId) -> NodeId {
        match *self.g.op(slice) {
            Op::Slice(k) => self.g.add(Op::Element(k, i)),
            Op::Sym(s, _) if self.int_slices.contains(&slice) => self.g.add(Op::IntIndex(s, i)),
            Op::Sym(s, _) => self.g.add(Op::Index(s, i)),
            _ => self.g.zero(),
        }
    }

    /// `….sum()` (or `….product()`) of an iterator chain: `x.iter()`, `.zip(…)`, `.enumerate()`, `.map(closure)`,
    /// or `(a..b).map(closure)`.
    pub(super) fn iterator_sum(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let (source, closure) = match &*m.receiver {
            Expr::MethodCall(map) if map.method == "map" && map.args.len() == 1 => {
                match map.args.first() {
                    Some(Expr::Closure(c)) => (&*map.receiver, Some(c)),
                    _ => {
                        self.cx.error_spanned_by(
                            &map.args,
                            msg("`map` needs a closure here", "write `.map(|a| …)`"),
                        );
                        return None;
                    }
                }
            }
            other => (other, None),
        };
        let (lo, len, item) = self.source(source)?;
        let Some(v) = self.g.new_loop(lo, len) else {
            self.cx.error_spanned_by(
                m,
                msg(
                    "too many loops in one function (64 at most)",
                    "split the function",
                ),
            );
            return None;
        };
        let index = self.g.add(Op::LoopVar(v));
        self.state.scopes.push(Vec::new());
        let body = match closure {
            Some(c) => {
                let ok = match c.inputs.first() {
                    Some(pat) if c.inputs.len() == 1 => self.bind_item(pat, &item, index),
                    _ => {
                        self.cx.error_spanned_by(
                            &c.inputs,
                            msg(
                                "the closure takes one argument",
                                "write `|a| …` or `|(a, b)| …`",
                            ),
                        );
                        false
                    }
                };
                if ok {
                    self.enclosing.push(Enclosing::Closure);
                    let body = self.expr(&c.body, Want::Float);
                    self.enclosing.pop();
                    body
                } else {
                    None
                }
            }
            None => match item {
                Item::Element(s) => Some(self.element(s, index)),
                _ => {
                    self.cx.error_spanned_by(
                        m,
                        msg(
                            "only a sum or product of floats can be differentiated",
                            "`.map(|…| …)` the items to floats first",
                        ),
                    );
                    None
                }
            },
        };
        self.state.scopes.pop();
        let body = body?;
        if self.g.kind(body) != Kind::Float {
            self.cx.error_spanned_by(
                m,
                msg(
                    "only a sum or product of floats can be differentiated",
                    "make the closure return an `f64`",
                ),
            );
            return None;
        }
        if m.method == "product" {
            // `p = 1; for v { p = p · body }`: a recurrence.
            let one = self.g.one();
            return Some(self.fold(v, one, body, |l, carry| l.g.mul(carry, body)));
        }
        Some(self.g.loop_sum(v, body))
    }

    /// The start, end and items of an iterator chain.
    fn source(&mut self, e: &Expr) -> Option<(NodeId, NodeId, Item)> {
        match e {
            Expr::Paren(p) => self.source(&p.expr),
            Expr::Range(_) => {
                let (lo, hi) = self.range(e)?;
                Some((lo, hi, Item::Index))
            }
            Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "iter" | "copied" | "cloned")
                    && m.args.is_empty() =>
            {
                if m.method == "iter" {
                    self.slice_source(&m.receiver)
                } else {
                    self.source(&m.receiver)
                }
            }
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                let (lo, len, item) = self.source(&m.receiver)?;
                if !matches!(self.g.op(lo), Op::IntConst(0)) {
                    self.cx.error_spanned_by(
                        m,
                        msg(
                            "`enumerate` of a range is not supported",
                            "use the range's values directly",
                        ),
                    );
                    return None;
                }
                Some((lo, len, Item::Pair(Box::new(Item::Index), Box::new(item))))
            }
            Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
                let (lo, len_a, a) = self.source(&m.receiver)?;
                let other = m
                    .args
                    .first()
                    .expect("internal error: one argument checked");
                let (lo_b, len_b, b) = match other {
                    Expr::MethodCall(_) | Expr::Paren(_) | Expr::Range(_) => self.source(other)?,
                    _ => self.slice_source(other)?,
                };
                // Items are counted from 0 on both sides: a range from elsewhere would be
                // shifted (`zip(1..4)` pairs the first item with 1).
                let from_zero = |l: &Self, n: NodeId| matches!(l.g.op(n), Op::IntConst(0));
                if !from_zero(self, lo) || !from_zero(self, lo_b) {
                    self.cx.error_spanned_by(
                        m,
                        msg(
                            "`zip` with a range that does not start at 0 is not supported",
                            "zip slices or `(0..n)`, or index them in a `for` loop",
                        ),
                    );
                    return None;
                }
                let shorter = self.g.compare(Cmp::Le, len_a, len_b);
                let len = self.g.select(shorter, len_a, len_b);
                Some((lo, len, Item::Pair(Box::new(a), Box::new(b))))
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this iterator cannot be differentiated",
                        "sum over `x.iter()`, `.zip(…)`, `.enumerate()` and `.map(|…| …)` of slice parameters, or over a range `(0..n).map(|i| …)`",
                    ),
                );
                None
            }
        }
    }

    /// A slice parameter, possibly behind `&`: `0`, its length, its elements.
    fn slice_source(&mut self, e: &Expr) -> Option<(NodeId, NodeId, Item)> {
        let inner = match e {
            Expr::Reference(r) => &*r.expr,
            Expr::Paren(p) => &*p.expr,
            other => other,
        };
        if let Expr::MethodCall(m) = inner {
            if m.method == "iter" && m.args.is_empty() {
                return self.slice_source(&m.receiver);
            }
        }
        match self.bound_to(inner) {
            Some(n) if matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other)) => {
                let tokens: TokenStream = inner.to_token_stream();
                let len_tokens = quote! { #tokens.len() };
                let len = self.sym_node(len_tokens, Kind::Int);
                let lo = self.g.int(0);
                Some((lo, len, Item::Element(n)))
            }
            _ => {
                self.cx.error_spanned_by(
                    e,
                    msg(
                        format!(
                            "`{}` is not a slice parameter",
                            pretty(&e.to_token_stream())
                        ),
                        "iterate over a slice, `Vec` or array parameter of the function",
                    ),
                );
                None
            }
        }
    }

    /// Binds a closure parameter pattern to the items of one iteration.
    fn bind_item(&mut self, pat: &Pat, item: &Item, index: NodeId) -> bool {
        match (pat, item) {
            (Pat::Reference(r), _) => self.bind_item(&r.pat, item, index),
            (Pat::Type(t), _) => self.bind_item(&t.pat, item, index),
            (Pat::Paren(p), _) => self.bind_item(&p.pat, item, index),
            (Pat::Wild(_), _) => true,
            (Pat::Ident(p), Item::Element(s)) => {
                let e = self.element(*s, index);
                self.declare(p.ident.to_string(), Binding::Value(e));
                true
            }
            (Pat::Ident(p), Item::Index) => {
                self.declare(p.ident.to_string(), Binding::Value(index));
                true
            }
            (Pat::Tuple(t), Item::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_item(&t.elems[0], a, index) && self.bind_item(&t.elems[1], b, index)
            }
            (other, _) => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this closure pattern does not match the iterator's items",
                        "zip gives pairs `(a, b)`, enumerate gives `(i, a)`",
                    ),
                );
                false
            }
        }
    }
}
