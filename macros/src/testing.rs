//! Test support: run the real lowering on a small expression over `x`, `y`, `w` (all `f64`).

use quote::quote;

use crate::attr::Args;
use crate::ctxt::Ctxt;
use crate::formula;
use crate::lower::{self, Lowered};
use crate::signature;

/// Lowers `fn f(x: f64, y: f64, w: f64) -> f64 { <body> }`.
pub fn lower_body(body: &str) -> Lowered {
    let body: proc_macro2::TokenStream = body
        .parse()
        .expect("internal error: test body does not tokenize");
    lower_fn(
        quote! { fn f(x: f64, y: f64, w: f64) -> f64 { #body } },
        &Args::default(),
    )
}

/// Lowers a whole function (with its `wrt` arguments).
pub fn lower_fn(func: proc_macro2::TokenStream, args: &Args) -> Lowered {
    let func: syn::ItemFn =
        syn::parse2(func).expect("internal error: test function does not parse");
    let cx = Ctxt::new();
    let sig = signature::check(&cx, &func, args);
    let lowered = sig.and_then(|sig| lower::lower(&cx, &sig, &func.block).ok());
    if let Err(e) = cx.check() {
        panic!("internal error: test body rejected: {e}");
    }
    lowered.expect("internal error: no graph")
}

/// The formula of a body, as the simplifier leaves it: `"x * 1.0" => "x"`.
pub fn parse_and_print(body: &str) -> String {
    let l = lower_body(body);
    formula::print(&l.graph, l.output, "f64")
}
