//! The items generated beside the user's function:
//!
//! ```text
//! // Input:
//! #[differentiable]
//! fn cost(w: f64, x: f64, y: f64) -> f64 { (w * x - y).powi(2) }
//!
//! // Output (abridged):
//! fn cost(w: f64, x: f64, y: f64) -> f64 { (w * x - y).powi(2) }       // unchanged
//! pub struct CostGrad { pub w: f64, pub x: f64, pub y: f64 }            // + FORMULAS, Gradient
//! fn cost_grad(w: f64, x: f64, y: f64) -> (f64, CostGrad) { … }         // value and gradient
//! fn cost_grad_into(w: f64, x: f64, y: f64, grad: &mut CostGrad) -> f64 { … } // the same, into
//!                                                                       // a reused struct
//! enum cost {}                                                          // hidden: lets other
//! impl cost { pub fn __partials(w: f64, x: f64, y: f64) -> (f64, (f64, f64, f64)) { … } }
//! ```
//!
//! The hidden `__partials` is the calling convention between differentiable functions: see
//! `symgrad_runtime::scalar`.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{Ident, ItemFn};

use crate::attr::Args;
use crate::callees;
use crate::emit;
use crate::formula;
use crate::graph::NodeId;
use crate::plan::{Body, Derivatives, Plan, Side, Split};
use crate::second_order;
use crate::signature::{FloatTy, ParamKind, Sig};
use crate::vector;

/// Everything generated for a function that checked out.
pub fn generate(func: &ItemFn, args: &Args, plan: &Plan) -> TokenStream {
    generate_named(func, args, plan, &Names::of(func))
}

/// [`generate`], the items named by `names` (a `Vec`-valued function's hidden scalar
/// functions fill the user's `<Name>Grad`).
pub fn generate_named(func: &ItemFn, args: &Args, plan: &Plan, names: &Names) -> TokenStream {
    let float = float_tokens(plan.sig.float);
    let formulas = formulas(func, plan);
    let grad_struct = grad_struct(func, names, &plan.sig, &float, &formulas);
    let (grad_fn, partials_fn, hessian_fn) = match &plan.body {
        Body::Graph(d) => {
            let (grad_fn, partials_fn, hessian_fn) =
                graph_functions(func, names, plan, d, &float, &formulas, args.hessian);
            let second = second_order::functions(func, names, plan, d, &float);
            (grad_fn, partials_fn, quote! { #hessian_fn #second })
        }
        Body::Vector(v) => (
            vector::functions(func, names, &plan.sig, v, &float, &formulas),
            vector::hidden(func, &plan.sig, v, &float),
            TokenStream::new(),
        ),
        Body::Tape(body) => (
            tape_grad_fns(func, names, &plan.sig, body, &float),
            TokenStream::new(),
            TokenStream::new(),
        ),
        Body::Rule(rule) => (
            rule_grad_fns(func, names, &plan.sig, rule, &float),
            rule_partials_fn(func, &plan.sig, rule, &float),
            TokenStream::new(),
        ),
    };
    let vis = &func.vis;
    let name = &func.sig.ident;
    let callees = callees::items(name, &float, &plan.callees);
    // With `hessian`: callers' Hessians may chain through `__partials2`.
    let twice = match &plan.body {
        Body::Graph(d) if d.second_partials.is_some() => quote! {
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::TwiceDifferentiable for #name {}
        },
        Body::Vector(v) if v.whole.call_hvp.is_some() => quote! {
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::TwiceDifferentiable for #name {}
        },
        _ => TokenStream::new(),
    };
    let scalar = scalar_valued(func, &plan.body, &float);
    let differentiated_slices: Vec<usize> = plan
        .sig
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == ParamKind::Slice && p.differentiated)
        .map(|(j, _)| j)
        .collect();
    quote! {
        #func
        #grad_struct
        #grad_fn
        #hessian_fn
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}
        #[allow(dead_code)]
        impl #name {
            #partials_fn
        }
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::Differentiable for #name {}
        #twice
        #scalar
        #(
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::DifferentiatesSlice<#differentiated_slices> for #name {}
        )*
        #callees
        // The original is used through its companions: no `dead_code` warning for it.
        const _: () = {
            let _ = #name;
        };
    }
}

/// The generated names: `cost` → `cost_grad`, `cost_grad_into`, `cost_hessian`, `CostGrad`.
pub struct Names {
    pub grad_fn: Ident,
    pub grad_into_fn: Ident,
    pub hessian_fn: Ident,
    /// `loss_hvp`, `loss_hvp_into` (with `hessian`).
    pub hvp_fn: Ident,
    pub hvp_into_fn: Ident,
    pub grad_struct: Ident,
    /// A vector-valued function's: `residual_jacobian`, `_jacobian_into`, `_vjp`, `_vjp_into`,
    /// `_jvp`.
    pub jacobian_fn: Ident,
    pub jacobian_into_fn: Ident,
    pub vjp_fn: Ident,
    pub vjp_into_fn: Ident,
    pub jvp_fn: Ident,
}

impl Names {
    pub fn of(func: &ItemFn) -> Names {
        let name = &func.sig.ident;
        let camel: String = name
            .to_string()
            .trim_start_matches("r#")
            .split('_')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let mut c = s.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_uppercase().collect::<String>() + c.as_str()
                })
            })
            .collect();
        Names {
            grad_fn: format_ident!("{}_grad", name),
            grad_into_fn: format_ident!("{}_grad_into", name),
            hessian_fn: format_ident!("{}_hessian", name),
            hvp_fn: format_ident!("{}_hvp", name),
            hvp_into_fn: format_ident!("{}_hvp_into", name),
            grad_struct: Ident::new(&format!("{camel}Grad"), name.span()),
            jacobian_fn: format_ident!("{}_jacobian", name),
            jacobian_into_fn: format_ident!("{}_jacobian_into", name),
            vjp_fn: format_ident!("{}_vjp", name),
            vjp_into_fn: format_ident!("{}_vjp_into", name),
            jvp_fn: format_ident!("{}_jvp", name),
        }
    }
}

