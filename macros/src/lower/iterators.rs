//! Iterators as loops: the sources a `for` loop or an iterator sum runs over (ranges, slices,
//! `iter()`, `enumerate`, `zip`, `skip`/`take`/`step_by`/`rev`, `windows`/`chunks`, sub-slices),
//! each item's position computed from the loop's index ([`Pos`]), `sum`/`product`/`fold` of
//! iterator chains, and the patterns that bind an item.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Expr, Pat};

use super::loops::{mentions_any, pattern_names};
use super::{Binding, Enclosing, Lower, Want, pretty};
use crate::ctxt::msg;
use crate::graph::{Cmp, IntOp, Kind, NodeId, Op};

/// An integer position computed from a loop's index (`Var`): where the item of one iteration
/// reads its slice, once adaptors (`skip`, `rev`, `step_by`, `zip` of shifted iterators) have
/// moved it.
#[derive(Clone)]
pub(super) enum Pos {
    Var,
    Node(NodeId),
    Add(Box<Pos>, Box<Pos>),
    Sub(Box<Pos>, Box<Pos>),
    Mul(Box<Pos>, Box<Pos>),
    Min(Box<Pos>, Box<Pos>),
}

impl Pos {
    fn node(n: NodeId) -> Pos {
        Pos::Node(n)
    }

    fn add(a: Pos, b: Pos) -> Pos {
        Pos::Add(Box::new(a), Box::new(b))
    }

    fn sub(a: Pos, b: Pos) -> Pos {
        Pos::Sub(Box::new(a), Box::new(b))
    }

    fn mul(a: Pos, b: Pos) -> Pos {
        Pos::Mul(Box::new(a), Box::new(b))
    }

    /// The position with the index replaced by `v`.
    fn subst(&self, v: &Pos) -> Pos {
        match self {
            Pos::Var => v.clone(),
            Pos::Node(n) => Pos::Node(*n),
            Pos::Add(a, b) => Pos::add(a.subst(v), b.subst(v)),
            Pos::Sub(a, b) => Pos::sub(a.subst(v), b.subst(v)),
            Pos::Mul(a, b) => Pos::mul(a.subst(v), b.subst(v)),
            Pos::Min(a, b) => Pos::Min(Box::new(a.subst(v)), Box::new(b.subst(v))),
        }
    }

    /// The integer node of the position at loop index `index`.
    pub(super) fn build(&self, g: &mut crate::graph::Graph, index: NodeId) -> NodeId {
        match self {
            Pos::Var => index,
            Pos::Node(n) => *n,
            Pos::Min(a, b) => {
                let a = a.build(g, index);
                let b = b.build(g, index);
                let first = g.compare(Cmp::Le, a, b);
                g.select(first, a, b)
            }
            Pos::Add(a, b) | Pos::Sub(a, b) | Pos::Mul(a, b) => {
                let op = match self {
                    Pos::Add(..) => IntOp::Add,
                    Pos::Sub(..) => IntOp::Sub,
                    _ => IntOp::Mul,
                };
                let a = a.build(g, index);
                let b = b.build(g, index);
                g.int_bin(op, a, b)
            }
        }
    }
}

/// What one iteration of an iterator chain yields.
#[derive(Clone)]
pub(super) enum Item {
    /// An element of a slice (data or differentiated) at a position.
    Element(NodeId, Pos),
    /// An integer (the index of a range, or `enumerate`'s count).
    Index(Pos),
    /// A run of a slice's elements (`windows`, `chunks`): its start and length.
    View(NodeId, Pos, Pos),
    Pair(Box<Item>, Box<Item>),
}

impl Item {
    fn subst(&self, v: &Pos) -> Item {
        match self {
            Item::Element(s, p) => Item::Element(*s, p.subst(v)),
            Item::Index(p) => Item::Index(p.subst(v)),
            Item::View(s, start, len) => Item::View(*s, start.subst(v), len.subst(v)),
            Item::Pair(a, b) => Item::Pair(Box::new(a.subst(v)), Box::new(b.subst(v))),
        }
    }
}

/// A run of a slice bound to a name (a window, a chunk, `&x[a..b]`): `w[j]` reads
/// `slice[start + j]`.
#[derive(Clone, Copy)]
pub(super) struct View {
    pub slice: NodeId,
    pub start: NodeId,
    pub len: NodeId,
}

