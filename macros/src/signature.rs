//! Checks the annotated function's signature and classifies its parameters: which are floats (and
//! differentiated), integers, booleans or other data.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use crate::attr::Args;
use crate::ctxt::{Ctxt, msg};

/// The float type of the function (its return type).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FloatTy {
    F32,
    F64,
}

impl FloatTy {
    pub fn name(self) -> &'static str {
        match self {
            FloatTy::F32 => "f32",
            FloatTy::F64 => "f64",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamKind {
    Float,
    Int,
    Bool,
    /// An `ndarray` array of floats (`&Array2<f64>`, `ArrayView1<f32>`, …): differentiated on
    /// the reverse-mode tape.
    Array,
    /// A slice, `Vec` or Rust array of floats (`&[f64]`, `&Vec<f64>`, `[f64; 3]`): indexed in
    /// loops, differentiated element by element.
    Slice,
    /// Data the body may pass to calls or read from, never differentiated.
    Other,
}

pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub kind: ParamKind,
    pub differentiated: bool,
}

pub struct Sig {
    /// The function's float type: its return type, or the elements of the array it returns.
    pub float: FloatTy,
    pub params: Vec<Param>,
    /// `Some` for a vector-valued function (`-> [T; M]`).
    pub outputs: Option<Outputs>,
}

/// The outputs of a vector-valued function, `-> [T; M]`.
pub struct Outputs {
    /// `M` as written (`2`, `N`): the length of the arrays the companions return.
    pub len: syn::Expr,
    /// `M` when it is an integer literal; otherwise the body's array literal says it.
    pub count: Option<usize>,
}

impl Sig {
    /// The differentiated parameters, in declaration order.
    pub fn wrt(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.differentiated)
    }

    /// Does the gradient run on the tape (an array parameter is differentiated)?
    pub fn uses_tape(&self) -> bool {
        self.wrt().any(|p| p.kind == ParamKind::Array)
    }

    /// The float scalar parameters, in declaration order.
    pub fn floats(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.kind == ParamKind::Float)
    }
}

/// The float type a type names, if it is `f32` or `f64`.
pub fn float_of(ty: &Type) -> Option<FloatTy> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            match id.to_string().as_str() {
                "f32" => Some(FloatTy::F32),
                "f64" => Some(FloatTy::F64),
                _ => None,
            }
        }
        Type::Paren(p) => float_of(&p.elem),
        Type::Group(g) => float_of(&g.elem),
        _ => None,
    }
}

const INTS: [&str; 12] = [
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

pub fn is_int_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|id| INTS.contains(&id.to_string().as_str())))
}

fn is_bool_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("bool"))
}

/// An `ndarray` array of floats, behind at most one `&`: its element type, and the owned
/// array type its gradient has (`&ArrayView2<'a, f64>` → `Array2<f64>`).
pub fn array_of(ty: &Type) -> Option<(FloatTy, proc_macro2::TokenStream)> {
    let ty = match ty {
        Type::Reference(r) if r.mutability.is_none() => &*r.elem,
        other => other,
    };
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let elem = float_of(types.first()?)?;
    let name = last.ident.to_string();
    let nd = quote::quote!(::symgrad::__private::ndarray);
    let t = types[0];
    let owned = match name.as_str() {
        "Array" | "ArrayView" => {
            let d = types.get(1)?;
            quote::quote!(#nd::Array<#t, #d>)
        }
        _ => {
            let suffix = name
                .strip_prefix("ArrayView")
                .or_else(|| name.strip_prefix("Array"))?;
            if !(suffix == "D" || (suffix.len() == 1 && suffix.as_bytes()[0].is_ascii_digit())) {
                return None;
            }
            let owned = syn::Ident::new(&format!("Array{suffix}"), last.ident.span());
            quote::quote!(#nd::#owned<#t>)
        }
    };
    Some((elem, owned))
}

/// How a slice-like parameter's gradient is held.
pub enum SliceGrad {
    /// `&[T]`, `&Vec<T>`, `Vec<T>`: a `Vec<T>` of the parameter's length.
    Vec,
    /// `[T; N]`, `&[T; N]`: a `[T; N]`.
    Array(syn::Expr),
    /// A nalgebra vector or matrix (`Vector3<T>`, `&SMatrix<T, R, C>`, `&DVector<T>`): the same
    /// type, owned, read as a flat slice in nalgebra's column-major storage order.
    Nalgebra(Box<Nalgebra>),
}

/// A nalgebra vector or matrix of floats, as written in a signature.
pub struct Nalgebra {
    pub float: FloatTy,
    /// The number of rows as written (`3`, `N`); `None` for `DVector`'s dynamic rows.
    pub rows: Option<syn::Expr>,
    /// The number of columns as written; `1` for a column vector.
    pub cols: syn::Expr,
    /// The owned type, for the gradient field (`&'a Vector3<f64>` → `Vector3<f64>`).
    pub owned: Type,
}

impl Nalgebra {
    /// A column or row vector of known or dynamic length: `.x`, `.y`, … name its elements.
    pub fn is_vector(&self) -> bool {
        is_one(&self.cols) || self.rows.as_ref().is_some_and(is_one)
    }

    /// Has the type a size known at compile time (and so `Copy`)?
    pub fn is_fixed(&self) -> bool {
        self.rows.is_some()
    }
}

fn is_one(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) if n.base10_digits() == "1")
}

