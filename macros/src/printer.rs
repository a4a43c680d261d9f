//! The one printer of expressions: a graph node as an expression of its children, with the
//! parentheses its operands need, for the emitted code (tokens, `emit.rs`) and for the formulas
//! of the docs (text, `formula.rs`).
//!
//! ```text
//! Mul(Const 2, Sub(Mul(w, x), y))   tokens: 2.0f64 * (w * x - y)
//!                                   text:   2.0 * (w * x - y)
//! ```
//!
//! Every operator's spelling, precedence and operand order is written here, once, in
//! [`Style::shared`]. A [`Style`] says how the pieces are joined (tokens or text), what the
//! leaves are called (a parameter's tokens, `__i0` or `i0` for a loop index), which nodes are
//! read by a name bound earlier, and how it spells the few nodes whose form is its own (a call's
//! partial derivative is `__d3.0` in code and `∂₀f(x, y)` in a formula).

use crate::graph::{Fun, Graph, IntOp, NodeId, Op, SymId};

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
                IntOp::Add | IntOp::Sub => Prec::Sum,
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

/// How one output (tokens or text) writes expressions. The required methods are the leaves
/// and the ways of joining pieces; [`expr`](Style::expr) and [`shared`](Style::shared), which
/// every style uses, are the printer.
pub trait Style {
    type Out;

    fn graph(&self) -> &Graph;

    /// The name `n` is read by, where it was bound before (a `let`, a loop's accumulator).
    fn bound(&self, n: NodeId) -> Option<Self::Out>;

    /// The style's own form of `n`, for the leaves and for the nodes it spells its own way
    /// (`None`: the shared form).
    fn own(&self, n: NodeId) -> Option<Self::Out>;

    /// A float constant, an integer constant, the function's float type.
    fn float(&self, v: f64) -> Self::Out;
    fn int(&self, v: i64) -> Self::Out;
    fn float_ty(&self) -> Self::Out;
    /// The user's tokens (or name) of a symbol: a path, a data slice, an integer type.
    fn symbol(&self, s: SymId) -> Self::Out;
    /// A differentiated slice, by slice number.
    fn slice(&self, k: u32) -> Self::Out;
    /// A function of the runtime (`sign`), by name.
    fn runtime(&self, name: &str) -> Self::Out;
    /// A word as written (`true`).
    fn word(&self, text: &str) -> Self::Out;
    /// What stands for a node that has no expression here (a statement reached as a value):
    /// in code, a compile error naming the bug.
    fn internal_error(&self, what: &str) -> Self::Out;

    /// `a op b`, `op a`, `(a)`, `recv.name(args)`, `f(args)`, `a[i]`, `a.k`, `a as ty`,
    /// `if c { a } else { b }`.
    fn infix(&self, a: Self::Out, op: &str, b: Self::Out) -> Self::Out;
    fn prefix(&self, op: &str, a: Self::Out) -> Self::Out;
    fn paren(&self, a: Self::Out) -> Self::Out;
    fn method(&self, recv: Self::Out, name: &str, args: Vec<Self::Out>) -> Self::Out;
    fn call(&self, f: Self::Out, args: Vec<Self::Out>) -> Self::Out;
    fn index(&self, a: Self::Out, i: Self::Out) -> Self::Out;
    fn field(&self, a: Self::Out, k: u32) -> Self::Out;
    fn cast(&self, a: Self::Out, ty: Self::Out) -> Self::Out;
    fn select(&self, c: Self::Out, a: Self::Out, b: Self::Out) -> Self::Out;

    /// Whether a cast is parenthesized wherever it is an operand. The code's must be: `n as
    /// f64 < x` would parse as generics. A formula keeps the lighter `k as f64 * x`.
    fn casts_in_parens(&self) -> bool {
        true
    }

    /// An argument of a call to another function (the code lends a differentiated slice's
    /// run as `&x[lo..hi]`).
    fn call_arg(&self, a: NodeId) -> Self::Out {
        self.expr(a, Prec::Select)
    }

    /// `n` as an expression usable where precedence `min` is required: by its name if it is
    /// bound, else its form, parenthesized if it binds looser than `min`.
    fn expr(&self, n: NodeId, min: Prec) -> Self::Out {
        if let Some(name) = self.bound(n) {
            return name;
        }
        let g = self.graph();
        let text = self.bare(n);
        let is_cast = matches!(g.op(n), Op::Cast(_) | Op::IntCast(..) | Op::FloatToInt(..));
        if Prec::of(g, n) < min || (is_cast && min > Prec::Select && self.casts_in_parens()) {
            self.paren(text)
        } else {
            text
        }
    }