impl Lower<'_> {
    /// `….sum()` (or `….product()`) of an iterator chain: `x.iter()`, `.zip(…)`, `.enumerate()`, `.map(closure)`,
    /// or `(a..b).map(closure)`.
    pub(super) fn iterator_sum(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let (v, _, body) = self.iterator_items(m)?;
        if m.method == "product" {
            // `p = 1; for v { p = p · body }`: a recurrence.
            let one = self.g.one();
            return Some(self.fold(v, one, body, |l, carry| l.g.mul(carry, body)));
        }
        Some(self.g.loop_sum(v, body))
    }

    /// `….collect()` of an iterator chain of floats into a local array (`let z: Vec<f64> =
    /// (0..n).map(|i| w[i] * x).collect();`, `x.iter().copied().collect()`): one element per
    /// item, the table the loop stands for.
    pub(super) fn collected(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let (v, (lo, hi), body) = self.iterator_items(m)?;
        Some(self.g.add(Op::Table { v, lo, hi, body }))
    }

    /// The loop an iterator chain ending in `m` (`sum`, `product`, `collect`) runs, its bounds
    /// and the float each item gives (through `.map(closure)`, or the item itself).
    fn iterator_items(
        &mut self,
        m: &syn::ExprMethodCall,
    ) -> Option<(u32, (NodeId, NodeId), NodeId)> {
        // `.map(f).map(g)`: one `map` of `g` after `f`.
        if let Some(fused) = self.fused_maps(&m.receiver) {
            let mut m = m.clone();
            *m.receiver = fused;
            return self.iterator_items(&m);
        }
        self.mapped_items(m)
    }

    /// [`iterator_items`](Self::iterator_items) of a chain with one `map` at most.
    fn mapped_items(&mut self, m: &syn::ExprMethodCall) -> Option<(u32, (NodeId, NodeId), NodeId)> {
        // A closure bound by `let` (`.map(square)`) runs with what it captured at its `let`.
        let mut captured = None;
        let named: Option<syn::ExprClosure>;
        let (source, closure) = match &*m.receiver {
            Expr::MethodCall(map) if map.method == "map" && map.args.len() == 1 => {
                let arg = map.args.first();
                let bound = arg
                    .and_then(|a| self.bound_to(a))
                    .and_then(|n| self.closures.get(&n).cloned())
                    .map(|(c, scopes)| {
                        captured = Some(scopes);
                        c
                    });
                // A function by its path (`.map(f64::exp)`, `.map(square)` of a
                // `#[differentiable]` function): the closure calling it on the item.
                named = match (arg, bound) {
                    (Some(Expr::Path(f)), None)
                        if self.bound_to(&Expr::Path(f.clone())).is_none() =>
                    {
                        Some(calling(f))
                    }
                    (_, bound) => bound,
                };
                match (arg, &named) {
                    (Some(Expr::Closure(c)), _) | (_, Some(c)) => (&*map.receiver, Some(c)),
                    _ => {
                        self.cx.error_spanned_by(
                            &map.args,
                            msg(
                                "`map` needs a closure or a function here",
                                "write `.map(|a| …)`, or name the function: `.map(f64::exp)`",
                            ),
                        );
                        return None;
                    }
                }
            }
            other => (other, None),
        };
        let (lo, len, item) = self.source(source)?;
        let v = self.new_loop(lo, len, m)?;
        let index = self.g.add(Op::LoopVar(v));
        let here = captured.map(|scopes| std::mem::replace(&mut self.state.scopes, scopes));
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
                    self.loop_stack.push(v);
                    let body = self.expr(&c.body, Want::Float);
                    self.loop_stack.pop();
                    self.enclosing.pop();
                    body
                } else {
                    None
                }
            }
            None => match item {
                Item::Element(s, p) => {
                    let i = p.build(&mut self.g, index);
                    Some(self.element(s, i))
                }
                _ => {
                    self.cx.error_spanned_by(
                        m,
                        msg(
                            "only floats can be summed, multiplied or collected here",
                            "`.map(|…| …)` the items to floats first",
                        ),
                    );
                    None
                }
            },
        };
        self.state.scopes.pop();
        if let Some(scopes) = here {
            self.state.scopes = scopes;
        }
        let body = body?;
        if self.g.kind(body) != Kind::Float {
            self.cx.error_spanned_by(
                m,
                msg(
                    "only floats can be summed, multiplied or collected here",
                    "make the closure return an `f64`",
                ),
            );
            return None;
        }
        Some((v, (lo, len), body))
    }

    /// `….fold(init, |acc, item| …)` and `….fold(init, f64::max)`: the folds differentiated.
    pub(super) fn is_supported_fold(m: &syn::ExprMethodCall) -> bool {
        m.method == "fold"
            && m.args.len() == 2
            && match m.args.last() {
                Some(Expr::Closure(c)) => c.inputs.len() == 2,
                Some(Expr::Path(f)) => {
                    f.path.segments.len() == 2
                        && matches!(f.path.segments[0].ident.to_string().as_str(), "f64" | "f32")
                }
                _ => false,
            }
    }

    /// A fold [`is_supported_fold`](Self::is_supported_fold) accepts; a method path
    /// (`f64::max`) is the closure `|acc, item| acc.max(item)`.
    pub(super) fn supported_fold(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let mut folded = m.clone();
        if let Some(Expr::Path(f)) = m.args.last() {
            let method = &f.path.segments.last()?.ident;
            let (a, b) = (
                syn::Ident::new("__symgrad_acc", Span::mixed_site()),
                syn::Ident::new("__symgrad_item", Span::mixed_site()),
            );
            if let Some(last) = folded.args.last_mut() {
                *last = syn::parse_quote_spanned! {method.span()=> |#a, #b| #a.#method(#b) };
            }
        }
        // `chain.map(|p| e).fold(init, |acc, v| body)`: the fold of `chain` with `v` bound to
        // `e` first in its body.
        while let Some(fused) = fold_of_a_map(&folded) {
            folded = fused;
        }
        self.iterator_fold(&folded)
    }

    /// `iter.fold(init, |acc, item| body)` with a float accumulator: a sum where the body is
    /// `acc + Δ` (`Δ` not reading `acc`), a recurrence otherwise, as the same `for` loop would be.
    pub(super) fn iterator_fold(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let (Some(init), Some(Expr::Closure(c))) = (m.args.first(), m.args.last()) else {
            return None;
        };
        // (A fold to a tuple bound by `let` is a loop by now: see `tuple_folds`.)
        if super::tuple_folds::counts(init) {
            let (error, help) = super::tuple_folds::COUNTED;
            self.cx.error_spanned_by(init, msg(error, help));
            return None;
        }
        if matches!(init, Expr::Tuple(_)) {
            self.cx.error_spanned_by(
                m,
                msg(
                    "a `fold` to a tuple is differentiated where `let` binds its elements, and its closure does not `return`",
                    "write `let (s, p) = x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v));`",
                ),
            );
            return None;
        }
        let init = self.expr(init, Want::Float)?;
        if self.g.kind(init) != Kind::Float {
            self.cx.error_spanned_by(
                &m.args[0],
                msg(
                    "`fold` is differentiated with a float accumulator",
                    "start from a float: `.fold(0.0, |acc, v| acc + v * v)`",
                ),
            );
            return None;
        }
        let (lo, hi, item) = self.source(&m.receiver)?;
        let v = self.new_loop(lo, hi, m)?;
        let index = self.g.add(Op::LoopVar(v));
        let outer = self.carry_outer_floats(v, self.g.loops_of(index));
        let placeholder = self.g.provisional_carry(v, self.g.loops_of(index));
        self.state.scopes.push(Vec::new());
        let mut pats = c.inputs.iter();
        let (Some(acc), Some(item_pat)) = (pats.next(), pats.next()) else {
            return None;
        };
        let ok = self.bind_item(acc, &Item::Index(Pos::Var), placeholder)
            && self.bind_item(item_pat, &item, index);
        let after = if ok {
            self.enclosing.push(Enclosing::Closure);
            self.loop_stack.push(v);
            let body = self.expr(&c.body, Want::Float);
            self.loop_stack.pop();
            self.enclosing.pop();
            body
        } else {
            None
        };
        self.state.scopes.pop();
        // The outer variables the closure read get their values back (it cannot assign them).
        let mut restore: HashMap<NodeId, NodeId> = HashMap::new();
        for &(s, e, before, carried) in &outer {
            if carried != NodeId(u32::MAX) {
                let before_node = match before {
                    Binding::Value(n) => n,
                    Binding::Uninit => self.g.zero(),
                };
                restore.insert(carried, before_node);
                self.state.scopes[s][e].1 = before;
            }
        }
        let after = after?;
        if self.g.kind(after) != Kind::Float {
            self.cx.error_spanned_by(
                &c.body,
                msg(
                    "the `fold` closure must return the new float accumulator",
                    "write `|acc, v| acc + v * v`",
                ),
            );
            return None;
        }
        Some(match self.increment(after, placeholder) {
            Some(delta) => {
                let delta = self.g.substitute(delta, &restore);
                let total = self.g.loop_sum(v, delta);
                self.g.plus(init, total)
            }
            None => self.recurrence(v, init, after, placeholder, &restore),
        })
    }

    /// The start, end and items of an iterator chain: the loop runs its index over
    /// `start..end`, and each item is a function of the index.
    pub(super) fn source(&mut self, e: &Expr) -> Option<(NodeId, NodeId, Item)> {
        match e {
            Expr::Paren(p) => self.source(&p.expr),
            Expr::Range(_) => {
                let (lo, hi) = self.range(e)?;
                Some((lo, hi, Item::Index(Pos::Var)))
            }
            Expr::Path(_) | Expr::Reference(_) | Expr::Index(_) => self.slice_source(e),
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
                let (lo, hi, item) = self.source(&m.receiver)?;
                // `enumerate` counts the items from 0, wherever the index starts.
                let count = Pos::sub(Pos::Var, Pos::node(lo));
                let count = if matches!(self.g.op(lo), Op::IntConst(0)) {
                    Pos::Var
                } else {
                    count
                };
                Some((
                    lo,
                    hi,
                    Item::Pair(Box::new(Item::Index(count)), Box::new(item)),
                ))
            }
            Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
                let a = self.source(&m.receiver)?;
                let other = m
                    .args
                    .first()
                    .expect("internal error: one argument checked");
                let b = self.source(other)?;
                if let Some(aligned) = self.aligned_zip(&a, &b) {
                    return Some(aligned);
                }
                // The k-th items of both sides, for k in 0..min(len_a, len_b).
                let (len_a, a) = self.zero_based(a);
                let (len_b, b) = self.zero_based(b);
                let len = self.min(len_a, len_b);
                let zero = self.g.int(0);
                Some((zero, len, Item::Pair(Box::new(a), Box::new(b))))
            }
            Expr::MethodCall(m) if m.args.is_empty() && m.method == "rev" => {
                // Index j in lo..hi reads what index lo + hi - 1 - j did: `lo + (hi - (j + 1))`.
                let (lo, hi, item) = self.source(&m.receiver)?;
                let one = self.g.int(1);
                let flipped = Pos::add(
                    Pos::node(lo),
                    Pos::sub(Pos::node(hi), Pos::add(Pos::Var, Pos::node(one))),
                );
                Some((lo, hi, item.subst(&flipped)))
            }
            Expr::MethodCall(m)
                if m.args.len() == 1
                    && matches!(m.method.to_string().as_str(), "skip" | "take" | "step_by") =>
            {
                self.counted(m)
            }
            Expr::MethodCall(m)
                if m.args.len() == 1
                    && matches!(
                        m.method.to_string().as_str(),
                        "windows" | "chunks" | "chunks_exact"
                    ) =>
            {
                self.runs(m)
            }
            Expr::MethodCall(m) if super::syntax::is_mut_view(&m.method.to_string()) => {
                let z = pretty(&m.receiver.to_token_stream());
                // (A `for` loop or `for_each` over `z.iter_mut()` of a local array, the element
                // bound alone, also after `skip`, `take`, `rev`, or under `enumerate`, `zip`,
                // `take`, is read as the index loop it stands for before lowering:
                // `lower::places`.)
                let other_loop = if m.method == "iter_mut" {
                    format!(
                        "write the elements in a `for` loop over `{z}.iter_mut()` (bound alone, also after `skip`, `take`, `rev`; under `enumerate`, `zip`, `take`) as `*zi = …`, or "
                    )
                } else {
                    String::new()
                };
                self.cx.error_spanned_by(
                    m,
                    msg(
                        format!("`{z}.{}()` lends the elements of `{z}` to be written through another name here, which cannot be differentiated", m.method),
                        format!("{other_loop}loop over the indices and write the element itself: `for i in 0..{z}.len() {{ {z}[i] = …; }}` (reading `{z}[i]` on the right is its value before the write)"),
                    ),
                );
                None
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this iterator cannot be differentiated",
                        "iterate over slice parameters with `iter`, `zip`, `enumerate`, `skip`, `take`, `step_by`, `rev`, `windows`, `chunks` and `map(|…| …)`, or over a range `(0..n)`; `a.chain(b)` only as the last adaptor but `map`s, summed, multiplied, folded, or looped over without `break` (each part in turn); `filter(|v| …)` only as the last adaptor but `map`s, summed, multiplied or looped over (an `enumerate` after it counts only the items it keeps: filter after `enumerate`), its closure reading no name from around it that the item is named",
                    ),
                );
                None
            }
        }
    }

    /// `skip(n)`, `take(n)`, `step_by(n)` of an iterator.
    pub(super) fn counted(&mut self, m: &syn::ExprMethodCall) -> Option<(NodeId, NodeId, Item)> {
        let (lo, hi, item) = self.source(&m.receiver)?;
        let arg = m
            .args
            .first()
            .expect("internal error: one argument checked");
        let n = self.expr(arg, Want::Int)?;
        if self.g.kind(n) != Kind::Int {
            self.cx.error_spanned_by(
                arg,
                msg(
                    format!("`{}` takes an integer", m.method),
                    "pass a count computed from integers and lengths",
                ),
            );
            return None;
        }
        match m.method.to_string().as_str() {
            // An empty range when `lo + n > hi`, as `skip` past the end is.
            "skip" => Some((self.g.int_bin(IntOp::Add, lo, n), hi, item)),
            "take" => {
                let end = self.g.int_bin(IntOp::Add, lo, n);
                Some((lo, self.min(hi, end), item))
            }
            _ => {
                // Item k is the one at index lo + k·n, for k < ⌈len / n⌉.
                let (len, item) = self.zero_based((lo, hi, item));
                let one = self.g.int(1);
                let up = self.g.int_bin(IntOp::Add, len, n);
                let up = self.g.int_bin(IntOp::Sub, up, one);
                let count = self.g.int_bin(IntOp::Div, up, n);
                let zero = self.g.int(0);
                let stepped = Pos::mul(Pos::Var, Pos::node(n));
                Some((zero, count, item.subst(&stepped)))
            }
        }
    }

    /// `windows(w)`, `chunks(w)`, `chunks_exact(w)` of a slice: runs bound as views.
    pub(super) fn runs(&mut self, m: &syn::ExprMethodCall) -> Option<(NodeId, NodeId, Item)> {
        let (lo, len, item) = self.slice_source(&m.receiver)?;
        let Item::Element(slice, first) = item else {
            return None;
        };
        let arg = m
            .args
            .first()
            .expect("internal error: one argument checked");
        let w = self.expr(arg, Want::Int)?;
        let one = self.g.int(1);
        let (count, start, run) = match m.method.to_string().as_str() {
            "windows" => {
                // The index runs over the windows' last elements, `w - 1..len` (`len - w + 1`
                // windows, none when `w > len`), as `for i in 1..x.len()` reads `x[i - 1]` and
                // `x[i]`: the bounds checks are the index loop's.
                let last = self.g.int_bin(IntOp::Sub, w, one);
                let start = first.subst(&Pos::sub(Pos::Var, Pos::node(last)));
                return Some((last, len, Item::View(slice, start, Pos::node(w))));
            }
            "chunks" => {
                // ⌈len / w⌉ chunks; the last one holds what is left.
                let up = self.g.int_bin(IntOp::Add, len, w);
                let up = self.g.int_bin(IntOp::Sub, up, one);
                let count = self.g.int_bin(IntOp::Div, up, w);
                let at = Pos::mul(Pos::Var, Pos::node(w));
                let left = Pos::sub(Pos::node(len), at.clone());
                let run = Pos::Min(Box::new(Pos::node(w)), Box::new(left));
                (count, first.subst(&at), run)
            }
            _ => {
                let count = self.g.int_bin(IntOp::Div, len, w);
                let at = Pos::mul(Pos::Var, Pos::node(w));
                (count, first.subst(&at), Pos::node(w))
            }
        };
        Some((lo, count, Item::View(slice, start, run)))
    }

    /// `x.iter().zip(x.iter().skip(1))`: two sides over the same end (the same length, as
    /// written) from constant starts `ca <= cb` pair up over `cb..end`, the earlier side read
    /// `cb - ca` back, as `for i in 1..x.len()` reads `x[i - 1]` and `x[i]`: the index loop's
    /// bounds checks, with no `min` of the counts.
    pub(super) fn aligned_zip(
        &mut self,
        a: &(NodeId, NodeId, Item),
        b: &(NodeId, NodeId, Item),
    ) -> Option<(NodeId, NodeId, Item)> {
        let (Op::IntConst(ca), Op::IntConst(cb)) = (self.g.op(a.0).clone(), self.g.op(b.0).clone())
        else {
            return None;
        };
        let same_end = match (self.g.op(a.1), self.g.op(b.1)) {
            (Op::Sym(sa, Kind::Int), Op::Sym(sb, Kind::Int)) => {
                self.g.symbol_name(*sa) == self.g.symbol_name(*sb)
            }
            _ => a.1 == b.1,
        };
        if !same_end || ca < 0 || cb < 0 {
            return None;
        }
        let back = |l: &mut Self, by: i64| Pos::sub(Pos::Var, Pos::node(l.g.int(by)));
        Some(if ca <= cb {
            let shift = back(self, cb - ca);
            let items = Item::Pair(Box::new(a.2.subst(&shift)), Box::new(b.2.clone()));
            (b.0, b.1, items)
        } else {
            let shift = back(self, ca - cb);
            let items = Item::Pair(Box::new(a.2.clone()), Box::new(b.2.subst(&shift)));
            (a.0, a.1, items)
        })
    }

    /// The same items with an index that starts at 0: the count, and the items of index k.
    pub(super) fn zero_based(&mut self, (lo, hi, item): (NodeId, NodeId, Item)) -> (NodeId, Item) {
        if matches!(self.g.op(lo), Op::IntConst(0)) {
            return (hi, item);
        }
        // `hi - lo` only where `hi > lo`: the subtraction would overflow otherwise.
        let nonempty = self.g.compare(Cmp::Gt, hi, lo);
        let len = self.g.int_bin(IntOp::Sub, hi, lo);
        let zero = self.g.int(0);
        let count = self.g.select(nonempty, len, zero);
        (count, item.subst(&Pos::add(Pos::node(lo), Pos::Var)))
    }

    /// `min(a, b)` of two integers.
    pub(super) fn min(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let first = self.g.compare(Cmp::Le, a, b);
        self.g.select(first, a, b)
    }

    /// Whether `m` is `x.to_vec()`, `x[a..b].to_vec()`, `z.clone()` or `x.to_owned()` of a slice
    /// parameter (differentiated or data), a run of one or a local array (see
    /// [`copied_array`](Self::copied_array)).
    pub(super) fn is_array_copy(&self, m: &syn::ExprMethodCall) -> bool {
        copy_source(m).is_some_and(|source| self.is_run(source))
    }

    /// A copy [`is_array_copy`](Self::is_array_copy) accepts: a new local array holding the
    /// elements, the copy loop it stands for.
    ///
    /// ```text
    /// let mut h = x[1..].to_vec();   // h = Table(j ∈ 0..x.len() − 1: x[1 + j])
    /// ```
    pub(super) fn copied_array(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let source = copy_source(m)?;
        self.copy_of(source, m)
    }

    /// Whether `e` (behind `&`, parentheses, `.iter()`, `[a..b]`) names a slice parameter, a
    /// field of a data parameter, a run bound to a name or a local array.
    fn is_run(&self, e: &Expr) -> bool {
        match e {
            Expr::Reference(r) => self.is_run(&r.expr),
            Expr::Paren(p) => self.is_run(&p.expr),
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
                self.is_run(&m.receiver)
            }
            Expr::Index(ix) if matches!(&*ix.index, Expr::Range(_)) => self.is_run(&ix.expr),
            _ => {
                self.local_array(e).is_some()
                    || self.data_field_base(e).is_some()
                    || self.bound_to(e).is_some_and(|n| {
                        self.views.contains_key(&n)
                            || (matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other))
                                && !self.closures.contains_key(&n))
                    })
            }
        }
    }

    /// The new array holding the elements of the run `source`, one per index `0..len`.
    pub(super) fn copy_of(&mut self, source: &Expr, at: &dyn ToTokens) -> Option<NodeId> {
        let (lo, len, item) = self.slice_source(source)?;
        let Item::Element(slice, pos) = item else {
            return None;
        };
        let zero = self.g.int(0);
        let v = self.new_loop(zero, len, at)?;
        let j = self.g.add(Op::LoopVar(v));
        // Item `j` of the source is the one at its index `lo + j`.
        let index = if lo == zero {
            j
        } else {
            self.g.int_bin(IntOp::Add, lo, j)
        };
        let i = pos.build(&mut self.g, index);
        let body = self.element(slice, i);
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: len,
            body,
        }))
    }

    /// A slice parameter (possibly behind `&`, `.iter()`, or sliced `x[a..b]`), or a run bound
    /// to a name: the index range `0..len` and its elements.
    pub(super) fn slice_source(&mut self, e: &Expr) -> Option<(NodeId, NodeId, Item)> {
        let inner = match e {
            Expr::Reference(r) => &*r.expr,
            Expr::Paren(p) => &*p.expr,
            other => other,
        };
        if let Expr::MethodCall(m) = inner
            && (m.method == "iter" || m.method == "as_slice")
            && m.args.is_empty()
        {
            return self.slice_source(&m.receiver);
        }
        // `x[a..b]`, `x[a..]`, `x[..b]`: the elements from `a`, `b - a` of them.
        if let Expr::Index(ix) = inner
            && let Expr::Range(r) = &*ix.index
        {
            let (lo, len, item) = self.slice_source(&ix.expr)?;
            let Item::Element(slice, first) = item else {
                return None;
            };
            let a = match &r.start {
                Some(a) => self.expr(a, Want::Int)?,
                None => self.g.int(0),
            };
            let mut b = match &r.end {
                Some(b) => self.expr(b, Want::Int)?,
                None => len,
            };
            if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                let one = self.g.int(1);
                b = self.g.int_bin(IntOp::Add, b, one);
            }
            let count = self.g.int_bin(IntOp::Sub, b, a);
            let shifted = first.subst(&Pos::add(Pos::node(a), Pos::Var));
            return Some((lo, count, Item::Element(slice, shifted)));
        }
        // `data.xs.iter()`, `&data.xs`: a field of a data parameter, as a data slice.
        if let Some(field) = self.data_field_base(inner) {
            let tokens: TokenStream = field.to_token_stream();
            let n = self.sym_node(tokens.clone(), Kind::Other);
            let len = self.sym_node(quote! { #tokens.len() }, Kind::Int);
            let lo = self.g.int(0);
            return Some((lo, len, Item::Element(n, Pos::Var)));
        }
        if let Some(view) = self
            .bound_to(inner)
            .and_then(|n| self.views.get(&n).copied())
        {
            let lo = self.g.int(0);
            let first = Pos::add(Pos::node(view.start), Pos::Var);
            return Some((lo, view.len, Item::Element(view.slice, first)));
        }
        if let Some(n) = self.local_array(inner) {
            self.check_not_growing(n, inner)?;
            let lo = self.g.int(0);
            let len = self.array_len(n);
            return Some((lo, len, Item::Element(n, Pos::Var)));
        }
        match self.bound_to(inner) {
            Some(n) if matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other)) => {
                let tokens: TokenStream = self.slice_tokens(inner);
                let len_tokens = quote! { #tokens.len() };
                let len = self.sym_node(len_tokens, Kind::Int);
                let lo = self.g.int(0);
                Some((lo, len, Item::Element(n, Pos::Var)))
            }
            _ => {
                self.cx.error_spanned_by(
                    e,
                    msg(
                        format!(
                            "`{}` cannot be iterated: it is neither a slice, `Vec` or array parameter nor a local array",
                            pretty(&e.to_token_stream())
                        ),
                        "iterate over a parameter or a local array (`for &v in &h`, `h.iter()`, `x[a..b].iter()`); a copy (`h.clone()`, `h.to_vec()`) holds the same elements: iterate the original, or bind the copy first (`let c = h.clone();`)",
                    ),
                );
                None
            }
        }
    }

    /// Binds a closure parameter (or `for` loop) pattern to the items of one iteration.
    pub(super) fn bind_item(&mut self, pat: &Pat, item: &Item, index: NodeId) -> bool {
        match (pat, item) {
            (Pat::Reference(r), _) => self.bind_item(&r.pat, item, index),
            (Pat::Type(t), _) => self.bind_item(&t.pat, item, index),
            (Pat::Paren(p), _) => self.bind_item(&p.pat, item, index),
            (Pat::Wild(_), _) => true,
            (Pat::Ident(p), Item::Element(s, pos)) => {
                let i = pos.build(&mut self.g, index);
                let e = self.element(*s, i);
                self.declare(p.ident.to_string(), Binding::Value(e));
                true
            }
            (Pat::Ident(p), Item::Index(pos)) => {
                let i = pos.build(&mut self.g, index);
                self.declare(p.ident.to_string(), Binding::Value(i));
                true
            }
            (Pat::Ident(p), Item::View(s, start, len)) => {
                let view = View {
                    slice: *s,
                    start: start.build(&mut self.g, index),
                    len: len.build(&mut self.g, index),
                };
                let handle = self.sym_node(p.ident.to_token_stream(), Kind::Other);
                self.views.insert(handle, view);
                self.declare(p.ident.to_string(), Binding::Value(handle));
                true
            }
            (Pat::Tuple(t), Item::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_item(&t.elems[0], a, index) && self.bind_item(&t.elems[1], b, index)
            }
            (other, _) => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this pattern does not match the iterator's items",
                        "zip gives pairs `(a, b)`, enumerate gives `(i, a)`, `windows` and `chunks` give runs `w` read as `w[0]`",
                    ),
                );
                false
            }
        }
    }

    /// `let (a, b) = x.split_at(k);` of a slice parameter, a local array or a run of one: `a`
    /// and `b` bound as runs (views), `x[..k]` and `x[k..]`: read, measured, iterated, and (of a
    /// differentiated slice) passed to calls like `&x[..k]` and `&x[k..]`.
    ///
    /// ```text
    /// let (a, b) = x.split_at(k);   // a = View(x, 0, k), b = View(x, k, x.len() − k)
    /// a[i] + b.len() as f64         // x[i] + (x.len() − k)
    /// ```
    pub(super) fn split_at(&mut self, pt: &syn::PatTuple, m: &syn::ExprMethodCall) {
        let Some((slice, start, len)) = self.run_of(&m.receiver) else {
            self.cx.error_spanned_by(
                &m.receiver,
                msg(
                    "`split_at` splits a slice parameter, a local array, a run of one (`x[a..b]`) or a part of an earlier split",
                    "split a parameter (`let (a, b) = x.split_at(k);`), or index the slice: `x[i]`, `&x[..k]`",
                ),
            );
            return;
        };
        let Some(k) = m.args.first().and_then(|k| self.integer_index(k)) else {
            return;
        };
        if pt.elems.len() != 2 {
            self.cx.error_spanned_by(
                pt,
                msg(
                    "`split_at` gives two runs",
                    "write `let (a, b) = x.split_at(k);`",
                ),
            );
            return;
        }
        let rest = self.g.int_bin(IntOp::Sub, len, k);
        let second = self.g.int_bin(IntOp::Add, start, k);
        for (p, (start, len)) in pt.elems.iter().zip([(start, k), (second, rest)]) {
            match p {
                Pat::Ident(id) if id.subpat.is_none() => {
                    let handle = self.sym_node(id.ident.to_token_stream(), Kind::Other);
                    self.views.insert(handle, View { slice, start, len });
                    self.declare(id.ident.to_string(), Binding::Value(handle));
                }
                Pat::Wild(_) => {}
                other => self.cx.error_spanned_by(
                    other,
                    msg(
                        "only names and `_` are supported in the pattern of a `split_at`",
                        "write `let (a, b) = x.split_at(k);`",
                    ),
                ),
            }
        }
    }

    /// `x` (or `&x`, `x[..]`) as a run: the slice or local array it reads, its first index and
    /// its length.
    pub(super) fn run_of(&mut self, e: &Expr) -> Option<(NodeId, NodeId, NodeId)> {
        let mut e = e;
        loop {
            e = match e {
                Expr::Reference(r) => &r.expr,
                Expr::Paren(p) => &p.expr,
                _ => break,
            };
        }
        if let Some(view) = self.bound_to(e).and_then(|n| self.views.get(&n).copied()) {
            return Some((view.slice, view.start, view.len));
        }
        // `x[a..b]`, `x[a..]`, `x[..b]`, `x[a..=b]` of one: from `start + a`, `b − a` long.
        if let Expr::Index(ix) = e
            && let Expr::Range(r) = &*ix.index
        {
            let (slice, start, len) = self.run_of(&ix.expr)?;
            let a = match &r.start {
                Some(a) => self.integer_index(a)?,
                None => self.g.int(0),
            };
            let mut b = match &r.end {
                Some(b) => self.integer_index(b)?,
                None => len,
            };
            if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                let one = self.g.int(1);
                b = self.g.int_bin(IntOp::Add, b, one);
            }
            let from = self.g.int_bin(IntOp::Add, start, a);
            let len = self.g.int_bin(IntOp::Sub, b, a);
            return Some((slice, from, len));
        }
        let zero = self.g.int(0);
        if let Some(n) = self.local_array(e) {
            self.check_not_growing(n, e)?;
            let len = self.array_len(n);
            return Some((n, zero, len));
        }
        let n = self.bound_to(e)?;
        if !matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other))
            || self.closures.contains_key(&n)
        {
            return None;
        }
        let tokens = self.slice_tokens(e);
        let len = self.sym_node(quote! { #tokens.len() }, Kind::Int);
        Some((n, zero, len))
    }
}