fn int_expr(n: usize) -> syn::Expr {
    syn::Expr::Lit(syn::ExprLit {
        attrs: Vec::new(),
        lit: syn::Lit::Int(syn::LitInt::new(&n.to_string(), Span::call_site())),
    })
}

/// A generic argument that is a size: `3`, `N`, `{ N + 1 }`.
pub fn size_arg(a: &syn::GenericArgument) -> Option<syn::Expr> {
    match a {
        syn::GenericArgument::Const(e) => Some(e.clone()),
        syn::GenericArgument::Type(Type::Path(p)) if p.qself.is_none() => {
            Some(syn::Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: p.path.clone(),
            }))
        }
        _ => None,
    }
}

/// The rows and columns a nalgebra type name with a size in it gives: `Vector3` → (3, 1),
/// `RowVector2` → (1, 2), `Matrix3` → (3, 3), `Matrix2x3` → (2, 3); `None` for other names.
pub fn named_shape(name: &str) -> Option<(usize, usize)> {
    let digit = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|n| (1..=6).contains(n) && s.len() == 1)
    };
    if let Some(n) = name.strip_prefix("RowVector").and_then(digit) {
        return Some((1, n));
    }
    if let Some(n) = name.strip_prefix("Vector").and_then(digit) {
        return Some((n, 1));
    }
    let rest = name.strip_prefix("Matrix")?;
    match rest.split_once('x') {
        Some((r, c)) => Some((digit(r)?, digit(c)?)),
        None => digit(rest).map(|n| (n, n)),
    }
}

/// A nalgebra vector or matrix of floats behind at most one shared `&`: `SVector<T, N>`,
/// `Vector1`…`Vector6`, `RowSVector<T, N>`, `RowVector1`…`RowVector6`, `SMatrix<T, R, C>`,
/// `Matrix1`…`Matrix6`, `Matrix2x3`…, `DVector<T>`, with any path (`nalgebra::`, `na::`). The
/// macro sees only tokens, so it knows these by name.
pub fn nalgebra_of(ty: &Type) -> Option<Nalgebra> {
    let owned = match ty {
        Type::Reference(r) if r.mutability.is_none() => &*r.elem,
        other => other,
    };
    let Type::Path(p) = owned else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let args: Vec<&syn::GenericArgument> = args.args.iter().collect();
    let float = match args.first()? {
        syn::GenericArgument::Type(t) => float_of(t)?,
        _ => return None,
    };
    let name = last.ident.to_string();
    let (rows, cols) = match (name.as_str(), args.len()) {
        ("SVector", 2) => (Some(size_arg(args[1])?), int_expr(1)),
        ("RowSVector", 2) => (Some(int_expr(1)), size_arg(args[1])?),
        ("SMatrix", 3) => (Some(size_arg(args[1])?), size_arg(args[2])?),
        ("DVector", 1) => (None, int_expr(1)),
        (other, 1) => {
            let (r, c) = named_shape(other)?;
            (Some(int_expr(r)), int_expr(c))
        }
        _ => return None,
    };
    Some(Nalgebra {
        float,
        rows,
        cols,
        owned: owned.clone(),
    })
}

