//! Statements and blocks: `let`, assignments, expression statements, the body's value.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Block, Expr, Local, Pat, Stmt};

use super::syntax::{
    ArithOp, compound_op, local_span, loop_error, pretty, want_of_kind, want_of_type,
};
use super::{Binding, Lower, Tail, Want};
use crate::ctxt::msg;
use crate::graph::{Kind, NodeId};

impl Lower<'_> {
    /// `select(returned, ret_val, tail)`: the value of the whole body.
    pub(super) fn finish(&mut self, tail: Tail, body: &Block) -> NodeId {
        let returned = self.state.returned;
        let ret_val = self.state.ret_val;
        match tail {
            Tail::Value(v) => {
                if self.sig.outputs.is_some()
                    && let Some(Stmt::Expr(last, None)) = body.stmts.last()
                {
                    self.check_returned(v, last);
                }
                self.g.select(returned, ret_val, v)
            }
            Tail::Diverged => ret_val,
            Tail::Unit => {
                if self.g.as_bool(returned) != Some(true) && !self.cx.has_errors() {
                    let span = body
                        .stmts
                        .last()
                        .map_or_else(|| body.brace_token.span.join(), Spanned::span);
                    self.cx.error_at(
                        span,
                        if self.sig.outputs.is_some() {
                            msg(
                                "the body must end with the value it returns",
                                "end the body with the outputs (no `;`): `[r0, r1]` or `std::array::from_fn(|k| …)`, or `return` them",
                            )
                        } else {
                            msg(
                                "the body must end with the value it returns",
                                "end the body with the loss expression (no `;`), or `return` it",
                            )
                        },
                    );
                }
                ret_val
            }
        }
    }

    // ---------------------------------------------------------------- statements

    pub(super) fn block(&mut self, b: &Block, want: Want) -> Tail {
        self.state.scopes.push(Vec::new());
        let tail = self.stmts(&b.stmts, want);
        self.state.scopes.pop();
        tail
    }

    /// Records that the function's own code evaluates `nodes` wherever the statement being
    /// lowered is reached ([`Graph::evaluated`]): where the branches around it are taken and
    /// no earlier `return` was. Not in a loop's body or a closure (run a number of times that
    /// may be zero), nor in the right operand of `&&`/`||`.
    ///
    /// [`Graph::evaluated`]: crate::graph::Graph::evaluated
    pub(super) fn record_evaluated(&mut self, nodes: &[NodeId]) {
        if !self.enclosing.is_empty() || self.lazy > 0 {
            return;
        }
        let mut conditions = self.sides.clone();
        match self.g.as_bool(self.state.returned) {
            Some(false) => {}
            Some(true) => return,
            None => conditions.push((self.state.returned, false)),
        }
        for &n in nodes {
            self.g.evaluated.push((n, conditions.clone()));
        }
    }

    pub(super) fn definitely_returned(&self) -> bool {
        self.g.as_bool(self.state.returned) == Some(true)
    }

    pub(super) fn stmts(&mut self, stmts: &[Stmt], want: Want) -> Tail {
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

    pub(super) fn item(&mut self, item: &syn::Item) {
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

    pub(super) fn local(&mut self, local: &Local) {
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
        // `let z: [f64; N] = std::array::from_fn(|i| e);`: the array `(0..N).map(|i| e)`
        // collects.
        if let Pat::Type(t) = &local.pat
            && let syn::Type::Array(array) = &*t.ty
            && let Expr::Call(c) = &*init.expr
            && Self::is_from_fn(c)
            && let [Expr::Closure(f)] = c.args.iter().collect::<Vec<_>>().as_slice()
            && f.inputs.len() == 1
        {
            let (pat, len, elem, body) = (&t.pat, &array.len, &array.elem, &f.body);
            let index = &f.inputs[0];
            let collected: Stmt = syn::parse_quote!(
                let #pat: Vec<#elem> = (0..#len).map(|#index| #body).collect();
            );
            if let Stmt::Local(collected) = collected {
                return self.local(&collected);
            }
        }
        self.bind_pattern(&local.pat, &init.expr, Want::Any);
    }

    pub(super) fn declare_uninit(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(p) => self.declare(p.ident.to_string(), Binding::Uninit),
            Pat::Type(t) => self.declare_uninit(&t.pat),
            // `let (p, q);`, assigned later (`(p, q) = f(…);`).
            Pat::Tuple(t) => {
                for p in &t.elems {
                    self.declare_uninit(p);
                }
            }
            other => self.cx.error_spanned_by(
                other,
                msg(
                    "this pattern is not supported in `let`",
                    "bind one name per `let`",
                ),
            ),
        }
    }

    pub(super) fn bind_pattern(&mut self, pat: &Pat, init: &Expr, want: Want) {
        match pat {
            Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                // `let y = x;`, `let y = &x;`: the name of a slice or other data parameter.
                let mut named = init;
                while let Expr::Reference(syn::ExprReference { expr, .. })
                | Expr::Paren(syn::ExprParen { expr, .. }) = named
                {
                    named = expr;
                }
                if let Expr::Reference(r) = init
                    && r.mutability.is_some()
                {
                    self.second_names(&[&p.ident], init, &r.expr);
                    return;
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
                // `let row = &a[i * m..(i + 1) * m];`: a run of a slice or local array, read,
                // measured, iterated and passed on through its name, as a part of a `split_at`.
                if let Some(view) = self.run_argument(init) {
                    self.failed_lets.remove(&p.ident.to_string());
                    self.declare(p.ident.to_string(), Binding::Value(view));
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
                            if self.bound_to(named).is_some() {
                                format!("use `{}` itself", pretty(&named.to_token_stream()))
                            } else {
                                "use the data by its own name where it is read, choosing between the uses rather than the data: `if c { f(x) } else { f(y) }`".to_string()
                            },
                        ),
                    );
                    self.failed_lets.insert(p.ident.to_string());
                    self.declare(p.ident.to_string(), Binding::Value(v));
                } else if let Some(v) = value {
                    self.failed_lets.remove(&p.ident.to_string());
                    if !self.g.is_leaf(v) {
                        self.g.name_node(v, &p.ident.to_string());
                    }
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
                let run = matches!(&*t.ty, syn::Type::Reference(_)) && super::calls::is_run(init);
                if want == Want::Any && !run && !super::buffers::is_float_array_type(&t.ty) {
                    self.cx.error_spanned_by(
                        &t.ty,
                        msg(
                            "only `f64`/`f32`, integer and `bool` locals, and local arrays of floats (`Vec<f64>`, `[f64; N]`), are supported",
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
            Pat::Tuple(pt) => self.bind_tuple(pt, init),
            other => self.cx.error_spanned_by(
                other,
                msg(
                    "this pattern is not supported in `let`",
                    "bind a plain name: `let y = ...;`",
                ),
            ),
        }
    }

    /// `let (a, b) = (x, y);`, `let (a, b) = x.split_at(k);`, `let (u, v) = f(…);` (the outputs
    /// of a call: see `lower::tuples`).
    fn bind_tuple(&mut self, pt: &syn::PatTuple, init: &Expr) {
        if self.bind_call_tuple(pt, init) {
            return;
        }
        match init {
            Expr::MethodCall(m) if m.method == "split_at" && m.args.len() == 1 => {
                self.split_at(pt, m);
            }
            Expr::MethodCall(m) if super::syntax::is_mut_view(&m.method.to_string()) => {
                let names: Vec<&syn::Ident> = pt
                    .elems
                    .iter()
                    .filter_map(|p| match p {
                        Pat::Ident(id) => Some(&id.ident),
                        _ => None,
                    })
                    .collect();
                self.second_names(&names, init, &m.receiver);
            }
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
            // `let (u, v) = if c { (a, b) } else { (b, a) };`: each branch assigns its tuple to
            // locals declared first, `(t0, t1) = (a, b);`, then the names take them.
            Expr::If(_) | Expr::Match(_) => {
                let temps: Vec<syn::Ident> = (0..pt.elems.len())
                    .map(|k| quote::format_ident!("__chosen{}", k, span = Span::mixed_site()))
                    .collect();
                let mut chosen = init.clone();
                assign_tails(&mut chosen, &temps);
                let stmts: Vec<Stmt> = temps
                    .iter()
                    .map(|t| -> Stmt { syn::parse_quote!(let #t;) })
                    .chain([
                        Stmt::Expr(chosen, Some(syn::token::Semi::default())),
                        syn::parse_quote!(let #pt = (#(#temps),*);),
                    ])
                    .collect();
                let _ = self.stmts(&stmts, Want::Any);
            }
            // A fold to a tuple `tuple_folds` left as written: reported as the fold.
            Expr::MethodCall(m)
                if m.method == "fold"
                    && m.args.len() == 2
                    && matches!(m.args.first(), Some(Expr::Tuple(_))) =>
            {
                let _ = self.iterator_fold(m);
            }
            _ => self.cx.error_spanned_by(
                init,
                msg(
                    "a tuple pattern needs a tuple expression of the same length",
                    "write `let (a, b) = (x, y);`, or bind each value with its own `let`",
                ),
            ),
        }
    }

    /// `z.fill(v);`, `z.swap(i, j);`, `z.iter_mut().for_each(…);`: a method called for its
    /// effect on a local array (the first in a chain): its name and the method.
    fn changed_in_place(&self, e: &Expr) -> Option<(String, String)> {
        let Expr::MethodCall(m) = e else {
            return None;
        };
        let mut m = m;
        while let Expr::MethodCall(inner) = &*m.receiver {
            m = inner;
        }
        self.local_array(&m.receiver)?;
        if !super::syntax::is_mut_view(&m.method.to_string()) {
            return None;
        }
        Some((pretty(&m.receiver.to_token_stream()), m.method.to_string()))
    }

    /// `let r = &mut z;`, `let (a, b) = z.split_at_mut(k);`: more names for the elements of
    /// `z` (`borrow`, of `of`), `names`, written through: reported at `borrow`, and the names
    /// bound so that their uses report nothing more.
    fn second_names(&mut self, names: &[&syn::Ident], borrow: &Expr, of: &Expr) {
        let z = pretty(&of.to_token_stream());
        let what = pretty(&borrow.to_token_stream());
        let named = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        self.cx.error_spanned_by(
            borrow,
            msg(
                if names.len() == 1 {
                    format!("`{what}` gives elements of `{z}` another name ({named}), and writes through it cannot be differentiated")
                } else {
                    format!("`{what}` gives elements of `{z}` other names ({named}), and writes through them cannot be differentiated")
                },
                format!(
                    "write the elements through `{z}` itself, at their indices (`{z}[i] = …`; the second part of a split at `k` is `{z}[k + i]`), and read parts with `&{z}[a..b]` or `{z}.split_at(k)`; to fill `{z}` in another function, make it `#[differentiable]` and return the values (`-> [f64; N]`, `-> Vec<f64>`)"
                ),
            ),
        );
        for n in names {
            let zero = self.g.zero();
            self.failed_lets.insert(n.to_string());
            self.declare(n.to_string(), Binding::Value(zero));
        }
    }

    /// An expression statement (its value, if any, is discarded).
    pub(super) fn expr_stmt(&mut self, e: &Expr) -> Tail {
        match e {
            Expr::Assign(a) if let Expr::Tuple(left) = &*a.left => {
                let block = destructured(left, &a.right);
                self.expr_stmt(&block)
            }
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
            Expr::MethodCall(m)
                if m.method == "push" && self.local_array(&m.receiver).is_some() =>
            {
                self.array_push(m);
                Tail::Unit
            }
            other => {
                if let Some(l) = loop_error(other) {
                    self.cx.error_spanned_by(l.0, l.1);
                } else if let Some((z, method)) = self.changed_in_place(other) {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            format!("`{z}.{method}(…)` changes the local array `{z}` in place through a method, which cannot be differentiated"),
                            format!("write its elements in a loop at their index, `for i in 0..{z}.len() {{ {z}[i] = …; }}` (the value of `{z}[i]` before it may be read on the right), or build a new array and assign it, `{z} = next;`"),
                        ),
                    );
                } else if let Some(name) = mutably_lent(other) {
                    self.cx.error_spanned_by(
                        other,
                        msg(
                            format!("this call changes `{name}` through `&mut`, and `#[differentiable]` follows only assignments"),
                            format!("assign the new value instead: an array replaced every iteration, `{name} = next;` with `next` made in the loop (`let mut next = vec![0.0; n];`); two floats swapped, `let t = a; a = b; b = t;`"),
                        ),
                    );
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

    pub(super) fn assign(&mut self, left: &Expr, right: &Expr, op: Option<ArithOp>, span: Span) {
        let name = match left {
            Expr::Path(p) if p.path.get_ident().is_some() => p
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default(),
            Expr::Paren(p) => return self.assign(&p.expr, right, op, span),
            Expr::Index(ix) if let Some(table) = self.local_array(&ix.expr) => {
                self.array_write(ix, table, right, op, span);
                return;
            }
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
}

/// The first variable a call statement lends as `&mut` (`h` of `std::mem::swap(&mut h, &mut g)`).
fn mutably_lent(e: &Expr) -> Option<String> {
    let args = match e {
        Expr::Call(c) => &c.args,
        Expr::MethodCall(m) => &m.args,
        _ => return None,
    };
    args.iter().find_map(|a| match a {
        Expr::Reference(r) if r.mutability.is_some() => Some(r.expr.to_token_stream().to_string()),
        _ => None,
    })
}

/// A destructuring assignment, `(a, b) = (b, a + b);`, as the block that evaluates every value
/// first and then assigns them in turn: `{ let t0 = b; let t1 = a + b; a = t0; b = t1; }` (or
/// `let (t0, t1) = f(…);` from a call giving a tuple). `_` assigns nothing; a tuple inside is
/// destructured again.
fn destructured(left: &syn::ExprTuple, right: &Expr) -> Expr {
    let temps: Vec<syn::Ident> = (0..left.elems.len())
        .map(|k| quote::format_ident!("__tuple{}", k, span = Span::mixed_site()))
        .collect();
    let lets: Vec<Stmt> = match right {
        Expr::Tuple(t) if t.elems.len() == left.elems.len() => temps
            .iter()
            .zip(&t.elems)
            .map(|(name, value)| syn::parse_quote!(let #name = #value;))
            .collect(),
        other => vec![syn::parse_quote!(let (#(#temps),*) = #other;)],
    };
    let assigns = left
        .elems
        .iter()
        .zip(&temps)
        .filter(|(place, _)| !matches!(place, Expr::Infer(_)))
        .map(|(place, name)| -> Stmt { syn::parse_quote!(#place = #name;) });
    syn::parse_quote!({ #(#lets)* #(#assigns)* })
}

/// `e` (an `if`, a `match`, a block) with each value it can end with assigned to `temps` as a
/// tuple: `(t0, t1) = value;` (see [`destructured`]). A `return` stays as it is.
fn assign_tails(e: &mut Expr, temps: &[syn::Ident]) {
    match e {
        Expr::If(i) => {
            assign_block_tail(&mut i.then_branch, temps);
            if let Some((_, other)) = &mut i.else_branch {
                assign_tails(other, temps);
            }
        }
        Expr::Match(m) => {
            for arm in &mut m.arms {
                assign_tails(&mut arm.body, temps);
            }
        }
        Expr::Block(b) if b.label.is_none() => assign_block_tail(&mut b.block, temps),
        Expr::Paren(p) => assign_tails(&mut p.expr, temps),
        Expr::Return(_) => {}
        value => {
            let tuple = &*value;
            *value = syn::parse_quote!({ (#(#temps),*) = #tuple; });
        }
    }
}

fn assign_block_tail(b: &mut Block, temps: &[syn::Ident]) {
    if let Some(Stmt::Expr(last, None)) = b.stmts.last_mut() {
        assign_tails(last, temps);
    }
}
