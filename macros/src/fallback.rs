//! What is emitted when the function cannot be differentiated: the original function (so the
//! rest of the crate and IDEs keep working), every error, and stubs of the companions with the
//! right signatures, so callers see the real error rather than a cascade of "cannot find
//! function `cost_grad`".

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, ReturnType};

use crate::attr::Args;
use crate::callees::{self, Callee};
use crate::companion::{Names, params};
use crate::signature::{float_of, gradient_type};

pub fn generate(
    func: &ItemFn,
    args: &Args,
    errors: &syn::Error,
    callees: &[Callee],
) -> TokenStream {
    let names = Names::of(func);
    let errors = errors.to_compile_error();
    let vis = &func.vis;
    let name = &func.sig.ident;
    // Fields for the parameters that look like floats; `f64` where the return type is unknown.
    // A vector-valued function (`-> [T; M]`, `-> (T, T)`, `-> Matrix3<T>`) gets the companions
    // of one: its float type and `M`.
    let array = match &func.sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Array(a) if float_of(&a.elem).is_some() => {
                let (t, len) = (&a.elem, &a.len);
                Some((quote!(#t), quote!(#len)))
            }
            syn::Type::Tuple(t) => t.elems.first().filter(|e| float_of(e).is_some()).map(|e| {
                let len = proc_macro2::Literal::usize_unsuffixed(t.elems.len());
                (quote!(#e), quote!(#len))
            }),
            // A nalgebra matrix result (`-> Matrix3<f64>`): its R·C outputs.
            other => crate::signature::returned_nalgebra(other).and_then(|(f, outputs)| {
                let len = outputs?.len;
                Some((crate::companion::float_tokens(f), quote!(#len)))
            }),
        },
        ReturnType::Default => None,
    };
    let float = match (&func.sig.output, &array) {
        (_, Some((t, _))) => t.clone(),
        (ReturnType::Type(_, ty), None) if float_of(ty).is_some() => quote!(#ty),
        _ => quote!(f64),
    };
    // Fields for the parameters that look like floats, float slices or arrays.
    let candidates: Vec<(syn::Ident, TokenStream)> = func
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(p) => gradient_type(&t.ty, &float).map(|ty| (p.ident.clone(), ty)),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let (fields, types): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .filter(|(f, _)| args.wrt.as_ref().is_none_or(|w| w.contains(f)))
        .unzip();
    let callees = callees::items(name, &float, callees);
    let s = &names.grad_struct;
    // Everything a correct expansion has, so that uses of the function (`check_gradient`,
    // `Minimizer::run`, calls from other differentiable functions) raise no errors of their own.
    let copy = if types.iter().all(|t| {
        let t = t.to_string();
        t == float.to_string() || t.starts_with('[')
    }) {
        quote!(Copy,)
    } else {
        TokenStream::new()
    };
    let (companions, hidden) = match array {
        Some((_, len)) => (
            vector_stubs(func, &names, &float, &len),
            vector_hidden_item(func, &float, &len),
        ),
        None => (
            scalar_stubs(func, args, &names, &float, &types),
            hidden_item(func, &float),
        ),
    };
    quote! {
        #func
        #errors
        #[derive(Debug, Clone, #copy PartialEq, Default)]
        #vis struct #s { #( pub #fields: #types, )* }
        impl #s {
            /// Empty: the function has errors.
            pub const FORMULAS: &'static [(&'static str, &'static str)] = &[];
        }
        impl ::symgrad::Gradient<#float> for #s {
            fn flat_len(&self) -> usize {
                ::core::unreachable!()
            }
            fn flatten_into(&self, _: &mut ::std::vec::Vec<#float>) {
                ::core::unreachable!()
            }
        }
        #companions
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}
        #hidden
        #callees
    }
}

/// The hidden item's calling convention, never run: a caller chaining through the function
/// sees only its own errors (every position may take a differentiated slice).
fn hidden_item(func: &ItemFn, float: &TokenStream) -> TokenStream {
    let name = &func.sig.ident;
    let arity = func.sig.inputs.len();
    let mixed = proc_macro2::Span::mixed_site();
    let args: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("A{}", j, span = mixed))
        .collect();
    let sinks: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("S{}", j, span = mixed))
        .collect();
    let partials = vec![float.clone(); arity];
    let positions = 0..arity;
    quote! {
        #[allow(dead_code, clippy::all)]
        impl #name {
            #[doc(hidden)]
            pub fn __partials<#(#args),*>(#(_: #args),*) -> (#float, (#(#partials,)*)) {
                ::core::unreachable!()
            }
            #[doc(hidden)]
            pub fn __vjp<#(#args,)* #(#sinks),*>(#(_: #args,)* _: #float, #(_: #sinks),*) {}
            #[doc(hidden)]
            pub fn __vjp_rows<#(#args,)* Q, #(#sinks),*>(#(_: #args,)* _: Q, #(_: #sinks),*) {}
        }
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::Differentiable for #name {}
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::ScalarValued for #name {}
        // (A caller's Hessian through it: this function's own errors are the ones to fix.)
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::TwiceDifferentiable for #name {}
        #(
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::DifferentiatesSlice<#positions> for #name {}
        )*
    }
}

