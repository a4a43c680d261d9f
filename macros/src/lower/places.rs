//! Elements lent by `iter_mut` as index loops: a syntax pass run before lowering, so that
//! every later pass sees the element writes a person would write with an index.
//!
//! ```text
//! for zi in z.iter_mut().skip(1).rev() { *zi *= w; }
//!   => for zi in (0 + 1..z.len()).rev() { z[zi] *= w; }
//! for zi in &mut z { *zi = zi.max(0.0); }   => for zi in (0..z.len()) { z[zi] = z[zi].max(0.0); }
//! z.iter_mut().for_each(|zi| *zi *= s);     => for zi in (0..z.len()) { z[zi] *= s; }
//! for (i, zi) in z.iter_mut().enumerate() { *zi = x[i] * w; }
//!   => for (at, (i, zi)) in (0..z.len()).enumerate().enumerate() { z[at] = x[i] * w; }
//! for (zi, &xi) in z.iter_mut().zip(x) { *zi += xi; }
//!   => for (at, (zi, &xi)) in (0..z.len()).zip(x).enumerate() { z[at] += xi; }
//! z.fill(v);                                => { let f = v; for i in 0..z.len() { z[i] = f; } }
//! ```
//!
//! A loop binding the element alone runs over its indices under the element's name; one
//! binding a pattern counts the chain of indices, and the count is the element's index (no
//! `skip` or `rev` there: reported). Either way the loop writes at its own index, as the
//! lowering requires. The body reads and writes the element through it: `*zi` and a method
//! called on `zi` become `z[at]` (or `z[zi]`). What
//! else the body does with `zi` (hands it on, binds it to another name), or a body that binds
//! `zi` or `z` again, is reported: the rewrite would no longer mean the same.

use proc_macro2::Span;
use quote::ToTokens;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat};

use crate::ctxt::{Ctxt, msg};

/// `body` with the loops over `iter_mut()` (and `&mut z`, `for_each`, `fill`) written over
/// indices; errors about what cannot be rewritten are reported to `cx`.
pub(super) fn index_places(cx: &Ctxt, body: &syn::Block) -> syn::Block {
    let mut body = body.clone();
    Places { cx }.visit_block_mut(&mut body);
    body
}

struct Places<'a> {
    cx: &'a Ctxt,
}

impl VisitMut for Places<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        // Inner loops first: their rewrite is what the outer one sees.
        syn::visit_mut::visit_expr_mut(self, e);
        if let Some(rewritten) = self.rewrite(e) {
            *e = rewritten;
        }
    }
}

