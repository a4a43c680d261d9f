//! The check code of one program in the generated crate: for each input point, the plain
//! function, `_grad` and the oracle (one dual evaluation per differentiated input component,
//! seeded with `e_k`, and once more at slightly perturbed inputs for the conditioning check),
//! each under `catch_unwind`, printing `check_support`'s lines.

use std::fmt::Write as _;

mod vector;

use crate::ast::{Func, Param, ParamTy, Point, Program, Value};

/// `pub mod driver { pub fn check() { .. } fn point0() { .. } .. }` for `program`.
#[must_use]
pub fn module(program: &Program) -> String {
    let mut out = String::from(
        "pub mod driver {\n    use crate::check_support::*;\n    use crate::dual::*;\n\n",
    );
    out.push_str("    pub fn check() {\n");
    for k in 0..program.points.len() {
        let _ = writeln!(out, "        point{k}();");
    }
    out.push_str("    }\n");
    for (k, point) in program.points.iter().enumerate() {
        out.push_str(&point_fn(program, k, point));
    }
    out.push_str("}\n");
    out
}

/// The start of a point's check function (its `Probe`, the arguments bound) and the argument
/// lists of its calls: the function's own, at inputs perturbed by `__e`, and the oracle's.
pub(super) struct Prologue {
    pub out: String,
    pub plain_args: String,
    pub moved_args: String,
    pub oracle_args: String,
    /// What a panic of the plain function reports: a `P` line, or, at a point where a size is
    /// 0 (where the function may well panic: `x[0]`, `n - 1`), an `S` line, the point skipped.
    pub plain_panic: &'static str,
}

pub(super) fn prologue(program: &Program, k: usize, point: &Point) -> Prologue {
    let f = &program.main;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n    fn point{k}() {{\n        let __pr = Probe::new({}, {k});",
        program.id
    );
    for (p, v) in f.params.iter().zip(point) {
        let _ = writeln!(out, "        {}", binding(p, v));
    }
    let plain_args = args(f, |_, p| reference(p, format!("__a_{}", p.name)));
    let moved_args = args(f, |i, p| match p.ty {
        ParamTy::Slice(_) => format!("&perturbed(&__a_{}, __e, {i})", p.name),
        ParamTy::Array { .. } => {
            reference(p, format!("perturbed_array(&__a_{}, __e, {i})", p.name))
        }
        ParamTy::Scalar => format!("perturbed1(__a_{}, __e, {i})", p.name),
        ParamTy::Size(_) => format!("__a_{}", p.name),
    });
    let oracle_args = args(f, |i, p| match p.ty {
        ParamTy::Slice(_) => format!("&dual_slice(&__a_{}, __e, {i}, __s == {i}, __k)", p.name),
        ParamTy::Array { .. } => reference(
            p,
            format!("dual_array(&__a_{}, __e, {i}, __s == {i}, __k)", p.name),
        ),
        ParamTy::Scalar => format!("dual_scalar(__a_{}, __e, {i}, __s == {i})", p.name),
        ParamTy::Size(_) => format!("__a_{}", p.name),
    });
    let empty = point.iter().any(|v| matches!(v, Value::Size(0)));
    Prologue {
        out,
        plain_args,
        moved_args,
        oracle_args,
        plain_panic: if empty {
            "__pr.outside(&m)"
        } else {
            "__pr.panic(\"plain\", &m)"
        },
    }
}

fn point_fn(program: &Program, k: usize, point: &Point) -> String {
    if program.main.outputs().is_some() {
        return vector::point_fn(program, k, point);
    }
    let f = &program.main;
    let name = &f.name;
    let Prologue {
        mut out,
        plain_args,
        moved_args,
        oracle_args,
        plain_panic,
    } = prologue(program, k, point);
    let _ = writeln!(
        out,
        "        let __plain_at = |__e: f64| super::{name}({moved_args});\n        \
         let __oracle = |__s: usize, __k: usize, __e: f64| super::oracle::{name}({oracle_args});\n        \
         let __plain = match guarded(|| super::{name}({plain_args})) {{ Ok(v) => v, Err(m) => return {plain_panic} }};\n        \
         let (__value, __grad) = match guarded(|| super::{name}_grad({plain_args})) {{ Ok(v) => v, Err(m) => return __pr.panic(\"grad\", &m) }};\n        \
         __pr.value(__value, __plain, __plain_at, |__e| __oracle(usize::MAX, 0, __e).v);\n        \
         __pr.oracle(guarded(|| __oracle(usize::MAX, 0, 0.0)), __plain);"
    );
    for d in f.differentiated() {
        out.push_str(&partials(f, d));
    }
    if f.hessian {
        out.push_str(&hvp(f, &plain_args));
    }
    out.push_str("    }\n");
    out
}

/// The checks of `_hvp` at the point, along a direction `v` fixed by the parameters' positions:
/// its value and gradient against `_grad`'s, and `H·v` against central differences of `_grad`
/// along `v` (see `second_order`).
fn hvp(f: &Func, plain_args: &str) -> String {
    let name = &f.name;
    let camel: String = name
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next().map_or_else(String::new, |h| {
                h.to_uppercase().collect::<String>() + c.as_str()
            })
        })
        .collect();
    let differentiated = f.differentiated();
    let fields: Vec<String> = differentiated
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let n = &p.name;
            let value = match p.ty {
                ParamTy::Slice(_) => format!("direction(__a_{n}.len(), {j})"),
                ParamTy::Array { len, .. } => {
                    format!("direction({len}, {j}).try_into().unwrap()")
                }
                _ => format!("direction(1, {j})[0]"),
            };
            format!("{n}: {value}")
        })
        .collect();
    let shifted = args(f, |_, p| {
        if !differentiated.iter().any(|d| d.name == p.name) {
            return reference(p, format!("__a_{}", p.name));
        }
        let n = &p.name;
        match p.ty {
            ParamTy::Slice(_) => format!("&shifted(&__a_{n}, &__v.{n}, __h)"),
            ParamTy::Array { .. } => {
                reference(p, format!("shifted_array(&__a_{n}, &__v.{n}, __h)"))
            }
            _ => format!("__a_{n} + __h * __v.{n}"),
        }
    });
    format!(
        "        let __v = super::{camel}Grad {{ {} }};\n        \
         match guarded(|| super::{name}_hvp({plain_args}, &__v)) {{\n            \
         Err(m) => __pr.panic(\"hvp\", &m),\n            \
         Ok((__hvalue, __hgrad, __hv)) => {{\n                \
         __pr.same(\"value\", &[__hvalue], &[__value]);\n                \
         __pr.same(\"grad\", &::symgrad::Gradient::<f64>::to_flat_vec(&__hgrad), &::symgrad::Gradient::<f64>::to_flat_vec(&__grad));\n                \
         __pr.hvp(&::symgrad::Gradient::<f64>::to_flat_vec(&__hv), |__h: f64| ::symgrad::Gradient::<f64>::to_flat_vec(&super::{name}_grad({shifted}).1));\n            \
         }}\n        }}\n",
        fields.join(", ")
    )
}

