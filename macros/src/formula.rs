//! Formulas: graph nodes printed as readable, Rust-like expressions (`2.0 * x * (w * x - y)`),
//! for the doc comment of `<name>_grad` and `<Name>Grad::FORMULAS`.
//!
//! Small formulas are printed inline. A formula that would grow past [`INLINE_LIMIT`] characters
//! (a deep chain repeats its shared subexpressions) binds every shared subexpression once:
//! `{ let t1 = x.sin(); t1 * t1.cos() }`, so its length stays linear in the graph.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::graph::{Graph, NodeId, Op};

/// Longest formula printed without `let` bindings.
pub const INLINE_LIMIT: usize = 240;

/// Operator precedence, loosest first; what decides where parentheses go.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Prec {
    Select,
    Or,
    And,
    Compare,
    Sum,
    Product,
    Cast,
    Prefix,
    Postfix,
}

impl Prec {
    /// The precedence class of an operation's printed form.
    pub fn of(g: &Graph, id: NodeId) -> Prec {
        match g.op(id) {
            Op::Select(..) => Prec::Select,
            Op::Or(..) => Prec::Or,
            Op::And(..) => Prec::And,
            Op::Compare(..) => Prec::Compare,
            Op::Add(..) | Op::Sub(..) => Prec::Sum,
            Op::IntBin(o, ..) => match o {
                crate::graph::IntOp::Add | crate::graph::IntOp::Sub => Prec::Sum,
                _ => Prec::Product,
            },
            Op::Mul(..) | Op::Div(..) => Prec::Product,
            Op::Cast(_) | Op::IntCast(..) | Op::FloatToInt(..) => Prec::Cast,
            Op::Neg(_) | Op::IntNeg(_) | Op::Not(_) => Prec::Prefix,
            Op::Const(bits) if f64::from_bits(*bits).is_sign_negative() => Prec::Prefix,
            Op::IntConst(v) if *v < 0 => Prec::Prefix,
            _ => Prec::Postfix,
        }
    }

    /// The next tighter precedence (for the right operand of a left-associative operator).
    pub fn next(self) -> Prec {
        match self {
            Prec::Select => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Compare,
            Prec::Compare => Prec::Sum,
            Prec::Sum => Prec::Product,
            Prec::Product => Prec::Cast,
            Prec::Cast => Prec::Prefix,
            Prec::Prefix | Prec::Postfix => Prec::Postfix,
        }
    }
}

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
}

