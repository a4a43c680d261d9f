//! Which generated functions can carry `hessian`: those the macro gives `_hvp`. A loop
//! recurrence (`p *= x[i]`, coupled state) is allowed in a loop at the top of the body: its
//! tangent is carried beside it in the same loop; not in a nested loop (a recurrence inside
//! another's loop is refused), so an assignment in a nested loop must be a sum of terms free of
//! its variable (`s += e`), conservatively. An iterator product is kept out. A differentiated
//! slice, or a run of one, may be passed to a helper (through its hidden `__hvp`), and the
//! outputs of a vector-valued helper read (through its hidden `__hvp_outputs`); local arrays
//! may not, but for arrays carried across a loop's iterations (a hidden state, written in the
//! loop over its elements in a loop at the top of the body) and scans (`z[i] = f(z[i - 1])`,
//! at the top level or a scan per row: the scan's tangent is a second scan beside it). A
//! helper it calls must be eligible itself; every eligible helper gets `hessian`
//! with it (its `__partials2` and `__hvp`, or a vector-valued one's `__hvp_outputs`: the
//! second derivatives a caller's Hessian goes through).
//!
//! Their `_hvp` is checked (`harness::driver`) against central differences of `_grad` along the
//! direction, at two steps: `(∇f(θ + h·v) − ∇f(θ − h·v)) / 2h` for `h` and `h/2`, extrapolated
//! (Richardson); a point where the two steps disagree is skipped as ill-conditioned (a branch
//! switches between the points, or the gradient is too curved there).

use crate::ast::{
    Arg, ArrayInit, AssignOp, Chain, Cond, Expr, Func, IntExpr, IterExpr, MapFn, Stmt,
};

/// Whether `f` may carry `hessian`, calling `helpers` (which then get it too).
#[must_use]
pub fn eligible(f: &Func, helpers: &[Func]) -> bool {
    helper_calls(f, helpers).is_some()
}

/// How many calls of helpers `f` makes (as written), if it may carry `hessian`.
#[must_use]
pub fn helper_calls(f: &Func, helpers: &[Func]) -> Option<usize> {
    let check = Check {
        helpers,
        calls: std::cell::Cell::new(0),
        conditions: std::cell::Cell::new(0),
        scans: std::cell::RefCell::new(Vec::new()),
    };
    (check.stmts_ok(&f.body, 0) && check.expr_ok(&f.ret)).then(|| check.calls.get())
}

/// Whether `name` is one of the arrays `gen::carried` writes (`hs3`, `cs4`, `acc5`), or
/// `gen::fills` (`tb6`, carried across the outer loop of its fill): prefixes no other part of
/// the generator gives its names.
fn carried_block_array(name: &str) -> bool {
    ["hs", "cs", "acc", "tb"]
        .iter()
        .any(|prefix| numbered(name, prefix))
}

/// Whether `name` is `prefix` followed by a number.
fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The function's helpers.
struct Check<'a> {
    helpers: &'a [Func],
    /// The calls of helpers seen.
    calls: std::cell::Cell<usize>,
    /// The `if`s around the statement being checked.
    conditions: std::cell::Cell<usize>,
    /// The arrays the innermost loop around the statement scans ([`scanned_arrays`]).
    scans: std::cell::RefCell<Vec<String>>,
}

