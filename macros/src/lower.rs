//! Lowering: the function body (syn) becomes a symbolic [`Graph`].
//!
//! Straight-line code becomes nodes; locals are names for nodes; control flow is *if-converted*:
//!
//! ```text
//! // Input:                          // Graph:
//! let mut y = x * 2.0;               // y₀ = 2·x
//! if x > 1.0 { y = y.ln(); }         // y₁ = select(x > 1, ln y₀, y₀)
//! if y < 0.0 { return 0.0; }         // r  = y₁ < 0
//! y * y                              // out = select(r, 0, y₁·y₁)
//! ```
//!
//! A `Select` evaluates only its taken branch in generated code, so `ln` of a negative number in
//! an untaken branch never poisons the result. Every node remembers the span of the expression
//! it came from ([`Origin`] indexes `spans`). Unsupported constructs are reported to the
//! [`Ctxt`] at their tokens, and lowering goes on, so one pass reports every problem.

mod loops;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Block, Expr, ExprIf, ExprMatch, Lit, Local, Pat, Stmt, Type, UnOp};

use crate::ctxt::{Ctxt, msg};
use crate::graph::{Cmp, Fun, Fun2, Graph, IntOp, Kind, NodeId, Op, Origin, Pred, SymId};
use crate::signature::{FloatTy, ParamKind, Sig, float_of, is_int_type};

/// The result of lowering a function body.
pub struct Lowered {
    pub graph: Graph,
    /// The function's value.
    pub output: NodeId,
    /// The input node of every float parameter, in declaration order.
    pub inputs: Vec<NodeId>,
    /// The tokens of every symbol, by `SymId`.
    pub symbols: Vec<TokenStream>,
    /// The span of every origin, by `Origin`.
    pub spans: Vec<Span>,
    /// The checked alias of each callee whose derivative is called, by the `SymId` of its path
    /// (filled in by `callees::redirect`).
    pub callees: HashMap<u32, TokenStream>,
}

/// Lowers `body`; `Err` with the graph as far as it was built if errors were reported.
pub fn lower(cx: &Ctxt, sig: &Sig, body: &Block) -> Result<Lowered, Box<Lowered>> {
    let mut l = Lower::new(cx, sig);
    let inputs = l.bind_params();
    let tail = l.block(body, Want::Float);
    let output = l.finish(tail, body);
    let lowered = Lowered {
        graph: l.g,
        output,
        inputs,
        symbols: l.symbols,
        spans: l.spans,
        callees: HashMap::new(),
    };
    if cx.has_errors() {
        Err(Box::new(lowered))
    } else {
        Ok(lowered)
    }
}

/// What the context of an expression expects.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Want {
    Float,
    Int,
    Bool,
    Any,
}

/// How a block ended.
#[derive(Clone, Copy, Debug)]
enum Tail {
    Value(NodeId),
    Unit,
    /// Every path through it returned.
    Diverged,
}

/// A construct around a statement that changes what `return` means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Enclosing {
    Loop,
    Closure,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Binding {
    Value(NodeId),
    /// `let x;` before its first assignment.
    Uninit,
}

/// The names in scope: innermost scope last; in a scope, later entries shadow earlier ones.
type Scopes = Vec<Vec<(String, Binding)>>;

#[derive(Clone)]
struct State {
    /// Innermost scope last; in a scope, later entries shadow earlier ones.
    scopes: Scopes,
    /// Has the function returned on the current path? (a boolean node)
    returned: NodeId,
    /// The value it returned, where it has.
    ret_val: NodeId,
}

struct Lower<'a> {
    cx: &'a Ctxt,
    sig: &'a Sig,
    g: Graph,
    symbols: Vec<TokenStream>,
    spans: Vec<Span>,
    state: State,
    /// Names of the parameters of kind `Other`, which opaque expressions may mention.
    data_params: Vec<String>,
    /// Every parameter's name and node.
    param_nodes: Vec<(String, NodeId)>,
    /// How many loop-carried placeholders have been made (see `lower::loops`).
    placeholders: u32,
    /// The data parameters that hold integers (`&[usize]`: indices), by node.
    int_slices: Vec<NodeId>,
    /// The float slice parameters taken as data (not differentiated).
    data_slices: Vec<NodeId>,
    /// The `for` loops and closures around the statement being lowered, innermost last, where a
    /// `return` cannot be differentiated (in a closure it would not even return from the function).
    enclosing: Vec<Enclosing>,
    /// Locals whose `let` was reported: their uses are not reported again.
    failed_lets: HashSet<String>,
    /// The runs of a slice bound to names (windows, chunks), by the node the name is bound to.
    views: HashMap<NodeId, loops::View>,
    /// Closures bound by `let`, by the node their name is bound to: the closure and the scopes
    /// at its definition (what it captures).
    closures: HashMap<NodeId, (syn::ExprClosure, Scopes)>,
}

impl<'a> Lower<'a> {
    fn new(cx: &'a Ctxt, sig: &'a Sig) -> Self {
        let mut g = Graph::new();
        let returned = g.boolean(false);
        let ret_val = g.zero();
        Lower {
            cx,
            sig,
            g,
            symbols: Vec::new(),
            spans: Vec::new(),
            state: State {
                scopes: vec![Vec::new()],
                returned,
                ret_val,
            },
            data_params: Vec::new(),
            param_nodes: Vec::new(),
            placeholders: 0,
            failed_lets: HashSet::new(),
            views: HashMap::new(),
            closures: HashMap::new(),
            int_slices: Vec::new(),
            data_slices: Vec::new(),
            enclosing: Vec::new(),
        }
    }

    fn float_ty(&self) -> FloatTy {
        self.sig.float
    }

    // ---------------------------------------------------------------- symbols, spans, names

    fn origin(&mut self, span: Span) -> Origin {
        self.spans.push(span);
        Origin(u32::try_from(self.spans.len() - 1).expect("internal error: too many spans"))
    }

    /// Nodes built inside `f` remember `span`.
    fn at<T>(&mut self, span: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        let o = self.origin(span);
        let saved = self.g.current_origin.replace(o);
        let out = f(self);
        self.g.current_origin = saved;
        out
    }

    fn symbol(&mut self, tokens: TokenStream, name: String) -> SymId {
        self.symbols.push(tokens);
        self.g.new_symbol(name)
    }

    fn sym_node(&mut self, tokens: TokenStream, kind: Kind) -> NodeId {
        let name = pretty(&tokens);
        let s = self.symbol(tokens, name);
        self.g.add(Op::Sym(s, kind))
    }

