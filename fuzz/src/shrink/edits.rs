//! The one-step reductions of a program: drop a statement, inline one iteration of a loop
//! (lower the loop depth), inline a `let`, keep one branch of an `if`, drop an iterator's `skip`,
//! `take`, `step_by` or `rev`, replace a subexpression by a literal or by one of its operands,
//! drop `wrt`, an unused parameter or an unused helper. A reduction may give a program that no
//! longer compiles or no longer fails; the shrinker only keeps those that still fail the same
//! way. None gives a loop that never ends: a `while` or `loop` keeps its counter's step and a
//! `loop` its exit, a `break` or `continue` stays in its `if`, and a `for` loop whose own
//! `continue` or `break` would go to an enclosing loop is not inlined.

use crate::ast::{
    Adaptor, Arg, ArrayInit, AssignOp, Base, Chain, Cond, Expr, Func, IntExpr, MapFn, Program, Stmt,
};
use crate::print::{self, Mode};

/// Every one-step reduction of `p`, smallest first, without duplicates, and without more
/// overwrites in loops than `p` (keeps a shrunk program in the README's language: replacing
/// `m = m.max(e)` by `m = e` would leave it).
#[must_use]
pub fn candidates(p: &Program) -> Vec<Program> {
    let limit = overwrites(p);
    let mut out = Vec::new();
    out.extend(drop_helpers(p));
    out.extend(drop_params(p));
    if p.main.wrt.is_some() {
        let mut q = p.clone();
        q.main.wrt = None;
        out.push(q);
    }
    for f in 0..=p.helpers.len() {
        out.extend(statement_edits(p, f));
        out.extend(expression_edits(p, f));
    }
    let mut keyed: Vec<(usize, String, Program)> = out
        .into_iter()
        .filter(|q| overwrites(q) <= limit)
        .map(|q| {
            let text = print::functions(&q, Mode::Plain);
            (text.len(), text, q)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    keyed.dedup_by(|a, b| a.1 == b.1);
    keyed.into_iter().map(|(_, _, q)| q).collect()
}

/// Assignments `v = e` inside a loop where neither `e` nor an enclosing `if`'s condition reads
/// `v` (a carried variable that does not read its previous value).
fn overwrites(p: &Program) -> usize {
    p.helpers
        .iter()
        .chain([&p.main])
        .map(|f| overwrites_in(&f.body, false, ""))
        .sum()
}

fn overwrites_in(stmts: &[Stmt], in_loop: bool, conds: &str) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::Assign {
                name,
                op: AssignOp::Set,
                value,
            } => usize::from(
                in_loop && !mentions(&print::expr(value), name) && !mentions(conds, name),
            ),
            Stmt::For { body, .. }
            | Stmt::ForIter { body, .. }
            | Stmt::Fold { body, .. }
            | Stmt::While { body, .. }
            | Stmt::Loop(body) => overwrites_in(body, true, conds),
            Stmt::If { cond, then, els } => {
                let conds = format!("{conds} {}", print::cond(cond));
                overwrites_in(then, in_loop, &conds)
                    + els
                        .as_ref()
                        .map_or(0, |e| overwrites_in(e, in_loop, &conds))
            }
            _ => 0,
        })
        .sum()
}

/// The printed size of a program (what the shrinker minimizes).
#[must_use]
pub fn size(p: &Program) -> usize {
    print::functions(p, Mode::Plain).len()
}

fn func_mut(p: &mut Program, f: usize) -> &mut Func {
    if f < p.helpers.len() {
        &mut p.helpers[f]
    } else {
        &mut p.main
    }
}

fn func(p: &Program, f: usize) -> &Func {
    if f < p.helpers.len() {
        &p.helpers[f]
    } else {
        &p.main
    }
}

/// Whether `name` occurs as an identifier in `text`.
fn mentions(text: &str, name: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == name)
}

fn drop_helpers(p: &Program) -> Vec<Program> {
    let main_text = print::function(&p.main, Mode::Plain);
    (0..p.helpers.len())
        .filter(|&k| !mentions(&main_text, &p.helpers[k].name))
        .map(|k| {
            let mut q = p.clone();
            q.helpers.remove(k);
            q
        })
        .collect()
}

fn drop_params(p: &Program) -> Vec<Program> {
    let body = {
        let mut f = p.main.clone();
        f.params.clear();
        f.wrt = None;
        print::function(&f, Mode::Bare)
    };
    let mut out = Vec::new();
    for k in 0..p.main.params.len() {
        let name = p.main.params[k].name.clone();
        if mentions(&body, &name) || p.main.params.len() == 1 {
            continue;
        }
        let mut q = p.clone();
        q.main.params.remove(k);
        for point in &mut q.points {
            point.remove(k);
        }
        if let Some(w) = &mut q.main.wrt {
            w.retain(|n| *n != name);
            if w.is_empty() {
                continue;
            }
        }
        if q.main.differentiated().is_empty() {
            continue;
        }
        out.push(q);
    }
    out
}