pub fn float_tokens(f: FloatTy) -> TokenStream {
    match f {
        FloatTy::F32 => quote!(f32),
        FloatTy::F64 => quote!(f64),
    }
}

/// `name: ty` for each parameter, without `mut` (the companions never assign them).
pub fn params(func: &ItemFn) -> Vec<TokenStream> {
    func.sig
        .inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(p) => {
                    let (id, ty) = (&p.ident, &t.ty);
                    quote! { #id: #ty }
                }
                other => {
                    let ty = &t.ty;
                    quote! { #other: #ty }
                }
            },
            syn::FnArg::Receiver(r) => r.to_token_stream(),
        })
        .collect()
}

/// The parameter identifiers, to call with.
pub fn arg_names(func: &ItemFn) -> Vec<TokenStream> {
    func.sig
        .inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(p) => p.ident.to_token_stream(),
                other => other.to_token_stream(),
            },
            syn::FnArg::Receiver(r) => r.self_token.to_token_stream(),
        })
        .collect()
}

/// `(parameter, formula)` for each differentiated parameter.
fn formulas(func: &ItemFn, plan: &Plan) -> Vec<(String, String)> {
    let wrt = plan.sig.wrt().map(|p| p.ident.to_string());
    match &plan.body {
        Body::Graph(d) => {
            let float_index: Vec<usize> = plan
                .sig
                .floats()
                .enumerate()
                .filter(|(_, p)| p.differentiated)
                .map(|(i, _)| i)
                .collect();
            let mut scalars = float_index.into_iter();
            let mut slices = 0u32..;
            plan.sig
                .wrt()
                .map(|p| {
                    let text = if p.kind == ParamKind::Slice {
                        slices.next().and_then(|k| slice_effect(d, k)).map_or_else(
                            || "0 (the value does not depend on it)".to_string(),
                            |e| formula::print(&d.lowered.graph, e, plan.sig.float.name()),
                        )
                    } else {
                        scalars.next().map_or_else(String::new, |i| {
                            formula::print(&d.lowered.graph, d.partials[i], plan.sig.float.name())
                        })
                    };
                    (p.ident.to_string(), text)
                })
                .collect()
        }
        Body::Vector(v) => vector::formulas(func, &plan.sig, v),
        Body::Tape(_) => wrt
            .map(|p| (p, "computed on the reverse-mode tape".to_string()))
            .collect(),
        Body::Rule(rule) => {
            let rule = crate::lower::pretty(&rule.to_token_stream());
            let _ = func;
            wrt.map(|p| (p, format!("given by the rule `{rule}`")))
                .collect()
        }
    }
}

/// The effect that accumulates slice `k`'s gradient: its own, or, for a slice whose only
/// contributions come from calls that are also given an earlier slice (`dot(w, x)`), the
/// effect those calls' vector-Jacobian products are listed with (`∇w, ∇x += …`).
fn slice_effect(d: &crate::plan::Derivatives, k: u32) -> Option<crate::graph::NodeId> {
    use crate::graph::Op;
    let g = &d.lowered.graph;
    let own = d.slice_effects.get(k as usize).copied().flatten();
    own.or_else(|| {
        d.slice_effects.iter().flatten().copied().find(|e| {
            g.reachable(&[*e]).iter().any(|n| match g.op(*n) {
                Op::CallVjp(call, _) => g
                    .op(*call)
                    .children()
                    .iter()
                    .any(|a| matches!(g.op(*a), Op::SliceArg(j, ..) if *j == k)),
                _ => false,
            })
        })
    })
}

fn grad_struct(
    func: &ItemFn,
    names: &Names,
    sig: &Sig,
    float: &TokenStream,
    formulas: &[(String, String)],
) -> TokenStream {
    let vis = &func.vis;
    let name = &func.sig.ident;
    let s = &names.grad_struct;
    let fields: Vec<&Ident> = sig.wrt().map(|p| &p.ident).collect();
    let types: Vec<TokenStream> = sig
        .wrt()
        .map(|p| crate::signature::gradient_type(&p.ty, float).unwrap_or_else(|| float.clone()))
        .collect();
    let copy = if sig
        .wrt()
        .all(|p| p.kind == ParamKind::Float || crate::signature::grad_is_copy(&p.ty))
    {
        quote!(Copy,)
    } else {
        TokenStream::new()
    };
    let (field_docs, doc): (Vec<String>, String) = if sig.outputs.is_some() {
        (
            sig.wrt()
                .map(|p| format!("`∂{name}[k]/∂{}` in row `k` of the Jacobian", p.ident))
                .collect(),
            format!(
                "A row of the Jacobian of [`{name}`] (the gradient of one output), the sum of rows [`{name}_vjp`] returns, and the direction [`{name}_jvp`] takes: one field per differentiated parameter. Generated by `#[differentiable]`."
            ),
        )
    } else {
        (
            formulas
                .iter()
                .map(|(p, f)| format!("`∂{name}/∂{p}` = `{f}`"))
                .collect(),
            format!(
                "The gradient of [`{name}`]: one field per differentiated parameter. Generated by `#[differentiable]`."
            ),
        )
    };
    let table = formulas.iter().map(|(p, f)| quote! { (#p, #f) });
    let formulas_doc = if sig.outputs.is_some() {
        // M × K entries: past 512 the table is larger than `large_stack_arrays` likes, but it is
        // a constant, never on the stack.
        quote! {
            /// The simplified partial derivative of each output with respect to each
            /// differentiated parameter, as Rust-like text, row by row:
            /// `("∂f[k]/∂p", formula)`.
            #[allow(clippy::large_stack_arrays)]
        }
    } else {
        quote! {
            /// The simplified derivative of each differentiated parameter, as Rust-like text:
            /// `(parameter, formula)`.
        }
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, #copy PartialEq, Default)]
        #vis struct #s {
            #(
                #[doc = #field_docs]
                pub #fields: #types,
            )*
        }

        impl #s {
            #formulas_doc
            pub const FORMULAS: &'static [(&'static str, &'static str)] = &[#(#table),*];
        }

        impl ::symgrad::Gradient<#float> for #s {
            fn flat_len(&self) -> usize {
                0 #( + ::symgrad::Gradient::<#float>::flat_len(&self.#fields) )*
            }
            fn flatten_into(&self, out: &mut ::std::vec::Vec<#float>) {
                #( ::symgrad::Gradient::<#float>::flatten_into(&self.#fields, out); )*
            }
        }
    }
}