/// nalgebra types of floats the macro cannot read as a flat vector of known shape:
/// `DMatrix<f64>`, `RowDVector<f64>`, `OMatrix<f64, …>`, `Matrix<f64, …>`, views.
fn unsupported_nalgebra(ty: &Type) -> Option<String> {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let holds_floats =
        matches!(args.args.first(), Some(syn::GenericArgument::Type(t)) if float_of(t).is_some());
    let name = last.ident.to_string();
    let nalgebra = matches!(
        name.as_str(),
        "DMatrix" | "RowDVector" | "OMatrix" | "Matrix"
    ) || name.contains("View")
        || name.contains("Slice");
    (holds_floats && nalgebra && nalgebra_of(ty).is_none()).then_some(name)
}

/// The place a slice parameter's gradient is accumulated in: the field (`grad.x`), or for a
/// nalgebra matrix its storage as a slice, `*GradBuffer::flat_mut(&mut grad.x)` (a place of
/// type `[T]`, so `&mut` of it is the `&mut [T]` the kernels take).
pub fn grad_place(ty: &Type, field: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    if nalgebra_of(ty).is_some() {
        quote::quote!((*::symgrad::__private::GradBuffer::flat_mut(&mut #field)))
    } else {
        field.clone()
    }
}

/// Is a gradient field of this type `Copy` (a float, a Rust array, a fixed-size nalgebra
/// matrix)?
pub fn grad_is_copy(ty: &Type) -> bool {
    float_of(ty).is_some()
        || match slice_of(ty) {
            Some((_, SliceGrad::Array(_))) => true,
            Some((_, SliceGrad::Nalgebra(n))) => n.is_fixed(),
            _ => false,
        }
}

/// A slice, `Vec` or Rust array of floats, behind at most one `&`: its element type and the
/// form of its gradient.
pub fn slice_of(ty: &Type) -> Option<(FloatTy, SliceGrad)> {
    if let Some(n) = nalgebra_of(ty) {
        return Some((n.float, SliceGrad::Nalgebra(Box::new(n))));
    }
    let ty = match ty {
        Type::Reference(r) if r.mutability.is_none() => &*r.elem,
        other => other,
    };
    match ty {
        Type::Slice(s) => Some((float_of(&s.elem)?, SliceGrad::Vec)),
        Type::Array(a) => Some((float_of(&a.elem)?, SliceGrad::Array(a.len.clone()))),
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first()? {
                syn::GenericArgument::Type(t) => Some((float_of(t)?, SliceGrad::Vec)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The type of a parameter's gradient field, if it has one: `float` for a float, `Vec<float>`
/// or `[float; N]` for a slice, `Vec` or Rust array of floats, the owned array for an `ndarray`,
/// the owned type for a nalgebra vector or matrix.
pub fn gradient_type(
    ty: &Type,
    float: &proc_macro2::TokenStream,
) -> Option<proc_macro2::TokenStream> {
    if float_of(ty).is_some() {
        return Some(float.clone());
    }
    match slice_of(ty) {
        Some((_, SliceGrad::Array(n))) => Some(quote::quote!([#float; #n])),
        Some((_, SliceGrad::Vec)) => Some(quote::quote!(::std::vec::Vec<#float>)),
        Some((_, SliceGrad::Nalgebra(n))) => Some(n.owned.to_token_stream()),
        None => array_of(ty).map(|(_, owned)| owned),
    }
}

/// A slice, `Vec` or array of integers (`&[usize]`): data whose elements index other slices.
/// `&[[usize; 2]]`, `Vec<Vec<u32>>`, …: a collection of collections of integers.
pub fn holds_integer_rows(ty: &Type) -> bool {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    let elem = match ty {
        Type::Slice(s) => Some(&*s.elem),
        Type::Array(a) => Some(&*a.elem),
        Type::Path(p) => p.path.segments.last().and_then(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(a) if s.ident == "Vec" => {
                a.args.iter().find_map(|g| match g {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
            }
            _ => None,
        }),
        _ => None,
    };
    elem.is_some_and(holds_integers)
}

pub fn holds_integers(ty: &Type) -> bool {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    match ty {
        Type::Slice(s) => is_int_type(&s.elem),
        Type::Array(a) => is_int_type(&a.elem),
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            s.ident == "Vec"
                && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                    if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t) if is_int_type(t))))
        }),
        _ => false,
    }
}

/// A slice, array or vector of floats: differentiable in principle, not yet by this macro.
fn is_float_container(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_float_container(&r.elem),
        Type::Slice(s) => float_of(&s.elem).is_some(),
        Type::Array(a) => float_of(&a.elem).is_some(),
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            (s.ident == "Vec" || s.ident.to_string().starts_with("Array"))
                && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                    if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t) if float_of(t).is_some())))
        }),
        _ => false,
    }
}

