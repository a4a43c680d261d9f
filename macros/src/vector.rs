//! The items generated beside a vector-valued function (`-> [T; M]`):
//!
//! ```text
//! // Input:
//! #[differentiable]
//! fn residual(a: f64, b: f64, t: f64, y: f64) -> [f64; 2] { [a * t - y, (b * t).exp() - y] }
//!
//! // Output (abridged):
//! fn residual(…) -> [f64; 2] { … }                                    // unchanged
//! pub struct ResidualGrad { pub a: f64, pub b: f64, pub t: f64, pub y: f64 }  // a Jacobian row
//! fn residual_jacobian(a, b, t, y) -> ([f64; 2], [ResidualGrad; 2])   // jac[k].b = ∂f_k/∂b
//! fn residual_jacobian_into(a, b, t, y, jac: &mut [ResidualGrad; 2]) -> [f64; 2]
//! fn residual_vjp(a, b, t, y, seed: &[f64; 2]) -> ([f64; 2], ResidualGrad)  // Σ_k seed[k]·∇f_k
//! fn residual_vjp_into(a, b, t, y, seed: &[f64; 2], grad: &mut ResidualGrad) -> [f64; 2]
//! fn residual_jvp(a, b, t, y, tangent: &ResidualGrad) -> ([f64; 2], [f64; 2])  // J·tangent
//! enum residual {}                                                     // hidden: lets other
//! impl residual { pub fn __jacobian(a, b, t, y) -> ([f64; 2], [(f64, f64, f64, f64); 2]) }
//! ```
//!
//! `__jacobian` is how another differentiable function chains through a call of this one (`let
//! [u, v] = residual(a, b, t, y);`): the outputs, and for each the partial derivatives with
//! respect to every parameter (`()` for those that are not floats), as `__partials` is for a
//! scalar function.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{Ident, ItemFn};

use crate::companion::{HvpParams, Names, arg_names, params};
use crate::emit;
use crate::formula;
use crate::graph::NodeId;
use crate::jacobian::{Mode, row_sink};
use crate::plan::{VectorDerivatives, VectorSide, seed_param, tangent_param};
use crate::signature::{Param, ParamKind, Sig, SliceGrad, slice_of};

/// `(∂name[k]/∂p, formula)` for every output `k` and differentiated parameter `p`, row by row.
pub fn formulas(func: &ItemFn, sig: &Sig, v: &VectorDerivatives) -> Vec<(String, String)> {
    let g = &v.lowered.graph;
    let name = &func.sig.ident;
    let float = sig.float.name();
    let mut out = Vec::new();
    for (k, (entries, effects)) in v
        .whole
        .jacobian
        .entries
        .iter()
        .zip(&v.whole.jacobian.effects)
        .enumerate()
    {
        let (mut scalar, mut slice) = (0usize, 0usize);
        for p in &sig.params {
            let text = match p.kind {
                ParamKind::Float => {
                    scalar += 1;
                    if !p.differentiated {
                        continue;
                    }
                    formula::print(g, entries[scalar - 1], float)
                }
                ParamKind::Slice if p.differentiated => {
                    slice += 1;
                    effects.get(slice - 1).copied().flatten().map_or_else(
                        || "0 (the output does not depend on it)".to_string(),
                        |e| formula::print(g, e, float),
                    )
                }
                _ => continue,
            };
            out.push((format!("∂{name}[{k}]/∂{}", p.ident), text));
        }
    }
    out
}