/// What holds a statement list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// A function body, a `for` loop or a branch.
    Other,
    /// A `while` loop: its counter's step stays.
    While,
    /// A `loop`: its counter's step and its final exit stay.
    Loop,
}

/// Calls `f` on every statement list of a body (and what holds it), parents before children.
fn each_list(stmts: &mut Vec<Stmt>, holder: Holder, f: &mut dyn FnMut(&mut Vec<Stmt>, Holder)) {
    f(stmts, holder);
    for s in stmts.iter_mut() {
        match s {
            Stmt::For { body, .. } | Stmt::ForIter { body, .. } | Stmt::Fold { body, .. } => {
                each_list(body, Holder::Other, f);
            }
            Stmt::While { body, .. } => each_list(body, Holder::While, f),
            Stmt::Loop(body) => each_list(body, Holder::Loop, f),
            Stmt::If { then, els, .. } => {
                each_list(then, Holder::Other, f);
                if let Some(e) = els {
                    each_list(e, Holder::Other, f);
                }
            }
            _ => {}
        }
    }
}

/// Whether a loop body has a `continue` or `break` of its own (not of a loop inside it).
fn exits(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::Continue | Stmt::Break => true,
        Stmt::If { then, els, .. } => exits(then) || els.as_deref().is_some_and(exits),
        _ => false,
    })
}

/// The reductions of one statement.
#[derive(Debug, Clone, Copy)]
enum StmtEdit {
    Remove,
    InlineLoop,
    /// Drop adaptor `k` of a `for` loop's iterator.
    DropAdaptor(usize),
    InlineLet,
    ThenOnly,
    ElseOnly,
    DropElse,
}

/// The reductions of statement `s`, the last of its list when `last`, in a list `holder` holds.
fn stmt_edits(s: &Stmt, holder: Holder, last: bool) -> Vec<StmtEdit> {
    if holder == Holder::Loop && last {
        // A `loop`'s exit, whole (without its `if`, the loop is another form).
        return Vec::new();
    }
    let keep = match s {
        Stmt::Continue | Stmt::Break => true,
        Stmt::Step { .. } => holder != Holder::Other,
        _ => false,
    };
    let mut out = if keep {
        Vec::new()
    } else {
        vec![StmtEdit::Remove]
    };
    match s {
        Stmt::For { body, .. } if !exits(body) => out.push(StmtEdit::InlineLoop),
        Stmt::ForIter { chain, .. } => {
            out.extend(droppable(chain).into_iter().map(StmtEdit::DropAdaptor));
        }
        // Not a shadowing `let t = f(t)`: substituting would never end.
        Stmt::Let {
            mutable: false,
            name,
            value,
        } if !mentions(&print::expr(value), name) => {
            out.push(StmtEdit::InlineLet);
        }
        Stmt::If { els, .. } => {
            out.push(StmtEdit::ThenOnly);
            if els.is_some() {
                out.extend([StmtEdit::ElseOnly, StmtEdit::DropElse]);
            }
        }
        _ => {}
    }
    out
}

fn statement_edits(p: &Program, f: usize) -> Vec<Program> {
    let mut addresses: Vec<(usize, usize, StmtEdit)> = Vec::new();
    let mut ordinal = 0;
    let mut body = func(p, f).body.clone();
    each_list(&mut body, Holder::Other, &mut |list, holder| {
        for (i, s) in list.iter().enumerate() {
            let last = i + 1 == list.len();
            let edits = stmt_edits(s, holder, last);
            addresses.extend(edits.into_iter().map(|e| (ordinal, i, e)));
        }
        ordinal += 1;
    });
    addresses
        .into_iter()
        .map(|(target, i, edit)| {
            let mut q = p.clone();
            let mut ordinal = 0;
            let mut inlined = None;
            each_list(
                &mut func_mut(&mut q, f).body,
                Holder::Other,
                &mut |list, _| {
                    if ordinal == target {
                        inlined = apply(list, i, edit);
                    }
                    ordinal += 1;
                },
            );
            if let Some((name, value)) = inlined {
                each_expr_of(func_mut(&mut q, f), &mut |e| {
                    if matches!(e, Expr::Var(v) if *v == name) {
                        *e = value.clone();
                    }
                });
            }
            q
        })
        .collect()
}

