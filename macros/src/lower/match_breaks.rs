//! `break` as an arm of a `match` in a `for` or `while` loop's body, as the exit the lowering knows
//! (`if c { …; break; }`, see `loops::exit_stmt`): a syntax pass run before lowering. The
//! condition is the `match` with `true` for the arms that break and `false` for the others; the
//! `match` that follows it keeps its arms, those that break now empty (they are not reached).
//!
//! ```text
//! match (i, k) { (0, _) => continue, (_, 3) => break, (j, _) if j > 5 => { s += 1.0; break; }
//!                _ => s += x[i] }
//!   => if match (i, k) { (0, _) => false, (_, 3) => true, (j, _) if j > 5 => true, _ => false }
//!      { match (i, k) { (0, _) => {}, (_, 3) => {}, (j, _) if j > 5 => { s += 1.0; }, _ => {} }
//!        break; }
//!      match (i, k) { (0, _) => continue, (_, 3) => {}, (j, _) if j > 5 => {}, _ => s += x[i] }
//! ```
//!
//! Only a `match` statement at the top of the body is taken, or one a `let` there binds (`let v
//! = match k { 0 => break, _ => e };`: the `let` keeps the arms that do not break), when the
//! `break`s of its arms (each an arm's last statement, not labelled and without a value) are the
//! loop's only ones. The scrutinee is read twice, as the program reads it once: the lowering's
//! values have no side effects, and the arm that breaks leaves before anything changes it. Every
//! other `break` stays as written, for the lowering to take or report.

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

use quote::ToTokens;

use super::loops::{has_break_expr, has_break_stmt, pattern_names};

/// Writes the `match` with arms that break of every `for` and `while` loop of `body` as its
/// exit.
pub(super) fn rewrite(body: &mut syn::Block) {
    Breaks.visit_block_mut(body);
}

struct Breaks;

impl VisitMut for Breaks {
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        syn::visit_mut::visit_expr_for_loop_mut(self, f);
        if f.label.is_none() {
            as_exit(&mut f.body.stmts);
        }
    }
    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        syn::visit_mut::visit_expr_while_mut(self, w);
        if w.label.is_none() {
            as_exit(&mut w.body.stmts);
        }
    }
}

/// A loop body's `match` with arms that break, as its exit followed by the `match`.
fn as_exit(stmts: &mut Vec<Stmt>) {
    let Some(at) = stmts.iter().position(has_break_stmt) else {
        return;
    };
    if let Stmt::Local(l) = &stmts[at]
        && let Some(init) = &l.init
        && init.diverge.is_none()
        && let Expr::Match(m) = &*init.expr
    {
        let m = m.clone();
        return let_match_as_exit(stmts, at, &m);
    }
    let Stmt::Expr(Expr::Match(m), semi) = &stmts[at] else {
        return;
    };
    if stmts[at + 1..].iter().any(has_break_stmt) || !only_last_breaks(m) {
        return;
    }
    let exit = exit_of(m);
    let mut rest = m.clone();
    for arm in &mut rest.arms {
        if arm_breaks(&arm.body) {
            *arm.body = syn::parse_quote!({});
            arm.comma = Some(syn::token::Comma::default());
        }
    }
    let semi = semi.or_else(|| (at + 1 < stmts.len()).then(syn::token::Semi::default));
    let tail = stmts.split_off(at + 1);
    stmts.pop();
    stmts.push(exit);
    stmts.push(Stmt::Expr(Expr::Match(rest), semi));
    stmts.extend(tail);
}

/// `let v = match k { 0 => break, _ => e };` at `at` of a loop body: the exit, then the `let`
/// of the `match` without the arms that break (the iterations that reach it never take them).
/// Left as written where every arm breaks.
fn let_match_as_exit(stmts: &mut Vec<Stmt>, at: usize, m: &syn::ExprMatch) {
    if stmts[at + 1..].iter().any(has_break_stmt)
        || !only_last_breaks(m)
        || m.arms.iter().all(|a| arm_breaks(&a.body))
    {
        return;
    }
    let exit = exit_of(m);
    let mut rest = m.clone();
    rest.arms.retain(|a| !arm_breaks(&a.body));
    let Stmt::Local(mut l) = stmts[at].clone() else {
        return;
    };
    if let Some(init) = &mut l.init {
        *init.expr = Expr::Match(rest);
    }
    stmts[at] = Stmt::Local(l);
    stmts.insert(at, exit);
}