    fn bind_params(&mut self) -> Vec<NodeId> {
        let mut inputs = Vec::new();
        for p in &self.sig.params {
            let name = p.ident.to_string();
            let node = match p.kind {
                ParamKind::Float => {
                    let n = self.g.new_input(name.clone());
                    inputs.push(n);
                    n
                }
                ParamKind::Int => self.sym_node(p.ident.to_token_stream(), Kind::Int),
                ParamKind::Bool => self.sym_node(p.ident.to_token_stream(), Kind::Bool),
                ParamKind::Slice if p.differentiated => self.g.new_slice(name.clone()),
                ParamKind::Other | ParamKind::Array | ParamKind::Slice => {
                    self.data_params.push(name.clone());
                    let n = self.sym_node(p.ident.to_token_stream(), Kind::Other);
                    if crate::signature::holds_integers(&p.ty) {
                        self.int_slices.push(n);
                    }
                    if p.kind == ParamKind::Slice {
                        self.data_slices.push(n);
                    }
                    n
                }
            };
            self.param_nodes.push((name.clone(), node));
            self.state.scopes[0].push((name, Binding::Value(node)));
        }
        inputs
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.state
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.iter().rev().find(|(n, _)| n == name).map(|(_, b)| *b))
    }

    fn declare(&mut self, name: String, b: Binding) {
        self.state
            .scopes
            .last_mut()
            .expect("internal error: no scope")
            .push((name, b));
    }

    /// Rebinds an existing name (assignment); `false` if there is no such local.
    fn assign_name(&mut self, name: &str, value: NodeId) -> bool {
        for scope in self.state.scopes.iter_mut().rev() {
            if let Some(entry) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                entry.1 = Binding::Value(value);
                return true;
            }
        }
        false
    }

    // ---------------------------------------------------------------- the function's result

    /// `select(returned, ret_val, tail)`: the value of the whole body.
    fn finish(&mut self, tail: Tail, body: &Block) -> NodeId {
        let returned = self.state.returned;
        let ret_val = self.state.ret_val;
        match tail {
            Tail::Value(v) => self.g.select(returned, ret_val, v),
            Tail::Diverged => ret_val,
            Tail::Unit => {
                if self.g.as_bool(returned) != Some(true) && !self.cx.has_errors() {
                    let span = body
                        .stmts
                        .last()
                        .map_or_else(|| body.brace_token.span.join(), Spanned::span);
                    self.cx.error_at(
                        span,
                        msg(
                            "the body must end with the value it returns",
                            "end the body with the loss expression (no `;`), or `return` it",
                        ),
                    );
                }
                ret_val
            }
        }
    }

    // ---------------------------------------------------------------- statements

    fn block(&mut self, b: &Block, want: Want) -> Tail {
        self.state.scopes.push(Vec::new());
        let tail = self.stmts(&b.stmts, want);
        self.state.scopes.pop();
        tail
    }

    fn definitely_returned(&self) -> bool {
        self.g.as_bool(self.state.returned) == Some(true)
    }

    fn stmts(&mut self, stmts: &[Stmt], want: Want) -> Tail {
        let mut tail = Tail::Unit;
        for (i, stmt) in stmts.iter().enumerate() {
            if self.definitely_returned() {
                return Tail::Diverged;
            }
            tail = Tail::Unit;
            match stmt {
                Stmt::Local(local) => self.local(local),
                Stmt::Item(item) => self.item(item),
                Stmt::Expr(e, None) if i + 1 == stmts.len() => tail = self.expr_tail(e, want),
                Stmt::Expr(e, _) => tail = self.expr_stmt(e),
                Stmt::Macro(m) => self.cx.error_spanned_by(
                    &m.mac,
                    msg(
                        format!("macro `{}!` cannot be differentiated", pretty(&m.mac.path.to_token_stream())),
                        "move printing and assertions out of the differentiated function, or into a caller",
                    ),
                ),
            }
            if matches!(tail, Tail::Diverged) {
                return Tail::Diverged;
            }
        }
        tail
    }

    fn item(&mut self, item: &syn::Item) {
        if let syn::Item::Const(c) = item {
            let want = want_of_type(&c.ty);
            if let Some(v) = self.expr(&c.expr, want) {
                self.declare(c.ident.to_string(), Binding::Value(v));
            }
            return;
        }
        self.cx.error_spanned_by(
            item,
            msg(
                "items inside a differentiated function are not supported (except `const`)",
                "move the item out of the function body",
            ),
        );
    }

    fn local(&mut self, local: &Local) {
        let Some(init) = &local.init else {
            return self.declare_uninit(&local.pat);
        };
        if let Some((_, diverge)) = &init.diverge {
            self.cx.error_spanned_by(
                diverge,
                msg(
                    "`let ... else` cannot be differentiated",
                    "use `if`/`match` to compute the value",
                ),
            );
            return;
        }
        self.bind_pattern(&local.pat, &init.expr, Want::Any);
    }

    fn declare_uninit(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(p) => self.declare(p.ident.to_string(), Binding::Uninit),
            Pat::Type(t) => self.declare_uninit(&t.pat),
            other => self.cx.error_spanned_by(
                other,
                msg(
                    "this pattern is not supported in `let`",
                    "bind one name per `let`",
                ),
            ),
        }
    }

    fn bind_pattern(&mut self, pat: &Pat, init: &Expr, want: Want) {
        match pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                // `let y = x;`, `let y = &x;`: the name of a slice or other data parameter.
                let mut named = init;
                while let Expr::Reference(syn::ExprReference { expr, .. })
                | Expr::Paren(syn::ExprParen { expr, .. }) = named
                {
                    named = expr;
                }
                // `let w = |x: f64| …;`: inlined at each call, with what it captured here.
                if let Expr::Closure(c) = named {
                    let handle = self.sym_node(p.ident.to_token_stream(), Kind::Other);
                    self.closures
                        .insert(handle, (c.clone(), self.state.scopes.clone()));
                    self.failed_lets.remove(&p.ident.to_string());
                    self.declare(p.ident.to_string(), Binding::Value(handle));
                    return;
                }
                let value = match self.bound_to(named) {
                    Some(n) if self.g.kind(n) == Kind::Other => Some(n),
                    _ => self.expr(init, want),
                };
                if let Some(v) = value.filter(|v| self.g.kind(*v) == Kind::Other) {
                    // Data (a slice, an array, any other parameter) keeps its own name: the
                    // generated code refers to it by the parameter's name.
                    self.cx.error_spanned_by(
                        local_span(p, init),
                        msg(
                            format!("`let {}` would give data another name", p.ident),
                            format!("use `{}` itself", pretty(&named.to_token_stream())),
                        ),
                    );
                    self.declare(p.ident.to_string(), Binding::Value(v));
                } else if let Some(v) = value {
                    self.failed_lets.remove(&p.ident.to_string());
                    self.declare(p.ident.to_string(), Binding::Value(v));
                } else {
                    // Keep the name bound so later uses do not report a second error.
                    let z = self.g.zero();
                    self.failed_lets.insert(p.ident.to_string());
                    self.declare(p.ident.to_string(), Binding::Value(z));
                }
            }
            Pat::Type(t) => {
                let want = want_of_type(&t.ty);
                if want == Want::Any {
                    self.cx.error_spanned_by(
                        &t.ty,
                        msg(
                            "only `f64`/`f32`, integer and `bool` locals are supported",
                            "keep data in parameters; compute scalars in the body",
                        ),
                    );
                }
                self.bind_pattern(&t.pat, init, want);
            }
            Pat::Wild(_) => {
                let _ = self.expr(init, want);
            }
            Pat::Slice(ps) => self.bind_elements(ps, init),
            Pat::Tuple(pt) => match init {
                Expr::Tuple(et) if et.elems.len() == pt.elems.len() => {
                    let values: Vec<Option<NodeId>> =
                        et.elems.iter().map(|e| self.expr(e, Want::Any)).collect();
                    for (p, v) in pt.elems.iter().zip(values) {
                        if let (Pat::Ident(id), Some(v)) = (p, v) {
                            self.declare(id.ident.to_string(), Binding::Value(v));
                        } else if !matches!(p, Pat::Wild(_)) {
                            self.cx.error_spanned_by(
                                p,
                                msg(
                                    "only names and `_` are supported inside a tuple pattern",
                                    "write `let (a, b) = (x, y);`",
                                ),
                            );
                        }
                    }
                }
                _ => self.cx.error_spanned_by(
                    init,
                    msg(
                        "a tuple pattern needs a tuple expression of the same length",
                        "write `let (a, b) = (x, y);`, or bind each value with its own `let`",
                    ),
                ),
            },
            other => self.cx.error_spanned_by(
                other,
                msg(
                    "this pattern is not supported in `let`",
                    "bind a plain name: `let y = ...;`",
                ),
            ),
        }
    }

    /// An expression statement (its value, if any, is discarded).
    fn expr_stmt(&mut self, e: &Expr) -> Tail {
        match e {
            Expr::Assign(a) => {
                self.assign(&a.left, &a.right, None, e.span());
                Tail::Unit
            }
            Expr::Binary(b) if compound_op(&b.op).is_some() => {
                self.assign(&b.left, &b.right, compound_op(&b.op), e.span());
                Tail::Unit
            }
            Expr::If(_)
            | Expr::Match(_)
            | Expr::Block(_)
            | Expr::Return(_)
            | Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Loop(_) => match self.expr_tail(e, Want::Any) {
                Tail::Diverged => Tail::Diverged,
                _ => Tail::Unit,
            },
            Expr::Paren(p) => self.expr_stmt(&p.expr),
            other => {
                if let Some(l) = loop_error(other) {
                    self.cx.error_spanned_by(l.0, l.1);
                } else {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            "a statement whose value is discarded has no effect on the result",
                            "remove it, or bind it with `let` and use it",
                        ),
                    );
                }
                Tail::Unit
            }
        }
    }

    fn assign(&mut self, left: &Expr, right: &Expr, op: Option<ArithOp>, span: Span) {
        let name = match left {
            Expr::Path(p) if p.path.get_ident().is_some() => p
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default(),
            Expr::Paren(p) => return self.assign(&p.expr, right, op, span),
            Expr::Index(ix) => {
                if !self.mentions_failed_let(&ix.expr) {
                    let (message, help) = self.element_write(ix);
                    self.cx.error_spanned_by(left, msg(message, help));
                }
                return;
            }
            other => {
                self.cx.error_spanned_by(other, msg("only local variables can be assigned", "assign to a `let mut` local; writing into parameters or through references is not differentiated"));
                return;
            }
        };
        let Some(old) = self.lookup(&name) else {
            self.cx.error_spanned_by(
                left,
                msg(
                    format!("`{name}` is not a local variable"),
                    "declare it with `let mut`",
                ),
            );
            return;
        };
        if self.data_params.contains(&name) {
            self.cx.error_spanned_by(
                left,
                msg(
                    format!("cannot assign to data parameter `{name}`"),
                    "compute into a new local instead",
                ),
            );
            return;
        }
        let new = match (op, old) {
            (None, Binding::Uninit) => self.expr(right, Want::Any),
            (None, Binding::Value(o)) => {
                let want = want_of_kind(self.g.kind(o));
                self.expr(right, want)
            }
            (Some(_), Binding::Uninit) => {
                self.cx.error_spanned_by(
                    left,
                    msg(
                        format!("`{name}` is used before it is assigned"),
                        "give it a value first",
                    ),
                );
                None
            }
            (Some(op), Binding::Value(o)) => {
                let kind = self.g.kind(o);
                self.expr(right, want_of_kind(kind))
                    .and_then(|r| self.at(span, |l| l.arith(op, o, r, span)))
            }
        };
        if let Some(v) = new {
            self.assign_name(&name, v);
        }
    }

    // ---------------------------------------------------------------- control flow

    /// An expression in tail position, where `if`, `match`, blocks and `return` may diverge.
    fn expr_tail(&mut self, e: &Expr, want: Want) -> Tail {
        match e {
            Expr::If(i) => self.if_expr(i, want),
            Expr::Match(m) => self.match_expr(m, want),
            Expr::Block(b) if b.label.is_none() => self.block(&b.block, want),
            Expr::Paren(p) => self.expr_tail(&p.expr, want),
            Expr::ForLoop(f) => {
                self.for_loop(f);
                Tail::Unit
            }
            Expr::While(w) => {
                self.while_loop(w);
                Tail::Unit
            }
            Expr::Loop(l) => {
                self.loop_loop(l);
                Tail::Unit
            }
            Expr::Return(r) => {
                let Some(value) = &r.expr else {
                    self.cx.error_spanned_by(
                        r,
                        msg(
                            "`return` needs the value of the function",
                            "write `return <loss>;`",
                        ),
                    );
                    return Tail::Diverged;
                };
                if let Some(around) = self.enclosing.last() {
                    let (what, help) = match around {
                        Enclosing::Loop => (
                            "`return` inside a loop cannot be differentiated",
                            "compute the value in the loop and return after it",
                        ),
                        Enclosing::Closure => (
                            "`return` inside a closure cannot be differentiated",
                            "give the closure's value with `if … { … } else { … }`",
                        ),
                    };
                    self.cx.error_spanned_by(r, msg(what, help));
                    return Tail::Diverged;
                }
                if let Some(v) = self.expr(value, Want::Float) {
                    let (returned, ret_val) = (self.state.returned, self.state.ret_val);
                    self.state.ret_val = self.g.select(returned, ret_val, v);
                    self.state.returned = self.g.boolean(true);
                }
                Tail::Diverged
            }
            other => match self.expr(other, want) {
                Some(v) => Tail::Value(v),
                None => Tail::Unit,
            },
        }
    }

    /// Lowers two branches from the same state and merges them under `cond`.
    fn branch(
        &mut self,
        cond: NodeId,
        then: impl FnOnce(&mut Self) -> Tail,
        otherwise: impl FnOnce(&mut Self) -> Tail,
    ) -> Tail {
        let before = self.state.clone();
        let t = then(self);
        let then_state = std::mem::replace(&mut self.state, before.clone());
        let e = otherwise(self);
        let else_state = std::mem::replace(&mut self.state, then_state.clone());
        self.state = self.merge(cond, &then_state, &else_state);
        // After an earlier `return` may have happened, this `if` runs only where it did not:
        // its condition is evaluated only then (`if k == 0 { return x; } if 10 / k > 2 { … }`).
        let (r0, v0) = (before.returned, before.ret_val);
        if self.g.as_bool(r0) != Some(false) {
            let yes = self.g.boolean(true);
            self.state.returned = self.g.select(r0, yes, self.state.returned);
            self.state.ret_val = self.g.select(r0, v0, self.state.ret_val);
        }
        match (t, e) {
            (Tail::Value(a), Tail::Value(b)) => Tail::Value(self.g.select(cond, a, b)),
            (Tail::Diverged, Tail::Diverged) => Tail::Diverged,
            (Tail::Diverged, other) | (other, Tail::Diverged) => other,
            _ => Tail::Unit,
        }
    }

    fn merge(&mut self, cond: NodeId, a: &State, b: &State) -> State {
        let a_gone = self.g.as_bool(a.returned) == Some(true);
        let b_gone = self.g.as_bool(b.returned) == Some(true);
        let mut scopes = a.scopes.clone();
        for (sa, (scope, sb)) in a.scopes.iter().zip(scopes.iter_mut().zip(&b.scopes)) {
            for (k, ((_, ba), (_, bb))) in sa.iter().zip(sb).enumerate() {
                scope[k].1 = match (*ba, *bb) {
                    _ if b_gone => *ba,
                    _ if a_gone => *bb,
                    (Binding::Value(x), Binding::Value(y)) => {
                        Binding::Value(self.g.select(cond, x, y))
                    }
                    (Binding::Uninit, other) | (other, Binding::Uninit) => other,
                };
            }
        }
        State {
            scopes,
            returned: self.g.select(cond, a.returned, b.returned),
            ret_val: self.g.select(cond, a.ret_val, b.ret_val),
        }
    }

    fn if_expr(&mut self, i: &ExprIf, want: Want) -> Tail {
        if let Expr::Let(l) = &*i.cond {
            self.cx.error_spanned_by(
                l,
                msg(
                    "`if let` cannot be differentiated",
                    "branch on a comparison: `if x > 0.0 { ... }`",
                ),
            );
            return Tail::Unit;
        }
        let Some(cond) = self.expr(&i.cond, Want::Bool) else {
            return Tail::Unit;
        };
        self.branch(
            cond,
            |l| l.block(&i.then_branch, want),
            |l| match &i.else_branch {
                Some((_, e)) => l.expr_tail(e, want),
                None => Tail::Unit,
            },
        )
    }

    fn match_expr(&mut self, m: &ExprMatch, want: Want) -> Tail {
        let scrutinee = match &*m.expr {
            Expr::Tuple(t) if t.elems.is_empty() => None,
            e => match self.expr(e, Want::Any) {
                Some(v) => Some(v),
                None => return Tail::Unit,
            },
        };
        if m.arms.is_empty() {
            self.cx
                .error_spanned_by(m, msg("a `match` without arms has no value", "add arms"));
            return Tail::Unit;
        }
        self.arms(scrutinee, &m.arms, want)
    }

    fn arms(&mut self, scrutinee: Option<NodeId>, arms: &[syn::Arm], want: Want) -> Tail {
        let (arm, rest) = arms
            .split_first()
            .expect("internal error: arms checked non-empty");
        self.state.scopes.push(Vec::new());
        let matched = self.pattern(scrutinee, &arm.pat);
        if rest.is_empty() {
            // Rust checked exhaustiveness: the last arm matches whatever is left.
            let tail = self.expr_tail(&arm.body, want);
            self.state.scopes.pop();
            return tail;
        }
        let guard = match &arm.guard {
            Some((_, g)) => self.expr(g, Want::Bool),
            None => Some(self.g.boolean(true)),
        };
        let (Some(matched), Some(guard)) = (matched, guard) else {
            self.state.scopes.pop();
            return Tail::Unit;
        };
        let cond = self.g.and(matched, guard);
        let bindings = self.state.scopes.pop().unwrap_or_default();
        self.branch(
            cond,
            |l| {
                l.state.scopes.push(bindings);
                let t = l.expr_tail(&arm.body, want);
                l.state.scopes.pop();
                t
            },
            |l| l.arms(scrutinee, rest, want),
        )
    }

    /// The condition under which `pat` matches `scrutinee`; binds names in the current scope.
    fn pattern(&mut self, scrutinee: Option<NodeId>, pat: &Pat) -> Option<NodeId> {
        let yes = self.g.boolean(true);
        let Some(s) = scrutinee else {
            return match pat {
                Pat::Wild(_) => Some(yes),
                Pat::Tuple(t) if t.elems.is_empty() => Some(yes),
                other => {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            "`match ()` arms must be `_ if <condition>`",
                            "write `_ if x > 0.0 => ...`",
                        ),
                    );
                    None
                }
            };
        };
        match pat {
            Pat::Wild(_) => Some(yes),
            Pat::Ident(p) if p.subpat.is_none() => {
                self.declare(p.ident.to_string(), Binding::Value(s));
                Some(yes)
            }
            Pat::Paren(p) => self.pattern(scrutinee, &p.pat),
            Pat::Or(o) => {
                let mut acc = self.g.boolean(false);
                for case in &o.cases {
                    let c = self.pattern(scrutinee, case)?;
                    acc = self.g.or(acc, c);
                }
                Some(acc)
            }
            Pat::Lit(l) => {
                let v = self.expr(&Expr::Lit(l.clone()), want_of_kind(self.g.kind(s)))?;
                Some(self.equals(s, v))
            }
            Pat::Path(p) => {
                let v = self.sym_node(p.to_token_stream(), self.g.kind(s));
                Some(self.equals(s, v))
            }
            Pat::Range(r) => {
                let want = want_of_kind(self.g.kind(s));
                let mut cond = yes;
                if let Some(lo) = &r.start {
                    let lo = self.expr(lo, want)?;
                    let c = self.g.compare(Cmp::Ge, s, lo);
                    cond = self.g.and(cond, c);
                }
                if let Some(hi) = &r.end {
                    let hi = self.expr(hi, want)?;
                    let op = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                        Cmp::Le
                    } else {
                        Cmp::Lt
                    };
                    let c = self.g.compare(op, s, hi);
                    cond = self.g.and(cond, c);
                }
                Some(cond)
            }
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "this pattern is not supported in a differentiated `match`",
                        "use literals, ranges, `|`, `_`, a name, and `if` guards",
                    ),
                );
                None
            }
        }
    }

    fn equals(&mut self, s: NodeId, v: NodeId) -> NodeId {
        if self.g.kind(s) == Kind::Bool {
            // `b == true` is `b`; `b == false` is `!b`.
            let nv = self.g.not(v);
            let both = self.g.and(s, v);
            let neither = self.g.not(s);
            let neither = self.g.and(neither, nv);
            return self.g.or(both, neither);
        }
        self.g.compare(Cmp::Eq, s, v)
    }

    // ---------------------------------------------------------------- expressions

    /// Lowers an expression that must produce a value.
    fn expr(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        let span = e.span();
        self.at(span, |l| l.expr_inner(e, want))
    }

    fn expr_inner(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        match e {
            Expr::Lit(l) => self.literal(&l.lit, want),
            Expr::Path(p) => self.path(p, want),
            Expr::Paren(p) => self.expr(&p.expr, want),
            Expr::Group(g) => self.expr(&g.expr, want),
            Expr::Unary(u) => self.unary(u, want),
            Expr::Binary(b) => self.binary(b, want),
            Expr::MethodCall(m) => self.method_call(m, want),
            Expr::Call(c) => self.call(c, want),
            Expr::Cast(c) => self.cast(c),
            Expr::If(_) | Expr::Match(_) | Expr::Block(_) => match self.expr_tail(e, want) {
                Tail::Value(v) => Some(v),
                Tail::Diverged => Some(self.g.zero()),
                Tail::Unit => {
                    if !self.cx.has_errors() {
                        self.cx.error_spanned_by(
                            e,
                            msg(
                                "this expression has no value",
                                "give every branch a value (an `if` needs an `else`)",
                            ),
                        );
                    }
                    None
                }
            },
            Expr::Field(_) => self.opaque(e, want),
            Expr::Index(i) => self.index(i, want),
            Expr::Unsafe(u) => {
                self.cx.error_spanned_by(u.unsafe_token, msg("`unsafe` blocks cannot be differentiated", "compute the value outside the differentiated function and pass it in as data"));
                None
            }
            Expr::Return(r) => {
                self.cx.error_spanned_by(
                    r,
                    msg(
                        "`return` is only supported as a statement or at the end of a branch",
                        "write `if cond { return value; }`",
                    ),
                );
                None
            }
            Expr::Repeat(_) | Expr::Array(_) => {
                self.cx.error_spanned_by(e, local_array_message());
                None
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                self.cx.error_spanned_by(e, local_array_message());
                None
            }
            other => {
                let (tokens, message) = loop_error(other).unwrap_or_else(|| {
                    (other.to_token_stream(), msg(format!("`{}` cannot be differentiated", describe(other)), "supported are arithmetic, float methods, `let`, `if`/`match`, and calls of `#[differentiable]` functions"))
                });
                self.cx.error_spanned_by(tokens, message);
                None
            }
        }
    }

    fn literal(&mut self, lit: &Lit, want: Want) -> Option<NodeId> {
        match lit {
            Lit::Float(f) => match f.base10_parse::<f64>() {
                Ok(v) if want == Want::Int => {
                    self.cx.error_spanned_by(
                        f,
                        msg(
                            "expected an integer here, found a float literal",
                            "write an integer",
                        ),
                    );
                    let _ = v;
                    None
                }
                Ok(v) => Some(self.g.constant(v)),
                Err(e) => {
                    self.cx.push(e);
                    None
                }
            },
            Lit::Int(i) => {
                let suffix_float = matches!(i.suffix(), "f32" | "f64");
                if want == Want::Float || suffix_float {
                    // `2f64`, or an integer literal where a float is expected (rustc reports the latter).
                    return i
                        .base10_parse::<f64>()
                        .map_err(|e| self.cx.push(e))
                        .ok()
                        .map(|v| self.g.constant(v));
                }
                match i.base10_parse::<i64>() {
                    Ok(v) => Some(self.g.int(v)),
                    Err(_) => Some(self.sym_node(i.to_token_stream(), Kind::Int)),
                }
            }
            Lit::Bool(b) => Some(self.g.boolean(b.value)),
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "only number and `bool` literals can appear in a differentiated function",
                        "use `f64` values",
                    ),
                );
                None
            }
        }
    }

    fn path(&mut self, p: &syn::ExprPath, want: Want) -> Option<NodeId> {
        if let Some(id) = p.path.get_ident() {
            match self.lookup(&id.to_string()) {
                Some(Binding::Value(v)) if self.closures.contains_key(&v) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("the closure `{id}` can only be called here"),
                            format!("call it (`{id}(x)`), or write the expression in place"),
                        ),
                    );
                    return None;
                }
                // A window or chunk exists only in the lowering: it is read, not passed on.
                Some(Binding::Value(v)) if self.views.contains_key(&v) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("`{id}` (a run of a slice) can only be indexed, measured or iterated here"),
                            format!("read its elements (`{id}[0]`), its length (`{id}.len()`), or iterate over `{id}.iter()`; to pass a run to a function, pass the slice and the run's start"),
                        ),
                    );
                    return None;
                }
                Some(Binding::Value(v)) => return Some(v),
                Some(Binding::Uninit) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("`{id}` is used before it is assigned"),
                            "assign it on every path first",
                        ),
                    );
                    return None;
                }
                None => {}
            }
        }
        // A constant the graph does not look into: a `const` item, `PI`, `f64::EPSILON`.
        let kind = match want {
            Want::Int => Kind::Int,
            Want::Bool => Kind::Bool,
            Want::Float | Want::Any => Kind::Float,
        };
        Some(self.sym_node(p.to_token_stream(), kind))
    }

    fn unary(&mut self, u: &syn::ExprUnary, want: Want) -> Option<NodeId> {
        match u.op {
            UnOp::Neg(_) => {
                let a = self.expr(&u.expr, want)?;
                Some(match self.g.kind(a) {
                    Kind::Int => self.g.add(Op::IntNeg(a)),
                    _ => self.g.neg(a),
                })
            }
            UnOp::Not(_) => {
                let a = self.expr(&u.expr, Want::Bool)?;
                if self.g.kind(a) != Kind::Bool {
                    self.cx.error_spanned_by(
                        u,
                        msg(
                            "`!` is only supported on conditions",
                            "bitwise operations on integers cannot be differentiated",
                        ),
                    );
                    return None;
                }
                Some(self.g.not(a))
            }
            // `*a` of a closure's `&f64` item is the item.
            UnOp::Deref(_) => match &*u.expr {
                Expr::Path(p) if p.path.get_ident().is_some_and(|id| {
                    matches!(self.lookup(&id.to_string()), Some(Binding::Value(n)) if self.g.kind(n) == Kind::Float)
                }) =>
                {
                    self.expr(&u.expr, want)
                }
                _ => self.opaque(&Expr::Unary(u.clone()), want),
            },
            _ => {
                self.cx.error_spanned_by(
                    u,
                    msg(
                        "this operator cannot be differentiated",
                        "use arithmetic on floats",
                    ),
                );
                None
            }
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary, want: Want) -> Option<NodeId> {
        if let Some(op) = compound_op(&b.op) {
            let _ = op;
            self.cx.error_spanned_by(
                b,
                msg(
                    "compound assignment is a statement, not a value",
                    "write it on its own line: `acc += x;`",
                ),
            );
            return None;
        }
        match &b.op {
            BinOp::And(_) | BinOp::Or(_) => {
                let l = self.expr(&b.left, Want::Bool)?;
                let r = self.expr(&b.right, Want::Bool)?;
                Some(if matches!(b.op, BinOp::And(_)) {
                    self.g.and(l, r)
                } else {
                    self.g.or(l, r)
                })
            }
            op => {
                if let Some(cmp) = comparison(op) {
                    let (l, r) = self.operands(&b.left, &b.right, Want::Any)?;
                    return Some(self.g.compare(cmp, l, r));
                }
                let Some(arith) = arith_op(op) else {
                    self.cx.error_spanned_by(
                        b.op,
                        msg(
                            "bitwise operators cannot be differentiated",
                            "use arithmetic on floats",
                        ),
                    );
                    return None;
                };
                let want = if want == Want::Bool { Want::Any } else { want };
                let (l, r) = self.operands(&b.left, &b.right, want)?;
                self.arith(arith, l, r, b.op.span())
            }
        }
    }

    /// Lowers two operands so that they have the same kind (the first one decides).
    fn operands(&mut self, left: &Expr, right: &Expr, want: Want) -> Option<(NodeId, NodeId)> {
        let l = self.expr(left, want);
        let want_r = l.map_or(want, |l| want_of_kind(self.g.kind(l)));
        let r = self.expr(right, want_r)?;
        let mut l = l?;
        // `1 < x` or `2 * n as f64`: an integer literal on the left of a float.
        if self.g.kind(l) == Kind::Int && self.g.kind(r) == Kind::Float {
            if let Some(v) = self.g.as_int(l) {
                l = self.g.constant(v as f64);
            }
        }
        Some((l, r))
    }

    fn arith(&mut self, op: ArithOp, l: NodeId, r: NodeId, span: Span) -> Option<NodeId> {
        let (kl, kr) = (self.g.kind(l), self.g.kind(r));
        if kl != kr || !matches!(kl, Kind::Float | Kind::Int) {
            self.cx.error_at(
                span,
                msg(
                    "mismatched operands: both sides must be floats, or both integers",
                    "convert integers with `as f64`",
                ),
            );
            return None;
        }
        if kl == Kind::Int {
            let op = match op {
                ArithOp::Add => IntOp::Add,
                ArithOp::Sub => IntOp::Sub,
                ArithOp::Mul => IntOp::Mul,
                ArithOp::Div => IntOp::Div,
                ArithOp::Rem => IntOp::Rem,
            };
            return Some(self.g.int_bin(op, l, r));
        }
        Some(match op {
            ArithOp::Add => self.g.sum(l, r),
            ArithOp::Sub => self.g.diff(l, r),
            ArithOp::Mul => self.g.mul(l, r),
            ArithOp::Div => self.g.div(l, r),
            ArithOp::Rem => {
                self.cx.error_at(
                    span,
                    msg(
                        "`%` on floats cannot be differentiated",
                        "use `x - y * (x / y).trunc()` if you need the remainder",
                    ),
                );
                return None;
            }
        })
    }

    fn cast(&mut self, c: &syn::ExprCast) -> Option<NodeId> {
        if let Some(f) = float_of(&c.ty) {
            // `data.counts[i] as f64`: the field's element type is unknown, so it is read as an
            // integer and converted (`as f64` of an `f64` field is as valid).
            let want = if self.data_field(&c.expr).is_some() {
                Want::Int
            } else {
                Want::Any
            };
            let a = self.expr(&c.expr, want)?;
            return match self.g.kind(a) {
                Kind::Int => Some(self.g.cast(a)),
                Kind::Float if f == self.float_ty() => Some(a),
                Kind::Float => {
                    self.cx.error_spanned_by(c, msg(format!("casting between `f32` and `f64` is not supported in a `{}` function", self.float_ty().name()), "use one float type throughout"));
                    None
                }
                _ => {
                    self.cx.error_spanned_by(
                        c,
                        msg(
                            "only integers and floats can be cast to a float",
                            "compute the value as a number",
                        ),
                    );
                    None
                }
            };
        }
        if is_int_type(&c.ty) {
            let a = self.expr(&c.expr, Want::Any)?;
            let ty = self.symbol(c.ty.to_token_stream(), pretty(&c.ty.to_token_stream()));
            return match self.g.kind(a) {
                Kind::Float => Some(self.g.add(Op::FloatToInt(a, ty))),
                _ => Some(self.g.add(Op::IntCast(a, ty))),
            };
        }
        self.cx.error_spanned_by(
            &c.ty,
            msg(
                "only casts to number types are supported",
                "cast with `as f64` or `as usize`",
            ),
        );
        None
    }

    /// The error for `z[i] = …` (or `+=`): what it writes into, and the rewrite.
    fn element_write(&self, ix: &syn::ExprIndex) -> (String, &'static str) {
        let target = pretty(&ix.to_token_stream());
        let base = match &*ix.expr {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let is_param = base.as_ref().is_some_and(|b| {
            self.param_nodes
                .iter()
                .any(|(n, v)| n == b && self.lookup(b) == Some(Binding::Value(*v)))
        });
        if is_param {
            (
                format!("`{target} = …` writes into a parameter, which cannot be differentiated"),
                "compute the new value in a `let` (`let p0 = x;`) and use that name where the element is read",
            )
        } else {
            (
                format!(
                    "`{target} = …` writes into an element of a local array, which cannot be differentiated yet"
                ),
                "compute the element where it is read: a `let` per element (`let z0 = …; let z1 = …;`), or, for an element of a loop, its expression (`w[c] * x`) inside the loop or sum that reads it",
            )
        }
    }

    /// `xs.len()`, `p.weight`, `data[3]`: an expression over data parameters only, kept as
    /// tokens. It is a constant for the derivative.
    fn opaque(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        if self.mentions_failed_let(e) {
            return None;
        }
        if let Some(local) = self.mentions_local(e) {
            let text = pretty(&e.to_token_stream());
            let (message, help) = match nested_access(e) {
                Some(Nested::Index) => (
                    format!("`{text}` indexes twice (a slice of arrays or of vectors), which cannot be differentiated yet with an index computed in the body"),
                    "pass the data flat (`inputs: &[f64]`, read as `inputs[2 * k]`, `inputs[2 * k + 1]`) or one slice per column (`xs: &[f64], ys: &[f64]`)".to_string(),
                ),
                Some(Nested::Field) => (
                    format!("`{text}` indexes a field of a data parameter, which cannot be differentiated yet with an index computed in the body"),
                    "pass the field as a parameter of its own (`xs: &[f64]`, called with `&data.xs`)".to_string(),
                ),
                None => (
                    format!("`{text}` cannot be differentiated: it uses the {local}"),
                    "fields, indexing and references work on data parameters; compute floats with arithmetic and float methods".to_string(),
                ),
            };
            self.cx.error_spanned_by(e, msg(message, help));
            return None;
        }
        let kind = match want {
            Want::Int => Kind::Int,
            Want::Bool => Kind::Bool,
            Want::Float | Want::Any => Kind::Float,
        };
        Some(self.sym_node(e.to_token_stream(), kind))
    }

    /// `e` reads a local whose `let` was reported (its error says enough).
    fn mentions_failed_let(&self, e: &Expr) -> bool {
        struct Finder<'b>(&'b HashSet<String>, bool);
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if p.path
                    .get_ident()
                    .is_some_and(|id| self.0.contains(&id.to_string()))
                {
                    self.1 = true;
                }
            }
        }
        let mut f = Finder(&self.failed_lets, false);
        syn::visit::Visit::visit_expr(&mut f, e);
        f.1
    }

    /// The first name in `e` bound to a local of the body (parameters are fine: the generated
    /// functions have them too).
    fn mentions_local(&self, e: &Expr) -> Option<String> {
        struct Finder<'b, 'a> {
            l: &'b Lower<'a>,
            found: Option<String>,
        }
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                let Some(id) = p.path.get_ident() else { return };
                let name = id.to_string();
                let Some(binding) = self.l.lookup(&name) else {
                    return;
                };
                // (Data under another name is reported at its `let`; not again at each use.)
                let is_param = self.l.param_nodes.iter().any(|(n, v)| {
                    binding == Binding::Value(*v)
                        && (*n == name || self.l.g.kind(*v) == Kind::Other)
                });
                let is_float_input = matches!(binding, Binding::Value(v) if matches!(self.l.g.op(v), Op::Input(_) | Op::Slice(_)));
                if (!is_param || is_float_input) && self.found.is_none() {
                    self.found = Some(if is_float_input {
                        format!("differentiated parameter `{name}`")
                    } else {
                        format!("local `{name}`")
                    });
                }
            }
        }
        let mut f = Finder {
            l: self,
            found: None,
        };
        syn::visit::Visit::visit_expr(&mut f, e);
        f.found
    }

    // ---------------------------------------------------------------- methods and calls

    fn method_call(&mut self, m: &syn::ExprMethodCall, want: Want) -> Option<NodeId> {
        let name = m.method.to_string();
        if Self::is_supported_fold(m) {
            return self.supported_fold(m);
        }
        if matches!(
            name.as_str(),
            "fold" | "reduce" | "scan" | "max_by" | "min_by" | "try_fold"
        ) {
            self.cx.error_spanned_by(
                &m.method,
                msg(
                    format!("`{name}` of an iterator cannot be differentiated"),
                    "write it as a `fold` from a float start value (`.fold(f64::NEG_INFINITY, f64::max)`, `.fold(0.0, |acc, v| acc + v * v)`), or as a `for` loop that carries the value: `let mut m = f64::NEG_INFINITY; for &v in x { m = m.max(v); }`",
                ),
            );
            return None;
        }
        if (name == "sum" || name == "product") && m.args.is_empty() {
            return self.iterator_sum(m);
        }
        if name == "len"
            && m.args.is_empty()
            && let Some(len) = self.view_len(&m.receiver)
        {
            return Some(len);
        }
        if name == "len" && m.args.is_empty() && self.is_differentiated_slice(&m.receiver) {
            return Some(self.sym_node(m.to_token_stream(), Kind::Int));
        }
        if name == "is_empty" && m.args.is_empty() {
            if let Some(len) = self.view_len(&m.receiver) {
                let zero = self.g.int(0);
                return Some(self.g.compare(Cmp::Eq, len, zero));
            }
            if self.is_differentiated_slice(&m.receiver) {
                return Some(self.sym_node(m.to_token_stream(), Kind::Bool));
            }
        }
        // `data.xs.len()`, `rows[0].len()`: the length of data reached through a field or index.
        if name == "len"
            && m.args.is_empty()
            && matches!(&*m.receiver, Expr::Field(_) | Expr::Index(_))
        {
            return self.opaque(&Expr::MethodCall(m.clone()), Want::Int);
        }
        // `x.first()`, `x.last()`, `x.iter().count()`, …: other views of a differentiated slice.
        let slice_method = match &*m.receiver {
            Expr::MethodCall(inner)
                if inner.method == "iter" && self.is_differentiated_slice(&inner.receiver) =>
            {
                Some(format!(
                    "{}.iter().{name}()",
                    pretty(&inner.receiver.to_token_stream())
                ))
            }
            recv if name != "len" && self.is_differentiated_slice(recv) => {
                Some(format!("{}.{name}()", pretty(&recv.to_token_stream())))
            }
            _ => None,
        };
        if let Some(what) = slice_method {
            self.cx.error_spanned_by(
                m,
                msg(
                    format!("`{what}` of a differentiated slice cannot be differentiated"),
                    "read elements by index (`x[0]`, `x[x.len() - 1]`), count with `x.len()`, and reduce with a `for` loop or `x.iter().map(|v| …).sum()`",
                ),
            );
            return None;
        }
        let recv = self.expr(
            &m.receiver,
            if name == "len" {
                Want::Any
            } else {
                Want::Float
            },
        )?;
        let args: Vec<&Expr> = m.args.iter().collect();
        // `x.len().min(n)`: integer `min`/`max`, as comparisons (so they may read a
        // differentiated slice's length).
        if self.g.kind(recv) == Kind::Int && (name == "min" || name == "max") && args.len() == 1 {
            let other = self.expr(args[0], Want::Int)?;
            let cmp = if name == "min" { Cmp::Le } else { Cmp::Gt };
            let first = self.g.compare(cmp, recv, other);
            return Some(self.g.select(first, recv, other));
        }
        match self.g.kind(recv) {
            Kind::Float => self.float_method(recv, &m.method, &args, m),
            Kind::Other | Kind::Int | Kind::Bool
                if matches!(self.g.op(recv), Op::Sym(..) | Op::Slice(_)) =>
            {
                self.opaque(
                    &Expr::MethodCall(m.clone()),
                    if name == "len" { Want::Int } else { want },
                )
            }
            _ => {
                self.cx.error_spanned_by(&m.method, msg(format!("method `{name}` on an integer or condition computed in the body is not supported"), "compute integers from parameters and literals"));
                None
            }
        }
    }

    /// `recv.name(args)` on a float.
    fn float_method(
        &mut self,
        recv: NodeId,
        method: &syn::Ident,
        args: &[&Expr],
        whole: &dyn ToTokens,
    ) -> Option<NodeId> {
        let name = method.to_string();
        let arity = |l: &mut Self, n: usize| -> bool {
            if args.len() == n {
                return true;
            }
            l.cx.error_spanned_by(
                whole,
                msg(format!("`{name}` takes {n} argument(s)"), "check the call"),
            );
            false
        };
        if let Some(f) = Fun::from_method(&name) {
            return arity(self, 0).then(|| self.g.unary(f, recv));
        }
        if let Some(f) = Fun2::from_method(&name) {
            if !arity(self, 1) {
                return None;
            }
            let b = self.expr(args[0], Want::Float)?;
            return Some(self.g.binary(f, recv, b));
        }
        if let Some(p) = Pred::from_method(&name) {
            return arity(self, 0).then(|| self.g.add(Op::Predicate(p, recv)));
        }
        match name.as_str() {
            "powi" => {
                if !arity(self, 1) {
                    return None;
                }
                let n = self.expr(args[0], Want::Int)?;
                Some(self.g.add(Op::Powi(recv, n)))
            }
            "clamp" | "mul_add" => {
                if !arity(self, 2) {
                    return None;
                }
                let a = self.expr(args[0], Want::Float)?;
                let b = self.expr(args[1], Want::Float)?;
                Some(self.g.add(if name == "clamp" {
                    Op::Clamp(recv, a, b)
                } else {
                    Op::MulAdd(recv, a, b)
                }))
            }
            _ => {
                self.cx.error_spanned_by(
                    method,
                    msg(
                        format!("method `{name}` cannot be differentiated"),
                        format!("the supported float methods are {}; the conditions {}; for anything else write a `#[differentiable]` function (or one with `rule = ...`) and call it", supported_methods().join(", "), Pred::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")),
                    ),
                );
                None
            }
        }
    }

    fn call(&mut self, c: &syn::ExprCall, want: Want) -> Option<NodeId> {
        let Expr::Path(func) = &*c.func else {
            self.cx.error_spanned_by(
                &c.func,
                msg(
                    "only calls of named functions can be differentiated",
                    "call a function by its path",
                ),
            );
            return None;
        };
        let args: Vec<&Expr> = c.args.iter().collect();
        if let Some(closure) = self
            .bound_to(&c.func)
            .and_then(|n| self.closures.get(&n).cloned())
        {
            return self.call_closure(c, &closure.0, closure.1, &args, want);
        }
        // `f64::exp(x)`, `f32::max(a, b)`, `f64::from(n)`: the method forms.
        let segs: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segs.len() == 2 && (segs[0] == "f64" || segs[0] == "f32") {
            if segs[1] == "from" && args.len() == 1 {
                let a = self.expr(args[0], Want::Any)?;
                return Some(if self.g.kind(a) == Kind::Int {
                    self.g.cast(a)
                } else {
                    a
                });
            }
            let Some((first, rest)) = args.split_first() else {
                self.cx.error_spanned_by(
                    c,
                    msg(
                        format!("`{}::{}` needs an argument", segs[0], segs[1]),
                        "pass the value",
                    ),
                );
                return None;
            };
            let recv = self.expr(first, Want::Float)?;
            let method = func.path.segments[1].ident.clone();
            return self.float_method(recv, &method, rest, c);
        }
        if want == Want::Int || want == Want::Bool {
            return self.opaque(&Expr::Call(c.clone()), want);
        }
        // `stop_gradient(x)`, `symgrad::stop_gradient(x)`: the value of `x`, no derivative.
        if segs.last().is_some_and(|s| s == "stop_gradient") {
            let [arg] = args[..] else {
                self.cx.error_spanned_by(
                    c,
                    msg(
                        "`stop_gradient` takes one value",
                        "write `stop_gradient(x)`",
                    ),
                );
                return None;
            };
            let x = self.expr(arg, Want::Float)?;
            if self.g.kind(x) != Kind::Float {
                self.cx.error_spanned_by(
                    arg,
                    msg(
                        "`stop_gradient` takes a float",
                        "stop a slice's gradient by passing it to a function that takes it as data (`wrt(…)` without it)",
                    ),
                );
                return None;
            }
            let f = self.symbol(func.to_token_stream(), pretty(&func.to_token_stream()));
            return Some(self.g.add(Op::StopGradient(f, x)));
        }
        let mut lowered = Vec::with_capacity(args.len());
        for a in &args {
            // A differentiated slice (`x` or `&x`) stays one: its gradient flows back through
            // the called function's vector-Jacobian product.
            let inner = match a {
                Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
                other => other,
            };
            let arg = match self.bound_to(inner).map(|n| self.g.op(n).clone()) {
                Some(Op::Slice(k)) => {
                    let tokens = a.to_token_stream();
                    let s = self.symbol(tokens.clone(), pretty(&tokens));
                    self.g.add(Op::SliceArg(k, s))
                }
                _ => self.call_arg(a)?,
            };
            lowered.push(arg);
        }
        let f = self.symbol(func.to_token_stream(), pretty(&func.to_token_stream()));
        Some(self.g.add(Op::Call(f, lowered)))
    }

    /// `w(a)` of a closure bound by `let`: its body, with its parameters bound to the arguments
    /// (lowered here) and the names it captured bound as at its definition. (A closure that
    /// compiles cannot see a later assignment of what it captured: borrowing forbids it, and
    /// `move` copies the value.)
    fn call_closure(
        &mut self,
        call: &syn::ExprCall,
        closure: &syn::ExprClosure,
        captured: Scopes,
        args: &[&Expr],
        want: Want,
    ) -> Option<NodeId> {
        if closure.inputs.len() != args.len() {
            self.cx.error_spanned_by(
                call,
                msg(
                    format!(
                        "the closure takes {} argument(s), {} given",
                        closure.inputs.len(),
                        args.len()
                    ),
                    "pass one value per parameter",
                ),
            );
            return None;
        }
        let values: Vec<NodeId> = args
            .iter()
            .map(|a| self.expr(a, Want::Any))
            .collect::<Option<_>>()?;
        let here = std::mem::replace(&mut self.state.scopes, captured);
        self.state.scopes.push(Vec::new());
        let mut ok = true;
        for (pat, v) in closure.inputs.iter().zip(values) {
            let mut pat = pat;
            while let Pat::Type(t) = pat {
                pat = &t.pat;
            }
            match pat {
                Pat::Ident(p) if p.subpat.is_none() => {
                    self.declare(p.ident.to_string(), Binding::Value(v));
                }
                Pat::Wild(_) => {}
                other => {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            "a closure called in the body takes plain names",
                            "write `|a, b| …`",
                        ),
                    );
                    ok = false;
                }
            }
        }
        let value = if ok {
            self.enclosing.push(Enclosing::Closure);
            let v = self.expr(&closure.body, want);
            self.enclosing.pop();
            v
        } else {
            None
        };
        self.state.scopes = here;
        value
    }

    /// `let [a, b] = *p;` (or `= p`, `= &p`, `[a, b, ..]`) on an array or slice: each name is
    /// an element.
    fn bind_elements(&mut self, ps: &syn::PatSlice, init: &Expr) {
        let mut source = init;
        loop {
            source = match source {
                Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => &u.expr,
                Expr::Reference(r) => &r.expr,
                Expr::Paren(p) => &p.expr,
                _ => break,
            };
        }
        let slice = self.bound_to(source).filter(|n| {
            matches!(self.g.op(*n), Op::Slice(_) | Op::Sym(_, Kind::Other))
                && !self.closures.contains_key(n)
        });
        let Some(slice) = slice else {
            self.cx.error_spanned_by(
                init,
                msg(
                    "an array pattern takes the elements of an array or slice parameter",
                    "write `let [a, b] = *p;` with `p: &[f64; 2]`, or index it: `p[0]`",
                ),
            );
            return;
        };
        for (j, p) in ps.elems.iter().enumerate() {
            match p {
                Pat::Ident(id) if id.subpat.is_none() => {
                    let i = self.g.int(i64::try_from(j).unwrap_or(i64::MAX));
                    let e = self.index_node(slice, i);
                    self.declare(id.ident.to_string(), Binding::Value(e));
                }
                Pat::Wild(_) => {}
                Pat::Rest(_) if j + 1 == ps.elems.len() => {}
                other => self.cx.error_spanned_by(
                    other,
                    msg(
                        "only names, `_` and a final `..` are supported in an array pattern",
                        "write `let [a, b, ..] = *p;`, or index it: `p[0]`",
                    ),
                ),
            }
        }
    }

    /// An argument of a call: a number or condition, or data passed through.
    fn call_arg(&mut self, a: &Expr) -> Option<NodeId> {
        match a {
            // An element of a float slice (differentiated or data) is a number.
            Expr::Index(ix) if self.indexes_float_slice(ix) => self.index(ix, Want::Any),
            Expr::Reference(_) | Expr::Field(_) | Expr::Index(_) => {
                self.opaque(a, Want::Any).map(|n| self.retag_other(n))
            }
            Expr::Path(p)
                if p.path
                    .get_ident()
                    .is_some_and(|id| self.data_params.contains(&id.to_string())) =>
            {
                self.expr(a, Want::Any)
            }
            _ => self.expr(a, Want::Any),
        }
    }

    /// `x` is (bound to) a differentiated slice parameter.
    fn is_differentiated_slice(&self, e: &Expr) -> bool {
        self.bound_to(e)
            .is_some_and(|n| matches!(self.g.op(n), Op::Slice(_)))
    }

    /// `x[i]` where `x` is a slice parameter of floats or integers (not other data), or a
    /// window or chunk of one.
    fn indexes_float_slice(&self, ix: &syn::ExprIndex) -> bool {
        self.bound_to(&ix.expr).is_some_and(|n| {
            matches!(self.g.op(n), Op::Slice(_))
                || self.int_slices.contains(&n)
                || self.data_slices.contains(&n)
                || self.views.contains_key(&n)
        })
    }

    /// The node a plain variable name (`x`) is bound to.
    pub(super) fn bound_to(&self, e: &Expr) -> Option<NodeId> {
        let Expr::Path(p) = e else { return None };
        match self.lookup(&p.path.get_ident()?.to_string())? {
            Binding::Value(n) => Some(n),
            Binding::Uninit => None,
        }
    }

    /// An opaque argument of a call is data of some type, not a float.
    fn retag_other(&mut self, n: NodeId) -> NodeId {
        match self.g.op(n).clone() {
            Op::Sym(s, _) => self.g.add(Op::Sym(s, Kind::Other)),
            _ => n,
        }
    }
}

