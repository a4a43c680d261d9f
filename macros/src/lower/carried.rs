//! Local arrays carried from one iteration of a loop to the next: a hidden-state vector.
//!
//! ```text
//! // Input:                                   // Graph:
//! let mut h = vec![0.0; n];                   // h₀ = Table(j ∈ 0..n: 0)
//! for t in 0..x.len() {                       // H = Carry(c, t): h at the start of iteration t
//!     let mut next = vec![0.0; n];            //
//!     for j in 0..n {                         // next = Table(j ∈ 0..n: tanh(w·H[j] + x[t]))
//!         next[j] = (w * h[j] + x[t]).tanh();
//!     }
//!     h = next;                               // Coupled(c, t: init h₀, body next)
//! }                                           // h₁ = Component(Coupled, 0)
//! ```
//!
//! An array the body of a loop both reads and changes (`h = next;`, or in place, `for j in 0..n
//! { h[j] = … h[j] … }`) is, while the body is lowered, its value at the start of the
//! iteration: a `Carry` of kind `Array` whose length is the array's before the loop. After the
//! body it is a member of the loop's coupled state (`Op::Coupled`), beside the float variables
//! it reads or that read it (a loss summed along the sequence). The forward loop keeps the
//! array in a vector and saves a copy of it at the start of every iteration; the reverse sweep
//! restores it, runs the body again, and carries one adjoint vector per array (see
//! `diff::Sweep::coupled`).
//!
//! In a loop nested in another (layers × time), the inner loop's state starts from the outer
//! one's and is a member of the inner loop's coupled state, recomputed in each iteration of
//! the outer loop's reverse sweep. The array must keep its length; an array the loop adds into
//! (`z[k] += …` in a nested loop) is an accumulation (`lower::buffers`), not carried state.
//!
//! An array loops nested in the body write is carried whether the body reads it or not (a
//! table filled row by row, `z[i * m + j] = …`, or the whole array rewritten each iteration):
//! the elements an iteration does not write are the ones the iteration before left.

use std::collections::HashMap;

use syn::Expr;

use super::loops::Member;
use super::{Binding, Lower};
use crate::ctxt::msg;
use crate::graph::{Kind, NodeId};

/// A local array carried across the iterations of a loop.
#[derive(Clone, Copy, Debug)]
pub(super) struct CarriedArray {
    /// Where its binding is.
    pub scope: (usize, usize),
    /// Its value before the loop.
    pub init: NodeId,
    /// Its value at the start of an iteration (a `Carry` of kind `Array`).
    pub carry: NodeId,
}