/// A scalar function's companions (`_grad`, `_grad_into`, `_hessian` if asked for), never run;
/// the differentiated parameters' gradient `types`.
fn scalar_stubs(
    func: &ItemFn,
    args: &Args,
    names: &Names,
    float: &TokenStream,
    types: &[TokenStream],
) -> TokenStream {
    let k = types.len();
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let params = params(func);
    let ret = match &func.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let s = &names.grad_struct;
    let grad_name = &names.grad_fn;
    let into_name = &names.grad_into_fn;
    let grad = syn::Ident::new("grad", proc_macro2::Span::mixed_site());
    let hessian = if args.hessian {
        let hname = &names.hessian_fn;
        // A slice's or an array's gradient makes the Hessian a flat vector.
        let scalars = types.iter().all(|t| t.to_string() == float.to_string());
        let matrix = if scalars {
            quote!([[#float; #k]; #k])
        } else {
            quote!(::std::vec::Vec<#float>)
        };
        let (hvp, hvp_into) = (&names.hvp_fn, &names.hvp_into_fn);
        let mixed = proc_macro2::Span::mixed_site();
        let (v, hv) = (syn::Ident::new("v", mixed), syn::Ident::new("hv", mixed));
        quote! {
            #[allow(unused_variables, clippy::all)]
            #vis fn #hname #generics (#(#params),*) -> (#ret, #s, #matrix) {
                ::core::unreachable!()
            }
            #[allow(unused_variables, clippy::all)]
            #vis fn #hvp #generics (#(#params,)* #v: &#s) -> (#ret, #s, #s) {
                ::core::unreachable!()
            }
            #[allow(unused_variables, clippy::all)]
            #vis fn #hvp_into #generics (#(#params,)* #v: &#s, #grad: &mut #s, #hv: &mut #s) -> #ret {
                ::core::unreachable!()
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #[allow(unused_variables, clippy::all)]
        #vis fn #grad_name #generics (#(#params),*) -> (#ret, #s) {
            ::core::unreachable!()
        }
        #[allow(unused_variables, clippy::all)]
        #vis fn #into_name #generics (#(#params,)* #grad: &mut #s) -> #ret {
            ::core::unreachable!()
        }
        #hessian
    }
}

/// A vector-valued function's companions, never run.
fn vector_stubs(
    func: &ItemFn,
    names: &Names,
    float: &TokenStream,
    len: &TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let params = params(func);
    let s = &names.grad_struct;
    let (jacobian, jacobian_into) = (&names.jacobian_fn, &names.jacobian_into_fn);
    let (vjp, vjp_into, jvp) = (&names.vjp_fn, &names.vjp_into_fn, &names.jvp_fn);
    let mixed = proc_macro2::Span::mixed_site();
    let (jac, seed, grad, tangent) = (
        syn::Ident::new("jac", mixed),
        syn::Ident::new("seed", mixed),
        syn::Ident::new("grad", mixed),
        syn::Ident::new("tangent", mixed),
    );
    quote! {
        #[allow(unused_variables, clippy::all)]
        #vis fn #jacobian #generics (#(#params),*) -> ([#float; #len], [#s; #len]) {
            ::core::unreachable!()
        }
        #[allow(unused_variables, clippy::all)]
        #vis fn #jacobian_into #generics (#(#params,)* #jac: &mut [#s; #len]) -> [#float; #len] {
            ::core::unreachable!()
        }
        #[allow(unused_variables, clippy::all)]
        #vis fn #vjp #generics (#(#params,)* #seed: &[#float; #len]) -> ([#float; #len], #s) {
            ::core::unreachable!()
        }
        #[allow(unused_variables, clippy::all)]
        #vis fn #vjp_into #generics (#(#params,)* #seed: &[#float; #len], #grad: &mut #s) -> [#float; #len] {
            ::core::unreachable!()
        }
        #[allow(unused_variables, clippy::all)]
        #vis fn #jvp #generics (#(#params,)* #tangent: &#s) -> ([#float; #len], [#float; #len]) {
            ::core::unreachable!()
        }
    }
}