/// `_grad_into` for a function whose arrays are differentiated on the reverse-mode tape (see
/// [`crate::tape`]), and `_grad` calling it.
///
/// ```text
/// // Input:
/// #[differentiable(wrt(w))]
/// fn loss(x: &Array2<f64>, w: &Array1<f64>) -> f64 { x.dot(w).powi(2).sum() }
///
/// // Output (abridged):
/// fn loss_grad_into(x: &Array2<f64>, w: &Array1<f64>, grad: &mut LossGrad) -> f64 {
///     let __tape = Tape::<f64>::new();
///     let __var_w = __tape.watch(w);                  // the body's `w` is now a tape value
///     let __at_w = (__var_w.id(), __var_w.shape());
///     let w = &__var_w;
///     let __result = (|| { x.dot(w).powi(2).sum() })();
///     let mut __grads = __tape.gradient(&__result);
///     store_recycling(&mut grad.w, __grads.__take_by_id(__at_w.0, &__at_w.1).into_dimensionality()?);
///     __result.item()
/// }
/// ```
fn tape_grad_fns(
    func: &ItemFn,
    names: &Names,
    sig: &Sig,
    body: &syn::Block,
    float: &TokenStream,
) -> TokenStream {
    let params = params(func);
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let s = &names.grad_struct;
    let into_name = &names.grad_into_fn;
    let grad = grad_param();
    let tape = Ident::new("__tape", Span::mixed_site());
    let result = Ident::new("__result", Span::mixed_site());
    let grads = Ident::new("__grads", Span::mixed_site());
    let nd = quote!(::symgrad::__private::ndarray);
    let mut watches = Vec::new();
    let mut stores = Vec::new();
    for p in sig.wrt() {
        let id = &p.ident;
        let var = format_ident!("__var_{}", id, span = Span::mixed_site());
        let at = format_ident!("__at_{}", id, span = Span::mixed_site());
        // `&Array2<f64>` stays a reference (`&Var`); an owned array or a view becomes an owned
        // tape value, so `&x`, `x.dot(..)` and `x.view()` read as they did.
        let by_reference = matches!(&p.ty, syn::Type::Reference(_));
        watches.push(match (p.kind, by_reference) {
            // A reference stays a reference: the body may use it any number of times.
            (ParamKind::Array, true) => quote! {
                let #var = #tape.watch(#id);
                let #at = (#var.id(), #var.shape());
                let #id = &#var;
            },
            // An owned array or a view becomes an owned tape value the body may consume.
            (ParamKind::Array, false) => quote! {
                let #id = #tape.watch(#id);
                let #at = (#id.id(), #id.shape());
            },
            // A scalar becomes a 0-dimensional tape value.
            _ => quote! {
                let #id = #tape.watch(#nd::arr0(#id));
                let #at = (#id.id(), #id.shape());
            },
        });
        let take = quote! { #grads.__take_by_id(#at.0, &#at.1) };
        // An array's old buffer goes to the tape's cache, for the next call's tape.
        stores.push(if p.kind == ParamKind::Array {
            quote! {
                ::symgrad::__private::store_recycling(
                    &mut #grad.#id,
                    #take.into_dimensionality().expect("internal error: gradient rank"),
                );
            }
        } else {
            quote! {
                #grad.#id = #take.into_dimensionality::<#nd::Ix0>().expect("internal error: gradient rank").into_scalar();
            }
        });
    }
    let name = &func.sig.ident;
    let doc = format!(
        "The value of [`{name}`] and its gradient, computed on the reverse-mode tape (`symgrad::tape`), generated by `#[differentiable]`.\n\nEach call records a fresh tape; its intermediate arrays come from, and go back to, the tape's per-thread buffer cache (`symgrad::tape::cache`), so repeated calls (a training loop) reuse them instead of allocating again."
    );
    let allow = quote! { #[allow(unused_parens, unused_variables, unused_mut, clippy::all, clippy::pedantic, clippy::nursery)] };
    let grad_fn = grad_fn_via_into(func, names, float, &doc, &allow);
    let into_doc = into_doc(func, names, sig, true);
    quote! {
        #grad_fn
        #[doc = #into_doc]
        #allow
        #vis fn #into_name #generics (#(#params,)* #grad: &mut #s) -> #float {
            use ::symgrad::__private::TapeDotMethod as _;
            let #tape = ::symgrad::__private::Tape::<#float>::new();
            #(#watches)*
            let #result = (|| #body)();
            let mut #grads = #tape.gradient(&#result);
            #(#stores)*
            #result.item()
        }
    }
}

/// The `grad` parameter of `_grad_into`: mixed-site, so that a parameter of the user's named
/// `grad` is another variable.
fn grad_param() -> Ident {
    Ident::new("grad", Span::mixed_site())
}

/// `_grad`, for every kind of function: a fresh gradient that `_grad_into` fills, so both run
/// one body.
///
/// ```text
/// fn cost_grad(w: f64, x: &[f64]) -> (f64, CostGrad) {
///     let mut grad: CostGrad = Default::default();  // `x`'s vector empty: allocated zeroed
///     let value = cost_grad_into(w, x, &mut grad);
///     (value, grad)
/// }
/// ```
fn grad_fn_via_into(
    func: &ItemFn,
    names: &Names,
    float: &TokenStream,
    doc: &str,
    allow: &TokenStream,
) -> TokenStream {
    let params = params(func);
    let args = arg_names(func);
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let (grad_name, into_name, s) = (&names.grad_fn, &names.grad_into_fn, &names.grad_struct);
    let grad = grad_param();
    let value = Ident::new("value", Span::mixed_site());
    quote! {
        #[doc = #doc]
        #allow
        #[inline]
        #vis fn #grad_name #generics (#(#params),*) -> (#float, #s) {
            let mut #grad: #s = ::core::default::Default::default();
            let #value = #into_name(#(#args,)* &mut #grad);
            (#value, #grad)
        }
    }
}

/// The doc comment of `_grad_into`.
fn into_doc(func: &ItemFn, names: &Names, sig: &Sig, tape: bool) -> String {
    let name = &func.sig.ident;
    let (grad_name, s) = (&names.grad_fn, &names.grad_struct);
    let mut doc = format!(
        "The value of [`{name}`], with its gradient written into `grad`: [`{grad_name}`] for a loop that reuses one [`{s}`]."
    );
    let vectors = sig.wrt().any(|p| {
        p.kind == ParamKind::Slice
            && matches!(
                crate::signature::slice_of(&p.ty),
                Some((_, crate::signature::SliceGrad::Vec))
            )
    });
    if tape {
        doc.push_str("\n\nEvery field is overwritten. The arrays `grad` held go to the tape's per-thread buffer cache (`symgrad::tape::cache`), where the next call's tape takes its buffers from.");
    } else if vectors {
        let _ = write!(
            doc,
            "\n\nEvery field is overwritten: each vector is resized to its slice's length and zeroed, keeping its allocation, so a call with the lengths of the previous one allocates nothing. Start from `{s}::default()` (empty vectors, allocated by the first call) or from a gradient [`{grad_name}`] returned."
        );
    } else {
        doc.push_str("\n\nEvery field is overwritten.");
    }
    doc
}

fn grad_doc(func: &ItemFn, formulas: &[(String, String)]) -> String {
    let name = &func.sig.ident;
    let mut doc =
        format!("The value of [`{name}`] and its gradient, generated by `#[differentiable]`.\n\n");
    for (p, f) in formulas {
        let _ = writeln!(doc, "- `∂{name}/∂{p}` = `{f}`");
    }
    doc
}

/// A function returning one float implements `ScalarValued`, which a caller using a call's
/// value as a float checks. A vector-valued one does not, and gets a never-run `__partials`
/// taking the call's arguments, so that check's error is the only one such a caller gets.
fn scalar_valued(func: &ItemFn, body: &Body, float: &TokenStream) -> TokenStream {
    let name = &func.sig.ident;
    if !matches!(body, Body::Vector(_)) {
        return quote! {
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::ScalarValued for #name {}
        };
    }
    let stub = crate::fallback::partials_stub(func, float);
    quote! {
        #[allow(dead_code, clippy::all)]
        impl #name {
            #stub
        }
    }
}

