//! Methods and calls: float methods, calls to differentiable functions, `stop_gradient`, slice arguments.

use quote::ToTokens;
use syn::{Expr, Pat, UnOp};

use super::arrays::VectorCall;
use super::syntax::{pretty, supported_methods};
use super::{Binding, Enclosing, Lower, Scopes, Want};
use crate::ctxt::msg;
use crate::graph::{Cmp, Fun, Fun2, IntOp, Kind, NodeId, Op, Pred};

impl Lower<'_> {
    /// The error for a fold-like iterator method (`reduce`, `scan`, …) other than a supported
    /// `fold`.
    fn unsupported_fold(&self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let name = &m.method;
        self.cx.error_spanned_by(
            &m.method,
            msg(
                format!("`{name}` of an iterator cannot be differentiated"),
                "write it as a `fold` from a float start value (`.fold(f64::NEG_INFINITY, f64::max)`, `.fold(0.0, |acc, v| acc + v * v)`; a closure bound by `let` may be given by its name, `.fold(0.0, f)`, where nothing it reads is bound again before the `fold`), or as a `for` loop that carries the value: `let mut m = f64::NEG_INFINITY; for &v in x { m = m.max(v); }`",
            ),
        );
        None
    }

    /// An integer method of `recv` as comparisons and arithmetic (so it may read a
    /// differentiated slice's length): `x.len().min(n)`, `max`; `x.len().saturating_sub(1)` and
    /// `i.abs_diff(j)`, a select on `a > b` with the subtraction under it (evaluated only where
    /// it does not go below zero).
    fn int_method(&mut self, recv: NodeId, name: &str, arg: &Expr) -> Option<NodeId> {
        let other = self.expr(arg, Want::Int)?;
        Some(match name {
            "min" | "max" => {
                let cmp = if name == "min" { Cmp::Le } else { Cmp::Gt };
                let first = self.g.compare(cmp, recv, other);
                self.g.select(first, recv, other)
            }
            _ => {
                let above = self.g.compare(Cmp::Gt, recv, other);
                let down = self.g.int_bin(IntOp::Sub, recv, other);
                let otherwise = if name == "abs_diff" {
                    self.g.int_bin(IntOp::Sub, other, recv)
                } else {
                    self.g.int(0)
                };
                self.g.select(above, down, otherwise)
            }
        })
    }

    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall, want: Want) -> Option<NodeId> {
        // `z.last().copied().unwrap()`: `z[z.len() - 1]`.
        if let Some(element) = super::exprs::end_element(&Expr::MethodCall(m.clone()), true) {
            return self.expr(&element, want);
        }
        // `[a, b].map(|v| …)`: `[{ let v = a; … }, { let v = b; … }]`.
        if let Some(mapped) = mapped_array(m) {
            return self.expr(&mapped, want);
        }
        // `z.as_slice()`: `z`.
        if m.method == "as_slice" && m.args.is_empty() {
            return self.expr(&m.receiver, want);
        }
        let name = m.method.to_string();
        if Self::is_supported_fold(m) {
            return self.supported_fold(m);
        }
        if matches!(
            name.as_str(),
            "fold" | "reduce" | "scan" | "max_by" | "min_by" | "try_fold"
        ) {
            return self.unsupported_fold(m);
        }
        if (name == "sum" || name == "product") && m.args.is_empty() {
            return self.iterator_sum(m);
        }
        if name == "collect" && m.args.is_empty() {
            return self.collected(m);
        }
        if name == "len"
            && m.args.is_empty()
            && let Some(len) = self.view_len(&m.receiver)
        {
            return Some(len);
        }
        if self.is_array_copy(m) {
            return self.copied_array(m);
        }
        if let Some(n) = self.array_method(m) {
            return Some(n);
        }
        if name == "len" && m.args.is_empty() && self.is_differentiated_slice(&m.receiver) {
            // (By the slice's own name: a closure's parameter bound to it may shadow another.)
            let recv = self.slice_tokens(&m.receiver);
            let method = &m.method;
            return Some(self.sym_node(quote::quote!(#recv.#method()), Kind::Int));
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
        if self.slice_method(m, &name) {
            return None;
        }
        // A method of a name whose `let` was reported (`m.as_slice()` of `let m =
        // Matrix2::new(…);`): its error says enough.
        if self.mentions_failed_let(&m.receiver) {
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
        if self.g.kind(recv) == Kind::Int
            && args.len() == 1
            && matches!(name.as_str(), "min" | "max" | "saturating_sub" | "abs_diff")
        {
            return self.int_method(recv, &name, args[0]);
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

    /// `x.first()`, `x.last()`, `x.iter().count()`, …: other views of a differentiated slice,
    /// reported; `true` then.
    fn slice_method(&self, m: &syn::ExprMethodCall, name: &str) -> bool {
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
            return true;
        }
        false
    }

    /// `recv.name(args)` on a float.
    pub(super) fn float_method(
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

    pub(super) fn call(&mut self, c: &syn::ExprCall, want: Want) -> Option<NodeId> {
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
        if Self::is_new_vec(func) {
            return self.new_vec(c);
        }
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
        if Self::builds_nalgebra(func) {
            self.reject_nalgebra(c, &segs);
            return None;
        }
        let lowered = self.call_args(&args)?;
        let f = self.symbol(func.to_token_stream(), pretty(&func.to_token_stream()));
        let call = self.g.add(Op::Call(f, lowered.clone()));
        // Where local arrays are passed, for errors about them.
        for (j, (a, n)) in args.iter().zip(&lowered).enumerate() {
            if self.g.kind(*n) == Kind::Array {
                let at = a.to_token_stream().into_iter().next();
                let span = at.map_or_else(proc_macro2::Span::call_site, |t| t.span());
                self.array_args.insert((call, j), span);
            }
        }
        Some(call)
    }

    /// `Matrix2::new`, `Vector3::zeros`, `DVector::from_vec`, …: an associated function of a
    /// nalgebra type, which reaches the lowering only in a function without nalgebra parameters
    /// or result (nalgebra's rewrite has not seen it).
    fn builds_nalgebra(func: &syn::ExprPath) -> bool {
        let segs: Vec<&syn::PathSegment> = func.path.segments.iter().collect();
        let [.., ty, _] = segs.as_slice() else {
            return false;
        };
        let ty = ty.ident.to_string();
        crate::nalgebra::is_fixed_type(&ty) || ty == "DVector" || ty == "DMatrix"
    }

    /// The error for `c`, a call of [`Self::builds_nalgebra`] whose path is `segs`.
    fn reject_nalgebra(&self, c: &syn::ExprCall, segs: &[String]) {
        let [.., ty, method] = segs else {
            return;
        };
        self.cx.error_spanned_by(
            c,
            msg(
                format!("`{ty}::{method}(…)` builds a nalgebra value in a function without nalgebra parameters or result, which cannot be differentiated"),
                crate::nalgebra::lent_value_help(Some(&Expr::Call(c.clone()))),
            ),
        );
    }

    /// The arguments of a call of a differentiable function.
    fn call_args(&mut self, args: &[&Expr]) -> Option<Vec<NodeId>> {
        let mut lowered = Vec::with_capacity(args.len());
        for &a in args {
            // (`f((x))`, `f(&(x))` are `f(x)`, `f(&x)`.)
            let a = super::loops::strip_parens(a);
            // A differentiated slice (`x`, `&x`, or `*x` for an array or nalgebra value behind
            // `&`) stays one: its gradient flows back through the called function's
            // vector-Jacobian product.
            let inner = super::loops::strip_parens(match a {
                Expr::Reference(r) if r.mutability.is_none() => &r.expr,
                Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => &u.expr,
                other => other,
            });
            let view = self
                .bound_to(inner)
                .and_then(|n| self.views.get(&n).copied());
            let arg = match self.bound_to(inner).map(|n| self.g.op(n).clone()) {
                Some(Op::Slice(k)) => self.slice_arg(k, a),
                // A run of a differentiated slice bound by `split_at`: as `&x[lo..hi]`.
                _ if let Some(view) = view
                    && let Op::Slice(k) = *self.g.op(view.slice) =>
                {
                    let hi = self.g.int_bin(IntOp::Add, view.start, view.len);
                    let tokens = a.to_token_stream();
                    let s = self.symbol(tokens.clone(), pretty(&tokens));
                    self.g.add(Op::SliceArg(k, s, vec![view.start, hi]))
                }
                // A run of a local array bound to a name (by `split_at`, or a closure's
                // parameter given `&z[a..b]`): its copy, lent to the call, as `&z[a..b]` is.
                _ if let Some(view) = view
                    && self.g.kind(view.slice) == Kind::Array =>
                {
                    self.copy_of(inner, a)?
                }
                _ if self.local_array(inner).is_some() => self.array_arg(a, inner)?,
                // `&Matrix2::new(…)`: as the call itself.
                _ if let Expr::Call(c) = inner
                    && let Expr::Path(func) = &*c.func
                    && Self::builds_nalgebra(func) =>
                {
                    let segs: Vec<String> = func
                        .path
                        .segments
                        .iter()
                        .map(|s| s.ident.to_string())
                        .collect();
                    self.reject_nalgebra(c, &segs);
                    return None;
                }
                // `[a, b]` by value: the generated call lends arrays (`&[…]`).
                _ if matches!(a, Expr::Array(_) | Expr::Repeat(_)) => {
                    self.cx.error_spanned_by(
                        a,
                        msg(
                            format!("`{}` passes an array by value, which a call in a differentiable function cannot do yet", pretty(&a.to_token_stream())),
                            format!("take the parameter by reference (`&[f64; N]` or `&[f64]`) and pass `&{}`", pretty(&a.to_token_stream())),
                        ),
                    );
                    return None;
                }
                // `&z[a..b]` of a local array: its run, a local array of its own (the copy
                // `z[a..b].to_vec()` stands for, as a person passing it to an adjoint by hand
                // would copy it), lent to the call; its adjoint flows back to `z`'s elements.
                _ if !std::ptr::eq(a, inner)
                    && let Expr::Index(ix) = inner
                    && matches!(&*ix.index, Expr::Range(_))
                    && self.local_array(&ix.expr).is_some() =>
                {
                    self.copy_of(inner, a)?
                }
                // `&[a, b, c]`: a local array of its own, lent to the call.
                _ if matches!(inner, Expr::Array(_) | Expr::Repeat(_))
                    && !std::ptr::eq(a, inner) =>
                {
                    self.new_array(inner)?
                }
                // `&r` of `let r = rot(…);`: its outputs, lent as a slice.
                _ if !std::ptr::eq(a, inner) && self.reads_outputs_whole(inner) => {
                    let name = pretty(&inner.to_token_stream());
                    self.cx.error_spanned_by(
                        a,
                        msg(
                            format!("`{}` lends the outputs of a vector-valued call as a slice, which cannot be differentiated yet", pretty(&a.to_token_stream())),
                            format!("pass them as an array of their own, one element per output (for three outputs: `&[{name}[0], {name}[1], {name}[2]]`)"),
                        ),
                    );
                    return None;
                }
                _ => match self.slice_run(a) {
                    Some((k, ix, range)) => self.slice_run_arg(a, k, ix, range)?,
                    None => self.call_arg(a)?,
                },
            };
            // A differentiated slice or a local array reached through an expression that is
            // neither (`if c { x } else { y }`, `{ x }`): its gradient would not flow back
            // through the call, so it is reported rather than passed on as data.
            if self.hides_differentiated(arg) && !self.mentions_failed_let(a) {
                let text = pretty(&a.to_token_stream());
                self.cx.error_spanned_by(
                    a,
                    msg(
                        format!("`{text}` passes a differentiated slice or a local array chosen by the code, which a call cannot be differentiated through yet"),
                        "pass the slice or array by its name, and choose between calls instead: `if c { f(x) } else { f(y) }`",
                    ),
                );
                return None;
            }
            lowered.push(arg);
        }
        Some(lowered)
    }

    /// Whether call argument `arg`, not itself a float, a local array or a differentiated
    /// slice passed on, is computed from a differentiated slice or a local array as a whole
    /// (a select between slices, say): what it reads of them is not a float the call's
    /// partials reach.
    fn hides_differentiated(&self, arg: NodeId) -> bool {
        let passed_on = |n: NodeId| {
            matches!(
                self.g.kind(n),
                Kind::Float | Kind::Array | Kind::Int | Kind::Bool
            ) || matches!(self.g.op(n), Op::SliceArg(..) | Op::DataRun(..))
        };
        if passed_on(arg) {
            return false;
        }
        let mut stack = vec![arg];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) || self.g.kind(n) == Kind::Float {
                continue;
            }
            if matches!(self.g.op(n), Op::Slice(_) | Op::SliceArg(..))
                || self.g.kind(n) == Kind::Array
            {
                return true;
            }
            stack.extend(self.g.op(n).children());
        }
        false
    }

    /// Differentiated slice `k` passed to a call as `a` (`x`, `&x`; `inner` without the `&`).
    /// Under another name (a closure's parameter bound to it), as the parameter's own name.
    fn slice_arg(&mut self, k: u32, a: &Expr) -> NodeId {
        let tokens = match a {
            Expr::Reference(r) => {
                let (and, name) = (r.and_token, self.slice_tokens(&r.expr));
                quote::quote!(#and #name)
            }
            other => self.slice_tokens(other),
        };
        let s = self.symbol(tokens.clone(), pretty(&tokens));
        self.g.add(Op::SliceArg(k, s, Vec::new()))
    }

    /// `w(a)` of a closure bound by `let`: its body, with its parameters bound to the arguments
    /// (lowered here) and the names it captured bound as at its definition. (A closure that
    /// compiles cannot see a later assignment of what it captured: borrowing forbids it, and
    /// `move` copies the value.)
    pub(super) fn call_closure(
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
            .map(|a| self.run_argument(a).or_else(|| self.expr(a, Want::Any)))
            .collect::<Option<_>>()?;
        self.inline_closure(closure, captured, values, want)
    }

    /// A run given to a closure's parameter (`tot(&x[..n / 2])`, `tot(&z[1..])`): a view of
    /// the slice or local array, as a part of a `split_at` is, read, measured, iterated and
    /// passed to calls there. `None` for another argument.
    pub(super) fn run_argument(&mut self, a: &Expr) -> Option<NodeId> {
        if !is_run(a) {
            return None;
        }
        let (slice, start, len) = self.run_of(a)?;
        let handle = self.sym_node(quote::quote!(__run), Kind::Other);
        self.views
            .insert(handle, super::iterators::View { slice, start, len });
        Some(handle)
    }

    /// The body of `closure`, its parameters bound to `values` and the names it captured bound
    /// as in `captured`.
    pub(super) fn inline_closure(
        &mut self,
        closure: &syn::ExprClosure,
        captured: Scopes,
        values: Vec<NodeId>,
        want: Want,
    ) -> Option<NodeId> {
        let renamed = self.data_renamed(closure, &values);
        let body = renamed.as_ref().unwrap_or(&closure.body);
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
            let v = self.expr(body, want);
            self.enclosing.pop();
            v
        } else {
            None
        };
        self.state.scopes = here;
        value
    }

    /// The body of `closure` with each parameter given a data value (a data parameter, or an
    /// expression of them, kept as its tokens) written as that value, where the body does not
    /// bind the parameter's name again; `None` if none is. What the lowering keeps as the
    /// user's tokens (`v.len()`, `v.iter().sum::<f64>()` on data) is then emitted where the
    /// closure's parameter does not exist: `|v: &[f64]| v.len()` called with `data` emitted
    /// `v.len()` (error E0425 in the generated code).
    fn data_renamed(&self, closure: &syn::ExprClosure, values: &[NodeId]) -> Option<Expr> {
        use syn::visit_mut::VisitMut;
        /// Writes each name of `0` as its expression.
        struct Rename(Vec<(String, Expr)>);
        impl VisitMut for Rename {
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                if let Expr::Path(p) = e
                    && p.qself.is_none()
                    && let Some(id) = p.path.get_ident()
                    && let Some((_, to)) = self.0.iter().find(|(name, _)| id == name)
                {
                    *e = to.clone();
                    return;
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
        }
        let bound = super::loops::names_bound_in(&closure.body);
        let mut renames = Vec::new();
        for (pat, &v) in closure.inputs.iter().zip(values) {
            let mut pat = pat;
            while let Pat::Type(t) = pat {
                pat = &t.pat;
            }
            // (A run's view is read through its name, as a part of a `split_at` is.)
            let (Pat::Ident(p), Op::Sym(s, _)) = (pat, self.g.op(v)) else {
                continue;
            };
            if self.views.contains_key(&v) {
                continue;
            }
            let name = p.ident.to_string();
            let Some(tokens) = self.symbols.get(s.0 as usize) else {
                continue;
            };
            let Ok(value) = syn::parse2::<Expr>(tokens.clone()) else {
                continue;
            };
            if !bound.contains(&name) {
                let value = match value {
                    Expr::Path(_) | Expr::Paren(_) | Expr::Field(_) => value,
                    other => syn::parse_quote!((#other)),
                };
                renames.push((name, value));
            }
        }
        if renames.is_empty() {
            return None;
        }
        let mut body = (*closure.body).clone();
        Rename(renames).visit_expr_mut(&mut body);
        Some(body)
    }

    /// `let [a, b] = *p;` (or `= p`, `= &p`, `[a, b, ..]`) on an array or slice: each name is
    /// an element.
    pub(super) fn bind_elements(&mut self, ps: &syn::PatSlice, init: &Expr) {
        let mut source = init;
        loop {
            source = match source {
                Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => &u.expr,
                Expr::Reference(r) => &r.expr,
                Expr::Paren(p) => &p.expr,
                _ => break,
            };
        }
        // `let [a, b, c] = [x[0], x[1], x[2]];`: each name its element, every element evaluated
        // before any name is bound (as `let (a, b) = (b, a);`).
        if let Expr::Array(a) = source
            && a.elems.len() == ps.elems.len()
            && ps.elems.iter().all(|p| {
                matches!(p, Pat::Ident(id) if id.subpat.is_none()) || matches!(p, Pat::Wild(_))
            })
        {
            let values: Vec<Option<NodeId>> = a
                .elems
                .iter()
                .map(|e| self.expr(e, super::Want::Any))
                .collect();
            for (p, v) in ps.elems.iter().zip(values) {
                if let (Pat::Ident(id), Some(v)) = (p, v) {
                    self.declare(id.ident.to_string(), Binding::Value(v));
                }
            }
            return;
        }
        // `let [u, v] = residual(…);`: the outputs of a vector-valued call.
        let call = match self.vector_call(source) {
            VectorCall::Call(c) => Some(c),
            VectorCall::Reported => return,
            VectorCall::NotOne => None,
        };
        // Or the elements of an array or slice parameter.
        let slice = match call {
            Some(_) => None,
            None => {
                let slice = self.bound_to(source).filter(|n| {
                    matches!(self.g.op(*n), Op::Slice(_) | Op::Sym(_, Kind::Other))
                        && !self.closures.contains_key(n)
                });
                if slice.is_none() {
                    self.cx.error_spanned_by(
                        init,
                        msg(
                            "an array pattern takes the elements of an array or slice parameter",
                            "write `let [a, b] = *p;` with `p: &[f64; 2]`, `let [a, b] = [e0, e1];` (one name per element), or index it: `p[0]`",
                        ),
                    );
                    return;
                }
                slice
            }
        };
        let help = if call.is_some() {
            "write `let [u, v] = f(…);`, or index the outputs: `r[0]`"
        } else {
            "write `let [a, b, ..] = *p;`, or index it: `p[0]`"
        };
        for (j, p) in ps.elems.iter().enumerate() {
            match p {
                Pat::Ident(id) if id.subpat.is_none() => {
                    let element = match (call, slice) {
                        (Some(call), _) => self.call_output(call, j),
                        (None, Some(slice)) => {
                            let i = self.g.int(i64::try_from(j).unwrap_or(i64::MAX));
                            Some(self.index_node(slice, i))
                        }
                        (None, None) => None,
                    };
                    if let Some(e) = element {
                        self.declare(id.ident.to_string(), Binding::Value(e));
                    }
                }
                Pat::Wild(_) => {}
                Pat::Rest(_) if j + 1 == ps.elems.len() => {}
                other => self.cx.error_spanned_by(
                    other,
                    msg(
                        "only names, `_` and a final `..` are supported in an array pattern",
                        help,
                    ),
                ),
            }
        }
    }

    /// An argument of a call: a number or condition, or data passed through.
    pub(super) fn call_arg(&mut self, a: &Expr) -> Option<NodeId> {
        if let Some((s, ix, range)) = self.data_run(a) {
            let (lo, hi) = self.run_bounds(ix, range)?;
            return Some(self.g.add(Op::DataRun(s, lo, hi)));
        }
        match a {
            // An element of a float slice (differentiated or data) is a number, and so is an
            // output of a vector-valued call (`h(r(a, b)[1])`, `h(t[0])` of `let t = r(a, b);`).
            Expr::Index(ix) if self.indexes_float_slice(ix) || self.reads_outputs(ix) => {
                self.index(ix, Want::Any)
            }
            // `h(r.0)` of `let r = polar(…);`: an output of a call returning a tuple.
            Expr::Field(_) if self.reads_tuple_field(a) => self.expr(a, Want::Any),
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

    /// `r(…)[k]`, or `t[k]` of a name bound to a call (before the loop, if in one): what
    /// `index` reads as an output of a vector-valued call.
    fn reads_outputs(&self, ix: &syn::ExprIndex) -> bool {
        let mut e = &*ix.expr;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        match self.bound_to(e) {
            Some(_) => self.reads_outputs_whole(e),
            None => matches!(e, Expr::Call(c) if self.bound_to(&c.func).is_none()),
        }
    }

    /// `r` of `let r = rot(…);` (before the loop, if in one): the outputs of a vector-valued
    /// call, all of them.
    fn reads_outputs_whole(&self, e: &Expr) -> bool {
        self.bound_to(e).is_some_and(|mut n| {
            while let Some(&outer) = self.carried_calls.get(&n) {
                n = outer;
            }
            matches!(self.g.op(n), Op::Call(..))
        })
    }

    /// `e`, a name bound to a differentiated slice, written as the slice's own name (a
    /// closure's parameter `v` bound to `x` is `x` in the generated code, where `v` may name
    /// another parameter or nothing).
    pub(super) fn slice_tokens(&self, e: &Expr) -> proc_macro2::TokenStream {
        match (self.bound_to(e).map(|n| self.g.op(n)), e) {
            (Some(Op::Slice(k)), Expr::Path(p)) => {
                let name = self.g.slice_name(*k);
                let span = p
                    .path
                    .segments
                    .first()
                    .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span());
                proc_macro2::Ident::new(name, span).into_token_stream()
            }
            _ => e.to_token_stream(),
        }
    }

    /// `x` is (bound to) a differentiated slice parameter.
    pub(super) fn is_differentiated_slice(&self, e: &Expr) -> bool {
        self.bound_to(e)
            .is_some_and(|n| matches!(self.g.op(n), Op::Slice(_)))
    }

    /// `x[i]` where `x` is a slice parameter of floats or integers (not other data), a window
    /// or chunk of one, or a local array (`h(z[c], b)`: its element is a float like any other;
    /// taken for opaque data, it was rejected as "uses the local `z`").
    pub(super) fn indexes_float_slice(&self, ix: &syn::ExprIndex) -> bool {
        self.bound_to(&ix.expr).is_some_and(|n| {
            matches!(self.g.op(n), Op::Slice(_))
                || self.int_slices.contains(&n)
                || self.data_slices.contains(&n)
                || self.views.contains_key(&n)
                || self.g.kind(n) == Kind::Array
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
    pub(super) fn retag_other(&mut self, n: NodeId) -> NodeId {
        match self.g.op(n).clone() {
            Op::Sym(s, _) => self.g.add(Op::Sym(s, Kind::Other)),
            _ => n,
        }
    }

    /// The bounds `lo`, `hi` of the run `x[range]` (`ix`): `0` without a start, `x.len()`
    /// without an end, `b + 1` for `..=b`.
    fn run_bounds(
        &mut self,
        ix: &syn::ExprIndex,
        range: &syn::ExprRange,
    ) -> Option<(NodeId, NodeId)> {
        let bound = |l: &mut Self, e: &Option<Box<Expr>>| -> Option<Option<NodeId>> {
            let e = e.as_ref()?;
            let n = l.expr(e, Want::Int);
            Some(n.filter(|n| {
                let int = l.g.kind(*n) == Kind::Int;
                if !int {
                    l.cx.error_spanned_by(
                        e,
                        msg(
                            "the bounds of a slice's run must be integers",
                            "write `&x[a..b]` with integer `a` and `b`",
                        ),
                    );
                }
                int
            }))
        };
        let lo = match bound(self, &range.start) {
            Some(Some(n)) => n,
            Some(None) => return None,
            None => self.g.int(0),
        };
        let hi = match bound(self, &range.end) {
            Some(Some(n)) => match range.limits {
                syn::RangeLimits::Closed(_) => {
                    let one = self.g.int(1);
                    self.g.int_bin(IntOp::Add, n, one)
                }
                syn::RangeLimits::HalfOpen(_) => n,
            },
            Some(None) => return None,
            None => {
                let x = &ix.expr;
                self.sym_node(quote::quote!(#x.len()), Kind::Int)
            }
        };
        Some((lo, hi))
    }

    /// `&x[a..b]` (also `a..`, `..b`, `a..=b`) of a data slice `x` whose bounds read the loop's
    /// locals (`dot(&x[j * d..(j + 1) * d], w)` over rows `j`): a [`Op::DataRun`], its bounds
    /// computed where the call is: the slice's symbol, the indexing and the range. `None` where
    /// `a` is not one (a run whose bounds read no local stays the user's tokens).
    fn data_run<'e>(
        &self,
        a: &'e Expr,
    ) -> Option<(crate::graph::SymId, &'e syn::ExprIndex, &'e syn::ExprRange)> {
        let (ix, range) = run_parts(a)?;
        let bounds_read_locals = [&range.start, &range.end]
            .into_iter()
            .flatten()
            .any(|e| self.mentions_local(e).is_some());
        if !bounds_read_locals {
            return None;
        }
        match self.bound_to(&ix.expr).map(|n| self.g.op(n).clone()) {
            Some(Op::Sym(s, Kind::Other)) => Some((s, ix, range)),
            _ => None,
        }
    }

    /// `&x[a..b]` (also `a..`, `..b`, `..`, `a..=b`) of a differentiated slice `x`: its number,
    /// the indexing and the range.
    fn slice_run<'e>(&self, a: &'e Expr) -> Option<(u32, &'e syn::ExprIndex, &'e syn::ExprRange)> {
        let (ix, range) = run_parts(a)?;
        match self.bound_to(&ix.expr).map(|n| self.g.op(n).clone()) {
            Some(Op::Slice(k)) => Some((k, ix, range)),
            _ => None,
        }
    }

    /// A run of a differentiated slice (see [`Self::slice_run`]) passed to a call: the callee
    /// adds its gradient into `∇x[a..b]`.
    fn slice_run_arg(
        &mut self,
        a: &Expr,
        k: u32,
        ix: &syn::ExprIndex,
        range: &syn::ExprRange,
    ) -> Option<NodeId> {
        let (lo, hi) = self.run_bounds(ix, range)?;
        let tokens = a.to_token_stream();
        let s = self.symbol(tokens.clone(), pretty(&tokens));
        Some(self.g.add(Op::SliceArg(k, s, vec![lo, hi])))
    }
}

/// `&x[a..b]` (any range, shared reference): the indexing and the range.
fn run_parts(a: &Expr) -> Option<(&syn::ExprIndex, &syn::ExprRange)> {
    let Expr::Reference(r) = a else { return None };
    if r.mutability.is_some() {
        return None;
    }
    let Expr::Index(ix) = &*r.expr else {
        return None;
    };
    let Expr::Range(range) = &*ix.index else {
        return None;
    };
    Some((ix, range))
}

/// `[a, b].map(|v| body)` as the array it gives, `[{ let v = a; body }, { let v = b; body }]`
/// (each element the closure's body with its parameter bound to the element); `None` for
/// another call.
fn mapped_array(m: &syn::ExprMethodCall) -> Option<Expr> {
    let (Expr::Array(array), Some(Expr::Closure(f))) = (&*m.receiver, m.args.first()) else {
        return None;
    };
    if m.method != "map" || m.args.len() != 1 || f.inputs.len() != 1 {
        return None;
    }
    let pat = &f.inputs[0];
    let body = &f.body;
    let elems = array
        .elems
        .iter()
        .map(|x| -> Expr { syn::parse_quote!({ let #pat = #x; #body }) });
    Some(syn::parse_quote!([#(#elems),*]))
}

/// Whether `a` is a reference to a run, `&x[a..b]` (any range).
pub(super) fn is_run(a: &Expr) -> bool {
    let Expr::Reference(r) = super::loops::strip_parens(a) else {
        return false;
    };
    matches!(super::loops::strip_parens(&r.expr), Expr::Index(ix) if matches!(&*ix.index, Expr::Range(_)))
}
