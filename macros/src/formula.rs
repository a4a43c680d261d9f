//! Formulas: graph nodes printed as readable, Rust-like expressions (`2.0 * x * (w * x - y)`),
//! for the doc comment of `<name>_grad` and `<Name>Grad::FORMULAS`.
//!
//! Small formulas are printed inline. A formula that would grow past [`INLINE_LIMIT`] characters
//! (a deep chain repeats its shared subexpressions) binds every shared subexpression once:
//! `{ let t1 = x.sin(); t1 * t1.cos() }`, so its length stays linear in the graph.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::graph::{Graph, NodeId, Op, SymId};
use crate::printer::{Prec, Style};
use crate::schedule::Schedule;
use crate::schedule::tree::{Block, Saved, Stmt, Tree};

/// Longest formula printed without `let` bindings.
pub const INLINE_LIMIT: usize = 240;

/// Formats a float the way Rust source writes it (`2.0`, `0.5`, `1e-7`).
pub fn float_literal(v: f64) -> String {
    if v.is_nan() {
        "f64::NAN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "f64::INFINITY"
        } else {
            "-f64::INFINITY"
        }
        .into()
    } else {
        format!("{v:?}")
    }
}

/// Prints `root`, inline when short, else with `let` bindings for shared subexpressions.
pub fn print(g: &Graph, root: NodeId, float: &str) -> String {
    // Every node of the tree prints at least one character: a tree larger than the limit is
    // not printed inline at all (a chain reusing each level twice is a DAG of `d` nodes and a
    // tree of `2^d`).
    if tree_size(g, root, INLINE_LIMIT) <= INLINE_LIMIT {
        let inline = Printer {
            g,
            float,
            names: HashMap::new(),
            schedule: None,
        }
        .expr(root, Prec::Select);
        if inline.len() <= INLINE_LIMIT {
            return inline;
        }
    }
    let shared = shared_nodes(g, root);
    let mut p = Printer {
        g,
        float,
        names: HashMap::new(),
        schedule: None,
    };
    let mut out = String::from("{ ");
    for (k, n) in shared.iter().enumerate() {
        let text = p.expr(*n, Prec::Select);
        let name = format!("t{}", k + 1);
        let _ = write!(out, "let {name} = {text}; ");
        p.names.insert(*n, name);
    }
    out.push_str(&p.expr(root, Prec::Select));
    out.push_str(" }");
    out
}

/// The number of nodes of `root` written out as a tree (shared nodes counted at every use), or
/// `cap + 1` if it is larger than `cap`: linear in the DAG, however large the tree.
fn tree_size(g: &Graph, root: NodeId, cap: usize) -> usize {
    let mut size: HashMap<NodeId, usize> = HashMap::new();
    for n in g.reachable(&[root]) {
        let below = g
            .op(n)
            .children()
            .iter()
            .fold(1usize, |acc, c| acc.saturating_add(size[c]));
        size.insert(n, below.min(cap + 1));
    }
    size[&root]
}

/// Non-leaf nodes used more than once below `root`, in topological order.
fn shared_nodes(g: &Graph, root: NodeId) -> Vec<NodeId> {
    let nodes = g.reachable(&[root]);
    let mut uses: HashMap<NodeId, usize> = HashMap::new();
    for n in &nodes {
        for c in g.op(*n).children() {
            *uses.entry(c).or_default() += 1;
        }
    }
    nodes
        .into_iter()
        .filter(|n| *n != root && !g.is_leaf(*n) && uses.get(n).copied().unwrap_or(0) > 1)
        .collect()
}

struct Printer<'g> {
    g: &'g Graph,
    float: &'g str,
    names: HashMap<NodeId, String>,
    /// Printing a statement tree: the schedule, whose bound nodes are read by name (`t3`).
    schedule: Option<&'g Schedule<'g>>,
}

