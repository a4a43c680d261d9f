//! The errors for element writes and reads of a local array that a loop cannot differentiate,
//! worded after what the loop's code does: a write no loop may make (in a `while` loop, at a
//! constant index, at `enumerate`'s count where it is not the loop's index), reported once at
//! that write, and a read of the element the previous iteration wrote where it is not a scan
//! (through a `let`, or in a loop writing at an offset from its index).
//!
//! ```text
//! // Input:                                     // Error (once, at the write):
//! for t in 0..n {                               //
//!     h[0] = h[0] * w + x[t];                   // this loop writes `h[0]`, the same element
//!     h[1] = h[1] * w + h[0];                   // in every iteration, …; help: carry the
//! }                                             // element in a float (`let mut h0 = h[0];`)
//! ```
//!
//! The other reads and writes of that array in the loop report nothing more: each would say
//! that the loop reads or writes an element other than its own, of an index the code does not
//! have.

use quote::ToTokens;
use syn::Expr;

use super::syntax::ArithOp;
use super::{Binding, Lower, pretty};
use crate::ctxt::msg;
use crate::graph::{IntOp, NodeId, Op};

/// What a `while` or `loop` loop lowered as a `for` loop over a hidden index named `index`
/// (see `Lower::while_loop`) is called: ``Some("`while` loop")``, ``Some("`loop`")``.
pub(super) fn desugared_keyword(index: Option<&str>) -> Option<&'static str> {
    match index {
        Some("__symgrad_while") => Some("`while` loop"),
        Some("__symgrad_loop") => Some("`loop`"),
        _ => None,
    }
}

/// The element writes of a loop's body `stmts` (`z[k] = …`, `z[k] op= …`), outside loops
/// nested in it and closures, in order: the array's name, the index, and the compound operator
/// (`None` for `=`).
pub(super) fn element_writes_at_top(stmts: &[syn::Stmt]) -> Vec<(String, Expr, Option<ArithOp>)> {
    struct Finder(Vec<(String, Expr, Option<ArithOp>)>);
    impl Finder {
        fn note(&mut self, left: &Expr, op: Option<ArithOp>) {
            if let Expr::Index(ix) = left
                && let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
            {
                self.0.push((id.to_string(), (*ix.index).clone(), op));
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.note(&a.left, None);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if let Some(op) = super::syntax::compound_op(&b.op) {
                self.note(&b.left, Some(op));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
        fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
        fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// The element assignments (`z[k] = …`, `*=`, `/=`: not the additions) of a loop's body
/// `stmts`, outside loops nested in it and closures: the array's name and the index, in order.
pub(super) fn assigned_elements(stmts: &[syn::Stmt]) -> Vec<(String, Expr)> {
    element_writes_at_top(stmts)
        .into_iter()
        .filter(|w| !matches!(w.2, Some(ArithOp::Add | ArithOp::Sub)))
        .map(|(name, index, _)| (name, index))
        .collect()
}

/// `c` of `for (c, w) in x.windows(2).enumerate()` (`pat`, `source`): `enumerate`'s count,
/// where the loop's pattern is still the whole tuple (so the count is not the index written,
/// see `Lower::index_pattern`) and `source` ends in `enumerate` (then `skip`, `take`,
/// `step_by` or `rev`).
pub(super) fn enumerate_count(pat: &syn::Pat, source: &Expr) -> Option<String> {
    let syn::Pat::Tuple(t) = pat else { return None };
    let Some(syn::Pat::Ident(count)) = t.elems.first() else {
        return None;
    };
    let mut e = source;
    loop {
        match e {
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m) if m.method == "enumerate" => {
                return Some(count.ident.to_string());
            }
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "skip" | "take" | "step_by" | "rev"
                ) =>
            {
                e = &m.receiver;
            }
            _ => return None,
        }
    }
}

/// The name `e` is, if it is a plain one.
fn ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        Expr::Paren(p) => ident(&p.expr),
        _ => None,
    }
}

/// The integer literal `e` is, if it is one.
fn literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(l) if matches!(l.lit, syn::Lit::Int(_)) => Some(pretty(&l.to_token_stream())),
        Expr::Paren(p) => literal(&p.expr),
        _ => None,
    }
}

