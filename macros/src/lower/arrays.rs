//! The value of a vector-valued function (`-> [T; M]`): the arrays it returns, and its outputs.
//!
//! ```text
//! // Input:                                      // Graph:
//! fn r(a: f64, b: f64) -> [f64; 2] {
//!     if a < 0.0 { return [0.0; 2]; }            // h₁ stands for [0, 0]
//!     [a * b, a + b]                             // h₂ stands for [a·b, a + b]
//! }                                              // value = select(a < 0, h₁, h₂)
//!                                                // outputs: select(a < 0, 0, a·b),
//!                                                //          select(a < 0, 0, a + b)
//! ```
//!
//! An array in the function's value — after `return`, at the end of the body or of a branch —
//! is a node that stands for it (an opaque symbol), its elements kept beside the graph. `if`,
//! `match` and `return` join these nodes with selects, as they join floats; once the body is
//! lowered, [`Lower::outputs`] projects the value onto each element, through the selects. A
//! local array in the body (`let w = [a, b, c];`, passed to another function as `&w`) is a
//! local array as in any function: a different node, which the value's position never holds.

use quote::ToTokens;
use syn::Expr;

use super::{Lower, Want};
use crate::ctxt::msg;
use crate::graph::{Kind, NodeId, Op};

/// What [`Lower::vector_call`] found.
pub(super) enum VectorCall {
    /// Not a call whose outputs are read: lowered as it would be otherwise.
    NotOne,
    /// The call node.
    Call(NodeId),
    /// An error was reported.
    Reported,
}

/// The elements of an array the function returns.
#[derive(Clone, Debug)]
pub(super) enum Elements {
    /// `[e0, e1, …]`, `std::array::from_fn(|k| …)`.
    Each(Vec<NodeId>),
    /// `[v; M]`: every output is `v` (`M` may be known only from another array).
    All(NodeId),
}