// -------------------------------------------------------------------- small syntax helpers

/// From a `let` pattern's name to the end of its initializer.
fn local_span(p: &syn::PatIdent, init: &Expr) -> TokenStream {
    let mut t = p.ident.to_token_stream();
    t.extend(init.to_token_stream());
    t
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

fn arith_op(op: &BinOp) -> Option<ArithOp> {
    Some(match op {
        BinOp::Add(_) => ArithOp::Add,
        BinOp::Sub(_) => ArithOp::Sub,
        BinOp::Mul(_) => ArithOp::Mul,
        BinOp::Div(_) => ArithOp::Div,
        BinOp::Rem(_) => ArithOp::Rem,
        _ => return None,
    })
}

fn compound_op(op: &BinOp) -> Option<ArithOp> {
    Some(match op {
        BinOp::AddAssign(_) => ArithOp::Add,
        BinOp::SubAssign(_) => ArithOp::Sub,
        BinOp::MulAssign(_) => ArithOp::Mul,
        BinOp::DivAssign(_) => ArithOp::Div,
        BinOp::RemAssign(_) => ArithOp::Rem,
        _ => return None,
    })
}

fn comparison(op: &BinOp) -> Option<Cmp> {
    Some(match op {
        BinOp::Lt(_) => Cmp::Lt,
        BinOp::Le(_) => Cmp::Le,
        BinOp::Gt(_) => Cmp::Gt,
        BinOp::Ge(_) => Cmp::Ge,
        BinOp::Eq(_) => Cmp::Eq,
        BinOp::Ne(_) => Cmp::Ne,
        _ => return None,
    })
}

fn want_of_kind(k: Kind) -> Want {
    match k {
        Kind::Float => Want::Float,
        Kind::Int => Want::Int,
        Kind::Bool => Want::Bool,
        Kind::Other => Want::Any,
    }
}

fn want_of_type(ty: &Type) -> Want {
    if float_of(ty).is_some() {
        Want::Float
    } else if is_int_type(ty) {
        Want::Int
    } else if matches!(ty, Type::Path(p) if p.path.is_ident("bool")) {
        Want::Bool
    } else {
        Want::Any
    }
}

/// The error for loops, which get their own message (and, later, their own support).
fn loop_error(e: &Expr) -> Option<(TokenStream, String)> {
    match e {
        Expr::While(w) => Some((
            w.while_token.to_token_stream(),
            msg(
                "`while` loops cannot be differentiated",
                "the number of iterations must be known from the data: use `for i in 0..n`",
            ),
        )),
        Expr::Loop(l) => Some((
            l.loop_token.to_token_stream(),
            msg(
                "`loop` cannot be differentiated",
                "the number of iterations must be known from the data: use `for i in 0..n`",
            ),
        )),
        Expr::ForLoop(f) => Some((
            f.for_token.to_token_stream(),
            msg(
                "a `for` loop has no value",
                "use the loop as a statement that accumulates into a `let mut` variable, then use the variable",
            ),
        )),
        Expr::Continue(c) => Some((
            c.to_token_stream(),
            msg(
                "`continue` cannot be differentiated here",
                "write it as the last statement of an `if` that is a statement of the loop body (`if x[i] < 0.0 { continue; }`), or put the rest of the body under `if`: `if x[i] >= 0.0 { acc += … }`",
            ),
        )),
        Expr::Break(b) => Some((
            b.to_token_stream(),
            msg(
                "`break` cannot be differentiated here",
                "a loop may end with one `break`, the last statement of an `if` without `else` that is a statement of the loop body (`if y[i] < 0.0 { break; }`); `break` with a value or a label, and a second `break`, are not supported: loop over the range you need (`for i in 0..k`)",
            ),
        )),
        _ => None,
    }
}

/// A short name for an expression's syntax, for error messages.
fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::Array(_) => "array expression",
        Expr::Assign(_) => "assignment",
        Expr::Async(_) => "async block",
        Expr::Await(_) => ".await",
        Expr::Break(_) => "break",
        Expr::Closure(_) => "closure",
        Expr::Continue(_) => "continue",
        Expr::Let(_) => "let expression",
        Expr::Macro(_) => "macro call",
        Expr::Range(_) => "range",
        Expr::Reference(_) => "reference",
        Expr::Repeat(_) => "array repeat expression",
        Expr::Struct(_) => "struct literal",
        Expr::Try(_) => "`?` operator",
        Expr::TryBlock(_) => "try block",
        Expr::Tuple(_) => "tuple",
        Expr::Yield(_) => "yield",
        _ => "this expression",
    }
}

