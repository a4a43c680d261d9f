//! The `#[differentiable]` attribute of symgrad. Use it through the `symgrad` crate, whose docs
//! describe what it accepts and generates.
//!
//! The macro is a pipeline of passes, one file each:
//! [`attr`] (arguments) → [`signature`] (checks) → [`lower`] (syn → [`graph`]) → [`diff`]
//! (reverse accumulation, rules simplified by [`simplify`] as nodes are built) → [`emit`]
//! (graph → statements) → [`companion`] (the generated items), orchestrated by [`expand`];
//! [`fallback`] is what is emitted on error. [`graph`], [`diff`], [`simplify`], [`eval`] and
//! [`formula`] are the math: they use neither `syn` nor `quote`.

mod attr;
mod companion;
mod ctxt;
mod diff;
mod emit;
mod eval;
mod expand;
mod fallback;
mod formula;
mod graph;
mod lower;
#[cfg(test)]
mod proptests;
mod signature;
mod simplify;
mod tape;
#[cfg(test)]
mod testing;

use proc_macro::TokenStream;

/// Generates `<name>_grad` (value and gradient), the `<Name>Grad` struct and, with `hessian`,
/// `<name>_hessian`, beside the annotated function. See the `symgrad` crate for the details.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