/// `_jacobian`, `_jacobian_into`, `_vjp`, `_vjp_into` and `_jvp`.
pub fn functions(
    func: &ItemFn,
    names: &Names,
    sig: &Sig,
    v: &VectorDerivatives,
    float: &TokenStream,
    formulas: &[(String, String)],
) -> TokenStream {
    let e = Emit::new(func, sig, v, float);
    let jacobian = e.jacobian_fns(names, formulas);
    let vjp = e.vjp_fns(names);
    let jvp = e.jvp_fn(names);
    quote! { #jacobian #vjp #jvp }
}

/// The hidden `__jacobian`: the outputs, and per output the partial derivatives with respect to
/// every parameter (`()` for the parameters that are not floats).
pub fn hidden(func: &ItemFn, sig: &Sig, v: &VectorDerivatives, float: &TokenStream) -> TokenStream {
    let e = Emit::new(func, sig, v, float);
    let m = v.lowered.outputs.len();
    let roots = e.outputs_then(m * sig.floats().count(), &|s| {
        s.jacobian.entries.iter().flatten().copied().collect()
    });
    let (stmts, exprs) = e.run(&roots, emit::Sinks::Discarded);
    let values = &exprs[..m];
    let mut entries = exprs[m..].iter();
    let rows: Vec<TokenStream> = (0..m)
        .map(|_| {
            let slots = sig.params.iter().map(|p| match p.kind {
                ParamKind::Float => entries.next().cloned().unwrap_or_default(),
                _ => quote!(()),
            });
            quote! { (#(#slots,)*) }
        })
        .collect();
    let types = sig.params.iter().map(|p| match p.kind {
        ParamKind::Float => float.clone(),
        _ => quote!(()),
    });
    let params = params(func);
    let generics = &func.sig.generics;
    let len = &e.len;
    let allow = &e.allow;
    let vjp = e.hidden_vjp();
    let vjp_rows = e.hidden_vjp_rows();
    let hvp = e.hidden_hvp();
    quote! {
        /// The outputs and, per output, the partial derivatives (the calling convention of
        /// generated code).
        #[doc(hidden)]
        #allow
        #[inline]
        pub fn __jacobian #generics (#(#params),*) -> ([#float; #len], [(#(#types,)*); #len]) {
            #stmts
            ([#(#values),*], [#(#rows),*])
        }
        #vjp
        #vjp_rows
        #hvp
    }
}

/// How many rows of the Jacobian `_jacobian`'s docs write out.
const ROWS_IN_DOCS: usize = 4;

/// Parameters with their numbers (among the float scalars, or among the differentiated slices).
type Numbered<'a, T> = Vec<(usize, &'a T)>;

/// What the generated functions are emitted from.
struct Emit<'a> {
    func: &'a ItemFn,
    sig: &'a Sig,
    v: &'a VectorDerivatives,
    float: &'a TokenStream,
    /// `M` as the return type writes it.
    len: TokenStream,
    input_tokens: Vec<TokenStream>,
    slice_tokens: Vec<TokenStream>,
    allow: TokenStream,
}

/// A function that fills gradient structs and returns the outputs (`_jacobian_into`,
/// `_vjp_into`): what it computes, and where each part goes.
struct Fill<'f> {
    name: Ident,
    doc: String,
    /// The parameters after the function's own (the seeds, the structs filled), and those the
    /// computation reads (the seeds).
    extra: Vec<TokenStream>,
    read: Vec<(TokenStream, TokenStream)>,
    /// Statements first: the rows taken apart, the vectors zeroed.
    prelude: TokenStream,
    /// Where each sink's gradient accumulates (`__grad3` → `__row1.x`).
    sinks: Vec<(u32, TokenStream)>,
    /// The scalar fields.
    scalars: Vec<TokenStream>,
    /// Of the outputs' derivatives (or a side's): what the scalar fields are set to, then the
    /// effects that accumulate into the sinks.
    of: &'f dyn Fn(&VectorSide) -> Vec<NodeId>,
}

impl<'a> Emit<'a> {
    fn new(
        func: &'a ItemFn,
        sig: &'a Sig,
        v: &'a VectorDerivatives,
        float: &'a TokenStream,
    ) -> Self {
        let len = sig
            .outputs
            .as_ref()
            .map_or_else(|| quote!(0), |o| o.len.to_token_stream());
        Emit {
            func,
            sig,
            v,
            float,
            len,
            input_tokens: sig.floats().map(|p| p.ident.to_token_stream()).collect(),
            slice_tokens: sig
                .wrt()
                .filter(|p| p.kind == ParamKind::Slice)
                .map(|p| p.ident.to_token_stream())
                .collect(),
            allow: quote! { #[allow(unused_parens, unused_variables, clippy::all, clippy::pedantic, clippy::nursery)] },
        }
    }

    /// What a kernel computes, its `values` first: `leaf` of the outputs' derivatives, or of
    /// each side of their split in its own block (see `plan::Split`).
    fn kernel(&self, values: usize, leaf: &dyn Fn(&VectorSide) -> Vec<NodeId>) -> emit::Roots {
        let whole = &self.v.whole;
        match &whole.split {
            Some(split) => split.kernel(values, leaf, &[]),
            None => emit::Roots::Whole {
                roots: leaf(whole),
                primal: self.v.lowered.graph.primal.clone(),
                holds: Vec::new(),
            },
        }
    }

    /// [`kernel`](Self::kernel) of the outputs followed by what `rest` gives, its first `values`
    /// being values too.
    fn outputs_then(
        &self,
        values: usize,
        rest: &dyn Fn(&VectorSide) -> Vec<NodeId>,
    ) -> emit::Roots {
        let m = self.v.lowered.outputs.len();
        self.kernel(m + values, &|s| {
            let mut roots = s.outputs.clone();
            roots.extend(rest(s));
            roots
        })
    }

    /// Statements computing `roots`, and an expression for each of their values.
    fn run(&self, roots: &emit::Roots, sinks: emit::Sinks) -> (TokenStream, Vec<TokenStream>) {
        emit::emit_roots(
            &self.v.lowered.graph,
            emit::Symbols {
                tokens: &self.v.lowered.symbols,
                callees: &self.v.lowered.callees,
                tuples: &self.v.lowered.tuple_calls,
            },
            &self.input_tokens,
            &self.slice_tokens,
            self.sig.float,
            roots,
            sinks,
        )
    }

    /// Whether computing `roots` runs a loop.
    fn has_loops(&self, roots: &emit::Roots) -> bool {
        self.v.lowered.graph.runs_loops(&roots.all())
    }

    /// The float scalar parameters' indices among the float scalars, and the differentiated
    /// slices' numbers, each with its parameter.
    fn differentiated(&self) -> (Numbered<'_, Ident>, Numbered<'_, Param>) {
        let scalars = self
            .sig
            .floats()
            .enumerate()
            .filter(|(_, p)| p.differentiated)
            .map(|(i, p)| (i, &p.ident))
            .collect();
        let slices = self
            .sig
            .wrt()
            .filter(|p| p.kind == ParamKind::Slice)
            .enumerate()
            .collect();
        (scalars, slices)
    }

    /// `place = [0.0; N];` or `zero_resized(&mut place, x.len());`: a slice's gradient zeroed.
    fn reset(&self, p: &Param, place: &TokenStream) -> TokenStream {
        let float = self.float;
        let id = &p.ident;
        match slice_of(&p.ty) {
            Some((_, SliceGrad::Array(n))) => quote! { #place = [0.0 as #float; #n]; },
            _ => quote! { ::symgrad::__private::zero_resized(&mut #place, #id.len()); },
        }
    }

    /// The hidden `__vjp(args…, seed, sinks…)` of a function with slice parameters: `∇x +=
    /// Σ_k seed[k]·∂f_k/∂x` into one sink per parameter (a caller's gradient vector, or a local
    /// array's adjoint, for the slices it differentiates; `Discard` for the others), as a
    /// scalar function's (`companion`). `seed` may be shorter than the outputs (a caller that
    /// reads only the first ones): the rest are zero. The scalars' part comes from `__jacobian`.
    ///
    /// ```text
    /// pub fn __vjp<S0, D1>(rot: &[f64], pt: &[f64], seed: &[f64], __grad0: &mut S0, __sink1: &mut D1) {
    ///     let seed: [f64; 3] = pad(seed);
    ///     … __grad0[0] += seed[0] * …;
    /// }
    /// ```
    fn hidden_vjp(&self) -> TokenStream {
        if !self.sig.params.iter().any(|p| p.kind == ParamKind::Slice) {
            return TokenStream::new();
        }
        let roots = self.kernel(0, &|s| s.vjp.1.iter().flatten().copied().collect());
        let (stmts, _) = self.run(&roots, emit::Sinks::Generic);
        let mixed = Span::mixed_site();
        let float = self.float;
        let mut k = 0u32;
        let (mut bounds, mut sinks) = (Vec::new(), Vec::new());
        for (j, p) in self.sig.params.iter().enumerate() {
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
        let params = params(self.func);
        let seed = seed_param();
        let given = format_ident!("__seeds", span = mixed);
        let (len, allow) = (&self.len, &self.allow);
        quote! {
            /// `∇x += Σ_k seed[k]·∂f_k/∂x` for the slices (the calling convention of generated
            /// code).
            #[doc(hidden)]
            #allow
            #[inline]
            pub fn __vjp<#(#bounds),*>(#(#params,)* #given: &[#float], #(#sinks),*) {
                let #seed: [#float; #len] = ::symgrad::__private::padded(#given);
                #stmts
            }
        }
    }

    /// The hidden `__hvp_outputs`, with `hessian`: for a caller whose Hessian goes through this
    /// function's outputs. Along the tangents `dots` (a float per float parameter, anything
    /// indexable per differentiated slice: the caller's direction, or zeros), every output's
    /// directional derivative `ẏ_k` (written into `ydot`, as many as it holds), and
    /// `Σ_k seed[k]·H_k·t`: one float per float parameter returned, each differentiated
    /// slice's part added into its sink (as `__vjp`'s). `seed` may be shorter than the
    /// outputs: the rest are zero.
    ///
    /// ```text
    /// pub fn __hvp_outputs<__T0: ?Sized + Index<usize, Output = f64>, __S0: ?Sized + IndexMut<…>, __S1: ?Sized>(
    ///     (p, t): (&[f64], f64), (__dot0, __dot1): (&__T0, f64), __hseeds: &[f64],
    ///     (__grad0, __sink1): (&mut __S0, &mut __S1), __ydot: &mut [f64]) -> ((), f64)
    /// ```
    fn hidden_hvp(&self) -> TokenStream {
        let Some(h) = &self.v.whole.call_hvp else {
            return TokenStream::new();
        };
        let m = h.values.len();
        let roots = self.kernel(m + h.scalars.len(), &|s| {
            s.call_hvp
                .as_ref()
                .map_or_else(Vec::new, crate::hvp::VectorCallHvp::roots)
        });
        let (stmts, exprs) = self.run(&roots, emit::Sinks::Generic);
        let values = &exprs[..m];
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
        } = HvpParams::of(
            self.func,
            self.sig,
            self.float,
            &exprs[m..m + h.scalars.len()],
        );
        let mixed = Span::mixed_site();
        let float = self.float;
        let seed = format_ident!("__hseed", span = mixed);
        let given = format_ident!("__hseeds", span = mixed);
        let (out, o, y) = (
            format_ident!("__ydot", span = mixed),
            format_ident!("__o", span = mixed),
            format_ident!("__y", span = mixed),
        );
        let (len, allow) = (&self.len, &self.allow);
        quote! {
            /// Every output's directional derivative along tangents of the parameters, and
            /// `Σ_k seed[k]·H_k·t`: the float parameters' parts returned, the slices' added
            /// into their sinks (the calling convention of generated code, with `hessian`).
            #[doc(hidden)]
            #allow
            #[inline]
            pub fn __hvp_outputs<#(#bounds),*>(
                (#(#pats,)*): (#(#tys,)*),
                (#(#dots,)*): (#(#dot_types,)*),
                #given: &[#float],
                (#(#sinks,)*): (#(#sink_types,)*),
                #out: &mut [#float],
            ) -> (#(#out_types,)*) {
                let #seed: [#float; #len] = ::symgrad::__private::padded(#given);
                #stmts
                for (#o, #y) in #out.iter_mut().zip([#(#values),*]) {
                    *#o = #y;
                }
                (#(#outs,)*)
            }
        }
    }

    /// The hidden `__vjp_rows(args…, [seeds; R], [sinks; R]…)`: `__vjp` for `R` sets of seeds
    /// at once, each row's product into its own sinks, one forward pass for all (a caller's
    /// Jacobian calls it for two of its rows, see `vjp_rows`).
    ///
    /// ```text
    /// pub fn __vjp_rows<S0, D1>(rot: &[f64], pt: &[f64], __seeds: [&[f64]; 2],
    ///                           __grad0: [&mut S0; 2], __sink1: [&mut D1; 2]) {
    ///     let seed: [f64; 3] = pad(__seeds[0]);
    ///     let __seed1: [f64; 3] = pad(__seeds[1]);
    ///     let [__grad1, __grad2] = __grad0;
    ///     … __grad1[0] += seed[0] * …; __grad2[0] += __seed1[0] * …;
    /// }
    /// ```
    fn hidden_vjp_rows(&self) -> TokenStream {
        let rows = &self.v.whole.rows;
        if rows.is_empty() {
            return TokenStream::new();
        }
        let roots = self.kernel(0, &|s| s.rows.iter().flatten().flatten().copied().collect());
        let (stmts, _) = self.run(&roots, emit::Sinks::Generic);
        let mixed = Span::mixed_site();
        let float = self.float;
        let (len, allow) = (&self.len, &self.allow);
        let n = self.slice_tokens.len();
        let r = proc_macro2::Literal::usize_unsuffixed(rows.len());
        let mut k = 0usize;
        let (mut bounds, mut sinks, mut split) = (Vec::new(), Vec::new(), Vec::new());
        for (j, p) in self.sig.params.iter().enumerate() {
            if p.kind == ParamKind::Slice && p.differentiated {
                let ty = format_ident!("__S{}", j, span = mixed);
                let name = emit::grad_vec_name(u32::try_from(k).unwrap_or(0));
                let each: Vec<Ident> = (0..rows.len())
                    .map(|row| emit::grad_vec_name(row_sink(row, k, n)))
                    .collect();
                k += 1;
                bounds.push(quote!(#ty: ?Sized + ::core::ops::IndexMut<usize, Output = #float>));
                sinks.push(quote!(#name: [&mut #ty; #r]));
                split.push(quote! { let [#(#each),*] = #name; });
            } else {
                let ty = format_ident!("__D{}", j, span = mixed);
                let name = format_ident!("__sink{}", j, span = mixed);
                bounds.push(quote!(#ty: ?Sized));
                sinks.push(quote!(#name: [&mut #ty; #r]));
            }
        }
        let params = params(self.func);
        let given = format_ident!("__seeds", span = mixed);
        let seeds = (0..rows.len()).map(|row| {
            let seed = crate::plan::row_seed_param(row);
            let at = proc_macro2::Literal::usize_unsuffixed(row);
            quote! { let #seed: [#float; #len] = ::symgrad::__private::padded(#given[#at]); }
        });
        quote! {
            /// `__vjp` for several sets of seeds at once, each into its own sinks (the calling
            /// convention of generated code).
            #[doc(hidden)]
            #allow
            #[inline]
            pub fn __vjp_rows<#(#bounds),*>(#(#params,)* #given: [&[#float]; #r], #(#sinks),*) {
                #(#seeds)*
                #(#split)*
                #stmts
            }
        }
    }

    /// `_jacobian_into`, filling one struct per output, and `_jacobian` calling it.
    fn jacobian_fns(&self, names: &Names, formulas: &[(String, String)]) -> TokenStream {
        let m = self.v.whole.jacobian.entries.len();
        let (scalars, slices) = self.differentiated();
        let jac = Ident::new("jac", Span::mixed_site());
        let rows: Vec<Ident> = (0..m)
            .map(|k| format_ident!("__row{}", k, span = Span::mixed_site()))
            .collect();
        let mut prelude = quote! { let [#(#rows),*] = #jac; };
        let (mut sinks, mut fields) = (Vec::new(), Vec::new());
        for (k, row) in rows.iter().enumerate() {
            for (s, p) in &slices {
                let id = &p.ident;
                let place = quote!(#row.#id);
                prelude.extend(self.reset(p, &place));
                let sink = crate::signature::grad_place(&p.ty, &place);
                sinks.push((row_sink(k, *s, slices.len()), sink));
            }
            for (_, id) in &scalars {
                fields.push(quote!(#row.#id));
            }
        }
        // Row by row, the scalar fields' entries, then the slices' effects.
        let of = |side: &VectorSide| {
            let j = &side.jacobian;
            let mut out = Vec::new();
            for k in 0..m {
                out.extend(scalars.iter().map(|(i, _)| j.entries[k][*i]));
            }
            for k in 0..m {
                out.extend(
                    slices
                        .iter()
                        .filter_map(|(s, _)| j.row_effects[k].get(*s).copied().flatten()),
                );
            }
            out
        };
        let name = &self.func.sig.ident;
        let s = &names.grad_struct;
        let len = &self.len;
        let float = self.float;
        let into_name = &names.jacobian_into_fn;
        let into = self.fill(&Fill {
            name: into_name.clone(),
            doc: format!(
                "The value of [`{name}`], with its Jacobian written into `jac`: [`{}`] for a loop that reuses one array of [`{s}`].\n\nEvery field of every row is overwritten{}.",
                names.jacobian_fn,
                if slices.is_empty() {
                    ""
                } else {
                    "; each vector is resized to its slice's length and zeroed, keeping its allocation"
                }
            ),
            extra: vec![quote!(#jac: &mut [#s; #len])],
            read: Vec::new(),
            prelude,
            sinks,
            scalars: fields,
            of: &of,
        });
        let mode = match self.v.whole.jacobian.mode {
            Mode::Reverse | Mode::FromJacobian => {
                "reverse mode: one reverse sweep per output, all sharing the computation of the outputs"
            }
            Mode::Forward => {
                "forward mode: one tangent sweep per differentiated parameter, all sharing the computation of the outputs (fewer operations than one sweep per output here)"
            }
        };
        let mut doc = format!(
            "The value of [`{name}`] and its Jacobian, generated by `#[differentiable]`.\n\nRow `k` is the gradient of output `k`: `jac[k].p` is `∂{name}[k]/∂p` (for a slice or array parameter `x`, `jac[k].x[i]` is `∂{name}[k]/∂x[i]`). Computed in {mode}.\n\n"
        );
        // The first rows; all of them are in `FORMULAS`.
        let shown = ROWS_IN_DOCS * formulas.len() / m.max(1);
        for (p, f) in &formulas[..shown.min(formulas.len())] {
            let _ = writeln!(doc, "- `{p}` = `{f}`");
        }
        if m > ROWS_IN_DOCS {
            let _ = writeln!(
                doc,
                "- … and the other {} rows, in [`{s}::FORMULAS`].",
                m - ROWS_IN_DOCS
            );
        }
        let params = params(self.func);
        let args = arg_names(self.func);
        let vis = &self.func.vis;
        let generics = &self.func.sig.generics;
        let jac_name = &names.jacobian_fn;
        let allow = &self.allow;
        let value = Ident::new("value", Span::mixed_site());
        quote! {
            #[doc = #doc]
            #allow
            #[inline]
            #vis fn #jac_name #generics (#(#params),*) -> ([#float; #len], [#s; #len]) {
                let mut #jac: [#s; #len] =
                    ::core::array::from_fn(|_| ::core::default::Default::default());
                let #value = #into_name(#(#args,)* &mut #jac);
                (#value, #jac)
            }
            #into
        }
    }

    /// `_vjp_into`, filling one struct with `Σ_k seed[k]·∇f_k`, and `_vjp` calling it.
    fn vjp_fns(&self, names: &Names) -> TokenStream {
        let (scalars, slices) = self.differentiated();
        let grad = Ident::new("grad", Span::mixed_site());
        let seed = seed_param();
        let (mut prelude, mut sinks, mut fields) = (TokenStream::new(), Vec::new(), Vec::new());
        for (s, p) in &slices {
            let id = &p.ident;
            let place = quote!(#grad.#id);
            prelude.extend(self.reset(p, &place));
            let sink = crate::signature::grad_place(&p.ty, &place);
            sinks.push((u32::try_from(*s).unwrap_or(u32::MAX), sink));
        }
        for (_, id) in &scalars {
            fields.push(quote!(#grad.#id));
        }
        let name = &self.func.sig.ident;
        let s = &names.grad_struct;
        let len = &self.len;
        let float = self.float;
        let into_name = &names.vjp_into_fn;
        let into = self.fill(&Fill {
            name: into_name.clone(),
            doc: format!(
                "The value of [`{name}`], with `Σ_k seed[k]·∇{name}[k]` written into `grad`: [`{}`] for a loop that reuses one [`{s}`].\n\nEvery field is overwritten{}.",
                names.vjp_fn,
                if slices.is_empty() {
                    ""
                } else {
                    "; each vector is resized to its slice's length and zeroed, keeping its allocation"
                }
            ),
            extra: vec![quote!(#seed: &[#float; #len]), quote!(#grad: &mut #s)],
            read: vec![(quote!(#seed: &[#float; #len]), quote!(#seed))],
            prelude,
            sinks,
            scalars: fields,
            of: &|side| {
                let (partials, effects) = &side.vjp;
                let mut out: Vec<NodeId> = scalars.iter().map(|(i, _)| partials[*i]).collect();
                out.extend(effects.iter().flatten());
                out
            },
        });
        let doc = format!(
            "The value of [`{name}`] and the vector-Jacobian product `seedᵀ·J = Σ_k seed[k]·∇{name}[k]`, generated by `#[differentiable]`.\n\nOne reverse sweep, whatever the number of outputs: the gradient of the scalar `Σ_k seed[k]·{name}[k]` (with `seed = [1, 1, …]`, of the sum of the outputs; with `seed = 2·r`, of `Σ r_k²` when the outputs are the residuals `r`)."
        );
        let params = params(self.func);
        let args = arg_names(self.func);
        let vis = &self.func.vis;
        let generics = &self.func.sig.generics;
        let vjp_name = &names.vjp_fn;
        let allow = &self.allow;
        let value = Ident::new("value", Span::mixed_site());
        quote! {
            #[doc = #doc]
            #allow
            #[inline]
            #vis fn #vjp_name #generics (#(#params,)* #seed: &[#float; #len]) -> ([#float; #len], #s) {
                let mut #grad: #s = ::core::default::Default::default();
                let #value = #into_name(#(#args,)* #seed, &mut #grad);
                (#value, #grad)
            }
            #into
        }
    }

    /// `_jvp`: the outputs and `J·tangent`.
    fn jvp_fn(&self, names: &Names) -> TokenStream {
        let mode = &self.v.whole.jvp.1;
        if *mode == Mode::FromJacobian {
            return self.jvp_from_jacobian(names);
        }
        let m = self.v.lowered.outputs.len();
        let roots = self.outputs_then(m, &|s| s.jvp.0.clone());
        let (stmts, exprs) = self.run(&roots, emit::Sinks::Slices);
        let (values, dots) = exprs.split_at(m);
        let name = &self.func.sig.ident;
        let s = &names.grad_struct;
        let how = match mode {
            Mode::Forward => {
                "in forward mode: one tangent sweep beside the computation of the outputs, without forming the Jacobian"
            }
            Mode::Reverse | Mode::FromJacobian => {
                "from the rows of the reverse-mode Jacobian, each contracted with `tangent` as it is computed (the function has a loop recurrence, which has no forward sweep here): as costly as the Jacobian, without storing it"
            }
        };
        let doc = format!(
            "The value of [`{name}`] and the Jacobian-vector product `J·tangent` (the directional derivative of every output along `tangent`), generated by `#[differentiable]`.\n\n`tangent` has one field per differentiated parameter, as [`{s}`] (for a slice, a vector as long as the slice). Computed {how}."
        );
        let params = params(self.func);
        let vis = &self.func.vis;
        let generics = &self.func.sig.generics;
        let jvp_name = &names.jvp_fn;
        let tangent = tangent_param();
        let len = &self.len;
        let float = self.float;
        let allow = &self.allow;
        let inline = self.inline(&roots);
        quote! {
            #[doc = #doc]
            #allow
            #inline
            #vis fn #jvp_name #generics (#(#params,)* #tangent: &#s) -> ([#float; #len], [#float; #len]) {
                #stmts
                ([#(#values),*], [#(#dots),*])
            }
        }
    }

    /// `_jvp` as the Jacobian's rows contracted with `tangent`: for a body that passes a
    /// differentiated slice on to another function (whose vector-Jacobian product has no
    /// tangent twin).
    fn jvp_from_jacobian(&self, names: &Names) -> TokenStream {
        let name = &self.func.sig.ident;
        let s = &names.grad_struct;
        let doc = format!(
            "The value of [`{name}`] and the Jacobian-vector product `J·tangent` (the directional derivative of every output along `tangent`), generated by `#[differentiable]`.\n\n`tangent` has one field per differentiated parameter, as [`{s}`] (for a slice, a vector as long as the slice). Computed from the Jacobian ([`{}`]), each row contracted with `tangent`: the body passes a differentiated slice to another function, which has no forward-mode derivative. As costly as the Jacobian; it allocates the rows' vectors.\n\n# Panics\n\nIf a vector of `tangent` is not as long as its slice.",
            names.jacobian_fn
        );
        let params = params(self.func);
        let args = arg_names(self.func);
        let vis = &self.func.vis;
        let generics = &self.func.sig.generics;
        let (jvp_name, jac_name) = (&names.jvp_fn, &names.jacobian_fn);
        let tangent = tangent_param();
        let (len, float, allow) = (&self.len, self.float, &self.allow);
        let message =
            format!("`{jvp_name}`: `tangent` must have one entry per differentiated element");
        // Hygienic names: a parameter may be called `t` or `value`.
        let [value, jac, t, dots, row, k] =
            ["value", "jac", "t", "dots", "row", "k"].map(|n| Ident::new(n, Span::mixed_site()));
        quote! {
            #[doc = #doc]
            #allow
            #[inline]
            #vis fn #jvp_name #generics (#(#params,)* #tangent: &#s) -> ([#float; #len], [#float; #len]) {
                let (#value, #jac) = #jac_name(#(#args),*);
                let #t = ::symgrad::Gradient::<#float>::to_flat_vec(#tangent);
                let #dots = ::core::array::from_fn(|#k| {
                    let #row = ::symgrad::Gradient::<#float>::to_flat_vec(&#jac[#k]);
                    ::core::assert_eq!(#row.len(), #t.len(), #message);
                    #row.iter().zip(&#t).map(|(a, b)| *a * *b).sum::<#float>()
                });
                (#value, #dots)
            }
        }
    }

    /// Straight-line code is small: inlined. Code with loops stays a function of its own (see
    /// `companion`'s `_grad_into`).
    fn inline(&self, roots: &emit::Roots) -> TokenStream {
        if self.has_loops(roots) {
            quote!(#[inline(never)])
        } else {
            quote!(#[inline])
        }
    }

    /// A function filling gradient structs: the sinks bound to their places and the scalar
    /// fields assigned; with loops and sinks, the loops run in a kernel that takes the sinks as
    /// `&mut [T]` (as `_grad_into`'s kernel, for the same reason).
    ///
    /// ```text
    /// fn r_jacobian_into(a: f64, x: &[f64], jac: &mut [RGrad; 2]) -> [f64; 2] {
    ///     let [__row0, __row1] = jac;
    ///     zero_resized(&mut __row0.x, x.len()); …
    ///     let __grad1 = &mut __row0.x; let __grad2 = &mut __row1.x;
    ///     …                                        // the outputs, the rows
    ///     __row0.a = …; __row1.a = …;
    ///     [__t3, __t7]
    /// }
    /// ```
    fn fill(&self, f: &Fill) -> TokenStream {
        let m = self.v.lowered.outputs.len();
        let roots = self.outputs_then(f.scalars.len(), f.of);
        let (stmts, exprs) = self.run(&roots, emit::Sinks::Slices);
        let values = &exprs[..m];
        let scalar_exprs = &exprs[m..m + f.scalars.len()];
        let places = &f.scalars;
        let sink_names: Vec<Ident> = f
            .sinks
            .iter()
            .map(|(k, _)| emit::grad_vec_name(*k))
            .collect();
        let sink_places: Vec<&TokenStream> = f.sinks.iter().map(|(_, p)| p).collect();
        let params = params(self.func);
        let vis = &self.func.vis;
        let generics = &self.func.sig.generics;
        let float = self.float;
        let len = &self.len;
        let allow = &self.allow;
        let (name, doc, extra, prelude) = (&f.name, &f.doc, &f.extra, &f.prelude);
        let has_loops = self.has_loops(&roots);
        let body = if has_loops && !f.sinks.is_empty() {
            let kernel = format_ident!("__symgrad_kernel", span = Span::mixed_site());
            let args = arg_names(self.func);
            let (read_params, read_args): (Vec<_>, Vec<_>) = f.read.iter().cloned().unzip();
            let scalar_names: Vec<Ident> = (0..scalar_exprs.len())
                .map(|i| format_ident!("__d{}", i, span = Span::mixed_site()))
                .collect();
            let scalar_types = scalar_exprs.iter().map(|_| float.clone());
            let value = format_ident!("__value", span = Span::mixed_site());
            quote! {
                #prelude
                #allow
                #[inline(never)]
                fn #kernel (#(#params,)* #(#read_params,)* #(#sink_names: &mut [#float]),*) -> ([#float; #len], (#(#scalar_types,)*)) {
                    #stmts
                    ([#(#values),*], (#(#scalar_exprs,)*))
                }
                let (#value, (#(#scalar_names,)*)) = #kernel(#(#args,)* #(#read_args,)* #(&mut #sink_places),*);
                #( #places = #scalar_names; )*
                #value
            }
        } else {
            quote! {
                #prelude
                #( let #sink_names = &mut #sink_places; )*
                #stmts
                #( #places = #scalar_exprs; )*
                [#(#values),*]
            }
        };
        let inline = if has_loops && f.sinks.is_empty() {
            quote!(#[inline(never)])
        } else {
            quote!(#[inline])
        };
        quote! {
            #[doc = #doc]
            #allow
            #inline
            #vis fn #name #generics (#(#params,)* #(#extra),*) -> [#float; #len] {
                #body
            }
        }
    }
}
