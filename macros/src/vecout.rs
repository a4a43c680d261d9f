//! A function returning `Vec<T>`, whose number of outputs is known only from its inputs:
//!
//! ```text
//! // Input:
//! #[differentiable(wrt(p))]
//! fn residuals(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
//!     x.iter().zip(y).map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi).collect()
//! }
//!
//! // Output (abridged):
//! fn residuals(…) -> Vec<f64> { … }                                  // unchanged
//! pub struct ResidualsGrad { pub p: Vec<f64> }                        // a Jacobian row
//! fn residuals_jacobian(p, x, y) -> (Vec<f64>, Vec<ResidualsGrad>)    // jac[k].p = ∇r_k
//! fn residuals_jacobian_into(p, x, y, out: &mut Vec<f64>, jac: &mut Vec<ResidualsGrad>)
//! fn residuals_vjp(p, x, y, seed: &[f64]) -> (Vec<f64>, ResidualsGrad) // Σ_k seed[k]·∇r_k
//! fn residuals_jvp(p, x, y, tangent: &ResidualsGrad) -> (Vec<f64>, Vec<f64>) // J·tangent
//! ```
//!
//! The body builds its outputs one per item of a loop: `ITER.map(|item| e).collect()`, or
//! `let mut r = vec![0.0; n]; for i in 0..n { …; r[i] = e; } r`, or `let mut r = Vec::new();
//! for item in ITER { …; r.push(e); } r`, after any statements (the prelude). Each output then
//! reads the prelude and its own item only, and the function is lowered to two scalar
//! `#[differentiable]` functions the rest of the macro already differentiates:
//!
//! - the row, `__residuals_vecrow(p, x, y, __k: usize) -> f64`: the prelude, then the loop over
//!   `ITER.skip(__k).take(1)` summing `e`, which is output `__k`. Its `_grad_into` writes row
//!   `__k` of the Jacobian, in the time of the prelude and one item (reverse mode, one sweep per
//!   output, each reading only its own item).
//! - the seeded sum, `__residuals_vecseed(p, x, y, __seed: &[f64]) -> f64`: the prelude, then
//!   `Σ_k __seed[k]·e_k` over the whole loop. Its gradient is the vector-Jacobian product, in one
//!   reverse sweep.
//!
//! Both are expanded with the user's `<Name>Grad` as their gradient struct (the same fields);
//! the seeded one's definition is dropped.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::visit::Visit;
use syn::{Expr, FnArg, Ident, Item, ItemFn, Pat, ReturnType, Stmt, Type};

use crate::attr;
use crate::companion::Names;
use crate::ctxt::{Ctxt, msg};
use crate::signature::{FloatTy, ParamKind, default_wrt, float_of};

/// `Vec<f64>` or `Vec<f32>` (any path to `Vec`), or nalgebra's `DVector<f64>`/`DVector<f32>`
/// (any path): the element type.
pub fn returned_vec(output: &ReturnType) -> Option<FloatTy> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(p) = &**ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Vec" && last.ident != "DVector" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    match a.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(t)] => float_of(t),
        _ => None,
    }
}

/// Does the function return nalgebra's `DVector`?
fn returns_dvector(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(&**ty, Type::Path(p)
        if p.path.segments.last().is_some_and(|s| s.ident == "DVector")))
}

/// Where the outputs come from: one per item of `for pat in source`.
struct Shape {
    prelude: Vec<Stmt>,
    /// The loop's iterator, as `for` takes it (`0..n`, `x.iter().zip(y)`).
    source: Expr,
    pat: Pat,
    /// The item's statements before its output.
    body: Vec<Stmt>,
    value: Expr,
    /// The number of outputs `DVector::from_iterator(n, …)` is given: the items must be as
    /// many (nalgebra panics otherwise, and so do the companions).
    expected: Option<Expr>,
}

const DVECTOR_SHAPES: &str = "end the body with `DVector::from_vec(ITER.map(|item| output).collect())`, `DVector::from_iterator(n, ITER.map(|item| output))`, or build the outputs in one loop and end with `DVector::from_vec(r)` (`let mut r = vec![0.0; n]; for i in 0..n { …; r[i] = output; }`, or `Vec::new()` and `r.push(output)`)";

const SHAPES: &str = "end the body with `ITER.map(|item| output).collect()`, or build the outputs in one loop, `let mut r = vec![0.0; n]; for i in 0..n { …; r[i] = output; } r` or `let mut r = Vec::new(); for item in ITER { …; r.push(output); } r`; a fixed number of outputs is an array, `-> [f64; 2]` ending with `[r0, r1]`";

