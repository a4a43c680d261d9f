//! The functions a body calls for their derivative, and the check that each one is
//! differentiable.
//!
//! Generated code chains through a call `huber(r)` with `huber::__partials(…)` (or `__vjp`),
//! items of the hidden `enum huber {}` that `#[differentiable]` puts beside the function. A plain
//! function has no such item, and the macro cannot see which functions are annotated: rustc would
//! report "cannot find module or crate `huber`", which never mentions the fix. So every callee is
//! named through an alias whose resolution falls back to a stand-in when the real item is absent:
//!
//! ```text
//! use huber as __symgrad_loss_calls_huber;            // explicit import: wins where it resolves
//! mod __symgrad_loss_callees {                         // the stand-ins
//!     pub mod __0 { pub enum huber {} impl huber { /* __partials, __vjp: never run */ } }
//!     pub mod __fallbacks { pub use super::__0::huber as __symgrad_loss_calls_huber; }
//! }
//! use __symgrad_loss_callees::__fallbacks::*;          // glob import: only where the above does not
//! const _: () = <__symgrad_loss_calls_huber as ::symgrad::__private::Differentiable>::CHECKED;
//! ```
//!
//! An explicit import shadows a glob import of the same name, namespace by namespace, so the
//! alias is the real hidden item when there is one (defined here, imported, or reached by a path)
//! and the stand-in otherwise. The stand-in does not implement `Differentiable`, whose
//! `on_unimplemented` message, spanned at the call, says that `huber` is not differentiable and
//! shows both fixes; its `__partials` and `__vjp` (and `__jacobian`, for a vector-valued callee)
//! take the call's arguments, so the calls in the generated functions raise no second error. Only calls whose derivative the
//! generated code needs are checked: `stop_gradient(plain(x))`, or a call on data only, may call
//! any function.
//!
//! When the body has other errors, no graph is differentiated; the stub then checks the calls
//! whose arguments depend on a differentiated parameter, so a plain call is reported with them.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use std::collections::{HashMap, HashSet};

use syn::Ident;
use syn::visit::Visit;

use crate::graph::{Graph, NodeId, Op};

/// A function called for its derivative.
pub struct Callee {
    /// The path as written at the call (`huber`, `losses::huber`).
    path: syn::Path,
    /// The path as printed (the key that merges calls of one function).
    key: String,
    /// Arguments at the call.
    arity: usize,
    /// Where a differentiated slice is passed: the position, and the argument's span.
    slices: Vec<(usize, Span)>,
    /// Whether the outputs of a vector-valued function are read (`let [u, v] = f(…);`): its
    /// stand-in needs `__jacobian`.
    outputs: bool,
    /// Whether its second partial derivatives are needed (`__partials2`: the caller has
    /// `hessian`), and where the call is, for the check that the callee has them.
    second: Option<Span>,
    /// Whether the call's value is used as one float (`__partials`), and where the call is, for
    /// the check that the callee returns one float.
    scalar: Option<Span>,
}

/// The calls among `roots`' code that chain through a callee's derivative (`__partials` or
/// `__vjp`): what the generated functions call.
pub fn differentiated(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
    let mut calls: Vec<NodeId> = g
        .reachable_with_sweeps(roots)
        .into_iter()
        .filter_map(|n| match g.op(n) {
            Op::Partial(call, _)
            | Op::Partial2(call, ..)
            | Op::CallVjp(call, _)
            | Op::CallJvp(call, _)
            | Op::ArrayVjp { call, .. }
            | Op::VjpRows { call, .. } => {
                match g.op(*call) {
                    // Output `k` of a vector-valued call: the call.
                    Op::CallOutput(inner, _) => Some(*inner),
                    // (A local array's part of `H·ȧ`: the product of a `CallJvp`.)
                    Op::CallJvp(inner, _) => Some(g.called(*inner)),
                    _ => Some(*call),
                }
            }
            _ => None,
        })
        .collect();
    calls.sort_unstable();
    calls.dedup();
    calls
}

/// For a body that could not be differentiated (it has errors): the calls whose arguments
/// depend on a differentiated parameter, except those whose value is only read through
/// `stop_gradient`. The calls whose derivative the body would need, as far as it was read.
pub fn on_parameters(g: &Graph) -> Vec<NodeId> {
    let stopped: Vec<NodeId> = (0..g.len())
        .filter_map(|i| match g.op(node(i)) {
            Op::StopGradient(_, x) => Some(*x),
            _ => None,
        })
        .collect();
    (0..g.len())
        .map(node)
        .filter(|n| !stopped.contains(n))
        .filter(|n| match g.op(*n) {
            Op::Call(_, args) => g
                .reachable(args)
                .iter()
                .any(|m| matches!(g.op(*m), Op::Input(_) | Op::Slice(_) | Op::SliceArg(..))),
            _ => false,
        })
        .collect()
}

fn node(i: usize) -> NodeId {
    NodeId(u32::try_from(i).expect("internal error: graph too large"))
}

