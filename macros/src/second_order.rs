//! The second-order items `#[differentiable(hessian)]` adds beside `_grad`:
//!
//! ```text
//! // Input:
//! #[differentiable(hessian)]
//! fn loss(w: f64, x: &[f64]) -> f64 { … }
//!
//! // Output (abridged):
//! fn loss_hvp(w: f64, x: &[f64], v: &LossGrad) -> (f64, LossGrad, LossGrad) { … } // value, ∇f, H·v
//! fn loss_hvp_into(w: f64, x: &[f64], v: &LossGrad, grad: &mut LossGrad, hv: &mut LossGrad) -> f64
//! fn loss_hessian(w: f64, x: &[f64]) -> (f64, LossGrad, Vec<f64>)  // n × n, row-major
//! ```
//!
//! `H·v` comes from [`crate::hvp`] (reverse over forward). With only scalar parameters
//! differentiated, `_hessian` keeps its symbolic form (`[[T; K]; K]`, in `companion`); with
//! slices or arrays, whose number of elements is known at run time, it is `n` products `H·eⱼ`
//! in flat order (`Gradient::to_flat_vec`'s), each a call of a function that computes `H·v`
//! alone, symmetrized.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{Ident, ItemFn};

use crate::companion::{Names, arg_names, params};
use crate::emit;
use crate::graph::NodeId;
use crate::hvp::hv_sink;
use crate::plan::{Derivatives, Plan, Side, Split, hvp_param};
use crate::signature::{ParamKind, SliceGrad, slice_of};

/// `_hvp`, `_hvp_into` and, for a function differentiating slices, `_hessian`.
pub fn functions(
    func: &ItemFn,
    names: &Names,
    plan: &Plan,
    d: &Derivatives,
    float: &TokenStream,
) -> TokenStream {
    let Some(h) = &d.hvp else {
        return TokenStream::new();
    };
    let e = Emitter {
        func,
        plan,
        d,
        float,
        allow: quote! { #[allow(unused_parens, unused_variables, clippy::all, clippy::pedantic, clippy::nursery)] },
    };
    let hvp = e.hvp_fns(names, h);
    let hessian = if plan.sig.wrt().any(|p| p.kind == ParamKind::Slice) {
        e.dense_hessian(names, h)
    } else {
        TokenStream::new()
    };
    quote! { #hvp #hessian }
}

struct Emitter<'a> {
    func: &'a ItemFn,
    plan: &'a Plan,
    d: &'a Derivatives,
    float: &'a TokenStream,
    allow: TokenStream,
}

/// Which of the functions of this module a kernel computes: `_hvp_into` (the value, the
/// gradient and `H·v`) or one column of `_hessian` (`H·v` alone).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Hvp,
    Column,
}

/// What one generated function computes, and where each result goes.
struct Fill {
    /// Which function: the roots of each side of a split gradient are laid out as `value`,
    /// `scalars` and `effects` are.
    layout: Layout,
    /// The function's value, returned.
    value: Option<NodeId>,
    /// Scalars, each assigned to its place (`grad.w`).
    scalars: Vec<(TokenStream, NodeId)>,
    /// Effects into the sinks.
    effects: Vec<NodeId>,
    /// Each sink's number and the vector it is (`&mut grad.x`).
    sinks: Vec<(u32, TokenStream)>,
}

