//! nalgebra's vectors and matrices in a body, rewritten to the flat indexing of slices before
//! lowering. A nalgebra parameter is a slice parameter whose elements are its column-major
//! storage (what `as_slice()` gives), so the generated code indexes it as nalgebra does
//! (`Index<usize>` is column-major too) and its gradient field has the parameter's type.
//!
//! ```text
//! // Input (m: Matrix3<f64>, v: Vector3<f64>, d: &DVector<f64>):   // Lowered as:
//! m[(i, j)]                          m[(i) + (3) * (j)]  (in `for i in 0..3`; `j ≥ 3` is past the end)
//! m[(r, j)]                          m[(r) + (3) * (j) + (3) * (3) * ((r) / (3))]  (`r ≥ 3` past it too)
//! d[(i, 0)]                          d[(i) + d.len() * (0)]
//! v.x, v.y, v.z                      v[0], v[1], v[2]
//! v.dot(&w)                          v.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f64>()
//! v.norm_squared(), v.norm()         v.iter().map(|a| a * a).sum::<f64>(), (…).sqrt()
//! m.nrows(), m.ncols()               3, 3
//! Vector2::new(r0, r1)               [r0, r1]
//! SVector::<f64, 2>::from([r0, r1])  [r0, r1]
//! Vector2::from(std::array::from_fn(…)) std::array::from_fn(…)
//! ```
//!
//! The macro sees tokens only: it knows the types by name (see `signature::nalgebra_of`).

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Member, parse_quote};

use crate::ctxt::{Ctxt, msg};
use crate::signature::{Nalgebra, Sig, SliceGrad, float_of, slice_of};

/// What the rewrite knows of a name: its rows (`None` if dynamic) and columns, whether it is a
/// vector, and its float type.
struct Shape {
    rows: Option<Expr>,
    cols: Expr,
    vector: bool,
    float: TokenStream,
}

impl Shape {
    fn of(n: &Nalgebra) -> Shape {
        let float = crate::companion::float_tokens(n.float);
        Shape {
            rows: n.rows.clone(),
            cols: n.cols.clone(),
            vector: n.is_vector(),
            float,
        }
    }
}

/// `body` with nalgebra's indexing, fields, methods and constructors rewritten (see the module
/// docs); borrowed unchanged when the function has no nalgebra parameter or result.
/// Arithmetic on a whole vector or matrix (`a * x`, `v - w`) is reported: the body reads
/// elements.
pub fn rewrite<'b>(
    cx: &Ctxt,
    sig: &Sig,
    returns_nalgebra: bool,
    body: &'b Block,
) -> std::borrow::Cow<'b, Block> {
    let shapes: HashMap<String, Shape> = sig
        .params
        .iter()
        .filter_map(|p| match slice_of(&p.ty) {
            Some((_, SliceGrad::Nalgebra(n))) => Some((p.ident.to_string(), Shape::of(&n))),
            _ => None,
        })
        .collect();
    if shapes.is_empty() && !returns_nalgebra {
        return std::borrow::Cow::Borrowed(body);
    }
    let float = crate::companion::float_tokens(sig.float);
    let mut body = body.clone();
    Rewrite {
        cx,
        shapes,
        float,
        bounds: Vec::new(),
    }
    .visit_block_mut(&mut body);
    std::borrow::Cow::Owned(body)
}

struct Rewrite<'c> {
    cx: &'c Ctxt,
    shapes: HashMap<String, Shape>,
    float: TokenStream,
    /// The names in scope that are indices of `for i in 0..n` (`n` a literal): `Some(n)`, an
    /// upper bound; `None` for a name a `let` shadows.
    bounds: Vec<(String, Option<u128>)>,
}

/// The name an expression is, if it is a plain path of one segment.
fn name_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        Expr::Paren(p) => name_of(&p.expr),
        Expr::Reference(r) => name_of(&r.expr),
        _ => None,
    }
}

/// `Vector3`, `SVector`, `RowVector2`, …: a nalgebra vector type's name.
fn is_vector_type(name: &str) -> bool {
    let sized = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| n.len() == 1 && ("1"..="6").contains(&n))
    };
    name == "SVector" || name == "RowSVector" || sized("Vector") || sized("RowVector")
}