/// Tokens printed the way people write them: `xs.len()`, not `xs . len ()`.
pub fn pretty(tokens: &TokenStream) -> String {
    let s = tokens.to_string();
    let chars: Vec<char> = s.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' && i > 0 {
            let (p2, p1, n1, n2) = (
                if i > 1 { at(i - 2) } else { ' ' },
                at(i - 1),
                at(i + 1),
                at(i + 2),
            );
            let tight = matches!(p1, '.' | '(' | '[' | '&' | '!')
                || matches!(n1, '.' | '(' | ')' | '[' | ']' | ',' | '?')
                || (p1 == ':' && p2 == ':')
                || (n1 == ':' && n2 == ':');
            if tight {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Every float method the body may call, from the operation tables (never a list by hand).
pub(crate) fn supported_methods() -> Vec<&'static str> {
    std::iter::once("powi")
        .chain(
            Fun::ALL
                .iter()
                .map(|(_, n)| *n)
                .filter(|n| !n.starts_with("__")),
        )
        .chain(Fun2::ALL.iter().map(|(_, n)| *n))
        .chain(["clamp", "mul_add"])
        .collect()
}

/// How an expression reads nested data: what its error names.
enum Nested {
    /// `inputs[k][0]`
    Index,
    /// `data.xs[i]`
    Field,
}

/// `inputs[k][0]` or `data.xs[i]` in `e`.
fn nested_access(e: &Expr) -> Option<Nested> {
    struct Finder(Option<Nested>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
            let mut base = &*ix.expr;
            while let Expr::Paren(p) = base {
                base = &p.expr;
            }
            match base {
                Expr::Index(_) if self.0.is_none() => self.0 = Some(Nested::Index),
                Expr::Field(_) if self.0.is_none() => self.0 = Some(Nested::Field),
                _ => {}
            }
            syn::visit::visit_expr_index(self, ix);
        }
    }
    let mut f = Finder(None);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// The error for a local array or vector (`[0.0; 3]`, `vec![0.0; n]`, `[a, b]`).
fn local_array_message() -> String {
    msg(
        "local arrays and vectors cannot be differentiated yet",
        "keep one `let` per element (`let z0 = …; let z1 = …;`), or compute each element where it is read (`w[c] * x` inside the loop or sum that reads it); arrays of data belong in parameters",
    )
}

#[cfg(test)]
mod tests {
    use super::supported_methods;
    use crate::testing::lower_body;

    /// The help's list of float methods is exactly what the lowering accepts: every listed method
    /// lowers, and the ones a user meets most (`floor`, `fract`, …) are listed.
    #[test]
    fn every_listed_method_lowers() {
        let listed = supported_methods();
        for m in &listed {
            let args = match *m {
                "powi" => "2",
                "clamp" | "mul_add" => "y, w",
                "powf" | "log" | "atan2" | "hypot" | "max" | "min" => "y",
                _ => "",
            };
            lower_body(&format!("x.{m}({args})"));
        }
        for m in [
            "floor", "ceil", "round", "trunc", "fract", "powf", "mul_add", "signum",
        ] {
            assert!(listed.contains(&m), "`{m}` missing from {listed:?}");
        }
        assert!(listed.iter().all(|m| !m.starts_with('_')), "{listed:?}");
    }
}
