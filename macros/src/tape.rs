//! The hand-over to the reverse-mode tape, for functions that differentiate `ndarray` arrays.
//!
//! The symbolic engine works on scalars; an array body runs instead on
//! `symgrad_runtime::tape`, whose `Var` mimics ndarray's API (see "What the `#[differentiable]`
//! fallback can rely on" in that module's docs). So the body is kept almost as written:
//!
//! ```text
//! // Input:                                   // Output (inside `<name>_grad`):
//! fn ce(x: &Array2<f64>, w: &Array2<f64>)     let __tape = Tape::new();
//!     -> f64 {                                 let __w = __tape.watch(w); let w = &__w;
//!     let z: Array2<f64> = x.dot(w);           let __result = (|| {
//!     z.exp().sum().ln()                           let z = x.__tape_dot(w);
//! }                                                z.exp().sum().ln()
//!                                              })();
//!                                              // gradient of __result, w.r.t. __w
//! ```
//!
//! Three rewrites: `a.dot(b)` becomes `a.__tape_dot(b)` (a method that accepts every mix of
//! arrays and tape values), `let` type annotations are dropped (the values are tape values
//! now), and `mapv` given a function's name or a closure typed `f64` is made to take the tape's
//! dual numbers (see [`rewrite_mapv`]). A `return` returns from the closure. Constructs the tape
//! cannot run are reported here, at their tokens.

use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Local, Pat};

use crate::ctxt::{Ctxt, msg};

/// Methods of ndarray that have no counterpart on the tape.
const UNSUPPORTED_METHODS: [(&str, &str); 11] = [
    (
        "iter",
        "iterate over a plain (constant) array, or express the computation with whole-array ops",
    ),
    (
        "iter_mut",
        "the tape cannot differentiate in-place mutation: compute a new array",
    ),
    ("map", "use `mapv(|x| ...)`: its closure is differentiated"),
    (
        "map_inplace",
        "use `mapv(|x| ...)`: its closure is differentiated",
    ),
    (
        "mapv_inplace",
        "use `mapv(|x| ...)`: its closure is differentiated",
    ),
    (
        "fold",
        "use `sum()`, `sum_axis(...)` or `mapv` and a reduction",
    ),
    ("for_each", "use whole-array operations"),
    (
        "slice",
        "slicing is not on the tape yet: slice a constant array, or pass the slice as a parameter",
    ),
    (
        "slice_mut",
        "the tape cannot differentiate in-place mutation: compute a new array",
    ),
    (
        "assign",
        "the tape cannot differentiate in-place mutation: compute a new array",
    ),
    (
        "fill",
        "the tape cannot differentiate in-place mutation: compute a new array",
    ),
];

/// Reports the constructs the tape cannot run.
pub fn check(cx: &Ctxt, body: &Block) {
    struct Checker<'c> {
        cx: &'c Ctxt,
    }
    impl<'ast> Visit<'ast> for Checker<'_> {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let name = m.method.to_string();
            if let Some((_, help)) = UNSUPPORTED_METHODS.iter().find(|(n, _)| *n == name) {
                self.cx.error_spanned_by(
                    &m.method,
                    msg(
                        format!("`{name}` cannot run on the reverse-mode tape"),
                        help,
                    ),
                );
            }
            let after_mean = matches!(&*m.receiver, Expr::MethodCall(r) if r.method == "mean" || r.method == "mean_axis");
            if name == "unwrap" && after_mean {
                self.cx.error_spanned_by(&m.method, msg("on the tape, `mean()` and `mean_axis(...)` give the value itself, not an `Option`", "remove the `unwrap` call"));
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_index(&mut self, i: &'ast syn::ExprIndex) {
            self.cx.error_spanned_by(
                i,
                msg("indexing cannot run on the reverse-mode tape", "use whole-array operations (`sum_axis`, `dot`, broadcasting); index constant arrays outside the function"),
            );
        }
        fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
            self.cx.error_spanned_by(
                &m.mac,
                msg(
                    "macros cannot run on the reverse-mode tape",
                    "build constant arrays outside the function and pass them in",
                ),
            );
        }
        fn visit_stmt_macro(&mut self, m: &'ast syn::StmtMacro) {
            self.cx.error_spanned_by(
                &m.mac,
                msg(
                    "macros cannot run on the reverse-mode tape",
                    "move printing and assertions out of the differentiated function",
                ),
            );
        }
        fn visit_expr_unsafe(&mut self, u: &'ast syn::ExprUnsafe) {
            self.cx.error_spanned_by(
                u.unsafe_token,
                msg(
                    "`unsafe` blocks cannot be differentiated",
                    "compute the value outside and pass it in as data",
                ),
            );
        }
    }
    Checker { cx }.visit_block(body);
}