/// The elements of a nalgebra vector constructor, `Vector2::new(a, b)` or
/// `SVector::<f64, 2>::from([a, b])`, as an array expression (`from`'s argument, which must be
/// an array for the original function to compile).
fn constructed_vector(e: &Expr) -> Option<Expr> {
    let Expr::Call(call) = e else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let [.., ty, method] = segs.as_slice() else {
        return None;
    };
    if !is_vector_type(&ty.ident.to_string()) {
        return None;
    }
    let args = &call.args;
    match method.ident.to_string().as_str() {
        "new" => Some(parse_quote!([#args])),
        "from" if args.len() == 1 => args.first().cloned(),
        _ => None,
    }
}

/// The names a pattern binds.
fn collect_names(p: &syn::Pat, out: &mut Vec<String>) {
    struct Names<'o>(&'o mut Vec<String>);
    impl syn::visit::Visit<'_> for Names<'_> {
        fn visit_pat_ident(&mut self, i: &syn::PatIdent) {
            self.0.push(i.ident.to_string());
        }
    }
    syn::visit::Visit::visit_pat(&mut Names(out), p);
}

/// An integer literal's value.
fn literal(e: &Expr) -> Option<u128> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse().ok(),
        Expr::Paren(p) => literal(&p.expr),
        _ => None,
    }
}

const COORDS: [&str; 6] = ["x", "y", "z", "w", "a", "b"];

