//! `filter` as the last adaptor of an iterator (but `map`s after it), as the condition it
//! tests on each item: a syntax pass run before lowering.
//!
//! ```text
//! for v in x.iter().filter(|&&v| v > 0.0) { body }
//!   => for v in x.iter() { if !({ let v = v; v > 0.0 }) { continue; } body }
//! x.iter().filter(|v| **v > 0.0).map(|v| v * w).sum::<f64>()
//!   => x.iter().map(|v| if { let v = v; *v > 0.0 } { v * w } else { 0.0 }).sum::<f64>()
//! x.iter().filter(|v| **v > 0.0).sum::<f64>()
//!   => x.iter().map(|__symgrad_item| if { let v = __symgrad_item; *v > 0.0 } { *__symgrad_item } else { 0.0 }).sum::<f64>()
//! ```
//!
//! The filter's closure takes a reference to the item: its pattern, without its `&`s, names the
//! item's parts, read in its body by the item's names (or, where the body binds such a name
//! again, bound by a `let` in a block of its own, so that it hides nothing the rest reads), and
//! in its body a chain of `*` before a name is one (the lowering reads `*v` of a float as `v`). Taken
//! where the filter's pattern and the item's (the loop's, or the `map`'s closure's) have the same
//! shape, names or tuples of them; a `product` gets `1.0` where the item is filtered out, a
//! `sum` `0.0`. Anything else stays as written, for the lowering to report.

use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// Writes every `filter` of `body` as the condition it tests.
pub(super) fn rewrite(body: &mut syn::Block) {
    Filtered.visit_block_mut(body);
}

struct Filtered;