impl Check<'_> {
    /// `depth`: the loops around the statements.
    fn stmts_ok(&self, body: &[Stmt], depth: usize) -> bool {
        body.iter().all(|s| self.stmt_ok(s, depth))
    }

    fn stmt_ok(&self, s: &Stmt, depth: usize) -> bool {
        match s {
            Stmt::Let { value, .. } | Stmt::Return(value) => self.expr_ok(value),
            Stmt::Assign { name, op, value } => {
                let sum = matches!(op, AssignOp::Add | AssignOp::Sub) && !mentions(value, name);
                (depth <= 1 || sum) && self.expr_ok(value)
            }
            Stmt::Closure { body, .. } => self.expr_ok(body),
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop(body) => {
                self.loop_ok(body, depth)
            }
            Stmt::Fold { members, body, .. } => {
                members.iter().all(|(_, init)| self.expr_ok(init)) && self.loop_ok(body, depth)
            }
            Stmt::ForIter { chain, body, .. } => Self::chain_ok(chain) && self.loop_ok(body, depth),
            Stmt::If { cond, then, els } => {
                self.conditions.set(self.conditions.get() + 1);
                let ok = self.cond_ok(cond)
                    && self.stmts_ok(then, depth)
                    && els.as_ref().is_none_or(|e| self.stmts_ok(e, depth));
                self.conditions.set(self.conditions.get() - 1);
                ok
            }
            // A call of a vector-valued helper, its outputs bound.
            Stmt::LetOutputs { call, .. } => self.expr_ok(call),
            // Local arrays built from expressions: their elements set (`=`) outside conditions,
            // at most one loop deep (an array added into, chosen by a condition, or written in a
            // loop nest, as a carried array is, has no second derivative yet).
            Stmt::NewArray { init, .. } => self.init_ok(init),
            // (Nor through pushes or `split_at`'s runs.)
            Stmt::Push { .. } | Stmt::SplitAt { .. } => false,
            // An array carried across a time loop's iterations (`gen::carried`), written in
            // the loop over its elements inside it, two loops deep (`=`, or added into itself,
            // `+=`, and an array added into beside it): its tangent is a second array carried
            // beside it. Not three deep (an outer loop around the time loop): a recurrence
            // nested in another's loop has no second derivative yet.
            Stmt::SetElem { array, value, .. } if carried_block_array(array) => {
                depth == 2 && self.conditions.get() == 0 && self.expr_ok(value)
            }
            // A scan's writes at its loop's index (`z[i] = f(z[i - 1])`, under `if` or not,
            // `=` or `+=`, a scan per row too): its tangent is a second scan beside it.
            Stmt::SetElem {
                array,
                index: IntExpr::Var(_),
                value,
                ..
            } if self.scans.borrow().contains(array) => self.expr_ok(value),
            // Any other write: set (`=`) outside conditions, one loop deep at most, not a
            // scan's (the scan is in a loop nested in the one the array is declared in).
            Stmt::SetElem {
                array,
                index,
                op,
                value,
            } => {
                matches!(op, AssignOp::Set)
                    && depth <= 1
                    && self.conditions.get() == 0
                    && !scan_write(array, index, value)
                    && self.expr_ok(value)
            }
            Stmt::LetArray { .. }
            | Stmt::LetInt { .. }
            | Stmt::SetInt { .. }
            | Stmt::Step { .. }
            | Stmt::Continue
            | Stmt::Break => true,
        }
    }

    /// The body of a loop `depth` deep, whose scans ([`scanned_arrays`]) it may write at its
    /// index in any way (not in a loop nested in it).
    fn loop_ok(&self, body: &[Stmt], depth: usize) -> bool {
        let outer = self.scans.replace(scanned_arrays(body));
        let ok = self.stmts_ok(body, depth + 1);
        self.scans.replace(outer);
        ok
    }

    fn expr_ok(&self, e: &Expr) -> bool {
        match e {
            Expr::Lit(_)
            | Expr::NegInf
            | Expr::Var(_)
            | Expr::Deref(_)
            | Expr::Index(..)
            | Expr::Cast(_) => true,
            Expr::Neg(a) => self.expr_ok(a),
            Expr::Bin(_, a, b) => self.expr_ok(a) && self.expr_ok(b),
            Expr::Method(_, recv, args) => {
                self.expr_ok(recv) && args.iter().all(|a| self.expr_ok(a))
            }
            // A helper (scalar, or vector-valued: its outputs; not `Vec`-valued, which has no
            // second derivatives) given floats, data and differentiated slices.
            Expr::Call(name, args) => {
                self.calls.set(self.calls.get() + 1);
                let helper = self.helpers.iter().find(|h| &h.name == name);
                helper.is_some_and(|h| !h.vec_return && eligible(h, &[]))
                    && args.iter().all(|a| match a {
                        Arg::Float(e) => self.expr_ok(e),
                        // A local array passed whole: its own statements are checked where
                        // they are (built from expressions, as `hessian` through a call needs).
                        Arg::Slice(_)
                        | Arg::Run { .. }
                        | Arg::LocalArray(_)
                        | Arg::LocalRun(..) => true,
                        Arg::ArrayLit(items) => items.iter().all(|e| self.expr_ok(e)),
                    })
            }
            Expr::Output(call, _) => self.expr_ok(call),
            Expr::Array(elems) => elems.iter().all(|a| self.expr_ok(a)),
            Expr::If(c, a, b) => self.cond_ok(c) && self.expr_ok(a) && self.expr_ok(b),
            Expr::Iter(it) => self.iter_ok(it),
        }
    }

    fn iter_ok(&self, it: &IterExpr) -> bool {
        !it.product
            && Self::chain_ok(&it.chain)
            && match &it.map {
                MapFn::Closure { body, .. } => self.expr_ok(body),
                MapFn::Named(_) | MapFn::Items => true,
            }
    }

    /// Chains hold indices and slices only.
    fn chain_ok(_: &Chain) -> bool {
        true
    }

    /// Whether the elements of a new array are built from expressions `hessian` goes
    /// through.
    fn init_ok(&self, init: &ArrayInit) -> bool {
        match init {
            ArrayInit::Repeat { value, .. } => self.expr_ok(value),
            ArrayInit::List(elems) => elems.iter().all(|e| self.expr_ok(e)),
            ArrayInit::Copy { .. } => true,
            // (Built element by element, as a select per element.)
            ArrayInit::Chosen { cond, then, other } => {
                self.cond_ok(cond) && self.init_ok(then) && self.init_ok(other)
            }
            // (A `Vec` grown by `push`, a copy of a run, `x[k..].to_vec()`: the README
            // does not promise `hessian` there.)
            ArrayInit::Empty { .. } | ArrayInit::Run { .. } => false,
        }
    }

    fn cond_ok(&self, c: &Cond) -> bool {
        match c {
            Cond::Float(_, a, b) => self.expr_ok(a) && self.expr_ok(b),
            Cond::Int(..) => true,
            Cond::And(a, b) | Cond::Or(a, b) => self.cond_ok(a) && self.cond_ok(b),
            Cond::Not(a) | Cond::Matched(a) => self.cond_ok(a),
        }
    }
}