/// The items for a `Vec`-valued function: the function, unchanged, and its companions; or the
/// function and the errors.
pub fn generate(attr_tokens: TokenStream, func: &ItemFn, float: FloatTy) -> TokenStream {
    match companions(attr_tokens, func, float) {
        Ok(items) => {
            let name = &func.sig.ident;
            quote! {
                #func
                #items
                // The original is used through its companions: no `dead_code` warning for it.
                const _: () = {
                    let _ = #name;
                };
            }
        }
        // The errors, and the hidden item callers chain through, so they get no error of
        // their own.
        Err(e) => {
            let e = e.to_compile_error();
            let hidden =
                crate::fallback::vec_hidden_item(func, &crate::companion::float_tokens(float));
            quote! { #func #e #hidden }
        }
    }
}

fn companions(
    attr_tokens: TokenStream,
    func: &ItemFn,
    float: FloatTy,
) -> Result<TokenStream, syn::Error> {
    let cx = Ctxt::new();
    let mut args = attr::parse(&cx, attr_tokens);
    if let Some(span) = args.hessian_span {
        cx.error_at(
            span,
            msg(
                "`hessian` is for a scalar function; this one returns a `Vec` of outputs",
                "remove `hessian`, and differentiate a scalar function of the outputs instead (a sum of squares, written as its own `#[differentiable(hessian)]` function); for the Hessians of callers reading its outputs, return `[T; M]` with `hessian`",
            ),
        );
    }
    if let Some(rule) = &args.rule {
        cx.error_spanned_by(
            rule,
            msg(
                "`rule` supplies the gradient of a scalar function; this one returns a `Vec` of outputs",
                "remove `rule`: the macro differentiates the body, or return `[f64; M]`",
            ),
        );
    }
    let shape = shape(&cx, func);
    cx.check()?;
    let shape = shape.ok_or_else(|| syn::Error::new(func.sig.ident.span(), "internal error"))?;
    if args.wrt.is_none() {
        args.wrt = Some(default_wrt(func));
    }
    items(func, &args, float, &shape)
}

/// The body's outputs, or errors at the tokens that do not fit one of the three shapes.
fn shape(cx: &Ctxt, func: &ItemFn) -> Option<Shape> {
    let stmts = &func.block.stmts;
    let dvector = returns_dvector(&func.sig.output);
    let shapes = if dvector { DVECTOR_SHAPES } else { SHAPES };
    let Some(Stmt::Expr(tail, None)) = stmts.last() else {
        cx.error_spanned_by(
            func.block
                .stmts
                .last()
                .map_or_else(|| func.block.to_token_stream(), ToTokens::to_token_stream),
            msg("a `Vec` of outputs is the value of the body", shapes),
        );
        return None;
    };
    let before = &stmts[..stmts.len() - 1];
    let shape = if dvector {
        dvector_made(tail, before)
    } else {
        collected(tail, before).or_else(|| built(tail, before))
    };
    let Some(shape) = shape else {
        cx.error_spanned_by(
            tail,
            msg(
                if dvector {
                    "the outputs of a `DVector`-valued function come from one loop, one output per item, made a `DVector` at the end"
                } else {
                    "the number of outputs of a `Vec`-valued function comes from one loop, one output per item"
                },
                shapes,
            ),
        );
        return None;
    };
    check_item(cx, &shape);
    check_prelude(cx, &shape.prelude);
    Some(shape)
}

/// `DVector::from_vec(v)`, `v` one of the `Vec` shapes, or `DVector::from_iterator(n,
/// ITER.map(|pat| value))`.
fn dvector_made(tail: &Expr, before: &[Stmt]) -> Option<Shape> {
    let Expr::Call(call) = tail else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let names: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let args: Vec<&Expr> = call.args.iter().collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match (&names[..], &args[..]) {
        ([.., "DVector", "from_vec"], [v]) => collected(v, before).or_else(|| built(v, before)),
        ([.., "DVector", "from_iterator"], [n, items]) => {
            let mut shape = mapped(items, before)?;
            shape.expected = Some((*n).clone());
            Some(shape)
        }
        _ => None,
    }
}

/// `ITER.map(|pat| value).collect()` (with or without a turbofish).
fn collected(tail: &Expr, before: &[Stmt]) -> Option<Shape> {
    let Expr::MethodCall(collect) = tail else {
        return None;
    };
    if collect.method != "collect" || !collect.args.is_empty() {
        return None;
    }
    mapped(&collect.receiver, before)
}

/// `ITER.map(|pat| value)`.
fn mapped(map: &Expr, before: &[Stmt]) -> Option<Shape> {
    let Expr::MethodCall(map) = map else {
        return None;
    };
    if map.method != "map" || map.args.len() != 1 {
        return None;
    }
    let Expr::Closure(closure) = &map.args[0] else {
        return None;
    };
    if closure.inputs.len() != 1 {
        return None;
    }
    let pat = closure.inputs[0].clone();
    let pat = match pat {
        Pat::Type(t) => *t.pat,
        p => p,
    };
    let (body, value) = split_block(&closure.body);
    Some(Shape {
        prelude: before.to_vec(),
        source: (*map.receiver).clone(),
        pat,
        body,
        value,
        expected: None,
    })
}

/// `{ stmts; value }` → (stmts, value); another expression is its own value.
fn split_block(e: &Expr) -> (Vec<Stmt>, Expr) {
    if let Expr::Block(b) = e
        && b.label.is_none()
        && let Some(Stmt::Expr(value, None)) = b.block.stmts.last()
    {
        return (
            b.block.stmts[..b.block.stmts.len() - 1].to_vec(),
            value.clone(),
        );
    }
    (Vec::new(), e.clone())
}

/// `let mut r = vec![0.0; n]; for i in 0..n { …; r[i] = value; } r`, or `let mut r =
/// Vec::new(); for pat in ITER { …; r.push(value); } r`.
fn built(tail: &Expr, before: &[Stmt]) -> Option<Shape> {
    let Expr::Path(r) = tail else { return None };
    let r = r.path.get_ident()?;
    let [
        prelude @ ..,
        Stmt::Local(local),
        Stmt::Expr(Expr::ForLoop(lp), _),
    ] = before
    else {
        return None;
    };
    let Pat::Ident(bound) = strip_type(&local.pat) else {
        return None;
    };
    if &bound.ident != r || lp.label.is_some() {
        return None;
    }
    let init = &local.init.as_ref()?.expr;
    let [body @ .., last] = lp.body.stmts.as_slice() else {
        return None;
    };
    let Stmt::Expr(last, _) = last else {
        return None;
    };
    let value = match (zeros_of_length(init), last) {
        (Some(len), Expr::Assign(a)) => {
            // `r[i] = value` in `for i in 0..len`.
            let Expr::Index(ix) = &*a.left else {
                return None;
            };
            let Pat::Ident(i) = &*lp.pat else { return None };
            let Expr::Range(range) = &*lp.expr else {
                return None;
            };
            let starts_at_zero = range
                .start
                .as_deref()
                .is_some_and(|s| s.to_token_stream().to_string() == "0");
            let to_len = range.end.as_deref().is_some_and(|e| same(e, &len));
            if !(is_ident(&ix.expr, r)
                && is_ident(&ix.index, &i.ident)
                && starts_at_zero
                && to_len
                && matches!(range.limits, syn::RangeLimits::HalfOpen(_)))
            {
                return None;
            }
            (*a.right).clone()
        }
        (None, Expr::MethodCall(push)) if is_empty_vec(init) => {
            if push.method != "push" || push.args.len() != 1 || !is_ident(&push.receiver, r) {
                return None;
            }
            push.args[0].clone()
        }
        _ => return None,
    };
    Some(Shape {
        prelude: prelude.to_vec(),
        source: (*lp.expr).clone(),
        pat: (*lp.pat).clone(),
        body: body.to_vec(),
        value,
        expected: None,
    })
}

fn strip_type(p: &Pat) -> &Pat {
    match p {
        Pat::Type(t) => &t.pat,
        p => p,
    }
}

fn is_ident(e: &Expr, name: &Ident) -> bool {
    matches!(e, Expr::Path(p) if p.path.is_ident(name))
}

fn same(a: &Expr, b: &Expr) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}

