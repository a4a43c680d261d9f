//! Runs of slices passed to the slice helper, and vector-valued functions.
//!
//! A slice argument of `dot(u, v[, t])` may be a run of a slice as long as the helper's other
//! slice arguments: `&z[1..]` or `&z[..z.len() - 1]` beside `y` (`z` has one element more), `&y[0..y.len()]`,
//! `&y[0..=y.len() - 1]`, `&y[0..]`, or a row of the matrix beside `w`: `&x[i * d..(i + 1) * d]` at
//! an enclosing row index (or the first or last row), `&x[i * d..=(i + 1) * d - 1]`, and the
//! last row as `&x[(n - 1) * d..]`.
//!
//! A vector-valued helper `r(a, b) -> [f64; M]` (M = 2 or 3; straight-line code, early
//! `return [..];`), or with `helper_vector_slice` `r(u: &[f64], b)` (its body reading `u` as
//! the slice helper's does), is called as `let [r1, r2] = r(e1, e2);` and read as
//! `r(e1, e2)[k]`, a slice argument being one of the caller's slices or a run of it. A
//! vector-valued main function (M = 1 to 3) ends with `[e1, e2, ..]` and returns `[..]` early;
//! the harness checks its `_jacobian`, `_vjp` and `_jvp`.
//!
//! Every decision here comes from the generator's fourth stream (`Gen::v`), drawn only where
//! one of these weights is not zero: at zero, the programs are those of the grammar without
//! them.

use super::{Gen, Helper, function, param};
use crate::ast::{Arg, Dim, Expr, Extent, Func, IntExpr, ParamTy, Stmt};
use crate::r#gen::Weights;
use crate::rng::Rng;

/// One in `weight` tries out of 10, on stream `v` (no draw at weight 0).
pub(super) fn tenth(v: &mut Rng, weight: u32) -> bool {
    weight > 0 && v.below(10) < weight as usize
}

/// `fn r(a: f64, b: f64) -> [f64; M]`, from streams of its own (the main function's are
/// untouched).
pub(super) fn helper(seed: u64, id: u64, w: &Weights) -> Func {
    let mut rng = Rng::derive(seed ^ 0x7EC7_0A11_4E1F_E4A5, id);
    let mut x = Rng::derive(seed ^ 0x7EC7_0A11_4E1F_E4A6, id);
    let mut c = Rng::derive(seed ^ 0x7EC7_0A11_4E1F_E4A7, id);
    let mut v = Rng::derive(seed ^ 0x7EC7_0A11_4E1F_E4A8, id);
    let outputs = v.range(2, 3);
    let first = if tenth(&mut v, w.helper_vector_slice) {
        // Any length: the body reads it as the slice helper reads its slices.
        param(
            "u",
            ParamTy::Slice(Extent {
                dim: Dim::L,
                plus: 0,
            }),
        )
    } else {
        param("a", ParamTy::Scalar)
    };
    let params = vec![first, param("b", ParamTy::Scalar)];
    let streams = (&mut rng, &mut x, &mut c, &mut v);
    function(streams, w, "r", params, Vec::new(), 1..=3, Some(outputs))
}