/// Which of the companions built on the gradient a kernel computes, for [`Kernel::roots`].
#[derive(Clone, Copy)]
enum Kernel<'a> {
    /// `_grad_into`: the value, `∂/∂p` for the differentiated float parameters (their
    /// indices), and the slices' gradients.
    Grad(&'a [usize]),
    /// `__partials`: the value and `∂/∂p` for every float parameter.
    Partials,
    /// `__vjp`: the slices' seeded gradients.
    Vjp,
}

impl Kernel<'_> {
    /// What this kernel computes of `d`: its values, then its effects; of each side in its own
    /// block where the gradient is split (see `plan::Split`).
    fn roots(self, d: &Derivatives) -> emit::Roots {
        match &d.split {
            Some(split) => self.split(split),
            None => emit::Roots::Whole {
                roots: self.of(
                    d.lowered.output,
                    &d.partials,
                    &d.slice_effects,
                    &d.vjp_effects,
                ),
                primal: d.lowered.graph.primal.clone(),
                holds: Vec::new(),
            },
        }
    }

    /// The roots of `split`'s sides (see [`Split::kernel`]).
    fn split(self, split: &Split) -> emit::Roots {
        let values = match self {
            Kernel::Grad(wrt) => 1 + wrt.len(),
            Kernel::Partials => 1 + split.sides[0].partials.len(),
            Kernel::Vjp => 0,
        };
        let leaf = |s: &Side| self.of(s.output, &s.partials, &s.slice_effects, &s.vjp_effects);
        split.kernel(values, &leaf, &[])
    }

    /// The values, then the effects, of one side (or the whole).
    fn of(
        self,
        output: NodeId,
        partials: &[NodeId],
        slice_effects: &[Option<NodeId>],
        vjp_effects: &[Option<NodeId>],
    ) -> Vec<NodeId> {
        let mut out = Vec::new();
        match self {
            Kernel::Grad(wrt) => {
                out.push(output);
                out.extend(wrt.iter().map(|&i| partials[i]));
                out.extend(slice_effects.iter().flatten());
            }
            Kernel::Partials => {
                out.push(output);
                out.extend(partials);
            }
            Kernel::Vjp => out.extend(vjp_effects.iter().flatten()),
        }
        out
    }
}