/// `value` as the argument of parameter `p`: borrowed for a slice or a `&[f64; K]`.
fn reference(p: &Param, value: String) -> String {
    match p.ty {
        ParamTy::Slice(_) | ParamTy::Array { by_ref: true, .. } => format!("&{value}"),
        _ => value,
    }
}

fn binding(p: &Param, v: &Value) -> String {
    match v {
        Value::Size(n) => format!("let __a_{}: usize = {n};", p.name),
        Value::Scalar(x) => format!("let __a_{}: f64 = {x:?};", p.name),
        Value::Slice(xs) => {
            let items: Vec<String> = xs.iter().map(|x| format!("{x:?}")).collect();
            let items = items.join(", ");
            match p.ty {
                ParamTy::Array { len, .. } => {
                    format!("let __a_{}: [f64; {len}] = [{items}];", p.name)
                }
                _ => format!("let __a_{}: Vec<f64> = vec![{items}];", p.name),
            }
        }
    }
}

/// The arguments of a call to `f`, each from its position and parameter.
fn args(f: &Func, each: impl Fn(usize, &Param) -> String) -> String {
    f.params
        .iter()
        .enumerate()
        .map(|(i, p)| each(i, p))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The checks of one differentiated parameter's partials.
fn partials(f: &Func, p: &Param) -> String {
    let index = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
    let name = &f.name;
    let n = &p.name;
    let nudged = |with: &str| {
        args(f, |_, q| match q.ty {
            _ if q.name == p.name => with.to_string(),
            _ => reference(q, format!("__a_{}", q.name)),
        })
    };
    match p.ty {
        ParamTy::Slice(_) | ParamTy::Array { .. } => {
            let nudge = if matches!(p.ty, ParamTy::Slice(_)) {
                "nudged"
            } else {
                "nudged_array"
            };
            let fd = nudged(&reference(p, format!("{nudge}(&__a_{n}, __k, __h)")));
            format!(
                "        __pr.length(\"{n}\", __grad.{n}.len(), __a_{n}.len());\n        \
                 for __k in 0..__a_{n}.len() {{\n            \
                 __pr.partial(\"{n}\", Some(__k), __grad.{n}.get(__k).copied(), |__e| __oracle({index}, __k, __e), \
                 |__h| super::{name}({fd}));\n        }}\n"
            )
        }
        _ => {
            let fd = nudged(&format!("__a_{n} + __h"));
            format!(
                "        __pr.partial(\"{n}\", None, Some(__grad.{n}), |__e| __oracle({index}, 0, __e), \
                 |__h| super::{name}({fd}));\n"
            )
        }
    }
}
