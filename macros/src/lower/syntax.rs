//! Small helpers over syn: operators, spans, error texts, the list of float methods, and what
//! the syntax passes share (the expressions inside `vec![…]`, patterns without `&`s, renaming).

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{BinOp, Expr, Type};

use super::Want;
use crate::ctxt::msg;
use crate::graph::{Cmp, Fun, Fun2, Kind};
use crate::signature::{float_of, is_int_type};

/// From a `let` pattern's name to the end of its initializer.
pub(super) fn local_span(p: &syn::PatIdent, init: &Expr) -> TokenStream {
    let mut t = p.ident.to_token_stream();
    t.extend(init.to_token_stream());
    t
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

pub(super) fn arith_op(op: &BinOp) -> Option<ArithOp> {
    Some(match op {
        BinOp::Add(_) => ArithOp::Add,
        BinOp::Sub(_) => ArithOp::Sub,
        BinOp::Mul(_) => ArithOp::Mul,
        BinOp::Div(_) => ArithOp::Div,
        BinOp::Rem(_) => ArithOp::Rem,
        _ => return None,
    })
}

pub(super) fn compound_op(op: &BinOp) -> Option<ArithOp> {
    Some(match op {
        BinOp::AddAssign(_) => ArithOp::Add,
        BinOp::SubAssign(_) => ArithOp::Sub,
        BinOp::MulAssign(_) => ArithOp::Mul,
        BinOp::DivAssign(_) => ArithOp::Div,
        BinOp::RemAssign(_) => ArithOp::Rem,
        _ => return None,
    })
}

pub(super) fn comparison(op: &BinOp) -> Option<Cmp> {
    Some(match op {
        BinOp::Lt(_) => Cmp::Lt,
        BinOp::Le(_) => Cmp::Le,
        BinOp::Gt(_) => Cmp::Gt,
        BinOp::Ge(_) => Cmp::Ge,
        BinOp::Eq(_) => Cmp::Eq,
        BinOp::Ne(_) => Cmp::Ne,
        _ => return None,
    })
}

pub(super) fn want_of_kind(k: Kind) -> Want {
    match k {
        Kind::Float => Want::Float,
        Kind::Int => Want::Int,
        Kind::Bool => Want::Bool,
        Kind::Other | Kind::Array => Want::Any,
    }
}

pub(super) fn want_of_type(ty: &Type) -> Want {
    if float_of(ty).is_some() {
        Want::Float
    } else if is_int_type(ty) {
        Want::Int
    } else if matches!(ty, Type::Path(p) if p.path.is_ident("bool")) {
        Want::Bool
    } else {
        Want::Any
    }
}

/// The error for loops, which get their own message (and, later, their own support).
pub(super) fn loop_error(e: &Expr) -> Option<(TokenStream, String)> {
    match e {
        Expr::While(w) => Some((
            w.while_token.to_token_stream(),
            msg(
                "`while` loops cannot be differentiated",
                "the number of iterations must be known from the data: use `for i in 0..n`",
            ),
        )),
        Expr::Loop(l) => Some((
            l.loop_token.to_token_stream(),
            msg(
                "`loop` cannot be differentiated",
                "the number of iterations must be known from the data: use `for i in 0..n`",
            ),
        )),
        Expr::ForLoop(f) => Some((
            f.for_token.to_token_stream(),
            msg(
                "a `for` loop has no value",
                "use the loop as a statement that accumulates into a `let mut` variable, then use the variable",
            ),
        )),
        Expr::Continue(c) => Some((
            c.to_token_stream(),
            msg(
                "`continue` cannot be differentiated here",
                "write it as the last statement of an `if` or of a `match` arm, where the `if` or `match` is a statement of the loop body (`if x[i] < 0.0 { continue; }`), or put the rest of the body under `if`: `if x[i] >= 0.0 { acc += … }`",
            ),
        )),
        Expr::Break(b) => Some((
            b.to_token_stream(),
            msg(
                "`break` cannot be differentiated here",
                "a loop may end with one `break`, the last statement of an `if` without `else` or of a `match` arm, where the `if` or `match` is a statement of the loop body (`if y[i] < 0.0 { break; }`, `match k { 0 => break, _ => … }`, `let v = match k { 0 => break, _ => … };`), not after an `if … { continue; }`; `break` with a value or a label, and a second `break`, are not supported: loop over the range you need (`for i in 0..k`)",
            ),
        )),
        _ => None,
    }
}

/// A short name for an expression's syntax, for error messages.
pub(super) fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::Array(_) => "array expression",
        Expr::Assign(_) => "assignment",
        Expr::Async(_) => "async block",
        Expr::Await(_) => ".await",
        Expr::Break(_) => "break",
        Expr::Closure(_) => "closure",
        Expr::Continue(_) => "continue",
        Expr::Let(_) => "let expression",
        Expr::Macro(_) => "macro call",
        Expr::Range(_) => "range",
        Expr::Reference(_) => "reference",
        Expr::Repeat(_) => "array repeat expression",
        Expr::Struct(_) => "struct literal",
        Expr::Try(_) => "`?` operator",
        Expr::TryBlock(_) => "try block",
        Expr::Tuple(_) => "tuple",
        Expr::Yield(_) => "yield",
        _ => "this expression",
    }
}

