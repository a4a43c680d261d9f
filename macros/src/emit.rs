//! Emission: graph nodes become Rust statements.
//!
//! ```text
//! // Graph:                               // Output:
//! // out = (w·x − y)², ∂w = 2·x·(w·x − y)   let __t2 = w * x - y;
//! //                                       let __t3 = __t2.powi(2);
//! //                                       let __t5 = 2.0f64 * x * __t2;
//! ```
//!
//! Shared nodes get one `let` each (common subexpressions are computed once); nodes used once are
//! written inline. A `Select` becomes `if c { … } else { … }` whose branches hold the nodes only
//! that branch needs, so an untaken branch costs nothing and cannot produce a NaN. Nodes needed
//! by both branches are hoisted before the `if`, which keeps the output linear in the graph.
//! Generated names use `Span::mixed_site()`, so they cannot collide with the user's.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::formula::Prec;
use crate::graph::{Fun, Graph, NodeId, Op};
use crate::signature::FloatTy;

pub struct Emitter<'a> {
    g: &'a Graph,
    symbols: &'a [TokenStream],
    /// The tokens of each float input (the parameter's identifier), by input index.
    inputs: &'a [TokenStream],
    float: FloatTy,
    uses: HashMap<NodeId, usize>,
    /// Calls whose partial derivatives are needed.
    differentiated_calls: HashSet<NodeId>,
}

/// Emits statements computing `roots`, and an expression for each root.
pub fn emit(
    g: &Graph,
    symbols: &[TokenStream],
    inputs: &[TokenStream],
    float: FloatTy,
    roots: &[NodeId],
) -> (TokenStream, Vec<TokenStream>) {
    let all = g.reachable(roots);
    let mut uses: HashMap<NodeId, usize> = HashMap::new();
    let mut differentiated_calls = HashSet::new();
    for n in &all {
        for c in g.op(*n).children() {
            *uses.entry(c).or_default() += 1;
        }
        if let Op::Partial(call, _) = g.op(*n) {
            differentiated_calls.insert(*call);
        }
    }
    for r in roots {
        *uses.entry(*r).or_default() += 1;
    }
    let e = Emitter {
        g,
        symbols,
        inputs,
        float,
        uses,
        differentiated_calls,
    };
    let mut defined = HashSet::new();
    let stmts = e.region(roots, &mut defined);
    let exprs = roots.iter().map(|r| e.expr(*r, Prec::Select)).collect();
    (stmts, exprs)
}

