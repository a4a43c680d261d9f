//! Local arrays: `vec![v; n]`, `[v; N]`, `vec![a, b, c]`, written element by element and read
//! anywhere after.
//!
//! ```text
//! // Input:                                   // Graph:
//! let mut z = vec![0.0; k];                   // z₀ = Table(c ∈ 0..k: 0)
//! for c in 0..k { z[c] = w[c] * x; }          // z₁ = Table(c ∈ 0..k: w[c]·x)
//! z[0] += 1.0;                                // z₂ = Table(j ∈ 0..k: if j == 0 { z₁[0] + 1 } else { z₁[j] })
//! z[1] * z[2]                                 // out = z₂[1] · z₂[2]
//! ```
//!
//! An array is a value: each write makes a new version of it (a [`Op::Table`]), and a read is an
//! [`Op::At`] of the version in scope. A loop that writes element `c` in iteration `c` makes one
//! new version, the loop itself (`for c in lo..hi { z[c] = e }` is `Table(c ∈ lo..hi: e)`,
//! written into the old version's `lo..hi`); inside it, `z[c]` reads what this iteration wrote.
//! A reversed loop, `for c in (lo..hi).rev()`, writes the same elements from the end: its
//! iterations' elements, a table in the order they were written, are flipped into place when
//! the loop ends (see `Lower::flipped`). A write elsewhere makes a version in which one element
//! differs. The generated code fills each version the program reads into a vector once; the
//! reverse pass gives each its adjoint vector (see `diff::Sweep::table`).
//!
//! Adding into an array in loops (`for i { for j { y[j] += a[i·m + j]·x[i] } }`, a histogram
//! `h[bin[i]] += w[i]`, any index) makes one version when the outermost of those loops ends:
//! an [`Op::Filled`]: a vector ([`Op::Alloc`], a copy of the array before), then the loops of
//! additions into it (`Op::Accumulate` effects), which the generated code runs in place; in the reverse pass each added value gets
//! the adjoint of the element it was added to.
//!
//! A write under `if` (or a `match`, or after a `continue`) keeps the old element where the
//! condition fails: in a loop, the iteration's element is a local of the body (see
//! `declare_written_elements`), merged by the branches like any other; outside loops, the
//! versions the branches leave are merged element by element (`Lower::merge_arrays`).
//!
//! An addition under a condition in the loops adding into an array (`if w[i] > 0.0 { h[k] +=
//! w[i]; }`) is a guarded effect: it adds where the branches taken since the outermost of those
//! loops began hold.
//!
//! An array written in a loop nested in another loop (`for i { for j { z[i * m + j] = e } }`)
//! is carried across the outer loop (`lower::carried`), read by its body or not: each outer
//! iteration patches its elements into the value the one before left. Where the outer loop
//! cannot carry it, `Lower::leave_array_loop` says why (`carried::Uncarried`).
//!
//! Rejected, with an error that says how to write it: versions of different lengths after a
//! branch, a loop assigning (`=`) at an index other than its own, a read of another element of an array the loop is writing, a read of an array
//! inside the loops adding into it, and elements that read a value the loop carries together
//! with another (`t = a + b; a = b; b = t; z[c] = a;`; a float whose update reads only itself,
//! `s += x[c]; z[c] = s;`, is folded first and the elements read its values, see
//! `Lower::fold_read_scans`).

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::Expr;

use super::syntax::ArithOp;
use super::{Binding, Enclosing, Lower, Want};
use crate::ctxt::msg;
use crate::graph::{Cmp, IntOp, Kind, NodeId, Op};

/// A `for` loop being lowered, for the element writes in its body.
pub(super) struct ArrayLoop {
    /// The loop's number, the index its body writes arrays at (its own, or the item `j` of `for
    /// j in (a..b).rev()`) and its bounds.
    v: u32,
    index: NodeId,
    /// Where `index` is the reversed item: the end of the range reversed, where the elements
    /// written end (they are flipped when the loop ends).
    pub(super) flip: Option<NodeId>,
    lo: NodeId,
    hi: NodeId,
    /// How many scopes were open outside the loop: an array declared in one of them is written
    /// by the loop (pending until it ends); one declared in the body is the body's own.
    depth: usize,
    /// How many branches (`if`, `match`, the rest of a body after `continue`) were open.
    conditional: u32,
    /// The arrays the loop writes: the version before the loop, its name, and this iteration's
    /// element.
    writes: Vec<(NodeId, String, NodeId)>,
    /// Every array in scope outside the loop, where its binding is and its version: no nested
    /// loop may rebind them.
    before: Vec<(usize, usize, NodeId)>,
    /// The versions, before the loop, of the arrays its body writes anywhere (`z[…] = …`):
    /// the body reads them only at the loop's index, before or after the write (an element
    /// another iteration wrote is not known while the loop is lowered).
    written: Vec<(NodeId, String)>,
    /// The arrays the loop pushes to (`z.push(e)`, once an iteration, at the top level of its
    /// body): the version before the loop, its name, and this iteration's element.
    pushes: Vec<(NodeId, String, NodeId)>,
    /// The arrays the body pushes to anywhere (found by syntax before lowering): it may not
    /// read them, nor their length.
    growing: Vec<(NodeId, String)>,
    /// The names the body reads (see `loops::read_names`): an array it reads and reassigns is
    /// carried from one iteration to the next.
    reads: Vec<String>,
    /// The arrays the body writes at an offset from the loop's index (`z[off + i] = …`, `off`
    /// the same in every iteration): the array and the offset.
    pub(super) offsets: Vec<(NodeId, NodeId)>,
    /// Of those, the arrays the body only adds into (`z[k] += e` at any index, or in a loop
    /// nested in this one): it may not read them at all.
    added_into: Vec<NodeId>,
    /// The accumulations into arrays made in this loop's body: the array's version before the
    /// outermost loop adding into it, its name, the buffer, the effects (`z[k] += e`, loops of
    /// them), and whether this loop is that outermost one (then it makes the new version).
    accumulated: Vec<Accumulated>,
    /// The arrays the body reads one or two steps back (`z[i - 1]`, `z[j + 1]` in a reversed
    /// loop; `z[i - 2]`): a scan, which carries the previous elements in hidden floats (see
    /// `declare_scans`): the array's version before the loop, the index read, the array's
    /// name, and the steps back (1 or 2).
    scans: Vec<(NodeId, NodeId, String, u32)>,
    /// The scans whose values other updates or elements of this loop read (`acc += z[i] *
    /// x[i];`), folded before the others: each one's hidden float (its placeholder) mapped to
    /// the element the previous iteration wrote, and its update to the element this one wrote,
    /// both read from its values (see `Lower::scan_values`).
    scan_values: HashMap<NodeId, NodeId>,
    /// What a `while` or `loop` loop a counter decides is called (see
    /// `misplaced::desugared_keyword`): a `for` loop over a hidden index, which the body cannot
    /// write arrays at.
    pub(super) keyword: Option<&'static str>,
    /// The name of the index the body writes arrays at (`i` of `for i in …`), and of
    /// `enumerate`'s count where it is not that index (`c` of `for (c, w) in
    /// x.windows(2).enumerate()`).
    pub(super) index_name: Option<String>,
    pub(super) count_name: Option<String>,
    /// The body's element assignments (see `misplaced::assigned_elements`), and the arrays
    /// whose writes were reported as none a loop can make (see `Lower::unwritable`).
    pub(super) assigned: Vec<(String, Expr)>,
    pub(super) reported: Vec<NodeId>,
}

impl ArrayLoop {
    /// The index at which this loop writes `table`: its own, or its own plus the offset the
    /// body writes at (`z[off + i]`).
    fn own_index(&self, table: NodeId, g: &crate::graph::Graph) -> NodeId {
        match self.offsets.iter().find(|o| o.0 == table) {
            Some(&(_, off)) => g
                .find(&Op::IntBin(IntOp::Add, off, self.index))
                .or_else(|| g.find(&Op::IntBin(IntOp::Add, self.index, off)))
                .unwrap_or(self.index),
            None => self.index,
        }
    }

    /// Whether `i` is the index at which this loop writes `table`, [`Self::own_index`], spelled
    /// either way round (`z[off + i]` or `z[i + off]`).
    fn is_own_index(&self, table: NodeId, i: NodeId, g: &crate::graph::Graph) -> bool {
        if i == self.own_index(table, g) {
            return true;
        }
        let Some(&(_, off)) = self.offsets.iter().find(|o| o.0 == table) else {
            return false;
        };
        matches!(*g.op(i), Op::IntBin(IntOp::Add, a, b)
            if (g.same_int(a, off) && b == self.index) || (a == self.index && g.same_int(b, off)))
    }

