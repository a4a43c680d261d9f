//! The checks of a vector-valued main function (`-> [f64; M]`) at one point: `_jacobian`
//! (each row's partials against the oracle seeded with `e_k`, as `_grad`'s are), `_vjp` with a
//! fixed seed (against `Σ_o seed[o]·∂f_o`, from the same oracle evaluations), and `_jvp` along a
//! fixed tangent (against one oracle evaluation with every differentiated input's tangent set
//! to it); the values each returns against the function's.

use std::fmt::Write as _;

use super::{args, reference};
use crate::ast::{Func, Param, ParamTy, Point, Program};

/// The seed of the `_vjp` check, by output.
const SEED: [f64; 3] = [0.5, -1.5, 1.0];
/// The components of the `_jvp` check's tangent, cycled through. No run of consecutive
/// components (cycled) sums to zero: a slice whose partials are all equal (a function of
/// `Σ x[i]`) would otherwise get `J·t = 0` from partials of any size, whose products cancel
/// only up to rounding (seed 1602, program 903: partials of 2.9·10¹² along a tangent summing to
/// 0, rounded to 5·10⁻⁴ beside a true 0.3).
const TANGENT: [f64; 5] = [0.75, -0.5, 1.25, -1.0, 0.375];

/// The tangent's component `j` of the parameter at position `i`.
fn tangent(i: usize, j: usize) -> f64 {
    TANGENT[(3 * i + j) % TANGENT.len()]
}

/// `p17` → `P17Grad`: the gradient struct the macro names after the function.
fn grad_struct(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out + "Grad"
}

pub(super) fn point_fn(program: &Program, k: usize, point: &Point) -> String {
    let f = &program.main;
    let m = f.outputs().unwrap_or(1);
    let name = &f.name;
    let super::Prologue {
        mut out,
        plain_args,
        moved_args,
        oracle_args,
        plain_panic,
    } = super::prologue(program, k, point);
    let seed: Vec<String> = SEED[..m].iter().map(|s| format!("{s:?}")).collect();
    let _ = writeln!(
        out,
        "        let __plain_at = |__e: f64| super::{name}({moved_args});\n        \
         let __oracle = |__s: usize, __k: usize, __e: f64| super::oracle::{name}({oracle_args});\n        \
         let __plain = match guarded(|| super::{name}({plain_args})) {{ Ok(v) => v, Err(m) => return {plain_panic} }};\n        \
         let __seed: [f64; {m}] = [{}];\n        \
         let (__value, __jac) = match guarded(|| super::{name}_jacobian({plain_args})) {{ Ok(v) => v, Err(m) => return __pr.panic(\"grad\", &m) }};\n        \
         let (__vjp_value, __vjp) = match guarded(|| super::{name}_vjp({plain_args}, &__seed)) {{ Ok(v) => v, Err(m) => return __pr.panic(\"grad\", &m) }};\n        \
         let __tangent = super::{}{{ {} }};\n        \
         let (__jvp_value, __jvp) = match guarded(|| super::{name}_jvp({plain_args}, &__tangent)) {{ Ok(v) => v, Err(m) => return __pr.panic(\"grad\", &m) }};\n        \
         for __o in 0..{m} {{\n            \
         __pr.value(__value[__o], __plain[__o], |__e| __plain_at(__e)[__o], |__e| __oracle(usize::MAX, 0, __e)[__o].v);\n            \
         __pr.value(__vjp_value[__o], __plain[__o], |__e| __plain_at(__e)[__o], |__e| __oracle(usize::MAX, 0, __e)[__o].v);\n            \
         __pr.value(__jvp_value[__o], __plain[__o], |__e| __plain_at(__e)[__o], |__e| __oracle(usize::MAX, 0, __e)[__o].v);\n            \
         __pr.oracle(guarded(|| __oracle(usize::MAX, 0, 0.0)[__o]), __plain[__o]);\n        }}",
        seed.join(", "),
        grad_struct(name),
        tangent_fields(f),
    );
    for d in f.differentiated() {
        out.push_str(&partials(f, d, m));
    }
    out.push_str(&jvp_check(f, m));
    out.push_str("    }\n");
    out
}