impl Printer<'_> {
    /// `id` printed so that it can stand where precedence `min` is required.
    fn expr(&self, id: NodeId, min: Prec) -> String {
        if let Some(name) = self.names.get(&id) {
            return name.clone();
        }
        let text = self.bare(id);
        if Prec::of(self.g, id) < min {
            format!("({text})")
        } else {
            text
        }
    }

    /// `a, b, c`: each printed whole.
    fn list(&self, ids: &[NodeId]) -> String {
        let items: Vec<String> = ids.iter().map(|n| self.expr(*n, Prec::Select)).collect();
        items.join(", ")
    }

    fn infix(&self, a: NodeId, op: &str, b: NodeId, p: Prec) -> String {
        let right = if p == Prec::Compare {
            Prec::Sum
        } else {
            p.next()
        };
        let left = if p == Prec::Compare { Prec::Sum } else { p };
        format!("{} {op} {}", self.expr(a, left), self.expr(b, right))
    }

    fn method(&self, recv: NodeId, name: &str, args: &[NodeId]) -> String {
        let args: Vec<String> = args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
        format!(
            "{}.{name}({})",
            self.expr(recv, Prec::Postfix),
            args.join(", ")
        )
    }

    #[allow(clippy::too_many_lines)] // one arm per operation
    fn bare(&self, id: NodeId) -> String {
        let g = self.g;
        match g.op(id) {
            Op::Const(bits) => float_literal(f64::from_bits(*bits)),
            Op::Input(i) => g.input_name(*i).to_string(),
            Op::Sym(s, _) | Op::SliceArg(_, s, _) => g.symbol_name(*s).to_string(),
            Op::Cast(a) => format!("{} as {}", self.expr(*a, Prec::Prefix), self.float),
            Op::Neg(a) | Op::IntNeg(a) => format!("-{}", self.expr(*a, Prec::Prefix)),
            Op::Add(a, b) => self.infix(*a, "+", *b, Prec::Sum),
            Op::Sub(a, b) => self.infix(*a, "-", *b, Prec::Sum),
            Op::Mul(a, b) => self.infix(*a, "*", *b, Prec::Product),
            Op::Div(a, b) => self.infix(*a, "/", *b, Prec::Product),
            Op::Unary(crate::graph::Fun::Sign, a) => {
                format!("sign({})", self.expr(*a, Prec::Select))
            }
            Op::Unary(f, a) => self.method(*a, f.name(), &[]),
            Op::Powi(a, k) => self.method(*a, "powi", &[*k]),
            Op::Binary(f, a, b) => self.method(*a, f.name(), &[*b]),
            Op::Clamp(a, lo, hi) => self.method(*a, "clamp", &[*lo, *hi]),
            Op::MulAdd(a, b, c) => self.method(*a, "mul_add", &[*b, *c]),
            Op::Select(c, a, b) => format!(
                "if {} {{ {} }} else {{ {} }}",
                self.expr(*c, Prec::Or),
                self.expr(*a, Prec::Select),
                self.expr(*b, Prec::Select)
            ),
            Op::Call(f, args) => {
                let args: Vec<String> = args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
                format!("{}({})", g.symbol_name(*f), args.join(", "))
            }
            Op::StopGradient(f, a) => {
                format!("{}({})", g.symbol_name(*f), self.expr(*a, Prec::Select))
            }
            Op::CallOutput(call, k) => format!("{}[{k}]", self.expr(*call, Prec::Postfix)),
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
            Op::IntConst(v) => v.to_string(),
            Op::IntBin(o, a, b) => self.infix(*a, o.symbol(), *b, Prec::of(g, id)),
            Op::IntCast(a, ty) | Op::FloatToInt(a, ty) => {
                format!("{} as {}", self.expr(*a, Prec::Prefix), g.symbol_name(*ty))
            }
            Op::BoolConst(v) => v.to_string(),
            Op::Compare(c, a, b) => self.infix(*a, c.symbol(), *b, Prec::Compare),
            Op::Predicate(p, a) => self.method(*a, p.name(), &[]),
            Op::And(a, b) => self.infix(*a, "&&", *b, Prec::And),
            Op::Or(a, b) => self.infix(*a, "||", *b, Prec::Or),
            Op::Not(a) => format!("!{}", self.expr(*a, Prec::Prefix)),
            Op::LoopVar(v) => format!("i{v}"),
            Op::Sum { v, lo, hi, body } => format!(
                "Σ(i{v} in {}..{}) {}",
                self.expr(*lo, Prec::Sum),
                self.expr(*hi, Prec::Sum),
                self.expr(*body, Prec::Postfix)
            ),
            Op::Index(s, i) | Op::IntIndex(s, i) => {
                format!("{}[{}]", g.symbol_name(*s), self.expr(*i, Prec::Select))
            }
            Op::Element(k, i) => format!("{}[{}]", g.slice_name(*k), self.expr(*i, Prec::Select)),
            Op::Slice(k) => g.slice_name(*k).to_string(),
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
            Op::Placeholder { k, .. } => format!("carried#{k}"),
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
            Op::Component(of, k) => format!("{}.{k}", self.expr(*of, Prec::Postfix)),
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
            Op::At(t, i) | Op::AdjAt(t, i) => format!(
                "{}[{}]",
                self.expr(*t, Prec::Postfix),
                self.expr(*i, Prec::Select)
            ),
            Op::ArrayLen(a) => format!("{}.len()", self.expr(*a, Prec::Postfix)),
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
        }
    }
}

/// `2` → `₂`: which argument a partial derivative is taken with respect to.
fn subscript(i: u32) -> String {
    i.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}