/// Applies `edit` to statement `i` of `list`; an inlined `let` returns its name and value, to
/// be substituted for the name everywhere.
fn apply(list: &mut Vec<Stmt>, i: usize, edit: StmtEdit) -> Option<(String, Expr)> {
    let s = list.remove(i);
    let replacement = match (edit, s) {
        (StmtEdit::InlineLet, Stmt::Let { name, value, .. }) => return Some((name, value)),
        (
            StmtEdit::InlineLoop,
            Stmt::For {
                var,
                range,
                mut body,
            },
        ) => {
            each_int_in(&mut body, &mut |e| substitute(e, &var, &range.start));
            body
        }
        (StmtEdit::DropAdaptor(k), Stmt::ForIter { pat, chain, body }) => {
            vec![Stmt::ForIter {
                pat,
                chain: without(&chain, k),
                body,
            }]
        }
        (StmtEdit::ThenOnly, Stmt::If { then, .. }) => then,
        (StmtEdit::ElseOnly, Stmt::If { els, .. }) => els.unwrap_or_default(),
        (StmtEdit::DropElse, Stmt::If { cond, then, .. }) => vec![Stmt::If {
            cond,
            then,
            els: None,
        }],
        _ => Vec::new(),
    };
    for (k, s) in replacement.into_iter().enumerate() {
        list.insert(i + k, s);
    }
    None
}

/// The adaptors of a chain that may go without changing its items' type.
fn droppable(c: &Chain) -> Vec<usize> {
    c.adaptors
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            matches!(
                a,
                Adaptor::Skip(_) | Adaptor::Take(_) | Adaptor::StepBy(_) | Adaptor::Rev
            )
        })
        .map(|(k, _)| k)
        .collect()
}

/// The chain without adaptor `k`.
fn without(c: &Chain, k: usize) -> Chain {
    let mut c = c.clone();
    c.adaptors.remove(k);
    c
}

/// Calls `f` on every integer expression of a chain (bounds, counts, widths, `zip`'s).
fn each_int_of_chain(c: &mut Chain, f: &mut dyn FnMut(&mut IntExpr)) {
    match &mut c.base {
        Base::Range(r) => {
            f(&mut r.start);
            f(&mut r.end);
        }
        Base::Sub { start, end, .. } => {
            for e in [start, end].into_iter().flatten() {
                f(e);
            }
        }
        Base::Runs(_, _, k) => f(k),
        Base::Bare(_) | Base::Iter(_) | Base::Borrow(_) => {}
    }
    for a in &mut c.adaptors {
        match a {
            Adaptor::Skip(k) | Adaptor::Take(k) | Adaptor::StepBy(k) => f(k),
            Adaptor::Zip(other) => each_int_of_chain(other, f),
            Adaptor::Rev | Adaptor::Enumerate | Adaptor::Copied => {}
        }
    }
}

fn substitute(e: &mut IntExpr, var: &str, with: &IntExpr) {
    match e {
        IntExpr::Var(v) if v == var => *e = with.clone(),
        IntExpr::Add(a, b)
        | IntExpr::Sub(a, b)
        | IntExpr::Mul(a, b)
        | IntExpr::Div(a, b)
        | IntExpr::Rem(a, b) => {
            substitute(a, var, with);
            substitute(b, var, with);
        }
        _ => {}
    }
}

/// Calls `f` on every top-level integer expression in the statements (indices, casts, integer
/// conditions, ranges).
fn each_int_in(stmts: &mut [Stmt], f: &mut dyn FnMut(&mut IntExpr)) {
    for s in stmts {
        match s {
            Stmt::For { range, body, .. } => {
                f(&mut range.start);
                f(&mut range.end);
                each_int_in(body, f);
            }
            Stmt::Fold {
                members,
                range,
                body,
                ..
            } => {
                for (_, init) in members {
                    each_expr(init, &mut |e| ints_of_expr(e, f));
                }
                f(&mut range.start);
                f(&mut range.end);
                each_int_in(body, f);
            }
            Stmt::ForIter { chain, body, .. } => {
                each_int_of_chain(chain, f);
                each_int_in(body, f);
            }
            Stmt::Closure { body: value, .. } => each_expr(value, &mut |e| ints_of_expr(e, f)),
            Stmt::If { cond, then, els } => {
                each_int_of_cond(cond, f);
                each_expr_in_cond(cond, &mut |e| ints_of_expr(e, f));
                each_int_in(then, f);
                if let Some(e) = els {
                    each_int_in(e, f);
                }
            }
            Stmt::Let { value, .. } | Stmt::Assign { value, .. } | Stmt::Return(value) => {
                each_expr(value, &mut |e| ints_of_expr(e, f));
            }
            Stmt::LetInt { value, .. }
            | Stmt::SetInt { value, .. }
            | Stmt::Step { by: value, .. } => f(value),
            Stmt::While { cond, body } => {
                each_int_of_cond(cond, f);
                each_int_in(body, f);
            }
            Stmt::Loop(body) => each_int_in(body, f),
            Stmt::LetOutputs { call, .. } => each_expr(call, &mut |e| ints_of_expr(e, f)),
            Stmt::NewArray { init, .. } => {
                if let ArrayInit::Repeat { len, .. } = init {
                    f(len);
                }
                for value in init_exprs(init) {
                    each_expr(value, &mut |e| ints_of_expr(e, f));
                }
            }
            Stmt::SetElem { index, value, .. } => {
                f(index);
                each_expr(value, &mut |e| ints_of_expr(e, f));
            }
            Stmt::Push { value, .. } => each_expr(value, &mut |e| ints_of_expr(e, f)),
            Stmt::SplitAt { at, .. } => f(at),
            Stmt::LetArray { .. } | Stmt::Continue | Stmt::Break => {}
        }
    }
}