/// The run a copy method copies: `x` of `x.to_vec()`, `x.to_owned()`, `x.clone()`.
fn copy_source(m: &syn::ExprMethodCall) -> Option<&Expr> {
    if !m.args.is_empty() {
        return None;
    }
    match m.method.to_string().as_str() {
        "to_vec" | "to_owned" | "clone" => Some(&m.receiver),
        _ => None,
    }
}

impl Lower<'_> {
    /// `src.map(f).map(g)` as `src.map(|a| { let b = f(a); g(b) })`, where `f` and `g` are
    /// closures written there (one parameter) or functions named by their path (not closures
    /// bound by `let`, which run with what they captured where they were defined).
    fn fused_maps(&self, e: &Expr) -> Option<Expr> {
        let Expr::MethodCall(outer) = e else {
            return None;
        };
        let Expr::MethodCall(inner) = &*outer.receiver else {
            return None;
        };
        if outer.method != "map" || inner.method != "map" {
            return None;
        }
        let closure = |a: Option<&Expr>| -> Option<syn::ExprClosure> {
            match a? {
                Expr::Closure(c) if c.inputs.len() == 1 => Some(c.clone()),
                Expr::Path(f) if self.bound_to(&Expr::Path(f.clone())).is_none() => {
                    Some(calling(f))
                }
                _ => None,
            }
        };
        let (f, g) = (closure(inner.args.first())?, closure(outer.args.first())?);
        if inner.args.len() != 1 || outer.args.len() != 1 {
            return None;
        }
        let (p, q) = (&f.inputs[0], &g.inputs[0]);
        let (fb, gb) = (&f.body, &g.body);
        // Not where `g`'s body names something `f`'s parameter would now hide (`.map(|x| x *
        // 2.0).map(|y| y + x)` with `x` a parameter of the function).
        let (in_p, in_q) = (pattern_names(p), pattern_names(q));
        let hidden: Vec<String> = in_p.into_iter().filter(|n| !in_q.contains(n)).collect();
        if !hidden.is_empty() && (mentions_any(gb, &hidden) || holds_macro(gb)) {
            return None;
        }
        let src = &inner.receiver;
        Some(syn::parse_quote!(#src.map(|#p| { let #q = #fb; #gb })))
    }
}

/// Whether `e` holds a macro (whose tokens no visitor reads as names).
fn holds_macro(e: &Expr) -> bool {
    struct Finds(bool);
    impl syn::visit::Visit<'_> for Finds {
        fn visit_macro(&mut self, _: &syn::Macro) {
            self.0 = true;
        }
    }
    let mut finds = Finds(false);
    syn::visit::Visit::visit_expr(&mut finds, e);
    finds.0
}