/// `vec![0.0; len]` (any zero literal): `len`.
fn zeros_of_length(e: &Expr) -> Option<Expr> {
    let Expr::Macro(m) = e else { return None };
    if !m.mac.path.is_ident("vec") {
        return None;
    }
    let parsed = m
        .mac
        .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![;]>::parse_terminated)
        .ok()?;
    let [zero, len] = parsed.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let zero = zero.to_token_stream().to_string();
    matches!(
        zero.as_str(),
        "0.0" | "0." | "0f64" | "0f32" | "0.0f64" | "0.0f32" | "0.0_f64" | "0.0_f32"
    )
    .then(|| len.clone())
}

/// `Vec::new()`, `Vec::with_capacity(n)`.
fn is_empty_vec(e: &Expr) -> bool {
    let Expr::Call(c) = e else { return false };
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    matches!(
        segs.iter().map(String::as_str).collect::<Vec<_>>()[..],
        [.., "Vec", "new" | "with_capacity"]
    )
}

/// An output reads the prelude and its own item: the item's statements may not assign to a
/// variable declared outside them (a value carried from one output to the next), nor leave the
/// loop (`break`, `continue`, `return`).
fn check_item(cx: &Ctxt, shape: &Shape) {
    let mut v = ItemCheck {
        cx,
        locals: Vec::new(),
        loops: 0,
    };
    v.bind(&shape.pat);
    for s in &shape.body {
        v.visit_stmt(s);
    }
    v.visit_expr(&shape.value);
}