    /// Whether `i` is this loop's index or an offset from it (`off + i`), so that a write at
    /// `i` the loop does not own is one at a second offset.
    fn at_another_offset(&self, i: NodeId, g: &crate::graph::Graph) -> bool {
        i == self.index
            || matches!(g.op(i), Op::IntBin(IntOp::Add, a, b) if *a == self.index || *b == self.index)
    }

    /// Forgets the arrays `carried` picks (carried across the loop's iterations, see
    /// `lower::carried`): the loop may rebind them, read any of their elements and write them
    /// in the loops nested in it.
    pub(super) fn forget(&mut self, carried: &dyn Fn(NodeId) -> bool) {
        self.before.retain(|b| !carried(b.2));
        self.offsets.retain(|o| !carried(o.0));
        self.written.retain(|w| !carried(w.0));
        self.added_into.retain(|n| !carried(*n));
    }
}

/// Accumulations into one array in one loop body (see [`ArrayLoop::accumulated`]).
pub(super) struct Accumulated {
    old: NodeId,
    name: String,
    /// The vector added into (an `Op::Alloc`).
    alloc: NodeId,
    effects: Vec<NodeId>,
    owner: bool,
}

impl Lower<'_> {
    /// `vec![v; n]`, `[v; N]`, `vec![a, b, c]`, `[a, b, c]`: a new local array.
    pub(super) fn new_array(&mut self, e: &Expr) -> Option<NodeId> {
        let parts = match e {
            Expr::Repeat(r) => Parts::Repeat(r.expr.clone(), r.len.clone()),
            Expr::Array(a) => Parts::List(a.elems.iter().cloned().collect()),
            Expr::Macro(m) if m.mac.tokens.is_empty() => {
                self.cx.error_spanned_by(
                    e,
                    msg(
                        "an empty `vec![]` has no length to differentiate with",
                        "create it with the length it will have, `vec![0.0; n]`, and write its elements (`z[i] = …`)",
                    ),
                );
                return None;
            }
            Expr::Macro(m) => match m.mac.parse_body_with(parse_vec) {
                Ok(p) => p,
                Err(err) => {
                    self.cx.push(err);
                    return None;
                }
            },
            _ => return None,
        };
        let zero = self.g.int(0);
        match parts {
            Parts::Repeat(value, len) => {
                let n = self.integer_index(&len)?;
                let value = self.array_element(&value)?;
                let v = self.new_loop(zero, n, e)?;
                Some(self.g.add(Op::Table {
                    v,
                    lo: zero,
                    hi: n,
                    body: value,
                }))
            }
            Parts::List(elems) => {
                let values: Vec<NodeId> = elems
                    .iter()
                    .map(|x| self.array_element(x))
                    .collect::<Option<_>>()?;
                let n = self.g.int(i64::try_from(values.len()).ok()?);
                let v = self.new_loop(zero, n, e)?;
                let index = self.g.add(Op::LoopVar(v));
                let (last, rest) = values.split_last()?;
                let mut body = *last;
                for (k, x) in rest.iter().enumerate().rev() {
                    let k = self.g.int(i64::try_from(k).ok()?);
                    let here = self.g.compare(Cmp::Eq, index, k);
                    body = self.g.select(here, *x, body);
                }
                Some(self.g.add(Op::Table {
                    v,
                    lo: zero,
                    hi: n,
                    body,
                }))
            }
        }
    }

    /// An element of a new array: a float.
    fn array_element(&mut self, e: &Expr) -> Option<NodeId> {
        let x = self.expr(e, Want::Any)?;
        if self.g.kind(x) == Kind::Float {
            return Some(x);
        }
        self.cx.error_spanned_by(
            e,
            msg(
                "the elements of a local array must be floats",
                "keep integers and conditions in scalar locals; an array holds `f64` (or `f32`) values",
            ),
        );
        None
    }

    /// The local array `e` names, if it names one.
    pub(super) fn local_array(&self, e: &Expr) -> Option<NodeId> {
        self.bound_to(e).filter(|n| self.g.kind(*n) == Kind::Array)
    }

    /// `z.len()`, `z.is_empty()` of a local array `z`.
    pub(super) fn array_method(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let table = self.local_array(&m.receiver)?;
        if !m.args.is_empty() || (m.method != "len" && m.method != "is_empty") {
            return None;
        }
        if self.check_not_growing(table, m).is_none() {
            return Some(self.g.int(0));
        }
        let len = self.array_len(table);
        if m.method == "len" {
            return Some(len);
        }
        let zero = self.g.int(0);
        Some(self.g.compare(Cmp::Eq, len, zero))
    }

    /// The variables loop body carried in `outer` (see `carry_outer_floats`), split into those
    /// the body left unchanged (each placeholder with its value before the loop) and those it
    /// changed: what the elements the loop writes may read.
    pub(super) fn carried_split(
        &mut self,
        outer: &[(usize, usize, Binding, NodeId)],
    ) -> (HashMap<NodeId, NodeId>, Vec<NodeId>) {
        let mut unchanged = HashMap::new();
        let mut changed = Vec::new();
        for &(s, e, before, placeholder) in outer {
            if placeholder == NodeId(u32::MAX) {
                continue;
            }
            if self.state.scopes[s][e].1 == Binding::Value(placeholder) {
                let before = match before {
                    Binding::Value(n) => n,
                    Binding::Uninit => self.g.zero(),
                };
                unchanged.insert(placeholder, before);
            } else {
                changed.push(placeholder);
            }
        }
        (unchanged, changed)
    }

    /// `None`, with an error at `at`, where a loop around is pushing to `table`: what it reads
    /// would be the array before the loop, not as the iteration sees it.
    pub(super) fn check_not_growing(&self, table: NodeId, at: &dyn ToTokens) -> Option<()> {
        let Some((_, name)) = self
            .array_loops
            .iter()
            .find_map(|f| f.growing.iter().find(|g| g.0 == table))
        else {
            return Some(());
        };
        self.cx.error_spanned_by(
            at,
            msg(
                format!("this reads `{name}` inside the loop that pushes to it"),
                format!("read `{name}` after the loop; inside it, use the value pushed (`let e = …; {name}.push(e);`)"),
            ),
        );
        None
    }

    /// A local array passed whole to a call (`dot(&z, w)`): the array as it is here; its
    /// adjoint takes the called function's vector-Jacobian product. Not from inside a loop
    /// writing it, adding into it or pushing to it (the array would be the one before the loop).
    pub(super) fn array_arg(&mut self, a: &Expr, inner: &Expr) -> Option<NodeId> {
        let table = self.local_array(inner)?;
        self.check_not_growing(table, a)?;
        if let Some((_, name)) = self
            .array_loops
            .iter()
            .find_map(|f| f.written.iter().find(|w| w.0 == table))
        {
            self.cx.error_spanned_by(
                a,
                msg(
                    format!("this passes `{name}` to a function inside the loop that writes it"),
                    format!("pass `{name}` after the loop, or pass the element this iteration wrote (`{name}[i]`)"),
                ),
            );
            return None;
        }
        Some(table)
    }

    /// The length of a local array.
    pub(super) fn array_len(&mut self, table: NodeId) -> NodeId {
        self.g.array_len(table)
    }

    /// `z[i]`: the element the current iteration wrote, where a loop is writing `z` (only at its
    /// index), else the element of the version in scope.
    pub(super) fn array_read(&mut self, table: NodeId, index: &Expr) -> Option<NodeId> {
        let i = self.integer_index(index)?;
        self.array_element_at(table, i, index)
    }

    pub(super) fn array_element_at(
        &mut self,
        table: NodeId,
        i: NodeId,
        at: &dyn ToTokens,
    ) -> Option<NodeId> {
        self.check_not_growing(table, at)?;
        for (f, frame) in self.array_loops.iter().enumerate().rev() {
            if let Some((_, name)) = frame.written.iter().find(|w| w.0 == table)
                && frame.added_into.contains(&table)
            {
                let name = name.clone();
                self.cx.error_spanned_by(
                    at,
                    msg(
                        format!("this reads `{name}` inside the loop that adds into it"),
                        format!("read `{name}` after the loop, once every addition has been made"),
                    ),
                );
                return None;
            }
            if let Some((_, name)) = frame.written.iter().find(|w| w.0 == table) {
                let own = frame.own_index(table, &self.g);
                if frame.is_own_index(table, i, &self.g) {
                    return Some(match self.lookup(&element_name(name)) {
                        Some(Binding::Value(x)) => x,
                        _ => self.g.add(Op::At(table, i)),
                    });
                }
                // A scan: the element the previous iteration (or the one before) wrote, carried
                // in a float.
                if let Some(back) = frame.scans.iter().find(|s| s.0 == table && s.1 == i)
                    && let Some(Binding::Value(x)) = self.lookup(&back_name(name, back.3))
                {
                    return Some(x);
                }
                let later = self.later_index(own, frame.flip.is_some());
                let name = name.clone();
                if self.unwritable(f, table, &name) {
                    return None;
                }
                let previous = self.previous_element_message(f, (table, &name), (own, i), at);
                let message = if let Some(previous) = previous {
                    previous
                } else if later == Some(i) {
                    msg(
                        format!(
                            "this reads an element of `{name}` that a later iteration of this loop writes"
                        ),
                        format!(
                            "a loop writing `{name}[i]` may read the element the previous iteration wrote: `{name}[i - 1]` in `for i in a..b`, `{name}[i + 1]` in `for i in (a..b).rev()`; to read the elements as they were before the loop, copy them first (`let old = {name}.clone();`) and read `old[…]`"
                        ),
                    )
                } else {
                    msg(
                        format!(
                            "this reads an element of `{name}` other than the one this iteration of the loop writes or those the previous two iterations wrote"
                        ),
                        format!(
                            "a loop writing `{name}[i]` may read `{name}[i]` and the elements the previous two iterations wrote, one or two steps back (`{name}[i - 1]`, `{name}[i - 2]` in `for i in a..b`; `{name}[i + 1]`, `{name}[i + 2]` in `for i in (a..b).rev()`, the offsets literals); read the other elements after the loop, or carry the values you need in floats (`r = q; q = p; p = {name}[i];`)"
                        ),
                    )
                };
                self.cx.error_spanned_by(at, message);
                return None;
            }
        }
        Some(self.g.add(Op::At(table, i)))
    }

    /// `z[i] = e` (or `+=`, `-=`, `*=`, `/=`) of a local array `z`.
    pub(super) fn array_write(
        &mut self,
        ix: &syn::ExprIndex,
        table: NodeId,
        right: &Expr,
        op: Option<ArithOp>,
        span: Span,
    ) {
        let name = ix.expr.to_token_stream().to_string();
        if self.enclosing.contains(&Enclosing::Closure) {
            self.cx.error_spanned_by(
                ix,
                msg(
                    format!("a closure cannot write into the local array `{name}`"),
                    "write the element in the function body (a loop, or a `let` per element)",
                ),
            );
            return;
        }
        let Some(i) = self.integer_index(&ix.index) else {
            return;
        };
        let Some(r) = self.expr(right, Want::Float) else {
            return;
        };
        let declared = self.scope_of(&name);
        let outermost = declared.and_then(|d| self.array_loops.iter().position(|f| d < f.depth));
        if let Some(o) = outermost
            && self.array_loops[o..]
                .iter()
                .any(|f| f.added_into.contains(&table))
            && matches!(op, Some(ArithOp::Add | ArithOp::Sub))
        {
            let r = if op == Some(ArithOp::Sub) {
                self.g.neg(r)
            } else {
                r
            };
            return self.accumulate(ix, table, &name, (i, r), o);
        }
        let element = match op {
            None => Some(r),
            Some(op) => self
                .array_element_at(table, i, &ix.index)
                .and_then(|old| self.at(span, |l| l.arith(op, old, r, span))),
        };
        let Some(element) = element.filter(|x| self.g.kind(*x) == Kind::Float) else {
            return;
        };
        match self.array_loops.last() {
            Some(frame) if declared.is_some_and(|s| s < frame.depth) => {
                if !frame.is_own_index(table, i, &self.g) {
                    if self.unwritable(self.array_loops.len() - 1, table, &name) {
                        return;
                    }
                    let frame = self.array_loops.last().expect("internal error: no loop");
                    if frame.at_another_offset(i, &self.g) {
                        return self.cx.error_spanned_by(
                            &ix.index,
                            msg(
                                format!("this loop writes `{name}` at another offset from its index than its other writes of `{name}`"),
                                format!("a loop writes an array at one offset from its index: write this block of `{name}` in a loop of its own, `for i in … {{ {name}[off + i] = …; }}`"),
                            ),
                        );
                    }
                    return self.cx.error_spanned_by(
                        &ix.index,
                        msg(
                            format!("a loop can write `{name}` only at its own index"),
                            format!("write `{name}[i]` in `for i in …` (or `{name}[off + i]`, `off` the same in every iteration); to add up into one element, accumulate into a float (`let mut s = 0.0; for j in … {{ s += …; }}`) and write `{name}[k] = s;` after the loop"),
                        ),
                    );
                }
                // This iteration's element, a local of the body: an `if` or a `continue`
                // merges it like any other (`z[c] = e` under `if k` is `z[c] = if k { e } else
                // { z[c] }`); the loop's end reads it (`close_written_elements`).
                self.assign_name(&element_name(&name), element);
                let frame = self
                    .array_loops
                    .last_mut()
                    .expect("internal error: no loop");
                if !frame.writes.iter().any(|w| w.0 == table) {
                    frame.writes.push((table, name, element));
                }
            }
            _ => {
                let Some(new) = self.with_element(table, i, element, ix) else {
                    return;
                };
                self.array_writes.insert(name.clone(), ix.to_token_stream());
                self.assign_name(&name, new);
            }
        }
    }

    /// `z[i] += r` inside loops, `o` the outermost loop `z` is declared outside of: an effect
    /// `Accumulate` into `z`'s buffer, in the innermost loop's list; each loop's end wraps its
    /// list in a loop of effects for the one around it, and loop `o`'s makes the new version.
    fn accumulate(
        &mut self,
        ix: &syn::ExprIndex,
        table: NodeId,
        name: &str,
        (i, r): (NodeId, NodeId),
        o: usize,
    ) {
        if self.array_loops[o].writes.iter().any(|w| w.0 == table) {
            return self.cx.error_spanned_by(
                ix,
                msg(
                    format!("this loop both writes elements of `{name}` and adds into it"),
                    "write the elements in one loop and add into them in another",
                ),
            );
        }
        let alloc = self.accumulation_buffer(table, name, o);
        let at = syn::spanned::Spanned::span(ix);
        // Added where the branches taken since loop `o` began are (`if w[i] > 0.0 { h[k] += …
        // }`, also around a loop nested in `o`): a guarded effect.
        let since = self.array_loops[o].conditional as usize;
        let guards = self.path.get(since..).unwrap_or_default().to_vec();
        let effect = self.at(at, |l| {
            let add = l.g.add(Op::Accumulate { alloc, i, value: r });
            match guards.split_first() {
                None => add,
                Some((first, rest)) => {
                    let all = rest.iter().fold(*first, |c, d| l.g.and(c, *d));
                    let nothing = l.g.add(Op::NoEffect);
                    l.g.select(all, add, nothing)
                }
            }
        });
        let last = self.array_loops.len() - 1;
        let frame = &mut self.array_loops[last];
        match frame.accumulated.iter_mut().find(|a| a.old == table) {
            Some(a) => a.effects.push(effect),
            None => frame.accumulated.push(Accumulated {
                old: table,
                name: name.to_string(),
                alloc,
                effects: vec![effect],
                owner: last == o,
            }),
        }
    }

    /// The vector (an `Op::Alloc`) that loop `o` (and the loops in it) add into for `table`.
    fn accumulation_buffer(&mut self, table: NodeId, name: &str, o: usize) -> NodeId {
        if let Some(a) = self.array_loops[o]
            .accumulated
            .iter()
            .find(|a| a.old == table)
        {
            return a.alloc;
        }
        for frame in &self.array_loops[o + 1..] {
            if let Some(a) = frame.accumulated.iter().find(|a| a.old == table) {
                return a.alloc;
            }
        }
        let buf = self.g.new_buffer();
        let alloc = self.g.add(Op::Alloc {
            buf,
            like: table,
            zero: false,
            mask: 0,
        });
        self.array_loops[o].accumulated.push(Accumulated {
            old: table,
            name: name.to_string(),
            alloc,
            effects: Vec::new(),
            owner: true,
        });
        alloc
    }

    /// `Vec::new()`, `Vec::with_capacity(n)` (also by a longer path, `std::vec::Vec::new()`):
    /// an empty local array, which `push` then grows. `None` for any other call.
    pub(super) fn new_vec(&mut self, c: &syn::ExprCall) -> Option<NodeId> {
        let zero = self.g.int(0);
        let value = self.g.zero();
        let v = self.new_loop(zero, zero, c)?;
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: zero,
            body: value,
        }))
    }

    /// `Vec::new`, `Vec::with_capacity` (by any path ending so).
    pub(super) fn is_new_vec(func: &syn::ExprPath) -> bool {
        let segs: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        matches!(segs.as_slice(), [.., ty, f] if ty == "Vec" && (f == "new" || f == "with_capacity"))
    }

    /// `z.push(e)` of a local array `z`: one element more. In a loop `z` is declared outside
    /// of, once an iteration at the top level of the body; the loop's end appends them all.
    pub(super) fn array_push(&mut self, m: &syn::ExprMethodCall) {
        let Some(table) = self.local_array(&m.receiver) else {
            return;
        };
        let name = m.receiver.to_token_stream().to_string();
        let [arg] = m.args.iter().collect::<Vec<_>>()[..] else {
            return self.cx.error_spanned_by(
                m,
                msg(
                    "`push` takes one value",
                    format!("write `{name}.push(value)`"),
                ),
            );
        };
        let Some(element) = self.array_element(arg) else {
            return;
        };
        let declared = self.scope_of(&name);
        let outermost = declared.and_then(|d| self.array_loops.iter().position(|f| d < f.depth));
        let Some(o) = outermost else {
            // Outside loops: the array with one element more.
            let (zero, one) = (self.g.int(0), self.g.int(1));
            let Some(v) = self.new_loop(zero, one, m) else {
                return;
            };
            let single = self.g.add(Op::Table {
                v,
                lo: zero,
                hi: one,
                body: element,
            });
            if let Some(new) = self.concat(table, single, m.method.span()) {
                self.array_writes.insert(name.clone(), m.to_token_stream());
                self.assign_name(&name, new);
            }
            return;
        };
        let last = self.array_loops.len() - 1;
        let frame = &self.array_loops[last];
        let sized = format!(
            "create it with the length it will have, `let mut {name} = vec![0.0; n];`, and write each element at the loop's index (`{name}[i] = …`)"
        );
        let problem = if o != last {
            Some((
                format!(
                    "`{name}` is pushed to in a loop nested in another loop it is declared outside of, so its length is not known before the loops run"
                ),
                sized,
            ))
        } else if self.conditional != frame.conditional {
            // The length would depend on the data: push in every iteration, the condition
            // choosing the value, or keep only the sum the pushes were for.
            Some((
                format!(
                    "`{name}` is pushed to under a condition (an `if`, a `match`, or after a `continue`), so its length is not known before the loop runs"
                ),
                format!(
                    "push in every iteration and let the condition choose the value, `{name}.push(if c {{ e }} else {{ 0.0 }});` (a zero adds nothing to a sum over `{name}`); or, if only the sum of the values pushed is read, add them up instead: `let mut s = 0.0;` before the loop, `if c {{ s += e; }}` in it"
                ),
            ))
        } else if frame.pushes.iter().any(|p| p.0 == table) {
            Some((
                format!("`{name}` is pushed to twice in one iteration"),
                sized,
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            return self.cx.error_spanned_by(m, msg(message, help));
        }
        self.array_loops[last].pushes.push((table, name, element));
    }

    /// `old` followed by the elements of `tail`.
    fn concat(&mut self, old: NodeId, tail: NodeId, span: Span) -> Option<NodeId> {
        let zero = self.g.int(0);
        let n = self.array_len(old);
        if n == zero {
            return Some(tail);
        }
        let m = self.array_len(tail);
        let total = self.g.int_bin(IntOp::Add, n, m);
        let Some(v) = self.g.new_loop(zero, total) else {
            self.cx.error_at(
                span,
                msg(
                    "too many loops in one function (128 at most)",
                    "split the function",
                ),
            );
            return None;
        };
        let j = self.g.add(Op::LoopVar(v));
        let before = self.g.compare(Cmp::Lt, j, n);
        let kept = self.g.add(Op::At(old, j));
        let k = self.g.int_bin(IntOp::Sub, j, n);
        let appended = self.g.add(Op::At(tail, k));
        let body = self.g.select(before, kept, appended);
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: total,
            body,
        }))
    }

    /// The version of `table` whose element `i` is `element`.
    fn with_element(
        &mut self,
        table: NodeId,
        i: NodeId,
        element: NodeId,
        at: &syn::ExprIndex,
    ) -> Option<NodeId> {
        let zero = self.g.int(0);
        let n = self.array_len(table);
        let v = self.new_loop(zero, n, at)?;
        let j = self.g.add(Op::LoopVar(v));
        let here = self.g.compare(Cmp::Eq, j, i);
        let old = self.g.add(Op::At(table, j));
        let body = self.g.select(here, element, old);
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: n,
            body,
        }))
    }

    /// The index of the scope that binds `name`.
    fn scope_of(&self, name: &str) -> Option<usize> {
        self.state
            .scopes
            .iter()
            .rposition(|s| s.iter().any(|(n, _)| n == name))
    }

    /// Before the body `stmts` of loop `v` (over `lo..hi`, index `index`, `pat` the pattern of
    /// what it writes at, `source` what it runs over): its frame.
    pub(super) fn enter_array_loop(
        &mut self,
        v: u32,
        (var, index, lo, hi): (NodeId, NodeId, NodeId, NodeId),
        flip: Option<NodeId>,
        stmts: &[syn::Stmt],
        (pat, source): (&syn::Pat, &Expr),
    ) {
        let index_name = match pat {
            syn::Pat::Ident(p) => Some(p.ident.to_string()),
            _ => None,
        };
        let count_name = super::misplaced::enumerate_count(pat, source);
        let index_name = index_name.as_deref();
        let mut written: Vec<(NodeId, String)> = Vec::new();
        let mut added_into = Vec::new();
        let (writes, pushed_names) = element_writes(stmts, index_name);
        let growing = pushed_names
            .iter()
            .filter_map(|name| match self.lookup(name) {
                Some(Binding::Value(n)) if self.g.kind(n) == Kind::Array => Some((n, name.clone())),
                _ => None,
            })
            .collect();
        for (name, adds) in writes {
            if let Some(Binding::Value(n)) = self.lookup(&name)
                && self.g.kind(n) == Kind::Array
            {
                if adds {
                    added_into.push(n);
                }
                written.push((n, name));
            }
        }
        let mut before = Vec::new();
        for (s, scope) in self.state.scopes.iter().enumerate() {
            for (e, (_, b)) in scope.iter().enumerate() {
                if let Binding::Value(n) = b
                    && self.g.kind(*n) == Kind::Array
                {
                    before.push((s, e, *n));
                }
            }
        }
        let offsets = self.write_offsets(stmts, index_name, &written, index);
        self.array_loops.push(ArrayLoop {
            offsets,
            v,
            index,
            flip: flip.filter(|_| index != var),
            lo,
            hi,
            depth: self.state.scopes.len(),
            conditional: self.conditional,
            writes: Vec::new(),
            before,
            written,
            added_into,
            accumulated: Vec::new(),
            scans: Vec::new(),
            scan_values: HashMap::new(),
            pushes: Vec::new(),
            growing,
            reads: super::loops::read_names(stmts),
            keyword: super::misplaced::desugared_keyword(index_name),
            index_name: index_name.map(ToString::to_string),
            count_name,
            assigned: super::misplaced::assigned_elements(stmts),
            reported: Vec::new(),
        });
    }

    /// Once the body's scope of the innermost loop is open: each array declared outside the loop
    /// that the body writes (at the loop's index) gets a local of the body, the element of this
    /// iteration, starting as the element before the loop.
    pub(super) fn declare_written_elements(&mut self) {
        let Some(frame) = self.array_loops.last() else {
            return;
        };
        let written: Vec<(NodeId, NodeId, String)> = frame
            .written
            .iter()
            .filter(|(n, _)| !frame.added_into.contains(n))
            .map(|(n, name)| (*n, frame.own_index(*n, &self.g), name.clone()))
            .collect();
        for (table, index, name) in written {
            let old = self.g.add(Op::At(table, index));
            self.declare(element_name(&name), Binding::Value(old));
        }
    }

    /// Before the body's scope of the innermost loop closes: each array it wrote takes the
    /// element this iteration ended with.
    pub(super) fn close_written_elements(&mut self) {
        let Some(frame) = self.array_loops.last() else {
            return;
        };
        let ends: Vec<Option<Binding>> = frame
            .writes
            .iter()
            .map(|w| self.lookup(&element_name(&w.1)))
            .collect();
        let frame = self
            .array_loops
            .last_mut()
            .expect("internal error: no loop");
        for (w, end) in frame.writes.iter_mut().zip(ends) {
            if let Some(Binding::Value(x)) = end {
                w.2 = x;
            }
        }
        // A scan's hidden float takes the element this iteration ends with (the one it wrote,
        // or the element as it was where the write was not taken); the one two steps back, the
        // previous element (the first float's value at the start of the iteration).
        let mut scans: Vec<String> = frame.scans.iter().map(|s| s.2.clone()).collect();
        scans.dedup();
        for name in scans {
            if let Some(Binding::Value(p)) = self.lookup(&previous_name(&name))
                && matches!(self.lookup(&back_name(&name, 2)), Some(Binding::Value(_)))
            {
                self.assign_name(&back_name(&name, 2), p);
            }
            if let Some(Binding::Value(x)) = self.lookup(&element_name(&name)) {
                self.assign_name(&previous_name(&name), x);
            }
        }
    }

    /// After the body of the loop (its scope closed, its carried variables resolved): the new
    /// version of every array it wrote. The elements read the variables the loop left
    /// `unchanged` (placeholders, with their values before it), and must not read those it
    /// `changed`.
    pub(super) fn leave_array_loop(
        &mut self,
        unchanged: &HashMap<NodeId, NodeId>,
        changed: &[NodeId],
        span: Span,
    ) {
        let Some(frame) = self.array_loops.pop() else {
            return;
        };
        for &(s, e, n) in &frame.before {
            let name = self.state.scopes[s][e].0.clone();
            if self.state.scopes[s][e].1 != Binding::Value(n) {
                let noted = self
                    .uncarried
                    .iter()
                    .find(|u| u.0 == frame.v && u.1 == name)
                    .map(|u| u.2);
                let message = if let Some(why) = noted {
                    let (message, help) = why.message(&name);
                    msg(message, help)
                } else if frame.reads.contains(&name) {
                    msg(
                        format!(
                            "the local array `{name}` is carried from one iteration of this loop to the next (each iteration reads what the one before wrote), and the body also declares another `{name}` or adds into it from a loop nested two deep, which a carried array does not support yet"
                        ),
                        format!(
                            "rename the other `{name}` the body declares, and update `{name}` in place (`for j in 0..{name}.len() {{ {name}[j] = {name}[j] + …; }}`, the sum made in a float first) or replace it whole (`{name} = next;`); if each iteration should start afresh, declare `{name}` inside this loop"
                        ),
                    )
                } else {
                    msg(
                        format!(
                            "the local array `{name}` is written in a loop nested in this one, which cannot carry it from one iteration to the next here"
                        ),
                        format!("declare `{name}` inside this loop if each iteration has its own"),
                    )
                };
                self.cx.error_at(span, message);
                self.state.scopes[s][e].1 = Binding::Value(n);
            }
        }
        let (v, lo, hi) = (frame.v, frame.lo, frame.hi);
        let offsets = frame.offsets.clone();
        for (old, name, element) in frame.pushes {
            let Some(pushed) = self.loop_table(
                (v, lo, hi),
                (&name, element),
                (unchanged, changed, &frame.scan_values),
                span,
            ) else {
                continue;
            };
            if let Some(new) = self.concat(old, pushed, span) {
                self.assign_name(&name, new);
            }
        }
        for a in frame.accumulated {
            self.finish_accumulated(a, frame.v, unchanged, changed, span);
        }
        for (old, name, element) in frame.writes {
            let Some(mut written) = self.loop_table(
                (v, lo, hi),
                (&name, element),
                (unchanged, changed, &frame.scan_values),
                span,
            ) else {
                continue;
            };
            // Written from the end of a reversed range: the elements `end − len..end`.
            let (lo, hi) = match frame.flip {
                Some(end) => {
                    let Some(flipped) = self.flipped(written, span) else {
                        continue;
                    };
                    written = flipped;
                    let len = self.array_len(written);
                    // `end − len` ≥ 0: the iterations are at most `end − lo` (`lo` ≤ `end`),
                    // or none.
                    (self.g.int_bin(IntOp::Sub, end, len), end)
                }
                None => (lo, hi),
            };
            // Written at `off + i`: the elements `off + lo..off + hi`.
            let (lo, hi) = match offsets.iter().find(|o| o.0 == old) {
                Some(&(_, off)) => (
                    self.g.int_bin(IntOp::Add, off, lo),
                    self.g.int_bin(IntOp::Add, off, hi),
                ),
                None => (lo, hi),
            };
            if let Some(new) = self.written_into(old, written, lo, hi, span) {
                self.assign_name(&name, new);
            }
        }
    }

    /// The elements loop `v` (over `lo..hi`) wrote or pushed, one an iteration, as a table: the
    /// variables the loop left `unchanged` at their values before it; `None`, reported, where
    /// an element reads one the loop `changed` (a running sum written element by element).
    fn loop_table(
        &mut self,
        (v, lo, hi): (u32, NodeId, NodeId),
        (name, element): (&str, NodeId),
        (unchanged, changed, scan_values): (
            &HashMap<NodeId, NodeId>,
            &[NodeId],
            &HashMap<NodeId, NodeId>,
        ),
        span: Span,
    ) -> Option<NodeId> {
        let mut element = element;
        if changed.iter().any(|p| self.g.mentions(element, *p)) {
            if let Some(scanned) = self.scanned(name, v, span) {
                return Some(scanned);
            }
            // Elements reading a scan of this loop (`y[i] = z[i] * z[i];`) read its values.
            element = self.g.substitute(element, scan_values);
            // An element that is the scan's value this iteration (`adv[t] = last;`): the table
            // is the scan's values themselves, not a copy of them.
            if let Op::At(s, k) = *self.g.op(element)
                && matches!(*self.g.op(s), Op::Scanned { v: w, lo: l, hi: h, .. } | Op::CoupledScan { v: w, lo: l, hi: h, .. } if w == v && l == lo && h == hi)
            {
                let i = self.g.add(Op::LoopVar(v));
                if k == self.g.int_bin(IntOp::Sub, i, lo) {
                    return Some(s);
                }
            }
        }
        if changed.iter().any(|p| self.g.mentions(element, *p)) {
            if matches!(self.lookup(&previous_name(name)), Some(Binding::Value(_))) {
                self.cx.error_at(span, scan_reads_carried_message(name));
                return None;
            }
            self.cx.error_at(
                span,
                msg(
                    format!("the elements this loop writes into `{name}` read a value the loop carries together with other values it changes, one of them an array it carries from one iteration to the next"),
                    format!("an element may read floats the loop carries, alone or updated together (`t = a * p + b * q + x[i]; q = p; p = t; {name}[i] = p;`), but not yet a value updated together with a carried array (a hidden-state vector); use the value in this loop instead (`loss += s * s;` rather than `{name}[t] = s;` and a loop after)"),
                ),
            );
            return None;
        }
        let body = self.g.substitute(element, unchanged);
        Some(self.at(span, |l| l.g.add(Op::Table { v, lo, hi, body })))
    }

    /// The elements of `table` in the opposite order: what `for j in (a..b).rev()` wrote in
    /// iteration `k` (at `j = a + b − 1 − k`) is element `j − (b − len)` of the flipped table,
    /// `len` the number of iterations (`b − a` without `break`).
    ///
    /// ```text
    /// for j in (0..n).rev() { z[j] = e(j); }   // T = Table(k ∈ 0..n: e(n − (k + 1)))
    ///                                          // z = Table(j ∈ 0..n: T[n − (j + 1)])
    /// ```
    fn flipped(&mut self, table: NodeId, span: Span) -> Option<NodeId> {
        let zero = self.g.int(0);
        let one = self.g.int(1);
        // The number of iterations, `max(hi, lo) − lo`: none, not `hi − lo` (which a `usize`
        // cannot hold), where the range is empty (`(1..0).rev()`).
        // (A scan's values too, `Op::Scanned`, in the order of its iterations.)
        let (Op::Table { lo, hi, .. }
        | Op::Scanned { lo, hi, .. }
        | Op::CoupledScan { lo, hi, .. }) = *self.g.op(table)
        else {
            return None;
        };
        let below = self.g.compare(Cmp::Lt, hi, lo);
        let top = self.g.select(below, lo, hi);
        let n = self.g.int_bin(IntOp::Sub, top, lo);
        // Written where the reversed loop is, in the loops around it.
        let v = self.new_loop(zero, n, syn::Ident::new("flipped", span))?;
        let j = self.g.add(Op::LoopVar(v));
        // `n − (j + 1)`, not `(n − 1) − j`: a constant `n − 1` of an empty table would be `-1`,
        // which a `usize` index cannot spell.
        let next = self.g.int_bin(IntOp::Add, j, one);
        let k = self.g.int_bin(IntOp::Sub, n, next);
        let body = self.g.add(Op::At(table, k));
        Some(self.g.add(Op::Table {
            v,
            lo: zero,
            hi: n,
            body,
        }))
    }

    /// At the end of loop `v`: its accumulations into one array, as one loop of effects, handed
    /// to the loop around it, or (in the outermost loop adding into the array) its new version.
    fn finish_accumulated(
        &mut self,
        a: Accumulated,
        v: u32,
        unchanged: &HashMap<NodeId, NodeId>,
        changed: &[NodeId],
        span: Span,
    ) {
        let Some((&first, rest)) = a.effects.split_first() else {
            return;
        };
        let joined = rest
            .iter()
            .fold(first, |acc, e| self.g.add(Op::Effects(acc, *e)));
        if changed.iter().any(|p| self.g.mentions(joined, *p)) {
            let name = &a.name;
            self.cx.error_at(
                span,
                msg(
                    format!("what this loop adds into `{name}` reads a value the loop carries from one iteration to the next"),
                    format!("add into `{name}` at the index of a loop nested directly in this one, `for j in 0..{name}.len() {{ {name}[j] += …; }}` (the loop then carries `{name}`, as it does for `{name}[j] = {name}[j] + …`), or add values computed from the loop's index and the values fixed before the loop"),
                ),
            );
            return;
        }
        let joined = self.g.substitute(joined, unchanged);
        let looped = self.g.loop_sum(v, joined);
        if a.owner {
            let new = self.g.filled(a.alloc, looped);
            self.assign_name(&a.name, new);
            return;
        }
        let Some(parent) = self.array_loops.last_mut() else {
            return;
        };
        match parent.accumulated.iter_mut().find(|p| p.old == a.old) {
            Some(p) => p.effects.push(looped),
            None => parent.accumulated.push(Accumulated {
                effects: vec![looped],
                owner: false,
                ..a
            }),
        }
    }

    /// `old` with its elements `lo..hi` replaced by `written`'s (`written` itself where that is
    /// all of `old`).
    fn written_into(
        &mut self,
        old: NodeId,
        written: NodeId,
        lo: NodeId,
        hi: NodeId,
        span: Span,
    ) -> Option<NodeId> {
        let zero = self.g.int(0);
        if let Op::Table {
            lo: old_lo,
            hi: old_hi,
            ..
        } = *self.g.op(old)
            && old_lo == zero
            && lo == zero
            && hi == old_hi
        {
            return Some(written);
        }
        // An array carried across a loop's iterations, written whole in place.
        if matches!(self.g.op(old), Op::Carry { .. }) && lo == zero && hi == self.g.array_len(old) {
            return Some(written);
        }
        let n = self.array_len(old);
        let Some(v) = self.g.new_loop(zero, n) else {
            self.cx.error_at(
                span,
                msg(
                    "too many loops in one function (128 at most)",
                    "split the function",
                ),
            );
            return None;
        };
        let j = self.g.add(Op::LoopVar(v));
        let from = self.g.compare(Cmp::Ge, j, lo);
        let to = self.g.compare(Cmp::Lt, j, hi);
        let inside = self.g.and(from, to);
        let k = self.g.int_bin(IntOp::Sub, j, lo);
        let new = self.g.add(Op::At(written, k));
        let kept = self.g.add(Op::At(old, j));
        let body = self.g.select(inside, new, kept);
        // (At the loop: an error about the new version, such as an array built inside a loop
        // recurrence, points there.)
        Some(self.at(span, |l| {
            l.g.add(Op::Table {
                v,
                lo: zero,
                hi: n,
                body,
            })
        }))
    }
}