impl Lower<'_> {
    /// Before the body `stmts` of loop `v`: each local array in scope that the body reads and
    /// changes (`h = …`, or element by element in loops nested in it, `h[j] = …`), or that loops
    /// nested in it write without the body reading it (a table filled row by row), is bound to
    /// its value at the start of an iteration. An array the body writes at its own top level
    /// (`h[t] = …`) or adds into (`+=` in a nested loop: an accumulation) is left to the rules
    /// of local arrays; one of those loops write is then noted in `Lower::uncarried`, with why.
    ///
    /// ```text
    /// for i in 0..n {                        // Z = Carry(c, i): z at the start of iteration i
    ///     for j in 0..m {                    // row = Table(j ∈ 0..m: a[i]·b[j])
    ///         z[i * m + j] = a[i] * b[j];    // Coupled(c, i: init z₀, body Z with row at i·m)
    ///     }
    /// }
    /// ```
    pub(super) fn carry_arrays(
        &mut self,
        v: u32,
        stmts: &[syn::Stmt],
        block: &syn::Block,
        pat: &syn::Pat,
    ) -> Vec<CarriedArray> {
        if self.enclosing.contains(&super::Enclosing::Closure) {
            return Vec::new();
        }
        let reads = super::loops::read_names(stmts);
        let mut changed = super::loops::assigned_names(block);
        changed.extend(super::buffers::element_written_names(stmts));
        let top = top_level_element_writes(stmts);
        // An array written element by element in loops nested in the body (`for j in 0..m {
        // z[i * m + j] = …; }`) changes in every iteration, each from the one before (the
        // elements this iteration leaves alone are the last one's): carried too, read or not.
        let nested_writes = written_by_nested_loops(stmts);
        let lets = super::loops::let_names(block);
        let pushed = pushed_names(stmts);
        let index = match pat {
            syn::Pat::Ident(p) => Some(p.ident.to_string()),
            _ => None,
        };
        // An array the body adds into only at the index of a loop nested in it and also reads
        // (`for j in 0..n { h[j] += w * h[j]; }`) is updated in place: carried, not an
        // accumulation. One a nested loop adds into at other indices stays an accumulation.
        let read_besides = names_read_besides_additions(stmts);
        let accumulated_inside = added_by_nested_loops(stmts);
        // So is one whose additions read what the loop carries (`acc[j] += h[j] * x[t]`, `h`
        // carried): `acc[j] = acc[j] + …`.
        let carried_values: Vec<String> = read_besides
            .iter()
            .filter(|name| changed.contains(name))
            .filter(|name| matches!(self.lookup(name), Some(Binding::Value(n)) if matches!(self.g.kind(n), Kind::Float | Kind::Array)))
            .cloned()
            .collect();
        let reads_carried = super::buffers::added_from(stmts, &carried_values);
        let added: Vec<String> = super::buffers::added_names(stmts, index.as_deref())
            .into_iter()
            .filter(|name| {
                !(read_besides.contains(name) || reads_carried.contains(name))
                    || accumulated_inside.contains(name)
            })
            .collect();
        let Some((lo, hi)) = self.g.loop_bounds(v) else {
            return Vec::new();
        };
        let around = self.g.loops_of(lo) | self.g.loops_of(hi) | 1 << v;
        let mut out = Vec::new();
        for s in 0..self.state.scopes.len() {
            for e in 0..self.state.scopes[s].len() {
                let (name, b) = self.state.scopes[s][e].clone();
                let Binding::Value(n) = b else { continue };
                let visible = self.state.scopes[s][e + 1..]
                    .iter()
                    .chain(self.state.scopes[s + 1..].iter().flatten())
                    .all(|(m, _)| *m != name);
                let blocked = [
                    (&top, Uncarried::TopLevel),
                    (&lets, Uncarried::Declared),
                    (&pushed, Uncarried::Pushed),
                    (&added, Uncarried::Added),
                ]
                .into_iter()
                .find_map(|(names, why)| names.contains(&name).then_some(why));
                let read = reads.contains(&name);
                if !visible
                    || self.g.kind(n) != Kind::Array
                    || !(read || nested_writes.contains(&name))
                    || !changed.contains(&name)
                {
                    continue;
                }
                if let Some(why) = blocked {
                    if nested_writes.contains(&name) {
                        self.uncarried.push((v, name, why));
                    }
                    continue;
                }
                let len = self.g.array_len(n);
                let c = self.g.new_recurrence();
                let mask = around | self.g.loops_of(n) | self.g.loops_of(len);
                let carry = self.g.array_carry(c, v, mask, len);
                self.state.scopes[s][e].1 = Binding::Value(carry);
                out.push(CarriedArray {
                    scope: (s, e),
                    init: n,
                    carry,
                });
            }
        }
        out
    }

    /// Once the loop's frame of local arrays is open: a carried array is the loop's own, read
    /// and written as the iteration sees it (not an array the loop writes element by element
    /// or adds into).
    pub(super) fn own_carried_arrays(&mut self, arrays: &[CarriedArray]) {
        let Some(frame) = self.array_loops.last_mut() else {
            return;
        };
        let carried = |n: NodeId| arrays.iter().any(|a| a.carry == n);
        frame.forget(&carried);
    }

    /// [`Lower::carried_split`] with the carried `arrays` too: unchanged, each with its value
    /// before the loop; changed, the others.
    pub(super) fn carried_split_with(
        &mut self,
        outer: &[(usize, usize, Binding, NodeId)],
        arrays: &[CarriedArray],
    ) -> (HashMap<NodeId, NodeId>, Vec<NodeId>) {
        let (mut unchanged, mut changed) = self.carried_split(outer);
        for a in arrays {
            let (s, e) = a.scope;
            if self.state.scopes[s][e].1 == Binding::Value(a.carry) {
                unchanged.insert(a.carry, a.init);
            } else {
                changed.push(a.carry);
            }
        }
        (unchanged, changed)
    }

    /// After the body: the arrays that are members of the loop's coupled state, each with its
    /// value after an iteration (see [`carried_member`](Self::carried_member)); every carry
    /// gets its value before the loop in `restore`.
    pub(super) fn carried_members(
        &mut self,
        arrays: &[CarriedArray],
        restore: &mut HashMap<NodeId, NodeId>,
        span: proc_macro2::Span,
    ) -> Vec<Member> {
        let mut members = Vec::new();
        for a in arrays {
            restore.insert(a.carry, a.init);
            if let Some((_, after)) = self.carried_member(a, span) {
                members.push(Member {
                    scope: a.scope,
                    placeholder: a.carry,
                    init: a.init,
                    after,
                });
            }
        }
        members
    }

    /// After the body: the member of the loop's coupled state each carried array is, or, where
    /// the body left it as it was, its value before the loop. `None` (reported) where the body
    /// gives it another length.
    pub(super) fn carried_member(
        &mut self,
        a: &CarriedArray,
        span: proc_macro2::Span,
    ) -> Option<(NodeId, NodeId)> {
        let (s, e) = a.scope;
        let name = self.state.scopes[s][e].0.clone();
        let Binding::Value(after) = self.state.scopes[s][e].1 else {
            return None;
        };
        if after == a.carry {
            self.state.scopes[s][e].1 = Binding::Value(a.init);
            return None;
        }
        if matches!(self.g.op(after), crate::graph::Op::Carry { .. }) {
            self.cx.error_at(
                span,
                msg(
                    format!("the local array `{name}` takes the value another array carried across this loop's iterations had at the start of the iteration (`{name} = other;`)"),
                    format!("copy the elements in a loop, `for j in 0..{name}.len() {{ {name}[j] = other[j]; }}`"),
                ),
            );
            self.state.scopes[s][e].1 = Binding::Value(a.init);
            return None;
        }
        let len = self.g.array_len(a.carry);
        let new_len = self.g.array_len(after);
        if self.g.kind(after) != Kind::Array || new_len != len {
            self.cx.error_at(
                span,
                msg(
                    format!("the local array `{name}` is carried across this loop's iterations, and an iteration gives it a new value whose length may differ from its length before the loop"),
                    format!("keep `{name}`'s length: create the new value with the length of the old (`vec![0.0; {name}.len()]`), or write its elements in place (`for j in 0..{name}.len() {{ {name}[j] = …; }}`)"),
                ),
            );
            self.state.scopes[s][e].1 = Binding::Value(a.init);
            return None;
        }
        Some((a.carry, after))
    }
}