/// The statements before the loop may not `return` (the outputs are the loop's).
fn check_prelude(cx: &Ctxt, prelude: &[Stmt]) {
    struct Returns<'c>(&'c Ctxt);
    impl<'ast> Visit<'ast> for Returns<'_> {
        fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
            self.0.error_spanned_by(
                r,
                msg(
                    "`return` in a `Vec`-valued function",
                    "let the loop give the outputs: an empty `Vec` is the loop over no items (`x.iter().map(…).collect()` of an empty `x`)",
                ),
            );
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    for s in prelude {
        Returns(cx).visit_stmt(s);
    }
}

struct ItemCheck<'a> {
    cx: &'a Ctxt,
    locals: Vec<String>,
    loops: usize,
}

impl ItemCheck<'_> {
    fn bind(&mut self, p: &Pat) {
        struct Names<'b>(&'b mut Vec<String>);
        impl Visit<'_> for Names<'_> {
            fn visit_pat_ident(&mut self, i: &syn::PatIdent) {
                self.0.push(i.ident.to_string());
            }
        }
        Names(&mut self.locals).visit_pat(p);
    }

    fn assigned(&self, place: &Expr) {
        let mut root = place;
        loop {
            root = match root {
                Expr::Index(i) => &i.expr,
                Expr::Field(f) => &f.base,
                Expr::Paren(p) => &p.expr,
                Expr::Unary(u) => &u.expr,
                _ => break,
            };
        }
        let local = matches!(root, Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.locals.contains(&i.to_string())));
        if !local {
            self.cx.error_spanned_by(
                place,
                msg(
                    "an output of a `Vec`-valued function may not change a value the next output reads",
                    "compute each output from the inputs, the statements before the loop and its own item (declare what it needs with `let` inside the loop); a value carried from one output to the next is not supported",
                ),
            );
        }
    }

    fn leaves(&self, tokens: &dyn ToTokens, what: &str) {
        self.cx.error_spanned_by(
            tokens,
            msg(
                format!("`{what}` in the loop that builds the outputs of a `Vec`-valued function"),
                "give every item its output (`if c { a } else { b }` for the value), so the number of outputs is the number of items",
            ),
        );
    }
}

impl<'ast> Visit<'ast> for ItemCheck<'_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, e)) = &init.diverge {
                self.visit_expr(e);
            }
        }
        self.bind(&l.pat);
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Assign(a) => {
                self.assigned(&a.left);
                self.visit_expr(&a.right);
            }
            Expr::Binary(b)
                if matches!(
                    b.op,
                    syn::BinOp::AddAssign(_)
                        | syn::BinOp::SubAssign(_)
                        | syn::BinOp::MulAssign(_)
                        | syn::BinOp::DivAssign(_)
                        | syn::BinOp::RemAssign(_)
                ) =>
            {
                self.assigned(&b.left);
                self.visit_expr(&b.right);
            }
            Expr::MethodCall(m) if m.method == "push" => {
                self.assigned(&m.receiver);
                syn::visit::visit_expr(self, e);
            }
            Expr::ForLoop(f) => {
                self.visit_expr(&f.expr);
                self.bind(&f.pat);
                self.loops += 1;
                self.visit_block(&f.body);
                self.loops -= 1;
            }
            Expr::While(_) | Expr::Loop(_) | Expr::Closure(_) => {
                self.loops += 1;
                syn::visit::visit_expr(self, e);
                self.loops -= 1;
            }
            Expr::Break(_) | Expr::Continue(_) if self.loops == 0 => {
                self.leaves(
                    e,
                    if matches!(e, Expr::Break(_)) {
                        "break"
                    } else {
                        "continue"
                    },
                );
            }
            Expr::Return(_) => self.leaves(e, "return"),
            _ => syn::visit::visit_expr(self, e),
        }
    }
}