    /// `n`'s own form (its children by name or inline): the style's, or the shared one.
    fn bare(&self, n: NodeId) -> Self::Out {
        self.own(n).unwrap_or_else(|| self.shared(n))
    }

    /// `a op b` at precedence `p`: left-associative, a comparison's operands both sums.
    fn binary(&self, a: NodeId, op: &str, b: NodeId, p: Prec) -> Self::Out {
        let (left, right) = if p == Prec::Compare {
            (Prec::Sum, Prec::Sum)
        } else {
            (p, p.next())
        };
        self.infix(self.expr(a, left), op, self.expr(b, right))
    }

    /// `recv.name(args…)`.
    fn call_method(&self, recv: NodeId, name: &str, args: &[NodeId]) -> Self::Out {
        let args = args.iter().map(|a| self.expr(*a, Prec::Select)).collect();
        self.method(self.expr(recv, Prec::Postfix), name, args)
    }

    /// The shared form of every expression node. A node that is a statement, or that the
    /// style must name, has no shared form: reaching one here is an internal error, which
    /// the style's [`own`](Style::own) prevents.
    fn shared(&self, n: NodeId) -> Self::Out {
        let g = self.graph();
        match g.op(n) {
            Op::Const(bits) => self.float(f64::from_bits(*bits)),
            Op::IntConst(v) => self.int(*v),
            Op::BoolConst(v) => self.word(if *v { "true" } else { "false" }),
            Op::Sym(s, _) | Op::SliceArg(_, s, _) => self.symbol(*s),
            Op::Slice(k) => self.slice(*k),
            Op::Cast(a) => self.cast(self.expr(*a, Prec::Prefix), self.float_ty()),
            Op::IntCast(a, t) | Op::FloatToInt(a, t) => {
                self.cast(self.expr(*a, Prec::Prefix), self.symbol(*t))
            }
            Op::Neg(a) | Op::IntNeg(a) => self.prefix("-", self.expr(*a, Prec::Prefix)),
            Op::Not(a) => self.prefix("!", self.expr(*a, Prec::Prefix)),
            Op::Add(a, b) => self.binary(*a, "+", *b, Prec::Sum),
            Op::Sub(a, b) => self.binary(*a, "-", *b, Prec::Sum),
            Op::Mul(a, b) => self.binary(*a, "*", *b, Prec::Product),
            Op::Div(a, b) => self.binary(*a, "/", *b, Prec::Product),
            Op::IntBin(o, a, b) => self.binary(*a, o.symbol(), *b, Prec::of(g, n)),
            Op::Compare(c, a, b) => self.binary(*a, c.symbol(), *b, Prec::Compare),
            Op::And(a, b) => self.binary(*a, "&&", *b, Prec::And),
            Op::Or(a, b) => self.binary(*a, "||", *b, Prec::Or),
            Op::Unary(Fun::Sign, a) => {
                self.call(self.runtime("sign"), vec![self.expr(*a, Prec::Select)])
            }
            Op::Unary(f, a) => self.call_method(*a, f.name(), &[]),
            Op::Predicate(p, a) => self.call_method(*a, p.name(), &[]),
            Op::Powi(a, k) => self.call_method(*a, "powi", &[*k]),
            Op::Binary(f, a, b) => self.call_method(*a, f.name(), &[*b]),
            Op::Clamp(a, lo, hi) => self.call_method(*a, "clamp", &[*lo, *hi]),
            Op::MulAdd(a, b, c) => self.call_method(*a, "mul_add", &[*b, *c]),
            Op::Select(c, a, b) => self.select(
                self.expr(*c, Prec::Or),
                self.expr(*a, Prec::Select),
                self.expr(*b, Prec::Select),
            ),
            Op::Call(f, args) => {
                let args = args.iter().map(|a| self.call_arg(*a)).collect();
                self.call(self.symbol(*f), args)
            }
            Op::StopGradient(f, a) => self.call(self.symbol(*f), vec![self.expr(*a, Prec::Select)]),
            Op::CallOutput(call, k) => {
                self.index(self.expr(*call, Prec::Postfix), self.int(i64::from(*k)))
            }
            Op::Index(s, i) | Op::IntIndex(s, i) => {
                self.index(self.symbol(*s), self.expr(*i, Prec::Select))
            }
            Op::Element(k, i) => self.index(self.slice(*k), self.expr(*i, Prec::Select)),
            Op::At(t, i) | Op::AdjAt(t, i) => {
                self.index(self.expr(*t, Prec::Postfix), self.expr(*i, Prec::Select))
            }
            Op::ArrayLen(a) => self.method(self.expr(*a, Prec::Postfix), "len", Vec::new()),
            Op::Component(of, k) => self.field(self.expr(*of, Prec::Postfix), *k),
            _ => self.internal_error("a statement printed as an expression"),
        }
    }
}
