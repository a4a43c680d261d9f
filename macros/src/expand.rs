//! The orchestrator: parse → plan (check, lower, differentiate) → emit; on any error, the
//! original function, every error, and correctly typed stubs.

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::attr;
use crate::ctxt::{Ctxt, msg};
use crate::plan::plan;
use crate::{companion, fallback};

/// `#[differentiable]`: the function, unchanged, and its companions; or the function, the
/// errors, and stubs of the companions (see `fallback`).
pub fn differentiable(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let func: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            msg(
                "`#[differentiable]` goes on a function",
                "put it on a `fn` that returns `f64` or `f32`",
            ),
        )
    })?;
    if let Some(float) = crate::vecout::returned_vec(&func.sig.output) {
        return Ok(crate::vecout::generate(attr, &func, float));
    }
    let cx = Ctxt::new();
    let args = attr::parse(&cx, attr);
    let plan = plan(&cx, &func, &args);
    Ok(match (cx.check(), plan) {
        (Ok(()), Ok(plan)) => crate::emit::renumber(companion::generate(&func, &args, &plan)),
        (Err(errors), plan) => {
            let callees = plan.map_or_else(|callees| callees, |plan| plan.callees);
            fallback::generate(&func, &args, &errors, &callees)
        }
        (Ok(()), Err(callees)) => fallback::generate(
            &func,
            &args,
            &syn::Error::new(
                func.sig.ident.span(),
                "internal error: no plan and no error",
            ),
            &callees,
        ),
    })
}

/// The companions of `func` with the arguments `args`, its gradient struct named
/// `grad_struct`, or the errors: how a `Vec`-valued function expands the scalar functions it
/// is lowered to, whose gradients are the user's `<Name>Grad` (see `vecout`).
pub fn companions(
    args: &attr::Args,
    func: &ItemFn,
    grad_struct: &syn::Ident,
) -> Result<TokenStream, syn::Error> {
    let cx = Ctxt::new();
    let plan = plan(&cx, func, args);
    cx.check()?;
    let mut names = companion::Names::of(func);
    names.grad_struct = grad_struct.clone();
    match plan {
        Ok(plan) => Ok(crate::emit::renumber(companion::generate_named(
            func, args, &plan, &names,
        ))),
        Err(_) => Err(syn::Error::new(
            func.sig.ident.span(),
            "internal error: no plan and no error",
        )),
    }
}