impl Lower<'_> {
    /// Where loop frame `f` writes `table` (named `name`) somewhere no loop can (see the module
    /// docs): the error, at the first such write, once per array and loop; `true` then (and
    /// where it was reported before), so that the caller reports nothing more.
    pub(super) fn unwritable(&mut self, f: usize, table: NodeId, name: &str) -> bool {
        let frame = &self.array_loops[f];
        if frame.reported.contains(&table) {
            return true;
        }
        let found = frame
            .assigned
            .iter()
            .filter(|(n, _)| n == name)
            .find_map(|(_, at)| {
                let message = if let Some(k) = literal(at) {
                    constant_index_message(name, &k)
                } else if let Some(keyword) = frame.keyword {
                    counter_message(keyword, name, at)
                } else if frame.count_name.is_some() && ident(at) == frame.count_name {
                    count_message(name, &pretty(&at.to_token_stream()))
                } else {
                    return None;
                };
                Some((at.clone(), message))
            });
        let Some((at, message)) = found else {
            return false;
        };
        self.cx.error_spanned_by(&at, message);
        self.array_loops[f].reported.push(table);
        true
    }

    /// Where `i`, read by loop frame `f` of `table` (named `name`, written at `own`), is the
    /// element the previous iteration wrote but the loop does not run it as a scan: the error
    /// that says why (a write at an offset from the loop's index, a read through a `let`).
    pub(super) fn previous_element_message(
        &self,
        f: usize,
        (table, name): (NodeId, &str),
        (own, i): (NodeId, NodeId),
        at: &dyn ToTokens,
    ) -> Option<String> {
        let frame = &self.array_loops[f];
        let reversed = frame.flip.is_some();
        // Written at an offset, `z[i + 2] = … z[i + 1] … z[i] …`: the help re-indexes the loop.
        if !reversed
            && frame.offsets.iter().any(|o| o.0 == table)
            && let Some((steps @ (1 | 2), offset)) = self.offset_back(own, i)
        {
            let written = frame
                .assigned
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| "…".to_string(), |(_, w)| pretty(&w.to_token_stream()));
            // (The example two back where the loop writes two ahead, `z[i + 2]`.)
            return Some(offset_scan_message(name, &written, (steps, offset)));
        }
        let steps = if self.one_step_back(own, i, reversed) {
            1
        } else if self.two_steps_back(own, i, reversed) {
            2
        } else {
            return None;
        };
        let index = frame.index_name.as_deref()?;
        let through = syn::parse2::<Expr>(at.to_token_stream())
            .ok()
            .as_ref()
            .and_then(ident)
            .filter(|n| n != index && self.lookup(n) == Some(Binding::Value(i)))?;
        let back = if reversed {
            format!("{index} + {steps}")
        } else {
            format!("{index} - {steps}")
        };
        let which = if steps == 1 {
            "the element the previous iteration wrote"
        } else {
            "the element the iteration before the previous one wrote"
        };
        Some(msg(
            format!(
                "`{name}[{through}]` reads `{name}[{back}]`, {which}, through the name `{through}`: a recurrence through an array's elements (a scan) is found only where its index is written `{back}` in place"
            ),
            format!("write `{name}[{back}]` instead of `{name}[{through}]`"),
        ))
    }

    /// How many steps back from `own`, an index written at an offset (`i + k`, `k + i`), the
    /// index `i` is: `k` for the loop's own index, `k − m` for `i + m` (`m < k`); and `k`.
    fn offset_back(&self, own: NodeId, i: NodeId) -> Option<(i64, i64)> {
        let split = |n: NodeId| match *self.g.op(n) {
            Op::IntBin(IntOp::Add, a, b) => match (self.g.as_int(a), self.g.as_int(b)) {
                (_, Some(k)) => Some((a, k)),
                (Some(k), _) => Some((b, k)),
                _ => None,
            },
            _ => None,
        };
        let (base, k) = split(own)?;
        if i == base {
            return Some((k, k));
        }
        let (read_base, m) = split(i)?;
        (read_base == base && m < k).then_some((k - m, k))
    }

    /// Whether `i` is two steps back from `own` (`own − 2`; `reversed`, `own + 2`).
    fn two_steps_back(&self, own: NodeId, i: NodeId, reversed: bool) -> bool {
        self.g
            .find(&Op::IntConst(2))
            .is_some_and(|two| self.steps_from(own, i, two, reversed))
    }

    /// Whether `i` is `own − k` (`reversed`, `own + k` or `k + own`), `k` the node of a
    /// constant, as the graph spells it.
    fn steps_from(&self, own: NodeId, i: NodeId, k: NodeId, reversed: bool) -> bool {
        if reversed {
            return self.g.find(&Op::IntBin(IntOp::Add, own, k)) == Some(i)
                || self.g.find(&Op::IntBin(IntOp::Add, k, own)) == Some(i);
        }
        self.g.find(&Op::IntBin(IntOp::Sub, own, k)) == Some(i)
    }

    /// Whether `i` is one step back from `own` (`own − 1`; `reversed`, `own + 1`), however the
    /// graph spells it: `own` is `i + 1` (`z[i + 1] = … z[i] …`), or `i` is `own − 1`.
    fn one_step_back(&self, own: NodeId, i: NodeId, reversed: bool) -> bool {
        let Some(one) = self.g.find(&Op::IntConst(1)) else {
            return false;
        };
        self.steps_from(own, i, one, reversed)
            || (!reversed
                && matches!(*self.g.op(own), Op::IntBin(IntOp::Add, a, b)
                    if (a, b) == (i, one) || (a, b) == (one, i)))
    }
}