/// The float methods the tape's dual numbers (`symgrad::tape::Dual`) have under the same name
/// and meaning as `f64`'s, so that `mapv(f64::NAME)` can become `mapv(|v| v.NAME())`: one
/// closure that runs on plain floats (a data array) and on dual numbers (a tape value) alike.
const DUAL_METHODS: [&str; 23] = [
    "exp", "exp2", "exp_m1", "ln", "ln_1p", "log2", "log10", "sqrt", "cbrt", "recip", "abs", "sin",
    "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
];

/// `recv.mapv(arg)`, rewritten so that it runs on the tape as well as on plain arrays:
///
/// ```text
/// x.mapv(f64::exp)            →  x.mapv(|__v| __v.exp())   (a method a dual number has)
/// x.mapv(|v: f64| -> f64 {…}) →  x.mapv(|v| {…})           (the element may be a dual)
/// x.mapv(my_fn)               →  __mapv_named(&(x), my_fn)
/// ```
///
/// The last form is ndarray's `mapv` on a plain array, and on a tape value a compile error that
/// shows the supported forms (a named function has no derivative the tape can use); left as
/// written, it would be a type error about the tape's dual numbers.
fn rewrite_mapv(e: &mut Expr) {
    let Expr::MethodCall(m) = e else { return };
    if m.method != "mapv" || m.args.len() != 1 {
        return;
    }
    // A function passed through a `macro_rules!` fragment arrives wrapped in an invisible group.
    while let Expr::Group(g) = &m.args[0] {
        m.args[0] = (*g.expr).clone();
    }
    match &mut m.args[0] {
        Expr::Path(p) if p.qself.is_none() => {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let span = syn::spanned::Spanned::span(&p.path);
            if let [float, name] = &segments[..] {
                if (float == "f64" || float == "f32") && DUAL_METHODS.contains(&name.as_str()) {
                    let method = syn::Ident::new(name, span);
                    m.args[0] = syn::parse_quote_spanned!(span=> |__v| __v.#method());
                    return;
                }
            }
            let (receiver, path) = (&m.receiver, &m.args[0]);
            *e = syn::parse_quote_spanned!(m.method.span()=>
                ::symgrad::tape::__mapv_named(&(#receiver), #path)
            );
        }
        Expr::Closure(c) => {
            let is_float = |ty: &syn::Type| crate::signature::float_of(ty).is_some();
            for input in &mut c.inputs {
                if let Pat::Type(t) = input {
                    if is_float(&t.ty) {
                        *input = (*t.pat).clone();
                    }
                }
            }
            if matches!(&c.output, syn::ReturnType::Type(_, ty) if is_float(ty)) {
                c.output = syn::ReturnType::Default;
            }
        }
        _ => {}
    }
}

/// The body, rewritten to run on the tape (see the module docs).
pub fn rewrite(body: &Block) -> Block {
    struct Rewriter;
    impl VisitMut for Rewriter {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            if let Expr::MethodCall(m) = e {
                if m.method == "dot" {
                    m.method = syn::Ident::new("__tape_dot", m.method.span());
                }
            }
            rewrite_mapv(e);
        }
        fn visit_local_mut(&mut self, local: &mut Local) {
            if let Pat::Type(t) = &local.pat {
                local.pat = (*t.pat).clone();
            }
            syn::visit_mut::visit_local_mut(self, local);
        }
        // Closures inside (`mapv(|x| ...)`) keep their own syntax: their values are duals.
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    }
    let mut body = body.clone();
    Rewriter.visit_block_mut(&mut body);
    body
}
