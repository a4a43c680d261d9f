//! Lowering of loops over data: `for i in a..b { … }` (and `while`/`loop` on a counter, with
//! `continue` and `break`), as `Sum` and `Fold` nodes — never unrolled. What a loop runs over,
//! and iterator sums (`x.iter().zip(y).map(|(a, b)| …).sum()`), are in `iterators.rs`.
//!
//! ```text
//! // Input:                                 // Graph:
//! let mut acc = 0.0;                        // acc₀ = 0
//! for i in 0..x.len() {                     // Δ(i) = (w·x[i] + b − y[i])²
//!     acc += (w * x[i] + b - y[i]).powi(2); // acc₁ = acc₀ + Σ_{i in 0..x.len()} Δ(i)
//! }
//! ```
//!
//! The loop body is lowered with each outer float variable replaced by a placeholder (a
//! provisional `Carry`, its value at the start of an iteration). A variable the body assigns as `placeholder + Δ` (or `− Δ`, possibly under
//! `if`), with `Δ` free of every placeholder, is an accumulation: its value after the loop is its
//! value before plus `Σ Δ`, and the sum's gradient is the sum of the gradients (a loop in the
//! generated code, with no tape). Any other update that reads only its own previous value
//! (`p *= x[i]`, `m = m.max(z[i])`, `s = 0.9 * s + x[i]`) is a recurrence, a `Fold`: its gradient
//! runs a reverse sweep over the values the forward loop saved (see `diff`). Variables whose
//! updates read one another (`let t = a + b; a = b; b = t * w;`, an integrator's `x` and `v`
//! and the loss summed along its trajectory) are one `Coupled` recurrence, each variable a
//! member reading the others' `Carry`s, its value after the loop a `Component`.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, ExprForLoop, Pat};

use super::carried::CarriedArray;
use super::iterators::Item;
use super::{Binding, Enclosing, Lower, Want};
use crate::ctxt::msg;
use crate::graph::{Cmp, IntOp, Kind, LoopMask, NodeId, Op};

/// An integer local a loop steps by a fixed amount (see `Lower::counters`).
pub(super) struct Counter {
    name: String,
    /// Its value when an iteration starts.
    at_start: NodeId,
    /// Its value once the iteration has stepped it.
    stepped: NodeId,
    /// The position of its step among the loop body's statements.
    at: usize,
    /// Its value after the loop.
    after_loop: NodeId,
}

/// The representative of `a`'s set in a union-find forest.
fn find(root: &mut [usize], mut a: usize) -> usize {
    while root[a] != a {
        root[a] = root[root[a]];
        a = root[a];
    }
    a
}

/// A float variable a loop's body assigned: where its binding is, its name, its binding before
/// the loop and the node of it, its placeholder in the body and its binding after an iteration.
type Update = (usize, usize, String, Binding, NodeId, NodeId, Binding);

/// A variable a loop updates, as a member of a coupled recurrence: where it is bound, its
/// placeholder in the loop's body, its value before the loop and after an iteration.
#[derive(Clone, Copy)]
pub(super) struct Member {
    pub(super) scope: (usize, usize),
    pub(super) placeholder: NodeId,
    pub(super) init: NodeId,
    pub(super) after: NodeId,
}

/// `name += step`, `name -= step`, `name = name + step`, `name = name - step`: the name, the
/// step, and whether it is subtracted.
pub(super) fn counter_update(e: &Expr) -> Option<(String, &Expr, bool)> {
    let ident = |e: &Expr| match e {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    match e {
        Expr::Binary(b) => {
            let negative = match b.op {
                syn::BinOp::AddAssign(_) => false,
                syn::BinOp::SubAssign(_) => true,
                _ => return None,
            };
            Some((ident(&b.left)?, &*b.right, negative))
        }
        Expr::Assign(a) => {
            let name = ident(&a.left)?;
            let Expr::Binary(b) = &*a.right else {
                return None;
            };
            let negative = match b.op {
                syn::BinOp::Add(_) => false,
                syn::BinOp::Sub(_) => true,
                _ => return None,
            };
            (ident(&b.left)? == name).then_some((name, &*b.right, negative))
        }
        _ => None,
    }
}

/// A counter's update in a nest of loops: the name, the step and whether it is subtracted (as
/// [`counter_update`]), and the ranges of the loops around it, outermost first.
type NestedUpdate<'a> = ((String, &'a Expr, bool), Vec<&'a Expr>);

/// `for j in a..b { …; k += step; … }`, or a nest of such loops around the update: each
/// update run once in every iteration of the innermost loop (at its top level, before any
/// `continue`, in loops without `break`), with the ranges of the loops, outermost first. The
/// caller checks that the name is an integer updated nowhere else and that the ranges read
/// nothing the enclosing loop changes (a triangular nest is not counted).
fn nested_counters(e: &Expr) -> Vec<NestedUpdate<'_>> {
    let Expr::ForLoop(f) = e else {
        return Vec::new();
    };
    let mut range = &*f.expr;
    while let Expr::Paren(p) = range {
        range = &p.expr;
    }
    let Expr::Range(r) = range else {
        return Vec::new();
    };
    if f.label.is_some()
        || r.start.is_none()
        || r.end.is_none()
        || f.body.stmts.iter().any(has_break_stmt)
    {
        return Vec::new();
    }
    let mut found = Vec::new();
    for stmt in f.body.stmts.iter().take_while(|s| !has_continue_stmt(s)) {
        let syn::Stmt::Expr(inner, _) = stmt else {
            continue;
        };
        match counter_update(inner) {
            Some(u) => found.push((u, Vec::new())),
            None => found.extend(nested_counters(inner)),
        }
    }
    for (_, ranges) in &mut found {
        ranges.insert(0, range);
    }
    found
}

