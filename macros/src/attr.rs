//! Parses the arguments of `#[differentiable(...)]`:
//!
//! - `wrt(w, b)`: differentiate only these parameters;
//! - `hessian`: also emit `<name>_hessian`;
//! - `rule = path`: the derivative comes from the user's function `path` (the macro does not look
//!   at the body), returning `(value, [∂f/∂p₁, …])` for the float parameters in order;
//! - `checkpoint = K`: loop recurrences save their state every `K` iterations, and the reverse
//!   sweep recomputes each stretch of `K` from its checkpoint (the outermost of nested ones:
//!   `Schedule::checkpoint_of`).

use syn::meta::ParseNestedMeta;
use syn::{Ident, Path};

use crate::ctxt::{Ctxt, msg};

#[derive(Default)]
pub struct Args {
    pub wrt: Option<Vec<Ident>>,
    pub hessian: bool,
    /// Where `hessian` was written, for errors about it.
    pub hessian_span: Option<proc_macro2::Span>,
    pub rule: Option<Path>,
    /// `checkpoint = K` (at least 2): how often a recurrence's forward loop saves its state.
    pub checkpoint: Option<usize>,
}

/// Parses the attribute's tokens, reporting problems to `cx`.
pub fn parse(cx: &Ctxt, tokens: proc_macro2::TokenStream) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| one_argument(cx, &mut args, &meta));
    if let Err(e) = syn::parse::Parser::parse2(parser, tokens) {
        cx.push(e);
    }
    args
}

fn one_argument(cx: &Ctxt, args: &mut Args, meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.path.is_ident("wrt") {
        let content;
        syn::parenthesized!(content in meta.input);
        let names: Vec<Ident> =
            syn::punctuated::Punctuated::<Ident, syn::Token![,]>::parse_terminated(&content)
                .map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        msg(
                            "expected parameter names in `wrt(...)`",
                            "write `wrt(w, b)` with the names of float parameters",
                        ),
                    )
                })?
                .into_iter()
                .collect();
        if names.is_empty() {
            cx.error_spanned_by(&meta.path, msg("`wrt()` names no parameter", "list the parameters to differentiate, e.g. `wrt(w, b)`, or remove `wrt` to differentiate every float parameter"));
        }
        if args.wrt.replace(names).is_some() {
            cx.error_spanned_by(
                &meta.path,
                msg(
                    "`wrt` given twice",
                    "list every parameter in one `wrt(...)`",
                ),
            );
        }
    } else if meta.path.is_ident("hessian") {
        args.hessian = true;
        args.hessian_span = Some(syn::spanned::Spanned::span(&meta.path));
    } else if meta.path.is_ident("checkpoint") {
        let help = "write `checkpoint = K` with an integer K of at least 2: a recurrence saves its state every K iterations, and its gradient recomputes the K in between (memory n/K + K instead of n, one more forward pass); K near √n needs the least memory";
        let mut value: syn::Expr = meta.value()?.parse()?;
        // A literal passed through a `macro_rules!` fragment arrives in an invisible group.
        while let syn::Expr::Group(g) = value {
            value = *g.expr;
        }
        let k = match &value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(k),
                ..
            }) => k.base10_parse::<usize>().ok(),
            _ => None,
        };
        if args.checkpoint.is_some() {
            cx.error_spanned_by(
                &meta.path,
                msg(
                    "`checkpoint` given twice",
                    "give one `checkpoint = K`: every recurrence of the function uses it (the outermost of nested ones)",
                ),
            );
        }
        match k {
            Some(k) if k >= 2 => args.checkpoint = Some(k),
            Some(_) => cx.error_spanned_by(
                &value,
                msg(
                    "a checkpoint every fewer than 2 iterations saves every state",
                    help,
                ),
            ),
            None => cx.error_spanned_by(&value, msg("`checkpoint` takes an integer literal", help)),
        }
    } else if meta.path.is_ident("rule") {
        let path: Path = meta.value()?.parse()?;
        args.rule = Some(path);
    } else {
        let name = meta
            .path
            .get_ident()
            .map_or_else(|| "?".to_string(), ToString::to_string);
        cx.error_spanned_by(
            &meta.path,
            msg(
                format!("unknown argument `{name}` of `#[differentiable]`"),
                "the arguments are `wrt(param, ...)`, `hessian`, `checkpoint = K` and `rule = path_to_fn`",
            ),
        );
        // Skip whatever value follows, so one misspelling reports one error.
        if meta.input.peek(syn::Token![=]) {
            let _: syn::Expr = meta.value()?.parse()?;
        } else if meta.input.peek(syn::token::Paren) {
            meta.parse_nested_meta(|_| Ok(()))?;
        }
    }
    Ok(())
}