impl Lower<'_> {
    /// The arrays of `written` that `stmts` (the body of the loop over `index_name`) write at
    /// an offset from the index, `z[off + i]` or `z[i + off]`, the same `off` at every write
    /// of the array at the top level of the body (up to the order of `+` and `*`: `3 * ly` and
    /// `ly * 3`), not reading `i`: each with the offset, lowered here (it reads only what is
    /// bound before the loop).
    fn write_offsets(
        &mut self,
        stmts: &[syn::Stmt],
        index_name: Option<&str>,
        written: &[(NodeId, String)],
        index: NodeId,
    ) -> Vec<(NodeId, NodeId)> {
        let Some(index_name) = index_name else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, offsets) in offset_writes(stmts, index_name) {
            let Some(&(table, _)) = written.iter().find(|w| w.1 == name) else {
                continue;
            };
            let Some(lowered) = offsets
                .iter()
                .map(|o| self.integer_index(o.as_ref()?))
                .collect::<Option<Vec<NodeId>>>()
            else {
                continue;
            };
            let off = lowered[0];
            if lowered.iter().any(|o| !self.g.same_int(*o, off)) {
                continue;
            }
            // The index as the body's reads and writes lower it.
            let _ = self.g.int_bin(IntOp::Add, off, index);
            out.push((table, off));
        }
        out
    }
}