/// A vector-valued function's hidden item, never run: a caller chaining through it sees only
/// its own errors.
fn vector_hidden_item(func: &ItemFn, float: &TokenStream, len: &TokenStream) -> TokenStream {
    let name = &func.sig.ident;
    let arity = func.sig.inputs.len();
    let mixed = proc_macro2::Span::mixed_site();
    let args: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("A{}", j, span = mixed))
        .collect();
    let partials = vec![float.clone(); arity];
    let stub = partials_stub(func, float);
    quote! {
        #[allow(dead_code, clippy::all)]
        impl #name {
            #[doc(hidden)]
            pub fn __jacobian<#(#args),*>(#(_: #args),*) -> ([#float; #len], [(#(#partials,)*); #len]) {
                ::core::unreachable!()
            }
            #stub
        }
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::Differentiable for #name {}
    }
}

/// A `Vec`-valued function's hidden item, never run: a caller reading its outputs (through
/// `__jacobian`, `__vjp` or `__vjp_rows`, whatever its parameters) sees only the function's own
/// errors.
pub fn vec_hidden_item(func: &ItemFn, float: &TokenStream) -> TokenStream {
    let name = &func.sig.ident;
    let vis = &func.vis;
    let arity = func.sig.inputs.len();
    let mixed = proc_macro2::Span::mixed_site();
    let args: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("A{}", j, span = mixed))
        .collect();
    let sinks: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("S{}", j, span = mixed))
        .collect();
    let partials = vec![float.clone(); arity];
    let positions = 0..arity;
    let stub = partials_stub(func, float);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}
        #[allow(dead_code, clippy::all)]
        impl #name {
            #[doc(hidden)]
            pub fn __jacobian<#(#args),*>(#(_: #args),*) -> (::std::vec::Vec<#float>, ::std::vec::Vec<(#(#partials,)*)>) {
                ::core::unreachable!()
            }
            #[doc(hidden)]
            pub fn __vjp<#(#args,)* G: ?Sized, #(#sinks: ?Sized),*>(#(_: #args,)* _: &G, #(_: &mut #sinks),*) {
                ::core::unreachable!()
            }
            #[doc(hidden)]
            pub fn __vjp_rows<#(#args,)* G, #(#sinks),*>(#(_: #args,)* _: G, #(_: #sinks),*) {
                ::core::unreachable!()
            }
            #stub
        }
        #[diagnostic::do_not_recommend]
        impl ::symgrad::__private::Differentiable for #name {}
        #(
            #[diagnostic::do_not_recommend]
            impl ::symgrad::__private::DifferentiatesSlice<#positions> for #name {}
        )*
    }
}

/// A vector-valued function's `__partials`, never run: a caller that uses the value of a call
/// of it as one float is reported by its `ScalarValued` check alone (this takes the call's
/// arguments, so the generated call raises no second error).
pub fn partials_stub(func: &ItemFn, float: &TokenStream) -> TokenStream {
    let arity = func.sig.inputs.len();
    let mixed = proc_macro2::Span::mixed_site();
    let args: Vec<syn::Ident> = (0..arity)
        .map(|j| quote::format_ident!("A{}", j, span = mixed))
        .collect();
    let partials = vec![float.clone(); arity];
    // The value has the function's type: where it is passed on whole, the call type-checks.
    let value = match &func.sig.output {
        ReturnType::Type(_, ty) => quote!(#ty),
        ReturnType::Default => float.clone(),
    };
    quote! {
        #[doc(hidden)]
        pub fn __partials<#(#args),*>(#(_: #args),*) -> (#value, (#(#partials,)*)) {
            ::core::unreachable!()
        }
    }
}