/// Every name the function binds (parameters, `let`s, closure parameters): a call of one of
/// them (a closure) is not a call of a function.
pub fn locals(func: &syn::ItemFn) -> HashSet<String> {
    struct Names(HashSet<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut names = Names(HashSet::new());
    names.visit_item_fn(func);
    names.0
}

/// The distinct callees of `calls`, in order of first call, leaving out calls of `locals`.
/// Paths `use` cannot name (generic arguments, `Self::f`) are left out too: they keep rustc's
/// own error.
pub fn of_calls(
    g: &Graph,
    (symbols, array_args): (&[TokenStream], &HashMap<(NodeId, usize), Span>),
    calls: &[NodeId],
    locals: &HashSet<String>,
) -> Vec<Callee> {
    let mut out: Vec<Callee> = Vec::new();
    for c in calls {
        let Op::Call(f, args) = g.op(*c) else {
            continue;
        };
        let key = g.symbol_name(*f).to_string();
        let second = (0..g.len())
            .any(|i| matches!(g.op(node(i)), Op::Partial2(k, ..) | Op::CallJvp(k, _) if g.called(*k) == *c))
            .then(|| {
                symbols[f.0 as usize]
                    .clone()
                    .into_iter()
                    .last()
                    .map_or_else(Span::call_site, |t| t.span())
            });
        let slices = args.iter().enumerate().filter_map(|(j, a)| match g.op(*a) {
            Op::SliceArg(_, s, _) => {
                let at = symbols[s.0 as usize].clone().into_iter().next();
                Some((j, at.map_or_else(Span::call_site, |t| t.span())))
            }
            // A local array passed whole: the callee must differentiate that position too.
            _ if g.kind(*a) == crate::graph::Kind::Array => {
                let at = array_args.get(&(*c, j)).copied();
                Some((j, at.unwrap_or_else(Span::call_site)))
            }
            _ => None,
        });
        let outputs = (0..g.len()).any(|i| matches!(g.op(node(i)), Op::CallOutput(k, _) if k == c));
        // (A vector-valued call's partials are read per output; a call none of whose outputs
        // is read, chained through as one float, is a scalar call.)
        let scalar = (!outputs
            && (0..g.len()).any(
                |i| matches!(g.op(node(i)), Op::Partial(k, _) | Op::Partial2(k, ..) if k == c),
            ))
        .then(|| call_span(symbols, *f));
        if let Some(known) = out.iter_mut().find(|k| k.key == key) {
            known.outputs |= outputs;
            known.second = known.second.or(second);
            known.scalar = known.scalar.or(scalar);
            for (j, at) in slices {
                if !known.slices.iter().any(|(i, _)| *i == j) {
                    known.slices.push((j, at));
                }
            }
            continue;
        }
        let slices: Vec<(usize, Span)> = slices.collect();
        let Ok(path) = syn::parse2::<syn::Path>(symbols[f.0 as usize].clone()) else {
            continue;
        };
        let local = path
            .get_ident()
            .is_some_and(|i| locals.contains(&i.to_string()));
        let nameable = path
            .segments
            .iter()
            .all(|s| s.arguments.is_none() && s.ident != "Self");
        if local {
            continue;
        }
        if nameable {
            out.push(Callee {
                path,
                key,
                arity: args.len(),
                slices,
                outputs,
                second,
                scalar,
            });
        }
    }
    out
}

/// The span of the called path's last token (`huber` of `losses::huber(r)`).
fn call_span(symbols: &[TokenStream], f: crate::graph::SymId) -> Span {
    symbols[f.0 as usize]
        .clone()
        .into_iter()
        .last()
        .map_or_else(Span::call_site, |t| t.span())
}

/// The alias generated code reaches the `k`-th callee of `function` by, spanned at its call:
/// `__symgrad_loss_calls_huber` (with `k` if two callees end in the same name).
fn alias(function: &Ident, k: usize, callees: &[Callee]) -> Ident {
    let name = last(&callees[k]);
    let span = name.span();
    if callees.iter().filter(|c| last(c) == name).count() == 1 {
        format_ident!("__symgrad_{}_calls_{}", function, name, span = span)
    } else {
        format_ident!("__symgrad_{}_calls_{}{}", function, name, k, span = span)
    }
}

fn last(callee: &Callee) -> &Ident {
    &callee
        .path
        .segments
        .last()
        .expect("internal error: a path without segments")
        .ident
}

/// The alias of every call of a checked callee, by the `SymId` of its path: what the generated
/// code reaches `__partials` and `__vjp` by (a value is still computed by the path as written).
pub fn aliases(g: &Graph, function: &Ident, callees: &[Callee]) -> HashMap<u32, TokenStream> {
    (0..g.len())
        .filter_map(|i| match g.op(node(i)) {
            Op::Call(f, _) => {
                let k = callees.iter().position(|c| c.key == g.symbol_name(*f))?;
                Some((f.0, alias(function, k, callees).into_token_stream()))
            }
            _ => None,
        })
        .collect()
}

/// The items beside `function` that name its callees and check them.
pub fn items(function: &Ident, float: &TokenStream, callees: &[Callee]) -> TokenStream {
    if callees.is_empty() {
        return TokenStream::new();
    }
    let module = format_ident!("__symgrad_{}_callees", function);
    let mut imports = Vec::new();
    let mut stand_ins = Vec::new();
    let mut fallbacks = Vec::new();
    let mut checks = Vec::new();
    for (k, callee) in callees.iter().enumerate() {
        let alias = alias(function, k, callees);
        let path = &callee.path;
        let name = last(callee);
        let slot = format_ident!("__{}", k);
        let args: Vec<Ident> = (0..callee.arity)
            .map(|j| format_ident!("A{}", j, span = Span::mixed_site()))
            .collect();
        let sinks: Vec<Ident> = (0..callee.arity)
            .map(|j| format_ident!("S{}", j, span = Span::mixed_site()))
            .collect();
        let partials = vec![float.clone(); callee.arity];
        imports.push(quote! {
            #[doc(hidden)]
            #[allow(unused_imports)]
            use #path as #alias;
        });
        let stand_in = quote_spanned!(name.span()=> pub enum #name {});
        // (`__vjp_rows`: a caller's Jacobian given it a differentiated slice, see `vjp_rows`.)
        let rows = (!callee.slices.is_empty()).then(|| {
            quote! {
                pub fn __vjp_rows<#(#args,)* Q, #(#sinks),*>(#(_: #args,)* _: Q, #(_: #sinks),*) {}
            }
        });
        let jacobian = if callee.outputs {
            quote! {
                pub fn __jacobian<#(#args),*>(#(_: #args),*) -> (
                    ::std::vec::Vec<#float>,
                    ::std::vec::Vec<(#(#partials,)*)>,
                ) {
                    ::core::unreachable!()
                }
                #rows
            }
        } else {
            TokenStream::new()
        };
        let positions = 0..callee.arity;
        // Checked for second derivatives: the stand-in raises no second error.
        let twice = callee.second.map(|_| {
            quote! {
                #[diagnostic::do_not_recommend]
                impl ::symgrad::__private::TwiceDifferentiable for #name {}
            }
        });
        stand_ins.push(quote! {
            pub mod #slot {
                #stand_in
                impl #name {
                    pub fn __partials<#(#args),*>(#(_: #args),*) -> (#float, (#(#partials,)*)) {
                        ::core::unreachable!()
                    }
                    pub fn __vjp<#(#args,)* Q, #(#sinks),*>(#(_: #args,)* _: Q, #(_: #sinks),*) {}
                    #jacobian
                }
                #(
                    #[diagnostic::do_not_recommend]
                    impl ::symgrad::__private::DifferentiatesSlice<#positions> for #name {}
                )*
                #twice
                #[diagnostic::do_not_recommend]
                impl ::symgrad::__private::ScalarValued for #name {}
            }
        });
        fallbacks.push(quote! { pub use super::#slot::#name as #alias; });
        checks.extend(checks_of(&alias, callee));
    }
    quote! {
        #(#imports)*
        #[doc(hidden)]
        // (`non_snake_case`: the module is named after the function, which may be a generated
        // one, `__res_vecrow` of a `Vec`-valued `res`.)
        #[allow(non_camel_case_types, non_snake_case, dead_code, unused_imports, unreachable_pub, clippy::all)]
        mod #module {
            #(#stand_ins)*
            pub mod __fallbacks {
                #(#fallbacks)*
            }
        }
        #[allow(unused_imports)]
        use #module::__fallbacks::*;
        #(#checks)*
    }
}