/// The arrays `stmts` write (outside loops nested in them), each with the offset from `i` (the
/// name `index`) of each write: `Some(off)` at `off + i` or `i + off`, `off` not mentioning it,
/// `None` at any other index.
fn offset_writes(stmts: &[syn::Stmt], index: &str) -> Vec<(String, Vec<Option<Expr>>)> {
    let is_index =
        |e: &Expr| matches!(e, Expr::Path(p) if p.path.get_ident().is_some_and(|i| i == index));
    let names = [index.to_string()];
    let offset = |at: &Expr| match at {
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
            if is_index(&b.right) && !super::loops::mentions_any(&b.left, &names) {
                Some((*b.left).clone())
            } else if is_index(&b.left) && !super::loops::mentions_any(&b.right, &names) {
                Some((*b.right).clone())
            } else {
                None
            }
        }
        _ => None,
    };
    let mut result: Vec<(String, Vec<Option<Expr>>)> = Vec::new();
    for (name, at, _) in super::misplaced::element_writes_at_top(stmts) {
        let off = offset(&at);
        match result.iter_mut().find(|r| r.0 == name) {
            Some(r) => r.1.push(off),
            None => result.push((name, vec![off])),
        }
    }
    result
}

/// `Vec<f64>`, `[f64; N]` (or `f32`): the type of a local array.
pub(super) fn is_float_array_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Array(a) => crate::signature::float_of(&a.elem).is_some(),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return false;
            };
            last.ident == "Vec"
                && args.args.len() == 1
                && matches!(&args.args[0], syn::GenericArgument::Type(t) if crate::signature::float_of(t).is_some())
        }
        syn::Type::Paren(p) => is_float_array_type(&p.elem),
        _ => false,
    }
}

