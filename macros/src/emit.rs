//! Emission: graph nodes become Rust statements.
//!
//! ```text
//! // Graph:                               // Output:
//! // out = (w·x − y)², ∂w = 2·x·(w·x − y)   let __t2 = w * x - y;
//! //                                       let __t3 = __t2.powi(2);
//! //                                       let __t5 = 2.0f64 * x * __t2;
//! ```
//!
//! Shared nodes get one `let` each (common subexpressions are computed once); nodes used once are
//! written inline. A `Select` becomes `if c { … } else { … }` whose branches hold the nodes only
//! that branch needs, so an untaken branch costs nothing and cannot produce a NaN. Nodes needed
//! by both branches are hoisted before the `if`, which keeps the output linear in the graph.
//! Generated names use `Span::mixed_site()`, so they cannot collide with the user's.
//!
//! # What the scheduler moves, and the check that allows it
//!
//! The decisions are the scheduler's (`schedule.rs`, no tokens); this module prints them. Each
//! transformation of the order the graph implies is made only where one dependency check,
//! written once (in the function named), says it is safe; where it cannot tell, it does not
//! move the code. The differential fuzzer (`fuzz/`) runs the emitted code against an oracle.
//!
//! | transformation | allowed when | where |
//! |---|---|---|
//! | hoisting a node out of a loop over `v` | it does not depend on `v`'s index (its loop mask), is not an effect (a scatter, or a loop of them, runs once per iteration), does not read a loop the user wrote in `v`'s body (`Graph::loop_nest`: the user runs that loop only in the iterations, and under the conditions, that reach it), and neither may panic nor is under a condition; a whole loop written before `v` is hoisted even so (the user computed it there; not hoisting it makes a conditional mean O(n²)); a vector added into is hoisted only with its additions (the `Filled` that ends them) | [`Schedule::loop_invariants`] |
//! | running a recurrence's forward loop before its reverse sweep | the region computes the recurrence anyway; otherwise both run in a block of their own, only where the sweep's seed is not zero (the function computes the recurrence wherever its adjoint can be nonzero): `if n > x.len() { return x[0]; }` then a product over `x[n - 1 - i]` | [`Schedule::guarded_sweep`] |
//! | reusing, inside a loop over `v`, a value bound outside | it does not depend on `v`'s index: a loop over `v` can run inside an iteration of another (the reverse pass sums over rows inside the loop over columns) | [`Schedule::visible_in_loop`] |
//! | reading a bound value in a statement of a region | it was bound before that statement; a loop or branch that needs a value bound later computes it itself | [`Schedule::plan`] |
//! | fusing sums over one loop into one `for` (at the last member) | same loop and bounds, no member reads another, and no statement between them reads a member | [`Schedule::loop_group`] |
//! | fusing them at the first member | everything each member reads from outside the loop is bound before the first | [`Schedule::early_group`] |
//! | running sums inside a recurrence's reverse loop | they read that sweep's `λ` | [`Schedule::of`] (`sweeps`) |
//! | a reverse sweep as one recorded iteration | its step only keeps or kills `λ`, and its sums vanish where it does | `schedule::kill_or_keep_sweeps` |
//! | summing a loop's additions `z[k] += e` in a local, added to `z[k]` after the loop | the loop changes neither the vector nor `k`, and `k` is bound before the loop; the addition runs only if the loop ran (`if lo < hi`) | [`Emitter::summed_accumulate`] |
//! | reusing a vector (a local array, an adjoint vector, a recurrence's saved values) from one iteration of a loop to the next | it is bound at the top level of the loop's body (given back at the end of each iteration; a nested use of the same vector allocates its own) | [`Emitter::vector`] |
//! | binding an element read first | it is the largest offset of the loop's index into that slice (its bounds check covers the others) | `schedule::leading_reads` |
//!
//! The interchange of loops (a contribution summed over the loops its target is not in, at the
//! target) is the differentiation pass's (`diff::Sweep::contribute`), which keeps a contribution
//! per iteration where the sum would rerun a loop that varies with them.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::formula::Prec;
use crate::graph::{Fun, Graph, NodeId, Op, SymId, WITH_SLICES};
use crate::schedule::{Schedule, Step};
use crate::signature::FloatTy;

/// The longest local array of constant length emitted as an array on the stack (longer ones,
/// and those whose length is known only at run time, are vectors).
const MAX_STACK_ARRAY: usize = 32;

pub struct Emitter<'a> {
    g: &'a Graph,
    /// Where each node is computed (what this module prints).
    s: Schedule<'a>,
    symbols: Symbols<'a>,
    /// The tokens of each float input (the parameter's identifier), by input index.
    inputs: &'a [TokenStream],
    /// The tokens of each differentiated slice parameter, by slice number.
    slices: &'a [TokenStream],
    float: FloatTy,
    /// Where the slices' gradients accumulate.
    sinks: Sinks,
    /// The vectors the iterations of a loop reuse (`__tN_pool`, see [`Emitter::vector`]): their
    /// declarations, emitted before the code, and their names.
    pools: RefCell<(TokenStream, HashSet<String>)>,
}

/// What the body of a loop adds to the statements around the loop (see
/// [`Emitter::loop_body`]).
#[derive(Default)]
struct LoopEnd {
    /// The statements ending an iteration: the vectors it took from their pools, given back.
    back: TokenStream,
    /// In a loop summing its additions at an index it does not change (see
    /// [`Emitter::summed_accumulate`]): the loop, and what is bound before it.
    summing: Option<(u32, HashSet<NodeId>)>,
    /// The sums' declarations before the loop, and their additions after it.
    before: TokenStream,
    after: TokenStream,
}

/// A differentiated slice passed to a call: its number, the argument's span, and the bounds of
/// the run passed (`&x[lo..hi]`), if not the whole slice.
type Slot = (u32, Span, Option<(NodeId, NodeId)>);

/// Where the gradients of the differentiated slices accumulate.
#[derive(Clone, Copy)]
pub enum Sinks {
    /// Vectors, arrays or `&mut [T]` (passed on as `&mut g[..]`).
    Slices,
    /// A `__vjp`'s generic `&mut S` parameters (passed on as `&mut *g`).
    Generic,
    /// None: the function computes no slice's gradient (`__partials`, `__jacobian`), and a
    /// called function's product that would also write one (see `graph::WITH_SLICES`) is
    /// given `Discard` there.
    Discarded,
}

/// The tokens of the graph's symbols, and the path each callee's derivative is reached by.
#[derive(Clone, Copy)]
pub struct Symbols<'a> {
    /// The tokens of every symbol, by `SymId`.
    pub tokens: &'a [TokenStream],
    /// For the callees whose derivative the code calls, by the `SymId` of their path: the
    /// checked alias of `callees` (a path not in it is used as written).
    pub callees: &'a HashMap<u32, TokenStream>,
}

impl Symbols<'_> {
    /// The path of a call's `__partials` and `__vjp`.
    fn derivative_path(&self, f: SymId) -> &TokenStream {
        self.callees.get(&f.0).unwrap_or(&self.tokens[f.0 as usize])
    }
}

/// Emits statements computing `roots`, and an expression for each root.
pub fn emit(
    g: &Graph,
    symbols: Symbols<'_>,
    inputs: &[TokenStream],
    slices: &[TokenStream],
    float: FloatTy,
    roots: &[NodeId],
    sinks: Sinks,
) -> (TokenStream, Vec<TokenStream>) {
    let e = Emitter {
        g,
        s: Schedule::of(g, roots),
        symbols,
        inputs,
        slices,
        float,
        sinks,
        pools: RefCell::default(),
    };
    let mut defined = HashSet::new();
    let stmts = e.region(roots, &mut defined);
    let exprs = roots.iter().map(|r| e.expr(*r, Prec::Select)).collect();
    let (mut out, _) = e.pools.take();
    out.extend(stmts);
    (out, exprs)
}