/// The closure calling function `f` on its argument: `|item| f(item)` (`.map(f64::exp)`).
fn calling(f: &syn::ExprPath) -> syn::ExprClosure {
    let span = f
        .path
        .segments
        .last()
        .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span());
    let item = quote::format_ident!("__item", span = proc_macro2::Span::mixed_site());
    syn::parse_quote_spanned!(span=> |#item| #f(#item))
}

/// `chain.map(|p| e).fold(init, |acc, v| body)` as `chain.fold(init, |acc, p| { let v = e; body
/// })`; `None` for another fold, or where a name would hide another there: `p`'s names read by
/// `body` from around the fold, or `acc`'s read by `e`.
fn fold_of_a_map(m: &syn::ExprMethodCall) -> Option<syn::ExprMethodCall> {
    let Expr::MethodCall(map) = super::loops::strip_parens(&m.receiver) else {
        return None;
    };
    let (Some(Expr::Closure(f)), Some(Expr::Closure(g))) = (map.args.first(), m.args.last()) else {
        return None;
    };
    if map.method != "map" || map.args.len() != 1 || f.inputs.len() != 1 || g.inputs.len() != 2 {
        return None;
    }
    if super::tuple_folds::returns(&f.body) || super::tuple_folds::returns(&g.body) {
        return None;
    }
    let (p, e) = (&f.inputs[0], &f.body);
    let (acc, v, body) = (&g.inputs[0], &g.inputs[1], &g.body);
    let item_names = super::loops::pattern_names(p);
    let mut own = super::loops::pattern_names(acc);
    own.extend(super::loops::pattern_names(v));
    let body_reads = super::loops::mentioned_names(body);
    if body_reads
        .iter()
        .any(|n| !own.contains(n) && item_names.contains(n))
        || super::loops::mentions_any(e, &super::loops::pattern_names(acc))
    {
        return None;
    }
    let mut fused = m.clone();
    *fused.receiver = (*map.receiver).clone();
    if let Some(last) = fused.args.last_mut() {
        *last = syn::parse_quote!(|#acc, #p| { let #v = #e; #body });
    }
    Some(fused)
}