/// Checks `func`'s signature against what the macro supports; `None` if it cannot be used.
pub fn check(cx: &Ctxt, func: &ItemFn, args: &Args) -> Option<Sig> {
    check_qualifiers(cx, func);
    let float = check_return(cx, func);
    let mut params = Vec::new();
    for input in &func.sig.inputs {
        if let Some(p) = check_param(cx, input) {
            params.push(p);
        }
    }
    let (float, outputs) = float?;
    check_float_types(cx, &params, float);
    choose_wrt(cx, func, args, &mut params);
    if args.hessian && outputs.is_none() {
        check_hessian(cx, args, &params);
    }
    if outputs.is_some() {
        check_vector_valued(cx, args, &params);
    }
    if let Some(rule) = &args.rule {
        if params
            .iter()
            .any(|p| p.differentiated && matches!(p.kind, ParamKind::Array | ParamKind::Slice))
        {
            cx.error_spanned_by(
                rule,
                msg(
                    "`rule` supports scalar parameters only",
                    "differentiate the arrays on the tape: remove `rule`",
                ),
            );
        }
    }
    (!cx.has_errors()).then_some(Sig {
        float,
        params,
        outputs,
    })
}

fn check_qualifiers(cx: &Ctxt, func: &ItemFn) {
    let sig = &func.sig;
    if let Some(t) = &sig.asyncness {
        cx.error_spanned_by(
            t,
            msg(
                "`async fn` cannot be differentiated",
                "remove `async`: a loss function is a plain computation",
            ),
        );
    }
    if let Some(t) = &sig.unsafety {
        cx.error_spanned_by(
            t,
            msg(
                "`unsafe fn` cannot be differentiated",
                "remove `unsafe`: the macro must see every operation to differentiate it",
            ),
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            msg(
                "`extern` functions cannot be differentiated",
                "remove the ABI; wrap the function in a plain Rust one if you need it",
            ),
        );
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(
            v,
            msg(
                "variadic functions cannot be differentiated",
                "take a slice instead",
            ),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let only_lifetimes = sig
            .generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
        if !only_lifetimes || sig.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &sig.generics,
                msg(
                    "generic functions cannot be differentiated",
                    "write the function for `f64` (or `f32`); the derivative is generated for concrete float types",
                ),
            );
        }
    }
}