/// The arrays a loop's `body` scans: those it writes at the loop's index from the element one
/// step from it ([`scan_write`]), at its top level or under `if`.
fn scanned_arrays(body: &[Stmt]) -> Vec<String> {
    let mut out = Vec::new();
    for s in body {
        match s {
            Stmt::SetElem {
                array,
                index,
                value,
                ..
            } if scan_write(array, index, value) => out.push(array.clone()),
            Stmt::If { then, els, .. } => {
                out.extend(scanned_arrays(then));
                out.extend(scanned_arrays(els.as_deref().unwrap_or_default()));
            }
            _ => {}
        }
    }
    out
}

/// Whether `array[index] = value` reads the element one step from it (`z[i - 1]`, `z[i + 1]`).
fn scan_write(array: &str, index: &IntExpr, value: &Expr) -> bool {
    let IntExpr::Var(v) = index else {
        return false;
    };
    let text = crate::print::expr(value);
    text.contains(&format!("{array}[{v} - 1]")) || text.contains(&format!("{array}[{v} + 1]"))
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
            Arg::ArrayLit(items) => items.iter().any(|e| mentions(e, name)),
            Arg::Slice(_) | Arg::Run { .. } | Arg::LocalArray(_) | Arg::LocalRun(..) => false,
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
        Cond::Not(a) | Cond::Matched(a) => cond_mentions(a, name),
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
            spellings: crate::ast::Spellings::default(),
            checkpoint: None,
            vec_return: false,
            tuple_return: false,
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

    /// `looped`'s loop inside another.
    fn nested(op: AssignOp, value: Expr) -> Func {
        let mut f = looped(op, value);
        let inner = f.body.pop().expect("the loop");
        let Stmt::For { range, .. } = &inner else {
            unreachable!("a loop")
        };
        f.body.push(Stmt::For {
            var: "k".into(),
            range: range.clone(),
            body: vec![inner],
        });
        f
    }

    #[test]
    fn sums_and_top_level_recurrences_are_eligible_and_nested_recurrences_are_not() {
        let term = Expr::Cast(IntExpr::Var("i".into()));
        let reads_itself = Expr::bin(crate::ast::BinOp::Mul, Expr::var("s"), term.clone());
        for (op, value) in [
            (AssignOp::Mul, term.clone()),
            (AssignOp::Set, term.clone()),
            (AssignOp::Add, reads_itself.clone()),
        ] {
            assert!(eligible(&looped(op, value.clone()), &[]));
            assert!(!eligible(&nested(op, value), &[]));
        }
        assert!(eligible(&looped(AssignOp::Add, term.clone()), &[]));
        assert!(eligible(&nested(AssignOp::Add, term), &[]));
    }
}