impl Rewrite<'_> {
    fn shape(&self, e: &Expr) -> Option<&Shape> {
        self.shapes.get(&name_of(e)?)
    }

    /// `m[(r, c)]` → `m[(r) + R * (c)]`, with `+ R·C·(r / R)` when `r` may be `R` or more, so
    /// that the flat index is out of range exactly where nalgebra's `(r, c)` panics (`c ≥ C`
    /// already puts it past `R·C`). A literal `r ≥ R` or `c ≥ C` is reported.
    fn index(&self, e: &syn::ExprIndex) -> Option<Expr> {
        let shape = self.shape(&e.expr)?;
        let Expr::Tuple(t) = &*e.index else {
            return None;
        };
        let [r, c] = [t.elems.first()?, t.elems.get(1)?];
        if t.elems.len() != 2 {
            return None;
        }
        let base = &e.expr;
        let Some(rows) = &shape.rows else {
            // `DVector`: one column of `len()` rows; `r ≥ len()` or `c ≥ 1` is past the end.
            return Some(parse_quote!(#base[(#r) + #base.len() * (#c)]));
        };
        let cols = &shape.cols;
        let mut in_range = true;
        for (what, at, count) in [("row", r, rows), ("column", c, cols)] {
            if let (Some(at), Some(count)) = (literal(at), literal(count))
                && at >= count
            {
                in_range = false;
                self.cx.error_spanned_by(
                    &e.index,
                    msg(
                        format!("{what} {at} is out of range for a matrix with {count} {what}s: nalgebra panics here"),
                        format!("index {what}s 0 to {}", count.saturating_sub(1)),
                    ),
                );
            }
        }
        let below = literal(r).map(|at| at + 1).or_else(|| {
            let name = name_of(r)?;
            self.bounds.iter().rev().find(|(n, _)| *n == name)?.1
        });
        let row_known = matches!((below, literal(rows)), (Some(end), Some(count)) if end <= count);
        if row_known || !in_range {
            return Some(parse_quote!(#base[(#r) + (#rows) * (#c)]));
        }
        Some(parse_quote!(#base[(#r) + (#rows) * (#c) + (#rows) * (#cols) * ((#r) / (#rows))]))
    }

    /// `v.x` → `v[0]`, for a vector.
    fn field(&self, e: &syn::ExprField) -> Option<Expr> {
        let shape = self.shape(&e.base)?;
        let Member::Named(field) = &e.member else {
            return None;
        };
        let k = COORDS.iter().position(|c| field == c)?;
        let base = &e.base;
        shape.vector.then(|| parse_quote!(#base[#k]))
    }

    fn method(&self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let shape = self.shape(&m.receiver)?;
        let v = &m.receiver;
        let float = &shape.float;
        let squares: Expr = parse_quote!(#v.iter().map(|__na_a| __na_a * __na_a).sum::<#float>());
        let no_args = m.args.is_empty();
        match m.method.to_string().as_str() {
            "dot" if m.args.len() == 1 => {
                let w = m.args.first()?;
                let w = match w {
                    Expr::Reference(r) => &*r.expr,
                    other => other,
                };
                Some(
                    parse_quote!(#v.iter().zip(#w.iter()).map(|(__na_a, __na_b)| __na_a * __na_b).sum::<#float>()),
                )
            }
            "norm_squared" if no_args => Some(squares),
            "norm" if no_args => Some(parse_quote!((#squares).sqrt())),
            "sum" if no_args => Some(parse_quote!(#v.iter().sum::<#float>())),
            "nrows" if no_args => Some(match &shape.rows {
                Some(rows) => parse_quote!((#rows)),
                None => parse_quote!(#v.len()),
            }),
            "ncols" if no_args => {
                let cols = &shape.cols;
                Some(parse_quote!((#cols)))
            }
            _ => None,
        }
    }

    /// `a * x`, `v - w`, `-v`, or a method called on one (`(a * x).norm()`): the arithmetic.
    fn whole_arithmetic<'e>(&self, e: &'e Expr) -> Option<&'e Expr> {
        match e {
            Expr::Binary(b) if self.shape(&b.left).is_some() || self.shape(&b.right).is_some() => {
                Some(e)
            }
            Expr::Unary(u)
                if self.shape(&u.expr).is_some() && !matches!(u.op, syn::UnOp::Deref(_)) =>
            {
                Some(e)
            }
            Expr::MethodCall(m) => self.whole_arithmetic(&m.receiver),
            Expr::Paren(p) => self.whole_arithmetic(&p.expr),
            _ => None,
        }
    }

    fn replace(&self, e: &Expr) -> Option<Expr> {
        match e {
            Expr::Index(i) => self.index(i),
            Expr::Field(f) => self.field(f),
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(_) => constructed_vector(e),
            _ => None,
        }
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Some(whole) = self.whole_arithmetic(e) {
            let text = crate::lower::pretty(&whole.to_token_stream());
            self.cx.error_spanned_by(
                whole,
                msg(
                    format!("arithmetic on whole nalgebra vectors or matrices (`{text}`) is not differentiated"),
                    "read the elements and write the loop: `for j in 0..3 { ax += a[(i, j)] * x[j]; }` for a matrix product, `v[i] - w[i]` for a difference, or `p.dot(&q)`, `p.norm()`, `p.norm_squared()`",
                ),
            );
            *e = parse_quote!(0.0);
            return;
        }
        if let Some(new) = self.replace(e) {
            *e = new;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    /// `for i in 0..n` bounds `i` below `n` in its body.
    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        for attr in &mut f.attrs {
            self.visit_attribute_mut(attr);
        }
        self.visit_expr_mut(&mut f.expr);
        let scope = self.bounds.len();
        let bound = match (&*f.pat, &*f.expr) {
            (syn::Pat::Ident(i), Expr::Range(r))
                if i.mutability.is_none()
                    && i.subpat.is_none()
                    && matches!(r.limits, syn::RangeLimits::HalfOpen(_))
                    && r.start.as_deref().and_then(literal).is_some() =>
            {
                r.end
                    .as_deref()
                    .and_then(literal)
                    .map(|n| (i.ident.to_string(), Some(n)))
            }
            _ => None,
        };
        let mut names = Vec::new();
        collect_names(&f.pat, &mut names);
        self.bounds.extend(names.into_iter().map(|n| (n, None)));
        self.bounds.extend(bound);
        self.visit_block_mut(&mut f.body);
        self.bounds.truncate(scope);
    }

    /// `let p = Vector3::new(a, b, c);` makes `p` a vector of 3: `p.x` is `p[0]`; any other
    /// `let p = …` makes `p` something else from there on (a shadowing is not scoped further).
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        let constructed = local
            .init
            .as_ref()
            .and_then(|init| constructed_vector(&init.expr));
        syn::visit_mut::visit_local_mut(self, local);
        let pat = match &local.pat {
            syn::Pat::Type(t) => &*t.pat,
            other => other,
        };
        let mut names = Vec::new();
        collect_names(pat, &mut names);
        self.bounds.extend(names.into_iter().map(|n| (n, None)));
        let syn::Pat::Ident(id) = pat else {
            return;
        };
        self.shapes.remove(&id.ident.to_string());
        if let Some(Expr::Array(a)) = constructed {
            let n = a.elems.len();
            self.shapes.insert(
                id.ident.to_string(),
                Shape {
                    rows: Some(parse_quote!(#n)),
                    cols: parse_quote!(1),
                    vector: true,
                    float: self.float.clone(),
                },
            );
        }
    }
}

/// Does the function return a nalgebra vector (`-> Vector2<f64>`)?
pub fn returns_nalgebra(func: &syn::ItemFn) -> bool {
    match &func.sig.output {
        syn::ReturnType::Type(_, ty) => {
            float_of(ty).is_none() && crate::signature::nalgebra_of(ty).is_some()
        }
        syn::ReturnType::Default => false,
    }
}