impl VisitMut for Filtered {
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        syn::visit_mut::visit_expr_for_loop_mut(self, f);
        let Some((chain, test)) = filter_of(&f.expr) else {
            return;
        };
        let mut pat = (*f.pat).clone();
        let Some(cond) = test.condition(&mut pat) else {
            return;
        };
        *f.pat = pat;
        let skip: Stmt = syn::parse_quote!(if !(#cond) { continue; });
        f.body.stmts.insert(0, skip);
        *f.expr = chain;
    }

    fn visit_expr_macro_mut(&mut self, m: &mut syn::ExprMacro) {
        super::syntax::in_vec_macro(self, m);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::MethodCall(m) = e else { return };
        let otherwise: Expr = match m.method.to_string().as_str() {
            "sum" if m.args.is_empty() => syn::parse_quote!(0.0),
            "product" if m.args.is_empty() => syn::parse_quote!(1.0),
            _ => return,
        };
        let Some(mapped) = filtered_map(&m.receiver, &otherwise) else {
            return;
        };
        *m.receiver = mapped;
    }
}

/// The filter's closure: its pattern (without `&`s) and its body.
struct Test {
    pat: Pat,
    body: Expr,
}

impl Test {
    /// `{ let <pattern> = <item>; <body> }` for an item bound by `item` (a pattern of the same
    /// shape; a `_` of it where the filter binds a name is named); `None` where the shapes
    /// differ.
    fn condition(&self, item: &mut Pat) -> Option<Expr> {
        // (Where the body reads a name from around the filter that the item's pattern binds,
        // the item's would hide it there.)
        let own = super::loops::pattern_names(&self.pat);
        let items = super::loops::pattern_names(item);
        let free = super::loops::mentioned_names(&self.body);
        if free.iter().any(|n| !own.contains(n) && items.contains(n)) {
            return None;
        }
        let mut pairs = Vec::new();
        bind(&self.pat, item, &mut pairs)?;
        // (A name bound before another `let` reads an item of that name would hide the item:
        // `(v, i)` of the filter against `(i, v)` of the loop.)
        let hides = pairs
            .iter()
            .enumerate()
            .any(|(a, (f, _))| pairs[a + 1..].iter().any(|(_, i)| i == f));
        if hides {
            return None;
        }
        // Each name of the filter read as the item's where the body binds it nowhere (a run,
        // `for r in x.chunks(3)`, cannot be given another name by `let`); otherwise bound by a
        // `let` (one of the same name needs neither).
        let mut body = self.body.clone();
        let bound = super::loops::names_bound_in(&body);
        let mut lets: Vec<Stmt> = Vec::new();
        let mut renames = Vec::new();
        for (f, i) in pairs.iter().filter(|(f, i)| f != i) {
            if bound.contains(&f.to_string()) {
                lets.push(syn::parse_quote!(let #f = #i;));
            } else {
                renames.push((f.to_string(), i.to_string()));
            }
        }
        super::syntax::Renamed(renames).visit_expr_mut(&mut body);
        Some(syn::parse_quote!({ #(#lets)* #body }))
    }
}

/// The names of `filter` (a pattern without `&`s) with those of `item` at the same places
/// (through the `&`s and types of `item`; a `_` there named `__symgrad_filtered_<k>`).
fn bind(filter: &Pat, item: &mut Pat, pairs: &mut Vec<(syn::Ident, syn::Ident)>) -> Option<()> {
    match (filter, item) {
        (Pat::Wild(_), _) => Some(()),
        (_, Pat::Reference(r)) => bind(filter, &mut r.pat, pairs),
        (_, Pat::Type(t)) => bind(filter, &mut t.pat, pairs),
        (_, Pat::Paren(p)) => bind(filter, &mut p.pat, pairs),
        (Pat::Ident(f), item @ Pat::Wild(_)) if f.subpat.is_none() => {
            let name = quote::format_ident!("__symgrad_filtered_{}", pairs.len());
            *item = syn::parse_quote!(#name);
            pairs.push((f.ident.clone(), name));
            Some(())
        }
        (Pat::Ident(f), Pat::Ident(i)) if f.subpat.is_none() && i.subpat.is_none() => {
            pairs.push((f.ident.clone(), i.ident.clone()));
            Some(())
        }
        (Pat::Tuple(f), Pat::Tuple(i)) if f.elems.len() == i.elems.len() => {
            for (f, i) in f.elems.iter().zip(i.elems.iter_mut()) {
                bind(f, i, pairs)?;
            }
            Some(())
        }
        _ => None,
    }
}

/// `chain.filter(|q| c)` (parentheses aside): the chain and the test.
fn filter_of(e: &Expr) -> Option<(Expr, Test)> {
    let Expr::MethodCall(m) = super::loops::strip_parens(e) else {
        return None;
    };
    if m.method != "filter" || m.args.len() != 1 {
        return None;
    }
    let Expr::Closure(c) = &m.args[0] else {
        return None;
    };
    if c.inputs.len() != 1 || super::tuple_folds::returns(&c.body) {
        return None;
    }
    let mut body = (*c.body).clone();
    OneDeref.visit_expr_mut(&mut body);
    Some((
        (*m.receiver).clone(),
        Test {
            pat: super::syntax::strip_refs(&c.inputs[0]),
            body,
        },
    ))
}

/// `chain.filter(|q| c).map(|p| e)` as `chain.map(|p| if <c for p> { e } else { otherwise })`,
/// and `chain.filter(|q| c)` as `chain.map(|item| if <c for item> { *item } else { otherwise })`.
fn filtered_map(receiver: &Expr, otherwise: &Expr) -> Option<Expr> {
    if let Expr::MethodCall(map) = super::loops::strip_parens(receiver)
        && map.method == "map"
        && map.args.len() == 1
        && let Expr::Closure(f) = &map.args[0]
        && f.inputs.len() == 1
        && let Some((chain, test)) = filter_of(&map.receiver)
    {
        let mut pat = f.inputs[0].clone();
        let cond = test.condition(&mut pat)?;
        let value = &f.body;
        return Some(syn::parse_quote!(
            #chain.map(|#pat| if #cond { #value } else { #otherwise })
        ));
    }
    let (chain, test) = filter_of(receiver)?;
    let mut item: Pat = syn::parse_quote!(__symgrad_item);
    let cond = test.condition(&mut item)?;
    Some(syn::parse_quote!(
        #chain.map(|#item| if #cond { *__symgrad_item } else { #otherwise })
    ))
}

/// Writes a chain of `*` before a name as one (`**v` as `*v`).
struct OneDeref;

impl VisitMut for OneDeref {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e
            && matches!(u.op, syn::UnOp::Deref(_))
        {
            let mut inner = &*u.expr;
            while let Expr::Unary(v) = inner
                && matches!(v.op, syn::UnOp::Deref(_))
            {
                inner = &v.expr;
            }
            if matches!(inner, Expr::Path(_)) {
                let inner = inner.clone();
                *e = syn::parse_quote!(*#inner);
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}