/// The integer expressions directly in `e` (not in its subexpressions).
fn ints_of_expr(e: &mut Expr, f: &mut dyn FnMut(&mut IntExpr)) {
    match e {
        Expr::Index(_, i) | Expr::Cast(i) => f(i),
        Expr::If(c, ..) => each_int_of_cond(c, f),
        Expr::Iter(it) => each_int_of_chain(&mut it.chain, f),
        _ => {}
    }
}

fn each_int_of_cond(c: &mut Cond, f: &mut dyn FnMut(&mut IntExpr)) {
    match c {
        Cond::Int(_, a, b) => {
            f(a);
            f(b);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            each_int_of_cond(a, f);
            each_int_of_cond(b, f);
        }
        Cond::Not(a) | Cond::Matched(a) => each_int_of_cond(a, f),
        Cond::Float(..) => {}
    }
}

/// Calls `f` on every expression of a condition (pre-order).
fn each_expr_in_cond(c: &mut Cond, f: &mut dyn FnMut(&mut Expr)) {
    match c {
        Cond::Float(_, a, b) => {
            each_expr(a, f);
            each_expr(b, f);
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            each_expr_in_cond(a, f);
            each_expr_in_cond(b, f);
        }
        Cond::Not(a) | Cond::Matched(a) => each_expr_in_cond(a, f),
        Cond::Int(..) => {}
    }
}

/// Calls `f` on `e` and every subexpression, parents first (`f` may replace a node; its new
/// children are visited).
fn each_expr(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    f(e);
    match e {
        Expr::Neg(a) => each_expr(a, f),
        Expr::Bin(_, a, b) => {
            each_expr(a, f);
            each_expr(b, f);
        }
        Expr::Method(_, r, args) => {
            each_expr(r, f);
            for a in args {
                each_expr(a, f);
            }
        }
        Expr::Call(_, args) => {
            for a in args {
                match a {
                    Arg::Float(a) => each_expr(a, f),
                    Arg::ArrayLit(items) => {
                        for a in items {
                            each_expr(a, f);
                        }
                    }
                    Arg::Slice(_) | Arg::Run { .. } | Arg::LocalArray(_) | Arg::LocalRun(..) => {}
                }
            }
        }
        Expr::If(c, a, b) => {
            each_expr_in_cond(c, f);
            each_expr(a, f);
            each_expr(b, f);
        }
        Expr::Iter(it) => {
            if let MapFn::Closure { body, .. } = &mut it.map {
                each_expr(body, f);
            }
        }
        Expr::Array(items) => {
            for a in items {
                each_expr(a, f);
            }
        }
        Expr::Output(call, _) => each_expr(call, f),
        _ => {}
    }
}

/// Calls `f` on every expression of a function body and its final expression.
fn each_expr_of(func: &mut Func, f: &mut dyn FnMut(&mut Expr)) {
    each_expr_in_stmts(&mut func.body, f);
    each_expr(&mut func.ret, f);
}

