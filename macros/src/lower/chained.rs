//! Iterators chained with `chain`, as the two iterators one after the other: a syntax pass run
//! before lowering.
//!
//! ```text
//! for v in x.iter().chain(y) { body }         => for v in x.iter() { body } for v in y.iter() { body }
//! a.chain(b).map(f).sum::<f64>()              => a.map(f).sum::<f64>() + b.map(f).sum::<f64>()
//! a.chain(b).map(f).product::<f64>()          => a.map(f).product::<f64>() * b.map(f).product::<f64>()
//! a.chain(b).map(f).fold(init, g)             => b.map(f).fold(a.map(f).fold(init, g), g)
//! ```
//!
//! Only where `chain` is the last adaptor but `map`s (an `enumerate`, `zip`, `rev`, `skip` or
//! `take` after it counts across both parts, and stays as written, for the lowering to report),
//! and, for a loop, where its body does not `break` (the loop over the second part would run
//! after the first broke). A slice or a local array given to `chain` by its name or a reference
//! (`chain(y)`, `chain(&z)`, `chain(&y[1..])`) is iterated as `y.iter()` (`y[1..].iter()`).

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

use super::loops::has_break_stmt;

/// Writes every loop and iterator sum, product and fold over a `chain` of `body` as its parts.
pub(super) fn rewrite(body: &mut syn::Block) {
    Chained.visit_block_mut(body);
}

struct Chained;

impl VisitMut for Chained {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let mut out = Vec::with_capacity(block.stmts.len());
        for stmt in std::mem::take(&mut block.stmts) {
            match &stmt {
                Stmt::Expr(Expr::ForLoop(f), semi) if f.label.is_none() => match split(&f.expr) {
                    Some((first, second)) if !f.body.stmts.iter().any(has_break_stmt) => {
                        let mut a = f.clone();
                        *a.expr = first;
                        let mut b = f.clone();
                        *b.expr = second;
                        out.push(Stmt::Expr(Expr::ForLoop(a), None));
                        out.push(Stmt::Expr(Expr::ForLoop(b), *semi));
                    }
                    _ => out.push(stmt),
                },
                _ => out.push(stmt),
            }
        }
        block.stmts = out;
    }

    fn visit_expr_macro_mut(&mut self, m: &mut syn::ExprMacro) {
        super::syntax::in_vec_macro(self, m);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::MethodCall(m) = e else { return };
        let Some((first, second)) = split(&m.receiver) else {
            return;
        };
        let with = |receiver: Expr| {
            let mut c = m.clone();
            *c.receiver = receiver;
            Expr::MethodCall(c)
        };
        let written: Expr = match m.method.to_string().as_str() {
            "sum" if m.args.is_empty() => {
                let (a, b) = (with(first), with(second));
                syn::parse_quote!((#a + #b))
            }
            "product" if m.args.is_empty() => {
                let (a, b) = (with(first), with(second));
                syn::parse_quote!((#a * #b))
            }
            "fold" if m.args.len() == 2 => {
                let a = with(first);
                let mut c = m.clone();
                *c.receiver = second;
                c.args[0] = a;
                Expr::MethodCall(c)
            }
            _ => return,
        };
        *e = written;
    }
}

/// `a.chain(b).map(f)…` (`map`s only after `chain`) as `a.map(f)…` and `b'.map(f)…`, `b'` the
/// iterator `b` names (`y.iter()` for `y` or `&y`).
fn split(e: &Expr) -> Option<(Expr, Expr)> {
    let mut e = e;
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    let Expr::MethodCall(m) = e else { return None };
    match m.method.to_string().as_str() {
        "chain" if m.args.len() == 1 => {
            let second = match &m.args[0] {
                Expr::Path(p) if p.path.get_ident().is_some() => syn::parse_quote!(#p.iter()),
                Expr::Reference(r)
                    if r.mutability.is_none()
                        && matches!(&*r.expr, Expr::Path(_) | Expr::Index(_)) =>
                {
                    let p = &r.expr;
                    syn::parse_quote!(#p.iter())
                }
                other => other.clone(),
            };
            Some(((*m.receiver).clone(), second))
        }
        "map" if m.args.len() == 1 => {
            let (a, b) = split(&m.receiver)?;
            let with = |receiver: Expr| {
                let mut c = m.clone();
                *c.receiver = receiver;
                Expr::MethodCall(c)
            };
            Some((with(a), with(b)))
        }
        _ => None,
    }
}