impl Emitter<'_> {
    /// A node bound to a `let` (rather than written inline where it is used).
    fn is_bound(&self, n: NodeId) -> bool {
        if self.g.is_leaf(n) {
            return false;
        }
        matches!(self.g.op(n), Op::Select(..) | Op::Call(..))
            || self.uses.get(&n).copied().unwrap_or(0) > 1
    }

    fn name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__t{}", n.0, span = Span::mixed_site())
    }

    fn partials_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__d{}", n.0, span = Span::mixed_site())
    }

    /// Nodes reachable from `roots` without entering a select's branches, minus `stop`.
    fn closure(&self, roots: &[NodeId], stop: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(n) = stack.pop() {
            if stop.contains(&n) || !seen.insert(n) {
                continue;
            }
            match self.g.op(n) {
                Op::Select(c, ..) => stack.push(*c),
                op => stack.extend(op.children()),
            }
        }
        seen
    }

    /// The nodes this region evaluates: the closure of its roots, plus whatever both branches of
    /// one of its selects need (hoisted, so it is computed once).
    fn region_nodes(&self, roots: &[NodeId], defined: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut here = self.closure(roots, defined);
        loop {
            let mut stop: HashSet<NodeId> = defined.union(&here).copied().collect();
            let mut hoist = Vec::new();
            for n in &here {
                if let Op::Select(_, a, b) = self.g.op(*n) {
                    let ta = self.closure(&[*a], &stop);
                    let tb = self.closure(&[*b], &stop);
                    hoist.extend(ta.intersection(&tb).copied());
                }
            }
            if hoist.is_empty() {
                return here;
            }
            let extra = self.closure(&hoist, &stop);
            stop.extend(extra.iter().copied());
            here.extend(extra);
        }
    }

    /// Statements binding the nodes of the region of `roots`; marks them defined.
    fn region(&self, roots: &[NodeId], defined: &mut HashSet<NodeId>) -> TokenStream {
        let here = self.region_nodes(roots, defined);
        let mut order: Vec<NodeId> = here.iter().copied().collect();
        order.sort_unstable();
        defined.extend(order.iter().copied());
        let mut out = TokenStream::new();
        for n in order {
            if self.is_bound(n) {
                out.extend(self.binding(n, defined));
            }
        }
        out
    }

    /// `let __tN = …;` for one bound node.
    fn binding(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let name = Self::name(n);
        match self.g.op(n) {
            Op::Select(c, a, b) => {
                let cond = self.expr(*c, Prec::Or);
                let then = self.branch(*a, defined);
                let other = self.branch(*b, defined);
                quote! { let #name = if #cond { #then } else { #other }; }
            }
            Op::Call(f, args) if self.differentiated_calls.contains(&n) => {
                let path = &self.symbols[f.0 as usize];
                let args = args.iter().map(|a| self.expr(*a, Prec::Select));
                let d = Self::partials_name(n);
                quote! { let (#name, #d) = #path::__partials(#(#args),*); }
            }
            _ => {
                let value = self.bare(n);
                quote! { let #name = #value; }
            }
        }
    }

    /// The body of one branch of a select: its own region, then its value.
    fn branch(&self, root: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let mut inner = defined.clone();
        let stmts = self.region(&[root], &mut inner);
        let value = self.expr(root, Prec::Select);
        quote! { #stmts #value }
    }

    /// `n` as an expression usable where precedence `min` is required.
    fn expr(&self, n: NodeId, min: Prec) -> TokenStream {
        if self.is_bound(n) {
            let name = Self::name(n);
            return quote! { #name };
        }
        let text = self.bare(n);
        // `n as f64 < x` would parse as generics: a cast is parenthesized wherever it is an operand.
        let is_cast = matches!(
            self.g.op(n),
            Op::Cast(_) | Op::IntCast(..) | Op::FloatToInt(..)
        );
        if Prec::of(self.g, n) < min || (is_cast && min > Prec::Select) {
            quote! { (#text) }
        } else {
            text
        }
    }

    fn float_lit(&self, v: f64) -> TokenStream {
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        if v.is_nan() {
            return quote!(::core::#ty::NAN);
        }
        if v.is_infinite() {
            return if v > 0.0 {
                quote!(::core::#ty::INFINITY)
            } else {
                quote!(::core::#ty::NEG_INFINITY)
            };
        }
        #[allow(clippy::cast_possible_truncation)] // an f32 function's constants are f32
        let lit = match self.float {
            FloatTy::F32 => Literal::f32_suffixed(v.abs() as f32),
            FloatTy::F64 => Literal::f64_suffixed(v.abs()),
        };
        if v.is_sign_negative() {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    }

    fn infix(&self, a: NodeId, op: &TokenStream, b: NodeId, p: Prec) -> TokenStream {
        let (left, right) = if p == Prec::Compare {
            (Prec::Sum, Prec::Sum)
        } else {
            (p, p.next())
        };
        let a = self.expr(a, left);
        let b = self.expr(b, right);
        quote! { #a #op #b }
    }

    fn method(&self, recv: NodeId, name: &str, args: &[NodeId]) -> TokenStream {
        let recv = self.expr(recv, Prec::Postfix);
        let m = format_ident!("{}", name);
        let args = args.iter().map(|a| self.expr(*a, Prec::Select));
        quote! { #recv.#m(#(#args),*) }
    }

    /// The node's own expression (its children by name or inline).
    fn bare(&self, n: NodeId) -> TokenStream {
        let g = self.g;
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        match g.op(n) {
            Op::Const(bits) => self.float_lit(f64::from_bits(*bits)),
            Op::Input(i) => self.inputs[*i as usize].clone(),
            Op::Sym(s, _) => self.symbols[s.0 as usize].clone(),
            Op::Cast(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { #a as #ty }
            }
            Op::Neg(a) | Op::IntNeg(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { -#a }
            }
            Op::Add(a, b) => self.infix(*a, &quote!(+), *b, Prec::Sum),
            Op::Sub(a, b) => self.infix(*a, &quote!(-), *b, Prec::Sum),
            Op::Mul(a, b) => self.infix(*a, &quote!(*), *b, Prec::Product),
            Op::Div(a, b) => self.infix(*a, &quote!(/), *b, Prec::Product),
            Op::Unary(Fun::Sign, a) => {
                let a = self.expr(*a, Prec::Select);
                quote! { ::symgrad::__private::sign(#a) }
            }
            Op::Unary(f, a) => self.method(*a, f.name(), &[]),
            Op::Powi(a, k) => self.method(*a, "powi", &[*k]),
            Op::Binary(f, a, b) => self.method(*a, f.name(), &[*b]),
            Op::Clamp(a, lo, hi) => self.method(*a, "clamp", &[*lo, *hi]),
            Op::MulAdd(a, b, c) => self.method(*a, "mul_add", &[*b, *c]),
            Op::Select(c, a, b) => {
                // Only reached for selects bound by `binding`; kept total for safety.
                let cond = self.expr(*c, Prec::Or);
                let a = self.expr(*a, Prec::Select);
                let b = self.expr(*b, Prec::Select);
                quote! { if #cond { #a } else { #b } }
            }
            Op::Call(f, args) => {
                let path = &self.symbols[f.0 as usize];
                let args = args.iter().map(|a| self.expr(*a, Prec::Select));
                quote! { #path(#(#args),*) }
            }
            Op::Partial(call, i) => {
                let d = Self::partials_name(*call);
                let i = syn::Index::from(*i as usize);
                quote! { #d.#i }
            }
            Op::IntConst(v) => {
                let lit = Literal::u64_unsuffixed(v.unsigned_abs());
                if *v < 0 { quote!(-#lit) } else { quote!(#lit) }
            }
            Op::IntBin(o, a, b) => {
                let op: TokenStream = o.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::of(g, n))
            }
            Op::IntCast(a, t) | Op::FloatToInt(a, t) => {
                let a = self.expr(*a, Prec::Prefix);
                let t = &self.symbols[t.0 as usize];
                quote! { #a as #t }
            }
            Op::BoolConst(v) => quote!(#v),
            Op::Compare(c, a, b) => {
                let op: TokenStream = c.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::Compare)
            }
            Op::Predicate(p, a) => self.method(*a, p.name(), &[]),
            Op::And(a, b) => self.infix(*a, &quote!(&&), *b, Prec::And),
            Op::Or(a, b) => self.infix(*a, &quote!(||), *b, Prec::Or),
            Op::Not(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { !#a }
            }
        }
    }
}