/// The function's float type, and its outputs if it returns an array of floats.
fn check_return(cx: &Ctxt, func: &ItemFn) -> Option<(FloatTy, Option<Outputs>)> {
    let ty = match &func.sig.output {
        ReturnType::Default => {
            cx.error_spanned_by(
                &func.sig,
                msg(
                    format!(
                        "`{}` returns nothing, so there is nothing to differentiate",
                        func.sig.ident
                    ),
                    "return the loss as `f64` (or `f32`): `fn loss(...) -> f64`",
                ),
            );
            return None;
        }
        ReturnType::Type(_, ty) => ty,
    };
    if let Some(f) = float_of(ty) {
        return Some((f, None));
    }
    if let Some(array) = returned_array(ty) {
        return Some(array);
    }
    if let Some((float, n)) = returned_tuple(ty) {
        // `-> (f64, f64)`: the array `[f64; 2]` spelled another way (see `tuples`).
        let n_lit = proc_macro2::Literal::usize_unsuffixed(n);
        let len: syn::Expr = syn::parse_quote!(#n_lit);
        return Some((
            float,
            Some(Outputs {
                len,
                count: Some(n),
            }),
        ));
    }
    if let Some(vector) = returned_nalgebra(ty) {
        return Some(vector);
    }
    let message = if let Some(name) = unsupported_nalgebra(ty) {
        msg(
            format!(
                "a `{name}` of outputs cannot be differentiated: its shape is not known from its type"
            ),
            "return a fixed-size matrix (`SMatrix<f64, R, C>`, `Matrix3<f64>`: its R·C elements are the outputs, in column-major order), or a `DVector<f64>` with one output per item of a loop (`DVector::from_vec(x.iter().map(|v| …).collect())`)",
        )
    } else if is_int_type(ty) {
        msg(
            "`#[differentiable]` functions must return `f64` or `f32`, this one returns an integer",
            "return the scalar loss as `f64` (or `f32`); an integer has no derivative",
        )
    } else if let Some(what) = several_values(ty) {
        let help = if what == "a `Vec`" {
            "a `Vec` of outputs holds floats: return `Vec<f64>` (or `Vec<f32>`), one output per item of a loop (`x.iter().map(|v| …).collect()`), or an array `-> [f64; M]` when their number is fixed".to_string()
        } else if what == "a tuple" {
            tuple_help(ty)
        } else {
            "return the outputs as an array, `-> [f64; M]` (a vector-valued function, with a Jacobian), or one scalar loss".to_string()
        };
        msg(
            format!(
                "`#[differentiable]` functions return `f64` or `f32`, or outputs as an array `[f64; M]`, a tuple `(f64, f64)` or a `Vec<f64>`; this one returns {}",
                if matches!(&**ty, Type::Tuple(_)) {
                    "a tuple whose elements are not all `f64` (or all `f32`)"
                } else {
                    what
                }
            ),
            help,
        )
    } else {
        msg(
            "`#[differentiable]` functions must return `f64` or `f32`, this one returns a value that is not a float",
            "return the scalar loss as `f64` (or `f32`), or the outputs as an array `[f64; M]`",
        )
    };
    cx.error_spanned_by(ty, message);
    None
}

/// `[T; M]` with `T` a float: a vector-valued function's float type and outputs.
fn returned_array(ty: &Type) -> Option<(FloatTy, Option<Outputs>)> {
    let Type::Array(a) = ty else { return None };
    let float = float_of(&a.elem)?;
    let count = match &a.len {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse::<usize>().ok(),
        _ => None,
    };
    Some((
        float,
        Some(Outputs {
            len: a.len.clone(),
            count,
        }),
    ))
}

/// A fixed-size nalgebra vector or matrix of floats (`SVector<f64, M>`, `Vector2<f64>`,
/// `Matrix3<f64>`, `SMatrix<f64, R, C>`): a vector-valued function like `-> [T; R·C]`, its
/// outputs the matrix's elements in nalgebra's column-major storage order (output `r + R·c` is
/// element `(r, c)`), whose body ends with a constructor (`Vector2::new(r0, r1)`,
/// `Matrix2::new(m00, m01, m10, m11)`, …: see `nalgebra::rewrite`).
pub fn returned_nalgebra(ty: &Type) -> Option<(FloatTy, Option<Outputs>)> {
    if matches!(ty, Type::Reference(_)) {
        return None;
    }
    let n = nalgebra_of(ty)?;
    let rows = n.rows.as_ref()?;
    let len = if is_one(&n.cols) {
        rows.clone()
    } else if is_one(rows) {
        n.cols.clone()
    } else {
        match (int_literal(rows), int_literal(&n.cols)) {
            (Some(r), Some(c)) => int_expr(r.checked_mul(c)?),
            _ => {
                let cols = &n.cols;
                syn::parse_quote!((#rows) * (#cols))
            }
        }
    };
    let count = int_literal(&len);
    Some((n.float, Some(Outputs { len, count })))
}

/// An integer literal's value.
pub fn int_literal(e: &syn::Expr) -> Option<usize> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(k),
            ..
        }) => k.base10_parse::<usize>().ok(),
        _ => None,
    }
}

/// `(T, T, …)` with `T` one float type (`(f64,)` too): a vector-valued function's float type
/// and its number of outputs.
fn returned_tuple(ty: &Type) -> Option<(FloatTy, usize)> {
    let Type::Tuple(t) = ty else { return None };
    let float = float_of(t.elems.first()?)?;
    t.elems
        .iter()
        .all(|e| float_of(e) == Some(float))
        .then_some((float, t.elems.len()))
}

/// The help for a tuple return that is not a tuple of floats of one type.
fn tuple_help(ty: &Type) -> String {
    let Type::Tuple(t) = ty else {
        return "return the outputs by value, as a tuple of floats `-> (f64, f64)` or an array `-> [f64; M]`".to_string();
    };
    if t.elems.iter().any(|e| matches!(e, Type::Tuple(_))) {
        return "flatten the tuple: one float per output, `-> (f64, f64, f64)`, the body ending with `(a, b, c)`; a caller regroups them".to_string();
    }
    if t.elems.iter().all(|e| float_of(e).is_some()) {
        return "give every output the same float type: `-> (f64, f64)` (or `(f32, f32)`)"
            .to_string();
    }
    "every output of a tuple is a float of one type, `-> (f64, f64)`: compute what is not a float (a count, an index) in a function of its own; it has no derivative".to_string()
}

