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
//! Matrix2::new(a, b, c, d)           [a, c, b, d]   (`new` and `from_row_slice` are row-major)
//! Matrix2::from_row_slice(&[a, b, c, d]), Matrix2::from_column_slice(&[a, c, b, d])   the same
//! Matrix2::from_fn(|r, c| e)         std::array::from_fn(|k| { let r = k % 2; let c = k / 2; e })
//! ```
//!
//! A function returning a matrix returns its elements in that (storage) order: output `r + R·c`
//! is element `(r, c)`.
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
    output: &syn::ReturnType,
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
    let returns_nalgebra = returns_nalgebra(output);
    if shapes.is_empty() && !returns_nalgebra {
        return std::borrow::Cow::Borrowed(body);
    }
    let float = crate::companion::float_tokens(sig.float);
    let mut body = body.clone();
    if returns_nalgebra {
        with_return_shape(&mut body, output);
    }
    Rewrite {
        cx,
        shapes,
        float,
        bounds: Vec::new(),
        built: HashMap::new(),
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
    /// The names bound by `let` to a constructor (`let m = Matrix2::new(…);`), rewritten to
    /// arrays: not a nalgebra value a call could be passed; each with its constructor, as
    /// written.
    built: HashMap<String, Expr>,
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

/// A nalgebra constructor's elements, in column-major storage order, as an array expression
/// (or `std::array::from_fn(…)`), and the shape its path gives.
struct Constructed {
    elems: Expr,
    rows: Option<Expr>,
    cols: Option<Expr>,
}

/// The rows and columns a constructor's type gives: its name (`Matrix2x3`, `Vector3`) or its
/// turbofish (`SMatrix::<f64, 2, 3>`, `SVector::<f64, 4>`); `None` for a bare `SMatrix`.
fn path_shape(ty: &syn::PathSegment) -> Option<(Expr, Expr)> {
    let name = ty.ident.to_string();
    let sizes: Vec<Expr> = match &ty.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .skip(1)
            .filter_map(crate::signature::size_arg)
            .collect(),
        _ => Vec::new(),
    };
    let one: Expr = parse_quote!(1);
    match (name.as_str(), sizes.as_slice()) {
        ("SMatrix", [r, c]) => Some((r.clone(), c.clone())),
        ("SVector", [n]) => Some((n.clone(), one)),
        ("RowSVector", [n]) => Some((one, n.clone())),
        (other, _) => {
            let (r, c) = crate::signature::named_shape(other)?;
            Some((parse_quote!(#r), parse_quote!(#c)))
        }
    }
}

/// `SMatrix`, `SVector`, `Matrix3`, `Vector2`, `RowVector2`, …: a fixed-size nalgebra type's name.
pub(crate) fn is_fixed_type(name: &str) -> bool {
    is_vector_type(name) || name == "SMatrix" || crate::signature::named_shape(name).is_some()
}

/// `elems` (row-major, `rows × cols`) in column-major order: element `(r, c)` moves from
/// `r·C + c` to `r + R·c`.
fn column_major(elems: &[Expr], rows: usize, cols: usize) -> Vec<Expr> {
    (0..rows * cols)
        .map(|k| elems[(k % rows) * cols + k / rows].clone())
        .collect()
}

/// The elements of `&[a, b, …]` or `[a, b, …]`.
fn listed(e: &Expr) -> Option<Vec<Expr>> {
    match e {
        Expr::Reference(r) => listed(&r.expr),
        Expr::Paren(p) => listed(&p.expr),
        Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
        _ => None,
    }
}

/// A nalgebra constructor's elements in storage order, or `None` for another call:
///
/// ```text
/// Vector2::new(a, b), SVector::<f64, 2>::from([a, b])          [a, b]
/// Matrix2::new(a, b, c, d)  (row-major arguments)              [a, c, b, d]
/// Matrix2::from_row_slice(&[a, b, c, d])                       [a, c, b, d]
/// Matrix2::from_column_slice(&[a, c, b, d])                    [a, c, b, d]
/// Matrix2::from_fn(|r, c| e)             std::array::from_fn(|k| { let r = k % 2; let c = k / 2; e })
/// ```
///
/// A row-major constructor needs its shape as integer literals in its path (the value the
/// function returns gets the return type's, see [`with_return_shape`]): an error otherwise.
fn constructed(cx: &Ctxt, e: &Expr) -> Option<Constructed> {
    let Expr::Call(call) = e else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let [.., ty, method] = segs.as_slice() else {
        return None;
    };
    let name = ty.ident.to_string();
    if !is_fixed_type(&name) {
        return None;
    }
    let (rows, cols) = path_shape(ty).unzip();
    let literal_shape = match (
        rows.as_ref().and_then(literal),
        cols.as_ref().and_then(literal),
    ) {
        (Some(r), Some(c)) => usize::try_from(r).ok().zip(usize::try_from(c).ok()),
        _ => None,
    };
    let args: Vec<Expr> = call.args.iter().cloned().collect();
    let method = method.ident.to_string();
    let row_major = |elems: &[Expr]| -> Option<Expr> {
        if is_vector_type(&name) {
            return Some(parse_quote!([#(#elems),*]));
        }
        let Some((r, c)) = literal_shape else {
            cx.error_spanned_by(
                &call.func,
                msg(
                    format!("`{name}::{method}` takes its elements row by row, and neither its path nor the return type gives its shape as numbers"),
                    format!("write the sizes as integer literals (`-> SMatrix<f64, 2, 3>`, `SMatrix::<f64, 2, 3>::{method}(…)`, `Matrix2x3::{method}(…)`), or list the elements column by column with `{name}::from_column_slice(&[…])`"),
                ),
            );
            return Some(parse_quote!([0.0]));
        };
        if elems.len() != r * c {
            cx.error_spanned_by(
                call,
                msg(
                    format!("`{name}::{method}` takes {} elements ({r} × {c}, row by row); this lists {}", r * c, elems.len()),
                    format!("list all {} elements, row by row (`{name}::{method}(…)` fills row 0 first), or build the value with `{name}::from_fn(|r, c| …)`", r * c),
                ),
            );
            // The right number of elements: one error, not a second about the result's length.
            let zeros = std::iter::repeat_n(quote::quote!(0.0), r * c);
            return Some(parse_quote!([#(#zeros),*]));
        }
        let elems = column_major(elems, r, c);
        Some(parse_quote!([#(#elems),*]))
    };
    let elems = match method.as_str() {
        "new" => row_major(&args)?,
        "from" if args.len() == 1 && is_vector_type(&name) => args[0].clone(),
        "from_row_slice" if args.len() == 1 => row_major(&listed(&args[0])?)?,
        "from_column_slice" if args.len() == 1 => {
            let elems = listed(&args[0])?;
            parse_quote!([#(#elems),*])
        }
        "from_fn" if args.len() == 1 => from_fn(cx, call, &args[0], rows.as_ref(), literal_shape)?,
        _ => return None,
    };
    Some(Constructed { elems, rows, cols })
}

/// `X::from_fn(|r, c| e)` as `std::array::from_fn(|k| { let r: usize = k % R; let c: usize =
/// k / R; e })`, the storage order.
fn from_fn(
    cx: &Ctxt,
    call: &syn::ExprCall,
    f: &Expr,
    rows: Option<&Expr>,
    literal_shape: Option<(usize, usize)>,
) -> Option<Expr> {
    let Expr::Closure(closure) = f else {
        return None;
    };
    let [r, c] = [closure.inputs.first()?, closure.inputs.get(1)?];
    if closure.inputs.len() != 2 {
        return None;
    }
    let (Some(rows), Some(_)) = (rows, literal_shape) else {
        cx.error_spanned_by(
            &call.func,
            msg(
                "`from_fn` needs the matrix's shape as numbers, and neither its path nor the return type gives it",
                "write the shape in the path or the return type as integer literals (`SMatrix::<f64, 2, 3>::from_fn(…)`, `-> Matrix2x3<f64>`), or list the elements with `from_column_slice(&[…])`",
            ),
        );
        return Some(parse_quote!([0.0]));
    };
    let untyped = |p: &syn::Pat| match p {
        syn::Pat::Type(t) => (*t.pat).clone(),
        other => other.clone(),
    };
    let (r, c) = (untyped(r), untyped(c));
    let body = &closure.body;
    Some(parse_quote!(std::array::from_fn(|__na_k| {
        let #r: usize = __na_k % (#rows);
        let #c: usize = __na_k / (#rows);
        #body
    })))
}

/// The function's value at the ends of `e`'s branches and blocks: a constructor there whose path
/// does not give its shape (`SMatrix::from_row_slice(&[…])`) gets the return type's, written
/// in (`SMatrix::<f64, 2, 3>::from_row_slice`).
fn give_return_shape(e: &mut Expr, ret: &(String, syn::PathArguments)) {
    match e {
        Expr::If(i) => {
            if let Some(syn::Stmt::Expr(tail, None)) = i.then_branch.stmts.last_mut() {
                give_return_shape(tail, ret);
            }
            if let Some((_, other)) = &mut i.else_branch {
                give_return_shape(other, ret);
            }
        }
        Expr::Block(b) => {
            if let Some(syn::Stmt::Expr(tail, None)) = b.block.stmts.last_mut() {
                give_return_shape(tail, ret);
            }
        }
        Expr::Match(m) => {
            for arm in &mut m.arms {
                give_return_shape(&mut arm.body, ret);
            }
        }
        Expr::Paren(p) => give_return_shape(&mut p.expr, ret),
        Expr::Call(call) => {
            let Expr::Path(p) = &mut *call.func else {
                return;
            };
            let n = p.path.segments.len();
            if n < 2 {
                return;
            }
            let ty = &mut p.path.segments[n - 2];
            if ty.ident == ret.0 && ty.arguments.is_none() {
                ty.arguments = ret.1.clone();
            }
        }
        _ => {}
    }
}

/// Gives the return type's shape to the constructors in `return e` (not those of closures).
struct ReturnShape<'r>(&'r (String, syn::PathArguments));

impl VisitMut for ReturnShape<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) => {}
            Expr::Return(r) => {
                if let Some(value) = &mut r.expr {
                    give_return_shape(value, self.0);
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// `SMatrix` and `::<f64, 2, 3>` of `-> SMatrix<f64, 2, 3>`: the return type's name and its
/// arguments as a turbofish, for the constructors of that name (`Matrix2x3` and the like give
/// their shapes by name).
fn return_turbofish(ty: &syn::ReturnType) -> Option<(String, syn::PathArguments)> {
    let syn::ReturnType::Type(_, ty) = ty else {
        return None;
    };
    let syn::Type::Path(p) = &**ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    let mut a = a.clone();
    a.colon2_token = Some(syn::Token![::](proc_macro2::Span::call_site()));
    Some((
        last.ident.to_string(),
        syn::PathArguments::AngleBracketed(a),
    ))
}

/// The body with the return type's shape given to the constructors of its value (see
/// [`give_return_shape`]).
fn with_return_shape(body: &mut Block, output: &syn::ReturnType) {
    let Some(ret) = return_turbofish(output) else {
        return;
    };
    if let Some(syn::Stmt::Expr(tail, None)) = body.stmts.last_mut() {
        give_return_shape(tail, &ret);
    }
    ReturnShape(&ret).visit_block_mut(body);
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
            Expr::Call(c) => constructed(self.cx, e)
                .map(|c| c.elems)
                .or_else(|| self.other_constructor(c)),
            _ => None,
        }
    }

    /// `Matrix2::identity()`, `Vector3::zeros()`, …: an associated function of a fixed-size
    /// nalgebra type that is not one of the constructors above, reported (the lowering would
    /// take it for a call of a differentiable function); `0.0` in its place.
    fn other_constructor(&self, c: &syn::ExprCall) -> Option<Expr> {
        let Expr::Path(p) = &*c.func else {
            return None;
        };
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        let [.., ty, method] = segs.as_slice() else {
            return None;
        };
        let name = ty.ident.to_string();
        if !is_fixed_type(&name) {
            return None;
        }
        let method = method.ident.to_string();
        let message = match method.as_str() {
            // A wrong number of arguments, or a closure of another arity: rustc says so.
            "new" | "from_fn" => return None,
            "from" if is_vector_type(&name) => return None,
            "from_row_slice" | "from_column_slice" => {
                let slice = match c.args.first() {
                    Some(Expr::Reference(r)) => crate::lower::pretty(&r.expr.to_token_stream()),
                    Some(other) => crate::lower::pretty(&other.to_token_stream()),
                    None => "v".to_string(),
                };
                msg(
                    format!(
                        "`{name}::{method}` reads its elements from a slice the macro does not see"
                    ),
                    format!(
                        "list the elements in place, `{name}::{method}(&[a, b, …])`, or read them from the slice: `{name}::{method}(&[{slice}[0], {slice}[1], …])`"
                    ),
                )
            }
            _ => msg(
                format!("`{name}::{method}` is not differentiated"),
                format!(
                    "build the value from its elements: `{name}::new(…)` (row by row), `{name}::from_row_slice(&[…])`, `{name}::from_column_slice(&[…])` or `{name}::from_fn(|r, c| …)`; a vector also `from([…])`"
                ),
            ),
        };
        self.cx.error_spanned_by(&c.func, message);
        Some(parse_quote!(0.0))
    }
}

/// The help for a nalgebra value the function builds, passed to a call (`built`, where the
/// call builds it in place: its elements in storage order, written out):
///
/// ```text
/// det(&Matrix2::new(a, b, c, d))   help: … column by column as nalgebra stores them (here
///                                  `&[a, c, b, d]`), to a callee that takes `&[f64; N]` …
/// ```
pub(crate) fn lent_value_help(built: Option<&Expr>) -> String {
    let quiet = Ctxt::new();
    let elems = built.and_then(|e| constructed(&quiet, e)).map(|c| c.elems);
    let here = match (elems, quiet.check()) {
        (Some(Expr::Array(a)), Ok(())) => {
            format!("here `&{}`", crate::lower::pretty(&a.to_token_stream()))
        }
        _ => "`Matrix2::new(a, b, c, d)`, whose arguments are row by row, is `&[a, c, b, d]`"
            .to_string(),
    };
    format!(
        "pass its elements as an array, column by column as nalgebra stores them ({here}), to a callee that takes `&[f64; N]` and reads element `(i, j)` of an `R`-row matrix at `i + R * j`; or make the value a nalgebra parameter of this function and pass that as it is"
    )
}

impl Rewrite<'_> {
    /// `g(Matrix2::new(…))`, `g(&Vector2::new(…))`, `g(&m)` of `let m = Matrix2::new(…);`: a
    /// constructor passed to a call, reported
    /// here, where the user's tokens are still in place (rewritten, it would be an array
    /// literal the call takes by value, which the lowering rejects at the attribute); `0.0` in
    /// its place.
    fn constructor_arguments(&self, call: &mut syn::ExprCall) {
        for arg in &mut call.args {
            let inner = match &*arg {
                Expr::Reference(r) => &*r.expr,
                other => other,
            };
            let quiet = Ctxt::new();
            let built = if constructed(&quiet, inner).is_some() {
                Some(inner.clone())
            } else {
                name_of(inner).and_then(|n| self.built.get(&n).cloned())
            };
            let _ = quiet.check();
            let Some(built) = built else {
                continue;
            };
            self.cx.error_spanned_by(
                &*arg,
                msg(
                    format!("`{}` passes a nalgebra value this function builds to a call, which cannot be differentiated yet", crate::lower::pretty(&arg.to_token_stream())),
                    lent_value_help(Some(&built)),
                ),
            );
            *arg = parse_quote!(0.0);
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
        if let Expr::Call(call) = e {
            self.constructor_arguments(call);
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

    /// `let p = Vector3::new(a, b, c);` makes `p` a vector of 3: `p.x` is `p[0]`;
    /// `let m = Matrix2::new(a, b, c, d);` a matrix, `m[(0, 1)]` is `m[2]`; any other
    /// `let p = …` makes `p` something else from there on (a shadowing is not scoped further).
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        // Its errors are reported when the initializer is rewritten.
        let quiet = Ctxt::new();
        let constructed = local
            .init
            .as_ref()
            .and_then(|init| constructed(&quiet, &init.expr));
        let _ = quiet.check();
        let written = local.init.as_ref().map(|init| (*init.expr).clone());
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
        self.built.remove(&id.ident.to_string());
        let shape = match constructed {
            Some(Constructed {
                rows: Some(rows),
                cols: Some(cols),
                ..
            }) => Shape {
                vector: literal(&rows) == Some(1) || literal(&cols) == Some(1),
                rows: Some(rows),
                cols,
                float: self.float.clone(),
            },
            // `SVector::from([a, b])`: a vector of as many elements.
            Some(Constructed {
                elems: Expr::Array(a),
                ..
            }) => {
                let n = a.elems.len();
                Shape {
                    rows: Some(parse_quote!(#n)),
                    cols: parse_quote!(1),
                    vector: true,
                    float: self.float.clone(),
                }
            }
            _ => return,
        };
        if let Some(written) = written {
            self.built.insert(id.ident.to_string(), written);
        }
        self.shapes.insert(id.ident.to_string(), shape);
    }
}

/// Does the function return a nalgebra vector or matrix (`-> Vector2<f64>`, `-> Matrix3<f64>`)?
fn returns_nalgebra(output: &syn::ReturnType) -> bool {
    match output {
        syn::ReturnType::Type(_, ty) => {
            float_of(ty).is_none() && crate::signature::nalgebra_of(ty).is_some()
        }
        syn::ReturnType::Default => false,
    }
}
