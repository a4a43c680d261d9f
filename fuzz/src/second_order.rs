//! Which generated functions can carry `hessian`: those the macro gives `_hvp`, without a loop
//! recurrence (its tangent would be a second recurrence, which `hessian` refuses) and without a
//! helper call (a called function's second derivatives are not exposed). Conservative: an
//! assignment in a loop that is not a sum of terms free of its variable (`s += e`) counts as a
//! recurrence, and so does an iterator product.
//!
//! Their `_hvp` is checked (`harness::driver`) against central differences of `_grad` along the
//! direction, at two steps: `(∇f(θ + h·v) − ∇f(θ − h·v)) / 2h` for `h` and `h/2`, extrapolated
//! (Richardson); a point where the two steps disagree is skipped as ill-conditioned (a branch
//! switches between the points, or the gradient is too curved there).

use crate::ast::{Arg, AssignOp, Chain, Cond, Expr, Func, IterExpr, MapFn, Stmt};

/// Whether `f` may carry `hessian`.
#[must_use]
pub fn eligible(f: &Func) -> bool {
    stmts_ok(&f.body, 0) && expr_ok(&f.ret)
}

/// `depth`: the loops around the statements.
fn stmts_ok(body: &[Stmt], depth: usize) -> bool {
    body.iter().all(|s| stmt_ok(s, depth))
}

fn stmt_ok(s: &Stmt, depth: usize) -> bool {
    match s {
        Stmt::Let { value, .. } | Stmt::Return(value) => expr_ok(value),
        Stmt::Assign { name, op, value } => {
            let sum = matches!(op, AssignOp::Add | AssignOp::Sub) && !mentions(value, name);
            (depth == 0 || sum) && expr_ok(value)
        }
        Stmt::Closure { body, .. } => expr_ok(body),
        Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop(body) => {
            stmts_ok(body, depth + 1)
        }
        Stmt::ForIter { chain, body, .. } => chain_ok(chain) && stmts_ok(body, depth + 1),
        Stmt::If { cond, then, els } => {
            cond_ok(cond)
                && stmts_ok(then, depth)
                && els.as_ref().is_none_or(|e| stmts_ok(e, depth))
        }
        // A call of a vector-valued helper: no second derivative through calls. Local arrays
        // are kept out too (an array added into has no second derivative; not told apart here).
        Stmt::LetOutputs { .. } | Stmt::NewArray { .. } | Stmt::SetElem { .. } => false,
        Stmt::LetArray { .. }
        | Stmt::LetInt { .. }
        | Stmt::Step { .. }
        | Stmt::Continue
        | Stmt::Break => true,
    }
}

fn expr_ok(e: &Expr) -> bool {
    match e {
        Expr::Lit(_)
        | Expr::NegInf
        | Expr::Var(_)
        | Expr::Deref(_)
        | Expr::Index(..)
        | Expr::Cast(_) => true,
        Expr::Neg(a) => expr_ok(a),
        Expr::Bin(_, a, b) => expr_ok(a) && expr_ok(b),
        Expr::Method(_, recv, args) => expr_ok(recv) && args.iter().all(expr_ok),
        Expr::Call(..) | Expr::Output(..) => false,
        Expr::Array(elems) => elems.iter().all(expr_ok),
        Expr::If(c, a, b) => cond_ok(c) && expr_ok(a) && expr_ok(b),
        Expr::Iter(it) => iter_ok(it),
    }
}

fn iter_ok(it: &IterExpr) -> bool {
    !it.product
        && chain_ok(&it.chain)
        && match &it.map {
            MapFn::Closure { body, .. } => expr_ok(body),
            MapFn::Named(_) | MapFn::Items => true,
        }
}

/// Chains hold indices and slices only.
fn chain_ok(_: &Chain) -> bool {
    true
}

fn cond_ok(c: &Cond) -> bool {
    match c {
        Cond::Float(_, a, b) => expr_ok(a) && expr_ok(b),
        Cond::Int(..) => true,
        Cond::And(a, b) | Cond::Or(a, b) => cond_ok(a) && cond_ok(b),
        Cond::Not(a) => cond_ok(a),
    }
}

/// Whether `e` reads the variable `name`.
fn mentions(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Var(v) | Expr::Deref(v) => v == name,
        Expr::Lit(_) | Expr::NegInf | Expr::Index(..) | Expr::Cast(_) => false,
        Expr::Neg(a) => mentions(a, name),
        Expr::Bin(_, a, b) => mentions(a, name) || mentions(b, name),
        Expr::Method(_, recv, args) => {
            mentions(recv, name) || args.iter().any(|a| mentions(a, name))
        }
        Expr::Call(_, args) => args.iter().any(|a| match a {
            Arg::Float(e) => mentions(e, name),
            Arg::Slice(_) | Arg::Run { .. } => false,
        }),
        Expr::Array(elems) => elems.iter().any(|e| mentions(e, name)),
        Expr::Output(call, _) => mentions(call, name),
        Expr::If(c, a, b) => cond_mentions(c, name) || mentions(a, name) || mentions(b, name),
        // A closure's body may read it too: counted as a read.
        Expr::Iter(it) => match &it.map {
            MapFn::Closure { body, .. } => mentions(body, name),
            MapFn::Named(_) | MapFn::Items => true,
        },
    }
}

fn cond_mentions(c: &Cond, name: &str) -> bool {
    match c {
        Cond::Float(_, a, b) => mentions(a, name) || mentions(b, name),
        Cond::Int(..) => false,
        Cond::And(a, b) | Cond::Or(a, b) => cond_mentions(a, name) || cond_mentions(b, name),
        Cond::Not(a) => cond_mentions(a, name),
    }
}

#[cfg(test)]
mod tests {
    use super::eligible;
    use crate::ast::{AssignOp, Expr, Func, IntExpr, Range, Stmt};

    fn looped(op: AssignOp, value: Expr) -> Func {
        Func {
            name: "f".into(),
            params: Vec::new(),
            wrt: None,
            hessian: false,
            body: vec![
                Stmt::Let {
                    name: "s".into(),
                    mutable: true,
                    value: Expr::Lit(0.0),
                },
                Stmt::For {
                    var: "i".into(),
                    range: Range {
                        start: IntExpr::Const(0),
                        end: IntExpr::Const(3),
                    },
                    body: vec![Stmt::Assign {
                        name: "s".into(),
                        op,
                        value,
                    }],
                },
            ],
            ret: Expr::var("s"),
        }
    }

    #[test]
    fn sums_are_eligible_and_recurrences_are_not() {
        let term = Expr::Cast(IntExpr::Var("i".into()));
        assert!(eligible(&looped(AssignOp::Add, term.clone())));
        assert!(!eligible(&looped(AssignOp::Mul, term.clone())));
        assert!(!eligible(&looped(AssignOp::Set, term.clone())));
        let reads_itself = Expr::bin(crate::ast::BinOp::Mul, Expr::var("s"), term);
        assert!(!eligible(&looped(AssignOp::Add, reads_itself)));
    }
}