/// The statement tree `emit` prints as Rust, printed as pseudo-code: one statement a line,
/// nested blocks indented, expressions through the shared printer, bound nodes as `t3`, loop
/// indices as `i0`, a recurrence's value `s0` and its adjoint `λ0`, a vector added into `z0`.
///
/// ```text
/// let mut acc5 = 0.0;
/// for i0 in 0..x.len() {
///     let t3 = x[i0] * w - y[i0];
///     acc5 += t3.powi(2);
///     ∇x[i0] += 2.0 * t3 * w;
/// }
/// let t5 = acc5;
/// ```
pub fn statements(g: &Graph, s: &Schedule<'_>, tree: &Tree, float: &str) -> String {
    let p = Printer {
        g,
        float,
        names: HashMap::new(),
        schedule: Some(s),
    };
    let mut out = String::new();
    for v in &tree.pools {
        let _ = writeln!(out, "pool {v:?}");
    }
    p.block(&tree.body, 0, &mut out);
    out
}

impl Printer<'_> {
    fn line(out: &mut String, depth: usize, text: &str) {
        let _ = writeln!(out, "{}{text}", "    ".repeat(depth));
    }

    fn block(&self, b: &Block, depth: usize, out: &mut String) {
        for st in b.stmts.iter().chain(&b.scatters) {
            self.statement(st, depth, out);
        }
        for v in &b.give_back {
            Self::line(out, depth, &format!("give back {v:?}"));
        }
    }

    /// `head {` … `}` around a block.
    fn nested(&self, head: &str, b: &Block, depth: usize, out: &mut String) {
        Self::line(out, depth, &format!("{head} {{"));
        self.block(b, depth + 1, out);
        Self::line(out, depth, "}");
    }

    fn range(&self, lo: NodeId, hi: NodeId) -> String {
        format!("{}..{}", self.expr(lo, Prec::Sum), self.expr(hi, Prec::Sum))
    }

    fn accumulators(&self, sums: &[(NodeId, NodeId)], depth: usize, out: &mut String, end: bool) {
        for (n, body) in sums {
            let text = if end {
                format!("let t{} = acc{};", n.0, n.0)
            } else {
                format!("acc{} += {};", n.0, self.expr(*body, Prec::Select))
            };
            Self::line(out, depth, &text);
        }
    }

    #[allow(clippy::too_many_lines)] // one arm per statement
    fn statement(&self, st: &Stmt, depth: usize, out: &mut String) {
        let g = self.g;
        match st {
            Stmt::Let(n) => Self::line(out, depth, &format!("let t{} = {};", n.0, self.bare(*n))),
            Stmt::Add(n) | Stmt::Vjp(n) => Self::line(out, depth, &format!("{};", self.bare(*n))),
            Stmt::AddToSum(n) => {
                if let Op::Accumulate { value, .. } = *g.op(*n) {
                    let x = self.expr(value, Prec::Select);
                    Self::line(out, depth, &format!("acc{} += {x};", n.0));
                }
            }
            Stmt::Effect { node, then, other } | Stmt::Select { node, then, other } => {
                let Op::Select(c, a, b) = *g.op(*node) else {
                    return;
                };
                let bind = matches!(st, Stmt::Select { .. });
                let head = format!(
                    "{}if {}",
                    if bind {
                        format!("let t{} = ", node.0)
                    } else {
                        String::new()
                    },
                    self.expr(c, Prec::Or)
                );
                Self::line(out, depth, &format!("{head} {{"));
                self.block(then, depth + 1, out);
                if bind {
                    Self::line(out, depth + 1, &self.expr(a, Prec::Select));
                }
                Self::line(out, depth, "} else {");
                self.block(other, depth + 1, out);
                if bind {
                    Self::line(out, depth + 1, &self.expr(b, Prec::Select));
                }
                Self::line(out, depth, "}");
            }
            Stmt::Logic { node, right } => {
                let (Op::And(a, b) | Op::Or(a, b)) = *g.op(*node) else {
                    return;
                };
                let op = if matches!(g.op(*node), Op::And(..)) {
                    "&&"
                } else {
                    "||"
                };
                let head = format!("let t{} = {} {op}", node.0, self.expr(a, Prec::And));
                self.nested(&head, right, depth, out);
                Self::line(out, depth + 1, &self.expr(b, Prec::Compare));
            }
            Stmt::Partials(n, companion) => {
                let what = format!("{companion:?}").to_lowercase();
                let call = self.bare(*n);
                Self::line(
                    out,
                    depth,
                    &format!("let (t{0}, d{0}) = {what} of {call};", n.0),
                );
            }
            Stmt::Rebound { body, .. } => self.nested("into the sinks", body, depth, out),
            Stmt::Sums {
                group,
                body,
                accumulators,
                summed,
            } => {
                let Op::Sum { v, lo, hi, .. } = *g.op(group[0]) else {
                    return;
                };
                for n in summed {
                    Self::line(out, depth, &format!("let mut acc{} = 0.0;", n.0));
                }
                let head = format!("for i{v} in {}", self.range(lo, hi));
                Self::line(out, depth, &format!("{head} {{"));
                self.block(body, depth + 1, out);
                self.accumulators(accumulators, depth + 1, out, false);
                Self::line(out, depth, "}");
                for n in summed {
                    if let Op::Accumulate { alloc, i, .. } = *g.op(*n) {
                        let (z, k) = (self.expr(alloc, Prec::Postfix), self.expr(i, Prec::Select));
                        Self::line(out, depth, &format!("if ran: {z}[{k}] += acc{};", n.0));
                    }
                }
                self.accumulators(accumulators, depth, out, true);
            }
            Stmt::Exit {
                group,
                until,
                test,
                body,
                accumulators,
            } => {
                let (&Op::Sum { v, lo, .. }, &Op::Until { hi, cond, .. }) =
                    (g.op(group[0]), g.op(*until))
                else {
                    return;
                };
                Self::line(
                    out,
                    depth,
                    &format!("for i{v} in {} {{", self.range(lo, hi)),
                );
                self.block(test, depth + 1, out);
                let stop = format!(
                    "if {} {{ t{} = i{v}; break; }}",
                    self.expr(cond, Prec::Or),
                    until.0
                );
                Self::line(out, depth + 1, &stop);
                self.block(body, depth + 1, out);
                self.accumulators(accumulators, depth + 1, out, false);
                Self::line(out, depth, "}");
                self.accumulators(accumulators, depth, out, true);
            }
            Stmt::Fold { node, body, saved } => {
                let Op::Fold {
                    c,
                    v,
                    lo,
                    hi,
                    init,
                    body: next,
                    ..
                } = *g.op(*node)
                else {
                    return;
                };
                let saves = match saved {
                    Saved::Nothing => String::new(),
                    Saved::LastKill(..) => ", saving its last kill".to_string(),
                    Saved::Every(_) => ", saving every s".to_string(),
                    Saved::Checkpoints(k, _) => format!(", saving every {k}th s"),
                };
                let init = self.expr(init, Prec::Select);
                Self::line(out, depth, &format!("let mut s{c} = {init};"));
                let head = format!("for i{v} in {}{saves}", self.range(lo, hi));
                Self::line(out, depth, &format!("{head} {{"));
                self.block(body, depth + 1, out);
                let step = format!("s{c} = {};", self.expr(next, Prec::Select));
                Self::line(out, depth + 1, &step);
                Self::line(out, depth, "}");
                Self::line(out, depth, &format!("let t{} = s{c};", node.0));
            }
            Stmt::Scan { node, body } if matches!(g.op(*node), Op::CoupledScan { .. }) => {
                let Op::CoupledScan {
                    c,
                    v,
                    k,
                    lo,
                    hi,
                    ref parts,
                } = *g.op(*node)
                else {
                    return;
                };
                let m = u32::try_from(parts.len() / 2).unwrap_or(0);
                let names: Vec<String> = (c..c + m).map(|d| format!("s{d}")).collect();
                let (inits, bodies) = parts.split_at(m as usize);
                let line = format!("let mut ({}) = ({});", names.join(", "), self.list(inits));
                Self::line(out, depth, &line);
                let head = format!(
                    "for i{v} in {}, keeping every s{}",
                    self.range(lo, hi),
                    c + k
                );
                Self::line(out, depth, &format!("{head} {{"));
                self.block(body, depth + 1, out);
                let step = format!("({}) = ({});", names.join(", "), self.list(bodies));
                Self::line(out, depth + 1, &step);
                Self::line(out, depth + 1, &format!("t{}.push(s{});", node.0, c + k));
                Self::line(out, depth, "}");
            }
            Stmt::Scan { node, body } => {
                let Op::Scanned {
                    c,
                    v,
                    lo,
                    hi,
                    init,
                    body: next,
                } = *g.op(*node)
                else {
                    return;
                };
                let init = self.expr(init, Prec::Select);
                Self::line(out, depth, &format!("let mut s{c} = {init};"));
                let head = format!("for i{v} in {}, keeping every s", self.range(lo, hi));
                Self::line(out, depth, &format!("{head} {{"));
                self.block(body, depth + 1, out);
                let step = format!("s{c} = {};", self.expr(next, Prec::Select));
                Self::line(out, depth + 1, &step);
                Self::line(out, depth + 1, &format!("t{}.push(s{c});", node.0));
                Self::line(out, depth, "}");
            }
            Stmt::Coupled {
                node,
                body,
                saved,
                checkpoint,
                storage,
                ..
            } => {
                let Op::Coupled { c, v, lo, hi, .. } = *g.op(*node) else {
                    return;
                };
                let saves = match checkpoint {
                    Some(k) => format!(", saving every member every {k}th iteration ({storage:?})"),
                    None => format!(", saving s{saved:?} ({storage:?})"),
                };
                self.nested(
                    &format!("for i{v} in {} (coupled s{c}…){saves}", self.range(lo, hi)),
                    body,
                    depth,
                    out,
                );
            }
            Stmt::Reverse {
                group,
                body,
                accumulators,
                recompute,
                ..
            } => {
                let (Op::RevFold { fold, v, .. } | Op::RevCoupled { fold, v, .. }) =
                    *g.op(group[0])
                else {
                    return;
                };
                let (Op::Fold { lo, hi, .. } | Op::Coupled { lo, hi, .. }) = *g.op(fold) else {
                    return;
                };
                if let Some((k, forward, _)) = recompute {
                    self.nested(
                        &format!("for each stretch of {k}, last first: recompute"),
                        forward,
                        depth,
                        out,
                    );
                }
                let head = format!("for i{v} in ({}).rev()", self.range(lo, hi));
                Self::line(out, depth, &format!("{head} {{"));
                self.block(body, depth + 1, out);
                self.accumulators(accumulators, depth + 1, out, false);
                Self::line(out, depth, "}");
                self.accumulators(accumulators, depth, out, true);
            }
            Stmt::Guarded { reads, sweep, .. } => {
                Self::line(out, depth, "if the seed is not zero {");
                self.block(reads, depth + 1, out);
                self.statement(sweep, depth + 1, out);
                Self::line(out, depth, "}");
            }
            Stmt::Table {
                node,
                storage,
                body,
            } => {
                let Op::Table {
                    v,
                    lo,
                    hi,
                    body: value,
                } = *g.op(*node)
                else {
                    return;
                };
                let head = format!(
                    "let t{} = [{} for i{v} in {}] ({storage:?})",
                    node.0,
                    self.expr(value, Prec::Select),
                    self.range(lo, hi)
                );
                match body {
                    Some(b) => self.nested(&head, b, depth, out),
                    None => Self::line(out, depth, &format!("{head};")),
                }
            }
            Stmt::Tables { group, body } => {
                let heads: Vec<String> = group
                    .iter()
                    .filter_map(|&(node, storage)| match *g.op(node) {
                        Op::Table {
                            v,
                            lo,
                            hi,
                            body: value,
                        } => Some(format!(
                            "let t{} = [{} for i{v} in {}] ({storage:?})",
                            node.0,
                            self.expr(value, Prec::Select),
                            self.range(lo, hi)
                        )),
                        _ => None,
                    })
                    .collect();
                self.nested(&heads.join("; "), body, depth, out);
            }
            Stmt::Alloc { node, storage, .. } => {
                Self::line(
                    out,
                    depth,
                    &format!("let mut {} ({storage:?});", self.bare(*node)),
                );
            }
            Stmt::Until { node, body } => {
                let Op::Until { v, lo, hi, cond } = *g.op(*node) else {
                    return;
                };
                Self::line(
                    out,
                    depth,
                    &format!("let mut t{} = {};", node.0, self.expr(hi, Prec::Select)),
                );
                Self::line(
                    out,
                    depth,
                    &format!("for i{v} in {} {{", self.range(lo, hi)),
                );
                self.block(body, depth + 1, out);
                let stop = format!(
                    "if {} {{ t{} = i{v}; break; }}",
                    self.expr(cond, Prec::Or),
                    node.0
                );
                Self::line(out, depth + 1, &stop);
                Self::line(out, depth, "}");
            }
            Stmt::Internal(what) => Self::line(out, depth, &format!("internal error: {what}")),
        }
    }
}