/// The tangent of the `_jvp` check, as the gradient struct's fields.
fn tangent_fields(f: &Func) -> String {
    f.differentiated()
        .iter()
        .map(|p| {
            let i = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
            let items = |len: usize| {
                (0..len)
                    .map(|j| format!("{:?}", tangent(i, j)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match p.ty {
                ParamTy::Slice(_) => {
                    let name = &p.name;
                    format!(
                        "{name}: (0..__a_{name}.len()).map(|__j| [{}][({} + __j) % 5]).collect()",
                        TANGENT.map(|t| format!("{t:?}")).join(", "),
                        3 * i
                    )
                }
                ParamTy::Array { len, .. } => format!("{}: [{}]", p.name, items(len)),
                _ => format!("{}: {:?}", p.name, tangent(i, 0)),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Jacobian's and `_vjp`'s checks of one differentiated parameter.
fn partials(f: &Func, p: &Param, m: usize) -> String {
    let index = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
    let name = &f.name;
    let n = &p.name;
    let nudged = |with: &str| {
        args(f, |_, q| match q.ty {
            _ if q.name == p.name => with.to_string(),
            _ => reference(q, format!("__a_{}", q.name)),
        })
    };
    let (fd, each, at) = match p.ty {
        ParamTy::Slice(_) | ParamTy::Array { .. } => {
            let nudge = if matches!(p.ty, ParamTy::Slice(_)) {
                "nudged"
            } else {
                "nudged_array"
            };
            (
                nudged(&reference(p, format!("{nudge}(&__a_{n}, __k, __h)"))),
                format!("for __k in 0..__a_{n}.len() "),
                "Some(__k)",
            )
        }
        _ => (nudged(&format!("__a_{n} + __h")), String::new(), "None"),
    };
    let get = |of: &str| match p.ty {
        ParamTy::Slice(_) | ParamTy::Array { .. } => format!("{of}.{n}.get(__k).copied()"),
        _ => format!("Some({of}.{n})"),
    };
    let mut out = String::new();
    if matches!(p.ty, ParamTy::Slice(_)) {
        let _ = writeln!(
            out,
            "        for __o in 0..{m} {{ __pr.length(\"jac.{n}\", __jac[__o].{n}.len(), __a_{n}.len()); }}\n        \
             __pr.length(\"vjp.{n}\", __vjp.{n}.len(), __a_{n}.len());"
        );
    }
    let _ = writeln!(
        out,
        "        {each}{{\n            \
         for __o in 0..{m} {{\n                \
         __pr.partial(&format!(\"jac{{__o}}.{n}\"), {at}, {}, |__e| __oracle({index}, __k, __e)[__o], \
         |__h| super::{name}({fd})[__o]);\n            }}\n            \
         __pr.partial(\"vjp.{n}\", {at}, {}, |__e| seeded(&__oracle({index}, __k, __e), &__seed), \
         |__h| dotted(&super::{name}({fd}), &__seed));\n        }}",
        get("__jac[__o]"),
        get("__vjp"),
    );
    // A scalar's loop body reads `__k`: bind it.
    if at == "None" {
        out = out.replacen("        {\n", "        {\n            let __k = 0;\n", 1);
    }
    out
}

/// The `_jvp` check: `J·t` against the oracle with every differentiated input's tangent set
/// to `t` (the others constants), and central differences along `t`.
fn jvp_check(f: &Func, m: usize) -> String {
    let name = &f.name;
    let differentiated: Vec<String> = f.differentiated().iter().map(|p| p.name.clone()).collect();
    let along = |p: &Param| differentiated.contains(&p.name);
    let oracle_args = args(f, |i, p| match p.ty {
        ParamTy::Slice(_) if along(p) => format!(
            "&dual_slice_along(&__a_{n}, __e, {i}, &__tangent.{n})",
            n = p.name
        ),
        ParamTy::Slice(_) => format!("&dual_slice(&__a_{}, __e, {i}, false, 0)", p.name),
        ParamTy::Array { .. } if along(p) => reference(
            p,
            format!(
                "dual_array_along(&__a_{n}, __e, {i}, &__tangent.{n})",
                n = p.name
            ),
        ),
        ParamTy::Array { .. } => reference(
            p,
            format!("dual_array(&__a_{}, __e, {i}, false, 0)", p.name),
        ),
        ParamTy::Scalar if along(p) => format!(
            "D {{ v: perturbed1(__a_{n}, __e, {i}), t: __tangent.{n} }}",
            n = p.name
        ),
        ParamTy::Scalar => format!("dual_scalar(__a_{}, __e, {i}, false)", p.name),
        ParamTy::Size(_) => format!("__a_{}", p.name),
    });
    let fd_args = args(f, |_, p| match p.ty {
        ParamTy::Slice(_) if along(p) => {
            format!("&stepped(&__a_{n}, __h, &__tangent.{n})", n = p.name)
        }
        ParamTy::Array { .. } if along(p) => reference(
            p,
            format!("stepped_array(&__a_{n}, __h, &__tangent.{n})", n = p.name),
        ),
        ParamTy::Scalar if along(p) => format!("__a_{n} + __h * __tangent.{n}", n = p.name),
        _ => reference(p, format!("__a_{}", p.name)),
    });
    format!(
        "        for __o in 0..{m} {{\n            \
         __pr.partial(\"jvp\", Some(__o), Some(__jvp[__o]), |__e| super::oracle::{name}({oracle_args})[__o], \
         |__h| super::{name}({fd_args})[__o]);\n        }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::{TANGENT, grad_struct};

    #[test]
    fn the_gradient_struct_is_named_as_the_macro_names_it() {
        assert_eq!(grad_struct("p17"), "P17Grad");
        assert_eq!(grad_struct("sum_of_squares"), "SumOfSquaresGrad");
    }

    /// Any slice's tangent is a run of the cycled components: none may sum to zero, up to
    /// slices of 64 elements from every start.
    #[test]
    fn no_run_of_the_tangent_sums_to_zero() {
        for start in 0..TANGENT.len() {
            let mut sum = 0.0;
            for len in 0..64 {
                sum += TANGENT[(start + len) % TANGENT.len()];
                assert!(sum != 0.0, "the run of {} from {start} sums to 0", len + 1);
            }
        }
    }
}
