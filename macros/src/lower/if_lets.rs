//! `if let Some(v) = x.last()` (also `first()`, `get(i)`) and `let Some(v) = x.last() else {
//! … };` of a slice or local array, as the test of its length and the element: a syntax pass run
//! before lowering.
//!
//! ```text
//! if let Some(&l) = x.last() { a } else { b }   => if !x.is_empty() { let l = x[x.len() - 1]; a } else { b }
//! if let Some(v) = x.get(i) { a }               => if (i) < x.len() { let v = x[i]; a }
//! let Some(&f) = x.first() else { return 0.0; }; => if x.is_empty() { return 0.0; } let f = x[0];
//! ```
//!
//! The pattern inside `Some` is a name, `&name` or `_`; the method's receiver a name (a slice
//! parameter or a local array). Anything else stays as written, for the lowering to report.

use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// Writes every `if let Some(…) = x.last()` (`first`, `get`) and its `let … else` in `body`.
pub(super) fn rewrite(body: &mut syn::Block) {
    IfLets.visit_block_mut(body);
}

struct IfLets;

impl VisitMut for IfLets {
    fn visit_expr_macro_mut(&mut self, m: &mut syn::ExprMacro) {
        super::syntax::in_vec_macro(self, m);
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        syn::visit_mut::visit_expr_if_mut(self, i);
        let Expr::Let(l) = &*i.cond else { return };
        let Some((name, present, element)) = some_element(&l.pat, &l.expr) else {
            return;
        };
        let bind: Option<Stmt> = name.map(|n| syn::parse_quote!(let #n = #element;));
        i.then_branch.stmts.splice(0..0, bind);
        *i.cond = present;
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let mut out = Vec::with_capacity(block.stmts.len());
        for stmt in std::mem::take(&mut block.stmts) {
            if let Stmt::Local(l) = &stmt
                && let Some(init) = &l.init
                && let Some((_, otherwise)) = &init.diverge
                && let Some((name, present, element)) = some_element(&l.pat, &init.expr)
            {
                out.push(syn::parse_quote!(if !(#present) #otherwise));
                if let Some(n) = name {
                    out.push(syn::parse_quote!(let #n = #element;));
                }
                continue;
            }
            out.push(stmt);
        }
        block.stmts = out;
    }
}

/// For `Some(p)` against `x.last()` (`first()`, `get(i)`): the name `p` binds (none for `_`),
/// the condition under which the element exists, and the element.
fn some_element(pat: &Pat, e: &Expr) -> Option<(Option<syn::Ident>, Expr, Expr)> {
    let Pat::TupleStruct(ts) = pat else {
        return None;
    };
    if !ts.path.is_ident("Some") || ts.elems.len() != 1 {
        return None;
    }
    let name = match super::syntax::strip_refs(&ts.elems[0]) {
        Pat::Ident(p) if p.subpat.is_none() => Some(p.ident),
        Pat::Wild(_) => None,
        _ => return None,
    };
    let Expr::MethodCall(m) = super::loops::strip_parens(e) else {
        return None;
    };
    let Expr::Path(x) = super::loops::strip_parens(&m.receiver) else {
        return None;
    };
    x.path.get_ident()?;
    let (present, element): (Expr, Expr) = match (m.method.to_string().as_str(), m.args.len()) {
        ("last", 0) => (
            syn::parse_quote!(!#x.is_empty()),
            syn::parse_quote!(#x[#x.len() - 1]),
        ),
        ("first", 0) => (syn::parse_quote!(!#x.is_empty()), syn::parse_quote!(#x[0])),
        ("get", 1) => {
            let i = &m.args[0];
            if matches!(i, Expr::Range(_)) {
                return None;
            }
            (
                syn::parse_quote!((#i) < #x.len()),
                syn::parse_quote!(#x[#i]),
            )
        }
        _ => return None,
    };
    Some((name, present, element))
}