impl Gen<'_> {
    /// The argument for a slice parameter of extent `ext`, given `whole` of that extent: with
    /// the weight `call_sub_slice`, a run of a slice as long as it.
    pub(super) fn slice_arg(&mut self, whole: String, ext: Extent) -> Arg {
        if !tenth(self.v, self.w.call_sub_slice) {
            return Arg::Slice(whole);
        }
        let runs = self.runs_of(ext);
        if runs.is_empty() {
            return Arg::Slice(whole);
        }
        self.v.pick(&runs).clone()
    }

    /// Every run of a slice parameter whose length is `ext`'s.
    fn runs_of(&self, ext: Extent) -> Vec<Arg> {
        let run = |slice: &str, start: Option<IntExpr>, end: Option<IntExpr>, inclusive| Arg::Run {
            slice: slice.to_string(),
            start,
            end,
            inclusive,
        };
        let len = |s: &str| IntExpr::Len(s.to_string());
        let one = || IntExpr::Const(1);
        let mut out = Vec::new();
        for (s, e) in self.scope.slice_params() {
            if e == ext {
                out.push(run(&s, Some(IntExpr::Const(0)), Some(len(&s)), false));
                out.push(run(
                    &s,
                    Some(IntExpr::Const(0)),
                    Some(IntExpr::minus(len(&s), one())),
                    true,
                ));
                out.push(run(&s, Some(IntExpr::Const(0)), None, false));
            } else if e.dim == ext.dim && e.plus == ext.plus + 1 {
                out.push(run(&s, Some(one()), None, false));
                out.push(run(&s, None, Some(IntExpr::minus(len(&s), one())), false));
                out.push(run(
                    &s,
                    Some(one()),
                    Some(IntExpr::minus(len(&s), one())),
                    true,
                ));
            } else if e.dim == Dim::Nd && e.plus == 0 && ext.dim == Dim::D && ext.plus == 0 {
                out.extend(self.rows_of(&s));
            }
        }
        out
    }

    /// Rows of the matrix `s` (`n × d`): at an enclosing row index, the first or the last.
    fn rows_of(&self, s: &str) -> Vec<Arg> {
        let n = self.scope.dim_expr(Dim::N);
        let d = self.scope.dim_expr(Dim::D);
        let last = IntExpr::minus(n, IntExpr::Const(1));
        let mut rows = vec![IntExpr::Const(0), last.clone()];
        rows.extend(
            self.scope
                .loops
                .iter()
                .filter(|l| l.index && l.dim == Dim::N && l.lo >= 0 && l.slack >= 0)
                .map(|l| IntExpr::Var(l.name.clone())),
        );
        let mut out = Vec::new();
        for r in rows {
            let start = IntExpr::times(r.clone(), d.clone());
            let next = IntExpr::times(IntExpr::plus(r, IntExpr::Const(1)), d.clone());
            out.push(Arg::Run {
                slice: s.to_string(),
                start: Some(start.clone()),
                end: Some(next.clone()),
                inclusive: false,
            });
            out.push(Arg::Run {
                slice: s.to_string(),
                start: Some(start),
                end: Some(IntExpr::minus(next, IntExpr::Const(1))),
                inclusive: true,
            });
        }
        out.push(Arg::Run {
            slice: s.to_string(),
            start: Some(IntExpr::times(last, d)),
            end: None,
            inclusive: false,
        });
        out
    }

    /// The vector-valued helper the function may call, if any.
    pub(super) fn vector_helper(&self) -> Option<Helper> {
        self.helpers.iter().find(|h| h.outputs.is_some()).cloned()
    }

    /// `r(e1, e2)`: a call of the vector-valued helper `h`; a slice parameter takes one of the
    /// function's slices, or a run of it. `None` where the function has no slice to pass.
    pub(super) fn vector_call(&mut self, h: &Helper, depth: u32) -> Option<Expr> {
        let mut args = Vec::with_capacity(h.params.len());
        for p in &h.params {
            args.push(match p.ty {
                // A local array, with `helper_local_array` (`local_args.rs`).
                ParamTy::Slice(_)
                    if let Some(mut one) = self
                        .local_arg_chance()
                        .then(|| self.local_slice_args(1, depth, None))
                        .flatten() =>
                {
                    one.pop().unwrap_or(Arg::ArrayLit(vec![Expr::Lit(0.0)]))
                }
                ParamTy::Slice(_) => {
                    let slices = self.scope.slice_params();
                    if slices.is_empty() {
                        return None;
                    }
                    let (whole, ext) = self.v.pick(&slices).clone();
                    self.slice_arg(whole, ext)
                }
                _ => Arg::Float(self.expr(depth.saturating_sub(1))),
            });
        }
        Some(Expr::Call(h.name.clone(), args))
    }

    /// `r(e1, e2)[k]` (a leaf where the call cannot be made).
    pub(super) fn output_of(&mut self, h: &Helper, depth: u32) -> Expr {
        let m = h.outputs.unwrap_or(1);
        let Some(call) = self.vector_call(h, depth) else {
            return self.leaf();
        };
        let k = self.v.below(m);
        Expr::Output(Box::new(call), k)
    }

    /// `let [r1, r2] = r(e1, e2);` (`let r1 = r(e1, e2)[0]; …` for a `Vec`-valued helper), its
    /// names results of the function.
    pub(super) fn outputs_block(&mut self, h: &Helper) -> Vec<Stmt> {
        let Some(call) = self.vector_call(h, 2) else {
            return Vec::new();
        };
        self.bind_outputs(h, call)
    }

    /// `let [r1, r2] = call;` (`let r1 = call[0]; …` for a `Vec`-valued helper `h`), its names
    /// results of the function.
    pub(super) fn bind_outputs(&mut self, h: &Helper, call: Expr) -> Vec<Stmt> {
        let names: Vec<String> = (0..h.outputs.unwrap_or(1))
            .map(|_| self.fresh("r"))
            .collect();
        for name in &names {
            self.scope.declare(name, true);
        }
        // One or two of them are combined in the value.
        self.results.push(names[0].clone());
        if names.len() > 1 && self.v.chance(0.5) {
            let other = self.v.pick(&names[1..]).clone();
            self.results.push(other);
        }
        if h.vec {
            // A `Vec` is read by index: `let r1 = r(..)[0]; let r2 = r(..)[1];`.
            return names
                .into_iter()
                .enumerate()
                .map(|(k, name)| Stmt::Let {
                    name,
                    mutable: false,
                    value: Expr::Output(Box::new(call.clone()), k),
                })
                .collect();
        }
        vec![Stmt::LetOutputs { names, call }]
    }

    /// The value of an early `return`: an expression, or an array of them in a vector-valued
    /// function.
    pub(super) fn returned(&mut self, depth: u32) -> Expr {
        match self.outputs {
            Some(m) => Expr::Array((0..m).map(|_| self.expr(depth)).collect()),
            None => self.expr(depth),
        }
    }
}