impl Emitter<'_> {
    /// `__t<id>`, or `__t<id>_<name>` for a node the user bound with `let` (renumbered in
    /// order of appearance by [`renumber`]).
    fn name(&self, n: NodeId) -> proc_macro2::Ident {
        match self.g.let_name(n) {
            Some(user) => format_ident!("__t{}_{}", n.0, user, span = Span::mixed_site()),
            None => format_ident!("__t{}", n.0, span = Span::mixed_site()),
        }
    }

    fn partials_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__d{}", n.0, span = Span::mixed_site())
    }

    /// The second partial derivatives of call `n` (`__dd5.0.1` is `∂²f/∂a₀∂a₁`).
    fn second_partials_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__dd{}", n.0, span = Span::mixed_site())
    }

    /// Statements binding the nodes of the region of `roots`; marks them defined.
    fn region(&self, roots: &[NodeId], defined: &mut HashSet<NodeId>) -> TokenStream {
        let (mut out, scatters) = self.region_parts(roots, defined, None);
        out.extend(scatters);
        out
    }

    /// The region of a loop's body: [`region_parts`](Self::region_parts), and the statements
    /// that end an iteration, giving back the vectors it took from their pools (see
    /// [`vector`](Self::vector)).
    fn loop_body(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
    ) -> (TokenStream, TokenStream, TokenStream) {
        let mut end = LoopEnd::default();
        let (stmts, scatters) = self.region_parts(roots, defined, Some(&mut end));
        (stmts, scatters, end.back)
    }

    /// [`loop_body`](Self::loop_body) with the scatters after the statements: the body, and
    /// the statements ending an iteration.
    fn whole_loop_body(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
    ) -> (TokenStream, TokenStream) {
        let (mut stmts, scatters, back) = self.loop_body(roots, defined);
        stmts.extend(scatters);
        (stmts, back)
    }

    /// [`loop_body`](Self::loop_body) of a loop over `v` whose additions into a vector at an
    /// index the loop does not change are summed in a local (see
    /// [`summed_accumulate`](Self::summed_accumulate)); `outside` is what is bound before
    /// the loop.
    fn summing_loop_body(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
        v: u32,
        outside: &HashSet<NodeId>,
    ) -> (TokenStream, TokenStream, LoopEnd) {
        let mut end = LoopEnd {
            summing: Some((v, outside.clone())),
            ..LoopEnd::default()
        };
        let (stmts, scatters) = self.region_parts(roots, defined, Some(&mut end));
        (stmts, scatters, end)
    }

    /// `__accN += e;` for an addition `z[k] += e` in a summing loop's body (see
    /// [`LoopEnd`]) whose vector is declared before the loop and whose index `k` the loop does
    /// not change and is bound before it, with `let mut __accN = 0.0;` before the loop and `if lo < hi { z[k] += __accN; }`
    /// after it (an empty loop reads no `z[k]`): the loop keeps the sum in a register, not
    /// storing to and loading from `z[k]` in every iteration, as a person writes it (GMM's
    /// reverse triangular product spent a third of its time in that store).
    fn summed_accumulate(&self, n: NodeId, end: &mut LoopEnd) -> Option<TokenStream> {
        let Op::Accumulate { alloc, i, value } = *self.g.op(n) else {
            return None;
        };
        let (v, outside) = end.summing.as_ref()?;
        let bit = 1u64 << v;
        let visible = |k: NodeId| {
            outside.contains(&k)
                || match *self.g.op(k) {
                    Op::LoopVar(w) => w != *v,
                    Op::IntConst(_) => true,
                    _ => false,
                }
        };
        if !outside.contains(&alloc) || self.g.loops_of(i) & bit != 0 || !visible(i) {
            return None;
        }
        let acc = format_ident!("__acc{}", n.0, span = Span::mixed_site());
        let zero = self.float_lit(0.0);
        let z = self.expr(alloc, Prec::Postfix);
        let k = self.expr(i, Prec::Select);
        let x = self.expr(value, Prec::Select);
        end.before.extend(quote! { let mut #acc = #zero; });
        end.after.extend(quote! { #z[#k] += #acc; });
        Some(quote! { #acc += #x; })
    }

    /// [`region`](Self::region) in two parts: the statements, then the scatters into the
    /// slices' gradients (a loop adds to its accumulators between the two), in the order
    /// [`Schedule::plan`] gives. In a loop's body (`back`), the vectors bound at its level
    /// reuse the previous iteration's.
    fn region_parts(
        &self,
        roots: &[NodeId],
        defined: &mut HashSet<NodeId>,
        mut back: Option<&mut LoopEnd>,
    ) -> (TokenStream, TokenStream) {
        let plan = self.s.plan(roots, defined);
        let mut out = TokenStream::new();
        let mut visible = defined.clone();
        for step in &plan.steps {
            match step {
                Step::Loop(group) => {
                    if matches!(
                        self.g.op(group[0]),
                        Op::RevFold { .. } | Op::RevCoupled { .. }
                    ) {
                        out.extend(self.reverse_loop(group, &visible));
                    } else {
                        out.extend(self.fused_loop(group, &visible));
                    }
                    visible.extend(group.iter().copied());
                }
                Step::Guarded(group) => {
                    out.extend(self.guarded_sweep(group, &visible, back.is_some()));
                    visible.extend(group.iter().copied());
                }
                Step::Exit(group, until) => {
                    out.extend(self.exit_loop(group, *until, &visible));
                    visible.extend(group.iter().copied());
                    visible.insert(*until);
                }
                Step::Bind(n) => {
                    out.extend(match back.as_deref_mut() {
                        Some(back) => self.pooled_binding(*n, &visible, back),
                        None => self.binding(*n, &visible),
                    });
                    visible.insert(*n);
                }
                Step::Inline(n) => {
                    visible.insert(*n);
                }
            }
        }
        defined.extend(plan.nodes);
        let mut effects = TokenStream::new();
        for n in plan.scatters {
            effects.extend(self.binding(n, defined));
        }
        (out, effects)
    }

    /// One `for` loop computing every sum (and effect) of `group`, which share loop and bounds:
    /// `let mut acc = 0.0; … for i in lo..hi { …; acc += body; … } let __tN = acc;`
    fn fused_loop(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Sum { v, lo, hi, .. } = *self.g.op(group[0]) else {
            return quote!(::core::compile_error!("internal error: not a loop"));
        };
        let i = loop_var_name(v);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let bodies: Vec<NodeId> = group.iter().filter_map(|n| self.s.sum_body(*n)).collect();
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, scatters, end) = self.summing_loop_body(&bodies, &mut inner, v, defined);
        let (init, add, bind) = self.accumulators(group);
        let LoopEnd {
            back,
            before,
            after,
            ..
        } = end;
        let after = if after.is_empty() {
            after
        } else {
            quote! { if #lo < #hi { #after } }
        };
        // The accumulators before the scatters, as a person writes it: the value's arithmetic is
        // not held behind the stores (measured 1.25 → 1.0 of hand-written on Rosenbrock).
        quote! {
            #init
            #before
            for #i in #lo..#hi {
                #stmts
                #add
                #scatters
                #back
            }
            #after
            #bind
        }
    }

    /// [`fused_loop`](Self::fused_loop) over `lo..hi` that stops where `until` (a `break`'s
    /// `Op::Until` over the same range) does, binding it: `let mut __tU = hi; for i in lo..hi {
    /// …; if cond { __tU = i; break; } …; acc += body; … }`, the loop a person writes.
    fn exit_loop(&self, group: &[NodeId], until: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Sum { v, lo, .. } = *self.g.op(group[0]) else {
            return quote!(::core::compile_error!("internal error: not a loop"));
        };
        let Op::Until {
            v: v0, hi, cond, ..
        } = *self.g.op(until)
        else {
            return quote!(::core::compile_error!("internal error: not a loop's end"));
        };
        let (i, i0, stop) = (loop_var_name(v), loop_var_name(v0), self.name(until));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        // The condition, read with its own loop's index bound to this one's.
        let mut outside = self.s.visible_in_loop(v0, defined);
        let (test, back_test) = self.whole_loop_body(&[cond], &mut outside);
        let cond = self.expr(cond, Prec::Or);
        let bodies: Vec<NodeId> = group.iter().filter_map(|n| self.s.sum_body(*n)).collect();
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, scatters, back) = self.loop_body(&bodies, &mut inner);
        let (init, add, bind) = self.accumulators(group);
        quote! {
            #init
            let mut #stop = #hi;
            for #i in #lo..#hi {
                let #i0 = #i;
                #test
                if #cond {
                    #stop = #i;
                    break;
                }
                #stmts
                #add
                #scatters
                #back_test
                #back
            }
            #bind
        }
    }

    /// For the float sums among `sums`, run in one loop: `let mut acc = 0.0;` before it,
    /// `acc += body;` in it, `let __tN = acc;` after it. (A loop of effects has no
    /// accumulator: its statements are in the loop's region.)
    fn accumulators(&self, sums: &[NodeId]) -> (TokenStream, TokenStream, TokenStream) {
        let zero = self.float_lit(0.0);
        let (mut init, mut add, mut bind) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for &n in sums {
            let Some(body) = self.s.sum_body(n) else {
                continue;
            };
            if self.g.kind(n) != crate::graph::Kind::Float {
                continue;
            }
            let acc = format_ident!("__acc{}", n.0, span = Span::mixed_site());
            let name = self.name(n);
            let value = self.expr(body, Prec::Select);
            init.extend(quote! { let mut #acc = #zero; });
            add.extend(quote! { #acc += #value; });
            bind.extend(quote! { let #name = #acc; });
        }
        (init, add, bind)
    }

    /// The forward loop of recurrence `n`, saving each iteration's value when a reverse sweep
    /// needs it: `let mut s = init; for i in lo..hi { trace.push(s); …; s = body; } let __tN = s;`
    fn fold_loop(
        &self,
        n: NodeId,
        defined: &HashSet<NodeId>,
        pool: Option<&mut TokenStream>,
    ) -> TokenStream {
        let Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.g.op(n)
        else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (i, s, trace, name) = (loop_var_name(v), carry_name(c), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let init = self.expr(init, Prec::Select);
        let mut inner = self.s.visible_in_loop(v, defined);
        let kill = self.s.last_kill.get(&c).copied();
        let mut roots = vec![body];
        roots.extend(kill.map(|(cond, _)| cond));
        let (stmts, back) = self.whole_loop_body(&roots, &mut inner);
        let next = self.expr(body, Prec::Select);
        let (declare, save) = if let Some((cond, on)) = kill {
            let cond = self.expr(cond, Prec::Prefix);
            let kills = if on { cond } else { quote!(!#cond) };
            (
                quote! { let mut #trace = ::core::option::Option::None; },
                quote! {
                    #stmts
                    if #kills {
                        #trace = ::core::option::Option::Some((#i, #s));
                    }
                },
            )
        } else if self.s.traced.contains(&c) {
            // The loop's length, for any integer type of its bounds.
            let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
            (
                self.vector(
                    &trace,
                    &quote!(::std::vec::Vec::with_capacity(#len)),
                    &quote!(#trace.reserve(#len);),
                    pool,
                ),
                quote! { #trace.push(#s); #stmts },
            )
        } else {
            (TokenStream::new(), stmts)
        };
        quote! {
            let mut #s = #init;
            #declare
            for #i in #lo..#hi {
                #save
                #s = #next;
                #back
            }
            let #name = #s;
        }
    }

    /// `let mut name = fresh;` — or, where `pool` is given (the vector is bound in a loop's
    /// body), the vector the previous iteration gave back, emptied and refilled: `let mut name
    /// = take(&mut name_pool); name.clear(); refill`, with `name_pool = name;` added to `pool`
    /// (the statements ending the iteration). A loop over points that builds a buffer per
    /// point allocates it once per call, not once per point. (An inner use of the same node,
    /// while an outer one holds the vector, finds the pool empty and allocates; a `break` drops
    /// the vector.)
    fn vector(
        &self,
        name: &proc_macro2::Ident,
        fresh: &TokenStream,
        refill: &TokenStream,
        pool: Option<&mut TokenStream>,
    ) -> TokenStream {
        let Some(back) = pool else {
            return quote! { let mut #name = #fresh; };
        };
        let keep = format_ident!("{}_pool", name, span = Span::mixed_site());
        let ty = self.float_ty();
        let mut pools = self.pools.borrow_mut();
        if pools.1.insert(keep.to_string()) {
            pools.0.extend(quote! {
                let mut #keep: ::std::vec::Vec<#ty> = ::std::vec::Vec::new();
            });
        }
        back.extend(quote! { #keep = #name; });
        // Bound again once refilled: the vector's pointer and length, whose first binding was
        // lent to `reserve`/`resize`, stay in registers in the loops that read and add into it
        // (without this, GMM's gradient at d = 64 ran 18 % slower than with fresh vectors).
        quote! {
            let mut #name = ::core::mem::take(&mut #keep);
            #name.clear();
            #refill
            let mut #name = #name;
        }
    }

    /// [`binding`](Self::binding) of a node bound in a loop's body: a local array, a vector
    /// added into, or a recurrence's saved values reuse the previous iteration's vector.
    fn pooled_binding(
        &self,
        n: NodeId,
        defined: &HashSet<NodeId>,
        end: &mut LoopEnd,
    ) -> TokenStream {
        match self.g.op(n) {
            Op::Table { .. } => self.table_loop(n, defined, Some(&mut end.back)),
            Op::Alloc { .. } => self.alloc(n, Some(&mut end.back)),
            Op::Fold { .. } => self.fold_loop(n, defined, Some(&mut end.back)),
            Op::Accumulate { .. } => self
                .summed_accumulate(n, end)
                .unwrap_or_else(|| self.binding(n, defined)),
            _ => self.binding(n, defined),
        }
    }

    /// The forward loop of coupled recurrences `n`, saving the members its reverse sweep
    /// reads: `let mut s0 = init0; let mut s1 = init1; for i in lo..hi { trace.push((s0, s1));
    /// …; (s0, s1) = (body0, body1); } let __tN = (s0, s1);` (the bodies read the state at the
    /// start of the iteration, so the members are assigned together).
    fn coupled_loop(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let (Op::Coupled { c, v, lo, hi, .. }, Some((inits, bodies))) =
            (self.g.op(n), self.g.coupled_parts(n))
        else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (c, v) = (*c, *v);
        let k = u32::try_from(bodies.len()).unwrap_or(0);
        let (i, trace, name) = (loop_var_name(v), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(*lo, Prec::Select), self.expr(*hi, Prec::Select));
        let states: Vec<proc_macro2::Ident> = (c..c + k).map(carry_name).collect();
        let inits = inits.iter().map(|x| self.expr(*x, Prec::Select));
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, back) = self.whole_loop_body(bodies, &mut inner);
        let nexts = bodies.iter().map(|b| self.expr(*b, Prec::Select));
        let saved: Vec<proc_macro2::Ident> = (c..c + k)
            .filter(|d| self.s.traced.contains(d))
            .map(carry_name)
            .collect();
        let (declare, save) = if saved.is_empty() {
            (TokenStream::new(), TokenStream::new())
        } else {
            (
                quote! {
                    let mut #trace = ::std::vec::Vec::with_capacity(
                        ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
                    );
                },
                quote! { #trace.push((#(#saved,)*)); },
            )
        };
        quote! {
            #(let mut #states = #inits;)*
            #declare
            for #i in #lo..#hi {
                #save
                #stmts
                (#(#states),*) = (#(#nexts),*);
                #back
            }
            let #name = (#(#states,)*);
        }
    }

    /// The reverse loop of coupled recurrences (`group[0]`, a `RevCoupled`) with the sums that
    /// read its adjoints: each iteration reads its saved state, adds its contributions, and
    /// steps every `λₖ` back one iteration together: `(λ0, λ1) = (step0, step1);`.
    fn reverse_coupled_loop(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> TokenStream {
        let (Op::RevCoupled { sweep, v, fold, .. }, Some((seeds, steps))) =
            (self.g.op(group[0]), self.g.coupled_parts(group[0]))
        else {
            return quote!(::core::compile_error!(
                "internal error: not a reverse sweep"
            ));
        };
        let Op::Coupled { c, lo, hi, .. } = *self.g.op(*fold) else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (sweep, v) = (*sweep, *v);
        let k = u32::try_from(steps.len()).unwrap_or(0);
        let (i, trace, name) = (loop_var_name(v), trace_name(c), self.name(group[0]));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let lams: Vec<proc_macro2::Ident> = (sweep..sweep + k).map(adjoint_name).collect();
        let seeds = seeds.iter().map(|x| self.expr(*x, Prec::Select));
        let mut bodies = steps.to_vec();
        bodies.extend(group[1..].iter().filter_map(|n| self.s.sum_body(*n)));
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, scatters, give_back) = self.loop_body(&bodies, &mut inner);
        let (init, add, bind) = self.accumulators(&group[1..]);
        let backs = steps.iter().map(|x| self.expr(*x, Prec::Select));
        let saved: Vec<proc_macro2::Ident> = (c..c + k)
            .filter(|d| self.s.traced.contains(d))
            .map(carry_name)
            .collect();
        let iterations = if saved.is_empty() {
            quote!(for #i in (#lo..#hi).rev())
        } else {
            quote!(for (#i, &(#(#saved,)*)) in (#lo..#hi).rev().zip(#trace.iter().rev()))
        };
        quote! {
            #(let mut #lams = #seeds;)*
            #init
            #iterations {
                #stmts
                #add
                #scatters
                (#(#lams),*) = (#(#backs),*);
                #give_back
            }
            let #name = (#(#lams,)*);
            #bind
        }
    }

    /// A local array, computed once: `let mut __tN = Vec::with_capacity(hi − lo); for v in
    /// lo..hi { …; __tN.push(body); }`.
    fn table_loop(
        &self,
        n: NodeId,
        defined: &HashSet<NodeId>,
        pool: Option<&mut TokenStream>,
    ) -> TokenStream {
        let Op::Table { v, lo, hi, body } = *self.g.op(n) else {
            return quote!(::core::compile_error!("internal error: not a local array"));
        };
        let (i, name) = (loop_var_name(v), self.name(n));
        let first = self.g.as_int(lo);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        if let Some(len) = self.fixed_len(n) {
            // A few elements, known at compile time: an array on the stack (no allocation).
            let len = Literal::usize_unsuffixed(len);
            let value = self.expr(body, Prec::Select);
            if self.g.constant_fill(n).is_some() {
                return quote! { let #name = [#value; #len]; };
            }
            let zero = self.float_lit(0.0);
            let mut inner = self.s.visible_in_loop(v, defined);
            let (stmts, back) = self.whole_loop_body(&[body], &mut inner);
            let at = match first {
                Some(0) => quote!(#i),
                _ => quote!(#i - #lo),
            };
            return quote! {
                let mut #name = [#zero; #len];
                for #i in #lo..#hi {
                    #stmts
                    #name[#at] = #value;
                    #back
                }
            };
        }
        let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
        if self.g.constant_fill(n).is_some() {
            let value = self.expr(body, Prec::Select);
            return self.vector(
                &name,
                &quote!(::std::vec![#value; #len]),
                &quote!(#name.resize(#len, #value);),
                pool,
            );
        }
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, back) = self.whole_loop_body(&[body], &mut inner);
        let value = self.expr(body, Prec::Select);
        let start = self.vector(
            &name,
            &quote!(::std::vec::Vec::with_capacity(#len)),
            &quote!(#name.reserve(#len);),
            pool,
        );
        // Bound again once filled (see `vector`).
        quote! {
            #start
            for #i in #lo..#hi {
                #stmts
                #name.push(#value);
                #back
            }
            let #name = #name;
        }
    }

    /// The length of local array `a` where it is a small constant: the array is then on the
    /// stack (`[0.0; 3]`), as the user's `[a, b, c]` is, not a vector.
    fn fixed_len(&self, a: NodeId) -> Option<usize> {
        match *self.g.op(a) {
            Op::Table { lo, hi, .. } => {
                let (lo, hi) = (self.g.as_int(lo)?, self.g.as_int(hi)?);
                usize::try_from(hi - lo)
                    .ok()
                    .filter(|n| *n <= MAX_STACK_ARRAY)
            }
            Op::Filled { alloc, .. } => self.fixed_len(alloc),
            Op::Alloc { like, .. } => self.fixed_len(like),
            _ => None,
        }
    }

    /// A vector added into: `let mut __zB = vec![0.0; z.len()];` (an adjoint), a copy of the
    /// array it starts from, or `vec![c; n]` for a constant one (not copied). The additions
    /// (`__zB[i] += …`) are statements of their own, scheduled like the others, before the
    /// `Filled` that reads it.
    fn alloc(&self, n: NodeId, pool: Option<&mut TokenStream>) -> TokenStream {
        let Op::Alloc {
            buf, like, zero, ..
        } = *self.g.op(n)
        else {
            return quote!(::core::compile_error!("internal error: not a vector"));
        };
        let z = buffer_name(buf);
        // A few elements, known at compile time: on the stack, neither allocated nor reused.
        if let Some(fixed) = self.fixed_len(like).map(Literal::usize_unsuffixed) {
            let start = match (zero, self.g.constant_fill(like)) {
                (true, _) => {
                    let zero = self.float_lit(0.0);
                    quote!([#zero; #fixed])
                }
                (false, Some((c, ..))) => {
                    let c = self.expr(c, Prec::Select);
                    quote!([#c; #fixed])
                }
                (false, None) => {
                    let like = self.expr(like, Prec::Postfix);
                    quote!(::core::clone::Clone::clone(&#like))
                }
            };
            return quote! { let mut #z = #start; };
        }
        let (fresh, refill) = match (zero, self.g.constant_fill(like)) {
            (true, _) => {
                let zero = self.float_lit(0.0);
                let like = self.expr(like, Prec::Postfix);
                (
                    quote!(::std::vec![#zero; #like.len()]),
                    quote!(#z.resize(#like.len(), #zero);),
                )
            }
            (false, Some((c, lo, hi))) => {
                let (c, lo, hi) = (
                    self.expr(c, Prec::Select),
                    self.expr(lo, Prec::Select),
                    self.expr(hi, Prec::Select),
                );
                let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
                (quote!(::std::vec![#c; #len]), quote!(#z.resize(#len, #c);))
            }
            (false, None) => {
                let like = self.expr(like, Prec::Postfix);
                (
                    quote!(::std::clone::Clone::clone(&#like)),
                    quote!(#z.extend_from_slice(&#like);),
                )
            }
        };
        self.vector(&z, &fresh, &refill, pool)
    }

    /// The loop that finds where `for v in lo..hi { …; if cond { break; } … }` breaks:
    /// `let mut __tN = hi; for v in lo..hi { …; if cond { __tN = v; break; } }`.
    fn until_loop(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let Op::Until { v, lo, hi, cond } = *self.g.op(n) else {
            return quote!(::core::compile_error!("internal error: not a loop's end"));
        };
        let (i, name) = (loop_var_name(v), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, back) = self.whole_loop_body(&[cond], &mut inner);
        let cond = self.expr(cond, Prec::Or);
        quote! {
            let mut #name = #hi;
            for #i in #lo..#hi {
                #stmts
                if #cond {
                    #name = #i;
                    break;
                }
                #back
            }
        }
    }

    /// The reverse loop of a recurrence's gradient, with the sums that read its `λ` (`group[0]`
    /// is the `RevFold`): each iteration reads its saved value, adds its contributions, and
    /// steps `λ` back one iteration.
    fn reverse_loop(&self, group: &[NodeId], defined: &HashSet<NodeId>) -> TokenStream {
        if matches!(self.g.op(group[0]), Op::RevCoupled { .. }) {
            return self.reverse_coupled_loop(group, defined);
        }
        let Op::RevFold {
            sweep,
            v,
            fold,
            seed,
            step,
        } = *self.g.op(group[0])
        else {
            return quote!(::core::compile_error!(
                "internal error: not a reverse sweep"
            ));
        };
        let Op::Fold { c, lo, hi, .. } = *self.g.op(fold) else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let (i, s, trace, lam) = (
            loop_var_name(v),
            carry_name(c),
            trace_name(c),
            adjoint_name(sweep),
        );
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let seed = self.expr(seed, Prec::Select);
        let mut bodies = vec![step];
        bodies.extend(group[1..].iter().filter_map(|n| self.s.sum_body(*n)));
        let mut inner = self.s.visible_in_loop(v, defined);
        let (stmts, scatters, give_back) = self.loop_body(&bodies, &mut inner);
        let (init, add, bind) = self.accumulators(&group[1..]);
        let back = self.expr(step, Prec::Select);
        let name = self.name(group[0]);
        // Only the last iteration that kills `λ` contributes, if the sweep only keeps or kills it
        // (`λ` is the seed until then, and zero before it), with the value the recurrence had
        // there; otherwise every iteration, with its saved value.
        let iterations = if self.s.last_kill.contains_key(&c) {
            quote!(if let ::core::option::Option::Some((#i, #s)) = #trace)
        } else {
            quote!(for (#i, &#s) in (#lo..#hi).rev().zip(#trace.iter().rev()))
        };
        quote! {
            let mut #lam = #seed;
            #init
            #iterations {
                #stmts
                #add
                #scatters
                #lam = #back;
                #give_back
            }
            let #name = #lam;
            #bind
        }
    }

    /// A reverse sweep and the sums in its loop ([`Step::Guarded`]), with its recurrence's
    /// forward loop, run only where its seed is not zero; its value and the sums' are zero
    /// elsewhere (a zero `λ` stays zero):
    ///
    /// ```text
    /// let (__tR, __tS) = if seed != 0.0 {
    ///     let mut __s0 = init; … for i in lo..hi { trace.push(__s0); … }   // forward
    ///     let mut __lam0 = seed; … for (i, &__s0) in … .rev() { … }        // reverse
    ///     (__tR, __tS)
    /// } else {
    ///     (0.0, 0.0)
    /// };
    /// ```
    fn guarded_sweep(
        &self,
        group: &[NodeId],
        defined: &HashSet<NodeId>,
        in_loop: bool,
    ) -> TokenStream {
        let (fold, seeds) = match *self.g.op(group[0]) {
            Op::RevFold { fold, seed, .. } => (fold, vec![seed]),
            Op::RevCoupled { fold, .. } => (
                fold,
                self.g
                    .coupled_parts(group[0])
                    .map(|p| p.0.to_vec())
                    .unwrap_or_default(),
            ),
            _ => {
                return quote!(::core::compile_error!(
                    "internal error: not a reverse sweep"
                ));
            }
        };
        let (Op::Fold { lo, hi, .. } | Op::Coupled { lo, hi, .. }) = *self.g.op(fold) else {
            return quote!(::core::compile_error!("internal error: not a recurrence"));
        };
        let mut reads = vec![lo, hi];
        for n in group {
            reads.extend(self.s.sweep_reads(*n));
        }
        let mut inner = defined.clone();
        // In a loop's body, the vectors of the block are given back at its end.
        let (stmts, back) = if in_loop {
            let (stmts, back) = self.whole_loop_body(&reads, &mut inner);
            (stmts, back)
        } else {
            (self.region(&reads, &mut inner), TokenStream::new())
        };
        let sweep = self.reverse_loop(group, &inner);
        let zero = self.float_lit(0.0);
        // The sums' values, and a coupled sweep's adjoints (a tuple: zero each).
        let (values, zeros): (Vec<proc_macro2::Ident>, Vec<TokenStream>) = group
            .iter()
            .filter_map(|n| match self.g.coupled_parts(*n) {
                Some((seeds, _)) => {
                    let zeros = seeds.iter().map(|_| &zero);
                    Some((self.name(*n), quote!((#(#zeros,)*))))
                }
                None if self.g.kind(*n) == crate::graph::Kind::Float => {
                    Some((self.name(*n), zero.clone()))
                }
                None => None,
            })
            .unzip();
        // The sweep runs where one of its seeds is not zero.
        let seeds = seeds.iter().map(|s| self.expr(*s, Prec::Compare));
        quote! {
            let (#(#values,)*) = if #(#seeds != #zero)||* {
                #stmts
                #sweep
                #back
                (#(#values,)*)
            } else {
                (#(#zeros,)*)
            };
        }
    }

    /// An argument of a call: a differentiated slice as the user wrote it (`x`, `&x`), a run
    /// of one as `&x[lo..hi]` (its bounds computed here), everything else as an expression.
    fn call_arg(&self, a: NodeId) -> TokenStream {
        match self.g.op(a) {
            Op::SliceArg(k, _, range) if range.len() == 2 => {
                let x = &self.slices[*k as usize];
                let (lo, hi) = (
                    self.expr(range[0], Prec::Select),
                    self.expr(range[1], Prec::Select),
                );
                quote! { &#x[#lo..#hi] }
            }
            Op::SliceArg(_, s, _) => self.symbols.tokens[s.0 as usize].clone(),
            // A local array, lent whole (`&Vec<T>` coerces to the `&[T]` the callee takes).
            _ if self.g.kind(a) == crate::graph::Kind::Array => {
                let z = self.expr(a, Prec::Postfix);
                quote! { &#z }
            }
            _ => self.expr(a, Prec::Select),
        }
    }

    /// `let __tN = …;` for one bound node.
    fn binding(&self, n: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let name = self.name(n);
        match self.g.op(n) {
            // A guarded effect: a statement, each branch's effects in its block.
            Op::Select(c, a, b) if self.g.is_effect(n) => {
                let cond = self.expr(*c, Prec::Or);
                let then = self.region(&[*a], &mut defined.clone());
                let other = self.region(&[*b], &mut defined.clone());
                match (then.is_empty(), other.is_empty()) {
                    (_, true) => quote! { if #cond { #then } },
                    (true, false) => {
                        let cond = self.expr(*c, Prec::Prefix);
                        quote! { if !#cond { #other } }
                    }
                    (false, false) => quote! { if #cond { #then } else { #other } },
                }
            }
            Op::Select(c, a, b) => {
                let cond = self.expr(*c, Prec::Or);
                let then = self.branch(*a, defined);
                let other = self.branch(*b, defined);
                quote! { let #name = if #cond { #then } else { #other }; }
            }
            // Short-circuiting: what the right operand needs is computed only when it is read.
            Op::And(a, b) | Op::Or(a, b) => {
                let (op, left, right) = if matches!(self.g.op(n), Op::And(..)) {
                    (quote!(&&), Prec::And, Prec::Compare)
                } else {
                    (quote!(||), Prec::Or, Prec::And)
                };
                let left = self.expr(*a, left);
                let mut inner = defined.clone();
                let stmts = self.region(&[*b], &mut inner);
                let right = self.expr(*b, right);
                if stmts.is_empty() {
                    quote! { let #name = #left #op #right; }
                } else {
                    quote! { let #name = #left #op { #stmts #right }; }
                }
            }
            // A vector-valued function's: the array of its outputs, and one row of partials per
            // output.
            Op::Call(f, args) if self.s.differentiated_calls.contains(&n) => {
                let path = self.symbols.derivative_path(*f);
                let args = args.iter().map(|a| self.call_arg(*a));
                let d = Self::partials_name(n);
                if self.s.second_order_calls.contains(&n) {
                    return self.second_order_call(n, path, &args.collect::<Vec<_>>());
                }
                let companion = if self.s.array_calls.contains(&n) {
                    quote!(__jacobian)
                } else {
                    quote!(__partials)
                };
                quote! { let (#name, #d) = #path::#companion(#(#args),*); }
            }
            Op::Sum { .. } => self.fused_loop(&[n], defined),
            Op::Fold { .. } => self.fold_loop(n, defined, None),
            Op::Coupled { .. } => self.coupled_loop(n, defined),
            Op::RevCoupled { .. } => self.reverse_coupled_loop(&[n], defined),
            Op::Until { .. } => self.until_loop(n, defined),
            Op::RevFold { .. } => self.reverse_loop(&[n], defined),
            Op::Table { .. } => self.table_loop(n, defined, None),
            Op::Alloc { .. } => self.alloc(n, None),
            Op::Accumulate { alloc, i, value } => {
                let z = self.expr(*alloc, Prec::Postfix);
                let i = self.expr(*i, Prec::Select);
                let x = self.expr(*value, Prec::Select);
                quote! { #z[#i] += #x; }
            }
            Op::Scatter(k, i, x) => {
                let g = grad_vec_name(*k);
                let i = self.expr(*i, Prec::Select);
                let x = self.expr(*x, Prec::Select);
                quote! { #g[#i] += #x; }
            }
            // Its two effects are bound, and emitted, on their own; a vector once added into
            // is read by its name (see `expr`).
            Op::Effects(..) | Op::Filled { .. } => TokenStream::new(),
            Op::CallVjp(call, seed) => self.call_vjp(*call, *seed),
            // The gradient vectors it would write, renamed to its sinks in a block of its own.
            Op::Rebound { effect, sinks } => {
                let binds = sinks.iter().map(|(from, to)| {
                    let (from, to) = (grad_vec_name(*from), grad_vec_name(*to));
                    quote! { let #from = &mut *#to; }
                });
                let inner = self.region(&[*effect], &mut defined.clone());
                quote! { { #(#binds)* #inner } }
            }
            Op::ArrayVjp {
                call,
                seed,
                alloc,
                position,
            } => self.array_vjp(*call, *seed, *alloc, *position),
            Op::VjpRows { .. } => self.vjp_rows(n),
            _ => {
                let value = self.bare(n);
                quote! { let #name = #value; }
            }
        }
    }

    /// `let (y, d, dd) = f::__partials2((args…,));` for a call whose second partial derivatives
    /// are needed: the value, the partials (`d.i`) and the second partials (`dd.i.j`), in one
    /// call of the callee's hidden `__partials2`, which `#[differentiable(hessian)]` emits. The
    /// arguments go as one tuple and the result is typed (a float per float argument, `()` for
    /// the others): for a callee without `hessian`, the call resolves to the never-run
    /// `SecondOrderFallback` instead, so the only error is the callee check's ("add `hessian`").
    fn second_order_call(
        &self,
        n: NodeId,
        path: &TokenStream,
        args: &[TokenStream],
    ) -> TokenStream {
        let Op::Call(_, nodes) = self.g.op(n) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let ty = match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        };
        let slot = |a: &NodeId| {
            if self.g.kind(*a) == crate::graph::Kind::Float {
                ty.clone()
            } else {
                quote!(())
            }
        };
        let partials: Vec<TokenStream> = nodes.iter().map(slot).collect();
        let rows = nodes.iter().map(|a| {
            if self.g.kind(*a) == crate::graph::Kind::Float {
                quote!((#(#partials,)*))
            } else {
                quote!(())
            }
        });
        let (name, d, dd) = (
            self.name(n),
            Self::partials_name(n),
            Self::second_partials_name(n),
        );
        quote! {
            #[allow(unused_imports)]
            use ::symgrad::__private::SecondOrderFallback as _;
            let (#name, #d, #dd): (#ty, (#(#partials,)*), (#(#rows,)*)) =
                #path::__partials2((#(#args,)*));
        }
    }

    /// `f::__vjp(args…, seed, sinks…)` for a call given differentiated slices: each slice's
    /// gradient vector as its sink, `Discard` for the other arguments.
    fn call_vjp(&self, call: NodeId, seed: NodeId) -> TokenStream {
        let Op::Call(f, args) = self.g.op(call) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let path = self.symbols.derivative_path(*f);
        let ty = self.float_ty();
        let values: Vec<TokenStream> = args.iter().map(|a| self.call_arg(*a)).collect();
        let seed = self.expr(seed, Prec::Select);
        let sink = |slot: Slot| self.slice_sink(slot);
        let discard = quote!(&mut ::symgrad::__private::Discard::<#ty>::default());
        let slots: Vec<Option<Slot>> = args.iter().map(|a| self.slot(*a)).collect();
        let given: Vec<u32> = slots.iter().flatten().map(|(k, ..)| *k).collect();
        let distinct = given
            .iter()
            .enumerate()
            .all(|(i, k)| !given[..i].contains(k));
        // One call; or, when one slice is passed twice (`dot(w, w)`), one call per
        // position, since a gradient vector can be lent mutably only once at a time.
        let rounds: Vec<Vec<TokenStream>> = if distinct {
            vec![
                slots
                    .iter()
                    .map(|s| s.map_or_else(|| discard.clone(), sink))
                    .collect(),
            ]
        } else {
            (0..slots.len())
                .filter(|j| slots[*j].is_some())
                .map(|j| {
                    slots
                        .iter()
                        .enumerate()
                        .map(|(i, s)| match s {
                            Some(slot) if i == j => sink(*slot),
                            _ => discard.clone(),
                        })
                        .collect()
                })
                .collect()
        };
        let calls = rounds.iter().map(|sinks| {
            quote! { #path::__vjp(#(#values,)* #seed, #(#sinks),*); }
        });
        quote! { #(#calls)* }
    }

    /// The differentiated slice (or run of one) argument `a` passes, with where it is written.
    fn slot(&self, a: NodeId) -> Option<Slot> {
        match self.g.op(a) {
            Op::SliceArg(k, s, range) => {
                let at = self.symbols.tokens[s.0 as usize].clone().into_iter().next();
                let run = (range.len() == 2).then(|| (range[0], range[1]));
                Some((*k, at.map_or_else(Span::call_site, |t| t.span()), run))
            }
            _ => None,
        }
    }

    /// Passed on to a called function's `__vjp`, spanned at the argument: the gradient of the
    /// slice, or of the run `x[lo..hi]` passed (its elements from `lo` on).
    fn slice_sink(&self, (k, at, run): Slot) -> TokenStream {
        if let Sinks::Discarded = self.sinks {
            let ty = match self.float {
                FloatTy::F32 => quote!(f32),
                FloatTy::F64 => quote!(f64),
            };
            return quote!(&mut ::symgrad::__private::Discard::<#ty>::default());
        }
        let mut g = grad_vec_name(k);
        g.set_span(g.span().located_at(at));
        match (self.sinks, run) {
            (Sinks::Generic, None) => quote_spanned!(at=> &mut *#g),
            (Sinks::Slices | Sinks::Discarded, None) => quote_spanned!(at=> &mut #g[..]),
            (Sinks::Generic, Some((lo, _))) => {
                let lo = self.expr(lo, Prec::Select);
                quote_spanned!(at=> &mut ::symgrad::__private::Offset::new(&mut *#g, #lo))
            }
            (Sinks::Slices | Sinks::Discarded, Some((lo, hi))) => {
                let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
                quote_spanned!(at=> &mut #g[#lo..#hi])
            }
        }
    }

    /// `f::__vjp(args…, seed, sinks…)` for a local array passed to a call as argument
    /// `position`: its adjoint vector (`alloc`) the sink there, `Discard` elsewhere, or with
    /// [`WITH_SLICES`] the differentiated slices' gradients where they are passed (one product
    /// for both).
    fn array_vjp(&self, call: NodeId, seed: NodeId, alloc: NodeId, position: u32) -> TokenStream {
        let with_slices = position & WITH_SLICES != 0;
        let position = position & !WITH_SLICES;
        let Op::Call(f, args) = self.g.op(call) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let path = self.symbols.derivative_path(*f);
        let ty = self.float_ty();
        let values: Vec<TokenStream> = args.iter().map(|a| self.call_arg(*a)).collect();
        let seed = self.expr(seed, Prec::Select);
        let z = self.expr(alloc, Prec::Postfix);
        let sinks = args.iter().enumerate().map(|(j, a)| {
            if j == position as usize {
                return quote!(&mut #z[..]);
            }
            match self.slot(*a) {
                Some(slot) if with_slices => self.slice_sink(slot),
                _ => quote!(&mut ::symgrad::__private::Discard::<#ty>::default()),
            }
        });
        quote! { #path::__vjp(#(#values,)* #seed, #(#sinks),*); }
    }

    /// `f::__vjp_rows(args…, [seeds…], [sinks…]…)` for the rows of an [`Op::VjpRows`]: per
    /// argument, an array of one sink per row (the row's gradient of the slice passed there,
    /// the row's adjoint vector of the local array passed there, or `Discard`).
    fn vjp_rows(&self, n: NodeId) -> TokenStream {
        let Op::VjpRows {
            call,
            rows,
            position,
            sinks,
            parts,
        } = self.g.op(n)
        else {
            return quote!(::core::compile_error!("internal error: not a product of rows"););
        };
        let Op::Call(f, args) = self.g.op(*call) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let rows = *rows as usize;
        let path = self.symbols.derivative_path(*f);
        let ty = self.float_ty();
        let values: Vec<TokenStream> = args.iter().map(|a| self.call_arg(*a)).collect();
        let seeds = parts[..rows].iter().map(|s| self.expr(*s, Prec::Select));
        let per_row = sinks.len() / rows.max(1);
        let columns = args.iter().enumerate().map(|(j, a)| {
            let each = (0..rows).map(|r| {
                if j == *position as usize {
                    let z = self.expr(parts[rows + r], Prec::Postfix);
                    return quote!(&mut #z[..]);
                }
                let own = &sinks[r * per_row..(r + 1) * per_row];
                match self.slot(*a) {
                    Some((k, at, run)) => match own.iter().find(|(from, _)| *from == k) {
                        Some((_, to)) => self.slice_sink((*to, at, run)),
                        None => quote!(&mut ::symgrad::__private::Discard::<#ty>::default()),
                    },
                    None => quote!(&mut ::symgrad::__private::Discard::<#ty>::default()),
                }
            });
            quote!([#(#each),*])
        });
        quote! { #path::__vjp_rows(#(#values,)* [#(#seeds),*], #(#columns),*); }
    }

    /// The body of one branch of a select: its own region, then its value.
    fn branch(&self, root: NodeId, defined: &HashSet<NodeId>) -> TokenStream {
        let mut inner = defined.clone();
        let stmts = self.region(&[root], &mut inner);
        let value = self.expr(root, Prec::Select);
        quote! { #stmts #value }
    }

    /// `n` as an expression usable where precedence `min` is required.
    fn expr(&self, n: NodeId, min: Prec) -> TokenStream {
        if matches!(self.g.op(n), Op::Alloc { .. } | Op::Filled { .. }) {
            return self.bare(n);
        }
        if self.s.is_bound(n) {
            let name = self.name(n);
            return quote! { #name };
        }
        let text = self.bare(n);
        // `n as f64 < x` would parse as generics: a cast is parenthesized wherever it is an operand.
        let is_cast = matches!(
            self.g.op(n),
            Op::Cast(_) | Op::IntCast(..) | Op::FloatToInt(..)
        );
        if Prec::of(self.g, n) < min || (is_cast && min > Prec::Select) {
            quote! { (#text) }
        } else {
            text
        }
    }

    /// `f32` or `f64`, the function's float type.
    fn float_ty(&self) -> TokenStream {
        match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        }
    }

    fn float_lit(&self, v: f64) -> TokenStream {
        let ty = self.float_ty();
        if v.is_nan() {
            return quote!(::core::#ty::NAN);
        }
        if v.is_infinite() {
            return if v > 0.0 {
                quote!(::core::#ty::INFINITY)
            } else {
                quote!(::core::#ty::NEG_INFINITY)
            };
        }
        #[allow(clippy::cast_possible_truncation)] // an f32 function's constants are f32
        let lit = match self.float {
            FloatTy::F32 => Literal::f32_suffixed(v.abs() as f32),
            FloatTy::F64 => Literal::f64_suffixed(v.abs()),
        };
        if v.is_sign_negative() {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    }

    fn infix(&self, a: NodeId, op: &TokenStream, b: NodeId, p: Prec) -> TokenStream {
        let (left, right) = if p == Prec::Compare {
            (Prec::Sum, Prec::Sum)
        } else {
            (p, p.next())
        };
        let a = self.expr(a, left);
        let b = self.expr(b, right);
        quote! { #a #op #b }
    }

    fn method(&self, recv: NodeId, name: &str, args: &[NodeId]) -> TokenStream {
        let recv = self.expr(recv, Prec::Postfix);
        let m = format_ident!("{}", name);
        let args = args.iter().map(|a| self.expr(*a, Prec::Select));
        quote! { #recv.#m(#(#args),*) }
    }

    /// The node's own expression (its children by name or inline).
    #[allow(clippy::too_many_lines)] // one arm per operation
    fn bare(&self, n: NodeId) -> TokenStream {
        let g = self.g;
        let ty = self.float_ty();
        match g.op(n) {
            Op::Const(bits) => self.float_lit(f64::from_bits(*bits)),
            Op::Input(i) => self.inputs[*i as usize].clone(),
            Op::Sym(s, _) | Op::SliceArg(_, s, _) => self.symbols.tokens[s.0 as usize].clone(),
            Op::Cast(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { #a as #ty }
            }
            Op::Neg(a) | Op::IntNeg(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { -#a }
            }
            Op::Add(a, b) => self.infix(*a, &quote!(+), *b, Prec::Sum),
            Op::Sub(a, b) => self.infix(*a, &quote!(-), *b, Prec::Sum),
            Op::Mul(a, b) => self.infix(*a, &quote!(*), *b, Prec::Product),
            Op::Div(a, b) => self.infix(*a, &quote!(/), *b, Prec::Product),
            Op::Unary(Fun::Sign, a) => {
                let a = self.expr(*a, Prec::Select);
                quote! { ::symgrad::__private::sign(#a) }
            }
            Op::Unary(f, a) => self.method(*a, f.name(), &[]),
            Op::Powi(a, k) => self.method(*a, "powi", &[*k]),
            Op::Binary(f, a, b) => self.method(*a, f.name(), &[*b]),
            Op::Clamp(a, lo, hi) => self.method(*a, "clamp", &[*lo, *hi]),
            Op::MulAdd(a, b, c) => self.method(*a, "mul_add", &[*b, *c]),
            Op::Select(c, a, b) => {
                // Only reached for selects bound by `binding`; kept total for safety.
                let cond = self.expr(*c, Prec::Or);
                let a = self.expr(*a, Prec::Select);
                let b = self.expr(*b, Prec::Select);
                quote! { if #cond { #a } else { #b } }
            }
            Op::Call(f, args) => {
                let path = &self.symbols.tokens[f.0 as usize];
                let args = args.iter().map(|a| self.call_arg(*a));
                quote! { #path(#(#args),*) }
            }
            Op::StopGradient(f, a) => {
                let path = &self.symbols.tokens[f.0 as usize];
                let a = self.expr(*a, Prec::Select);
                quote! { #path(#a) }
            }
            Op::CallOutput(call, k) => {
                let call = self.expr(*call, Prec::Postfix);
                let k = Literal::usize_unsuffixed(*k as usize);
                quote! { #call[#k] }
            }
            // Output `k` of a vector-valued call: row `k` of its partials.
            Op::Partial(output, i) if let Op::CallOutput(call, k) = *g.op(*output) => {
                let d = Self::partials_name(call);
                let k = Literal::usize_unsuffixed(k as usize);
                let i = syn::Index::from(*i as usize);
                quote! { #d[#k].#i }
            }
            Op::Partial(call, i) => {
                let d = Self::partials_name(*call);
                let i = syn::Index::from(*i as usize);
                quote! { #d.#i }
            }
            Op::Partial2(call, i, j) => {
                let d = Self::second_partials_name(*call);
                let (i, j) = (syn::Index::from(*i as usize), syn::Index::from(*j as usize));
                quote! { #d.#i.#j }
            }
            Op::IntConst(v) => {
                let lit = Literal::u64_unsuffixed(v.unsigned_abs());
                if *v < 0 { quote!(-#lit) } else { quote!(#lit) }
            }
            Op::IntBin(o, a, b) => {
                let op: TokenStream = o.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::of(g, n))
            }
            Op::IntCast(a, t) | Op::FloatToInt(a, t) => {
                let a = self.expr(*a, Prec::Prefix);
                let t = &self.symbols.tokens[t.0 as usize];
                quote! { #a as #t }
            }
            Op::BoolConst(v) => quote!(#v),
            Op::Compare(c, a, b) => {
                let op: TokenStream = c.symbol().parse().unwrap_or_default();
                self.infix(*a, &op, *b, Prec::Compare)
            }
            Op::Predicate(p, a) => self.method(*a, p.name(), &[]),
            Op::And(a, b) => self.infix(*a, &quote!(&&), *b, Prec::And),
            Op::Or(a, b) => self.infix(*a, &quote!(||), *b, Prec::Or),
            Op::Not(a) => {
                let a = self.expr(*a, Prec::Prefix);
                quote! { !#a }
            }
            Op::LoopVar(v) => {
                let i = loop_var_name(*v);
                quote! { #i }
            }
            Op::Index(s, i) | Op::IntIndex(s, i) => {
                let s = &self.symbols.tokens[s.0 as usize];
                let i = self.expr(*i, Prec::Select);
                quote! { #s[#i] }
            }
            Op::Element(k, i) => {
                let s = &self.slices[*k as usize];
                let i = self.expr(*i, Prec::Select);
                quote! { #s[#i] }
            }
            Op::Slice(k) => self.slices[*k as usize].clone(),
            Op::At(t, i) => {
                let t = self.expr(*t, Prec::Postfix);
                let i = self.expr(*i, Prec::Select);
                quote! { #t[#i] }
            }
            // A vector added into, by its name (`Alloc`: while it is being added into;
            // `Filled`: once it is complete).
            Op::Alloc { buf, .. } => {
                let z = buffer_name(*buf);
                quote! { #z }
            }
            Op::Filled { alloc, .. } => self.expr(*alloc, Prec::Postfix),
            Op::ArrayLen(a) => {
                let a = self.expr(*a, Prec::Postfix);
                quote! { #a.len() }
            }
            Op::AdjAt(a, i) => {
                let z = self.expr(*a, Prec::Postfix);
                let i = self.expr(*i, Prec::Select);
                quote! { #z[#i] }
            }
            Op::Seeds(values) => {
                let values = values.iter().map(|v| self.expr(*v, Prec::Select));
                quote! { &[#(#values),*] }
            }
            // Statements, emitted by `binding`; no value of their own.
            Op::Sum { .. }
            | Op::Scatter(..)
            | Op::Effects(..)
            | Op::NoEffect
            | Op::Fold { .. }
            | Op::RevFold { .. }
            | Op::Coupled { .. }
            | Op::RevCoupled { .. }
            | Op::Until { .. }
            | Op::CallVjp(..)
            | Op::Table { .. }
            | Op::Accumulate { .. }
            | Op::ArrayVjp { .. }
            | Op::Rebound { .. }
            | Op::VjpRows { .. } => {
                quote!(())
            }
            Op::Carry { c, .. } => {
                let s = carry_name(*c);
                quote! { #s }
            }
            Op::Component(of, k) => {
                let of = self.expr(*of, Prec::Postfix);
                let k = syn::Index::from(*k as usize);
                quote! { #of.#k }
            }
            Op::Adjoint { sweep: c, .. } => {
                let l = adjoint_name(*c);
                quote! { #l }
            }
            Op::Placeholder { .. } => quote!(::core::compile_error!(
                "internal error: a loop-carried placeholder escaped lowering"
            )),
        }
    }
}

/// The index of loop `v` in generated code.
fn loop_var_name(v: u32) -> proc_macro2::Ident {
    format_ident!("__i{}", v, span = Span::mixed_site())
}

/// The adjoint of a local array, buffer `b`.
fn buffer_name(b: u32) -> proc_macro2::Ident {
    format_ident!("__z{}", b, span = Span::mixed_site())
}

/// A recurrence's value in its forward loop, and its saved value in its reverse loop.
fn carry_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__s{}", c, span = Span::mixed_site())
}

/// The values of recurrence `c` its forward loop saved for the reverse sweep.
fn trace_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__trace{}", c, span = Span::mixed_site())
}

/// A recurrence's adjoint `λ` in its reverse loop.
fn adjoint_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__lam{}", c, span = Span::mixed_site())
}

/// The vector the gradient of differentiated slice `k` accumulates in.
pub fn grad_vec_name(k: u32) -> proc_macro2::Ident {
    format_ident!("__grad{}", k, span = Span::mixed_site())
}

/// The generated temporaries (`__t<id>`, `__d<id>`, `__dd<id>`, `__acc<id>`, named after graph nodes, with
/// gaps) renumbered in order of appearance, from 0 in each item: `__t3, __t7, __t16` read
/// `__t0, __t1, __t2`, and an edit to the graph no longer renames every temporary. The names of
/// one node keep one number (`let (__t4, __d4) = f::__partials(…)`, `let __t2 = __acc2;`), and
/// a user's `let` name stays as the suffix (`__t1_err`).
pub fn renumber(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut numbers = HashMap::new();
                let inner = renumber_with(g.stream(), &mut numbers);
                let mut out = proc_macro2::Group::new(g.delimiter(), inner);
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            other => other,
        })
        .collect()
}

/// [`renumber`] inside one item: `numbers` maps each node's old number to its new one.
fn renumber_with(tokens: TokenStream, numbers: &mut HashMap<String, usize>) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let inner = renumber_with(g.stream(), numbers);
                let mut out = proc_macro2::Group::new(g.delimiter(), inner);
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            TokenTree::Ident(id) => {
                let text = id.to_string();
                let Some((family, number, suffix)) = temporary(&text) else {
                    return TokenTree::Ident(id);
                };
                let next = numbers.len();
                let k = *numbers.entry(number.to_string()).or_insert(next);
                TokenTree::Ident(proc_macro2::Ident::new(
                    &format!("{family}{k}{suffix}"),
                    id.span(),
                ))
            }
            other => other,
        })
        .collect()
}

/// `__t12_err` → `("__t", "12", "_err")`: a generated temporary's family, number and suffix.
fn temporary(ident: &str) -> Option<(&'static str, &str, &str)> {
    ["__acc", "__t", "__dd", "__d"]
        .into_iter()
        .find_map(|family| {
            let rest = ident.strip_prefix(family)?;
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let (number, suffix) = rest.split_at(digits);
            (!number.is_empty() && (suffix.is_empty() || suffix.starts_with('_')))
                .then_some((family, number, suffix))
        })
}

#[cfg(test)]
mod renumber_tests {
    use super::{renumber, temporary};

    #[test]
    fn temporaries_are_recognised_by_family_number_and_suffix() {
        assert_eq!(temporary("__t12_err"), Some(("__t", "12", "_err")));
        assert_eq!(temporary("__d3"), Some(("__d", "3", "")));
        assert_eq!(temporary("__acc40"), Some(("__acc", "40", "")));
        for other in [
            "__tape", "__trace0", "__t", "__tx1", "__grad0", "__i1", "t3",
        ] {
            assert_eq!(temporary(other), None, "{other}");
        }
    }

    /// In order of appearance, from 0 in each item; one node's names keep one number.
    #[test]
    fn temporaries_are_renumbered_in_order_per_item() {
        let before: proc_macro2::TokenStream = "fn a() { let __t7 = 1; let __t3_err = __t7; \
             let (__t9, __d9) = f(); let mut __acc4 = __t3_err; let __t4 = __acc4; } \
             fn b() { let __t9 = __tape; }"
            .parse()
            .expect("internal error: test tokens");
        let after = renumber(before).to_string();
        let want: proc_macro2::TokenStream = "fn a() { let __t0 = 1; let __t1_err = __t0; \
             let (__t2, __d2) = f(); let mut __acc3 = __t1_err; let __t3 = __acc3; } \
             fn b() { let __t0 = __tape; }"
            .parse()
            .expect("internal error: test tokens");
        assert_eq!(after, want.to_string());
    }
}
