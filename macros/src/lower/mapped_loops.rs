//! A `for` loop over a chain ending in `map`, as the loop over the chain before it: a syntax
//! pass run before lowering. Each item is mapped where the loop's body starts.
//!
//! ```text
//! for v in x.iter().map(|e| e * w) { s += v.exp(); }
//!   => for e in x.iter() { let v = e * w; s += v.exp(); }
//! for (u, t) in x.iter().zip(y).map(|(a, b)| (a * b, a + b)).map(|(p, q)| (p, q * q)) { … }
//!   => for (a, b) in x.iter().zip(y) { let (p, q) = (a * b, a + b); let (u, t) = (p, q * q); … }
//! ```
//!
//! Only a closure written in the `map` is taken (its parameter is the loop's pattern, its body
//! the item); a `map` of a function's name, or a `map` followed by other adaptors, stays as
//! written, for the lowering to report. So does a closure that `return`s (its `return` would
//! leave the function here), and one whose parameter's names the loop's body reads (they would
//! hide the variables the body reads by them).

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

/// Writes every `for pat in chain.map(|p| e) { … }` of `body` over `chain`.
pub(super) fn rewrite(body: &mut syn::Block) {
    Mapped.visit_block_mut(body);
}

struct Mapped;

impl VisitMut for Mapped {
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        // Inside first: loops in the body, and closures of the chain.
        syn::visit_mut::visit_expr_for_loop_mut(self, f);
        while let Expr::MethodCall(m) = &*f.expr
            && m.method == "map"
            && m.args.len() == 1
            && let Some(Expr::Closure(c)) = m.args.first()
            && c.inputs.len() == 1
            && !super::tuple_folds::returns(&c.body)
        {
            // The closure's names that the body reads as other variables are renamed in the
            // closure (`|e| e * 2.0` beside a parameter `e`: `|__symgrad_map_e| …`), where it
            // does not bind them again; otherwise the loop stays as written.
            let hidden = hidden(&c.inputs[0], &f.pat, &f.body);
            let mut c = c.clone();
            if !hidden.is_empty() {
                let rebound = super::loops::names_bound_in(&c.body);
                if hidden.iter().any(|n| rebound.contains(n)) {
                    break;
                }
                let renamed = hidden
                    .into_iter()
                    .map(|n| (n.clone(), format!("__symgrad_map_{n}")))
                    .collect();
                let mut rename = super::syntax::Renamed(renamed);
                rename.visit_pat_mut(&mut c.inputs[0]);
                rename.visit_expr_mut(&mut c.body);
            }
            let param = super::tuple_folds::untyped(&c.inputs[0]).clone();
            let item = &*f.pat;
            let value = &c.body;
            let bind: Stmt = syn::parse_quote!(let #item = #value;);
            let receiver = (*m.receiver).clone();
            f.body.stmts.insert(0, bind);
            *f.pat = param;
            *f.expr = receiver;
        }
    }
}

/// The names `param` binds that, bound in `body`, would hide what `body` reads by them: those
/// the loop's pattern `item` does not bind again before it.
fn hidden(param: &syn::Pat, item: &syn::Pat, body: &syn::Block) -> Vec<String> {
    let again = super::loops::pattern_names(item);
    let names: Vec<String> = super::loops::pattern_names(param)
        .into_iter()
        .filter(|n| !again.contains(n))
        .collect();
    let body = Expr::Block(syn::ExprBlock {
        attrs: Vec::new(),
        label: None,
        block: body.clone(),
    });
    names
        .into_iter()
        .filter(|n| super::loops::mentions_any(&body, std::slice::from_ref(n)))
        .collect()
}