/// Why a loop does not carry an array the loops nested in its body write (read by the body or
/// not): the refusal of `Lower::leave_array_loop` says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Uncarried {
    /// The body also writes an element outside those loops (`z[i] = …`).
    TopLevel,
    /// The body declares another array of the same name.
    Declared,
    /// The body pushes to it.
    Pushed,
    /// The body adds into it as a sum of its own (`z[k] += …`: an accumulation).
    Added,
}

impl Uncarried {
    /// The refusal: what the body does besides, and how to write it.
    pub(super) fn message(self, name: &str) -> (String, String) {
        let start = format!(
            "the local array `{name}` is written in a loop nested in this one, which carries it from one iteration to the next only where"
        );
        let own = format!("or declare `{name}` inside this loop if each iteration has its own");
        match self {
            Self::TopLevel => (
                format!(
                    "{start} the body writes it only in loops nested in it, and this body also writes an element of `{name}` outside them"
                ),
                format!(
                    "move the write into the nested loop, choosing by its index (`for j in 0..m {{ {name}[i * m + j] = if j == 0 {{ a }} else {{ b }}; }}`), so that the body writes `{name}` only there; {own}"
                ),
            ),
            Self::Declared => (
                format!("{start} the body declares no other `{name}`, and this body declares one"),
                format!("rename the other `{name}` the body declares; {own}"),
            ),
            Self::Pushed => (
                format!("{start} its length stays the same, and this body also pushes to `{name}`"),
                format!(
                    "create `{name}` with the length it will have, `vec![0.0; n]`, and write its elements in the nested loops; {own}"
                ),
            ),
            Self::Added => (
                format!(
                    "{start} what adds into it updates an element in place, and this body also adds into `{name}` (`{name}[k] += …`) as a sum of its own: where the body reads `{name}` nowhere else, from a loop nested two deep, or at an index other than the nested loop's"
                ),
                format!(
                    "add in a float first and write the sum, `let mut s = 0.0; for k in … {{ s += …; }} {name}[j] = s;` (or `{name}[j] = {name}[j] + s;`); {own}"
                ),
            ),
        }
    }
}