/// The checks of one callee, reached by `alias`: that it is differentiable, and where the
/// call needs them (each spanned there), that it has second derivatives, returns one float,
/// and differentiates the slices it is given.
fn checks_of(alias: &Ident, callee: &Callee) -> Vec<TokenStream> {
    let mut checks = vec![quote! {
        const _: () = <#alias as ::symgrad::__private::Differentiable>::CHECKED;
    }];
    // A Hessian through the call: the callee must have `hessian`, spanned at the call.
    if let Some(at) = callee.second {
        let at_call = Ident::new(&alias.to_string(), at);
        checks.push(quote_spanned! {at=>
            const _: () = <#at_call as ::symgrad::__private::TwiceDifferentiable>::CHECKED;
        });
    }
    // A call's value used as one float: the callee must return one, spanned at the call.
    if let Some(at) = callee.scalar {
        let at_call = Ident::new(&alias.to_string(), at);
        checks.push(quote_spanned! {at=>
            const _: () = <#at_call as ::symgrad::__private::ScalarValued>::CHECKED;
        });
    }
    // A differentiated slice passed where the callee takes data: spanned at the argument.
    for (j, at) in &callee.slices {
        let at_arg = Ident::new(&alias.to_string(), *at);
        checks.push(quote_spanned! {*at=>
            const _: () = <#at_arg as ::symgrad::__private::DifferentiatesSlice<#j>>::CHECKED;
        });
    }
    checks
}