/// The two scalar functions, their companions, and the `Vec`-valued companions over them.
fn items(
    func: &ItemFn,
    args: &attr::Args,
    float: FloatTy,
    shape: &Shape,
) -> Result<TokenStream, syn::Error> {
    let name = &func.sig.ident;
    // Call-site names: the lowering reads them as the body's own variables.
    let span = Span::call_site();
    let t = crate::companion::float_tokens(float);
    let (row, seeded) = (
        format_ident!("__{}_vecrow", name),
        format_ident!("__{}_vecseed", name),
    );
    let k = Ident::new("__k", span);
    let seed = Ident::new("__seed", span);
    let acc = Ident::new("__acc", span);
    let n = Ident::new("__n", span);
    let Shape {
        prelude,
        source,
        pat,
        body,
        value,
        expected,
    } = shape;
    let lone = lone_items(source);
    let count = item_count(&lone, expected.as_ref());
    let source = match source {
        Expr::Paren(p) => &*p.expr,
        s => s,
    };
    let row_fn = scalar_fn(
        func,
        &row,
        &quote!(#k: usize),
        &t,
        &quote! {
            #(#prelude)*
            let mut #acc = 0.0;
            for #pat in #lone.skip(#k).take(1) {
                #(#body)*
                #acc += #value;
            }
            #acc
        },
    );
    let seeded_fn = scalar_fn(
        func,
        &seeded,
        &quote!(#seed: &[#t]),
        &t,
        &quote! {
            #(#prelude)*
            let mut #acc = 0.0;
            let mut #n = 0;
            for #pat in #source {
                #(#body)*
                #acc += #seed[#n] * (#value);
                #n += 1;
            }
            #acc
        },
    );
    let grad_struct = Names::of(func).grad_struct;
    let row_items = crate::expand::companions(args, &row_fn, &grad_struct)?;
    let row_doc = format!(
        "A row of the Jacobian of [`{name}`] (the gradient of one output): one field per differentiated parameter. Generated by `#[differentiable]`."
    );
    let row_items = hidden(row_items, &grad_struct, Some(&row_doc), expected.is_some())?;
    // The seeded sum differentiates its seeds too: their gradient is the outputs, so `_vjp`
    // has both from one pass.
    let wrt = args.wrt.clone().unwrap_or_default();
    let seeded_args = attr::Args {
        wrt: Some(wrt.iter().cloned().chain([seed.clone()]).collect()),
        hessian: false,
        hessian_span: None,
        rule: None,
        checkpoint: args.checkpoint,
    };
    let seeded_struct = Names::of(&seeded_fn).grad_struct;
    let seeded_items = crate::expand::companions(&seeded_args, &seeded_fn, &seeded_struct)?;
    let seeded_items = hidden(seeded_items, &seeded_struct, None, expected.is_some())?;
    let len_fn = format_ident!("__{}_veclen", name);
    let public = public_fns(
        func,
        &t,
        (&grad_struct, &seeded_struct, &wrt),
        (&row, &seeded, &len_fn),
    );
    let callee = callee_item(func, args, &t, (&row, &seeded, &len_fn));
    let generics = &func.sig.generics;
    let inputs = &func.sig.inputs;
    Ok(quote! {
        #row_items
        #seeded_items
        #[doc(hidden)]
        // The statements before the loop, for the number of items: their values may be unused.
        #[allow(unused_variables, unused_mut, unused_assignments, clippy::all, clippy::pedantic, clippy::nursery)]
        fn #len_fn #generics (#inputs) -> usize {
            #(#prelude)*
            #count
        }
        #public
        #callee
    })
}