/// What a return type that holds several values is, for the error message: a tuple, a Rust
/// array, a slice, a `Vec` or an `ndarray` array (behind any references); `None` otherwise.
fn several_values(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Reference(r) => several_values(&r.elem),
        Type::Paren(p) => several_values(&p.elem),
        Type::Group(g) => several_values(&g.elem),
        Type::Tuple(t) if !t.elems.is_empty() => Some("a tuple"),
        Type::Array(_) => Some("an array"),
        Type::Slice(_) => Some("a slice"),
        Type::Path(p) => {
            let name = p.path.segments.last()?.ident.to_string();
            if name == "Vec" {
                Some("a `Vec`")
            } else if name.starts_with("Array") {
                Some("an `ndarray` array")
            } else {
                None
            }
        }
        _ => None,
    }
}

fn check_param(cx: &Ctxt, input: &FnArg) -> Option<Param> {
    let pat_type = match input {
        FnArg::Receiver(r) => {
            cx.error_spanned_by(
                r,
                msg(
                    "methods (`self`) cannot be differentiated",
                    "write a free function that takes the fields it needs as parameters",
                ),
            );
            return None;
        }
        FnArg::Typed(t) => t,
    };
    let ident = match &*pat_type.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
        other => {
            cx.error_spanned_by(
                other,
                msg(
                    "only plain parameter names are supported here",
                    pattern_help(other, &pat_type.ty),
                ),
            );
            return None;
        }
    };
    let ty = (*pat_type.ty).clone();
    if let Type::Reference(r) = &ty {
        if r.mutability.is_some() {
            let help = match nalgebra_of(&r.elem) {
                Some(n) => {
                    let owned = type_text(&n.owned)
                        .replace(" <", "<")
                        .replace("< ", "<")
                        .replace(" >", ">");
                    format!("take `{owned}` by value or as `&{owned}` and return what you compute; its gradient is a field of type `{owned}`, and mutation through references is not differentiated")
                }
                None => "take the value (or a shared reference) and return what you compute; mutation through references is not differentiated".to_string(),
            };
            cx.error_spanned_by(
                &ty,
                msg(
                    format!("`&mut` parameter `{ident}` cannot be differentiated"),
                    help,
                ),
            );
            return None;
        }
    }
    let kind = if float_of(&ty).is_some() {
        ParamKind::Float
    } else if slice_of(&ty).is_some() {
        ParamKind::Slice
    } else if array_of(&ty).is_some() {
        ParamKind::Array
    } else if is_int_type(&ty) {
        ParamKind::Int
    } else if is_bool_type(&ty) {
        ParamKind::Bool
    } else {
        ParamKind::Other
    };
    Some(Param {
        ident,
        ty,
        kind,
        differentiated: false,
    })
}

/// The fix for a parameter written as a pattern, in code the macro accepts (an array is
/// destructured in the body; a tuple parameter has no derivative, so it becomes parameters):
///
/// ```text
/// (x, y): (f64, f64)   →  x: f64, y: f64
/// [a, b]: [f64; 2]     →  p: [f64; 2], then `let [a, b] = p;` in the body
/// ```
fn pattern_help(pat: &Pat, ty: &Type) -> String {
    const NO_DESTRUCTURING: &str = "parameters are plain names";
    let elem_types = match ty {
        Type::Tuple(t) => Some(t.elems.iter().collect::<Vec<_>>()),
        _ => None,
    };
    match (pat, elem_types) {
        (Pat::Tuple(t), Some(types)) if types.len() == t.elems.len() => {
            if let Some(names) = element_names(&t.elems) {
                let params: Vec<String> = names
                    .iter()
                    .zip(types)
                    .map(|(name, ty)| format!("{name}: {}", type_text(ty)))
                    .collect();
                return format!(
                    "take one parameter per element: `{}` (a tuple parameter cannot be differentiated)",
                    params.join(", ")
                );
            }
        }
        (Pat::Slice(s), _) => {
            if let Some(names) = element_names(&s.elems) {
                let names: Vec<String> = names.iter().map(ToString::to_string).collect();
                return format!(
                    "name the array and destructure it in the body: `p: {}`, then `let [{}] = p;`",
                    type_text(ty),
                    names.join(", ")
                );
            }
        }
        (Pat::Wild(_), _) => {
            return format!(
                "give the parameter a name, with a leading `_` if it is unused: `_name: {}`",
                type_text(ty)
            );
        }
        _ => {}
    }
    format!("give the parameter a name: `name: type`; {NO_DESTRUCTURING}")
}