/// Tokens printed the way people write them: `xs.len()`, not `xs . len ()`.
pub fn pretty(tokens: &TokenStream) -> String {
    let s = tokens.to_string();
    let chars: Vec<char> = s.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' && i > 0 {
            let (p2, p1, n1, n2) = (
                if i > 1 { at(i - 2) } else { ' ' },
                at(i - 1),
                at(i + 1),
                at(i + 2),
            );
            let tight = matches!(p1, '.' | '(' | '[' | '&' | '!')
                || matches!(n1, '.' | '(' | ')' | '[' | ']' | ',' | '?')
                || (p1 == ':' && p2 == ':')
                || (n1 == ':' && n2 == ':');
            if tight {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Every float method the body may call, from the operation tables (never a list by hand).
pub(crate) fn supported_methods() -> Vec<&'static str> {
    std::iter::once("powi")
        .chain(
            Fun::ALL
                .iter()
                .map(|(_, n)| *n)
                .filter(|n| !n.starts_with("__")),
        )
        .chain(Fun2::ALL.iter().map(|(_, n)| *n))
        .chain(["clamp", "mul_add"])
        .collect()
}

/// How an expression reads nested data: what its error names.
pub(super) enum Nested {
    /// `inputs[k][0]`
    Index,
    /// `data.xs[i]`
    Field,
}

/// `inputs[k][0]` or `data.xs[i]` in `e`.
pub(super) fn nested_access(e: &Expr) -> Option<Nested> {
    struct Finder(Option<Nested>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
            let mut base = &*ix.expr;
            while let Expr::Paren(p) = base {
                base = &p.expr;
            }
            match base {
                Expr::Index(_) if self.0.is_none() => self.0 = Some(Nested::Index),
                Expr::Field(_) if self.0.is_none() => self.0 = Some(Nested::Field),
                _ => {}
            }
            syn::visit::visit_expr_index(self, ix);
        }
    }
    let mut f = Finder(None);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// Whether `method` of a slice or `Vec` changes it in place or lends its elements mutably
/// (`fill`, `swap`, `iter_mut`, `split_at_mut`, …).
pub(super) fn is_mut_view(method: &str) -> bool {
    const METHODS: [&str; 36] = [
        "iter_mut",
        "chunks_mut",
        "chunks_exact_mut",
        "rchunks_mut",
        "split_at_mut",
        "split_first_mut",
        "split_last_mut",
        "first_mut",
        "last_mut",
        "get_mut",
        "as_mut_slice",
        "as_mut",
        "fill",
        "fill_with",
        "swap",
        "reverse",
        "sort",
        "sort_by",
        "sort_by_key",
        "sort_unstable",
        "sort_unstable_by",
        "rotate_left",
        "rotate_right",
        "copy_from_slice",
        "clone_from_slice",
        "copy_within",
        "clear",
        "truncate",
        "resize",
        "extend",
        "extend_from_slice",
        "insert",
        "remove",
        "pop",
        "retain",
        "swap_remove",
    ];
    METHODS.contains(&method)
}

/// `vec![v; n]`'s value and length, parsed from the macro's tokens.
pub(super) fn vec_repeat(m: &syn::Macro) -> Option<(Expr, Expr)> {
    m.parse_body_with(|input: syn::parse::ParseStream| {
        let v: Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let n: Expr = input.parse()?;
        Ok((v, n))
    })
    .ok()
}

/// Runs `pass` over the expressions of `vec![a, b, …]` or `vec![v; n]` (tokens to the parser),
/// writing the macro's tokens back from them; any other macro is left as it is. The syntax
/// passes call it from `visit_expr_macro_mut`, so that they reach inside `vec![…]`.
pub(super) fn in_vec_macro(pass: &mut impl syn::visit_mut::VisitMut, m: &mut syn::ExprMacro) {
    use syn::parse::Parser;
    use syn::punctuated::Punctuated;
    if !m.mac.path.is_ident("vec") {
        return;
    }
    if let Some((mut v, n)) = vec_repeat(&m.mac) {
        pass.visit_expr_mut(&mut v);
        m.mac.tokens = quote::quote!(#v; #n);
    } else if let Ok(mut elems) =
        Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(m.mac.tokens.clone())
    {
        for e in &mut elems {
            pass.visit_expr_mut(e);
        }
        m.mac.tokens = quote::quote!(#elems);
    }
}

/// `pat` without the `&`s (and types, parentheses, `ref` and `mut`) around it and its parts.
pub(super) fn strip_refs(pat: &syn::Pat) -> syn::Pat {
    use syn::Pat;
    match pat {
        Pat::Reference(r) => strip_refs(&r.pat),
        Pat::Type(t) => strip_refs(&t.pat),
        Pat::Paren(p) => strip_refs(&p.pat),
        Pat::Tuple(t) => {
            let mut t = t.clone();
            for e in &mut t.elems {
                *e = strip_refs(e);
            }
            Pat::Tuple(t)
        }
        Pat::Ident(p) => {
            let mut p = p.clone();
            p.by_ref = None;
            p.mutability = None;
            Pat::Ident(p)
        }
        other => other.clone(),
    }
}

/// Renames each plain name of `.0` (read, or bound by a pattern) to its new name, keeping the
/// span of each occurrence.
pub(super) struct Renamed(pub(super) Vec<(String, String)>);

impl Renamed {
    fn to(&self, id: &syn::Ident) -> Option<syn::Ident> {
        self.0
            .iter()
            .find(|(from, _)| id == from)
            .map(|(_, to)| syn::Ident::new(to, id.span()))
    }
}

impl syn::visit_mut::VisitMut for Renamed {
    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        if let Some(to) = self.to(&p.ident) {
            p.ident = to;
        }
    }
    fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
        if p.qself.is_none()
            && p.path.segments.len() == 1
            && let Some(seg) = p.path.segments.first_mut()
            && let Some(to) = self.to(&seg.ident)
        {
            seg.ident = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::supported_methods;
    use crate::testing::lower_body;

    /// The help's list of float methods is exactly what the lowering accepts: every listed method
    /// lowers, and the ones a user meets most (`floor`, `fract`, …) are listed.
    #[test]
    fn every_listed_method_lowers() {
        let listed = supported_methods();
        for m in &listed {
            let args = match *m {
                "powi" => "2",
                "clamp" | "mul_add" => "y, w",
                "powf" | "log" | "atan2" | "hypot" | "max" | "min" => "y",
                _ => "",
            };
            lower_body(&format!("x.{m}({args})"));
        }
        for m in [
            "floor", "ceil", "round", "trunc", "fract", "powf", "mul_add", "signum",
        ] {
            assert!(listed.contains(&m), "`{m}` missing from {listed:?}");
        }
        assert!(listed.iter().all(|m| !m.starts_with('_')), "{listed:?}");
    }
}
