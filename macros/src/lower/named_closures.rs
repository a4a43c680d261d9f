//! A closure bound by `let` and given by its name to a method (`let f = |acc: f64, v: &f64|
//! acc * w + v;` then `x.iter().fold(0.0, f)`, `.map(f)`, `.map(&f)`), as the closure written
//! in place: a syntax pass run before lowering, which takes closures written in a method's
//! arguments.
//!
//! ```text
//! let f = |acc: f64, v: &f64| acc * w + v;  x.iter().fold(0.0, f)
//!   => let f = |acc: f64, v: &f64| acc * w + v;  x.iter().fold(0.0, |acc: f64, v: &f64| acc * w + v)
//! ```
//!
//! The closure in place reads the names it captured where it is given, so it is put there only
//! where they are the same variables: no statement between the `let` and the method's (that one
//! included) binds one of them again, and none binds the closure's name again (the uses from
//! there on are another value's). A `move` closure (which captured copies when it was bound)
//! and one that `return`s stay named, for the lowering to report.

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

use super::loops::{mentioned_names, mentions_any, names_bound_in_stmt, pattern_names};

/// Writes in place every closure of `body` bound by `let` and given by its name to a method.
pub(super) fn rewrite(body: &mut syn::Block) {
    Named.visit_block_mut(body);
}

struct Named;

impl VisitMut for Named {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        for at in 0..block.stmts.len() {
            let Stmt::Local(l) = &block.stmts[at] else {
                continue;
            };
            let Some(init) = &l.init else { continue };
            let (syn::Pat::Ident(p), Expr::Closure(c)) = (&l.pat, &*init.expr) else {
                continue;
            };
            if c.capture.is_some() || super::tuple_folds::returns(&c.body) {
                continue;
            }
            let name = p.ident.to_string();
            let closure = c.clone();
            let captured = captured(&closure);
            for stmt in &mut block.stmts[at + 1..] {
                let rebinds = names_bound_in_stmt(stmt);
                if rebinds.contains(&name) {
                    break;
                }
                if rebinds.iter().any(|n| captured.contains(n)) {
                    break;
                }
                Given {
                    name: &name,
                    closure: &closure,
                }
                .visit_stmt_mut(stmt);
            }
        }
    }
}

/// The names the closure's body reads that its parameters do not bind.
fn captured(c: &syn::ExprClosure) -> Vec<String> {
    let params: Vec<String> = c.inputs.iter().flat_map(pattern_names).collect();
    let mut reads = mentioned_names(&c.body);
    reads.retain(|n| !params.contains(n));
    reads
}

/// Puts `closure` in place of `name` (or `&name`) given to a method.
struct Given<'a> {
    name: &'a str,
    closure: &'a syn::ExprClosure,
}

impl VisitMut for Given<'_> {
    fn visit_expr_macro_mut(&mut self, m: &mut syn::ExprMacro) {
        super::syntax::in_vec_macro(self, m);
    }

    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, m);
        let names = [self.name.to_string()];
        for arg in &mut m.args {
            let named = match arg {
                Expr::Path(_) => mentions_any(arg, &names),
                Expr::Reference(r) if r.mutability.is_none() => {
                    matches!(&*r.expr, Expr::Path(_)) && mentions_any(&r.expr, &names)
                }
                _ => false,
            };
            if named {
                *arg = Expr::Closure(self.closure.clone());
            }
        }
    }
}