/// The hidden item other differentiable functions chain through a call of this one by, as a
/// vector-valued function's (see `vector::hidden`), its number of outputs known at run time:
///
/// ```text
/// enum residuals {}
/// impl residuals {
///     // the outputs, and per output the float parameters' partials: one row function each
///     pub fn __jacobian(p: &[f64], x: &[f64]) -> (Vec<f64>, Vec<((), ())>) { … }
///     // `∇x += Σ_k seed[k]·∂f_k/∂x`: the seeded sum's product, one sweep, whatever M
///     pub fn __vjp<S0, D1>(p: &[f64], x: &[f64], seeds: &[f64], __grad0: &mut S0, __sink1: &mut D1) { … }
/// }
/// ```
fn callee_item(
    func: &ItemFn,
    args: &attr::Args,
    t: &TokenStream,
    (row, seeded, len_fn): (&Ident, &Ident, &Ident),
) -> TokenStream {
    let params = crate::signature::quiet_params(func);
    let wrt = args.wrt.clone().unwrap_or_default();
    let name = &func.sig.ident;
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let inputs = &func.sig.inputs;
    let call_args = crate::companion::arg_names(func);
    let mixed = Span::mixed_site();
    let (value, m, k, out, jac) = (
        format_ident!("__value", span = mixed),
        format_ident!("__m", span = mixed),
        format_ident!("__k", span = mixed),
        format_ident!("__out", span = mixed),
        format_ident!("__jac", span = mixed),
    );
    let slots: Vec<Ident> = (0..params.len())
        .map(|j| format_ident!("__p{}", j, span = mixed))
        .collect();
    let types = params.iter().map(|p| match p.kind {
        ParamKind::Float => t.clone(),
        _ => quote!(()),
    });
    let differentiated: Vec<usize> = params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == ParamKind::Slice && wrt.contains(&p.ident))
        .map(|(j, _)| j)
        .collect();
    let vjp = params
        .iter()
        .any(|p| p.kind == ParamKind::Slice)
        .then(|| callee_products(func, t, (seeded, len_fn), &differentiated));
    let stub = crate::fallback::partials_stub(func, t);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}
        #[allow(dead_code, clippy::all)]
        impl #name {
            /// The outputs and, per output, the partial derivatives (the calling convention of
            /// generated code): one row function's partials per output.
            #[doc(hidden)]
            #[inline]
            pub fn __jacobian #generics (#inputs) -> (::std::vec::Vec<#t>, ::std::vec::Vec<(#(#types,)*)>) {
                let #m = #len_fn(#(#call_args),*);
                let mut #out = ::std::vec::Vec::with_capacity(#m);
                let mut #jac = ::std::vec::Vec::with_capacity(#m);
                for #k in 0..#m {
                    let (#value, (#(#slots,)* _,)) = #row::__partials(#(#call_args,)* #k);
                    #out.push(#value);
                    #jac.push((#(#slots,)*));
                }
                (#out, #jac)
            }
            #vjp
            #stub
        }
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::Differentiable for #name {}
        #(
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::DifferentiatesSlice<#differentiated> for #name {}
        )*
    }
}