/// The names of a tuple or slice pattern's elements, if each is a plain name.
fn element_names(elems: &syn::punctuated::Punctuated<Pat, syn::Token![,]>) -> Option<Vec<&Ident>> {
    elems
        .iter()
        .map(|p| match p {
            Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => Some(&i.ident),
            _ => None,
        })
        .collect()
}

/// A type as people write it: `&[f64; 2]`, not `& [f64 ; 2]`.
fn type_text(ty: &Type) -> String {
    crate::lower::pretty(&quote::ToTokens::to_token_stream(ty)).replace(" ;", ";")
}

fn check_float_types(cx: &Ctxt, params: &[Param], float: FloatTy) {
    for p in params.iter().filter(|p| p.kind == ParamKind::Slice) {
        if slice_of(&p.ty).is_some_and(|(elem, _)| elem != float) {
            cx.error_spanned_by(
                &p.ty,
                msg(
                    format!(
                        "the elements of `{}` are not `{}`, the function's float type",
                        p.ident,
                        float.name()
                    ),
                    "use one float type for the slices, the parameters and the result",
                ),
            );
        }
    }
    for p in params.iter().filter(|p| p.kind == ParamKind::Array) {
        if array_of(&p.ty).is_some_and(|(elem, _)| elem != float) {
            cx.error_spanned_by(
                &p.ty,
                msg(
                    format!(
                        "the elements of `{}` are not `{}`, the function's float type",
                        p.ident,
                        float.name()
                    ),
                    "use one float type for the arrays, the parameters and the result",
                ),
            );
        }
    }
    for p in params {
        if p.kind == ParamKind::Float && float_of(&p.ty) != Some(float) {
            cx.error_spanned_by(
                &p.ty,
                msg(
                    format!(
                        "parameter `{}` is `{}` but the function returns `{}`",
                        p.ident,
                        float_of(&p.ty).map_or("?", FloatTy::name),
                        float.name()
                    ),
                    "use one float type for the parameters and the result",
                ),
            );
        }
    }
}

fn choose_wrt(cx: &Ctxt, func: &ItemFn, args: &Args, params: &mut [Param]) {
    match &args.wrt {
        None => {
            for p in params.iter_mut() {
                p.differentiated = matches!(
                    p.kind,
                    ParamKind::Float | ParamKind::Array | ParamKind::Slice
                );
                if p.kind == ParamKind::Other
                    && let Some(name) = unsupported_nalgebra(&p.ty)
                {
                    cx.error_spanned_by(
                        &p.ty,
                        msg(
                            format!("`{name}` parameter `{}` cannot be differentiated: its shape is not known from its type", p.ident),
                            "take a fixed-size matrix (`SMatrix<f64, R, C>`, `Matrix3<f64>`), a `&DVector<f64>` (with the row count as a `usize` parameter, index `m[r + rows * c]`), or list the parameters to differentiate with `wrt(...)` so this one is data",
                        ),
                    );
                } else if p.kind == ParamKind::Other && is_float_container(&p.ty) {
                    cx.error_spanned_by(
                        &p.ident,
                        msg(
                            format!("parameter `{}` holds floats, and differentiating slices, `Vec`s and Rust arrays is not supported yet", p.ident),
                            "list the parameters to differentiate with `#[differentiable(wrt(...))]` (the others are then data), or hold the values in an `ndarray` array, which is differentiated on the tape",
                        ),
                    );
                }
            }
        }
        Some(names) => {
            for (k, name) in names.iter().enumerate() {
                if names[..k].contains(name) {
                    cx.error_spanned_by(
                        name,
                        msg(
                            format!("`{name}` is listed twice in `wrt`"),
                            "list each parameter once",
                        ),
                    );
                    continue;
                }
                match params.iter_mut().find(|p| p.ident == *name) {
                    Some(p) if matches!(p.kind, ParamKind::Float | ParamKind::Array | ParamKind::Slice) => {
                        p.differentiated = true;
                    }
                    Some(p) => cx.error_spanned_by(
                        name,
                        msg(
                            format!("`{name}` is not a float parameter, so it cannot be differentiated"),
                            format!("`wrt` takes `f64`/`f32` parameters; `{}` is data (a constant for the derivative)", p.ident),
                        ),
                    ),
                    None => {
                        let known: Vec<String> = params.iter().filter(|p| p.kind == ParamKind::Float).map(|p| format!("`{}`", p.ident)).collect();
                        cx.error_spanned_by(
                            name,
                            msg(format!("`{name}` is not a parameter of `{}`", func.sig.ident), format!("the float parameters are: {}", if known.is_empty() { "none".into() } else { known.join(", ") })),
                        );
                    }
                }
            }
        }
    }
    if !cx.has_errors() && !params.iter().any(|p| p.differentiated) {
        cx.error_spanned_by(
            &func.sig.ident,
            msg(
                format!("`{}` has no float parameter to differentiate", func.sig.ident),
                "add an `f64` (or `f32`) parameter; integers, booleans and other types are constants",
            ),
        );
    }
}