/// `_grad`, `__partials` and `_hessian` emitted from the differentiated graph.
#[allow(clippy::too_many_lines)] // three `quote!` templates that share their setup
fn graph_functions(
    func: &ItemFn,
    names: &Names,
    plan: &Plan,
    d: &Derivatives,
    float: &TokenStream,
    formulas: &[(String, String)],
    want_hessian: bool,
) -> (TokenStream, TokenStream, TokenStream) {
    let g = &d.lowered.graph;
    let sig = &plan.sig;
    let input_tokens: Vec<TokenStream> = sig.floats().map(|p| p.ident.to_token_stream()).collect();
    let slice_params: Vec<&crate::signature::Param> =
        sig.wrt().filter(|p| p.kind == ParamKind::Slice).collect();
    let slice_tokens: Vec<TokenStream> = slice_params
        .iter()
        .map(|p| p.ident.to_token_stream())
        .collect();
    // The companions built on the gradient run `Kernel::roots` (split where it is, see
    // `plan::Split`); the others, their roots in one region.
    let run_roots = |roots: &emit::Roots, sinks: emit::Sinks| {
        emit::emit_roots(
            g,
            emit::Symbols {
                tokens: &d.lowered.symbols,
                callees: &d.lowered.callees,
                tuples: &d.lowered.tuple_calls,
            },
            &input_tokens,
            &slice_tokens,
            sig.float,
            roots,
            sinks,
        )
    };
    let run_with = |roots: &[NodeId], sinks: emit::Sinks| {
        let whole = emit::Roots::Whole {
            roots: roots.to_vec(),
            primal: g.primal.clone(),
            holds: Vec::new(),
        };
        run_roots(&whole, sinks)
    };
    let run = |roots: &[NodeId]| run_with(roots, emit::Sinks::Slices);
    let run_kernel = |kernel: Kernel<'_>, sinks: emit::Sinks| run_roots(&kernel.roots(d), sinks);
    let wrt_index: Vec<usize> = sig
        .floats()
        .enumerate()
        .filter(|(_, p)| p.differentiated)
        .map(|(i, _)| i)
        .collect();
    let wrt_fields: Vec<&Ident> = sig.wrt().map(|p| &p.ident).collect();
    let params = params(func);
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let s = &names.grad_struct;
    let allow = quote! { #[allow(unused_parens, unused_variables, clippy::all, clippy::pedantic, clippy::nursery)] };

    // <name>_grad_into: scalars as expressions assigned to their fields, slices as the
    // struct's vectors (zeroed, then accumulated into by the scatters); <name>_grad calls it.
    let (stmts, exprs) = run_kernel(Kernel::Grad(&wrt_index), emit::Sinks::Slices);
    let roots = Kernel::Grad(&wrt_index).roots(d).all();
    let value = &exprs[0];
    let scalar_exprs: Vec<&TokenStream> = exprs[1..=wrt_index.len()].iter().collect();
    let grad = grad_param();
    let zero = quote!(0.0 as #float);
    let (mut resets, mut slice_fields, mut scalar_fields) = (Vec::new(), Vec::new(), Vec::new());
    for p in sig.wrt() {
        let id = &p.ident;
        if p.kind == ParamKind::Slice {
            resets.push(match crate::signature::slice_of(&p.ty) {
                Some((_, crate::signature::SliceGrad::Array(n))) => {
                    quote! { #grad.#id = [#zero; #n]; }
                }
                _ => quote! { ::symgrad::__private::zero_resized(&mut #grad.#id, #id.len()); },
            });
            slice_fields.push(crate::signature::grad_place(&p.ty, &quote!(#grad.#id)));
        } else {
            scalar_fields.push(id);
        }
    }
    let slices: Vec<Ident> = (0..u32::try_from(slice_fields.len()).unwrap_or(0))
        .map(emit::grad_vec_name)
        .collect();
    let into_name = &names.grad_into_fn;
    let mut into_doc = into_doc(func, names, sig, false);
    if crate::schedule::saves_trace(g, &roots) {
        into_doc.push_str(" A recurrence whose reverse sweep reads its saved values (`p *= x[i]`) still saves them in a vector of its own, allocated per call.");
    }
    // Straight-line gradients are small: inline them. A gradient with loops stays a function of
    // its own: inlined into a caller, its slice parameters lose their `noalias` guarantee and
    // the scatter loop cannot keep its running element in a register (Rosenbrock, n = 1000:
    // 2.9 µs as a function, 9.3 µs inlined, `cargo bench --bench loops`).
    let has_loops = g.runs_loops(&roots);
    let inline = if has_loops {
        quote!(#[inline(never)])
    } else {
        quote!(#[inline])
    };
    let into_fn = if has_loops && !slices.is_empty() {
        // The loops run in a kernel that takes the gradient vectors as `&mut [T]` parameters,
        // as a hand-written gradient does: a vector allocated in the same function lets LLVM
        // merge `∇x[i] += a; ∇x[i + 1] += b;` into one two-lane store, which the next
        // iteration's load of `∇x[i + 1]` then waits on (Rosenbrock, n = 1000: 9.2 µs → see
        // README). The kernel keeps its parameters' `noalias`, so the wrapper around it (the
        // zeroing and a call) may be inlined.
        let kernel = format_ident!("__symgrad_kernel", span = Span::mixed_site());
        let args = arg_names(func);
        let scalar_names: Vec<Ident> = (0..scalar_exprs.len())
            .map(|i| format_ident!("__d{}", i, span = Span::mixed_site()))
            .collect();
        let scalar_types = scalar_exprs.iter().map(|_| float.clone());
        let value_name = format_ident!("__value", span = Span::mixed_site());
        quote! {
            #[doc = #into_doc]
            #allow
            #[inline]
            #vis fn #into_name #generics (#(#params,)* #grad: &mut #s) -> #float {
                #(#resets)*
                #allow
                #[inline(never)]
                fn #kernel (#(#params,)* #(#slices: &mut [#float]),*) -> (#float, (#(#scalar_types,)*)) {
                    #stmts
                    (#value, (#(#scalar_exprs,)*))
                }
                let (#value_name, (#(#scalar_names,)*)) = #kernel(#(#args,)* #(&mut #slice_fields),*);
                #( #grad.#scalar_fields = #scalar_names; )*
                #value_name
            }
        }
    } else {
        quote! {
            #[doc = #into_doc]
            #allow
            #inline
            #vis fn #into_name #generics (#(#params,)* #grad: &mut #s) -> #float {
                #(#resets)*
                #( let #slices = &mut #slice_fields; )*
                #stmts
                #( #grad.#scalar_fields = #scalar_exprs; )*
                #value
            }
        }
    };
    let grad_fn = grad_fn_via_into(func, names, float, &grad_doc(func, formulas), &allow);
    let grad_fn = quote! { #grad_fn #into_fn };

    // __partials: every float parameter; `()` for the others.
    let (stmts, exprs) = run_kernel(Kernel::Partials, emit::Sinks::Discarded);
    let value = &exprs[0];
    let mut floats = exprs[1..].iter();
    let (types, values): (Vec<TokenStream>, Vec<TokenStream>) = sig
        .params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Float => (float.clone(), floats.next().cloned().unwrap_or_default()),
            _ => (quote!(()), quote!(())),
        })
        .unzip();
    // __vjp: `∇x += seed · ∂f/∂x` into one sink per parameter (a caller's gradient vector for
    // the slices it differentiates, `Discard` for the others).
    // Also for a function whose slices are all data: a caller passing its differentiated slice
    // there meets `DifferentiatesSlice`'s check (see `callees`), not "no `__vjp`".
    let vjp_fn = if d.vjp_effects.iter().any(Option::is_some)
        || sig.params.iter().any(|p| p.kind == ParamKind::Slice)
    {
        let (stmts, _) = run_kernel(Kernel::Vjp, emit::Sinks::Generic);
        let mixed = proc_macro2::Span::mixed_site();
        let seed = format_ident!("__seed", span = mixed);
        // A parameter this function does not differentiate takes only `Discard`: a caller that
        // would pass its differentiated slice there fails `DifferentiatesSlice`'s check instead.
        let mut k = 0u32;
        let mut bounds = Vec::new();
        let mut sinks = Vec::new();
        for (j, p) in sig.params.iter().enumerate() {
            if p.kind == ParamKind::Slice && p.differentiated {
                let ty = format_ident!("__S{}", j, span = mixed);
                let name = emit::grad_vec_name(k);
                k += 1;
                bounds.push(quote!(#ty: ?Sized + ::core::ops::IndexMut<usize, Output = #float>));
                sinks.push(quote!(#name: &mut #ty));
            } else {
                let ty = format_ident!("__D{}", j, span = mixed);
                let name = format_ident!("__sink{}", j, span = mixed);
                bounds.push(quote!(#ty: ?Sized));
                sinks.push(quote!(#name: &mut #ty));
            }
        }
        quote! {
            /// `∇x += seed · ∂f/∂x` for the slices (the calling convention of generated code).
            #[doc(hidden)]
            #allow
            #[inline]
            pub fn __vjp<#(#bounds),*>(#(#params,)* #seed: #float, #(#sinks),*) {
                #stmts
            }
        }
    } else {
        TokenStream::new()
    };
    let partials_fn = quote! {
        /// Value and partial derivatives (the calling convention of generated code).
        #[doc(hidden)]
        #allow
        #[inline]
        pub fn __partials #generics (#(#params),*) -> (#float, (#(#types,)*)) {
            #stmts
            (#value, (#(#values,)*))
        }
    };
    let partials2_fn = d
        .second_partials
        .as_ref()
        .map(|rows| {
            // Like `__partials`, it has no gradient vector: a call's product that would also
            // write a differentiated slice's gradient (a local array passed beside it) is given
            // `Discard` there.
            partials2_fn(func, sig, d, rows, float, &allow, &|roots| {
                run_with(roots, emit::Sinks::Discarded)
            })
        })
        .unwrap_or_default();
    let hvp_fn = match (&d.call_hvp, &d.second_partials) {
        (Some(h), Some(_)) => call_hvp_fn(func, sig, h, float, &allow, &|roots| {
            run_with(roots, emit::Sinks::Generic)
        }),
        _ => TokenStream::new(),
    };
    let partials_fn = quote! { #partials_fn #vjp_fn #partials2_fn #hvp_fn };

    let hessian_fn = match (&d.hessian, want_hessian) {
        (Some(rows), true) => {
            let k = wrt_index.len();
            let mut roots = vec![d.lowered.output];
            roots.extend(wrt_index.iter().map(|&i| d.partials[i]));
            // Symmetric: compute the upper triangle, mirror it.
            for i in 0..k {
                for j in 0..k {
                    roots.push(rows[i.min(j)][i.max(j)]);
                }
            }
            let (stmts, exprs) = run(&roots);
            let value = &exprs[0];
            let grads = &exprs[1..=k];
            let entries: Vec<&TokenStream> = exprs[k + 1..].iter().collect();
            let rows_tokens = entries.chunks(k).map(|row| quote! { [#(#row),*] });
            let hname = &names.hessian_fn;
            let name = &func.sig.ident;
            let doc = format!(
                "The value of [`{name}`], its gradient and its Hessian (second derivatives, in the order of the differentiated parameters), generated by `#[differentiable(hessian)]`."
            );
            quote! {
                #[doc = #doc]
                #allow
                #vis fn #hname #generics (#(#params),*) -> (#float, #s, [[#float; #k]; #k]) {
                    #stmts
                    (#value, #s { #( #wrt_fields: #grads ),* }, [#(#rows_tokens),*])
                }
            }
        }
        _ => TokenStream::new(),
    };
    (grad_fn, partials_fn, hessian_fn)
}

/// Emits the statements computing some roots, and an expression per root.
type Emitter<'a> = dyn Fn(&[crate::graph::NodeId]) -> (TokenStream, Vec<TokenStream>) + 'a;

/// `__partials2`, with `hessian`: the value, the partials and the second partials
/// `∂²f/∂pᵢ∂pⱼ` (`rows`: the upper triangle over the float parameters), what a caller's Hessian
/// chains through. The arguments come as one tuple, so that a caller can fall back to a
/// never-run function of the same name when its callee lacks `hessian` (see `emit`).
///
/// ```text
/// pub fn __partials2((w, n, x): (f64, usize, f64)) -> (f64, (f64, (), f64), ((f64, (), f64), (), (f64, (), f64)))
/// ```
fn partials2_fn(
    func: &ItemFn,
    sig: &Sig,
    d: &Derivatives,
    rows: &[Vec<crate::graph::NodeId>],
    float: &TokenStream,
    allow: &TokenStream,
    run: &Emitter<'_>,
) -> TokenStream {
    let mut roots = vec![d.lowered.output];
    roots.extend(d.partials.iter().copied());
    roots.extend(rows.iter().flatten().copied());
    let (stmts, exprs) = run(&roots);
    let n = d.partials.len();
    // The flat position of `∂²f/∂pₐ∂p_b` (`a ≤ b`) among `exprs`.
    let mut at = vec![vec![0usize; n]; n];
    let mut next = 1 + n;
    for (a, row) in at.iter_mut().enumerate() {
        for cell in &mut row[a..] {
            *cell = next;
            next += 1;
        }
    }
    let floats: Vec<Option<usize>> = {
        let mut k = 0;
        sig.params
            .iter()
            .map(|p| {
                (p.kind == ParamKind::Float).then(|| {
                    k += 1;
                    k - 1
                })
            })
            .collect()
    };
    let unit = quote!(());
    let types: Vec<TokenStream> = floats
        .iter()
        .map(|f| f.map_or_else(|| unit.clone(), |_| float.clone()))
        .collect();
    let partials = floats.iter().map(|f| match f {
        Some(a) => exprs[1 + a].clone(),
        None => unit.clone(),
    });
    let row_types = floats.iter().map(|f| match f {
        Some(_) => quote!((#(#types,)*)),
        None => unit.clone(),
    });
    let row_values = floats.iter().map(|f| match f {
        Some(a) => {
            let cells = floats.iter().map(|g| match g {
                Some(b) => exprs[at[*a.min(b)][*a.max(b)]].clone(),
                None => unit.clone(),
            });
            quote!((#(#cells,)*))
        }
        None => unit.clone(),
    });
    let (pats, tys): (Vec<TokenStream>, Vec<TokenStream>) = func
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => {
                let ty = &t.ty;
                let pat = match &*t.pat {
                    syn::Pat::Ident(p) => p.ident.to_token_stream(),
                    other => other.to_token_stream(),
                };
                Some((pat, quote!(#ty)))
            }
            syn::FnArg::Receiver(_) => None,
        })
        .unzip();
    let value = &exprs[0];
    quote! {
        /// Value, partial derivatives and second partial derivatives (the calling convention
        /// of generated code, with `hessian`).
        #[doc(hidden)]
        #allow
        #[inline]
        pub fn __partials2((#(#pats,)*): (#(#tys,)*)) -> (#float, (#(#types,)*), (#(#row_types,)*)) {
            #stmts
            (#value, (#(#partials,)*), (#(#row_values,)*))
        }
    }
}

/// `__hvp`, with `hessian` and a differentiated slice: for a caller whose Hessian goes through
/// a call giving this function a differentiated slice. Along the tangents `dots` (a float per
/// float parameter, anything indexable per differentiated slice: the caller's direction, or
/// zeros), the directional derivative `ḟ` and `seed·H·t`: one float per float parameter
/// returned, each differentiated slice's part added into its sink (as `__vjp`'s).
///
/// ```text
/// pub fn __hvp<__T1: ?Sized + Index<usize, Output = f64>, __S0, __S1: ?Sized + IndexMut<usize, Output = f64>>(
///     (w, x): (f64, &[f64]), (__dot0, __dot1): (f64, &__T1), __hseed: f64,
///     (__sink0, __grad0): (&mut __S0, &mut __S1)) -> (f64, (f64, ()))
/// ```
fn call_hvp_fn(
    func: &ItemFn,
    sig: &Sig,
    h: &crate::hvp::CallHvp,
    float: &TokenStream,
    allow: &TokenStream,
    run: &Emitter<'_>,
) -> TokenStream {
    let (stmts, exprs) = run(&h.roots());
    let value = &exprs[0];
    let HvpParams {
        bounds,
        pats,
        tys,
        dots,
        dot_types,
        sinks,
        sink_types,
        outs,
        out_types,
    } = HvpParams::of(func, sig, float, &exprs[1..=h.scalars.len()]);
    let seed = format_ident!("__hseed", span = Span::mixed_site());
    quote! {
        /// The directional derivative along tangents of the parameters, and `seed·H·t`: the
        /// float parameters' parts returned, the slices' added into their sinks (the calling
        /// convention of generated code, with `hessian`).
        #[doc(hidden)]
        #allow
        #[inline]
        pub fn __hvp<#(#bounds),*>(
            (#(#pats,)*): (#(#tys,)*),
            (#(#dots,)*): (#(#dot_types,)*),
            #seed: #float,
            (#(#sinks,)*): (#(#sink_types,)*),
        ) -> (#float, (#(#out_types,)*)) {
            #stmts
            (#value, (#(#outs,)*))
        }
    }
}

/// The parameters of a hidden `__hvp` (a scalar function's) or `__hvp_outputs` (a
/// vector-valued one's): the parameters as one tuple, their tangents as another (a float per
/// float parameter, anything indexable per differentiated slice, the argument's own type
/// elsewhere), one sink per parameter, and the result, a float per float parameter.
pub struct HvpParams {
    pub bounds: Vec<TokenStream>,
    pub pats: Vec<TokenStream>,
    pub tys: Vec<TokenStream>,
    pub dots: Vec<Ident>,
    pub dot_types: Vec<TokenStream>,
    pub sinks: Vec<Ident>,
    pub sink_types: Vec<TokenStream>,
    pub outs: Vec<TokenStream>,
    pub out_types: Vec<TokenStream>,
}

impl HvpParams {
    /// `scalars`: what each float parameter's part of `seed·H·t` is, in order.
    pub fn of(func: &ItemFn, sig: &Sig, float: &TokenStream, scalars: &[TokenStream]) -> Self {
        let mixed = Span::mixed_site();
        let mut scalars = scalars.iter();
        let mut out = HvpParams {
            bounds: vec![],
            pats: vec![],
            tys: vec![],
            dots: vec![],
            dot_types: vec![],
            sinks: vec![],
            sink_types: vec![],
            outs: vec![],
            out_types: vec![],
        };
        let mut k = 0u32;
        for (j, p) in sig.params.iter().enumerate() {
            out.dots.push(format_ident!("__dot{}", j, span = mixed));
            let t = format_ident!("__T{}", j, span = mixed);
            let st = format_ident!("__S{}", j, span = mixed);
            match p.kind {
                ParamKind::Float => {
                    out.dot_types.push(float.clone());
                    out.outs.push(scalars.next().cloned().unwrap_or_default());
                    out.out_types.push(float.clone());
                }
                ParamKind::Slice if p.differentiated => {
                    out.bounds
                        .push(quote!(#t: ?Sized + ::core::ops::Index<usize, Output = #float>));
                    out.dot_types.push(quote!(&#t));
                    out.outs.push(quote!(()));
                    out.out_types.push(quote!(()));
                }
                _ => {
                    out.bounds.push(quote!(#t));
                    out.dot_types.push(quote!(#t));
                    out.outs.push(quote!(()));
                    out.out_types.push(quote!(()));
                }
            }
            if p.kind == ParamKind::Slice && p.differentiated {
                out.bounds
                    .push(quote!(#st: ?Sized + ::core::ops::IndexMut<usize, Output = #float>));
                out.sinks.push(emit::grad_vec_name(k));
                k += 1;
            } else {
                out.bounds.push(quote!(#st: ?Sized));
                out.sinks.push(format_ident!("__sink{}", j, span = mixed));
            }
            out.sink_types.push(quote!(&mut #st));
        }
        for a in &func.sig.inputs {
            if let syn::FnArg::Typed(t) = a {
                let ty = &t.ty;
                out.pats.push(match &*t.pat {
                    syn::Pat::Ident(p) => p.ident.to_token_stream(),
                    other => other.to_token_stream(),
                });
                out.tys.push(quote!(#ty));
            }
        }
        out
    }
}

/// `_grad_into` from a user rule returning `(value, [∂f/∂p for every float parameter])`, and
/// `_grad` calling it.
fn rule_grad_fns(
    func: &ItemFn,
    names: &Names,
    sig: &Sig,
    rule: &syn::Path,
    float: &TokenStream,
) -> TokenStream {
    let params = params(func);
    let args = arg_names(func);
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let s = &names.grad_struct;
    let into_name = &names.grad_into_fn;
    let grad = grad_param();
    let fields: Vec<&Ident> = sig.wrt().map(|p| &p.ident).collect();
    let index: Vec<usize> = sig
        .floats()
        .enumerate()
        .filter(|(_, p)| p.differentiated)
        .map(|(i, _)| i)
        .collect();
    let d = Ident::new("__partials", Span::mixed_site());
    let v = Ident::new("__value", Span::mixed_site());
    let name = &func.sig.ident;
    let rule_text = crate::lower::pretty(&rule.to_token_stream());
    let k = sig.floats().count();
    let doc = format!(
        "The value of [`{name}`] and its gradient, from the derivative rule [`{rule_text}`] (`#[differentiable(rule = ...)]`)."
    );
    let grad_fn = grad_fn_via_into(func, names, float, &doc, &TokenStream::new());
    let into_doc = into_doc(func, names, sig, false);
    quote! {
        #grad_fn
        #[doc = #into_doc]
        #[inline]
        #vis fn #into_name #generics (#(#params,)* #grad: &mut #s) -> #float {
            let (#v, #d): (#float, [#float; #k]) = #rule(#(#args),*);
            #( #grad.#fields = #d[#index]; )*
            #v
        }
    }
}

fn rule_partials_fn(
    func: &ItemFn,
    sig: &Sig,
    rule: &syn::Path,
    float: &TokenStream,
) -> TokenStream {
    let params = params(func);
    let args = arg_names(func);
    let generics = &func.sig.generics;
    let d = Ident::new("__partials", Span::mixed_site());
    let v = Ident::new("__value", Span::mixed_site());
    let mut k = 0usize;
    let (types, values): (Vec<TokenStream>, Vec<TokenStream>) = sig
        .params
        .iter()
        .map(|p| {
            if p.kind == ParamKind::Float {
                k += 1;
                let i = k - 1;
                (float.clone(), quote!(#d[#i]))
            } else {
                (quote!(()), quote!(()))
            }
        })
        .unzip();
    quote! {
        #[doc(hidden)]
        #[inline]
        pub fn __partials #generics (#(#params),*) -> (#float, (#(#types,)*)) {
            let (#v, #d): (#float, [#float; #k]) = #rule(#(#args),*);
            (#v, (#(#values,)*))
        }
    }
}