/// The arrays loops nested in `stmts` (not `stmts` themselves) write an element of (`z[…] = …`,
/// `z[…] += …`), at any depth.
fn written_by_nested_loops(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.0
                .extend(super::buffers::element_written_names(&f.body.stmts));
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.0
                .extend(super::buffers::element_written_names(&w.body.stmts));
        }
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.0
                .extend(super::buffers::element_written_names(&l.body.stmts));
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// The arrays `stmts` write an element of outside any loop nested in them.
fn top_level_element_writes(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl Finder {
        fn note(&mut self, left: &Expr) {
            if let Expr::Index(ix) = left
                && let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
            {
                self.0.push(id.to_string());
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.note(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if super::syntax::compound_op(&b.op).is_some() {
                self.note(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
        fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
        fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// The names `stmts` read other than as the array an element of which is added into (`z` of
/// `z[k] += …`, whose index and value are read).
fn names_read_besides_additions(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(id) = p.path.get_ident() {
                self.0.push(id.to_string());
            }
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if super::syntax::compound_op(&b.op).is_some()
                && let Expr::Index(ix) = &*b.left
                && matches!(&*ix.expr, Expr::Path(_))
            {
                self.visit_expr(&ix.index);
                self.visit_expr(&b.right);
                return;
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            match &*a.left {
                Expr::Path(_) => {}
                Expr::Index(ix) if matches!(&*ix.expr, Expr::Path(_)) => {
                    self.visit_expr(&ix.index);
                }
                left => self.visit_expr(left),
            }
            self.visit_expr(&a.right);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            // `z.len()` reads no element.
            if !(m.method == "len" && matches!(&*m.receiver, Expr::Path(_))) {
                self.visit_expr(&m.receiver);
            }
            for a in &m.args {
                self.visit_expr(a);
            }
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// The name a `for` loop binds its index to: `i` in `for i in …`, and `enumerate`'s count in
/// `for (i, v) in ….enumerate()` (also followed by `rev`, `take` and `skip`, which keep each
/// item's count). Where the count is not the index the body writes at (an `enumerate` over a
/// run starting elsewhere), the write is refused when it is lowered.
fn index_name(f: &syn::ExprForLoop) -> Option<String> {
    match &*f.pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Tuple(t) => {
            let mut e = super::loops::strip_parens(&f.expr);
            while let syn::Expr::MethodCall(m) = e
                && matches!(
                    (m.method.to_string().as_str(), m.args.len()),
                    ("rev", 0) | ("take" | "skip", 1)
                )
            {
                e = super::loops::strip_parens(&m.receiver);
            }
            let counted = matches!(e, syn::Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty());
            match t.elems.first() {
                Some(syn::Pat::Ident(p)) if counted => Some(p.ident.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The arrays a loop directly in `stmts` adds into as an accumulation of its own (`z[k] += …`
/// at an index other than its own, or in a loop nested in it).
fn added_by_nested_loops(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            let index = index_name(f);
            self.0
                .extend(super::buffers::added_names(&f.body.stmts, index.as_deref()));
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.0
                .extend(super::buffers::added_names(&w.body.stmts, None));
        }
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.0
                .extend(super::buffers::added_names(&l.body.stmts, None));
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// The names `stmts` push to (`z.push(…)`).
fn pushed_names(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "push"
                && let Expr::Path(p) = &*m.receiver
                && let Some(id) = p.path.get_ident()
            {
                self.0.push(id.to_string());
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}