/// What a vector-valued function cannot be combined with: `rule`, and `ndarray` arrays
/// differentiated on the tape. (`hessian` gives it the hidden `__hvp` its callers' Hessians go
/// through.)
fn check_vector_valued(cx: &Ctxt, args: &Args, params: &[Param]) {
    if let Some(rule) = &args.rule {
        cx.error_spanned_by(
            rule,
            msg(
                "`rule` supports functions that return one scalar",
                "remove `rule` and let the macro differentiate the body, or give each output a function of its own with its rule",
            ),
        );
    }
    for p in params
        .iter()
        .filter(|p| p.differentiated && p.kind == ParamKind::Array)
    {
        cx.error_spanned_by(
            &p.ty,
            msg(
                format!("a vector-valued function cannot differentiate the `ndarray` array `{}`", p.ident),
                "the reverse-mode tape differentiates scalar losses: take the values as a slice or Rust array (`&[f64]`, `[f64; N]`), or return a scalar",
            ),
        );
    }
}

fn check_hessian(cx: &Ctxt, args: &Args, params: &[Param]) {
    if args.rule.is_some() {
        cx.error_at(
            args.hessian_span.unwrap_or_else(Span::call_site),
            msg(
                "`hessian` cannot be combined with `rule`",
                "a user rule gives first derivatives only; remove `hessian`",
            ),
        );
    }
    if params
        .iter()
        .any(|p| p.differentiated && p.kind == ParamKind::Array)
    {
        cx.error_at(
            args.hessian_span.unwrap_or_else(Span::call_site),
            msg(
                "`hessian` is not available for `ndarray` arrays, which are differentiated on the reverse-mode tape",
                "remove `hessian`, or take the values as a slice or Rust array (`&[f64]`, `[f64; N]`): those get `_hessian` and `_hvp`",
            ),
        );
    }
}

/// The parameters a `#[differentiable]` without `wrt(...)` differentiates: the float scalars,
/// slices, Rust arrays, nalgebra types and `ndarray` arrays (a `Vec`-valued function passes them
/// to the functions it is lowered to as an explicit `wrt`).
/// Every parameter of `func` that checks (problems are reported elsewhere, by the functions
/// that take them).
pub fn quiet_params(func: &ItemFn) -> Vec<Param> {
    let cx = Ctxt::new();
    let params = func
        .sig
        .inputs
        .iter()
        .filter_map(|input| check_param(&cx, input))
        .collect();
    let _ = cx.check();
    params
}

pub fn default_wrt(func: &ItemFn) -> Vec<Ident> {
    let cx = Ctxt::new();
    let wrt = func
        .sig
        .inputs
        .iter()
        .filter_map(|input| check_param(&cx, input))
        .filter(|p| {
            matches!(
                p.kind,
                ParamKind::Float | ParamKind::Array | ParamKind::Slice
            )
        })
        .map(|p| p.ident)
        .collect();
    // Problems with the parameters are reported by the lowered functions, at the same tokens.
    let _ = cx.check();
    wrt
}
