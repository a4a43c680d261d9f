//! A fold to a tuple as the loop it stands for: a syntax pass run before lowering. The
//! accumulators are state the loop updates together (coupled, as an LSTM's `h` and `c`), which
//! the lowering differentiates as such.
//!
//! ```text
//! let (s, p) = x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v));
//!   => let (mut acc0, mut acc1) = (0.0, 1.0);
//!      for &v in x.iter() {
//!          let (a, b) = (acc0, acc1);
//!          (acc0, acc1) = (a + v, b * v);
//!      }
//!      let (s, p) = (acc0, acc1);
//! ```
//!
//! The closure's body may be a block (its statements run in the loop's body, its value is
//! assigned) or an `if`/`match` choosing the tuple. Only a `let` of a tuple pattern is rewritten,
//! and only where the closure does not `return` (which would leave the closure there, and the
//! function here); anything else stays as written, for the lowering to report.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// How the accumulators of a fold written as a loop are named (`__symgrad_fold0_1`): an error
/// about one is about the fold.
pub(super) const PREFIX: &str = "__symgrad_fold";

/// The error (and its help) about a fold to a tuple with an integer accumulator: where it is
/// left as written, and where its loop finds the integer assigned.
pub(super) const COUNTED: (&str, &str) = (
    "a `fold` to a tuple is differentiated with float accumulators, not a count",
    "count with a float (`0.0`, then `c + 1.0`), or take the count from `enumerate` or the length",
);

/// Writes every `let (…) = ….fold((…), |(…), item| …);` of `body` as a loop.
pub(super) fn rewrite(body: &mut syn::Block) {
    Folds { count: 0 }.visit_block_mut(body);
}

struct Folds {
    /// Folds rewritten so far: their accumulators' names are numbered apart.
    count: usize,
}

impl VisitMut for Folds {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        // Inside first: a fold in a fold's closure is a loop in the loop's body.
        syn::visit_mut::visit_block_mut(self, b);
        let mut stmts = Vec::with_capacity(b.stmts.len());
        for s in std::mem::take(&mut b.stmts) {
            match self.as_loop(&s) {
                Some(lowered) => stmts.extend(lowered),
                None => stmts.push(s),
            }
        }
        b.stmts = stmts;
    }
}

impl Folds {
    /// The statements of `let (…) = iter.fold((…), |(…), item| body);` as a loop.
    fn as_loop(&mut self, s: &Stmt) -> Option<Vec<Stmt>> {
        let Stmt::Local(local) = s else { return None };
        let init = local.init.as_ref()?;
        if init.diverge.is_some() {
            return None;
        }
        let Expr::MethodCall(m) = &*init.expr else {
            return None;
        };
        let (Some(start), Some(Expr::Closure(c))) = (m.args.first(), m.args.last()) else {
            return None;
        };
        if m.method != "fold" || m.args.len() != 2 || c.inputs.len() != 2 {
            return None;
        }
        let Pat::Tuple(bound) = untyped(&local.pat) else {
            return None;
        };
        let Pat::Tuple(acc) = untyped(&c.inputs[0]) else {
            return None;
        };
        let n = acc.elems.len();
        if n == 0 || bound.elems.len() != n || returns(&c.body) || counts(start) {
            return None;
        }
        let k = self.count;
        self.count += 1;
        let names: Vec<syn::Ident> = (0..n)
            .map(|j| quote::format_ident!("{}{}_{}", PREFIX, k, j, span = Span::mixed_site()))
            .collect();
        let item = untyped(&c.inputs[1]);
        let iter = &m.receiver;
        // (Without their types, which the lowering does not take in a tuple's `let`.)
        let pat = untyped(&local.pat);
        let acc = untyped(&c.inputs[0]);
        let mut body: Vec<Stmt> = vec![syn::parse_quote!(let #acc = (#(#names),*);)];
        let value = match &*c.body {
            Expr::Block(b) if b.label.is_none() => {
                let mut inner = b.block.stmts.clone();
                match inner.pop() {
                    Some(Stmt::Expr(last, None)) => {
                        body.extend(inner);
                        last
                    }
                    _ => return None,
                }
            }
            other => other.clone(),
        };
        body.push(syn::parse_quote!((#(#names),*) = #value;));
        Some(vec![
            syn::parse_quote!(let (#(mut #names),*) = #start;),
            // (At the fold's tokens: what the lowering reports about the loop is about it.)
            syn::parse_quote_spanned!(m.span()=> for #item in #iter { #(#body)* }),
            syn::parse_quote!(let #pat = (#(#names),*);),
        ])
    }
}

/// A pattern without its type (`(a, b): (f64, f64)` → `(a, b)`): a `for` binds no type.
pub(super) fn untyped(p: &Pat) -> &Pat {
    match p {
        Pat::Type(t) => untyped(&t.pat),
        Pat::Paren(p) => untyped(&p.pat),
        other => other,
    }
}

/// Whether a fold's start has an integer (`(0.0, 0usize)`): a count the loop would step as it
/// cannot (the lowering reports the fold).
pub(super) fn counts(start: &Expr) -> bool {
    match start {
        Expr::Tuple(t) => t
            .elems
            .iter()
            .any(|e| matches!(e, Expr::Lit(l) if matches!(l.lit, syn::Lit::Int(_)))),
        Expr::Paren(p) => counts(&p.expr),
        _ => false,
    }
}

/// Whether `body` has a `return` of its own (not one of a closure inside it).
pub(super) fn returns(body: &Expr) -> bool {
    struct Returns(bool);
    impl<'ast> Visit<'ast> for Returns {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut r = Returns(false);
    r.visit_expr(body);
    r.0
}