fn each_expr_in_stmts(stmts: &mut [Stmt], f: &mut dyn FnMut(&mut Expr)) {
    for s in stmts {
        match s {
            Stmt::Let { value, .. }
            | Stmt::Assign { value, .. }
            | Stmt::SetElem { value, .. }
            | Stmt::Push { value, .. }
            | Stmt::Return(value)
            | Stmt::Closure { body: value, .. }
            | Stmt::LetOutputs { call: value, .. } => {
                each_expr(value, f);
            }
            Stmt::NewArray { init, .. } => {
                for value in init_exprs(init) {
                    each_expr(value, f);
                }
            }
            Stmt::For { body, .. } | Stmt::ForIter { body, .. } | Stmt::Loop(body) => {
                each_expr_in_stmts(body, f);
            }
            Stmt::Fold { members, body, .. } => {
                for (_, init) in members {
                    each_expr(init, f);
                }
                each_expr_in_stmts(body, f);
            }
            Stmt::While { cond, body } => {
                each_expr_in_cond(cond, f);
                each_expr_in_stmts(body, f);
            }
            Stmt::LetArray { .. }
            | Stmt::LetInt { .. }
            | Stmt::SetInt { .. }
            | Stmt::Step { .. }
            | Stmt::SplitAt { .. }
            | Stmt::Continue
            | Stmt::Break => {}
            Stmt::If { cond, then, els } => {
                each_expr_in_cond(cond, f);
                each_expr_in_stmts(then, f);
                if let Some(e) = els {
                    each_expr_in_stmts(e, f);
                }
            }
        }
    }
}

/// The element expressions of a new local array.
fn init_exprs(init: &mut ArrayInit) -> Vec<&mut Expr> {
    match init {
        ArrayInit::Repeat { value, .. } => vec![value],
        ArrayInit::List(items) => items.iter_mut().collect(),
        ArrayInit::Chosen { then, other, .. } => {
            let mut out = init_exprs(then);
            out.extend(init_exprs(other));
            out
        }
        ArrayInit::Copy { .. } | ArrayInit::Empty { .. } | ArrayInit::Run { .. } => Vec::new(),
    }
}

/// What an expression may be replaced by: a literal, or one of its operands.
fn replacements(e: &Expr) -> Vec<Expr> {
    let mut out = Vec::new();
    // An array is a vector-valued function's value: its elements are replaced, not it.
    if !matches!(e, Expr::Lit(_) | Expr::Array(_)) {
        out.push(Expr::Lit(1.0));
    }
    match e {
        Expr::Neg(a) => out.push((**a).clone()),
        Expr::Bin(_, a, b) | Expr::If(_, a, b) => out.extend([(**a).clone(), (**b).clone()]),
        Expr::Method(_, r, args) => {
            out.push((**r).clone());
            out.extend(args.iter().cloned());
        }
        Expr::Iter(it) => {
            if let MapFn::Closure { body, .. } = &it.map {
                out.push(body.clone());
            }
            for k in droppable(&it.chain) {
                let mut less = (**it).clone();
                less.chain = without(&it.chain, k);
                out.push(Expr::Iter(Box::new(less)));
            }
        }
        Expr::Call(_, args) => out.extend(args.iter().filter_map(|a| match a {
            Arg::Float(e) => Some(e.clone()),
            Arg::Slice(_)
            | Arg::Run { .. }
            | Arg::LocalArray(_)
            | Arg::LocalRun(..)
            | Arg::ArrayLit(_) => None,
        })),
        _ => {}
    }
    out
}

fn expression_edits(p: &Program, f: usize) -> Vec<Program> {
    let mut counts: Vec<usize> = Vec::new();
    let mut scratch = func(p, f).clone();
    each_expr_of(&mut scratch, &mut |e| counts.push(replacements(e).len()));
    let mut out = Vec::new();
    for (slot, &n) in counts.iter().enumerate() {
        for r in 0..n {
            let mut q = p.clone();
            let mut ordinal = 0;
            each_expr_of(func_mut(&mut q, f), &mut |e| {
                if ordinal == slot {
                    let new = replacements(e).swap_remove(r);
                    *e = new;
                }
                ordinal += 1;
            });
            out.push(q);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{candidates, size};
    use crate::r#gen::{Weights, program};

    #[test]
    fn every_construct_has_candidates() {
        let w = Weights::default();
        for id in 0..40 {
            let p = program(3, id, &w);
            assert!(!candidates(&p).is_empty(), "program {id}");
        }
    }

    #[test]
    fn candidates_are_smaller_and_distinct() {
        let p = program(1, 7, &Weights::default());
        let c = candidates(&p);
        assert!(c.len() > 10);
        let smaller = c.iter().filter(|q| size(q) < size(&p)).count();
        assert!(smaller * 2 > c.len(), "{smaller} of {} smaller", c.len());
        let texts: std::collections::BTreeSet<String> = c
            .iter()
            .map(|q| crate::print::functions(q, crate::print::Mode::Plain))
            .collect();
        assert_eq!(texts.len(), c.len());
    }
}