/// The `Vec`-valued function's hidden `__vjp` (the seeded sum's product, the seeds padded
/// with zeros to the outputs) and `__vjp_rows` (one `__vjp` per row: a vector-valued caller's
/// Jacobian), `differentiated` the positions of its differentiated slices.
fn callee_products(
    func: &ItemFn,
    t: &TokenStream,
    (seeded, len_fn): (&Ident, &Ident),
    differentiated: &[usize],
) -> TokenStream {
    let inputs = &func.sig.inputs;
    let call_args = crate::companion::arg_names(func);
    let n = call_args.len();
    let mixed = Span::mixed_site();
    let (m, k, seeds, given) = (
        format_ident!("__m", span = mixed),
        format_ident!("__k", span = mixed),
        format_ident!("__seeds", span = mixed),
        format_ident!("__given", span = mixed),
    );
    let (mut bounds, mut sinks, mut sink_names) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..n {
        let sink = format_ident!("__sink{}", j, span = mixed);
        let ty = format_ident!("__S{}", j, span = mixed);
        if differentiated.contains(&j) {
            bounds.push(quote!(#ty: ?Sized + ::core::ops::IndexMut<usize, Output = #t>));
        } else {
            bounds.push(quote!(#ty: ?Sized));
        }
        sinks.push(quote!(#sink: &mut #ty));
        sink_names.push(sink);
    }
    let r = crate::vjp_rows::ROWS;
    let rows_len = proc_macro2::Literal::usize_unsuffixed(r);
    let per_row: Vec<Vec<Ident>> = (0..r)
        .map(|row| {
            (0..n)
                .map(|j| format_ident!("__sink{}_{}", j, row, span = mixed))
                .collect()
        })
        .collect();
    let row_sinks = sink_names.iter().enumerate().map(|(j, sink)| {
        let ty = format_ident!("__S{}", j, span = mixed);
        quote!(#sink: [&mut #ty; #rows_len])
    });
    let split = sink_names.iter().enumerate().map(|(j, sink)| {
        let each = per_row.iter().map(|row| &row[j]);
        quote! { let [#(#each),*] = #sink; }
    });
    let calls = per_row.iter().enumerate().map(|(row, sinks)| {
        let at = proc_macro2::Literal::usize_unsuffixed(row);
        quote! { Self::__vjp(#(#call_args,)* #given[#at], #(#sinks),*); }
    });
    quote! {
        /// `__vjp` for several sets of seeds, each into its own sinks (the calling
        /// convention of generated code): one call of `__vjp` per set.
        #[doc(hidden)]
        #[inline]
        pub fn __vjp_rows<#(#bounds),*>(#inputs, #given: [&[#t]; #rows_len], #(#row_sinks),*) {
            #(#split)*
            #(#calls)*
        }
        /// `∇x += Σ_k seed[k]·∂f_k/∂x` for the slices (the calling convention of generated
        /// code): the seeded sum's product, `seed` padded with zeros to the outputs.
        #[doc(hidden)]
        #[inline]
        pub fn __vjp<#(#bounds),*>(#inputs, #given: &[#t], #(#sinks),*) {
            let #m = #len_fn(#(#call_args),*);
            let mut #seeds = ::std::vec![0.0 as #t; #m];
            let #k = #given.len().min(#m);
            #seeds[..#k].copy_from_slice(&#given[..#k]);
            #seeded::__vjp(#(#call_args,)* &#seeds, 1.0 as #t, #(#sink_names,)* &mut ::symgrad::__private::Discard::<#t>::default());
        }
    }
}

/// The number of outputs: `lone`'s items, checked against what `DVector::from_iterator(n, …)`
/// was given (nalgebra panics unless the items are `n`: so do the companions).
fn item_count(lone: &TokenStream, expected: Option<&Expr>) -> TokenStream {
    match expected {
        None => quote!(#lone.count()),
        Some(n) => {
            let c = Ident::new("__count", Span::mixed_site());
            quote! {{
                let #c = #lone.count();
                ::core::assert_eq!(#c, #n, "the iterator did not yield the number of elements `DVector::from_iterator` was given");
                #c
            }}
        }
    }
}

/// `source` as the receiver of `.skip(k)`: a range in parentheses, a slice (`x`, `&x`) by
/// `iter()`.
fn lone_items(source: &Expr) -> TokenStream {
    match source {
        Expr::Range(_) => quote!((#source)),
        Expr::Path(_) => quote!(#source.iter()),
        Expr::Reference(r) if r.mutability.is_none() => {
            let inner = &r.expr;
            quote!(#inner.iter())
        }
        _ => source.to_token_stream(),
    }
}

/// `fn name(params…, extra) -> T { body }`, with the function's visibility and parameters.
fn scalar_fn(
    func: &ItemFn,
    name: &Ident,
    extra: &TokenStream,
    t: &TokenStream,
    body: &TokenStream,
) -> ItemFn {
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let inputs = &func.sig.inputs;
    let comma = (!inputs.empty_or_trailing()).then(|| quote!(,));
    syn::parse_quote! {
        #vis fn #name #generics (#inputs #comma #extra) -> #t { #body }
    }
}

/// The generated items of a scalar function a `Vec`-valued function is lowered to, hidden
/// from the docs, its gradient struct `grad_struct` documented with `doc` (or hidden); with
/// `counted`, their parameters may be unused. Its
/// hidden item stays: the `Vec`-valued function's own (which callers chain through) forwards
/// to it.
fn hidden(
    items: TokenStream,
    grad_struct: &Ident,
    doc: Option<&str>,
    counted: bool,
) -> Result<TokenStream, syn::Error> {
    let file: syn::File = syn::parse2(items)?;
    let mut out = TokenStream::new();
    for item in file.items {
        match item {
            Item::Fn(_) => {
                // A parameter only the number of outputs reads (`n` of
                // `DVector::from_iterator(n, …)`, `counted`) is unused in the per-output functions.
                let unused = counted.then(|| quote!(unused_variables,));
                quote!(#[doc(hidden)] #[allow(#unused dead_code)] #item).to_tokens(&mut out);
            }
            Item::Struct(mut row) if row.ident == *grad_struct => {
                // Its docs name the scalar function: name the user's instead, or none.
                row.attrs.retain(|a| !a.path().is_ident("doc"));
                match doc {
                    Some(doc) => quote!(#[doc = #doc] #row).to_tokens(&mut out),
                    None => quote!(#[doc(hidden)] #row).to_tokens(&mut out),
                }
            }
            other => other.to_tokens(&mut out),
        }
    }
    Ok(out)
}

/// `_jacobian`, `_jacobian_into`, `_vjp`, `_jvp`.
fn public_fns(
    func: &ItemFn,
    t: &TokenStream,
    (grad_struct, seeded_struct, wrt): (&Ident, &Ident, &[Ident]),
    (row, seeded, len_fn): (&Ident, &Ident, &Ident),
) -> TokenStream {
    let vis = &func.vis;
    let name = &func.sig.ident;
    let generics = &func.sig.generics;
    let inputs = &func.sig.inputs;
    let comma = (!inputs.empty_or_trailing()).then(|| quote!(,));
    let args: Vec<TokenStream> = inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(p) => match &*p.pat {
                Pat::Ident(i) => Some(i.ident.to_token_stream()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let names = Names::of(func);
    let (jacobian, jacobian_into, vjp, jvp) = (
        &names.jacobian_fn,
        &names.jacobian_into_fn,
        &names.vjp_fn,
        &names.jvp_fn,
    );
    let row_grad_into = format_ident!("{}_grad_into", row);
    let seed_field = Ident::new("__seed", Span::call_site());
    let seeded_grad = format_ident!("{}_grad", seeded);
    let doc_jacobian = format!(
        "The outputs of [`{name}`] and its Jacobian, one [`{grad_struct}`] per output (`jac[k]` is the gradient of output `k`), generated by `#[differentiable]`.\n\nReverse mode, one sweep per output: each sweep runs the statements before the loop that builds the outputs and that output's own item, so the Jacobian costs about M times their cost."
    );
    let doc_into = format!(
        "[`{jacobian}`] into buffers you keep: `out` and `jac` are resized to the number of outputs (they allocate nothing when they already have that length and each row's vectors theirs) and every field of every row is overwritten."
    );
    let doc_vjp = format!(
        "The outputs of [`{name}`] and the vector-Jacobian product `Σ_k seed[k]·∇f_k` (a [`{grad_struct}`]), in one forward and one reverse sweep (the outputs are the gradient with respect to the seeds).\n\n# Panics\n\nIf `seed` does not have one element per output."
    );
    let doc_jvp = format!(
        "The outputs of [`{name}`] and the Jacobian-vector product `J·tangent`, `tangent` having one field per differentiated parameter, as [`{grad_struct}`].\n\nOne row of the Jacobian at a time (as [`{jacobian}`] computes it), contracted with `tangent` as it is computed: the rows are never stored (one row's vectors are allocated)."
    );
    let allow = quote! { #[allow(unused_parens, unused_variables, clippy::all, clippy::pedantic, clippy::nursery)] };
    quote! {
        #[doc = #doc_jacobian]
        #allow
        #vis fn #jacobian #generics (#inputs) -> (::std::vec::Vec<#t>, ::std::vec::Vec<#grad_struct>) {
            let mut out = ::std::vec::Vec::new();
            let mut jac = ::std::vec::Vec::new();
            #jacobian_into(#(#args,)* &mut out, &mut jac);
            (out, jac)
        }
        #[doc = #doc_into]
        #allow
        #vis fn #jacobian_into #generics (#inputs #comma out: &mut ::std::vec::Vec<#t>, jac: &mut ::std::vec::Vec<#grad_struct>) {
            let m = #len_fn(#(#args),*);
            out.resize(m, 0.0);
            jac.resize_with(m, ::std::default::Default::default);
            for (k, (value, row)) in out.iter_mut().zip(jac.iter_mut()).enumerate() {
                *value = #row_grad_into(#(#args,)* k, row);
            }
        }
        #[doc = #doc_vjp]
        #allow
        #vis fn #vjp #generics (#inputs #comma seed: &[#t]) -> (::std::vec::Vec<#t>, #grad_struct) {
            assert_eq!(seed.len(), #len_fn(#(#args),*), "the seed of `{}` must have one element per output", stringify!(#vjp));
            let (_, #seeded_struct { #(#wrt,)* #seed_field: out }) = #seeded_grad(#(#args,)* seed);
            (out, #grad_struct { #(#wrt),* })
        }
        #[doc = #doc_jvp]
        #allow
        #vis fn #jvp #generics (#inputs #comma tangent: &#grad_struct) -> (::std::vec::Vec<#t>, ::std::vec::Vec<#t>) {
            let m = #len_fn(#(#args),*);
            let tangent = ::symgrad::Gradient::<#t>::to_flat_vec(tangent);
            let mut flat = ::std::vec::Vec::with_capacity(tangent.len());
            let mut row: #grad_struct = ::std::default::Default::default();
            let mut out = ::std::vec::Vec::with_capacity(m);
            let mut product = ::std::vec::Vec::with_capacity(m);
            for k in 0..m {
                out.push(#row_grad_into(#(#args,)* k, &mut row));
                flat.clear();
                ::symgrad::Gradient::<#t>::flatten_into(&row, &mut flat);
                assert_eq!(flat.len(), tangent.len(), "the tangent of `{}` must have the rows' shape", stringify!(#jvp));
                product.push(flat.iter().zip(&tangent).map(|(a, b)| a * b).sum::<#t>());
            }
            (out, product)
        }
    }
}