impl Places<'_> {
    fn rewrite(&self, e: &Expr) -> Option<Expr> {
        match e {
            Expr::MethodCall(m) if m.method == "for_each" && m.args.len() == 1 => {
                let Some(Expr::Closure(c)) = m.args.first() else {
                    return None;
                };
                let (Some(pat), 1) = (c.inputs.first(), c.inputs.len()) else {
                    return None;
                };
                let iter = &m.receiver;
                let body = &c.body;
                let desugared: syn::ExprForLoop = syn::parse_quote_spanned! {m.method.span()=>
                    for #pat in #iter { #body; }
                };
                // (A `for_each` over another iterator is the same loop; only over lent
                // elements is it rewritten.)
                self.for_loop(&desugared).map(Expr::ForLoop)
            }
            Expr::ForLoop(f) => self.for_loop(f).map(Expr::ForLoop),
            Expr::MethodCall(m) if m.method == "fill" && m.args.len() == 1 => {
                let Expr::Path(z) = &*m.receiver else {
                    return None;
                };
                let value = m.args.first()?;
                let (v, i) = (
                    syn::Ident::new("__symgrad_fill", Span::mixed_site()),
                    syn::Ident::new("__symgrad_fill_at", Span::mixed_site()),
                );
                Some(syn::parse_quote_spanned! {m.method.span()=>
                    {
                        let #v = #value;
                        for #i in 0..#z.len() {
                            #z[#i] = #v;
                        }
                    }
                })
            }
            _ => None,
        }
    }

    /// The loop with its lent elements as indices, or `None` where it lends none. A loop
    /// whose rewrite is reported becomes an empty loop over the indices (the report says why;
    /// nothing else about it is).
    ///
    /// A loop binding the element alone (`for zi in z.iter_mut()`, also after `skip`, `take`,
    /// `rev`) runs over its indices under the same name (`for zi in (k..z.len()).rev()`); one
    /// binding a pattern (`enumerate`, `zip`) runs over the same chain of indices, counted
    /// (`for (__at, (i, zi)) in (0..z.len()).enumerate().enumerate()`): the count is the
    /// element's index where nothing in the chain moves it (no `skip` or `rev`, reported).
    fn for_loop(&self, f: &syn::ExprForLoop) -> Option<syn::ExprForLoop> {
        let mut places = Vec::new();
        let mut moved = None;
        let source = lent(&f.expr, &mut Vec::new(), &mut places, &mut moved)?;
        let mut out = f.clone();
        out.expr = Box::new(source);
        let plain = match (&*f.pat, places.as_slice()) {
            (Pat::Ident(p), [(_, path)])
                if path.is_empty() && p.by_ref.is_none() && p.subpat.is_none() =>
            {
                Some(p.ident.clone())
            }
            _ => None,
        };
        let rewritten = match (plain, moved) {
            (Some(name), _) => {
                let (array, _) = &places[0];
                self.through_index(&mut out.body, array, &name, &name)
            }
            (None, Some(adaptor)) => {
                self.cx.error_spanned_by(
                    &adaptor,
                    msg(
                        format!("the elements `iter_mut` lends are bound by a pattern after `{}`, which moves them from their index", adaptor.method),
                        "bind the element alone (`for zi in z.iter_mut().skip(1)`), or loop over the indices: `for i in 1..z.len() { z[i] = …; }`",
                    ),
                );
                None
            }
            (None, None) => {
                // The user's own count where the chain ends with `enumerate` (the name the
                // body's other writes at the loop's index use); a count of our own otherwise.
                let at = match counted(f) {
                    Some(count) => count,
                    None => {
                        let at = syn::Ident::new("__symgrad_at", Span::mixed_site());
                        let (pat, chain) = (&f.pat, &out.expr);
                        out.pat = Box::new(syn::parse_quote! { (#at, #pat) });
                        out.expr = Box::new(syn::parse_quote! { #chain.enumerate() });
                        at
                    }
                };
                self.elements_through_indices(f, &mut out, places, &at)
            }
        };
        if rewritten.is_none() {
            out.body.stmts.clear();
        }
        Some(out)
    }

    /// Rewrites the body of `out` (the loop `f` over indices, counted as `at`) for each lent
    /// array and the path to its item in the pattern; `None` where that is reported.
    fn elements_through_indices(
        &self,
        f: &syn::ExprForLoop,
        out: &mut syn::ExprForLoop,
        places: Vec<(syn::ExprPath, Vec<usize>)>,
        at: &syn::Ident,
    ) -> Option<()> {
        for (array, path) in places {
            let name = match bound_at(&f.pat, &path) {
                Bound::Name(name) => name,
                Bound::Ignored => continue,
                Bound::Other => {
                    let z = array.to_token_stream();
                    self.cx.error_spanned_by(
                        &f.pat,
                        msg(
                            format!("the elements `{z}.iter_mut()` lends are bound by a pattern that does not name them"),
                            "bind each element to a name (`for zi in z.iter_mut()`, `for (i, zi) in z.iter_mut().enumerate()`) and write it as `*zi`",
                        ),
                    );
                    return None;
                }
            };
            self.through_index(&mut out.body, &array, &name, at)?;
        }
        Some(())
    }

    /// Rewrites `*name` and `name.method(…)` in `body` to `array[index]`; reports any other
    /// use of `name`, and a body that binds `name` or the array's name again.
    fn through_index(
        &self,
        body: &mut syn::Block,
        array: &syn::ExprPath,
        name: &syn::Ident,
        index: &syn::Ident,
    ) -> Option<()> {
        let array_name = array.path.get_ident()?.clone();
        let mut rebinds = Rebinds {
            names: [name, &array_name],
            found: None,
        };
        rebinds.visit_block(body);
        if let Some(ident) = rebinds.found {
            self.cx.error_spanned_by(
                &ident,
                msg(
                    format!("`{ident}` is bound again in the body of a loop over the elements of `{array_name}` lent by `iter_mut`"),
                    format!("give it another name, so that `*{name}` stays the element of `{array_name}`"),
                ),
            );
            return None;
        }
        let mut through = Through {
            array,
            name,
            index,
            stray: None,
        };
        through.visit_block_mut(body);
        if let Some(stray) = through.stray {
            self.cx.error_spanned_by(
                &stray,
                msg(
                    format!("`{name}` is an element of `{array_name}` lent by `iter_mut`, used here other than as `*{name}`"),
                    format!("read and write the element as `*{name}` (`*{name} = …`, `*{name} += …`, `(*{name}).exp()`), or loop over the indices: `for i in 0..{array_name}.len() {{ {array_name}[i] = …; }}`"),
                ),
            );
            return None;
        }
        Some(())
    }
}

/// The source `e` with each lent `z.iter_mut()` (or `&mut z`) replaced by `(0..z.len())`,
/// collecting per array the path to its item in the loop's pattern (`1` the second of a pair:
/// `enumerate`'s, a `zip`'s argument), and in `moved` a `skip` or `rev` that moves the items
/// from their index (a `skip` right after the lent array is its range's start, `(k..z.len())`).
/// `None` where `e` lends nothing, or through `step_by` (left to be reported as lowered).
fn lent(
    e: &Expr,
    path: &mut Vec<usize>,
    places: &mut Vec<(syn::ExprPath, Vec<usize>)>,
    moved: &mut Option<syn::ExprMethodCall>,
) -> Option<Expr> {
    let indices = |z: &syn::ExprPath, span: Span| -> Expr {
        syn::parse_quote_spanned! {span=> (0..#z.len()) }
    };
    match e {
        Expr::Paren(p) => lent(&p.expr, path, places, moved),
        Expr::Reference(r) if r.mutability.is_some() => match &*r.expr {
            Expr::Path(z) if z.path.get_ident().is_some() => {
                places.push((z.clone(), path.clone()));
                Some(indices(z, r.and_token.span))
            }
            _ => None,
        },
        Expr::MethodCall(m) => {
            let method = m.method.to_string();
            let rebuilt = |receiver: Expr| {
                let mut out = m.clone();
                out.receiver = Box::new(receiver);
                Expr::MethodCall(out)
            };
            match (method.as_str(), &*m.receiver, m.args.len()) {
                ("iter_mut", Expr::Path(z), 0) if z.path.get_ident().is_some() => {
                    places.push((z.clone(), path.clone()));
                    Some(indices(z, m.method.span()))
                }
                ("enumerate", receiver, 0) => {
                    path.push(1);
                    let inner = lent(receiver, path, places, moved);
                    path.pop();
                    inner.map(rebuilt)
                }
                ("zip", receiver, 1) => {
                    path.push(0);
                    let first = lent(receiver, path, places, moved);
                    path.pop();
                    path.push(1);
                    let second = m.args.first().and_then(|a| lent(a, path, places, moved));
                    path.pop();
                    if first.is_none() && second.is_none() {
                        return None;
                    }
                    let mut out = m.clone();
                    if let Some(first) = first {
                        out.receiver = Box::new(first);
                    }
                    if let (Some(second), Some(arg)) = (second, out.args.first_mut()) {
                        *arg = second;
                    }
                    Some(Expr::MethodCall(out))
                }
                ("skip", receiver, 1) => {
                    let inner = lent(receiver, path, places, moved)?;
                    moved.get_or_insert_with(|| m.clone());
                    // The lent array itself skipped: its indices from further on.
                    if let (Expr::Paren(p), Some(k)) = (&inner, m.args.first())
                        && let Expr::Range(r) = &*p.expr
                        && let (Some(from), Some(to), syn::RangeLimits::HalfOpen(_)) =
                            (&r.start, &r.end, &r.limits)
                    {
                        return Some(syn::parse_quote_spanned! {m.method.span()=>
                            (#from + #k..#to)
                        });
                    }
                    Some(rebuilt(inner))
                }
                ("rev", receiver, 0) => {
                    let inner = lent(receiver, path, places, moved)?;
                    moved.get_or_insert_with(|| m.clone());
                    Some(rebuilt(inner))
                }
                ("take", receiver, 1) => lent(receiver, path, places, moved).map(rebuilt),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The name loop `f` binds `enumerate`'s count to, where its source ends with `.enumerate()`
/// (then perhaps `take`, which keeps each item's count) and its pattern is `(count, …)`.
fn counted(f: &syn::ExprForLoop) -> Option<syn::Ident> {
    let mut e = &*f.expr;
    while let Expr::MethodCall(m) = e
        && m.method == "take"
    {
        e = &m.receiver;
    }
    let Expr::MethodCall(m) = e else {
        return None;
    };
    let Pat::Tuple(t) = &*f.pat else {
        return None;
    };
    match t.elems.first() {
        Some(Pat::Ident(p))
            if m.method == "enumerate"
                && m.args.is_empty()
                && p.by_ref.is_none()
                && p.subpat.is_none() =>
        {
            Some(p.ident.clone())
        }
        _ => None,
    }
}

/// What a loop's pattern does with a lent element.
enum Bound {
    /// Binds it to a name.
    Name(syn::Ident),
    /// Ignores it (`_`).
    Ignored,
    /// Anything else (`&mut v`, a reference pattern): not read as the element.
    Other,
}

/// What `pat` binds at `path` (through tuples).
fn bound_at(pat: &Pat, path: &[usize]) -> Bound {
    match (pat, path.split_first()) {
        (Pat::Paren(p), _) => bound_at(&p.pat, path),
        (Pat::Wild(_), None) => Bound::Ignored,
        (Pat::Ident(p), None) if p.by_ref.is_none() && p.subpat.is_none() => {
            Bound::Name(p.ident.clone())
        }
        (Pat::Tuple(t), Some((&k, rest))) if t.elems.len() == 2 => bound_at(&t.elems[k], rest),
        _ => Bound::Other,
    }
}

/// Finds a pattern (a `let`, a closure's parameter, a loop's, an arm's) binding one of `names`.
struct Rebinds<'a> {
    names: [&'a syn::Ident; 2],
    found: Option<syn::Ident>,
}

impl<'ast> Visit<'ast> for Rebinds<'_> {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        if self.found.is_none() && self.names.contains(&&p.ident) {
            self.found = Some(p.ident.clone());
        }
        syn::visit::visit_pat_ident(self, p);
    }
}

/// The span of the first token of `e` (the element's name, where the rewritten read points).
fn first_span(e: &Expr) -> Span {
    e.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// Rewrites `*name` and `name.method(…)` to `array[index]`, noting the first other use.
struct Through<'a> {
    array: &'a syn::ExprPath,
    name: &'a syn::Ident,
    index: &'a syn::Ident,
    stray: Option<syn::ExprPath>,
}

impl Through<'_> {
    fn is_name(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name))
    }

    fn element(&self, span: Span) -> Expr {
        let (array, index) = (self.array, self.index);
        syn::parse_quote_spanned! {span=> #array[#index] }
    }
}

impl VisitMut for Through<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && self.is_name(&u.expr) => {
                *e = self.element(first_span(&u.expr));
            }
            Expr::MethodCall(m) if self.is_name(&m.receiver) => {
                *m.receiver = self.element(first_span(&m.receiver));
                for arg in &mut m.args {
                    self.visit_expr_mut(arg);
                }
            }
            Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name) => {
                if self.stray.is_none() {
                    self.stray = Some(p.clone());
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::index_places;
    use crate::ctxt::Ctxt;

    /// The body `src` after the pass, as tokens printed (spaces between them), and whether it
    /// reported an error.
    fn rewritten(src: &str) -> (String, bool) {
        let cx = Ctxt::new();
        let body: syn::Block = syn::parse_str(src).expect("internal error: test body parses");
        let out = index_places(&cx, &body).to_token_stream().to_string();
        (out, cx.check().is_err())
    }

    /// Asserts the pass rewrites `src` to `want` (tokens printed) without an error.
    fn assert_rewrites(src: &str, want: &str) {
        let (out, failed) = rewritten(src);
        assert!(!failed, "{src}");
        assert_eq!(out, want);
    }

    #[test]
    fn an_element_bound_alone_runs_over_its_indices_under_its_name() {
        assert_rewrites(
            "{ for zi in z.iter_mut().skip(1).rev() { *zi *= zi.exp(); } }",
            "{ for zi in (0 + 1 .. z . len ()) . rev () { z [zi] *= z [zi] . exp () ; } }",
        );
    }

    #[test]
    fn a_counted_element_is_written_at_the_users_count() {
        assert_rewrites(
            "{ for (i, zi) in z.iter_mut().enumerate().take(2) { *zi = x[i]; h[i] += *zi; } }",
            "{ for (i , zi) in (0 .. z . len ()) . enumerate () . take (2) { z [i] = x [i] ; h [i] += z [i] ; } }",
        );
    }

    #[test]
    fn a_zipped_element_is_written_at_a_count_of_its_own() {
        assert_rewrites(
            "{ x.iter().zip(z.iter_mut()).for_each(|(&xi, zi)| *zi += xi); }",
            "{ for (__symgrad_at , (& xi , zi)) in x . iter () . zip ((0 .. z . len ())) . enumerate () { z [__symgrad_at] += xi ; } ; }",
        );
    }

    #[test]
    fn fill_is_a_loop_over_the_indices_of_one_value() {
        assert_rewrites(
            "{ z.fill(w * 2.0); }",
            "{ { let __symgrad_fill = w * 2.0 ; for __symgrad_fill_at in 0 .. z . len () { z [__symgrad_fill_at] = __symgrad_fill ; } } ; }",
        );
    }

    #[test]
    fn other_uses_of_the_element_and_rebinding_are_reported_and_the_loop_emptied() {
        for src in [
            "{ for zi in z.iter_mut() { let e = zi; *e = 1.0; } }",
            "{ for zi in z.iter_mut() { let z = 2.0; *zi = z; } }",
            "{ for (i, zi) in z.iter_mut().rev().enumerate() { *zi = x[i]; } }",
            "{ for (i, &mut v) in z.iter_mut().enumerate() { s += v; } }",
        ] {
            let (out, failed) = rewritten(src);
            assert!(failed, "{src}");
            assert!(out.contains("{ }"), "{src}: {out}");
        }
    }

    #[test]
    fn loops_lending_nothing_are_left_as_written() {
        let src = "{ for (i, v) in x.iter().enumerate() { s += v * w[i]; } x.iter().for_each(|v| f(v)); }";
        let (out, failed) = rewritten(src);
        assert!(!failed);
        let body: syn::Block = syn::parse_str(src).expect("internal error: test body parses");
        assert_eq!(out, body.to_token_stream().to_string());
    }
}
