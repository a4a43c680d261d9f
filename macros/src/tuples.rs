//! A function returning a tuple of floats is a vector-valued function whose array is spelled
//! as a tuple: its body's tuples of outputs are rewritten to arrays before lowering, and it is
//! then lowered, differentiated and emitted as the `-> [T; M]` function (the user's function is
//! emitted unchanged).
//!
//! ```text
//! // Input:                                         // Lowered as:
//! fn polar(r: f64, t: f64) -> (f64, f64) {          fn polar(r: f64, t: f64) -> [f64; 2] {
//!     if r < 0.0 { return (0.0, 0.0); }                 if r < 0.0 { return [0.0, 0.0]; }
//!     let c = t.cos();                                  let c = t.cos();
//!     (r * c, r * t.sin())                              [r * c, r * t.sin()]
//! }                                                 }
//! ```
//!
//! A caller reads the outputs as a tuple (`let (u, v) = polar(r, t);`, `polar(r, t).0`); its
//! generated code turns the value into the array with `__private::tuple_outputs` (see
//! `lower::arrays`), and the hidden items are the array function's.

use std::borrow::Cow;

use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ReturnType, Stmt, Type};

use crate::ctxt::{Ctxt, msg};

/// The number of outputs of a function returning a tuple (`-> (f64, f64)`); `None` otherwise.
pub fn returned_tuple(func: &syn::ItemFn) -> Option<usize> {
    match &func.sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(t) if !t.elems.is_empty() => Some(t.elems.len()),
            _ => None,
        },
        ReturnType::Default => None,
    }
}

/// `body` with each tuple the function returns rewritten to an array (at the end of the body
/// and of its branches, and after each `return`); borrowed unchanged when the function does not
/// return a tuple. A value that is not a tuple expression is reported.
pub fn rewrite<'b>(cx: &Ctxt, func: &syn::ItemFn, body: Cow<'b, Block>) -> Cow<'b, Block> {
    let Some(outputs) = returned_tuple(func) else {
        return body;
    };
    let mut body = body.into_owned();
    let mut r = Rewrite { cx, outputs };
    r.visit_block_mut(&mut body);
    r.block(&mut body);
    Cow::Owned(body)
}

struct Rewrite<'c> {
    cx: &'c Ctxt,
    outputs: usize,
}

impl Rewrite<'_> {
    /// The end of a block that gives the function's value.
    fn block(&self, b: &mut Block) {
        if let Some(Stmt::Expr(e, None)) = b.stmts.last_mut() {
            self.value(e);
        }
    }

    /// An expression that is the function's value: a tuple (rewritten), or branches ending
    /// in tuples.
    ///
    /// ```text
    /// (a, b)                        →  [a, b]
    /// if c { (a, b) } else { … }    →  if c { [a, b] } else { … }
    /// ```
    fn value(&self, e: &mut Expr) {
        match e {
            Expr::Tuple(t) if t.elems.len() == self.outputs => {
                let elems = std::mem::take(&mut t.elems);
                *e = Expr::Array(syn::ExprArray {
                    attrs: std::mem::take(&mut t.attrs),
                    bracket_token: syn::token::Bracket(t.paren_token.span),
                    elems,
                });
            }
            Expr::Tuple(t) => {
                self.cx.error_spanned_by(
                    &*t,
                    msg(
                        format!(
                            "this tuple has {} elements, and the function returns {}",
                            t.elems.len(),
                            self.outputs
                        ),
                        "return one element per output, the same number on every path",
                    ),
                );
                // Lowered as an array of the right length, so that the error above is the
                // only one the macro gives (rustc reports the user's tuple on its own).
                *e = self.padded(t);
            }
            Expr::Paren(p) => self.value(&mut p.expr),
            Expr::Block(b) => self.block(&mut b.block),
            Expr::If(i) => {
                self.block(&mut i.then_branch);
                if let Some((_, other)) = &mut i.else_branch {
                    self.value(other);
                }
            }
            Expr::Match(m) => {
                for arm in &mut m.arms {
                    self.value(&mut arm.body);
                }
            }
            // Diverging (`return` is rewritten where it is, `unreachable!()`).
            Expr::Return(_) | Expr::Macro(_) => {}
            other => self.cx.error_spanned_by(
                &*other,
                msg(
                    "a function returning a tuple of outputs must end with a tuple expression here",
                    format!(
                        "end the body (and each `return`) with the outputs listed, `({n})`; a call's outputs are bound first: `let ({n}) = f(…); ({n})`",
                        n = names(self.outputs)
                    ),
                ),
            ),
        }
    }
}

impl Rewrite<'_> {
    /// `[a, b]` of a tuple whose length is not the outputs': its first elements, or `0.0` for
    /// the missing ones.
    fn padded(&self, t: &syn::ExprTuple) -> Expr {
        let mut elems: syn::punctuated::Punctuated<Expr, syn::Token![,]> =
            t.elems.iter().take(self.outputs).cloned().collect();
        while elems.len() < self.outputs {
            elems.push(syn::parse_quote_spanned!(t.paren_token.span.join() => 0.0));
        }
        Expr::Array(syn::ExprArray {
            attrs: Vec::new(),
            bracket_token: syn::token::Bracket(t.paren_token.span),
            elems,
        })
    }
}

/// `r0, r1, …`: names for `n` outputs.
fn names(n: usize) -> String {
    (0..n)
        .map(|k| format!("r{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            // A closure's `return` returns from the closure.
            Expr::Closure(_) => {}
            Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    syn::visit_mut::visit_expr_mut(self, v);
                    self.value(v);
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    // Items in the body are functions of their own.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