impl Emitter<'_> {
    fn run(&self, roots: &[NodeId]) -> (TokenStream, Vec<TokenStream>) {
        self.run_roots(&emit::Roots::Whole {
            roots: roots.to_vec(),
            primal: self.d.lowered.graph.primal.clone(),
            holds: Vec::new(),
        })
    }

    /// [`run`](Self::run) of the roots of a split gradient's sides (see `plan::Split`).
    fn run_roots(&self, roots: &emit::Roots) -> (TokenStream, Vec<TokenStream>) {
        let sig = &self.plan.sig;
        let inputs: Vec<TokenStream> = sig.floats().map(|p| p.ident.to_token_stream()).collect();
        let slices: Vec<TokenStream> = sig
            .wrt()
            .filter(|p| p.kind == ParamKind::Slice)
            .map(|p| p.ident.to_token_stream())
            .collect();
        emit::emit_roots(
            &self.d.lowered.graph,
            emit::Symbols {
                tokens: &self.d.lowered.symbols,
                callees: &self.d.lowered.callees,
                tuples: &self.d.lowered.tuple_calls,
            },
            &inputs,
            &slices,
            sig.float,
            roots,
            emit::Sinks::Slices,
        )
    }

    /// The roots of `split`'s sides for `layout` (see [`Split::kernel`]): laid out as [`Fill`]
    /// lays out the whole function's (the value, the scalars, the effects).
    fn split(&self, split: &Split, layout: Layout) -> emit::Roots {
        let hv = split.sides[0].hvp.as_ref().map_or(0, |h| h.scalars.len());
        let values = match layout {
            Layout::Hvp => 1 + self.wrt_indices().count() + hv,
            Layout::Column => hv,
        };
        split.kernel(values, &|s: &Side| self.side_roots(s, layout), &[])
    }

    /// What `layout` computes of one side of a split gradient.
    fn side_roots(&self, s: &Side, layout: Layout) -> Vec<NodeId> {
        let (scalars, effects) = s
            .hvp
            .as_ref()
            .map_or((&[][..], &[][..]), |h| (&h.scalars[..], &h.effects[..]));
        let mut out = Vec::new();
        if layout == Layout::Hvp {
            out.push(s.output);
            out.extend(self.wrt_indices().map(|i| s.partials[i]));
        }
        out.extend(scalars);
        if layout == Layout::Hvp {
            out.extend(s.slice_effects.iter().flatten());
        }
        out.extend(effects.iter().flatten());
        out
    }

    /// The indices of the differentiated scalars among the float parameters.
    fn wrt_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.plan
            .sig
            .floats()
            .enumerate()
            .filter(|(_, p)| p.differentiated)
            .map(|(i, _)| i)
    }

    /// The differentiated scalars' gradient, in order.
    fn wrt_partials(&self) -> Vec<NodeId> {
        self.wrt_indices().map(|i| self.d.partials[i]).collect()
    }

    /// `(scalar fields, slice fields)` of the gradient struct.
    fn fields(&self) -> (Vec<&Ident>, Vec<&Ident>) {
        let sig = &self.plan.sig;
        (
            sig.wrt()
                .filter(|p| p.kind != ParamKind::Slice)
                .map(|p| &p.ident)
                .collect(),
            sig.wrt()
                .filter(|p| p.kind == ParamKind::Slice)
                .map(|p| &p.ident)
                .collect(),
        )
    }

    /// `&mut target.x`, the sink of slice field `id` (a nalgebra field's storage as a slice).
    fn sink(&self, target: &Ident, id: &Ident) -> TokenStream {
        let field = quote!(#target.#id);
        match self.plan.sig.params.iter().find(|p| p.ident == *id) {
            Some(p) => {
                let place = crate::signature::grad_place(&p.ty, &field);
                quote!(&mut #place)
            }
            None => quote!(&mut #field),
        }
    }

    /// Statements making every slice field of `target` zeros as long as its slice.
    fn resets(&self, target: &Ident) -> Vec<TokenStream> {
        let float = self.float;
        self.plan
            .sig
            .wrt()
            .filter(|p| p.kind == ParamKind::Slice)
            .map(|p| {
                let id = &p.ident;
                match slice_of(&p.ty) {
                    Some((_, SliceGrad::Array(n))) => quote! { #target.#id = [0.0 as #float; #n]; },
                    _ => {
                        quote! { ::symgrad::__private::zero_resized(&mut #target.#id, #id.len()); }
                    }
                }
            })
            .collect()
    }

    /// Statements checking that `v`'s vectors are as long as their slices (an array's length is
    /// in its type).
    fn length_checks(&self) -> Vec<TokenStream> {
        let v = hvp_param();
        let name = &self.func.sig.ident;
        self.plan
            .sig
            .wrt()
            .filter(|p| {
                p.kind == ParamKind::Slice
                    && !matches!(slice_of(&p.ty), Some((_, SliceGrad::Array(_))))
            })
            .map(|p| {
                let id = &p.ident;
                let text = format!("`{name}_hvp`: `v.{id}` must be as long as `{id}`");
                quote! { ::core::assert_eq!(#v.#id.len(), #id.len(), #text); }
            })
            .collect()
    }

    /// The arguments of a call made once per column: as they are, or, for a parameter taken
    /// by value that may not be `Copy` (a `Vec`, a struct), cloned.
    fn repeated_args(&self) -> Vec<TokenStream> {
        arg_names(self.func)
            .into_iter()
            .zip(&self.plan.sig.params)
            .map(|(arg, p)| {
                let copy = matches!(p.ty, syn::Type::Reference(_) | syn::Type::Array(_))
                    || matches!(p.kind, ParamKind::Float | ParamKind::Int | ParamKind::Bool);
                if copy {
                    arg
                } else {
                    let at = syn::spanned::Spanned::span(&p.ty);
                    quote::quote_spanned!(at=> ::core::clone::Clone::clone(&#arg))
                }
            })
            .collect()
    }

    fn has_loops(&self, roots: &[NodeId]) -> bool {
        self.d.lowered.graph.runs_loops(roots)
    }

    /// The statements of a function body computing `f` (after its resets), ending in the value
    /// (or `()`). With loops and sinks, the loops run in a kernel that takes the sinks as
    /// `&mut [T]` and `v` by reference, as `_grad_into`'s kernel does (and for the same reason).
    fn body(&self, s: &Ident, f: &Fill) -> TokenStream {
        let mut roots: Vec<NodeId> = f.value.into_iter().collect();
        roots.extend(f.scalars.iter().map(|(_, n)| *n));
        roots.extend(&f.effects);
        let (stmts, exprs) = match &self.d.split {
            Some(split) => {
                let kernel = self.split(split, f.layout);
                roots = kernel.all();
                self.run_roots(&kernel)
            }
            None => self.run(&roots),
        };
        let (value, scalar_exprs) = match f.value {
            Some(_) => (exprs[0].clone(), &exprs[1..=f.scalars.len()]),
            None => (quote!(()), &exprs[..f.scalars.len()]),
        };
        let places: Vec<&TokenStream> = f.scalars.iter().map(|(p, _)| p).collect();
        let sink_names: Vec<Ident> = f
            .sinks
            .iter()
            .map(|(k, _)| emit::grad_vec_name(*k))
            .collect();
        let sink_places: Vec<&TokenStream> = f.sinks.iter().map(|(_, p)| p).collect();
        if !self.has_loops(&roots) || f.sinks.is_empty() {
            return quote! {
                #( let #sink_names = #sink_places; )*
                #stmts
                #( #places = #scalar_exprs; )*
                #value
            };
        }
        let float = self.float;
        let allow = &self.allow;
        let params = params(self.func);
        let args = arg_names(self.func);
        let v = hvp_param();
        let kernel = format_ident!("__symgrad_kernel", span = Span::mixed_site());
        let scalar_names: Vec<Ident> = (0..scalar_exprs.len())
            .map(|i| format_ident!("__d{}", i, span = Span::mixed_site()))
            .collect();
        let scalar_types = scalar_exprs.iter().map(|_| float.clone());
        let (value_type, value_name) = match f.value {
            Some(_) => (
                float.clone(),
                format_ident!("__value", span = Span::mixed_site()).to_token_stream(),
            ),
            None => (quote!(()), quote!(())),
        };
        quote! {
            #allow
            #[inline(never)]
            fn #kernel (#(#params,)* #v: &#s, #(#sink_names: &mut [#float]),*) -> (#value_type, (#(#scalar_types,)*)) {
                #stmts
                (#value, (#(#scalar_exprs,)*))
            }
            let (#value_name, (#(#scalar_names,)*)) = #kernel(#(#args,)* #v, #(#sink_places),*);
            #( #places = #scalar_names; )*
            #value_name
        }
    }

    /// `_hvp_into` (value, gradient and `H·v` into structs the caller keeps) and `_hvp` calling
    /// it.
    fn hvp_fns(&self, names: &Names, h: &crate::hvp::Hvp) -> TokenStream {
        let (grad, hv, v) = (
            Ident::new("grad", Span::mixed_site()),
            Ident::new("hv", Span::mixed_site()),
            hvp_param(),
        );
        let (scalar_fields, slice_fields) = self.fields();
        let n = slice_fields.len();
        let mut scalars: Vec<(TokenStream, NodeId)> = scalar_fields
            .iter()
            .zip(self.wrt_partials())
            .map(|(id, d)| (quote!(#grad.#id), d))
            .collect();
        scalars.extend(
            scalar_fields
                .iter()
                .zip(&h.scalars)
                .map(|(id, d)| (quote!(#hv.#id), *d)),
        );
        let mut effects: Vec<NodeId> = self.d.slice_effects.iter().flatten().copied().collect();
        effects.extend(h.effects.iter().flatten());
        let mut sinks = Vec::new();
        for (k, id) in (0u32..).zip(&slice_fields) {
            sinks.push((k, self.sink(&grad, id)));
        }
        for (k, id) in (0u32..).zip(&slice_fields) {
            sinks.push((hv_sink(k, n), self.sink(&hv, id)));
        }
        let body = self.body(
            &names.grad_struct,
            &Fill {
                layout: Layout::Hvp,
                value: Some(self.d.lowered.output),
                scalars,
                effects,
                sinks,
            },
        );
        let checks = self.length_checks();
        let mut resets = self.resets(&grad);
        resets.extend(self.resets(&hv));
        let params = params(self.func);
        let args = arg_names(self.func);
        let vis = &self.func.vis;
        let (float, allow) = (self.float, &self.allow);
        let s = &names.grad_struct;
        let (hvp_name, into_name) = (&names.hvp_fn, &names.hvp_into_fn);
        let name = &self.func.sig.ident;
        let doc = format!(
            "The value of [`{name}`], its gradient, and the Hessian-vector product `H·v` (the derivative of the gradient along `v`), generated by `#[differentiable(hessian)]`.\n\n`v` has one field per differentiated parameter, as [`{s}`] (for a slice, a vector as long as the slice). Computed in one pass over the derivative of `∇{name}·v`, without forming the Hessian: a small constant times the gradient's cost."
        );
        let into_doc = format!(
            "[`{hvp_name}`] into structs the caller keeps: returns the value, writes the gradient into `grad` and `H·v` into `hv`.\n\nEvery field is overwritten (vectors resized to their slice's length, keeping their allocation)."
        );
        let value = Ident::new("value", Span::mixed_site());
        quote! {
            #[doc = #doc]
            #allow
            #[inline]
            #vis fn #hvp_name (#(#params,)* #v: &#s) -> (#float, #s, #s) {
                let mut #grad: #s = ::core::default::Default::default();
                let mut #hv: #s = ::core::default::Default::default();
                let #value = #into_name(#(#args,)* #v, &mut #grad, &mut #hv);
                (#value, #grad, #hv)
            }
            #[doc = #into_doc]
            #allow
            #[inline]
            #vis fn #into_name (#(#params,)* #v: &#s, #grad: &mut #s, #hv: &mut #s) -> #float {
                #(#checks)*
                #(#resets)*
                #body
            }
        }
    }

    /// For every differentiated scalar in flat order: `v`'s component set to 1, `step` (which
    /// reads `v`), the component set back to 0.
    fn columns(&self, step: &TokenStream) -> Vec<TokenStream> {
        let v = hvp_param();
        let float = self.float;
        let column = |at: TokenStream| {
            quote! {
                #at = 1.0 as #float;
                #step
                #at = 0.0 as #float;
            }
        };
        self.plan
            .sig
            .wrt()
            .map(|p| {
                let id = &p.ident;
                if p.kind == ParamKind::Slice {
                    let i = format_ident!("__i", span = Span::mixed_site());
                    let step = column(quote!(#v.#id[#i]));
                    quote! { for #i in 0..#v.#id.len() { #step } }
                } else {
                    column(quote!(#v.#id))
                }
            })
            .collect()
    }

    /// Statements setting every component of `v` to `zero`.
    fn zeroed(&self, v: &Ident, zero: &TokenStream) -> Vec<TokenStream> {
        self.plan
            .sig
            .wrt()
            .map(|p| {
                let id = &p.ident;
                if p.kind == ParamKind::Slice {
                    let e = format_ident!("__e", span = Span::mixed_site());
                    quote! { for #e in #v.#id.iter_mut() { *#e = #zero; } }
                } else {
                    quote! { #v.#id = #zero; }
                }
            })
            .collect()
    }

    /// `_hessian` of a function differentiating slices: `(value, gradient, H)`, `H` the
    /// `n × n` Hessian in flat order, row-major, from `n` products `H·eⱼ`.
    ///
    /// ```text
    /// fn loss_hessian(w: f64, x: &[f64]) -> (f64, LossGrad, Vec<f64>) {
    ///     fn __hv(w: f64, x: &[f64], v: &LossGrad, hv: &mut LossGrad) { … }  // H·v alone
    ///     let value = loss_grad_into(w, x, &mut grad);
    ///     v.w = 1.0; __hv(w, x, &v, &mut hv); hv.flatten_into(&mut hess); v.w = 0.0;
    ///     for i in 0..v.x.len() { v.x[i] = 1.0; __hv(w, x, &v, &mut hv); …; v.x[i] = 0.0; }
    ///     // (H + Hᵀ)/2: symmetric to the last bit
    /// }
    /// ```
    fn dense_hessian(&self, names: &Names, h: &crate::hvp::Hvp) -> TokenStream {
        let (grad, hv, v, hess) = (
            Ident::new("grad", Span::mixed_site()),
            Ident::new("hv", Span::mixed_site()),
            hvp_param(),
            Ident::new("hess", Span::mixed_site()),
        );
        let (scalar_fields, slice_fields) = self.fields();
        let n_slices = slice_fields.len();
        let scalars = scalar_fields
            .iter()
            .zip(&h.scalars)
            .map(|(id, d)| (quote!(#hv.#id), *d))
            .collect();
        let sinks = (0u32..)
            .zip(&slice_fields)
            .map(|(k, id)| (hv_sink(k, n_slices), self.sink(&hv, id)))
            .collect();
        let body = self.body(
            &names.grad_struct,
            &Fill {
                layout: Layout::Column,
                value: None,
                scalars,
                effects: h.effects.iter().flatten().copied().collect(),
                sinks,
            },
        );
        let resets = self.resets(&hv);
        let params = params(self.func);
        let vis = &self.func.vis;
        let (float, allow) = (self.float, &self.allow);
        let s = &names.grad_struct;
        let (hname, grad_into) = (&names.hessian_fn, &names.grad_into_fn);
        let name = &self.func.sig.ident;
        let hv_fn = format_ident!("__hv", span = Span::mixed_site());
        let again = self.repeated_args();
        let zero = quote!(0.0 as #float);
        let gradient = quote!(::symgrad::Gradient::<#float>);
        let columns = self.columns(&quote! { #hv_fn(#(#again,)* &#v, &mut #hv); #gradient::flatten_into(&#hv, &mut #hess); });
        let zero_v = self.zeroed(&v, &zero);
        let (i, j, n, m) = (
            format_ident!("__i", span = Span::mixed_site()),
            format_ident!("__j", span = Span::mixed_site()),
            format_ident!("__n", span = Span::mixed_site()),
            format_ident!("__m", span = Span::mixed_site()),
        );
        let value = Ident::new("value", Span::mixed_site());
        let doc = format!(
            "The value of [`{name}`], its gradient and its Hessian, generated by `#[differentiable(hessian)]`.\n\nThe Hessian is `n × n`, `n` the number of differentiated scalars ([`symgrad::Gradient::flat_len`] of the gradient), in the flat order of [`symgrad::Gradient::to_flat_vec`] (the parameters in order, a slice's elements in order), row-major: `∂²{name}/∂θᵢ∂θⱼ` is at `i·n + j`. Computed as `n` Hessian-vector products `H·eⱼ` (the cost of about `n` gradients), then made exactly symmetric (`(H + Hᵀ)/2`, which changes entries by rounding only). For one product `H·v`, call [`{hvp}`].",
            hvp = names.hvp_fn
        );
        quote! {
            #[doc = #doc]
            #allow
            #vis fn #hname (#(#params),*) -> (#float, #s, ::std::vec::Vec<#float>) {
                #allow
                #[inline]
                fn #hv_fn (#(#params,)* #v: &#s, #hv: &mut #s) {
                    #(#resets)*
                    #body
                }
                let mut #grad: #s = ::core::default::Default::default();
                let #value = #grad_into(#(#again,)* &mut #grad);
                let mut #v: #s = ::core::clone::Clone::clone(&#grad);
                #(#zero_v)*
                let mut #hv: #s = ::core::default::Default::default();
                let #n = #gradient::flat_len(&#grad);
                let mut #hess: ::std::vec::Vec<#float> = ::std::vec::Vec::with_capacity(#n * #n);
                #(#columns)*
                for #i in 0..#n {
                    for #j in 0..#i {
                        let #m = (#hess[#i * #n + #j] + #hess[#j * #n + #i]) / (2.0 as #float);
                        #hess[#i * #n + #j] = #m;
                        #hess[#j * #n + #i] = #m;
                    }
                }
                (#value, #grad, #hess)
            }
        }
    }
}