/// The names of the arrays `stmts` write an element of (`z[…] = …`, `z[…] += …`).
pub(super) fn element_written_names(stmts: &[syn::Stmt]) -> Vec<String> {
    element_writes(stmts, None)
        .0
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The arrays `stmts` (the body of the loop over `index`) add into as accumulations (`+=` or
/// `-=` inside a nested loop, or at an index other than `index`).
pub(super) fn added_names(stmts: &[syn::Stmt], index: Option<&str>) -> Vec<String> {
    element_writes(stmts, index)
        .0
        .into_iter()
        .filter_map(|(name, adds)| adds.then_some(name))
        .collect()
}

/// The arrays `stmts` (a loop's body) add into (`z[k] += e`, `-=`) where what is added, its
/// index, or a condition the addition is under (an `if`, a `match`, a `continue` before it)
/// reads one of `carried` (the values the loop carries from one iteration to the next) or a
/// name `stmts` compute from them (`let`s, assignments, a `for` loop's items): the array then
/// changes with what the loop carries, so the loop carries it too, as for `z[k] = z[k] + e`.
///
/// ```text
/// for t in 0..T {                         // h carried: acc[j] += h[j]·x[t] adds what depends
///     for j in 0..n {                     // on the iterations before; acc is carried beside h
///         h[j] = (w * h[j] + x[t]).tanh();
///         acc[j] += h[j] * x[t];
///     }
/// }
/// ```
pub(super) fn added_from(stmts: &[syn::Stmt], carried: &[String]) -> Vec<String> {
    struct Finder<'t> {
        tainted: &'t [String],
        /// How many conditions around the visit read a tainted name.
        conditions: u32,
        out: Vec<String>,
    }
    impl Finder<'_> {
        fn reads(&self, e: &Expr) -> bool {
            super::loops::mentions_any(e, self.tainted)
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if matches!(
                super::syntax::compound_op(&b.op),
                Some(ArithOp::Add | ArithOp::Sub)
            ) && let Expr::Index(ix) = &*b.left
                && let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
                && (self.conditions > 0 || self.reads(&ix.index) || self.reads(&b.right))
            {
                self.out.push(id.to_string());
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
            let c = u32::from(self.reads(&e.cond));
            self.conditions += c;
            syn::visit::visit_expr_if(self, e);
            self.conditions -= c;
        }
        fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
            let guards = m.arms.iter().filter_map(|a| a.guard.as_ref());
            let c = u32::from(self.reads(&m.expr) || guards.into_iter().any(|g| self.reads(&g.1)));
            self.conditions += c;
            syn::visit::visit_expr_match(self, m);
            self.conditions -= c;
        }
        fn visit_block(&mut self, b: &'ast syn::Block) {
            let before = self.conditions;
            for stmt in &b.stmts {
                self.visit_stmt(stmt);
                // `if c { continue; }`: the rest of the block runs where `c` fails.
                if super::loops::has_continue_stmt(stmt)
                    && super::loops::stmt_mentions_any(stmt, self.tainted)
                {
                    self.conditions += 1;
                }
            }
            self.conditions = before;
        }
    }
    let tainted = computed_from(stmts, carried);
    let mut f = Finder {
        tainted: &tainted,
        conditions: 0,
        out: Vec::new(),
    };
    let body = syn::Block {
        brace_token: syn::token::Brace::default(),
        stmts: stmts.to_vec(),
    };
    syn::visit::Visit::visit_block(&mut f, &body);
    f.out
}