impl Printer<'_> {
    /// `a, b, c`: each printed whole.
    fn list(&self, ids: &[NodeId]) -> String {
        let items: Vec<String> = ids.iter().map(|n| self.expr(*n, Prec::Select)).collect();
        items.join(", ")
    }
}

/// The formulas' spelling of expressions: text, the user's names, and `t1`, `t2`, … for the
/// shared subexpressions a long formula binds.
impl Style for Printer<'_> {
    type Out = String;

    fn graph(&self) -> &Graph {
        self.g
    }

    fn bound(&self, n: NodeId) -> Option<String> {
        if let Some(s) = self.schedule
            && s.is_bound(n)
            && !matches!(self.g.op(n), Op::Alloc { .. } | Op::Filled { .. })
        {
            return Some(format!("t{}", n.0));
        }
        self.names.get(&n).cloned()
    }

    fn casts_in_parens(&self) -> bool {
        false
    }

    /// The formula's own forms: the leaves by the user's names, a call's partials as `∂₀f(x, y)`,
    /// the statements as readable pseudo-code (`Σ(i0 in 0..n) …`, `fold(…)`).
    #[allow(clippy::too_many_lines)] // one arm per statement form
    fn own(&self, id: NodeId) -> Option<String> {
        let g = self.g;
        Some(match g.op(id) {
            Op::Input(i) => g.input_name(*i).to_string(),
            Op::Partial(call, i) => match g.op(*call) {
                Op::CallOutput(inner, k) => match g.op(*inner) {
                    Op::Call(f, args) => {
                        let args: Vec<String> =
                            args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
                        format!(
                            "∂{}{}[{k}]({})",
                            subscript(*i),
                            g.symbol_name(*f),
                            args.join(", ")
                        )
                    }
                    _ => "internal error: output of a non-call".into(),
                },
                Op::Call(f, args) => {
                    let args: Vec<String> =
                        args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
                    if args.len() == 1 {
                        format!("{}'({})", g.symbol_name(*f), args[0])
                    } else {
                        format!(
                            "∂{}{}({})",
                            subscript(*i),
                            g.symbol_name(*f),
                            args.join(", ")
                        )
                    }
                }
                _ => "internal error: partial of a non-call".into(),
            },
            // `∂₀₁f(a, b)`, `f''(x)`
            Op::Partial2(call, i, j) => match g.op(*call) {
                Op::Call(f, args) => {
                    let args: Vec<String> =
                        args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
                    if args.len() == 1 {
                        format!("{}''({})", g.symbol_name(*f), args[0])
                    } else {
                        format!(
                            "∂{}{}{}({})",
                            subscript(*i),
                            subscript(*j),
                            g.symbol_name(*f),
                            args.join(", ")
                        )
                    }
                }
                _ => "internal error: partial of a non-call".into(),
            },
            Op::LoopVar(v) => format!("i{v}"),
            Op::Sum { v, lo, hi, body } => format!(
                "Σ(i{v} in {}..{}) {}",
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum),
                self.expr(*body, Prec::Postfix)
            ),
            Op::Scatter(k, i, x) => format!(
                "∇{}[{}] += {}",
                g.slice_name(*k),
                self.expr(*i, Prec::Select),
                self.expr(*x, Prec::Select)
            ),
            Op::NoEffect => "()".to_string(),
            Op::Effects(a, b) => format!(
                "{}; {}",
                self.expr(*a, Prec::Select),
                self.expr(*b, Prec::Select)
            ),
            Op::CallVjp(call, seed) => {
                let slices: Vec<String> = match g.op(*call) {
                    Op::Call(_, args) => args
                        .iter()
                        .filter_map(|a| match g.op(*a) {
                            Op::SliceArg(k, ..) => Some(format!("∇{}", g.slice_name(*k))),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                format!(
                    "{} += {} · ∂{}",
                    slices.join(", "),
                    self.expr(*seed, Prec::Product),
                    self.expr(*call, Prec::Postfix)
                )
            }
            Op::CallJvp(call, _) => format!("∂{}·v", self.expr(*call, Prec::Postfix)),
            Op::JvpPartial(jvp, i) => {
                format!("∂{}{}", subscript(*i), self.expr(*jvp, Prec::Postfix))
            }
            Op::CallHvp(jvp, seed) => format!(
                "∇ += {} · ∇{}",
                self.expr(*seed, Prec::Product),
                self.expr(*jvp, Prec::Postfix)
            ),
            Op::Carry { c, .. } => format!("s{c}"),
            Op::Adjoint { sweep: c, .. } => format!("λ{c}"),
            Op::Fold {
                c,
                v,
                lo,
                hi,
                init,
                body,
            } => format!(
                "fold(s{c} = {}; i{v} in {}..{}; s{c} = {})",
                self.expr(*init, Prec::Select),
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum),
                self.expr(*body, Prec::Select)
            ),
            // A scan: the recurrence's value after every iteration, `[s₁, s₂, …]`.
            Op::Scanned {
                c,
                v,
                lo,
                hi,
                init,
                body,
            } => format!(
                "scan(s{c} = {}; i{v} in {}..{}; s{c} = {})",
                self.expr(*init, Prec::Select),
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum),
                self.expr(*body, Prec::Select)
            ),
            // Member `k`'s values after every iteration of coupled recurrences.
            Op::CoupledScan {
                c,
                v,
                k,
                lo,
                hi,
                parts,
            } => {
                let m = u32::try_from(parts.len() / 2).unwrap_or(0);
                let names: Vec<String> = (*c..c + m).map(|d| format!("s{d}")).collect();
                format!(
                    "scan(({}) = ({}); i{v} in {}..{}; ({}) = ({}); s{})",
                    names.join(", "),
                    self.list(&parts[..m as usize]),
                    self.expr(*lo, Prec::Sum),
                    self.expr(*hi, Prec::Sum),
                    names.join(", "),
                    self.list(&parts[m as usize..]),
                    c + k,
                )
            }
            Op::Coupled {
                c,
                v,
                lo,
                hi,
                parts,
            } => {
                let k = u32::try_from(parts.len() / 2).unwrap_or(0);
                let names: Vec<String> = (*c..c + k).map(|d| format!("s{d}")).collect();
                format!(
                    "fold(({}) = ({}); i{v} in {}..{}; ({}) = ({}))",
                    names.join(", "),
                    self.list(&parts[..k as usize]),
                    self.expr(*lo, Prec::Sum),
                    self.expr(*hi, Prec::Sum),
                    names.join(", "),
                    self.list(&parts[k as usize..]),
                )
            }
            Op::RevCoupled {
                sweep,
                v,
                fold,
                parts,
            } => {
                let k = u32::try_from(parts.len() / 2).unwrap_or(0);
                let names: Vec<String> = (*sweep..sweep + k).map(|d| format!("λ{d}")).collect();
                let (lo, hi) = match g.op(*fold) {
                    Op::Coupled { lo, hi, .. } => (*lo, *hi),
                    _ => (*fold, *fold),
                };
                format!(
                    "reverse(({}) = ({}); i{v} in ({}..{}).rev(); ({}) = ({}))",
                    names.join(", "),
                    self.list(&parts[..k as usize]),
                    self.expr(lo, Prec::Sum),
                    self.expr(hi, Prec::Sum),
                    names.join(", "),
                    self.list(&parts[k as usize..]),
                )
            }
            Op::Table { v, lo, hi, body } => format!(
                "[{} for i{v} in {}..{}]",
                self.expr(*body, Prec::Select),
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum)
            ),
            Op::Rebound { effect, sinks } => format!(
                "{} (into {})",
                self.expr(*effect, Prec::Select),
                sinks
                    .iter()
                    .map(|(from, to)| format!("∇{from} → sink {to}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Op::VjpRows {
                call, rows, parts, ..
            } => format!(
                "[{}] · ∂{} (one call for {rows} rows)",
                parts[..*rows as usize]
                    .iter()
                    .map(|v| self.expr(*v, Prec::Select))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.expr(*call, Prec::Postfix)
            ),
            Op::Seeds(values) => format!(
                "[{}]",
                values
                    .iter()
                    .map(|v| self.expr(*v, Prec::Select))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Op::ArrayVjp {
                call, seed, alloc, ..
            } => format!(
                "{} += {} · ∂{}",
                self.expr(*alloc, Prec::Postfix),
                self.expr(*seed, Prec::Product),
                self.expr(*call, Prec::Postfix)
            ),
            Op::Alloc {
                buf, like, zero, ..
            } => {
                let start = if *zero { "0 · " } else { "" };
                format!("z{buf} = {start}{}", self.expr(*like, Prec::Postfix))
            }
            Op::Cleared { adjoint, lo, hi } => format!(
                "{} with [{}..{}] = 0",
                self.expr(*adjoint, Prec::Postfix),
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum)
            ),
            Op::Filled { alloc, fill } => format!(
                "({}; {})",
                self.expr(*alloc, Prec::Select),
                self.expr(*fill, Prec::Select)
            ),
            Op::Accumulate { alloc, i, value } => format!(
                "{}[{}] += {}",
                match g.op(*alloc) {
                    Op::Alloc { buf, .. } => format!("z{buf}"),
                    _ => "?".to_string(),
                },
                self.expr(*i, Prec::Select),
                self.expr(*value, Prec::Select)
            ),
            Op::Until { v, lo, hi, cond } => format!(
                "first(i{v} in {}..{}; {})",
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum),
                self.expr(*cond, Prec::Select)
            ),
            Op::RevFold {
                sweep: c,
                v,
                fold,
                seed,
                step,
            } => {
                let (lo, hi) = match g.op(*fold) {
                    Op::Fold { lo, hi, .. } => (*lo, *hi),
                    _ => (*fold, *fold),
                };
                format!(
                    "reverse(λ{c} = {}; i{v} in ({}..{}).rev(); λ{c} = {})",
                    self.expr(*seed, Prec::Select),
                    self.expr(lo, Prec::Sum),
                    self.expr(hi, Prec::Sum),
                    self.expr(*step, Prec::Select)
                )
            }
            _ => return None,
        })
    }

    fn float(&self, v: f64) -> String {
        float_literal(v)
    }

    fn int(&self, v: i64) -> String {
        v.to_string()
    }

    fn float_ty(&self) -> String {
        self.float.to_string()
    }

    fn symbol(&self, s: SymId) -> String {
        self.g.symbol_name(s).to_string()
    }

    fn slice(&self, k: u32) -> String {
        self.g.slice_name(k).to_string()
    }

    fn runtime(&self, name: &str) -> String {
        name.to_string()
    }

    fn word(&self, text: &str) -> String {
        text.to_string()
    }

    fn internal_error(&self, what: &str) -> String {
        format!("internal error: {what}")
    }

    fn infix(&self, a: String, op: &str, b: String) -> String {
        format!("{a} {op} {b}")
    }

    fn prefix(&self, op: &str, a: String) -> String {
        format!("{op}{a}")
    }

    fn paren(&self, a: String) -> String {
        format!("({a})")
    }

    fn method(&self, recv: String, name: &str, args: Vec<String>) -> String {
        format!("{recv}.{name}({})", args.join(", "))
    }

    fn call(&self, f: String, args: Vec<String>) -> String {
        format!("{f}({})", args.join(", "))
    }

    fn index(&self, a: String, i: String) -> String {
        format!("{a}[{i}]")
    }

    fn field(&self, a: String, k: u32) -> String {
        format!("{a}.{k}")
    }

    fn cast(&self, a: String, ty: String) -> String {
        format!("{a} as {ty}")
    }

    fn select(&self, c: String, a: String, b: String) -> String {
        format!("if {c} {{ {a} }} else {{ {b} }}")
    }

    fn run(&self, x: String, lo: String, hi: String) -> String {
        format!("&{x}[{lo}..{hi}]")
    }
}

/// `2` → `₂`: which argument a partial derivative is taken with respect to.
fn subscript(i: u32) -> String {
    i.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}