/// The number of iterations of `while i < n { …; i += k; }` (and `<=`, `>`, `>=`, `-=`), as
/// an expression read before the loop; `None` for any other `while`.
pub(super) fn while_count(w: &syn::ExprWhile) -> Option<(String, Expr)> {
    let mut cond = &*w.cond;
    while let Expr::Paren(p) = cond {
        cond = &p.expr;
    }
    let Expr::Binary(b) = cond else { return None };
    let ident = |e: &Expr| match e {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let assigned = assigned_names(&w.body);
    let counter = |name: &str| {
        let mut found = None;
        for stmt in &w.body.stmts {
            if let syn::Stmt::Expr(e, _) = stmt
                && let Some((n, step, negative)) = counter_update(e)
                && n == name
            {
                found = Some((step.clone(), negative));
            }
        }
        found
    };
    // `i < n` or `n > i`: the counter on one side, the bound on the other.
    let (name, bound, up, inclusive) = match (&b.op, ident(&b.left), ident(&b.right)) {
        (syn::BinOp::Lt(_), Some(i), _) if counter(&i).is_some() => (i, &*b.right, true, false),
        (syn::BinOp::Le(_), Some(i), _) if counter(&i).is_some() => (i, &*b.right, true, true),
        (syn::BinOp::Gt(_), Some(i), _) if counter(&i).is_some() => (i, &*b.right, false, false),
        (syn::BinOp::Ge(_), Some(i), _) if counter(&i).is_some() => (i, &*b.right, false, true),
        (syn::BinOp::Gt(_), _, Some(i)) if counter(&i).is_some() => (i, &*b.left, true, false),
        (syn::BinOp::Ge(_), _, Some(i)) if counter(&i).is_some() => (i, &*b.left, true, true),
        (syn::BinOp::Lt(_), _, Some(i)) if counter(&i).is_some() => (i, &*b.left, false, false),
        (syn::BinOp::Le(_), _, Some(i)) if counter(&i).is_some() => (i, &*b.left, false, true),
        _ => return None,
    };
    let (step, negative) = counter(&name)?;
    let mut declared = let_names(&w.body);
    declared.extend(assigned.iter().cloned());
    // Stepped once, toward the bound; the bound and the step fixed in the loop.
    if assigned.iter().filter(|n| **n == name).count() != 1
        || negative == up
        || mentions_any(bound, &declared)
        || mentions_any(&step, &declared)
    {
        return None;
    }
    let i = syn::Ident::new(&name, Span::call_site());
    let count = match (up, inclusive) {
        (true, false) => syn::parse_quote! {
            (if #i < (#bound) { ((#bound) - #i + (#step) - 1) / (#step) } else { 0 })
        },
        (true, true) => syn::parse_quote! {
            (if #i <= (#bound) { ((#bound) - #i) / (#step) + 1 } else { 0 })
        },
        (false, false) => syn::parse_quote! {
            (if #i > (#bound) { (#i - (#bound) + (#step) - 1) / (#step) } else { 0 })
        },
        (false, true) => syn::parse_quote! {
            (if #i >= (#bound) { (#i - (#bound)) / (#step) + 1 } else { 0 })
        },
    };
    Some((name, count))
}

/// The counter, the number of iterations and the body (without its final `break`) of
/// `loop { …; i += k; if i >= n { break; } }` (also `>`, `==`, the bound on the left, and
/// counting down with `<=`, `<`, `==` and `-=`); `None` for any other `loop`.
pub(super) fn loop_count(l: &syn::ExprLoop) -> Option<(String, Expr, Vec<syn::Stmt>)> {
    use syn::BinOp::{Eq, Ge, Gt, Le, Lt};
    if l.label.is_some() {
        return None;
    }
    let (last, body) = l.body.stmts.split_last()?;
    let syn::Stmt::Expr(Expr::If(exit), _) = last else {
        return None;
    };
    let breaks = matches!(
        exit.then_branch.stmts.as_slice(),
        [syn::Stmt::Expr(Expr::Break(b), _)] if b.label.is_none() && b.expr.is_none()
    );
    if !breaks || exit.else_branch.is_some() {
        return None;
    }
    // No other `break` of this loop.
    let inner = syn::Block {
        brace_token: l.body.brace_token,
        stmts: body.to_vec(),
    };
    let mut f = BreakFinder(false);
    syn::visit::Visit::visit_block(&mut f, &inner);
    if f.0 {
        return None;
    }
    let mut cond = &*exit.cond;
    while let Expr::Paren(p) = cond {
        cond = &p.expr;
    }
    let Expr::Binary(b) = cond else { return None };
    let ident = |e: &Expr| match e {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let counter = |name: &str| {
        body.iter().find_map(|stmt| match stmt {
            syn::Stmt::Expr(e, _) => counter_update(e)
                .filter(|(n, ..)| n == name)
                .map(|(_, step, negative)| (step.clone(), negative)),
            _ => None,
        })
    };
    // Exit when the counter has reached the bound: (name, bound, counts up, exits on equality).
    let (name, bound, up, reach) = match (&b.op, ident(&b.left), ident(&b.right)) {
        (Ge(_) | Eq(_), Some(i), _) if counter(&i).is_some_and(|c| !c.1) => {
            (i, &*b.right, true, true)
        }
        (Gt(_), Some(i), _) if counter(&i).is_some_and(|c| !c.1) => (i, &*b.right, true, false),
        (Le(_) | Eq(_), Some(i), _) if counter(&i).is_some_and(|c| c.1) => {
            (i, &*b.right, false, true)
        }
        (Lt(_), Some(i), _) if counter(&i).is_some_and(|c| c.1) => (i, &*b.right, false, false),
        (Le(_) | Eq(_), _, Some(i)) if counter(&i).is_some_and(|c| !c.1) => {
            (i, &*b.left, true, true)
        }
        (Lt(_), _, Some(i)) if counter(&i).is_some_and(|c| !c.1) => (i, &*b.left, true, false),
        (Ge(_) | Eq(_), _, Some(i)) if counter(&i).is_some_and(|c| c.1) => {
            (i, &*b.left, false, true)
        }
        (Gt(_), _, Some(i)) if counter(&i).is_some_and(|c| c.1) => (i, &*b.left, false, false),
        _ => return None,
    };
    let (step, _) = counter(&name)?;
    let assigned = assigned_names(&inner);
    let mut declared = let_names(&inner);
    declared.extend(assigned.iter().cloned());
    if assigned.iter().filter(|n| **n == name).count() != 1
        || mentions_any(bound, &declared)
        || mentions_any(&step, &declared)
    {
        return None;
    }
    let i = syn::Ident::new(&name, Span::call_site());
    // Runs t ≥ 1 times: the first t with the counter at (or past) the bound.
    let count: Expr = match (up, reach) {
        (true, true) => syn::parse_quote! {
            (if #i + (#step) < (#bound) { ((#bound) - #i + (#step) - 1) / (#step) } else { 1 })
        },
        (true, false) => syn::parse_quote! {
            (if #i + (#step) <= (#bound) { ((#bound) - #i) / (#step) + 1 } else { 1 })
        },
        (false, true) => syn::parse_quote! {
            (if #i > (#bound) + (#step) { (#i - (#bound) + (#step) - 1) / (#step) } else { 1 })
        },
        (false, false) => syn::parse_quote! {
            (if #i >= (#bound) + (#step) { (#i - (#bound)) / (#step) + 1 } else { 1 })
        },
    };
    Some((name, count, body.to_vec()))
}

/// Whether `e` is built of names, literals and the operators of integers and conditions only
/// (no element, method, call or block: what it reads exists wherever it is evaluated).
fn plain_integers(e: &Expr) -> bool {
    match e {
        Expr::Path(_) | Expr::Lit(_) => true,
        Expr::Paren(p) => plain_integers(&p.expr),
        Expr::Group(g) => plain_integers(&g.expr),
        Expr::Unary(u) => plain_integers(&u.expr),
        Expr::Binary(b) => plain_integers(&b.left) && plain_integers(&b.right),
        _ => false,
    }
}

/// A `break` of the enclosing loop (not of a loop or closure inside it).
pub(super) struct BreakFinder(bool);

impl<'ast> syn::visit::Visit<'ast> for BreakFinder {
    fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
        self.0 = true;
    }
    fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
    fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}

/// The position of `if c { …; break; }` among a loop body's statements (`break` last in the
/// branch, no `else`), when that `break` is the only one of this loop.
pub(super) fn exit_stmt(stmts: &[syn::Stmt]) -> Option<usize> {
    let at = stmts.iter().position(has_break_stmt)?;
    let syn::Stmt::Expr(Expr::If(ifx), _) = &stmts[at] else {
        return None;
    };
    let (last, before) = ifx.then_branch.stmts.split_last()?;
    let breaks = matches!(
        last,
        syn::Stmt::Expr(Expr::Break(b), _) if b.label.is_none() && b.expr.is_none()
    );
    // After an `if c { continue; }`, the exit is tested only where `c` does not hold: not a
    // loop's end the condition alone decides.
    let alone = !before.iter().any(has_break_stmt)
        && !has_break_expr(&ifx.cond)
        && !stmts[at + 1..].iter().any(has_break_stmt)
        && !stmts[..at].iter().any(has_continue_stmt);
    (breaks && alone && ifx.else_branch.is_none()).then_some(at)
}

/// The exit at `at` (see [`exit_stmt`]) is `if c { break; }` after `let`s only: the iteration
/// that breaks changes nothing.
pub(super) fn exits_first(stmts: &[syn::Stmt], at: usize) -> bool {
    let bare = matches!(
        &stmts[at],
        syn::Stmt::Expr(Expr::If(ifx), _) if ifx.then_branch.stmts.len() == 1
    );
    bare && stmts[..at].iter().all(|s| matches!(s, syn::Stmt::Local(_)))
}

/// The loop body with the `break` of its exit (at `at`, see [`exit_stmt`]) made a `continue`:
/// the body of the loop shortened to end with that iteration.
pub(super) fn break_as_continue(stmts: &[syn::Stmt], at: usize) -> Vec<syn::Stmt> {
    let mut out = stmts.to_vec();
    if let syn::Stmt::Expr(Expr::If(ifx), _) = &mut out[at]
        && let Some(syn::Stmt::Expr(last, _)) = ifx.then_branch.stmts.last_mut()
    {
        let span = syn::spanned::Spanned::span(&*last);
        *last = syn::parse_quote_spanned!(span=> continue);
    }
    out
}

/// A local array an exit condition (at the end of `before`), or a `let` before it that the
/// condition reads (`lets`, with their places), reads after a statement of `before` wrote one of
/// its elements. The condition is evaluated in a loop of its own before the loop (see
/// `Lower::loop_exit`), where the array still holds its elements from before the loop: `z[c] =
/// e; if z[c] > 0.0 { break; }` broke where the old `z[c]` was positive, a wrong value and
/// gradient (found by the fuzzer). A write after the exit is fine: the condition reads the
/// element before this iteration's write, as the program does.
fn written_before_read(
    before: &[syn::Stmt],
    cond: &Expr,
    lets: &[(usize, syn::Stmt)],
) -> Option<String> {
    let mut readers = vec![(before.len(), mentioned_names(cond))];
    for (q, stmt) in lets {
        if let syn::Stmt::Local(l) = stmt
            && let Some(init) = &l.init
        {
            readers.push((*q, mentioned_names(&init.expr)));
        }
    }
    before.iter().enumerate().find_map(|(p, stmt)| {
        super::buffers::element_written_names(std::slice::from_ref(stmt))
            .into_iter()
            .find(|name| {
                readers
                    .iter()
                    .any(|(q, names)| *q > p && names.contains(name))
            })
    })
}

/// An array the loop body `body` writes that the `break` condition `cond` (or the `lets` before
/// it that it reads) reads other than at the loop's index `index` where the body writes it
/// there only: the condition is read in a loop of its own before the loop, where the array
/// holds its values from before the loop, so it would test those, not what earlier iterations
/// wrote (`if z[i - 1] > 1.0 { break; } z[i] = z[i - 1] + x[i];`). Its element at the
/// loop's index, which no iteration before wrote, is read as it was (`if z[i] > 1.0 { break;
/// }` before `z[i] = …`), and its length.
fn reads_written_array(
    body: &[syn::Stmt],
    cond: &Expr,
    lets: &[(usize, syn::Stmt)],
    index: Option<&str>,
) -> Option<String> {
    // The condition's and its `let`s' reads of the written arrays: at the index, or otherwise.
    struct Reads<'a> {
        written: &'a [String],
        is_index: &'a dyn Fn(&Expr) -> bool,
        at_index: Vec<String>,
        other: Option<String>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Reads<'_> {
        fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
            if let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
                && self.written.iter().any(|w| id == w)
                && (self.is_index)(&ix.index)
            {
                self.at_index.push(id.to_string());
                return;
            }
            syn::visit::visit_expr_index(self, ix);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "len" && matches!(&*m.receiver, Expr::Path(_)) {
                return;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(id) = p.path.get_ident()
                && self.other.is_none()
                && self.written.iter().any(|w| id == w)
            {
                self.other = Some(id.to_string());
            }
        }
    }
    let written = super::buffers::element_written_names(body);
    if written.is_empty() {
        return None;
    }
    let is_index = |e: &Expr| matches!(strip_parens(e), Expr::Path(p) if p.path.get_ident().is_some_and(|i| Some(i.to_string().as_str()) == index));
    let mut reads = Reads {
        written: &written,
        is_index: &is_index,
        at_index: Vec::new(),
        other: None,
    };
    syn::visit::Visit::visit_expr(&mut reads, cond);
    for (_, stmt) in lets {
        if let syn::Stmt::Local(l) = stmt
            && let Some(init) = &l.init
        {
            syn::visit::Visit::visit_expr(&mut reads, &init.expr);
        }
    }
    if reads.other.is_some() {
        return reads.other;
    }
    // Read at the index: only where every write of the array is at the index too.
    reads
        .at_index
        .into_iter()
        .find(|name| !written_only_at(body, name, &is_index))
}

/// Whether `body` writes the array `name` only at the loop's index (`z[i] = …`, `z[i] += …`)
/// and calls no method on it but `len`.
fn written_only_at(body: &[syn::Stmt], name: &str, is_index: &dyn Fn(&Expr) -> bool) -> bool {
    struct Writes<'a> {
        name: &'a str,
        is_index: &'a dyn Fn(&Expr) -> bool,
        elsewhere: bool,
    }
    impl Writes<'_> {
        fn target(&mut self, left: &Expr) {
            if let Expr::Index(ix) = strip_parens(left)
                && matches!(&*ix.expr, Expr::Path(p) if p.path.is_ident(self.name))
                && !(self.is_index)(&ix.index)
            {
                self.elsewhere = true;
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Writes<'_> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.target(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            use syn::BinOp as B;
            if matches!(
                b.op,
                B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_)
            ) {
                self.target(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method != "len"
                && matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident(self.name))
            {
                self.elsewhere = true;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut w = Writes {
        name,
        is_index,
        elsewhere: false,
    };
    for s in body {
        syn::visit::Visit::visit_stmt(&mut w, s);
    }
    !w.elsewhere
}

/// The plain names `e` mentions (`x` in `x + 1`, not `len` in `y.len()`).
pub(super) fn mentioned_names(e: &Expr) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(id) = p.path.get_ident() {
                self.0.push(id.to_string());
            }
        }
    }
    let mut f = Finder(Vec::new());
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

pub(super) fn has_break_expr(e: &Expr) -> bool {
    let mut f = BreakFinder(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// `stmt` holds a `break` of the enclosing loop (not of a loop or closure inside it).
pub(super) fn has_break_stmt(stmt: &syn::Stmt) -> bool {
    let mut f = BreakFinder(false);
    syn::visit::Visit::visit_stmt(&mut f, stmt);
    f.0
}

/// The statements of a loop body with each `if c { …; continue; }` (`continue` last in the
/// branch) turned into `if c { … } else { <else branch>; <the rest of the body> }`; `None` when
/// a `continue` of this loop sits anywhere else (or is labelled).
pub(super) fn without_continue(stmts: &[syn::Stmt]) -> Option<Vec<syn::Stmt>> {
    let mut out = Vec::new();
    for (p, stmt) in stmts.iter().enumerate() {
        if let syn::Stmt::Expr(Expr::Match(m), semi) = stmt
            && m.arms.iter().any(|a| arm_continues(&a.body))
        {
            out.push(syn::Stmt::Expr(
                Expr::Match(match_without_continue(m, &stmts[p + 1..])?),
                *semi,
            ));
            return Some(out);
        }
        let syn::Stmt::Expr(Expr::If(ifx), semi) = stmt else {
            if has_continue_stmt(stmt) {
                return None;
            }
            out.push(stmt.clone());
            continue;
        };
        let then = &ifx.then_branch.stmts;
        if !ends_with_continue(then) {
            if has_continue_stmt(stmt) {
                return None;
            }
            out.push(stmt.clone());
            continue;
        }
        let else_has = ifx
            .else_branch
            .as_ref()
            .is_some_and(|(_, e)| has_continue_expr(e));
        if else_has {
            return None;
        }
        let then_body = without_continue(&then[..then.len() - 1])?;
        let rest = without_continue(&stmts[p + 1..])?;
        let cond = &ifx.cond;
        let else_stmts: Vec<syn::Stmt> = match &ifx.else_branch {
            Some((_, e)) => {
                let mut v: Vec<syn::Stmt> = vec![syn::Stmt::Expr(
                    (**e).clone(),
                    Some(syn::token::Semi::default()),
                )];
                v.extend(rest);
                v
            }
            None => rest,
        };
        let rewritten: Expr = syn::parse_quote! {
            if #cond { #(#then_body)* } else { #(#else_stmts)* }
        };
        out.push(syn::Stmt::Expr(rewritten, *semi));
        return Some(out);
    }
    Some(out)
}

/// Whether a `match` arm's body ends with a `continue` of the loop (`_ => continue,`, `0 => {
/// …; continue; }`).
fn arm_continues(body: &Expr) -> bool {
    match body {
        Expr::Continue(c) => c.label.is_none(),
        Expr::Block(b) if b.label.is_none() => ends_with_continue(&b.block.stmts),
        _ => false,
    }
}

/// Whether the last of `stmts` is a `continue` of the loop (not labelled).
fn ends_with_continue(stmts: &[syn::Stmt]) -> bool {
    matches!(
        stmts.last(),
        Some(syn::Stmt::Expr(Expr::Continue(c), _)) if c.label.is_none()
    )
}

/// A `match` statement some of whose arms end with `continue`, followed by `rest` in the loop
/// body: each such arm without its `continue`, each other arm followed by `rest` (`match k {
/// 0 => continue, _ => { a } } rest` → `match k { 0 => {}, _ => { a; rest } }`); `None` when a
/// `continue` sits elsewhere in it.
fn match_without_continue(m: &syn::ExprMatch, rest: &[syn::Stmt]) -> Option<syn::ExprMatch> {
    let mut out = m.clone();
    for arm in &mut out.arms {
        let mut body: Vec<syn::Stmt> = match &*arm.body {
            Expr::Block(b) if b.label.is_none() => b.block.stmts.clone(),
            other => vec![syn::Stmt::Expr(
                other.clone(),
                Some(syn::token::Semi::default()),
            )],
        };
        if arm_continues(&arm.body) {
            body.pop();
        } else {
            // (A value the arm ends with is a statement before `rest`.)
            if let Some(syn::Stmt::Expr(_, semi @ None)) = body.last_mut() {
                *semi = Some(syn::token::Semi::default());
            }
            body.extend(rest.iter().cloned());
        }
        // The arm's own `if c { …; continue; }`s put what follows them, `rest` included, under
        // `else`.
        let body = without_continue(&body)?;
        *arm.body = syn::parse_quote!({ #(#body)* });
        arm.comma = Some(syn::token::Comma::default());
    }
    Some(out)
}

/// `stmt` holds a `continue` of the enclosing loop (not of a loop or closure inside it).
pub(super) fn has_continue_stmt(stmt: &syn::Stmt) -> bool {
    let mut f = ContinueFinder(false);
    syn::visit::Visit::visit_stmt(&mut f, stmt);
    f.0
}

pub(super) fn has_continue_expr(e: &Expr) -> bool {
    let mut f = ContinueFinder(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

pub(super) struct ContinueFinder(bool);

impl<'ast> syn::visit::Visit<'ast> for ContinueFinder {
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        self.0 = true;
    }
    // A loop or closure inside has its own `continue`s.
    fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
    fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}

/// The names `stmts` read: every path mentioned, but for the target of an assignment `=`
/// (`h = next;`, and the array of `h[j] = e;`, whose old value is not read) and an array whose
/// length alone is read (`z.len()`).
pub(super) fn read_names(stmts: &[syn::Stmt]) -> Vec<String> {
    use syn::visit::Visit;
    struct Finder(Vec<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(id) = p.path.get_ident() {
                self.0.push(id.to_string());
            }
        }
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            match &*a.left {
                Expr::Path(_) => {}
                Expr::Index(ix) if matches!(&*ix.expr, Expr::Path(_)) => {
                    self.visit_expr(&ix.index);
                }
                left => self.visit_expr(left),
            }
            self.visit_expr(&a.right);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            // `z.len()` reads no element.
            if !(m.method == "len" && matches!(&*m.receiver, Expr::Path(_))) {
                self.visit_expr(&m.receiver);
            }
            for a in &m.args {
                self.visit_expr(a);
            }
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        f.visit_stmt(s);
    }
    f.0.sort();
    f.0.dedup();
    f.0
}

/// Every name assigned in `block` (`x = …`, `x += …`), once per assignment.
pub(super) fn assigned_names(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Expr::Path(p) = &*a.left
                && let Some(id) = p.path.get_ident()
            {
                self.0.push(id.to_string());
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            use syn::BinOp::{
                AddAssign, BitAndAssign, BitOrAssign, BitXorAssign, DivAssign, MulAssign,
                RemAssign, ShlAssign, ShrAssign, SubAssign,
            };
            let compound = matches!(
                b.op,
                AddAssign(_)
                    | SubAssign(_)
                    | MulAssign(_)
                    | DivAssign(_)
                    | RemAssign(_)
                    | BitAndAssign(_)
                    | BitOrAssign(_)
                    | BitXorAssign(_)
                    | ShlAssign(_)
                    | ShrAssign(_)
            );
            if compound
                && let Expr::Path(p) = &*b.left
                && let Some(id) = p.path.get_ident()
            {
                self.0.push(id.to_string());
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut f = Finder(Vec::new());
    syn::visit::Visit::visit_block(&mut f, block);
    f.0
}

/// The names the patterns it visits bind (`let`s, closures' parameters, `for` and `match`).
struct Bindings(Vec<String>);

impl<'ast> syn::visit::Visit<'ast> for Bindings {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
}

/// The names a pattern binds.
pub(super) fn pattern_names(pat: &Pat) -> Vec<String> {
    let mut f = Bindings(Vec::new());
    syn::visit::Visit::visit_pat(&mut f, pat);
    f.0
}

/// The names the patterns in `block` bind (`let`s, closures, loops, `match` arms).
pub(super) fn let_names(block: &syn::Block) -> Vec<String> {
    let mut f = Bindings(Vec::new());
    syn::visit::Visit::visit_block(&mut f, block);
    f.0
}

/// The names the patterns in `stmt` bind (its `let`'s, and those of closures, loops and
/// `match`es in it).
pub(super) fn names_bound_in_stmt(stmt: &syn::Stmt) -> Vec<String> {
    let mut f = Bindings(Vec::new());
    syn::visit::Visit::visit_stmt(&mut f, stmt);
    f.0
}

/// The names the patterns in `e` bind.
pub(super) fn names_bound_in(e: &Expr) -> Vec<String> {
    let mut f = Bindings(Vec::new());
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// Finds a plain name (`x`, not `a.x` nor `m::x`) that `.0` accepts; `.1` says whether one was
/// found. One visitor for every "does this mention one of those names" question.
pub(super) struct NameFinder<F: Fn(&str) -> bool>(pub F, pub bool);

impl<'ast, F: Fn(&str) -> bool> syn::visit::Visit<'ast> for NameFinder<F> {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.path
            .get_ident()
            .is_some_and(|id| (self.0)(&id.to_string()))
        {
            self.1 = true;
        }
    }
}

/// `e` mentions one of `names`.
pub(super) fn mentions_any(e: &Expr, names: &[String]) -> bool {
    let mut f = NameFinder(|n: &str| names.iter().any(|m| m == n), false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.1
}

/// `stmt` mentions one of `names`.
pub(super) fn stmt_mentions_any(stmt: &syn::Stmt, names: &[String]) -> bool {
    let mut f = NameFinder(|n: &str| names.iter().any(|m| m == n), false);
    syn::visit::Visit::visit_stmt(&mut f, stmt);
    f.1
}

impl Lower<'_> {
    /// What a `for` loop runs over: `for i in a..b`, or `for &xi in x.iter()…`, an iterator's
    /// items, by index.
    fn loop_source(&mut self, f: &ExprForLoop) -> Option<(NodeId, NodeId, Option<Item>)> {
        let mut range_expr = &*f.expr;
        while let Expr::Paren(p) = range_expr {
            range_expr = &p.expr;
        }
        if matches!(range_expr, Expr::Range(_)) {
            let (lo, hi) = self.range(&f.expr)?;
            return Some((lo, hi, None));
        }
        let (lo, hi, item) = self.source(&f.expr)?;
        Some((lo, hi, Some(item)))
    }

    /// `for i in a..b { body }` as a statement.
    pub(super) fn for_loop(&mut self, f: &ExprForLoop) {
        if self.labelled(f.label.as_ref()) {
            return;
        }
        let Some((lo, hi, item)) = self.loop_source(f) else {
            return;
        };
        // `if c { stop = i; break; }`: the integers the exit assigns, set after the loop.
        let found = self.found_at_exit(f);
        let f = found.as_ref().map_or(f, |(g, _)| g);
        self.record_evaluated(&[lo, hi]);
        let end = hi;
        let Some((hi, exit, body)) = self.until_exit(f, (lo, hi), item.as_ref()) else {
            return;
        };
        let Some(v) = self.new_loop(lo, hi, f.for_token) else {
            return;
        };
        let index = self.g.add(Op::LoopVar(v));
        // Integer counters (`count += 1`): their steps are read before the loop's variables are
        // replaced, and their values in each iteration are computed from the index.
        let counters = self.counters(f, lo, hi, index, exit);
        let (written_at, flip) = self.written_index(f, item.as_ref(), index, (lo, end));
        let index_pat = self.index_pattern(&f.pat, item.as_ref(), index, written_at);
        self.declare_loop_scans(&body, (&f.pat, index_pat), item.is_none(), (lo, end), flip);
        let outer = self.carry_outer_floats(v, self.g.loops_of(index));
        for c in &counters {
            if let Some(o) = outer
                .iter()
                .find(|o| self.state.scopes[o.0][o.1].0 == c.name)
            {
                self.state.scopes[o.0][o.1].1 = Binding::Value(c.at_start);
            }
        }
        let arrays = self.carry_arrays(v, &body, &f.body, &f.pat);
        let pat = (index_pat, &*f.expr);
        self.enter_array_loop(v, (index, written_at, lo, hi), flip, &body, pat);
        self.open_scans();
        self.own_carried_arrays(&arrays);
        self.state.scopes.push(Vec::new());
        self.declare_written_elements();
        match (&*f.pat, &item) {
            (pat, Some(item)) => {
                let _ = self.bind_item(pat, item, index);
            }
            (Pat::Ident(p), None) => self.declare(p.ident.to_string(), Binding::Value(index)),
            (Pat::Wild(_), None) => {}
            (other, None) => self.cx.error_spanned_by(
                other,
                msg(
                    "a `for` loop over a range binds one index",
                    "write `for i in 0..n`",
                ),
            ),
        }
        self.enclosing.push(Enclosing::Loop);
        self.loop_stack.push(v);
        // `if c { …; continue; }`: the rest of the body goes under `else`.
        match without_continue(&body) {
            Some(stmts) => {
                let _ = self.stmts(&stmts, Want::Any);
            }
            None => {
                let _ = self.stmts(&body, Want::Any);
            }
        }
        self.loop_stack.pop();
        self.enclosing.pop();
        self.close_written_elements();
        self.state.scopes.pop();
        // After the loop, a counter has grown by its step once per iteration.
        let mut after_loop = Vec::new();
        for c in &counters {
            if let Some(o) = outer
                .iter()
                .find(|o| self.state.scopes[o.0][o.1].0 == c.name)
            {
                self.state.scopes[o.0][o.1].1 = o.2;
                after_loop.push((o.0, o.1, c.after_loop));
            }
        }
        let (unchanged, changed) = self.carried_split_with(&outer, &arrays);
        self.finish_carried(v, &outer, &arrays, f.for_token.span);
        self.leave_array_loop(&unchanged, &changed, f.for_token.span);
        for (s, e, value) in after_loop {
            self.state.scopes[s][e].1 = Binding::Value(value);
        }
        if let (Some((_, found)), Some((_, stop))) = (&found, exit) {
            self.assign_found(f, item.as_ref(), (stop, end), found);
        }
    }

    /// `if c { …; break; }` in loop `f` over `lo..hi`: the loop runs up to the first iteration
    /// where `c` holds, that one included, and the rest of the body is under `else` (as for
    /// `continue`). The end of the range the loop runs, where it stops and the position of the
    /// exit, and the body to lower; `None` where the exit was reported.
    #[allow(clippy::type_complexity)] // the three parts the caller lowers with
    fn until_exit(
        &mut self,
        f: &ExprForLoop,
        (lo, hi): (NodeId, NodeId),
        item: Option<&Item>,
    ) -> Option<(NodeId, Option<(usize, NodeId)>, Vec<syn::Stmt>)> {
        let Some(at) = exit_stmt(&f.body.stmts) else {
            return Some((hi, None, f.body.stmts.clone()));
        };
        let stop = self.loop_exit(f, at, lo, hi, item)?;
        if exits_first(&f.body.stmts, at) {
            // The iteration that breaks does nothing: the loop ends before it, and the
            // condition is false in every iteration it runs.
            let mut body = f.body.stmts.clone();
            body.remove(at);
            return Some((stop, Some((at, stop)), body));
        }
        let broke = self.g.compare(Cmp::Lt, stop, hi);
        let one = self.g.int(1);
        let past = self.g.int_bin(IntOp::Add, stop, one);
        let end = self.g.select(broke, past, hi);
        Some((end, Some((at, stop)), break_as_continue(&f.body.stmts, at)))
    }

    /// Reports a loop's label, if it has one.
    fn labelled(&self, label: Option<&syn::Label>) -> bool {
        if let Some(label) = label {
            self.cx.error_spanned_by(
                label,
                msg("loop labels are not supported", "remove the label"),
            );
        }
        label.is_some()
    }

    /// The loop `f` without the assignments of its exit (`if c { stop = i; break; }`) to an
    /// integer or condition declared before it (`stop`, `found = true`), and those assignments:
    /// each assigned nowhere else in the loop, its value an expression of integers and
    /// conditions (no element, method or call) reading nothing the loop declares or assigns (the
    /// loop's item, and what comes from before the loop). `None` where there is none.
    fn found_at_exit(&self, f: &ExprForLoop) -> Option<(ExprForLoop, Vec<(String, Expr)>)> {
        let at = exit_stmt(&f.body.stmts)?;
        let syn::Stmt::Expr(Expr::If(ifx), _) = &f.body.stmts[at] else {
            return None;
        };
        let (stop, before) = ifx.then_branch.stmts.split_last()?;
        let assigned = assigned_names(&f.body);
        let lets = let_names(&f.body);
        let mut declared = lets.clone();
        declared.extend(assigned.iter().cloned());
        let mut found = Vec::new();
        let mut kept = Vec::new();
        for stmt in before {
            if let syn::Stmt::Expr(Expr::Assign(a), Some(_)) = stmt
                && let Expr::Path(p) = &*a.left
                && let Some(id) = p.path.get_ident()
                && let name = id.to_string()
                && matches!(self.lookup(&name), Some(Binding::Value(n)) if matches!(self.g.kind(n), Kind::Int | Kind::Bool))
                && assigned.iter().filter(|m| **m == name).count() == 1
                && !lets.contains(&name)
                && !mentions_any(&a.right, &declared)
                && plain_integers(&a.right)
            {
                found.push((name, (*a.right).clone()));
            } else {
                kept.push(stmt.clone());
            }
        }
        if found.is_empty() {
            return None;
        }
        kept.push(stop.clone());
        let mut g = f.clone();
        if let syn::Stmt::Expr(Expr::If(ifx), _) = &mut g.body.stmts[at] {
            ifx.then_branch.stmts = kept;
        }
        Some((g, found))
    }

    /// After loop `f` over `..end`, whose exit stopped it at `stop` (`end` where it did not
    /// break): each integer or condition its exit assigned (`found`, see `found_at_exit`) is its
    /// value at the iteration that broke, the loop's item bound to `stop`'s, or its value before
    /// the loop where none did.
    fn assign_found(
        &mut self,
        f: &ExprForLoop,
        item: Option<&Item>,
        (stop, end): (NodeId, NodeId),
        found: &[(String, Expr)],
    ) {
        self.state.scopes.push(Vec::new());
        match (&*f.pat, item) {
            (pat, Some(item)) => {
                let _ = self.bind_item(pat, item, stop);
            }
            (Pat::Ident(p), None) => self.declare(p.ident.to_string(), Binding::Value(stop)),
            _ => {}
        }
        let values: Vec<Option<NodeId>> =
            found.iter().map(|(_, e)| self.expr(e, Want::Any)).collect();
        self.state.scopes.pop();
        let broke = self.g.compare(Cmp::Lt, stop, end);
        for ((name, _), value) in found.iter().zip(values) {
            if let (Some(value), Some(Binding::Value(before))) = (value, self.lookup(name)) {
                let after = self.g.select(broke, value, before);
                self.assign_name(name, after);
            }
        }
    }

    /// A scan (`z[i] = z[i - 1] * w[i];`, or reversed `g[t] = r[t] + γ·g[t + 1];` in
    /// `for t in (a..b).rev()`) in the loop body `body`: its hidden float, carried like the
    /// others. Over a range (`ranged`), reversed (`flip`), or at `enumerate`'s count where it is
    /// the index written (`index_pat` the count's name, from the loop's pattern `pat`: `for (i,
    /// v) in x.iter().enumerate().skip(1)`, or `.enumerate().rev()`, whose elements end at the
    /// number of items, `flip`).
    fn declare_loop_scans(
        &mut self,
        body: &[syn::Stmt],
        (pat, index_pat): (&Pat, &Pat),
        ranged: bool,
        (lo, end): (NodeId, NodeId),
        flip: Option<NodeId>,
    ) {
        let counted = matches!(index_pat, Pat::Ident(_)) && !matches!(pat, Pat::Ident(_));
        if ranged || flip.is_some() || counted {
            self.declare_scans(body, index_pat, (lo, flip.unwrap_or(end)), flip.is_some());
        }
    }

    /// The part of the loop's pattern that names the index the body writes its arrays at:
    /// the whole pattern (`for c in …`), or `enumerate`'s count where it is that index
    /// (`for (c, v) in x.iter().enumerate()`, also reversed), so that `z[c] += e` there
    /// updates the element rather than adding into the array.
    fn index_pattern<'p>(
        &mut self,
        pat: &'p Pat,
        item: Option<&Item>,
        index: NodeId,
        written_at: NodeId,
    ) -> &'p Pat {
        let (Pat::Tuple(t), Some(Item::Pair(count, _))) = (pat, item) else {
            return pat;
        };
        let (Some(first @ Pat::Ident(_)), Item::Index(pos)) = (t.elems.first(), &**count) else {
            return pat;
        };
        if pos.build(&mut self.g, index) == written_at {
            first
        } else {
            pat
        }
    }

    /// The index at which the body of `f` writes its arrays element by element: the loop's own
    /// `index`, or, for `for j in (a..b).rev()`, its item `j`, `a + (b − (k + 1))` in iteration
    /// `k`, with `b` (`end`), where the elements written end: the iterations write every index
    /// of `a..b` once, from the last (up to a `break`), the elements `for j in a..b` writes in
    /// the opposite order (see `leave_array_loop`); for `for (j, v) in ….enumerate().rev()`,
    /// its count `j`, with the number of items.
    fn written_index(
        &mut self,
        f: &ExprForLoop,
        item: Option<&Item>,
        index: NodeId,
        (lo, end): (NodeId, NodeId),
    ) -> (NodeId, Option<NodeId>) {
        let reversed = |of: &dyn Fn(&Expr) -> bool| {
            matches!(strip_parens(&f.expr), Expr::MethodCall(m) if m.method == "rev"
                && m.args.is_empty()
                && of(strip_parens(&m.receiver)))
        };
        let reversed_range = reversed(&|e| matches!(e, Expr::Range(_)));
        let reversed_count = reversed(
            &|e| matches!(e, Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty()),
        );
        match item {
            Some(Item::Index(pos)) if reversed_range => (pos.build(&mut self.g, index), Some(end)),
            // `for (j, v) in x.iter().enumerate().rev()`: `j` counts the items `0..end − lo`
            // from the last (`max(end, lo) − lo`: none where the range is empty).
            Some(Item::Pair(count, _)) if reversed_count => {
                let Item::Index(pos) = &**count else {
                    return (index, None);
                };
                let at = pos.build(&mut self.g, index);
                let below = self.g.compare(Cmp::Lt, end, lo);
                let top = self.g.select(below, lo, end);
                (at, Some(self.g.int_bin(IntOp::Sub, top, lo)))
            }
            _ => (index, None),
        }
    }

    /// Whether the `break` condition `cond` of loop `f` at statement `at` (and the `lets`
    /// before it that it reads) reads the arrays the loop writes only as they were before the
    /// loop ([`written_before_read`], [`reads_written_array`]); reported otherwise.
    fn exit_reads_allowed(
        &self,
        f: &ExprForLoop,
        at: usize,
        cond: &Expr,
        lets: &[(usize, syn::Stmt)],
    ) -> bool {
        if let Some(name) = written_before_read(&f.body.stmts[..at], cond, lets) {
            self.cx.error_spanned_by(
                cond,
                msg(
                    format!("this `break` reads `{name}`, which the loop writes before it"),
                    format!("test the value the loop writes instead, computed from the data and not from elements of `{name}` earlier iterations wrote: `let e = …; {name}[i] = e; if e > … {{ break; }}`, or test the condition before the write"),
                ),
            );
            return false;
        }
        let index = match &*f.pat {
            Pat::Ident(p) => Some(p.ident.to_string()),
            Pat::Tuple(t) => match t.elems.first() {
                Some(Pat::Ident(p)) => Some(p.ident.to_string()),
                _ => None,
            },
            _ => None,
        };
        if let Some(name) = reads_written_array(&f.body.stmts, cond, lets, index.as_deref()) {
            self.cx.error_spanned_by(
                cond,
                msg(
                    format!("this `break` reads `{name}`, whose elements the loop writes"),
                    format!("a loop may end where a condition on its index, the data, the parameters and the values computed before the loop holds, and on `{name}[i]` before the loop writes it; a condition on elements earlier iterations wrote (`{name}[i - 1]`) cannot be differentiated yet: test the data they are computed from, or loop over the whole range without `break`"),
                ),
            );
            return false;
        }
        true
    }

    /// Where `for v in lo..hi { …; if c { …; break; } … }` breaks: the first index at which `c`
    /// holds, or `hi` ([`Op::Until`]). `c` is read in a loop of its own before the loop, so it
    /// may read the loop's item, the `let`s before it, counters, parameters and what the
    /// function computed before the loop, but nothing else the loop changes.
    pub(super) fn loop_exit(
        &mut self,
        f: &ExprForLoop,
        at: usize,
        lo: NodeId,
        hi: NodeId,
        item: Option<&Item>,
    ) -> Option<NodeId> {
        let syn::Stmt::Expr(Expr::If(exit), _) = &f.body.stmts[at] else {
            return None;
        };
        // The `let`s before the exit that its condition reads, and the names it reads.
        let mut names = mentioned_names(&exit.cond);
        let mut lets = Vec::new();
        for (p, stmt) in f.body.stmts[..at].iter().enumerate().rev() {
            if let syn::Stmt::Local(l) = stmt
                && pattern_names(&l.pat).iter().any(|n| names.contains(n))
            {
                if let Some(init) = &l.init {
                    names.extend(mentioned_names(&init.expr));
                }
                lets.push((p, stmt.clone()));
            }
        }
        lets.reverse();
        if !self.exit_reads_allowed(f, at, &exit.cond, &lets) {
            return None;
        }
        // The condition, in a loop of its own, with the counters' values in each iteration.
        let v = self.new_loop(lo, hi, f.for_token)?;
        let index = self.g.add(Op::LoopVar(v));
        let counters = self.counters(f, lo, hi, index, Some((at, hi)));
        let mut declared = let_names(&f.body);
        declared.extend(counters.iter().map(|c| c.name.clone()));
        let changed = assigned_names(&f.body)
            .into_iter()
            .find(|n| names.contains(n) && !declared.contains(n));
        if let Some(name) = changed {
            self.cx.error_spanned_by(
                &exit.cond,
                msg(
                    format!("this `break` depends on `{name}`, which the loop changes"),
                    "a loop may end at the first iteration where a condition on its index, the data, the parameters and the values computed before the loop holds (`if y[i] < 0.0 { break; }`); compute the condition from those, or loop over the range you need",
                ),
            );
            return None;
        }
        // Errors in the condition are reported from here, and the body is not lowered (it would
        // report them again).
        let reported = self.cx.error_count();
        self.state.scopes.push(Vec::new());
        for c in &counters {
            self.declare(c.name.clone(), Binding::Value(c.at_start));
        }
        match (&*f.pat, item) {
            (pat, Some(item)) => {
                let _ = self.bind_item(pat, item, index);
            }
            (Pat::Ident(p), None) => self.declare(p.ident.to_string(), Binding::Value(index)),
            _ => {}
        }
        self.enclosing.push(Enclosing::Loop);
        self.loop_stack.push(v);
        // The `let`s in order, each reading a counter as it is at its place: stepped once its
        // step is behind (`let t = x[k]; k += 1; if t > … && k >= 2 { break; }`).
        for p in 0..at {
            if let Some((_, stmt)) = lets.iter().find(|(q, _)| *q == p) {
                let _ = self.stmts(std::slice::from_ref(stmt), Want::Any);
            }
            for c in counters.iter().filter(|c| c.at == p) {
                self.declare(c.name.clone(), Binding::Value(c.stepped));
            }
        }
        let cond = self.expr(&exit.cond, Want::Bool);
        self.loop_stack.pop();
        self.enclosing.pop();
        self.state.scopes.pop();
        if self.cx.error_count() > reported {
            return None;
        }
        let Some(cond) = cond else {
            self.cx.error_spanned_by(
                &exit.cond,
                "internal error: this condition was not lowered and reported nothing",
            );
            return None;
        };
        // A float from outside the loops reads an outer loop's placeholder: the outer loop puts
        // its value in the bounds once its body is done (`finish_carried`), or reports a value
        // it changes.
        let until = self.g.add(Op::Until { v, lo, hi, cond });
        self.until_conds.insert(until, exit.cond.to_token_stream());
        Some(until)
    }

    /// After the body of loop `v`: the bounds of the loops written in it read `v`'s
    /// placeholders where a `break` condition reads a float from outside
    /// (`if a * (k as f64) > 1.0 { break; }`); each becomes the value it stands for, the one
    /// before the loop (`unchanged`: the placeholders of what the loop does not assign). A
    /// float the loop changes has no such value: reported at the condition.
    fn settle_inner_bounds(
        &mut self,
        v: u32,
        unchanged: &HashMap<NodeId, NodeId>,
        changed: &[NodeId],
        span: Span,
    ) -> bool {
        let mut reported = false;
        for w in 0..self.g.loop_count() {
            if self.g.loop_nest(w) & (1 << v) == 0 {
                continue;
            }
            let Some((lo, hi)) = self.g.loop_bounds(w) else {
                continue;
            };
            let (lo, hi) = (
                self.g.substitute(lo, unchanged),
                self.g.substitute(hi, unchanged),
            );
            self.g.set_loop_bounds(w, lo, hi);
            let reads_changed = changed
                .iter()
                .any(|p| self.g.mentions(lo, *p) || self.g.mentions(hi, *p));
            if reads_changed {
                reported = true;
                let at = self
                    .g
                    .reachable(&[hi])
                    .into_iter()
                    .find_map(|n| self.until_conds.get(&n).cloned())
                    .unwrap_or_else(|| quote::quote_spanned!(span=> for));
                self.cx.error_spanned_by(
                    at,
                    msg(
                        "a `break` in a loop nested in another cannot depend on a float the outer loop changes yet",
                        "compute the condition from the loop indices, the data, the parameters and the values computed before the outer loop, or move the inner loop into a `#[differentiable]` function of its own",
                    ),
                );
            }
        }
        reported
    }

    /// The integer locals of the enclosing scopes that the loop body `f` updates exactly once,
    /// unconditionally, at its top level, by a step that does not change in the loop
    /// (`count += 1`, `k -= d`, `at = at + 2`): their value at the start of the iteration of
    /// index `index` is `before ± step · (index − lo)`, after the loop `before ± step · count`.
    /// Any other update of an integer stays an error (`finish_carried`).
    ///
    /// `exit` is the position of the body's `if c { …; break; }` and the index it breaks at
    /// (`hi` is then one past it): an update after it misses that last iteration only.
    pub(super) fn counters(
        &mut self,
        f: &ExprForLoop,
        lo: NodeId,
        hi: NodeId,
        index: NodeId,
        exit: Option<(usize, NodeId)>,
    ) -> Vec<Counter> {
        let assigned = assigned_names(&f.body);
        let mut declared = pattern_names(&f.pat);
        declared.extend(let_names(&f.body));
        let mut bound = assigned.clone();
        bound.extend(declared.iter().cloned());
        let mut out = Vec::new();
        // After an `if c { continue; }` (or a `break` other than the exit), the rest of the body
        // runs only in some iterations: an update there is not once per iteration.
        let exit_at = exit.map(|(at, _)| at);
        let every_iteration = f
            .body
            .stmts
            .iter()
            .enumerate()
            .filter(|(p, _)| Some(*p) != exit_at)
            .take_while(|(_, s)| !has_continue_stmt(s) && !has_break_stmt(s));
        for (p, stmt) in every_iteration {
            let syn::Stmt::Expr(e, _) = stmt else {
                continue;
            };
            // `k += 1`, or a nest of loops stepping it once an iteration of the innermost.
            let updates = match counter_update(e) {
                Some(u) => vec![(u, Vec::new())],
                None => nested_counters(e),
            };
            'updates: for ((name, step, negative), nest) in updates {
                // Updated once in the whole body; the step (and the bounds of the loops it is
                // stepped in) reads nothing the loop changes.
                // (A name the body declares is another variable, shadowing this one.)
                let times = assigned.iter().filter(|n| **n == name).count();
                if times != 1
                    || declared.contains(&name)
                    || mentions_any(step, &bound)
                    || nest.iter().any(|r| mentions_any(r, &bound))
                {
                    continue;
                }
                let Some(Binding::Value(before)) = self.lookup(&name) else {
                    continue;
                };
                if self.g.kind(before) != Kind::Int {
                    continue;
                }
                let Some(step) = self.expr(step, Want::Int) else {
                    continue;
                };
                if self.g.kind(step) != Kind::Int {
                    continue;
                }
                // In a nest: the step times the iterations of each loop of the nest.
                let mut step = step;
                for range in nest {
                    let Some((lo, hi)) = self.range(range) else {
                        continue 'updates;
                    };
                    let nonempty = self.g.compare(Cmp::Gt, hi, lo);
                    let len = self.g.int_bin(IntOp::Sub, hi, lo);
                    let zero = self.g.int(0);
                    let count = self.g.select(nonempty, len, zero);
                    step = self.g.int_bin(IntOp::Mul, step, count);
                }
                let op = if negative { IntOp::Sub } else { IntOp::Add };
                let done = if matches!(self.g.op(lo), Op::IntConst(0)) {
                    index
                } else {
                    self.g.int_bin(IntOp::Sub, index, lo)
                };
                let moved = self.g.int_bin(IntOp::Mul, step, done);
                let at_start = self.g.int_bin(op, before, moved);
                // Stepped in every iteration, or (after the exit) in all but the one that breaks.
                let last = match exit {
                    Some((at, stop)) if p > at => stop,
                    _ => hi,
                };
                let nonempty = self.g.compare(Cmp::Gt, last, lo);
                let len = self.g.int_bin(IntOp::Sub, last, lo);
                let zero = self.g.int(0);
                let count = self.g.select(nonempty, len, zero);
                let total = self.g.int_bin(IntOp::Mul, step, count);
                let after_loop = self.g.int_bin(op, before, total);
                let stepped = self.g.int_bin(op, at_start, step);
                out.push(Counter {
                    name,
                    at_start,
                    stepped,
                    at: p,
                    after_loop,
                });
            }
        }
        out
    }

    /// `while i < n { …; i += k; }`: a `for` loop over the number of iterations the counter
    /// decides, `⌈(n − i) / k⌉` (none when `i ≥ n`), in which `i` is a counter (see `counters`).
    /// `<=`, and counting down with `>`, `>=` and `-=`, the same way.
    pub(super) fn while_loop(&mut self, w: &syn::ExprWhile) {
        let help = "a `while` loop is differentiated when an integer counter decides it: `while i < n { …; i += 1; }`, the counter stepped once, at the top level of the body, by an amount fixed in the loop, and `n` fixed in the loop (count down with `>` and `-=`); otherwise loop over a range: `for i in 0..n`";
        if w.label.is_some() {
            self.cx.error_spanned_by(
                w.label.as_ref().map(ToTokens::to_token_stream),
                msg("loop labels are not supported", "remove the label"),
            );
            return;
        }
        let counted = while_count(w).filter(|(name, _)| {
            matches!(self.lookup(name), Some(Binding::Value(n)) if self.g.kind(n) == Kind::Int)
        });
        let Some((_, count)) = counted else {
            self.cx.error_spanned_by(
                &w.cond,
                msg("this `while` condition cannot be differentiated", help),
            );
            return;
        };
        let var = syn::Ident::new("__symgrad_while", Span::mixed_site());
        let body = &w.body;
        let desugared: ExprForLoop = syn::parse_quote_spanned! {w.while_token.span=>
            for #var in 0..#count #body
        };
        self.for_loop(&desugared);
    }

    /// `loop { …; i += k; if i >= n { break; } }`: the body runs once, then again while the
    /// counter has not reached `n`, a `for` loop over `max(1, ⌈(n − i) / k⌉)` iterations (`>`,
    /// `==`, and counting down the same way).
    pub(super) fn loop_loop(&mut self, l: &syn::ExprLoop) {
        let help = "a `loop` is differentiated when it ends with `if i >= n { break; }` on an integer counter the body steps once, at its top level, by an amount fixed in the loop (`i += 1`), with `n` fixed in the loop; otherwise loop over a range: `for i in 0..n`";
        let counted = loop_count(l).filter(|(name, _, _)| {
            matches!(self.lookup(name), Some(Binding::Value(n)) if self.g.kind(n) == Kind::Int)
        });
        let Some((_, count, body)) = counted else {
            self.cx.error_spanned_by(
                l.loop_token,
                msg("this `loop` cannot be differentiated", help),
            );
            return;
        };
        let var = syn::Ident::new("__symgrad_loop", Span::mixed_site());
        let desugared: ExprForLoop = syn::parse_quote_spanned! {l.loop_token.span=>
            for #var in 0..#count { #(#body)* }
        };
        self.for_loop(&desugared);
    }

    /// `lo..hi` or `lo..=hi` (integers).
    pub(super) fn range(&mut self, e: &Expr) -> Option<(NodeId, NodeId)> {
        match e {
            Expr::Paren(p) => self.range(&p.expr),
            Expr::Range(r) => {
                let lo = match &r.start {
                    Some(s) => self.expr(s, Want::Int)?,
                    None => self.g.int(0),
                };
                let Some(end) = &r.end else {
                    self.cx.error_spanned_by(
                        r,
                        msg(
                            "a loop over an unbounded range cannot be differentiated",
                            "give the range an end: `0..n`",
                        ),
                    );
                    return None;
                };
                let mut hi = self.expr(end, Want::Int)?;
                if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                    let one = self.g.int(1);
                    hi = self.g.int_bin(IntOp::Add, hi, one);
                }
                Some((lo, hi))
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "a `for` loop must run over a range of indices to be differentiated",
                        "write `for i in 0..x.len() { … x[i] … }`, or an iterator sum: `x.iter().map(|a| …).sum::<f64>()`",
                    ),
                );
                None
            }
        }
    }

    /// Replaces every float variable in scope by its value at the start of an iteration of loop
    /// `v` (a placeholder: a provisional `Carry`, varying with the loops of `mask`, the loop's
    /// index's); returns `(scope, entry, before, placeholder)`.
    pub(super) fn carry_outer_floats(
        &mut self,
        v: u32,
        mask: LoopMask,
    ) -> Vec<(usize, usize, Binding, NodeId)> {
        let mut carried = Vec::new();
        for s in 0..self.state.scopes.len() {
            for e in 0..self.state.scopes[s].len() {
                let b = self.state.scopes[s][e].1;
                let is_float = matches!(b, Binding::Value(n) if self.g.kind(n) == Kind::Float);
                let is_int_or_bool = matches!(b, Binding::Value(n) if matches!(self.g.kind(n), Kind::Int | Kind::Bool));
                if is_float || matches!(b, Binding::Uninit) {
                    // Numbered across the whole function: nested loops need distinct placeholders.
                    let placeholder = self.g.provisional_carry(v, mask);
                    carried.push((s, e, b, placeholder));
                    // A vector-valued call's outputs stay readable in the loop (`r[0]`).
                    if let Binding::Value(n) = b
                        && (matches!(self.g.op(n), Op::Call(..)) || self.g.is_provisional(n))
                    {
                        self.carried_calls.insert(placeholder, n);
                    }
                    self.state.scopes[s][e].1 = Binding::Value(placeholder);
                } else if is_int_or_bool {
                    // Integers and conditions are not carried: remember them to detect assignments.
                    carried.push((s, e, b, NodeId(u32::MAX)));
                }
            }
        }
        carried
    }

    /// Reports a loop assigning the integer or condition `name` other than by a counter's step
    /// (an accumulator of a fold to a tuple, `tuple_folds`, as the fold).
    fn assigned_integer(&self, span: Span, name: &str) {
        if name.starts_with(super::tuple_folds::PREFIX) {
            let (error, help) = super::tuple_folds::COUNTED;
            self.cx.error_at(span, msg(error, help));
            return;
        }
        self.cx.error_at(
            span,
            msg(
                format!("the loop assigns the integer or condition `{name}`"),
                "an integer may step by the same amount in every iteration (`count += 1` at the top level of the loop body, or of plain `for j in lo..hi` loops nested in it whose bounds this loop does not change, not `step_by`, `rev`, `zip`, `windows`, `skip`/`take` or `while` ones; not under `if` nor after an `if … { continue; }`); otherwise compute it from the loop indices (`i * m + j`; under `for j in 0..i`, `(i * i - i) / 2 + j`), or count with a float (`let mut count = 0.0; … count += 1.0;`)",
            ),
        );
    }

    /// After the body of loop `v`: each carried variable is its value before, plus the loop's
    /// sum of what the body added to it.
    pub(super) fn finish_carried(
        &mut self,
        v: u32,
        outer: &[(usize, usize, Binding, NodeId)],
        arrays: &[CarriedArray],
        span: Span,
    ) {
        let mut restore: HashMap<NodeId, NodeId> = HashMap::new();
        let mut updates = Vec::new();
        // Arrays carried across the iterations: members of the loop's coupled state.
        let array_members = self.carried_members(arrays, &mut restore, span);
        for &(s, e, before, placeholder) in outer {
            let after = self.state.scopes[s][e].1;
            let name = self.state.scopes[s][e].0.clone();
            if self.read_calls.contains(&placeholder) && after != Binding::Value(placeholder) {
                self.cx.error_at(
                    span,
                    msg(
                        format!("the loop reads the outputs of `{name}` and assigns `{name}`"),
                        format!("bind the outputs to names of their own before the loop (`let [{name}0, {name}1] = f(…);`), and assign other variables"),
                    ),
                );
            }
            if placeholder == NodeId(u32::MAX) {
                if after != before {
                    self.assigned_integer(span, &name);
                    self.state.scopes[s][e].1 = before;
                }
                continue;
            }
            let before_node = match before {
                Binding::Value(n) => n,
                Binding::Uninit => self.g.zero(),
            };
            restore.insert(placeholder, before_node);
            if after != Binding::Value(placeholder) {
                updates.push((s, e, name, before, before_node, placeholder, after));
            }
        }
        self.fold_read_scans(v, &mut updates, (&restore, &array_members), span);
        let assigned: Vec<NodeId> = updates.iter().map(|u| u.5).collect();
        let unchanged: HashMap<NodeId, NodeId> = restore
            .iter()
            .filter(|(p, _)| !assigned.contains(p))
            .map(|(p, b)| (*p, *b))
            .collect();
        // Reported there, not again as a variable reading another through those bounds.
        let settled = self.settle_inner_bounds(v, &unchanged, &assigned, span);
        // Variables whose updates read each other's are one coupled recurrence.
        let members: Vec<Member> = array_members
            .into_iter()
            .chain(updates.iter().filter_map(|u| match u.6 {
                Binding::Value(after) => Some(Member {
                    scope: (u.0, u.1),
                    placeholder: u.5,
                    init: u.4,
                    after,
                }),
                Binding::Uninit => None,
            }))
            .collect();
        let groups = if settled {
            Vec::new()
        } else {
            self.coupled_groups(&members)
        };
        for group in &groups {
            self.at(span, |l| l.coupled(v, group, &restore));
        }
        for (s, e, _, _, before_node, placeholder, after) in updates {
            let Binding::Value(after) = after else {
                continue;
            };
            if groups
                .iter()
                .flatten()
                .any(|m| m.placeholder == placeholder)
            {
                continue;
            }
            // An accumulation `name += Δ` becomes a sum; any other update, a recurrence. (A
            // scan's previous element is a recurrence whatever its update: the array is its
            // values, `Op::Scanned`.)
            let scan = super::buffers::is_previous_name(&self.state.scopes[s][e].0);
            let delta = if scan {
                None
            } else {
                self.increment(after, placeholder)
            };
            let value = match delta {
                Some(delta) => {
                    let delta = self.g.substitute(delta, &restore);
                    let total = self.g.loop_sum(v, delta);
                    self.g.plus(before_node, total)
                }
                None => self.at(span, |l| {
                    l.recurrence(v, before_node, after, placeholder, &restore)
                }),
            };
            self.state.scopes[s][e].1 = Binding::Value(value);
        }
        self.restore_read_only(outer);
    }

    /// After the body: the variables the loop only read get their values back.
    fn restore_read_only(&mut self, outer: &[(usize, usize, Binding, NodeId)]) {
        for &(s, e, before, placeholder) in outer {
            if placeholder != NodeId(u32::MAX)
                && self.state.scopes[s][e].1 == Binding::Value(placeholder)
            {
                self.state.scopes[s][e].1 = before;
            }
        }
    }

    /// Before the other updates of loop `v` are resolved: each scan of the loop whose hidden
    /// float's update reads no other variable the loop changes, and that another update (`acc
    /// += z[i] * x[i];`, `acc += z[i - 1]`, another scan's `y[i] = y[i - 1] + z[i];`) or
    /// another array's elements read, is folded first (removed from `updates`), and the others
    /// read its values: the element the previous iteration wrote and the one this iteration
    /// wrote (`Lower::scan_values`), not the float it carries, so that they are sums or
    /// recurrences of their own rather than coupled to it. So is a float whose update reads no
    /// other variable the loop changes and that a scan's update reads (`p = p * a + x[i];
    /// z[i] = z[i - 1] * x[i] + p;`): a recurrence whose values the scan reads.
    fn fold_read_scans(
        &mut self,
        v: u32,
        updates: &mut Vec<Update>,
        (restore, arrays): (&HashMap<NodeId, NodeId>, &[Member]),
        span: Span,
    ) {
        loop {
            let placeholders: Vec<NodeId> = updates
                .iter()
                .map(|u| u.5)
                .chain(arrays.iter().map(|m| m.placeholder))
                .collect();
            let read_by_others = |l: &Self, u: &Update| {
                updates
                    .iter()
                    .any(|o| o.5 != u.5 && matches!(o.6, Binding::Value(a) if l.g.mentions(a, u.5)))
                    || l.scan_read_by_elements(v, &u.2, u.5)
            };
            let pick = updates.iter().position(|u| {
                let Binding::Value(after) = u.6 else {
                    return false;
                };
                // A float a scan's update reads (`p = p * a + x[i]; z[i] = z[i - 1] + p;`) is
                // folded the same way, its values read by the scan.
                let read_by_scan = || {
                    updates.iter().any(|o| {
                        o.5 != u.5
                            && self.is_scan_of(v, &o.2)
                            && matches!(o.6, Binding::Value(a) if self.g.mentions(a, u.5))
                    })
                };
                // So is one the elements another array of the loop writes read (`last = delta +
                // c * last; adv[t] = last;`): they are its values, a scan's elements.
                let folded = if self.is_scan_of(v, &u.2) {
                    read_by_others(self, u)
                } else {
                    read_by_scan() || self.scan_read_by_elements(v, &u.2, u.5)
                };
                folded
                    && !placeholders
                        .iter()
                        .any(|&p| p != u.5 && self.g.mentions(after, p))
                    && !arrays.iter().any(|m| self.g.mentions(m.after, u.5))
            });
            let Some(k) = pick else {
                return;
            };
            let (s, e, _, _, before_node, placeholder, after) = updates.remove(k);
            let Binding::Value(after) = after else {
                return;
            };
            let fold = self.at(span, |l| {
                l.recurrence(v, before_node, after, placeholder, restore)
            });
            self.state.scopes[s][e].1 = Binding::Value(fold);
            let Some(map) = self.scan_values(fold, (placeholder, after), span) else {
                return;
            };
            for o in updates.iter_mut() {
                if let Binding::Value(a) = o.6 {
                    o.6 = Binding::Value(self.g.substitute(a, &map));
                }
            }
        }
    }

    /// The variables the loop updates that read one another (directly or through others, as
    /// `t = a + b; a = b; b = t·w` or an integrator's `x`, `v` and the loss summed along its
    /// trajectory), each group in the order of `members`; a variable that reads no other and
    /// that no other reads is in none (a sum or a recurrence of its own).
    fn coupled_groups(&self, members: &[Member]) -> Vec<Vec<Member>> {
        let n = members.len();
        // Union-find over "the update of `a` reads `b`".
        let mut root: Vec<usize> = (0..n).collect();
        for a in 0..n {
            for b in 0..n {
                if a != b && self.g.mentions(members[a].after, members[b].placeholder) {
                    let (ra, rb) = (find(&mut root, a), find(&mut root, b));
                    root[ra.max(rb)] = ra.min(rb);
                }
            }
        }
        let mut groups: Vec<Vec<Member>> = Vec::new();
        for r in 0..n {
            let group: Vec<Member> = (0..n)
                .filter(|&a| find(&mut root, a) == r)
                .map(|a| members[a])
                .collect();
            // An array carried across the iterations is coupled state even alone.
            if group.len() > 1 || group.iter().any(|m| self.g.kind(m.init) == Kind::Array) {
                groups.push(group);
            }
        }
        groups
    }

    /// The members of `group`, updated together in loop `v`, as one `Coupled` recurrence:
    /// each placeholder becomes its member's `Carry`, the other placeholders their values
    /// before the loop; each variable is bound to its member's value after the loop.
    fn coupled(&mut self, v: u32, group: &[Member], restore: &HashMap<NodeId, NodeId>) {
        let Some((lo, hi)) = self.g.loop_bounds(v) else {
            return;
        };
        let Ok(k) = u32::try_from(group.len()) else {
            return;
        };
        let c = self.g.new_recurrences(k);
        let around = group
            .iter()
            .flat_map(|m| [m.init, m.after])
            .chain([lo, hi])
            .fold(0, |mask, n| mask | self.g.loops_of(n));
        let mut map = restore.clone();
        for (j, m) in (0..k).zip(group) {
            let carry = if self.g.kind(m.init) == Kind::Array {
                let len = self.g.array_len(m.placeholder);
                self.g.array_carry(c + j, v, around | 1 << v, len)
            } else {
                self.g.add(Op::Carry {
                    c: c + j,
                    v,
                    mask: around | 1 << v,
                })
            };
            map.insert(m.placeholder, carry);
        }
        let mut parts: Vec<NodeId> = group.iter().map(|m| m.init).collect();
        for m in group {
            parts.push(self.g.substitute(m.after, &map));
        }
        self.coupled_scans(v, (c, lo, hi), &parts, group);
        let state = self.g.add(Op::Coupled {
            c,
            v,
            lo,
            hi,
            parts,
        });
        for (j, m) in (0..k).zip(group) {
            let value = self.g.add(Op::Component(state, j));
            self.state.scopes[m.scope.0][m.scope.1].1 = Binding::Value(value);
        }
    }

    /// The float members of coupled state `(c, lo, hi, parts)` of loop `v` whose values the
    /// elements another array of the loop writes read (`t = a * p + b * q + x[i]; q = p; p =
    /// t; z[i] = p;`, or a scan reading two elements back): each such member's values after
    /// each iteration are an `Op::CoupledScan`, and the elements read those, as a scan's
    /// (`Lower::scan_values`): its value this iteration where they read its update, the one
    /// before where they read its value at the start.
    fn coupled_scans(
        &mut self,
        v: u32,
        (c, lo, hi): (u32, NodeId, NodeId),
        parts: &[NodeId],
        group: &[Member],
    ) {
        // (Not yet beside an array carried across the iterations: its forward loop keeps the
        // array in a vector of its own, see `emit::coupled_arrays`.)
        if group.iter().any(|m| self.g.kind(m.init) != Kind::Float) {
            return;
        }
        let placeholders: Vec<NodeId> = group.iter().map(|m| m.placeholder).collect();
        let mut map = HashMap::new();
        for (k, m) in (0u32..).zip(group) {
            let updated = !placeholders.contains(&m.after)
                && placeholders.iter().any(|&p| self.g.mentions(m.after, p))
                && self.elements_mention(v, m.after);
            if !updated && !self.elements_mention(v, m.placeholder) {
                continue;
            }
            let scan = self.g.add(Op::CoupledScan {
                c,
                v,
                k,
                lo,
                hi,
                parts: parts.to_vec(),
            });
            let Some((previous, now)) = self.g.scan_elements(scan) else {
                continue;
            };
            map.insert(m.placeholder, previous);
            if updated {
                map.insert(m.after, now);
            }
        }
        self.note_scan_values(&map);
    }

    /// `s = init; for v { s = after(s) }` as a `Fold`: the placeholder becomes the recurrence's
    /// `Carry`, the other placeholders their values before the loop.
    pub(super) fn recurrence(
        &mut self,
        v: u32,
        init: NodeId,
        after: NodeId,
        placeholder: NodeId,
        restore: &HashMap<NodeId, NodeId>,
    ) -> NodeId {
        self.fold(v, init, after, |l, carry| {
            let mut map = restore.clone();
            map.insert(placeholder, carry);
            l.g.substitute(after, &map)
        })
    }

    /// A new recurrence over loop `v` from `init`, whose body `body(carry)` reads the running
    /// value `carry`; `shape` is what the body is built from (the loops it varies with, outside
    /// `v`, are the carry's too).
    pub(super) fn fold(
        &mut self,
        v: u32,
        init: NodeId,
        shape: NodeId,
        body: impl FnOnce(&mut Self, NodeId) -> NodeId,
    ) -> NodeId {
        let Some((lo, hi)) = self.g.loop_bounds(v) else {
            return init;
        };
        let c = self.g.new_recurrence();
        let around = [shape, init, lo, hi]
            .iter()
            .fold(0, |m, n| m | self.g.loops_of(*n));
        let carry = self.g.add(Op::Carry {
            c,
            v,
            mask: around | 1 << v,
        });
        let body = body(self, carry);
        self.g.add(Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        })
    }

    /// `Δ` such that `after = carried + Δ` and `Δ` does not read `carried`.
    pub(super) fn increment(&mut self, after: NodeId, carried: NodeId) -> Option<NodeId> {
        if after == carried {
            return Some(self.g.zero());
        }
        let mentions = |l: &Self, n: NodeId| l.g.mentions(n, carried);
        match *self.g.op(after) {
            Op::Add(a, b) if mentions(self, a) && !mentions(self, b) => {
                let d = self.increment(a, carried)?;
                Some(self.g.plus(d, b))
            }
            Op::Add(a, b) if mentions(self, b) && !mentions(self, a) => {
                let d = self.increment(b, carried)?;
                Some(self.g.plus(a, d))
            }
            Op::Sub(a, b) if mentions(self, a) && !mentions(self, b) => {
                let d = self.increment(a, carried)?;
                Some(self.g.minus(d, b))
            }
            Op::Select(c, a, b) if !mentions(self, c) => {
                let da = self.increment(a, carried)?;
                let db = self.increment(b, carried)?;
                Some(self.g.select(c, da, db))
            }
            _ => None,
        }
    }

    /// A new loop `lo..hi`, or (past the 128 a function may have) an error at `at`.
    pub(super) fn new_loop(&mut self, lo: NodeId, hi: NodeId, at: impl ToTokens) -> Option<u32> {
        let v = self.g.new_loop(lo, hi);
        if let Some(v) = v {
            let nest = self.loop_stack.iter().fold(0, |m, u| m | 1 << u);
            self.g.set_loop_nest(v, nest);
        }
        if v.is_none() {
            self.cx.error_spanned_by(
                at,
                msg(
                    "too many loops in one function (128 at most)",
                    "split the function",
                ),
            );
        }
        v
    }
}

/// `e` without the parentheses around it.
pub(super) fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        Expr::Group(g) => strip_parens(&g.expr),
        // `z.as_slice()` is `z`'s elements, as `&z` is.
        Expr::MethodCall(m) if m.method == "as_slice" && m.args.is_empty() => {
            strip_parens(&m.receiver)
        }
        other => other,
    }
}