/// `if <which arms break> { <their statements before the break>; break; }`.
fn exit_of(m: &syn::ExprMatch) -> Stmt {
    let mut which = m.clone();
    let mut before = m.clone();
    let mut span = None;
    // The statements of the arms that break, and whether their patterns bind names.
    let mut shared: Vec<(String, Vec<Stmt>)> = Vec::new();
    let mut binds = false;
    for (arm, done) in which.arms.iter_mut().zip(&mut before.arms) {
        let breaks = arm_breaks(&arm.body);
        *arm.body = if breaks {
            syn::parse_quote!(true)
        } else {
            syn::parse_quote!(false)
        };
        arm.comma = Some(syn::token::Comma::default());
        let mut body = statements(&done.body);
        if breaks {
            if let Some(Stmt::Expr(b @ Expr::Break(_), _)) = body.pop() {
                span.get_or_insert_with(|| syn::spanned::Spanned::span(&b));
            }
            binds |= !pattern_names(&arm.pat).is_empty();
            let text = body
                .iter()
                .map(|s| s.to_token_stream().to_string())
                .collect();
            if !shared.iter().any(|(t, _)| *t == text) {
                shared.push((text, body.clone()));
            }
        } else {
            body.clear();
        }
        *done.body = syn::parse_quote!({ #(#body)* });
        done.comma = Some(syn::token::Comma::default());
    }
    let span = span.unwrap_or_else(proc_macro2::Span::call_site);
    let stop: Stmt = syn::parse_quote_spanned!(span=> break;);
    // The same statements in every arm that breaks, reading no name a pattern binds: those
    // statements (so that `if c { stop = i; break; }` is seen as such); otherwise the `match`
    // of each arm's.
    let mut then: Vec<Stmt> = match shared.as_slice() {
        [(_, body)] if !binds => body.clone(),
        _ => vec![Stmt::Expr(Expr::Match(before), None)],
    };
    then.push(stop);
    syn::parse_quote!(if #which { #(#then)* })
}

/// The statements of an arm's body (a block's, or the one expression as a statement).
fn statements(body: &Expr) -> Vec<Stmt> {
    match body {
        Expr::Block(b) if b.label.is_none() => b.block.stmts.clone(),
        other => vec![Stmt::Expr(other.clone(), Some(syn::token::Semi::default()))],
    }
}

/// Whether an arm's body is a `break` of the loop, or a block ending with one (not labelled,
/// without a value).
fn arm_breaks(body: &Expr) -> bool {
    let plain = |e: &Expr| matches!(e, Expr::Break(b) if b.label.is_none() && b.expr.is_none());
    match body {
        Expr::Block(b) if b.label.is_none() => {
            matches!(b.block.stmts.last(), Some(Stmt::Expr(e, _)) if plain(e))
        }
        other => plain(other),
    }
}

/// Some arm of `m` breaks, each that does only as its last statement, and the scrutinee, the
/// guards and the other arms do not break.
fn only_last_breaks(m: &syn::ExprMatch) -> bool {
    let breaks_in = has_break_expr;
    let mut any = false;
    for arm in &m.arms {
        if arm.guard.as_ref().is_some_and(|(_, g)| breaks_in(g)) {
            return false;
        }
        if arm_breaks(&arm.body) {
            any = true;
            let mut body = statements(&arm.body);
            body.pop();
            if body.iter().any(has_break_stmt) {
                return false;
            }
        } else if breaks_in(&arm.body) {
            return false;
        }
    }
    any && !breaks_in(&m.expr)
}