/// `names` and the names `stmts` compute from them (`let`s, assignments, `for` loop items),
/// through any number of steps.
fn computed_from(stmts: &[syn::Stmt], names: &[String]) -> Vec<String> {
    struct Finder(Vec<String>, bool);
    impl Finder {
        fn taint(&mut self, from: &Expr, names: Vec<String>) {
            if super::loops::mentions_any(from, &self.0) {
                for name in names {
                    if !self.0.contains(&name) {
                        self.0.push(name);
                        self.1 = true;
                    }
                }
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            if let Some(init) = &l.init {
                self.taint(&init.expr, super::loops::pattern_names(&l.pat));
            }
            syn::visit::visit_local(self, l);
        }
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.taint(&a.right, super::loops::mentioned_names(&a.left));
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if super::syntax::compound_op(&b.op).is_some() {
                self.taint(&b.right, super::loops::mentioned_names(&b.left));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.taint(&f.expr, super::loops::pattern_names(&f.pat));
            syn::visit::visit_expr_for_loop(self, f);
        }
    }
    let mut f = Finder(names.to_vec(), true);
    while f.1 {
        f.1 = false;
        for s in stmts {
            syn::visit::Visit::visit_stmt(&mut f, s);
        }
    }
    f.0
}

/// Each element write of `stmts` (`z[…] = …`, `z[…] += …`): the array's name, and whether it is
/// an accumulation the loop `index` cannot own element by element (`+=` or `-=` inside a nested
/// loop, or at an index other than the name `index`); and the names pushed to (`z.push(…)`).
fn element_writes(stmts: &[syn::Stmt], index: Option<&str>) -> (Vec<(String, bool)>, Vec<String>) {
    struct Finder<'i> {
        index: Option<&'i str>,
        depth: u32,
        out: Vec<(String, bool)>,
        pushed: Vec<String>,
    }
    impl Finder<'_> {
        fn note(&mut self, left: &Expr, adds: bool) {
            if let Expr::Index(ix) = left
                && let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
            {
                let at_index = matches!(&*ix.index, Expr::Path(q)
                    if q.path.get_ident().is_some_and(|i| Some(i.to_string().as_str()) == self.index));
                self.out
                    .push((id.to_string(), adds && (self.depth > 0 || !at_index)));
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.note(&a.left, false);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if let Some(op) = super::syntax::compound_op(&b.op) {
                self.note(&b.left, matches!(op, ArithOp::Add | ArithOp::Sub));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "push"
                && let Expr::Path(p) = &*m.receiver
                && let Some(id) = p.path.get_ident()
            {
                self.pushed.push(id.to_string());
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.depth += 1;
            syn::visit::visit_expr_for_loop(self, f);
            self.depth -= 1;
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.depth += 1;
            syn::visit::visit_expr_while(self, w);
            self.depth -= 1;
        }
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.depth += 1;
            syn::visit::visit_expr_loop(self, l);
            self.depth -= 1;
        }
    }
    let mut f = Finder {
        index,
        depth: 0,
        out: Vec::new(),
        pushed: Vec::new(),
    };
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    (f.out, f.pushed)
}

/// What a `vec![…]` holds.
enum Parts {
    Repeat(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
}

/// The body of `vec![v; n]` or `vec![a, b, c]`.
fn parse_vec(input: syn::parse::ParseStream) -> syn::Result<Parts> {
    let first: Expr = input.parse()?;
    if input.peek(syn::Token![;]) {
        input.parse::<syn::Token![;]>()?;
        let len: Expr = input.parse()?;
        return Ok(Parts::Repeat(Box::new(first), Box::new(len)));
    }
    let mut elems = vec![first];
    while input.peek(syn::Token![,]) {
        input.parse::<syn::Token![,]>()?;
        if input.is_empty() {
            break;
        }
        elems.push(input.parse()?);
    }
    Ok(Parts::List(elems))
}

/// The local holding the element of `name` the current iteration of a loop writes (not a
/// name a program can spell).
fn element_name(name: &str) -> String {
    format!("{name}[·]")
}

/// The error for an array given another length in one branch than in the other (see
/// `Lower::branch`).
pub(super) fn conditional_write_message(name: &str) -> String {
    msg(
        format!("`{name}` has another length after this branch than after the other"),
        format!(
            "give `{name}` one length whatever the condition (write its elements under the `if`), or use a new array in each branch"
        ),
    )
}

/// The error for a scan of `name` whose update reads a value the loop carries whose own update
/// reads `name` or another value the loop updates.
fn scan_reads_carried_message(name: &str) -> String {
    msg(
        format!(
            "the update of the scan `{name}` (each element reads the one the previous iteration wrote) reads a value this loop carries together with an array it carries from one iteration to the next"
        ),
        format!(
            "a scan's update may read its own previous elements, and floats and other scans the loop updates together with it (`p = p * a + {name}[i - 1]; {name}[i] = {name}[i - 1] + p;`), but not yet a value updated together with a carried array (a hidden-state vector); keep the values you need in floats, and use them in this loop"
        ),
    )
}

/// The hidden float a scan of `name` carries: the element the previous iteration wrote (not a
/// name a program can spell).
fn previous_name(name: &str) -> String {
    back_name(name, 1)
}

/// The hidden float of a scan of `name` reading `back` steps back (1: [`previous_name`]).
fn back_name(name: &str, back: u32) -> String {
    format!("{name}[·−{back}]")
}

/// Whether `name` is a scan's hidden float (see [`previous_name`], [`back_name`]).
pub(super) fn is_previous_name(name: &str) -> bool {
    name.ends_with("[·−1]") || name.ends_with("[·−2]")
}

/// The arrays `stmts` (the body of a loop over the index `index`) read one or two steps back,
/// `z[i - 1]`, `z[i - 2]` (or, `reversed`, `z[i + 1]`, `z[1 + i]`, `z[i + 2]`), outside
/// closures, with the steps: a scan's reads.
fn scan_reads(stmts: &[syn::Stmt], index: &str, reversed: bool) -> Vec<(String, u32)> {
    struct Finder<'i> {
        index: &'i str,
        reversed: bool,
        out: Vec<(String, u32)>,
    }
    impl Finder<'_> {
        fn is_index(&self, e: &Expr) -> bool {
            matches!(e, Expr::Path(p) if p.path.get_ident().is_some_and(|i| i == self.index))
        }
        fn steps_back(&self, e: &Expr) -> Option<u32> {
            let steps = |e: &Expr| match e {
                Expr::Lit(l) => match &l.lit {
                    syn::Lit::Int(n) if n.base10_digits() == "1" => Some(1),
                    syn::Lit::Int(n) if n.base10_digits() == "2" => Some(2),
                    _ => None,
                },
                _ => None,
            };
            match e {
                Expr::Paren(p) => self.steps_back(&p.expr),
                Expr::Binary(b) if !self.reversed && matches!(b.op, syn::BinOp::Sub(_)) => {
                    steps(&b.right).filter(|_| self.is_index(&b.left))
                }
                Expr::Binary(b) if self.reversed && matches!(b.op, syn::BinOp::Add(_)) => {
                    steps(&b.right)
                        .filter(|_| self.is_index(&b.left))
                        .or_else(|| steps(&b.left).filter(|_| self.is_index(&b.right)))
                }
                _ => None,
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
            if let Expr::Path(p) = &*ix.expr
                && let Some(id) = p.path.get_ident()
                && let Some(steps) = self.steps_back(&ix.index)
            {
                self.out.push((id.to_string(), steps));
            }
            syn::visit::visit_expr_index(self, ix);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut f = Finder {
        index,
        reversed,
        out: Vec::new(),
    };
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.out.sort();
    f.out.dedup();
    f.out
}

impl Lower<'_> {
    /// Before the body `stmts` of `for i in lo..hi` (or, `reversed`, of `for i in (lo..end).rev()`),
    /// before the loop's floats are carried: each local array the body writes and reads one
    /// step back (`z[i] = z[i - 1] * w[i];`, `z[j] = r[j] + g * z[j + 1];` reversed) is a scan,
    /// and gets a hidden float in the scope around the loop, the element the previous iteration
    /// wrote, starting as the element before the loop at `lo − 1` (reversed, `end`) where that
    /// is in range (zero elsewhere, where the program does not read it: a read out of range
    /// would have panicked). The loop carries it (a `Fold`), and the array is its values (an
    /// `Op::Scanned`, see `scanned`).
    ///
    /// ```text
    /// // Input:                                // Graph:
    /// for c in 1..n { z[c] = z[c - 1] * w[c]; } // p₀ = if 1 ≥ 1 && 0 < n { z₀[0] } else { 0 }
    ///                                           // z₁ = Scanned(c ∈ 1..n, p₀: p·w[c]), into z₀[1..n]
    /// ```
    ///
    /// A body reading two steps back (`z[i] = a * z[i - 1] + b * z[i - 2] + x[i];`, or `z[j +
    /// 2]` reversed) gets a second hidden float, the element before the previous one, starting
    /// as the element at `lo − 2` (reversed, `end + 1`) where that is in range; each iteration
    /// gives it the first float's value at its start. The two are coupled state, and the array
    /// the first one's values (an `Op::CoupledScan`).
    pub(super) fn declare_scans(
        &mut self,
        stmts: &[syn::Stmt],
        pat: &syn::Pat,
        (lo, end): (NodeId, NodeId),
        reversed: bool,
    ) {
        let syn::Pat::Ident(p) = pat else { return };
        let written = element_written_names(stmts);
        let reads = scan_reads(stmts, &p.ident.to_string(), reversed);
        let mut names: Vec<&String> = reads.iter().map(|(name, _)| name).collect();
        names.dedup();
        for name in names {
            let Some(Binding::Value(table)) = self.lookup(name) else {
                continue;
            };
            if self.g.kind(table) != Kind::Array || !written.contains(name) {
                continue;
            }
            let deepest = reads
                .iter()
                .filter(|(n, _)| n == name)
                .map(|r| r.1)
                .max()
                .unwrap_or(1);
            for back in 1..=deepest {
                let init = self.element_before(table, (lo, end), back, reversed);
                self.declare(back_name(name, back), Binding::Value(init));
            }
        }
    }

    /// The element `back` steps before the first a loop over `lo..end` writes into `table`
    /// (reversed, after the last): `table[lo − back]` (`table[end + back − 1]`) where that is
    /// in range, zero elsewhere (where the program does not read it: a read out of range
    /// would have panicked).
    fn element_before(
        &mut self,
        table: NodeId,
        (lo, end): (NodeId, NodeId),
        back: u32,
        reversed: bool,
    ) -> NodeId {
        let len = self.array_len(table);
        let zero = self.g.zero();
        let steps = self.g.int(i64::from(back));
        let (at, inside) = if reversed {
            let one = self.g.int(1);
            let after = self.g.int_bin(IntOp::Sub, steps, one);
            let at = self.g.int_bin(IntOp::Add, end, after);
            (at, self.g.compare(Cmp::Lt, at, len))
        } else {
            let first = self.g.compare(Cmp::Ge, lo, steps);
            let before = self.g.int_bin(IntOp::Sub, lo, steps);
            let below = self.g.compare(Cmp::Lt, before, len);
            (before, self.g.and(first, below))
        };
        let old = self.g.add(Op::At(table, at));
        self.g.select(inside, old, zero)
    }

    /// Once the loop's frame is open: the scans it runs (the arrays `declare_scans` gave a
    /// hidden float) with the index of the element one step back.
    pub(super) fn open_scans(&mut self) {
        let Some(frame) = self.array_loops.last() else {
            return;
        };
        let reversed = frame.flip.is_some();
        let found: Vec<(NodeId, NodeId, String)> = frame
            .written
            .iter()
            .filter(|(_, name)| {
                matches!(self.state.scopes.get(frame.depth.wrapping_sub(1)), Some(scope) if scope.iter().any(|(n, _)| *n == previous_name(name)))
            })
            .map(|(table, name)| (*table, frame.own_index(*table, &self.g), name.clone()))
            .collect();
        let mut scans = Vec::new();
        for (table, own, name) in found {
            let two = matches!(self.state.scopes.get(frame.depth.wrapping_sub(1)), Some(scope) if scope.iter().any(|(n, _)| *n == back_name(&name, 2)));
            for steps in if two { 1..=2 } else { 1..=1 } {
                let k = self.g.int(i64::from(steps));
                if reversed {
                    // `z[j + 1]` or `z[1 + j]`.
                    let back = self.g.int_bin(IntOp::Add, own, k);
                    scans.push((table, back, name.clone(), steps));
                    let back = self.g.int_bin(IntOp::Add, k, own);
                    scans.push((table, back, name.clone(), steps));
                } else {
                    let back = self.g.int_bin(IntOp::Sub, own, k);
                    scans.push((table, back, name.clone(), steps));
                }
            }
        }
        if let Some(frame) = self.array_loops.last_mut() {
            frame.scans = scans;
        }
    }

    /// The index the next iteration writes, one step forward from `own`, where the graph has it.
    fn later_index(&self, own: NodeId, reversed: bool) -> Option<NodeId> {
        let one = self.g.find(&Op::IntConst(1))?;
        let op = if reversed { IntOp::Sub } else { IntOp::Add };
        self.g.find(&Op::IntBin(op, own, one))
    }

    /// Whether the hidden float `name` of a scan of loop `v` (the innermost being lowered),
    /// `placeholder` while its body is lowered, is read by the elements another array of the
    /// loop writes or pushes (`y[i] = z[i] * z[i];`).
    pub(super) fn scan_read_by_elements(&self, v: u32, name: &str, placeholder: NodeId) -> bool {
        let Some(frame) = self.array_loops.last() else {
            return false;
        };
        frame.v == v
            && frame
                .writes
                .iter()
                .chain(&frame.pushes)
                .any(|w| previous_name(&w.1) != name && self.g.mentions(w.2, placeholder))
    }

    /// Whether the elements an array of loop `v` (the innermost being lowered) writes or pushes
    /// read `node`.
    pub(super) fn elements_mention(&self, v: u32, node: NodeId) -> bool {
        self.array_loops.last().is_some_and(|frame| {
            frame.v == v
                && frame
                    .writes
                    .iter()
                    .chain(&frame.pushes)
                    .any(|w| self.g.mentions(w.2, node))
        })
    }

    /// Notes in the innermost loop's frame the values a scan's elements stand for (see
    /// [`scan_values`](Self::scan_values)), for the elements the loop writes.
    pub(super) fn note_scan_values(&mut self, map: &HashMap<NodeId, NodeId>) {
        if let Some(frame) = self.array_loops.last_mut() {
            frame.scan_values.extend(map.iter().map(|(a, b)| (*a, *b)));
        }
    }

    /// Whether `name` is the hidden float of a scan loop `v` (the innermost being lowered)
    /// runs.
    pub(super) fn is_scan_of(&self, v: u32, name: &str) -> bool {
        self.array_loops
            .last()
            .is_some_and(|f| f.v == v && f.scans.iter().any(|s| previous_name(&s.2) == name))
    }

    /// The values of the scan whose hidden float is the recurrence `fold` (of loop `v`), as an
    /// iteration of `v` reads them: the element the previous iteration wrote (before the first,
    /// the float's value before the loop) and the one this iteration wrote. Noted in the
    /// loop's frame with the float's `placeholder` and `update`, so that the elements other
    /// arrays write read them too.
    ///
    /// ```text
    /// for i in 1..n {                // S = Scanned(i ∈ 1..n, p₀: ½·p + a·x[i])
    ///     z[i] = 0.5 * z[i - 1] + a * x[i];
    ///     acc += z[i] * x[i];        // acc = Σ_{i ∈ 1..n} S[i − 1]·x[i]
    /// }
    /// ```
    pub(super) fn scan_values(
        &mut self,
        fold: NodeId,
        (placeholder, update): (NodeId, NodeId),
        span: Span,
    ) -> Option<HashMap<NodeId, NodeId>> {
        let Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.g.op(fold)
        else {
            return None;
        };
        let scanned = self.at(span, |l| {
            l.g.add(Op::Scanned {
                c,
                v,
                lo,
                hi,
                init,
                body,
            })
        });
        let (previous, now) = self.g.scan_elements(scanned)?;
        let map = HashMap::from([(placeholder, previous), (update, now)]);
        self.note_scan_values(&map);
        Some(map)
    }

    /// The elements the scan of `name` in loop `v` wrote, one an iteration: the values of the
    /// recurrence its hidden float became (`finish_carried`), as an `Op::Scanned` of the same
    /// fields. `None` where the array is not a scan, or its hidden float is coupled to other
    /// variables the loop changes.
    fn scanned(&mut self, name: &str, v: u32, span: Span) -> Option<NodeId> {
        let Some(Binding::Value(fold)) = self.lookup(&previous_name(name)) else {
            return None;
        };
        let Op::Fold {
            c,
            v: w,
            lo,
            hi,
            init,
            body,
        } = *self.g.op(fold)
        else {
            return None;
        };
        if w != v {
            return None;
        }
        Some(self.at(span, |l| {
            l.g.add(Op::Scanned {
                c,
                v,
                lo,
                hi,
                init,
                body,
            })
        }))
    }
}
