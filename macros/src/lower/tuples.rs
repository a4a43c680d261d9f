//! The outputs of a call of a function returning a tuple (`-> (f64, f64)`), read as a tuple:
//! they are the outputs of a vector-valued call, as `let [u, v] = f(…);` reads them.
//!
//! ```text
//! // Input:                              // Graph:
//! let (u, v) = polar(r, t);              // u = out₀ polar(r, t), v = out₁ polar(r, t)
//! let w = polar(r, t).1;                 // w = out₁ polar(r, t)
//! let p = polar(r, t); p.0 * p.1         // out₀ polar(r, t) · out₁ polar(r, t)
//! ```
//!
//! The callee is noted in [`Lowered::tuple_calls`](super::Lowered::tuple_calls): the generated
//! code reads its value through `__private::tuple_outputs(polar(r, t))`, an array, as the
//! value of an array function is read.

use syn::{Expr, Member, Pat};

use super::arrays::VectorCall;
use super::{Binding, Lower, Want};
use crate::ctxt::msg;
use crate::graph::{NodeId, Op};

impl Lower<'_> {
    /// `r.k` of `let r = f(…);` or `f(…).k`: output `k` of the call; any other field is
    /// opaque data.
    pub(super) fn field(&mut self, f: &syn::ExprField, want: Want) -> Option<NodeId> {
        if let Member::Unnamed(k) = &f.member
            && self.reads_call(&f.base)
        {
            return match self.vector_call(&f.base) {
                VectorCall::Call(c) => self.tuple_output(c, k.index as usize),
                VectorCall::Reported => None,
                VectorCall::NotOne => self.opaque(&Expr::Field(f.clone()), want),
            };
        }
        // `x.iter().fold((0.0, 1.0), …).0`: a fold to a tuple is a loop where `let` binds it.
        if let Expr::MethodCall(m) = &*f.base
            && m.method == "fold"
            && matches!(m.args.first(), Some(Expr::Tuple(_)))
        {
            self.cx.error_spanned_by(
                f,
                msg(
                    "a `fold` to a tuple is differentiated where `let` binds its elements",
                    "write `let (s, p) = x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v));` and read `s`",
                ),
            );
            return None;
        }
        self.opaque(&Expr::Field(f.clone()), want)
    }

    /// `r.k` where `r` is (bound to) a call: what [`field`](Self::field) reads as an output.
    pub(super) fn reads_tuple_field(&self, e: &Expr) -> bool {
        matches!(e, Expr::Field(f) if matches!(f.member, Member::Unnamed(_)) && self.reads_call(&f.base))
    }

    /// `f(…)` (not a closure bound to a name, not `from_fn`), or a name bound to a call.
    fn reads_call(&self, e: &Expr) -> bool {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        match self.bound_to(e) {
            Some(mut n) => {
                while let Some(&outer) = self.carried_calls.get(&n) {
                    n = outer;
                }
                matches!(self.g.op(n), Op::Call(..))
            }
            None => {
                matches!(e, Expr::Call(c) if self.bound_to(&c.func).is_none() && !Self::is_from_fn(c))
            }
        }
    }

    /// Output `k` of `call`, whose callee returns a tuple.
    fn tuple_output(&mut self, call: NodeId, k: usize) -> Option<NodeId> {
        if let Op::Call(f, _) = self.g.op(call) {
            self.tuple_calls.insert(f.0);
        }
        self.call_output(call, k)
    }

    /// `let (u, v) = f(…);` (or `= r;` of `let r = f(…);`): each name is an output of the
    /// call. `false` if `init` is not a call.
    pub(super) fn bind_call_tuple(&mut self, pt: &syn::PatTuple, init: &Expr) -> bool {
        if !self.reads_call(init) {
            return false;
        }
        let call = match self.vector_call(init) {
            VectorCall::Call(c) => c,
            VectorCall::Reported => return true,
            VectorCall::NotOne => return false,
        };
        for (j, p) in pt.elems.iter().enumerate() {
            match p {
                Pat::Ident(id) if id.subpat.is_none() && id.by_ref.is_none() => {
                    if let Some(e) = self.tuple_output(call, j) {
                        self.declare(id.ident.to_string(), Binding::Value(e));
                    }
                }
                Pat::Wild(_) => {}
                Pat::Rest(_) if j + 1 == pt.elems.len() => {}
                other => self.cx.error_spanned_by(
                    other,
                    msg(
                        "only names, `_` and a final `..` are supported in the tuple pattern of a call's outputs",
                        "write `let (u, v) = f(…);`, or read one output: `f(…).0`",
                    ),
                ),
            }
        }
        true
    }
}
