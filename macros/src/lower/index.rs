//! Indexing: elements of slice parameters and of windows (`x[i]`, `w[j]`), two-level data
//! (`inputs[k][j]`), fields of data structs (`data.xs[i]`), and the integer indices they need.

use quote::{ToTokens, quote};
use syn::Expr;

use super::arrays::VectorCall;
use super::{Binding, Lower, Want, pretty};
use crate::ctxt::msg;
use crate::graph::{IntOp, Kind, NodeId, Op};

impl Lower<'_> {
    /// `x[i]`: an element of a slice parameter (differentiated or data).
    pub(super) fn index(&mut self, e: &syn::ExprIndex, want: Want) -> Option<NodeId> {
        // `r[0]` of `let r = residual(…);`, `residual(…)[0]`: an output of a vector-valued call.
        match self.vector_call(&e.expr) {
            VectorCall::Call(c) => return self.call_output_at(c, &e.index),
            VectorCall::Reported => return None,
            VectorCall::NotOne => {}
        }
        if let Some(table) = self.local_array(&e.expr) {
            return self.array_read(table, &e.index);
        }
        match self.bound_to(&e.expr) {
            Some(n) if matches!(self.g.op(n), Op::Slice(_) | Op::Sym(_, Kind::Other)) => {
                let i = self.integer_index(&e.index)?;
                // `w[j]` of a window or chunk reads its slice at `start + j`.
                if let Some(view) = self.views.get(&n).copied() {
                    let at = self.g.int_bin(IntOp::Add, view.start, i);
                    return Some(self.element(view.slice, at));
                }
                Some(self.element(n, i))
            }
            _ => {
                if let Some(n) = self.two_level(e, want) {
                    return Some(n);
                }
                // `data.xs[i]`: a field of a data parameter, read as a data slice.
                if let Some(field) = self.data_field(&Expr::Index(e.clone())) {
                    let i = self.integer_index(&e.index)?;
                    let n = self.sym_node(field.to_token_stream(), Kind::Other);
                    if want == Want::Int {
                        self.int_slices.push(n);
                    }
                    return Some(self.element(n, i));
                }
                self.opaque(&Expr::Index(e.clone()), want)
            }
        }
    }

    /// `inputs[k][j]` of a data parameter (or a field of one): `at2(&inputs[..], k, j)`, a
    /// constant for the derivative. An integer read (an index: `edges[k][0]`) is converted to
    /// `usize`, which is what it is.
    pub(super) fn two_level(&mut self, e: &syn::ExprIndex, want: Want) -> Option<NodeId> {
        let Expr::Index(row) = &*e.expr else {
            return None;
        };
        let base = &*row.expr;
        let is_data = self.data_field_base(base).is_some()
            || self.bound_to(base).is_some_and(|n| {
                matches!(self.g.op(n), Op::Sym(_, Kind::Other)) && !self.views.contains_key(&n)
            });
        if !is_data {
            return None;
        }
        let i = self.expr(&row.index, Want::Int)?;
        let j = self.expr(&e.index, Want::Int)?;
        if self.g.kind(i) != Kind::Int || self.g.kind(j) != Kind::Int {
            self.cx.error_spanned_by(
                e,
                msg(
                    "the indices of a two-level read must be integers",
                    "index with loop variables or integer expressions",
                ),
            );
            return None;
        }
        let whole = self.sym_node(quote! { &#base[..] }, Kind::Other);
        let at2 = quote! { ::symgrad::__private::at2 };
        let f = self.symbol(at2.clone(), pretty(&at2));
        let read = self.g.add(Op::Call(f, vec![whole, i, j]));
        // Integers (`edges[e][0]`) where the parameter's type says so, or the context does.
        let int_rows = match base {
            Expr::Path(p) => p.path.get_ident().is_some_and(|id| {
                self.sig
                    .params
                    .iter()
                    .any(|q| q.ident == *id && crate::signature::holds_integer_rows(&q.ty))
            }),
            _ => false,
        };
        if want == Want::Int || int_rows {
            let usize_ty = quote! { usize };
            let ty = self.symbol(usize_ty, "usize".into());
            return Some(self.g.add(Op::FloatToInt(read, ty)));
        }
        Some(read)
    }

    /// `data.xs` of `data.xs[i]` (through any fields, `data.a.b[i]`, and parentheses), where
    /// `data` is a data parameter: what it indexes.
    pub(super) fn data_field<'e>(&self, e: &'e Expr) -> Option<&'e Expr> {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        let Expr::Index(ix) = e else { return None };
        self.data_field_base(&ix.expr)
    }

    /// `data.xs` (through any fields, and parentheses), where `data` is a data parameter.
    pub(super) fn data_field_base<'e>(&self, e: &'e Expr) -> Option<&'e Expr> {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        let Expr::Field(_) = e else {
            return None;
        };
        let mut root = e;
        while let Expr::Field(f) = root {
            root = &f.base;
        }
        let Expr::Path(p) = root else { return None };
        let name = p.path.get_ident()?.to_string();
        let param = self
            .param_nodes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)?;
        (self.data_params.contains(&name) && self.lookup(&name) == Some(Binding::Value(param)))
            .then_some(e)
    }

    /// `w.len()` of a window or chunk bound to a name.
    pub(super) fn view_len(&self, e: &Expr) -> Option<NodeId> {
        let n = self.bound_to(e)?;
        self.views.get(&n).map(|v| v.len)
    }

    /// Element `i` of a slice, array or window bound to a name.
    pub(super) fn index_node(&mut self, n: NodeId, i: NodeId) -> NodeId {
        if let Some(view) = self.views.get(&n).copied() {
            let at = self.g.int_bin(IntOp::Add, view.start, i);
            return self.element(view.slice, at);
        }
        self.element(n, i)
    }

    /// The index of `x[i]`, which must be an integer.
    pub(super) fn integer_index(&mut self, index: &Expr) -> Option<NodeId> {
        let i = self.expr(index, Want::Int)?;
        if self.g.kind(i) == Kind::Int {
            return Some(i);
        }
        self.cx.error_spanned_by(index, msg("an index must be an integer", "index with the loop variable or an integer expression; a float index has no derivative. An integer read from a field of a data struct needs its type, which the macro cannot see: `let k: usize = data.group[i];`"));
        None
    }

    pub(super) fn element(&mut self, slice: NodeId, i: NodeId) -> NodeId {
        if self.g.kind(slice) == Kind::Array {
            // An element of a local array, read by an iterator: where the error points.
            let span = self
                .g
                .current_origin
                .map_or_else(proc_macro2::Span::call_site, |o| self.spans[o.0 as usize]);
            let at = syn::Ident::new("element", span);
            return self
                .array_element_at(slice, i, &at)
                .unwrap_or_else(|| self.g.zero());
        }
        match *self.g.op(slice) {
            Op::Slice(k) => self.g.add(Op::Element(k, i)),
            Op::Sym(s, _) if self.int_slices.contains(&slice) => self.g.add(Op::IntIndex(s, i)),
            Op::Sym(s, _) => self.g.add(Op::Index(s, i)),
            _ => self.g.zero(),
        }
    }
}