/// `h[0] = …` in a loop over `t`.
fn constant_index_message(name: &str, k: &str) -> String {
    msg(
        format!(
            "this loop writes `{name}[{k}]`, the same element in every iteration, which cannot be differentiated yet: a loop writes an array at its own index (`{name}[i]` in `for i in …`, one element an iteration)"
        ),
        format!(
            "carry the element in a float: `let mut {name}{k} = {name}[{k}];` before the loop, `{name}{k} = …;` in it where it wrote `{name}[{k}]` (and `{name}{k}` where it read it), and `{name}[{k}] = {name}{k};` after the loop"
        ),
    )
}

/// `z[i] = …` in `while i < n { …; i += 1; }` (or a `loop` a counter ends).
fn counter_message(keyword: &str, name: &str, at: &Expr) -> String {
    let written = pretty(&at.to_token_stream());
    let c = ident(at).unwrap_or_else(|| "i".to_string());
    msg(
        format!(
            "this {keyword} writes `{name}[{written}]`, one element an iteration, which only a `for` loop can do"
        ),
        format!(
            "loop over the range the counter runs through, `for {c} in a..b {{ {name}[{c}] = …; }}` (`let mut {c} = 1; while {c} < n {{ …; {c} += 1; }}` is `for {c} in 1..n`); there the body may also read the element the previous iteration wrote, `{name}[{c} - 1]` (a scan)"
        ),
    )
}

/// `z[c] = …` in `for (c, w) in x.windows(2).enumerate()`.
fn count_message(name: &str, c: &str) -> String {
    msg(
        format!(
            "this loop writes `{name}[{c}]` at `enumerate`'s count `{c}`, which is not the loop's own index here: an adaptor before `enumerate` (`windows(k)`, `skip(k)`, a range not from 0) moves the items, and a loop writes an array only at its own index"
        ),
        format!(
            "loop over the count and read each item's elements at it (`w[j]` of a window is `x[{c} + j]`): `for {c} in 0..x.len() - 1 {{ {name}[{c}] = x[{c} + 1] - x[{c}]; }}` for `x.windows(2)`; or enumerate first, so that the count is the item's position: `for ({c}, v) in x.iter().enumerate().skip(k)`"
        ),
    )
}

/// `z[i] = … z[i - 1] …` where the loop writes `z[written]` at an offset from its index
/// (`z[i + 1] = z[i] * x[i]`).
fn offset_scan_message(name: &str, written: &str, (steps, offset): (i64, i64)) -> String {
    let which = if steps == 1 {
        "the previous iteration"
    } else {
        "the iteration before the previous one"
    };
    // (Two back where the loop writes two ahead, `z[i + 2]`.)
    let (also, example) = if offset == 1 {
        (
            String::new(),
            format!(
                "`for i in 0..n - 1 {{ {name}[i + 1] = {name}[i] * x[i]; }}` is `for i in 1..n {{ {name}[i] = {name}[i - 1] * x[i - 1]; }}`"
            ),
        )
    } else {
        (
            format!(" and `{name}[i - 2]`"),
            format!(
                "`for i in 0..n - 2 {{ {name}[i + 2] = a * {name}[i + 1] + b * {name}[i]; }}` is `for i in 2..n {{ {name}[i] = a * {name}[i - 1] + b * {name}[i - 2]; }}`"
            ),
        )
    };
    msg(
        format!(
            "this reads the element of `{name}` {which} wrote, in a loop that writes `{name}[{written}]`, at an offset from its index: a recurrence through an array's elements (a scan) is differentiated only where the loop writes at its own index"
        ),
        format!(
            "index the loop by the element it writes, so that it writes `{name}[i]` and reads `{name}[i - 1]`{also}: {example}"
        ),
    )
}