impl Lower<'_> {
    /// What the function's value must be: an array for a vector-valued function.
    pub(super) fn returns(&self) -> Want {
        if self.sig.outputs.is_some() {
            Want::Array
        } else {
            Want::Float
        }
    }

    /// `from_fn(|k| …)` of `std::array`, `core::array` or `array`.
    pub(super) fn is_from_fn(c: &syn::ExprCall) -> bool {
        let Expr::Path(p) = &*c.func else {
            return false;
        };
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match segs.as_slice() {
            [.., last] if last != "from_fn" => false,
            [_] => true,
            [.., array, _] => array == "array",
            [] => false,
        }
    }

    /// An array expression where the function's value is expected: `[e0, e1]`, `[v; M]`,
    /// `std::array::from_fn(|k| …)`. The node standing for it, or `None` after an error.
    pub(super) fn returned_array(&mut self, e: &Expr) -> Option<NodeId> {
        let elements = match e {
            Expr::Array(a) => {
                let values: Vec<Option<NodeId>> =
                    a.elems.iter().map(|x| self.expr(x, Want::Float)).collect();
                let values: Vec<NodeId> = values.into_iter().collect::<Option<_>>()?;
                self.count_outputs(values.len(), e)?;
                Elements::Each(values)
            }
            Expr::Repeat(r) => {
                let v = self.expr(&r.expr, Want::Float)?;
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = &*r.len
                {
                    let n = n
                        .base10_parse::<usize>()
                        .map_err(|e| self.cx.push(e))
                        .ok()?;
                    self.count_outputs(n, e)?;
                }
                Elements::All(v)
            }
            Expr::Call(c) => Elements::Each(self.array_from_fn(c)?),
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "internal error: not an array expression",
                        "please report this",
                    ),
                );
                return None;
            }
        };
        for v in Self::array_elements(&elements) {
            if self.g.kind(v) != Kind::Float {
                self.cx.error_spanned_by(
                    e,
                    msg(
                        "the outputs of a vector-valued function must be floats",
                        "give every element an `f64` (or `f32`) value",
                    ),
                );
                return None;
            }
        }
        let handle = self.sym_node(e.to_token_stream(), Kind::Other);
        self.arrays.insert(handle, elements);
        Some(handle)
    }

    /// A local array `z` given as a vector-valued function's value: its elements, `[z[0], …,
    /// z[M - 1]]` for the `M` outputs of the return type (which is the array's type, so that
    /// each element exists).
    pub(super) fn whole_array_returned(&mut self, e: &Expr) -> Option<NodeId> {
        let Some(m) = self.output_count else {
            self.cx.error_spanned_by(
                e,
                msg(
                    "a local array is returned here, and the return type does not give the number of outputs",
                    "write the length of the returned array as an integer literal (`-> [f64; 3]`)",
                ),
            );
            return None;
        };
        let span = syn::spanned::Spanned::span(e);
        let elements = (0..m).map(|k| -> Expr { syn::parse_quote_spanned!(span=> #e[#k]) });
        let listed: Expr = syn::parse_quote_spanned!(span=> [#(#elements),*]);
        self.returned_array(&listed)
    }

    fn array_elements(elements: &Elements) -> Vec<NodeId> {
        match elements {
            Elements::Each(v) => v.clone(),
            Elements::All(v) => vec![*v],
        }
    }

    /// Notes that an array of the function's value has `n` elements; an error if another said
    /// otherwise.
    fn count_outputs(&mut self, n: usize, at: &Expr) -> Option<()> {
        match self.output_count {
            Some(m) if m != n => {
                self.cx.error_spanned_by(
                    at,
                    msg(
                        format!("this array has {n} elements, and the function returns {m}"),
                        "return one element per output, the same number on every path",
                    ),
                );
                None
            }
            _ => {
                self.output_count = Some(n);
                Some(())
            }
        }
    }

    /// `std::array::from_fn(|k| body)`: `body` lowered once per output, `k` bound to each index.
    fn array_from_fn(&mut self, c: &syn::ExprCall) -> Option<Vec<NodeId>> {
        let closure = match c.args.iter().collect::<Vec<_>>().as_slice() {
            [Expr::Closure(f)] if f.inputs.len() == 1 => f.clone(),
            _ => {
                self.cx.error_spanned_by(
                    c,
                    msg(
                        "`from_fn` takes a closure of the output's index here",
                        "write `std::array::from_fn(|k| …)` with the closure in place",
                    ),
                );
                return None;
            }
        };
        let Some(m) = self.output_count else {
            self.cx.error_spanned_by(
                c,
                msg(
                    "`from_fn` needs the number of outputs, and the return type does not give it as a number",
                    "write the length of the returned array as an integer literal (`-> [f64; 100]`), or list the outputs (`[r0, r1]`)",
                ),
            );
            return None;
        };
        let captured = self.state.scopes.clone();
        let mut out = Vec::with_capacity(m);
        for k in 0..m {
            let index = self.g.int(i64::try_from(k).unwrap_or(i64::MAX));
            out.push(self.inline_closure(&closure, captured.clone(), vec![index], Want::Float)?);
        }
        Some(out)
    }

    /// Whether `v`, the value given for the function's, is an array (or, on a path that
    /// never produces the value, a constant placeholder): an array expression, or a call of a
    /// vector-valued function.
    pub(super) fn is_returned_array(&self, v: NodeId) -> bool {
        match self.g.op(v) {
            _ if self.arrays.contains_key(&v) => true,
            Op::Select(_, a, b) => self.is_returned_array(*a) && self.is_returned_array(*b),
            Op::Const(_) | Op::Call(..) => true,
            _ => false,
        }
    }

    /// Reports `value` (the tokens of `v`) if it is not an array, where a vector-valued
    /// function's value is expected.
    pub(super) fn check_returned(&mut self, v: NodeId, value: &dyn ToTokens) {
        if let Op::Call(..) = self.g.op(v) {
            if self.output_count.is_none() {
                self.cx.error_spanned_by(
                    value,
                    msg(
                        "the outputs of this call are returned, and the return type does not give their number",
                        "write the length of the returned array as an integer literal (`-> [f64; 2]`)",
                    ),
                );
            } else {
                self.check_call_outputs(v);
            }
        }
        if !self.is_returned_array(v) {
            self.cx.error_spanned_by(
                value,
                msg(
                    "a vector-valued function's value must be an array expression here",
                    "end the body (and each `return`) with the outputs: `[r0, r1]`, `[0.0; M]` or `std::array::from_fn(|k| …)`; a parameter is returned element by element, `[x[0], x[1]]`, and a local array by its name",
                ),
            );
        }
    }

    /// The outputs of a vector-valued function whose value is `value`: its projection onto
    /// each element, through the selects that joined the arrays.
    ///
    /// ```text
    /// select(c, h₁ = [a, b], h₂ = [d; 2])  →  [select(c, a, d), select(c, b, d)]
    /// ```
    pub(super) fn outputs(&mut self, value: NodeId) -> Vec<NodeId> {
        if self.cx.has_errors() {
            // What was reported may have left a value that is not an array.
            return Vec::new();
        }
        let Some(m) = self.output_count else {
            // Only `[v; N]` with a named `N`: the outputs cannot be counted.
            if let Some(o) = &self.sig.outputs {
                self.cx.error_spanned_by(
                    &o.len,
                    msg(
                        "the number of outputs is not known: the return type names it, and no array in the body lists them",
                        "write the length as an integer literal (`-> [f64; 2]`), or return an array that lists the outputs (`[r0, r1]`)",
                    ),
                );
            }
            return Vec::new();
        };
        (0..m).map(|k| self.project(value, k)).collect()
    }

    fn project(&mut self, n: NodeId, k: usize) -> NodeId {
        if let Some(elements) = self.arrays.get(&n) {
            return match elements {
                Elements::Each(v) => v.get(k).copied().unwrap_or_else(|| self.g.zero()),
                Elements::All(v) => *v,
            };
        }
        match *self.g.op(n) {
            Op::Select(c, a, b) => {
                let (a, b) = (self.project(a, k), self.project(b, k));
                self.g.select(c, a, b)
            }
            Op::Const(_) => n,
            Op::Call(..) => self
                .g
                .add(Op::CallOutput(n, u32::try_from(k).unwrap_or(u32::MAX))),
            _ => {
                let span = self
                    .g
                    .node(n)
                    .origin
                    .map_or_else(proc_macro2::Span::call_site, |o| self.spans[o.0 as usize]);
                self.cx.error_at(
                    span,
                    msg(
                        "internal error: an output of a vector-valued function is not an array element",
                        "please report this",
                    ),
                );
                self.g.zero()
            }
        }
    }

    /// Output `k` of `call`, a call of a vector-valued function (`r[k]` after `let r = f(…);`).
    pub(super) fn call_output(&mut self, call: NodeId, k: usize) -> Option<NodeId> {
        self.check_call_outputs(call).then(|| {
            let k = u32::try_from(k).unwrap_or(u32::MAX);
            self.g.add(Op::CallOutput(call, k))
        })
    }

    /// Whether `call` is a call whose outputs can be read.
    fn check_call_outputs(&self, call: NodeId) -> bool {
        matches!(self.g.op(call), Op::Call(..))
    }

    /// The outputs of a call of a vector-valued function bound by an array pattern or read by
    /// index: `let [u, v] = project(cam, p);`, `project(cam, p)[0]`, `r[1]`.
    pub(super) fn vector_call(&mut self, e: &Expr) -> VectorCall {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        if let Some(mut n) = self.bound_to(e) {
            // Inside a loop, a name bound before it reads a placeholder: the call behind it.
            while let Some(&outer) = self.carried_calls.get(&n) {
                self.read_calls.insert(n);
                n = outer;
            }
            return if matches!(self.g.op(n), Op::Call(..)) {
                VectorCall::Call(n)
            } else {
                VectorCall::NotOne
            };
        }
        let Expr::Call(c) = e else {
            return VectorCall::NotOne;
        };
        if Self::is_from_fn(c) || self.bound_to(&c.func).is_some() {
            return VectorCall::NotOne;
        }
        let Some(n) = self.expr(e, Want::Float) else {
            return VectorCall::Reported;
        };
        if matches!(self.g.op(n), Op::Call(..)) {
            return VectorCall::Call(n);
        }
        self.cx.error_spanned_by(
            e,
            msg(
                "only the outputs of a vector-valued differentiable function can be read by index here",
                "call a `#[differentiable]` function that returns `[f64; M]`, or index a slice parameter",
            ),
        );
        VectorCall::Reported
    }

    /// `r[k]` of a call's outputs: `k` must be an integer literal.
    pub(super) fn call_output_at(&mut self, call: NodeId, index: &Expr) -> Option<NodeId> {
        if let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(k),
            ..
        }) = index
            && let Ok(k) = k.base10_parse::<usize>()
        {
            return self.call_output(call, k);
        }
        let help = if matches!(index, Expr::Tuple(t) if t.elems.len() == 2) {
            // `r[(i, j)]` of a call returning a nalgebra matrix: the macro does not see its rows.
            "the outputs of a call returning a matrix are its elements in column-major order: read element `(i, j)` of a matrix of R rows as `r[i + R·j]` with the number written out (`r[2]` for `(0, 1)` of a `Matrix2`: nalgebra's linear index, the same element)".to_string()
        } else {
            let at = super::pretty(&index.to_token_stream());
            format!(
                "`{at}` is known only at run time, and a call's outputs are read one by one: write `r[0]`, `r[1]`, or bind a few with `let [r0, r1] = f(…);` and write the terms; in a loop, write one output as a `#[differentiable]` function of its index (`fn residual_at(…, k: usize) -> f64`) and call it there (`s += residual_at(…, {at}).powi(2);`), or return the sum from the called function"
            )
        };
        self.cx.error_spanned_by(
            index,
            msg(
                "the outputs of a vector-valued call can only be read at a literal index (`r[0]`)",
                help,
            ),
        );
        None
    }
}
