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
//! The decisions are the scheduler's (`schedule.rs` and its statement tree, `schedule/tree.rs`,
//! no tokens); this module prints the tree, and expressions through the shared printer
//! (`printer.rs`) that `formula.rs` prints the docs' formulas with. Each
//! transformation of the order the graph implies is made only where one dependency check,
//! written once (in the function named), says it is safe; where it cannot tell, it does not
//! move the code. The differential fuzzer (`fuzz/`) runs the emitted code against an oracle.
//!
//! | transformation | allowed when | where |
//! |---|---|---|
//! | hoisting a node out of a loop over `v` | it does not depend on `v`'s index (its loop mask), is not an effect (a scatter, or a loop of them, runs once per iteration), does not read a loop the user wrote in `v`'s body (`Graph::loop_nest`: the user runs that loop only in the iterations, and under the conditions, that reach it), and neither may panic nor is under a condition; a whole loop written before `v` is hoisted even so (the user computed it there; not hoisting it makes a conditional mean O(n²)); a vector added into is hoisted only with its additions (the `Filled` that ends them); before a loop that may not run, no call, nor loop whose bounds may panic, that only that loop reads (`early_risk`), unless the loop's own bounds compute those bounds anyway (a table over `0..n - 1` read in a loop over `0..n - 1`) | [`Schedule::loop_invariants`] |
//! | running a recurrence's forward loop before its reverse sweep | the region computes the recurrence anyway; otherwise both run in a block of their own, only where the sweep's seed is not zero (the function computes the recurrence wherever its adjoint can be nonzero): `if n > x.len() { return x[0]; }` then a product over `x[n - 1 - i]` | [`Schedule::guarded_sweep`] |
//! | reusing, inside a loop over `v`, a value bound outside | it does not depend on `v`'s index: a loop over `v` can run inside an iteration of another (the reverse pass sums over rows inside the loop over columns) | [`Schedule::visible_in_loop`] |
//! | reading a bound value in a statement of a region | it was bound before that statement; a loop or branch that needs a value bound later computes it itself | [`Schedule::plan`] |
//! | fusing sums over one loop into one `for` (at the last member) | same loop and bounds, no member reads another, and no statement between them reads a member | [`Schedule::loop_group`] |
//! | fusing them at the first member | everything each member reads from outside the loop is bound before the first | [`Schedule::early_group`] |
//! | filling local arrays over one loop in one `for` (at the last member, or at the first as above) | same loop and bounds, each a vector filled by its own loop, no member reads another, and every statement reading a member runs after the `for` | [`Schedule::plan`], [`Schedule::loop_group`] |
//! | not filling a local array whose only reader here is a vector of zeros as long as it (an adjoint vector): the vector's length is read from the array's bounds | the array is a vector filled by its own loop (length `hi − lo`) and is not bound before the vector; where it is, its `len()`; on the stack, nothing is read (a constant length) | [`Schedule::zero_sized_by_bounds`], `schedule::zero_vector_reads`, `schedule::tree` (`Builder::alloc`) |
//! | reading, in a loop updating a carried array a stretch at a time, the iteration's own stretch from the array's value before the loop (so neither loop keeps rows of it) | before differentiation, on the graph: the member's new value is an in-place patch of `lo..lo + m` with `lo = m·v (+ c)` (`m`, `c` not changing with the loop's index `v`: the stretches of two iterations are disjoint), and every other use of the member's value in the loop is its length or an element at `lo + u`, `u` the index of a loop over `0..m` | `stretches::read_from_initial_values` |
//! | writing a carried array's new value in place, the stretch it replaces only | the new value is `[if lo <= j && j < hi { w[j − lo] } else { old[j] } for j in 0..n]` with `old` the member's own value at the start of the iteration and `w` another array, no other member's new value reads it, and the write runs after every member has taken its new value | [`Schedule::in_place_patch`] |
//! | stepping a carried array's adjoint `λ` back by clearing its stretch in place (`for j in lo..min(hi, n) { λ[j] = 0 }`, after the other members' steps, which may read it), the stretch's elements added into the written values' adjoint first, rather than copying `λ` into a vector routed element by element | in the differentiation, on the graph: the member's new value is an in-place patch of its own value (as above), and the function reads the old value only in the patch's kept elements (read by the patch alone) and the patch only as the member's new value (their lengths aside): no other read adds to either adjoint; the clear is the step of that member's own `λ` | `diff` (`Sweep::cleared_step`, `patch_swept_in_place`), `Emitter::reverse_parts` |
//! | saving at a checkpoint (`checkpoint = K`) only the members of coupled state carrying arrays that an iteration or the reverse sweep reads; the others start each recomputed stretch as zeros | no member's new value mentions the member (it is overwritten before it is read in every iteration: the stretch's first iteration gives it the value the forward loop gave it) and the sweep does not read it | [`Schedule::checkpointed`] |
//! | sweeping a checkpointed recurrence's last stretch from the scratch its forward loop filled, without running it again; any stretch whose rows the scratch holds | the scratch holds a whole stretch (filled a stretch at a time, emptied at each checkpoint), and it is the one starting at that checkpoint's index | `Emitter::other_stretch` |
//! | reading back, in an outer recurrence's reverse sweep, the rows, trace and value of an inner one carrying arrays that its forward loop kept per iteration, instead of running the inner loop forward again | the inner loop runs at the top level of the outer forward loop's body, of the sweep's (or of the block of a sweep there that always runs: an array's adjoint seeds it) and of a recomputed stretch's (once per iteration in each), and saves rows for a sweep of its own, without checkpoints; of its value, only the arrays a statement of the outer sweep reads (not for their length only) or whose rows are read are kept, the others read back empty | `schedule::tree` (`Builder::nest`, `sweep_runs_always`), `emit::nest`, [`Schedule::swept_values`] |
//! | unswitching a gradient's loop: `Σ_v (if c { a } else { b })` → `if c { Σ_v a } else { Σ_v b }` (the same for an addition into a gradient of a select, and for a loop of effects that runs only where `c` does, `if s != 0` with `s = if c { k } else { 0 }`); `(if c { k } else { 0 }) · Σ…` → `if c { k · Σ… } else { 0 }` | after differentiation, on the gradient's sums reached only through float arithmetic, comparisons, selects, sums, additions into gradients and a call's product by its seed (nothing a recurrence's sweep, a local array's adjoint vector or a call also reads, nor a sum reading a sweep's `λ` over the same loop): `c` does not change with `v`, and the function evaluates `c` in every iteration of the loops it changes with, even where other loops run zero times (evaluating it before the loop cannot panic where the function does not) | `unswitch` |
//! | routing a local array's adjoint to its elements' bodies under the condition its additions run under (`if !(x.len() < 2) { for i in 0..n - 1 { … z̄[i] … } }`: the loop, and its bounds, only where the function builds the array) | the array's length is not a literal, the routing's additions run only where `z̄[i] != 0` (or add `if z̄[i] != 0 { … } else { 0 }`), and every addition into `z̄` runs only where `c` holds: under a select on `c` adding nothing on the other side, or where a value zero unless `c` is not (`if λ != 0` in a reverse sweep seeded with `if c { k } else { 0 }` whose step keeps a zero `λ` zero; another such vector's element), or in loops of those; the adjoint values are untouched, only additions of zero are skipped | `unswitch` (`only_where`, `zero_unless`, `keeps_zero`) |
//! | merging a gradient's additions under one condition into one `if` (`if c { A } if c { B }` → `if c { A; B }`, what they share computed once) | the selects are adjacent in the list of additions, each adds nothing on the same side, and no addition would be reached twice in the block | `unswitch::merge_adjacent` |
//! | running sums inside a recurrence's reverse loop | they read that sweep's `λ` | [`Schedule::of`] (`sweeps`) |
//! | a reverse sweep as one recorded iteration | its step only keeps or kills `λ`, and its sums vanish where it does | `schedule::kill_or_keep_sweeps` |
//! | summing a loop's additions `z[k] += e` in a local, added to `z[k]` after the loop | the loop changes neither the vector nor `k`, and `k` is bound before the loop; the addition runs only if the loop ran (`if lo < hi`) | `schedule::tree` (`Builder::summed_accumulate`) |
//! | reusing a vector (a local array, an adjoint vector, a recurrence's saved values) from one iteration of a loop to the next | it is bound at the top level of the loop's body (given back at the end of each iteration; a nested use of the same vector allocates its own) | `schedule::tree` (`Builder::vector`) |
//! | binding an element read first | it is the largest offset of the loop's index into that slice (its bounds check covers the others) | `schedule::leading_reads` |
//!
//! The interchange of loops (a contribution summed over the loops its target is not in, at the
//! target) is the differentiation pass's (`diff::Sweep::contribute`), which keeps a contribution
//! per iteration where the sum would rerun a loop that varies with them; a target only the
//! bodies of loops that may run zero times read pushes that sum on through its own derivative
//! only where it is not zero (`diff::Sweep::push_through`: `0 · (1/y)` is NaN at `y = 0`). A
//! recurrence's body is swept one iteration at a time, and so is what it computes in a sum nested
//! in it that does not change with the recurrence's index (`diff::swept_in_body`): summed over the
//! recurrence's loop at the value, it would run the reverse sweep again in every iteration of the
//! nested loop. A
//! factor taken out of a sum (`simplify::invariant_factor_out_of_sum`) is taken only where the
//! loop runs, `(if hi > lo { c } else { 0 }) · Σ`, unless it is a literal or a parameter.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::graph::Kind;
use crate::graph::{Graph, NodeId, Op, SymId};
use crate::printer::{Prec, Style};
use crate::schedule::tree::{Block, Companion, Saved, Stmt, Storage, Vector};
use crate::schedule::{Patch, Schedule};
use crate::signature::FloatTy;

mod nest;

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
    /// The inner recurrences being printed in an outer loop that keeps, per iteration, what
    /// they save (`true`: the outer forward loop, or a recomputed stretch), or in the outer
    /// reverse sweep that reads it back (`false`): see `Stmt::Reverse::nested`.
    nest: RefCell<HashMap<NodeId, Option<TokenStream>>>,
    /// The recurrences (by carry) a reverse sweep of this code steps back through: that sweep
    /// binds their saved states as `__sN`, so a forward loop of one computed again inside it
    /// (a recurrence read in a branch there) binds its state in a block of its own, not over
    /// the sweep's (see [`fold_scanning`](Self::fold_scanning)).
    swept: HashSet<u32>,
}

/// A reverse sweep's parts: its number (its first `λ`), loop, recurrence, and per member the
/// seed and the step back one iteration.
struct Sweep {
    number: u32,
    v: u32,
    fold: NodeId,
    seeds: Vec<NodeId>,
    steps: Vec<NodeId>,
}

/// What the checkpointed reverse sweep of coupled state carrying arrays writes per member: the
/// vectors declared before its loop (the arrays' working vectors, the saved ones' scratch rows);
/// at each checkpoint, the arrays restored into their working vectors (and the scratch
/// emptied); in each recomputed iteration, the saved arrays' rows kept; after the stretch, the
/// working vectors taken back, and where the scratch rows end; in each swept iteration, the
/// saved arrays' rows read back; and the float members a checkpoint holds (bound by the loop's
/// pattern) and does not (started from zero).
#[derive(Default)]
struct StretchParts {
    before: TokenStream,
    restore: TokenStream,
    give_back: TokenStream,
    keep: TokenStream,
    restore_row: TokenStream,
    ends: Vec<TokenStream>,
    floats: Vec<proc_macro2::Ident>,
    unheld: Vec<proc_macro2::Ident>,
}

/// The stretch a checkpointed forward loop keeps for its reverse sweep
/// ([`Emitter::kept_stretch`]): its vectors' declarations, what empties them at a checkpoint,
/// and what adds an iteration to them.
struct Kept {
    declare: TokenStream,
    clear: TokenStream,
    keep: TokenStream,
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
    /// called function's product that would write one is given `Discard` there.
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
    /// The callees that return a tuple, by the `SymId` of their path (see
    /// `Lowered::tuple_calls`).
    pub tuples: &'a HashSet<u32>,
}

impl Symbols<'_> {
    /// The path of a call's `__partials` and `__vjp`.
    fn derivative_path(&self, f: SymId) -> &TokenStream {
        self.callees.get(&f.0).unwrap_or(&self.tokens[f.0 as usize])
    }
}

/// What one kernel computes: nodes in one region, or a choice's two sides in their own blocks
/// (`plan::Split`).
pub enum Roots {
    /// `roots`, with `primal` the function's own value there (`g.primal`, or a side's), and
    /// `holds` the conditions that hold there (the sides of the splits around it).
    Whole {
        roots: Vec<NodeId>,
        primal: Vec<NodeId>,
        holds: Vec<(NodeId, bool)>,
    },
    /// `if cond { sides[0] } else { sides[1] }`: each side's first `values` roots are values
    /// (given by the `if`), the rest effects. `cond` is computed first, as the function's own
    /// code does (it reads no loop or call: see `plan::split_of`).
    Split {
        cond: NodeId,
        values: usize,
        sides: Box<[Roots; 2]>,
    },
}

impl Roots {
    /// Every node computed, on either side.
    pub fn all(&self) -> Vec<NodeId> {
        match self {
            Roots::Whole { roots, .. } => roots.clone(),
            Roots::Split { cond, sides, .. } => {
                let mut out = vec![*cond];
                out.extend(sides[0].all());
                out.extend(sides[1].all());
                out
            }
        }
    }
}

/// What the emitter needs besides the graph and the roots.
#[derive(Clone, Copy)]
struct Target<'a> {
    symbols: Symbols<'a>,
    inputs: &'a [TokenStream],
    slices: &'a [TokenStream],
    float: FloatTy,
    sinks: Sinks,
}

/// Emits statements computing `roots`, and an expression for each of their values: for a
/// split, the condition, then `let (v0, …) = if c { side 0; (its values) } else { side 1; (its
/// values) };`, the expressions of the values being `v0, …` (and none for the effects).
pub fn emit_roots(
    g: &Graph,
    symbols: Symbols<'_>,
    inputs: &[TokenStream],
    slices: &[TokenStream],
    float: FloatTy,
    roots: &Roots,
    sinks: Sinks,
) -> (TokenStream, Vec<TokenStream>) {
    let target = Target {
        symbols,
        inputs,
        slices,
        float,
        sinks,
    };
    emit_tree(g, target, roots)
}

fn emit_tree(g: &Graph, target: Target<'_>, roots: &Roots) -> (TokenStream, Vec<TokenStream>) {
    match roots {
        Roots::Whole {
            roots,
            primal,
            holds,
        } => emit_region(g, target, roots, (primal, holds)),
        Roots::Split {
            cond,
            values,
            sides,
        } => {
            let (before, c) = emit_region(g, target, &[*cond], (&[*cond], &[]));
            let (then, a) = emit_tree(g, target, &sides[0]);
            let (otherwise, b) = emit_tree(g, target, &sides[1]);
            let (Some(c), Some(a), Some(b)) = (c.first(), a.get(..*values), b.get(..*values))
            else {
                return (
                    quote!(::core::compile_error!(
                        "internal error in symgrad: a split gradient's sides differ"
                    );),
                    Vec::new(),
                );
            };
            let names: Vec<proc_macro2::Ident> = (0..*values)
                .map(|k| format_ident!("__side{}", k, span = Span::mixed_site()))
                .collect();
            let stmts = quote! {
                #before
                let (#(#names,)*) = if #c {
                    #then
                    (#(#a,)*)
                } else {
                    #otherwise
                    (#(#b,)*)
                };
            };
            (stmts, names.iter().map(ToTokens::to_token_stream).collect())
        }
    }
}

/// [`emit`] where the function's own code evaluates `primal` and `holds` holds (see
/// `Schedule::of_in`).
fn emit_region(
    g: &Graph,
    target: Target<'_>,
    roots: &[NodeId],
    (primal, holds): (&[NodeId], &[(NodeId, bool)]),
) -> (TokenStream, Vec<TokenStream>) {
    let Target {
        symbols,
        inputs,
        slices,
        float,
        sinks,
    } = target;
    let s = Schedule::of_in(g, roots, (primal, holds));
    let tree = s.tree(roots);
    // For whoever works on the scheduler: the tree as pseudo-code, on the compiler's stderr.
    if std::env::var_os("SYMGRAD_SCHEDULE").is_some() {
        eprintln!("{}", crate::formula::statements(g, &s, &tree, float.name()));
    }
    let e = Emitter {
        g,
        s,
        symbols,
        inputs,
        slices,
        float,
        sinks,
        nest: RefCell::default(),
        swept: swept_carries(g, roots),
    };
    let body = e.region(&tree.body);
    // A stretch's pool is typed by its first use (its tuples hold the loop's index): one this
    // code does not use (the stretch filled fresh here) is not declared, untyped.
    let mut pools = tree.pools.clone();
    if pools.iter().any(|v| matches!(v, Vector::Stretch(_))) {
        let text = body.to_string();
        pools.retain(|v| {
            !matches!(v, Vector::Stretch(_)) || text.contains(&e.pool_name(*v).to_string())
        });
    }
    let mut out = e.pools(&pools);
    out.extend(body);
    let exprs = roots.iter().map(|r| e.expr(*r, Prec::Select)).collect();
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

    /// The local an addition summed in its loop adds to (see [`Stmt::AddToSum`]), and a sum's
    /// accumulator.
    fn accumulator_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__acc{}", n.0, span = Span::mixed_site())
    }

    /// The name of a vector a loop's iterations reuse.
    fn vector_name(&self, v: Vector) -> proc_macro2::Ident {
        match v {
            Vector::Array(n) => self.name(n),
            Vector::Buffer(b) => buffer_name(b),
            Vector::Trace(c) | Vector::States(c, _) => trace_name(c),
            Vector::Rows(d) => rows_name(d),
            Vector::Work(d) => work_name(d),
            Vector::StretchRows(d) => segment_rows_name(d),
            Vector::Stretch(c) => segment_name(c),
            Vector::Member(n, _, d) => match self.g.op(n) {
                Op::RevCoupled { .. } => adjoint_name(d),
                _ => carry_name(d),
            },
        }
    }

    /// The pool holding vector `v` between iterations.
    fn pool_name(&self, v: Vector) -> proc_macro2::Ident {
        format_ident!("{}_pool", self.vector_name(v), span = Span::mixed_site())
    }

    /// The pools' declarations, before the code: `let mut __t3_pool: Vec<f64> = Vec::new();`
    /// (a coupled recurrence's: of tuples, `Vec<(f64, f64)>`).
    fn pools(&self, pools: &[Vector]) -> TokenStream {
        let ty = self.float_ty();
        let declarations = pools.iter().map(|v| {
            let name = self.pool_name(*v);
            // A stretch's tuples hold the loop's index, of the type of its bounds: inferred.
            if let Vector::Stretch(_) = v {
                return quote! { let mut #name = ::std::vec::Vec::new(); };
            }
            let item = match v {
                Vector::States(_, arity) => {
                    let each = (0..*arity).map(|_| &ty);
                    quote! { (#(#each,)*) }
                }
                _ => ty.clone(),
            };
            quote! { let mut #name: ::std::vec::Vec<#item> = ::std::vec::Vec::new(); }
        });
        quote! { #(#declarations)* }
    }

    /// A region's statements, then its scatters (a block with no vectors to give back).
    fn region(&self, block: &Block) -> TokenStream {
        let (stmts, scatters, _) = self.parts(block);
        quote! { #stmts #scatters }
    }

    /// A loop body's statements, its scatters, and the statements ending an iteration (the
    /// vectors it took from their pools, given back: `__t3_pool = __t3;`).
    fn parts(&self, block: &Block) -> (TokenStream, TokenStream, TokenStream) {
        let stmts = self.stmt_list(&block.stmts);
        let scatters: TokenStream = block.scatters.iter().map(|s| self.stmt(s)).collect();
        let back = block
            .give_back
            .iter()
            .filter(|v| !self.read_back(**v))
            .map(|v| {
                let (keep, name) = (self.pool_name(*v), self.vector_name(*v));
                // A vector moved into its loop's tuple is given back from there.
                if let Vector::Member(n, k, _) = *v {
                    let (tuple, k) = (self.name(n), syn::Index::from(k as usize));
                    return quote! { #keep = #tuple.#k; };
                }
                quote! { #keep = #name; }
            });
        (stmts, scatters, quote! { #(#back)* })
    }

    /// [`parts`](Self::parts) with the scatters after the statements.
    fn whole(&self, block: &Block) -> (TokenStream, TokenStream) {
        let (stmts, scatters, back) = self.parts(block);
        (quote! { #stmts #scatters }, back)
    }

    /// `let mut name = fresh;`, or for a vector the previous iteration gave back, that one
    /// emptied and refilled: `let mut name = take(&mut name_pool); name.clear(); refill`. (An
    /// inner use of the same node, while an outer one holds the vector, finds the pool empty and
    /// allocates; a `break` drops the vector.)
    fn vector(
        name: &proc_macro2::Ident,
        fresh: &TokenStream,
        refill: &TokenStream,
        storage: Storage,
    ) -> TokenStream {
        if storage != Storage::Pooled {
            return quote! { let mut #name = #fresh; };
        }
        let keep = format_ident!("{}_pool", name, span = Span::mixed_site());
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

    /// `let __tN = expr;`; an array carried across a loop's iterations, after the loop (or its
    /// adjoint before it), is borrowed from the loop's tuple, which owns the vector.
    fn let_stmt(&self, n: NodeId) -> TokenStream {
        let (name, value) = (self.name(n), self.bare(n));
        if matches!(self.g.op(n), Op::Component(..)) && self.g.kind(n) == Kind::Array {
            return quote! { let #name = &#value; };
        }
        quote! { let #name = #value; }
    }

    /// Statements in order; a recurrence's forward loop saving its trace and, right after it,
    /// the scan of the same recurrence (`Op::Scanned`, its values) run as one loop.
    fn stmt_list(&self, stmts: &[Stmt]) -> TokenStream {
        let mut out = TokenStream::new();
        let mut k = 0;
        while let Some(stmt) = stmts.get(k) {
            if let (
                Stmt::Fold {
                    node,
                    body,
                    saved: saved @ (Saved::Every(_) | Saved::Checkpoints(..)),
                },
                Some(Stmt::Scan { node: scan, .. }),
            ) = (stmt, stmts.get(k + 1))
                && self.g.scanned_twin(*node) == Some(*scan)
            {
                out.extend(self.fold_scanning(*node, body, *saved, Some(*scan)));
                k += 2;
                continue;
            }
            let (state, scans) = self.member_scans(&stmts[k..]);
            if !scans.is_empty() {
                let (block, skip) = match state {
                    Some((_, body, _)) => (body, 1 + scans.len()),
                    None => match stmt {
                        Stmt::Scan { body, .. } => (body, scans.len()),
                        _ => return self.internal_error("not a scan"),
                    },
                };
                let saved = state.map(|(n, _, saved)| (n, saved));
                out.extend(self.coupled_scanning(saved, &scans, block));
                k += skip;
                continue;
            }
            out.extend(self.stmt(stmt));
            k += 1;
        }
        out
    }

    /// At the start of `stmts`, coupled state's forward loop and the values of its members
    /// (`Op::CoupledScan`s) right after it, or two or more of those values, all of floats and
    /// saved every iteration: the state (its node, block and saved members) and the values, run
    /// as one loop ([`coupled_scanning`](Self::coupled_scanning)); none otherwise.
    fn member_scans<'s>(&self, stmts: &'s [Stmt]) -> (Option<StateLoop<'s>>, Vec<NodeId>) {
        let none = (None, Vec::new());
        let (state, rest, twins) = match stmts.first() {
            Some(Stmt::Coupled {
                node,
                body,
                saved,
                checkpoint: None,
                storage: Storage::Fresh,
                patches,
                nested,
            }) if patches.iter().all(Option::is_none)
                && nested.is_empty()
                && !self.g.carries_arrays(*node) =>
            {
                let twins = self.g.scanned_twins(*node);
                (Some((*node, body, saved.as_slice())), &stmts[1..], twins)
            }
            Some(Stmt::Scan { node, .. }) if matches!(self.g.op(*node), Op::CoupledScan { .. }) => {
                (None, stmts, self.g.coupled_scan_siblings(*node))
            }
            _ => return none,
        };
        let scans: Vec<NodeId> = rest
            .iter()
            .map_while(|s| match s {
                Stmt::Scan { node, .. } if twins.contains(node) => Some(*node),
                _ => None,
            })
            .collect();
        let enough = if state.is_some() { 1 } else { 2 };
        if scans.len() < enough {
            return none;
        }
        (state, scans)
    }

    /// One statement of the tree.
    fn stmt(&self, stmt: &Stmt) -> TokenStream {
        match stmt {
            Stmt::Let(n) => self.let_stmt(*n),
            Stmt::Add(n) => self.addition(*n),
            Stmt::AddToSum(n) => {
                let Op::Accumulate { value, .. } = *self.g.op(*n) else {
                    return self.internal_error("not an addition");
                };
                let (acc, x) = (Self::accumulator_name(*n), self.expr(value, Prec::Select));
                quote! { #acc += #x; }
            }
            Stmt::Effect { node, then, other } => self.effect(*node, then, other),
            Stmt::Select { node, then, other } => {
                let Op::Select(c, a, b) = *self.g.op(*node) else {
                    return self.internal_error("not a select");
                };
                let cond = self.expr(c, Prec::Or);
                let (then, other) = (self.branch(then, a), self.branch(other, b));
                let name = self.name(*node);
                quote! { let #name = if #cond { #then } else { #other }; }
            }
            Stmt::Logic { node, right } => self.logic(*node, right),
            Stmt::Partials(n, companion) => self.partials(*n, *companion),
            Stmt::Vjp(n) => match *self.g.op(*n) {
                Op::CallVjp(call, seed) => self.call_vjp(call, seed),
                Op::CallHvp(jvp, seed) => self.call_hvp(jvp, seed),
                Op::ArrayVjp {
                    call,
                    seed,
                    alloc,
                    position,
                } => self.array_vjp(call, seed, alloc, position),
                Op::VjpRows { .. } => self.vjp_rows(*n),
                _ => self.internal_error("not a product with a call's Jacobian"),
            },
            // The gradient vectors it would write, renamed to its sinks, in a block of its own.
            Stmt::Rebound { node, body } => {
                let Op::Rebound { sinks, .. } = self.g.op(*node) else {
                    return self.internal_error("not a renaming");
                };
                let binds = sinks.iter().map(|(from, to)| {
                    let (from, to) = (grad_vec_name(*from), grad_vec_name(*to));
                    quote! { let #from = &mut *#to; }
                });
                let inner = self.region(body);
                quote! { { #(#binds)* #inner } }
            }
            Stmt::Sums {
                group,
                body,
                accumulators,
                summed,
            } => self.sums(group, body, accumulators, summed),
            Stmt::Exit {
                group,
                until,
                test,
                body,
                accumulators,
            } => self.exit(group, *until, test, body, accumulators),
            Stmt::Fold { node, body, saved } => self.fold(*node, body, *saved),
            Stmt::Scan { node, body } => self.scan(*node, body),
            Stmt::Coupled {
                node,
                body,
                saved,
                checkpoint,
                storage,
                patches,
                nested,
            } => self.coupled(
                *node,
                body,
                saved,
                (*checkpoint, *storage),
                (patches, nested),
            ),
            Stmt::Reverse { .. } => self.reverse_stmt(stmt),
            Stmt::Guarded {
                group,
                reads,
                sweep,
            } => self.guarded(group, reads, sweep),
            Stmt::Table {
                node,
                storage,
                body,
            } => self.table(*node, *storage, body.as_ref()),
            Stmt::Tables { group, body } => self.tables(group, body),
            Stmt::Alloc {
                node,
                storage,
                by_bounds,
            } => self.alloc(*node, *storage, *by_bounds),
            Stmt::Until { node, body } => self.until(*node, body),
            Stmt::Internal(what) => self.internal_error(what),
        }
    }

    /// A [`Stmt::Reverse`]: the sweep over every saved iteration, or recomputing from
    /// checkpoints (a recurrence's values, or coupled state carrying arrays).
    fn reverse_stmt(&self, stmt: &Stmt) -> TokenStream {
        let Stmt::Reverse {
            group,
            body,
            accumulators,
            saved,
            last_kill,
            recompute,
            pooled,
            nested,
        } = stmt
        else {
            return self.internal_error("not a reverse sweep");
        };
        let Some((every, forward, patches)) = recompute else {
            // The nested recurrences' tables read back from their ends.
            let ends = self.nest_ends(nested);
            let sweep = self.with_nest(nested, None, || {
                self.reverse(group, body, accumulators, saved, (*last_kill, *pooled))
            });
            return quote! { #ends #sweep };
        };
        let fold = self.sweep(group[0]).map(|s| s.fold);
        if fold.is_some_and(|f| self.g.carries_arrays(f)) {
            let parts = (forward, patches.as_slice(), nested.as_slice());
            let every = (*every, *pooled);
            self.recomputing_array_reverse(group, body, accumulators, saved, every, parts)
        } else {
            self.recomputing_reverse(group, body, accumulators, saved, *every, forward)
        }
    }

    /// `z[i] += x;` into a vector added into, or `∇x[i] += x;` into a slice's gradient.
    fn addition(&self, n: NodeId) -> TokenStream {
        let (z, i, x) = match *self.g.op(n) {
            Op::Accumulate { alloc, i, value } => (self.expr(alloc, Prec::Postfix), i, value),
            Op::Scatter(k, i, x) => {
                let g = grad_vec_name(k);
                (quote!(#g), i, x)
            }
            _ => return self.internal_error("not an addition"),
        };
        let (i, x) = (self.expr(i, Prec::Select), self.expr(x, Prec::Select));
        quote! { #z[#i] += #x; }
    }

    /// A guarded effect: a statement, each branch's effects in its block.
    fn effect(&self, n: NodeId, then: &Block, other: &Block) -> TokenStream {
        let Op::Select(c, ..) = *self.g.op(n) else {
            return self.internal_error("not a select");
        };
        let cond = self.expr(c, Prec::Or);
        let (then, other) = (self.region(then), self.region(other));
        match (then.is_empty(), other.is_empty()) {
            (_, true) => quote! { if #cond { #then } },
            (true, false) => {
                let cond = self.expr(c, Prec::Prefix);
                quote! { if !#cond { #other } }
            }
            (false, false) => quote! { if #cond { #then } else { #other } },
        }
    }

    /// The body of one branch of a select: its own region, then its value.
    fn branch(&self, block: &Block, value: NodeId) -> TokenStream {
        let stmts = self.region(block);
        let value = self.expr(value, Prec::Select);
        quote! { #stmts #value }
    }

    /// `let __tN = a && b;`, with what `b` needs computed only when it is read.
    fn logic(&self, n: NodeId, right: &Block) -> TokenStream {
        let (op, a, b, left, right_prec) = match *self.g.op(n) {
            Op::And(a, b) => (quote!(&&), a, b, Prec::And, Prec::Compare),
            Op::Or(a, b) => (quote!(||), a, b, Prec::Or, Prec::And),
            _ => return self.internal_error("not a short-circuit"),
        };
        let name = self.name(n);
        let left = self.expr(a, left);
        let stmts = self.region(right);
        let value = self.expr(b, right_prec);
        if stmts.is_empty() {
            quote! { let #name = #left #op #value; }
        } else {
            quote! { let #name = #left #op { #stmts #value }; }
        }
    }

    /// A call whose partial derivatives are needed: its value and partials from the callee's
    /// hidden item.
    fn partials(&self, n: NodeId, companion: Companion) -> TokenStream {
        if let Companion::Hvp = companion {
            return self.call_jvp(n);
        }
        let Op::Call(f, args) = self.g.op(n) else {
            return self.internal_error("not a call");
        };
        let path = self.symbols.derivative_path(*f);
        let args: Vec<TokenStream> = args.iter().map(|a| self.argument(*a)).collect();
        let (name, d) = (self.name(n), Self::partials_name(n));
        match companion {
            Companion::Second => self.second_order_call(n, path, &args),
            Companion::Jacobian => quote! { let (#name, #d) = #path::__jacobian(#(#args),*); },
            Companion::Partials => quote! { let (#name, #d) = #path::__partials(#(#args),*); },
            Companion::Hvp => self.call_jvp(n),
        }
    }

    /// For the float sums run in one loop: `let mut acc = 0.0;` before it, `acc += body;` in
    /// it, `let __tN = acc;` after it.
    fn accumulators(&self, sums: &[(NodeId, NodeId)]) -> (TokenStream, TokenStream, TokenStream) {
        let zero = self.float_lit(0.0);
        let (mut init, mut add, mut bind) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for &(n, body) in sums {
            let (acc, name) = (Self::accumulator_name(n), self.name(n));
            let value = self.expr(body, Prec::Select);
            init.extend(quote! { let mut #acc = #zero; });
            add.extend(quote! { #acc += #value; });
            bind.extend(quote! { let #name = #acc; });
        }
        (init, add, bind)
    }

    /// One `for` loop computing every sum (and effect) of `group`, which share loop and bounds:
    /// `let mut acc = 0.0; … for i in lo..hi { …; acc += body; … } let __tN = acc;`, and the
    /// additions it sums in locals: `let mut __accK = 0.0;` before the loop, `if lo < hi {
    /// z[k] += __accK; }` after it.
    fn sums(
        &self,
        group: &[NodeId],
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
        summed: &[NodeId],
    ) -> TokenStream {
        let Op::Sum { v, lo, hi, .. } = *self.g.op(group[0]) else {
            return self.internal_error("not a loop");
        };
        let i = loop_var_name(v);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let (stmts, scatters, back) = self.parts(body);
        let (init, add, bind) = self.accumulators(accumulators);
        let zero = self.float_lit(0.0);
        let (mut before, mut after) = (TokenStream::new(), TokenStream::new());
        for &n in summed {
            let Op::Accumulate { alloc, i, .. } = *self.g.op(n) else {
                continue;
            };
            let acc = Self::accumulator_name(n);
            let (z, k) = (self.expr(alloc, Prec::Postfix), self.expr(i, Prec::Select));
            before.extend(quote! { let mut #acc = #zero; });
            after.extend(quote! { #z[#k] += #acc; });
        }
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

    /// [`sums`](Self::sums) over `lo..hi` that stops where `until` does, binding it: `let mut
    /// __tU = hi; for i in lo..hi { …; if cond { __tU = i; break; } …; acc += body; … }`, the
    /// loop a person writes.
    fn exit(
        &self,
        group: &[NodeId],
        until: NodeId,
        test: &Block,
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
    ) -> TokenStream {
        let Op::Sum { v, lo, .. } = *self.g.op(group[0]) else {
            return self.internal_error("not a loop");
        };
        let Op::Until {
            v: v0, hi, cond, ..
        } = *self.g.op(until)
        else {
            return self.internal_error("not a loop's end");
        };
        let (i, i0, stop) = (loop_var_name(v), loop_var_name(v0), self.name(until));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let (test, back_test) = self.whole(test);
        let cond = self.expr(cond, Prec::Or);
        let (stmts, scatters, back) = self.parts(body);
        let (init, add, bind) = self.accumulators(accumulators);
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

    /// The forward loop of recurrence `n`, saving each iteration's value when a reverse sweep
    /// needs it: `let mut s = init; for i in lo..hi { trace.push(s); …; s = body; } let __tN = s;`
    fn fold(&self, n: NodeId, block: &Block, saved: Saved) -> TokenStream {
        self.fold_scanning(n, block, saved, None)
    }

    /// [`fold`](Self::fold); with `scan`, the same loop also keeps the recurrence's value after
    /// every iteration in the scan's vector (`__tN.push(s)`, see [`scan`](Self::scan)).
    fn fold_scanning(
        &self,
        n: NodeId,
        block: &Block,
        saved: Saved,
        scan: Option<NodeId>,
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
            return self.internal_error("not a recurrence");
        };
        let (i, s, trace, name) = (loop_var_name(v), carry_name(c), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let init = self.expr(init, Prec::Select);
        let (stmts, back) = self.whole(block);
        let next = self.expr(body, Prec::Select);
        let (declare, save) = match saved {
            Saved::LastKill(cond, on) => {
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
            }
            Saved::Every(storage) | Saved::Checkpoints(_, storage) => {
                let kept = match saved {
                    Saved::Checkpoints(every, _) => Some((
                        every,
                        Self::kept_stretch(
                            c,
                            &i,
                            (&lo, &hi),
                            every,
                            storage,
                            (&quote!((#s,)), &[]),
                        ),
                    )),
                    _ => None,
                };
                let every = kept.as_ref().map(|(every, k)| (*every, &k.clear));
                let (declare, header, push) =
                    Self::saving(&trace, &i, (&lo, &hi), every, storage, &quote!(#s), c);
                let (kept_declare, keep) = kept.map(|(_, k)| (k.declare, k.keep)).unzip();
                let (values, push_value, bind_values) = match scan {
                    Some(scan) => {
                        let values = self.name(scan);
                        (
                            quote! {
                                let mut #values = ::std::vec::Vec::with_capacity(
                                    ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
                                );
                            },
                            quote! { #values.push(#s); },
                            quote! { let #values = #values; },
                        )
                    }
                    None => (TokenStream::new(), TokenStream::new(), TokenStream::new()),
                };
                return quote! {
                    let mut #s = #init;
                    #declare
                    #kept_declare
                    #values
                    #header {
                        #push
                        #keep
                        #stmts
                        #s = #next;
                        #push_value
                        #back
                    }
                    let #name = #s;
                    #bind_values
                };
            }
            Saved::Nothing => (TokenStream::new(), stmts),
        };
        let forward = quote! {
            let mut #s = #init;
            #declare
            for #i in #lo..#hi {
                #save
                #s = #next;
                #back
            }
        };
        // Saving nothing, inside a sweep binding `#s`: in a block, its `#s` not the sweep's.
        if saved == Saved::Nothing && self.swept.contains(&c) {
            return quote! { let #name = { #forward #s }; };
        }
        quote! { #forward let #name = #s; }
    }

    /// The forward loop of a scan `n`, keeping the recurrence's value after every iteration:
    /// `let mut s = init; let mut __tN = Vec::with_capacity(hi − lo); for i in lo..hi { …; s =
    /// body; __tN.push(s); }`.
    fn scan(&self, n: NodeId, block: &Block) -> TokenStream {
        // (A member's values alone: the loop that keeps several, with one.)
        if let Op::CoupledScan { .. } = self.g.op(n) {
            return self.coupled_scanning(None, &[n], block);
        }
        let Op::Scanned {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.g.op(n)
        else {
            return self.internal_error("not a scan");
        };
        let (i, s, name) = (loop_var_name(v), carry_name(c), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let init = self.expr(init, Prec::Select);
        let (stmts, back) = self.whole(block);
        let next = self.expr(body, Prec::Select);
        let scan = quote! {
            let mut #s = #init;
            let mut #name = ::std::vec::Vec::with_capacity(
                ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
            );
            for #i in #lo..#hi {
                #stmts
                #s = #next;
                #name.push(#s);
                #back
            }
        };
        if self.swept.contains(&c) {
            quote! { let #name = { #scan #name }; }
        } else {
            quote! { #scan let #name = #name; }
        }
    }

    /// The values of members of coupled state after every iteration (`Op::CoupledScan`s of the
    /// same fields, `scans`) and, with `state`, the state's forward loop saving the members
    /// its reverse sweep reads, as one loop: `let mut s0 = init0; let mut s1 = init1; let mut
    /// trace = …; let mut z0 = Vec::with_capacity(hi − lo); … for i in lo..hi {
    /// trace.push((s0,)); …; (s0, s1) = (body0, body1); z0.push(s1); … } let __tN = (s0, s1);`.
    fn coupled_scanning(
        &self,
        state: Option<(NodeId, &[u32])>,
        scans: &[NodeId],
        block: &Block,
    ) -> TokenStream {
        let Some(&first) = scans.first() else {
            return self.internal_error("no scan");
        };
        let (&Op::CoupledScan { c, v, lo, hi, .. }, Some((inits, bodies))) =
            (self.g.op(first), self.g.state_parts(first))
        else {
            return self.internal_error("not a scan");
        };
        let members = u32::try_from(bodies.len()).unwrap_or(0);
        let i = loop_var_name(v);
        let states: Vec<proc_macro2::Ident> = (c..c + members).map(carry_name).collect();
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let inits = inits.iter().map(|x| self.expr(*x, Prec::Select));
        let (stmts, back) = self.whole(block);
        let nexts = bodies.iter().map(|b| self.expr(*b, Prec::Select));
        let names: Vec<proc_macro2::Ident> = scans.iter().map(|s| self.name(*s)).collect();
        let kept = scans.iter().map(|s| match self.g.op(*s) {
            Op::CoupledScan { k, .. } => carry_name(c + k),
            _ => carry_name(c),
        });
        let saved: Vec<proc_macro2::Ident> = state
            .map(|(_, saved)| saved.iter().map(|d| carry_name(*d)).collect())
            .unwrap_or_default();
        let (declare, header, save) = if saved.is_empty() {
            (
                TokenStream::new(),
                quote!(for #i in #lo..#hi),
                TokenStream::new(),
            )
        } else {
            let trace = trace_name(c);
            let item = quote!((#(#saved,)*));
            Self::saving(&trace, &i, (&lo, &hi), None, Storage::Fresh, &item, c)
        };
        let forward = quote! {
            #(let mut #states = #inits;)*
            #declare
            #(let mut #names = ::std::vec::Vec::with_capacity(
                ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
            );)*
            #header {
                #save
                #stmts
                (#(#states),*) = (#(#nexts),*);
                #(#names.push(#kept);)*
                #back
            }
        };
        match state {
            Some((n, _)) => {
                let name = self.name(n);
                quote! { #forward let #name = (#(#states,)*); #(let #names = #names;)* }
            }
            // (Inside a sweep binding the state's names: in a block of its own.)
            None if (c..c + members).any(|d| self.swept.contains(&d)) => match names.as_slice() {
                [name] => quote! { let #name = { #forward #name }; },
                _ => quote! { let (#(#names,)*) = { #forward (#(#names,)*) }; },
            },
            None => quote! { #forward #(let #names = #names;)* },
        }
    }

    /// What a recurrence's forward loop needs to save `item` (its state at the start of an
    /// iteration) into `trace` for the reverse sweep: the vector's declaration, the loop's
    /// header, and the push, in every iteration, or with checkpoints every `every` only at the
    /// start of every `every`-th (the first included): `for (j, i) in (lo..hi).enumerate() { if
    /// j % every == 0 { trace.push(item); at_checkpoint } … }` (`every`: `K` and what else runs
    /// at a checkpoint).
    fn saving(
        trace: &proc_macro2::Ident,
        i: &proc_macro2::Ident,
        (lo, hi): (&TokenStream, &TokenStream),
        every: Option<(usize, &TokenStream)>,
        storage: Storage,
        item: &TokenStream,
        c: u32,
    ) -> (TokenStream, TokenStream, TokenStream) {
        // The loop's length, for any integer type of its bounds.
        let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
        let Some(every) = every else {
            let declare = Self::vector(
                trace,
                &quote!(::std::vec::Vec::with_capacity(#len)),
                &quote!(#trace.reserve(#len);),
                storage,
            );
            return (
                declare,
                quote!(for #i in #lo..#hi),
                quote! { #trace.push(#item); },
            );
        };
        let (every, at_checkpoint) = every;
        let (j, every) = (checkpoint_counter(c), Literal::usize_unsuffixed(every));
        let len = quote!(#len / #every + 1);
        let declare = Self::vector(
            trace,
            &quote!(::std::vec::Vec::with_capacity(#len)),
            &quote!(#trace.reserve(#len);),
            storage,
        );
        (
            declare,
            quote!(for (#j, #i) in ::core::iter::Iterator::enumerate(#lo..#hi)),
            quote! {
                if #j % #every == 0 {
                    #trace.push(#item);
                    #at_checkpoint
                }
            },
        )
    }

    /// With checkpoints every `every` iterations, the stretch the forward loop of recurrence
    /// `c` is in, kept for its reverse sweep as the sweep recomputes a stretch (see
    /// [`recomputing_reverse`](Self::recomputing_reverse)): when the loop ends it holds the
    /// last, which the sweep then reads without running it again (a loop of at most `every`
    /// iterations runs once, as without checkpoints). Declared before the loop (the index and
    /// the floats `item` per iteration; the rows of the arrays `arrays`, each `(its vector,
    /// its member)`), emptied at each checkpoint, and added to in every iteration:
    /// `stretch.push((i, item)); __stretch_rows0.extend_from_slice(&__s0);`.
    fn kept_stretch(
        c: u32,
        i: &proc_macro2::Ident,
        (lo, hi): (&TokenStream, &TokenStream),
        every: usize,
        storage: Storage,
        (item, arrays): (&TokenStream, &[(proc_macro2::Ident, u32)]),
    ) -> Kept {
        let (stretch, every) = (segment_name(c), Literal::usize_unsuffixed(every));
        let most = quote!(::core::cmp::min(
            #every,
            ::core::iter::Iterator::size_hint(&(#lo..#hi)).0,
        ));
        let mut kept = Kept {
            declare: Self::vector(
                &stretch,
                &quote!(::std::vec::Vec::with_capacity(#most)),
                &quote!(#stretch.reserve(#most);),
                storage,
            ),
            clear: quote! { #stretch.clear(); },
            keep: quote! { #stretch.push((#i, #item)); },
        };
        for (s, d) in arrays {
            let seg = segment_rows_name(*d);
            kept.declare.extend(Self::vector(
                &seg,
                &quote!(::std::vec::Vec::with_capacity(#most * #s.len())),
                &quote!(#seg.reserve(#most * #s.len());),
                storage,
            ));
            kept.clear.extend(quote! { #seg.clear(); });
            kept.keep.extend(quote! { #seg.extend_from_slice(&#s); });
        }
        kept
    }

    /// The forward loop of coupled recurrences `n`, saving the members its reverse sweep
    /// reads: `let mut s0 = init0; let mut s1 = init1; for i in lo..hi { trace.push((s0, s1));
    /// …; (s0, s1) = (body0, body1); } let __tN = (s0, s1);` (the bodies read the state at the
    /// start of the iteration, so the members are assigned together).
    fn coupled(
        &self,
        n: NodeId,
        block: &Block,
        saved: &[u32],
        (checkpoint, storage): (Option<usize>, Storage),
        (patches, nested): (&[Option<Patch>], &[NodeId]),
    ) -> TokenStream {
        let (Op::Coupled { c, v, lo, hi, .. }, Some((inits, bodies))) =
            (self.g.op(n), self.g.coupled_parts(n))
        else {
            return self.internal_error("not a recurrence");
        };
        let (c, v) = (*c, *v);
        let k = u32::try_from(bodies.len()).unwrap_or(0);
        let (i, trace, name) = (loop_var_name(v), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(*lo, Prec::Select), self.expr(*hi, Prec::Select));
        if inits.iter().any(|x| self.g.kind(*x) == Kind::Array) {
            let parts = (patches, nested);
            return self.coupled_arrays(n, block, saved, (checkpoint, storage), parts);
        }
        let states: Vec<proc_macro2::Ident> = (c..c + k).map(carry_name).collect();
        let inits = inits.iter().map(|x| self.expr(*x, Prec::Select));
        let (stmts, back) = self.whole(block);
        let nexts = bodies.iter().map(|b| self.expr(*b, Prec::Select));
        let saved: Vec<proc_macro2::Ident> = saved.iter().map(|d| carry_name(*d)).collect();
        // A checkpoint holds every member; a trace, the members the sweep reads.
        let (declare, header, save) = match (checkpoint, saved.is_empty()) {
            (None, true) => (
                TokenStream::new(),
                quote!(for #i in #lo..#hi),
                TokenStream::new(),
            ),
            (None, false) => Self::saving(
                &trace,
                &i,
                (&lo, &hi),
                None,
                storage,
                &quote!((#(#saved,)*)),
                c,
            ),
            (Some(every), _) => {
                let kept = Self::kept_stretch(
                    c,
                    &i,
                    (&lo, &hi),
                    every,
                    storage,
                    (&quote!((#(#saved,)*)), &[]),
                );
                let (declare, header, save) = Self::saving(
                    &trace,
                    &i,
                    (&lo, &hi),
                    Some((every, &kept.clear)),
                    storage,
                    &quote!((#(#states,)*)),
                    c,
                );
                let (kept_declare, keep) = (&kept.declare, &kept.keep);
                (
                    quote! { #declare #kept_declare },
                    header,
                    quote! { #save #keep },
                )
            }
        };
        quote! {
            #(let mut #states = #inits;)*
            #declare
            #header {
                #save
                #stmts
                (#(#states),*) = (#(#nexts),*);
                #back
            }
            let #name = (#(#states,)*);
        }
    }

    /// The forward loop of coupled state `n` carrying arrays across its iterations: each array
    /// in a vector of its own, copied at the start of every iteration into a table of rows the
    /// reverse sweep reads (`rows.extend_from_slice(&h)`), then overwritten by the iteration's
    /// new value once the float members have taken theirs:
    ///
    /// ```text
    /// let mut __s0 = h0.to_vec(); let mut __s1 = loss0;
    /// let mut __rows0 = Vec::with_capacity(n · len);
    /// for t in lo..hi { __rows0.extend_from_slice(&__s0); …; (__s1) = (…); __s0.copy_from_slice(&next); }
    /// let __tN = (__s0, __s1);
    /// ```
    ///
    /// With checkpoints every `K` iterations, the members a checkpoint holds
    /// (`Schedule::checkpointed`) are saved at the start of every `K`-th iteration only (the
    /// first included): each array's row in its table (`⌈n/K⌉` rows), the floats in a vector of
    /// tuples: `for (j, t) in (lo..hi).enumerate() { if j % K == 0 {
    /// __rows0.extend_from_slice(&__s0); __trace0.push((__s1,)); } … }`.
    fn coupled_arrays(
        &self,
        n: NodeId,
        block: &Block,
        saved: &[u32],
        (checkpoint, storage): (Option<usize>, Storage),
        (patches, nested): (&[Option<Patch>], &[NodeId]),
    ) -> TokenStream {
        // Nested in a loop that keeps what it saves, or reads it back.
        let nest = self.nest.borrow().get(&n).cloned();
        match nest {
            Some(None) => return self.nest_read_back(n, storage),
            Some(Some(steps)) => {
                let (parts, mut out) = ((patches, nested), TokenStream::new());
                out.extend(self.coupled_arrays_loop(n, block, saved, (checkpoint, storage), parts));
                out.extend(self.nest_keep(n, &steps));
                return out;
            }
            None => {}
        }
        self.coupled_arrays_loop(n, block, saved, (checkpoint, storage), (patches, nested))
    }

    /// [`coupled_arrays`](Self::coupled_arrays)' loop.
    fn coupled_arrays_loop(
        &self,
        n: NodeId,
        block: &Block,
        saved: &[u32],
        (checkpoint, storage): (Option<usize>, Storage),
        (patches, nested): (&[Option<Patch>], &[NodeId]),
    ) -> TokenStream {
        let (Op::Coupled { c, v, lo, hi, .. }, Some((inits, _))) =
            (self.g.op(n), self.g.coupled_parts(n))
        else {
            return self.internal_error("not a recurrence");
        };
        let (c, v) = (*c, *v);
        let (i, trace, name) = (loop_var_name(v), trace_name(c), self.name(n));
        let (lo, hi) = (self.expr(*lo, Prec::Select), self.expr(*hi, Prec::Select));
        let count = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
        // How many iterations save: every one, or one in `K` (`⌈count/K⌉`).
        let saves = match checkpoint {
            Some(every) => {
                let every = Literal::usize_unsuffixed(every);
                quote!(::core::primitive::usize::div_ceil(#count, #every))
            }
            None => count.clone(),
        };
        // The members saved: those the sweep reads, or at a checkpoint those it holds.
        let kept = match checkpoint {
            Some(_) => self.s.checkpointed(n),
            None => saved.to_vec(),
        };
        let mut declare = Vec::new();
        let mut save = Vec::new();
        let mut states = Vec::new();
        for (d, x) in (c..).zip(inits) {
            let (s, init) = (carry_name(d), self.expr(*x, Prec::Postfix));
            if self.g.kind(*x) == Kind::Array {
                declare.push(Self::vector(
                    &s,
                    &quote!(::std::vec::Vec::from(&#init[..])),
                    &quote!(#s.extend_from_slice(&#init[..]);),
                    storage,
                ));
                if kept.contains(&d) {
                    let rows = rows_name(d);
                    declare.push(Self::vector(
                        &rows,
                        &quote!(::std::vec::Vec::with_capacity(#saves * #s.len())),
                        &quote!(#rows.reserve(#saves * #s.len());),
                        storage,
                    ));
                    save.push(quote! { #rows.extend_from_slice(&#s); });
                }
            } else {
                declare.push(quote! { let mut #s = #init; });
            }
            states.push(s);
        }
        // The floats saved (at checkpoints, a vector of `()` if none: it allocates nothing,
        // and counts the checkpoints).
        let scalars: Vec<proc_macro2::Ident> = kept
            .iter()
            .filter(|d| !self.carries_array(n, **d))
            .map(|d| carry_name(*d))
            .collect();
        // Reused by the iterations of a loop around, as the rows are.
        if checkpoint.is_some() || !scalars.is_empty() {
            declare.push(Self::vector(
                &trace,
                &quote!(::std::vec::Vec::with_capacity(#saves)),
                &quote!(#trace.reserve(#saves);),
                storage,
            ));
            save.push(quote! { #trace.push((#(#scalars,)*)); });
        }
        // What the loop keeps per iteration of the inner recurrences it runs (at most a stretch).
        let steps = match checkpoint {
            Some(every) => {
                let every = Literal::usize_unsuffixed(every);
                quote!(::core::cmp::min(#every, #count))
            }
            None => count.clone(),
        };
        declare.push(self.nest_tables(nested, &steps));
        let (header, save) = match checkpoint {
            Some(every) => {
                let (kept_declare, header, save) =
                    self.checkpoint_header(n, saved, (every, storage), (&lo, &hi), (&save, nested));
                declare.push(kept_declare);
                (header, save)
            }
            None => (quote!(for #i in #lo..#hi), quote! { #(#save)* }),
        };
        let (stmts, back) = self.with_nest(nested, Some(&steps), || self.whole(block));
        let step = self.array_step(n, patches);
        quote! {
            #(#declare)*
            #header {
                #save
                #stmts
                #step
                #back
            }
            let #name = (#(#states,)*);
        }
    }

    /// The loop header of coupled state `n` carrying arrays saved every `every` iterations, and
    /// what it runs first in an iteration: `save` at a checkpoint, where the stretch kept for
    /// the sweep (`kept_stretch`: the floats and the arrays' rows it reads) and the tables of
    /// the `nested` recurrences are emptied, then the stretch kept. Also the kept stretch's
    /// declaration.
    fn checkpoint_header(
        &self,
        n: NodeId,
        saved: &[u32],
        (every, storage): (usize, Storage),
        (lo, hi): (&TokenStream, &TokenStream),
        (save, nested): (&[TokenStream], &[NodeId]),
    ) -> (TokenStream, TokenStream, TokenStream) {
        let Op::Coupled { c, v, .. } = *self.g.op(n) else {
            return (
                TokenStream::new(),
                self.internal_error("not a recurrence"),
                TokenStream::new(),
            );
        };
        let i = loop_var_name(v);
        let floats = saved
            .iter()
            .filter(|d| !self.carries_array(n, **d))
            .map(|d| carry_name(*d));
        let arrays: Vec<(proc_macro2::Ident, u32)> = saved
            .iter()
            .filter(|d| self.carries_array(n, **d))
            .map(|d| (carry_name(*d), *d))
            .collect();
        let item = quote!((#(#floats,)*));
        let kept = Self::kept_stretch(c, &i, (lo, hi), every, storage, (&item, &arrays));
        let (clear, keep, tables) = (kept.clear, kept.keep, self.nest_clear(nested));
        let (j, every) = (checkpoint_counter(c), Literal::usize_unsuffixed(every));
        (
            kept.declare,
            quote!(for (#j, #i) in ::core::iter::Iterator::enumerate(#lo..#hi)),
            quote! {
                if #j % #every == 0 {
                    #(#save)*
                    #clear
                    #tables
                }
                #keep
            },
        )
    }

    /// The end of an iteration of coupled state `n` carrying arrays: the floats take their new
    /// values together, then each array is overwritten by its own (`__s0.copy_from_slice(&next)`),
    /// or, its new value a stretch replaced (`patches`, see `Schedule::in_place_patch`), that
    /// stretch is written in place, last: `for j in lo..min(hi, n) { __s0[j] = written[j − lo]; }`.
    fn array_step(&self, n: NodeId, patches: &[Option<Patch>]) -> TokenStream {
        let (Op::Coupled { c, .. }, Some((_, bodies))) = (self.g.op(n), self.g.coupled_parts(n))
        else {
            return self.internal_error("not a recurrence");
        };
        let (mut floats, mut float_nexts, mut copies) = (Vec::new(), Vec::new(), Vec::new());
        let mut in_place = Vec::new();
        for (k, (d, body)) in (*c..).zip(bodies).enumerate() {
            let s = carry_name(d);
            if let Some(Some(p)) = patches.get(k)
                && let Op::Table { v: j, .. } = *self.g.op(*body)
            {
                let (j, written) = (loop_var_name(j), self.expr(p.written, Prec::Postfix));
                let (lo, hi) = (self.expr(p.lo, Prec::Select), self.expr(p.hi, Prec::Select));
                let offset = self.expr(p.lo, Prec::Postfix);
                in_place.push(quote! {
                    for #j in #lo..::core::cmp::min(#hi, #s.len()) {
                        #s[#j] = #written[#j - #offset];
                    }
                });
            }
            let next = self.expr(*body, Prec::Postfix);
            if self.g.kind(*body) == Kind::Array {
                if patches.get(k).is_none_or(Option::is_none) {
                    copies.push(quote! { #s.copy_from_slice(&#next[..]); });
                }
            } else {
                floats.push(s);
                float_nexts.push(next);
            }
        }
        quote! {
            (#(#floats),*) = (#(#float_nexts),*);
            #(#copies)*
            #(#in_place)*
        }
    }

    /// The bounds of the stretch that `step`, the step of reverse sweep `number`'s `λ`,
    /// clears in `λ` itself (an [`Op::Cleared`] of that `λ`): then it is written in place.
    fn own_stretch_cleared(&self, step: NodeId, number: u32) -> Option<(TokenStream, TokenStream)> {
        let Op::Cleared { adjoint, lo, hi } = *self.g.op(step) else {
            return None;
        };
        matches!(*self.g.op(adjoint), Op::Adjoint { sweep, .. } if sweep == number)
            .then(|| (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select)))
    }

    /// Whether member `d` of coupled state `n` (a `Coupled`) is an array.
    fn carries_array(&self, n: NodeId, d: u32) -> bool {
        match (self.g.op(n), self.g.coupled_parts(n)) {
            (Op::Coupled { c, .. }, Some((inits, _))) => inits
                .get(d.wrapping_sub(*c) as usize)
                .is_some_and(|x| self.g.kind(*x) == Kind::Array),
            _ => false,
        }
    }

    /// The parts of reverse sweep `r` (a `RevFold`, or a `RevCoupled` of several members).
    fn sweep(&self, r: NodeId) -> Option<Sweep> {
        match *self.g.op(r) {
            Op::RevFold {
                sweep,
                v,
                fold,
                seed,
                step,
            } => Some(Sweep {
                number: sweep,
                v,
                fold,
                seeds: vec![seed],
                steps: vec![step],
            }),
            Op::RevCoupled { sweep, v, fold, .. } => {
                let (seeds, steps) = self.g.coupled_parts(r)?;
                Some(Sweep {
                    number: sweep,
                    v,
                    fold,
                    seeds: seeds.to_vec(),
                    steps: steps.to_vec(),
                })
            }
            _ => None,
        }
    }

    /// What every reverse loop of `group` (`group[0]` its `RevFold` or `RevCoupled`, the sums in
    /// it after) shares: before the loop, the adjoints `λ` from their seeds and the sums'
    /// accumulators; an iteration's statements, ending with the step of every `λ` back one
    /// iteration, together; after the loop, the sweep's value and the sums'.
    fn reverse_parts(
        &self,
        group: &[NodeId],
        sweep: &Sweep,
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
        storage: Storage,
    ) -> (TokenStream, TokenStream, TokenStream) {
        let coupled = matches!(self.g.op(group[0]), Op::RevCoupled { .. });
        let k = u32::try_from(sweep.steps.len()).unwrap_or(0);
        let lams: Vec<proc_macro2::Ident> =
            (sweep.number..sweep.number + k).map(adjoint_name).collect();
        let (stmts, scatters, give_back) = self.parts(body);
        let (init, add, bind) = self.accumulators(accumulators);
        if sweep.seeds.iter().any(|x| self.g.kind(*x) == Kind::Array) {
            // Coupled state carrying arrays: a vector `λ` per array, stepped back by a copy
            // after the floats' `λ`s, or, its step its own stretch cleared, in place, last (the
            // copies may read it).
            let mut start = Vec::new();
            let (mut floats, mut float_backs, mut copies) = (Vec::new(), Vec::new(), Vec::new());
            let mut clears = Vec::new();
            for (((lam, seed), step), number) in lams
                .iter()
                .zip(&sweep.seeds)
                .zip(&sweep.steps)
                .zip(sweep.number..)
            {
                let seed_x = self.expr(*seed, Prec::Postfix);
                let step_x = || self.expr(*step, Prec::Postfix);
                if self.g.kind(*seed) == Kind::Array {
                    start.push(Self::vector(
                        lam,
                        &quote!(::std::vec::Vec::from(&#seed_x[..])),
                        &quote!(#lam.extend_from_slice(&#seed_x[..]);),
                        storage,
                    ));
                    match self.own_stretch_cleared(*step, number) {
                        Some((lo, hi)) => clears.push(quote! {
                            for __j in #lo..::core::cmp::min(#hi, #lam.len()) {
                                #lam[__j] = 0f64;
                            }
                        }),
                        None => {
                            let step_x = step_x();
                            copies.push(quote! { #lam.copy_from_slice(&#step_x[..]); });
                        }
                    }
                } else {
                    start.push(quote! { let mut #lam = #seed_x; });
                    floats.push(lam.clone());
                    float_backs.push(step_x());
                }
            }
            let name = self.name(group[0]);
            return (
                quote! { #(#start)* #init },
                quote! {
                    #stmts #add #scatters
                    (#(#floats),*) = (#(#float_backs),*);
                    #(#copies)*
                    #(#clears)*
                    #give_back
                },
                quote! { let #name = (#(#lams,)*); #bind },
            );
        }
        let seeds = sweep.seeds.iter().map(|x| self.expr(*x, Prec::Select));
        let backs = sweep.steps.iter().map(|x| self.expr(*x, Prec::Select));
        let (step_back, value) = if coupled {
            (
                quote! { (#(#lams),*) = (#(#backs),*); },
                quote! { (#(#lams,)*) },
            )
        } else {
            (quote! { #(#lams = #backs;)* }, quote! { #(#lams)* })
        };
        let name = self.name(group[0]);
        (
            quote! { #(let mut #lams = #seeds;)* #init },
            quote! { #stmts #add #scatters #step_back #give_back },
            quote! { let #name = #value; #bind },
        )
    }

    /// The reverse loop of a recurrence's gradient, with the sums that read its adjoints
    /// (`group[0]` is the `RevFold` or `RevCoupled`): each iteration reads its saved state,
    /// adds its contributions, and steps every `λ` back one iteration, together.
    fn reverse(
        &self,
        group: &[NodeId],
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
        saved: &[u32],
        (last_kill, pooled): (bool, bool),
    ) -> TokenStream {
        let Some(sweep) = self.sweep(group[0]) else {
            return self.internal_error("not a reverse sweep");
        };
        let (Op::Fold { c, lo, hi, .. } | Op::Coupled { c, lo, hi, .. }) = *self.g.op(sweep.fold)
        else {
            return self.internal_error("not a recurrence");
        };
        let (i, trace) = (loop_var_name(sweep.v), trace_name(c));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let mut restore = TokenStream::new();
        let iterations = if matches!(self.g.op(group[0]), Op::RevCoupled { .. }) {
            // The arrays' rows, from the last: `let __s0 = &__rows0[end − len..end];`.
            let fold = self.name(sweep.fold);
            let mut before = TokenStream::new();
            for d in saved {
                if !self.carries_array(sweep.fold, *d) {
                    continue;
                }
                let (s, rows, end) = (carry_name(*d), rows_name(*d), row_end_name(*d));
                let member = syn::Index::from(d.wrapping_sub(c) as usize);
                before.extend(quote! { let mut #end = #rows.len(); });
                restore.extend(quote! {
                    let #s = &#rows[#end - #fold.#member.len()..#end];
                    #end -= #fold.#member.len();
                });
            }
            let saved: Vec<proc_macro2::Ident> = saved
                .iter()
                .filter(|d| !self.carries_array(sweep.fold, **d))
                .map(|d| carry_name(*d))
                .collect();
            let header = if saved.is_empty() {
                quote!(for #i in (#lo..#hi).rev())
            } else {
                quote!(for (#i, &(#(#saved,)*)) in (#lo..#hi).rev().zip(#trace.iter().rev()))
            };
            quote! { #before #header }
        } else if last_kill {
            // Only the last iteration that kills `λ` contributes, if the sweep only keeps or
            // kills it (`λ` is the seed until then, and zero before it), with the value the
            // recurrence had there; otherwise every iteration, with its saved value.
            let s = carry_name(c);
            quote!(if let ::core::option::Option::Some((#i, #s)) = #trace)
        } else {
            let s = carry_name(c);
            quote!(for (#i, &#s) in (#lo..#hi).rev().zip(#trace.iter().rev()))
        };
        let storage = if pooled {
            Storage::Pooled
        } else {
            Storage::Fresh
        };
        let (start, iteration, after) =
            self.reverse_parts(group, &sweep, body, accumulators, storage);
        quote! {
            #start
            #iterations {
                #restore
                #iteration
            }
            #after
        }
    }

    /// The reverse loop of a recurrence saved every `every` iterations (`checkpoint = K`):
    /// from the last checkpoint to the first, the stretch of iterations it starts is run forward
    /// again, saving what the sweep reads, then swept backwards as
    /// [`reverse`](Self::reverse) sweeps:
    ///
    /// ```text
    /// for (c, &s) in trace.iter().enumerate().rev() {
    ///     seg.clear();
    ///     let mut s = s;
    ///     for i in (lo..hi).skip(c * K).take(K) { seg.push((i, s)); …; s = body; }   // forward
    ///     for &(i, s) in seg.iter().rev() { …; λ = step; }                          // reverse
    /// }
    /// ```
    fn recomputing_reverse(
        &self,
        group: &[NodeId],
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
        saved: &[u32],
        every: usize,
        forward: &Block,
    ) -> TokenStream {
        let Some(sweep) = self.sweep(group[0]) else {
            return self.internal_error("not a reverse sweep");
        };
        let (c, vf, lo, hi, nexts) = match *self.g.op(sweep.fold) {
            Op::Fold {
                c, v, lo, hi, body, ..
            } => (c, v, lo, hi, vec![body]),
            Op::Coupled { c, v, lo, hi, .. } => match self.g.coupled_parts(sweep.fold) {
                Some((_, bodies)) => (c, v, lo, hi, bodies.to_vec()),
                None => return self.internal_error("not a recurrence"),
            },
            _ => return self.internal_error("not a recurrence"),
        };
        let k = u32::try_from(nexts.len()).unwrap_or(0);
        let (i, i_forward, trace) = (loop_var_name(sweep.v), loop_var_name(vf), trace_name(c));
        let (stretch, at) = (segment_name(c), checkpoint_counter(c));
        let every = Literal::usize_unsuffixed(every);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let states: Vec<proc_macro2::Ident> = (c..c + k).map(carry_name).collect();
        let saved: Vec<proc_macro2::Ident> = saved.iter().map(|d| carry_name(*d)).collect();
        let (redo, redo_back) = self.whole(forward);
        let nexts = nexts.iter().map(|x| self.expr(*x, Prec::Select));
        // A checkpoint is every member's value (a tuple), or the one value.
        let (checkpoint, step_forward) = if matches!(self.g.op(group[0]), Op::RevCoupled { .. }) {
            (
                quote!(&(#(#states,)*)),
                quote! { (#(#states),*) = (#(#nexts),*); },
            )
        } else {
            (quote!(&#(#states)*), quote! { #(#states = #nexts;)* })
        };
        let (start, iteration, after) =
            self.reverse_parts(group, &sweep, body, accumulators, Storage::Fresh);
        let other = Self::other_stretch(&stretch, (&lo, &hi), &at, &every);
        quote! {
            #start
            for (#at, #checkpoint) in #trace.iter().enumerate().rev() {
                if #other {
                    #stretch.clear();
                    #(let mut #states = #states;)*
                    for #i_forward in ::core::iter::Iterator::take(
                        ::core::iter::Iterator::skip(#lo..#hi, #at * #every),
                        #every,
                    ) {
                        #stretch.push((#i_forward, (#(#saved,)*)));
                        #redo
                        #step_forward
                        #redo_back
                    }
                }
                for &(#i, (#(#saved,)*)) in #stretch.iter().rev() {
                    #iteration
                }
            }
            #after
        }
    }

    /// The reverse loop of coupled state carrying arrays saved every `every` iterations
    /// (`checkpoint = K`): from the last checkpoint to the first, the stretch of iterations it
    /// starts is run forward again from the checkpoint's state (each array copied into a working
    /// vector), saving what the sweep reads into a scratch of at most `K` rows per array (and a
    /// vector of the floats), then swept backwards as [`reverse`](Self::reverse) sweeps, each
    /// array's row read from the scratch. The scratch and the working vectors are allocated once,
    /// before the loop: memory `⌈n/K⌉ + K` rows instead of `n`.
    ///
    /// ```text
    /// let mut __work0 = Vec::with_capacity(len);
    /// let mut __seg_rows0 = Vec::with_capacity(min(K, n) · len); let mut __stretch0 = …;
    /// for (c, &(s1,)) in trace.iter().enumerate().rev() {
    ///     __work0.clear(); __work0.extend_from_slice(&__rows0[c·len..(c+1)·len]);
    ///     let mut __s0 = __work0; let mut __s1 = s1; __seg_rows0.clear(); __stretch0.clear();
    ///     for t in (lo..hi).skip(c · K).take(K) {
    ///         __seg_rows0.extend_from_slice(&__s0); __stretch0.push((t, (…saved floats,)));
    ///         …; (__s1) = (…); __s0.copy_from_slice(&next);                        // forward
    ///     }
    ///     __work0 = __s0;
    ///     for &(t, (…,)) in __stretch0.iter().rev() { let __s0 = &__seg_rows0[…]; …; λ = step; }
    /// }
    /// ```
    fn recomputing_array_reverse(
        &self,
        group: &[NodeId],
        body: &Block,
        accumulators: &[(NodeId, NodeId)],
        saved: &[u32],
        (every, pooled): (usize, bool),
        (forward, patches, nested): (&Block, &[Option<Patch>], &[NodeId]),
    ) -> TokenStream {
        let Some(sweep) = self.sweep(group[0]) else {
            return self.internal_error("not a reverse sweep");
        };
        let Op::Coupled { c, v, lo, hi, .. } = self.g.op(sweep.fold) else {
            return self.internal_error("not a recurrence");
        };
        let (c, vf) = (*c, *v);
        let (i, i_forward, trace) = (loop_var_name(sweep.v), loop_var_name(vf), trace_name(c));
        let (stretch, at) = (segment_name(c), checkpoint_counter(c));
        let every = Literal::usize_unsuffixed(every);
        let (lo, hi) = (self.expr(*lo, Prec::Select), self.expr(*hi, Prec::Select));
        let storage = if pooled {
            Storage::Pooled
        } else {
            Storage::Fresh
        };
        let StretchParts {
            before,
            restore,
            give_back,
            keep,
            restore_row,
            ends,
            floats,
            unheld,
        } = self.stretch_parts(sweep.fold, saved, storage);
        let zero = self.float_lit(0.0);
        let saved: Vec<proc_macro2::Ident> = saved
            .iter()
            .filter(|d| !self.carries_array(sweep.fold, **d))
            .map(|d| carry_name(*d))
            .collect();
        // The nested recurrences kept by the stretch recomputed, read back by its sweep.
        let steps = quote!(::core::cmp::min(
            #every,
            ::core::iter::Iterator::size_hint(&(#lo..#hi)).0
        ));
        let (redo, redo_back) = self.with_nest(nested, Some(&steps), || self.whole(forward));
        let (tables, nest_ends) = (self.nest_clear(nested), self.nest_ends(nested));
        let step = self.array_step(sweep.fold, patches);
        let (start, iteration, after) = self.with_nest(nested, None, || {
            self.reverse_parts(group, &sweep, body, accumulators, storage)
        });
        let other = Self::other_stretch(&stretch, (&lo, &hi), &at, &every);
        quote! {
            #start
            #before
            for (#at, &(#(#floats,)*)) in #trace.iter().enumerate().rev() {
                if #other {
                    #restore
                    #stretch.clear();
                    #tables
                    #(let mut #floats = #floats;)*
                    #(let mut #unheld = #zero;)*
                    for #i_forward in ::core::iter::Iterator::take(
                        ::core::iter::Iterator::skip(#lo..#hi, #at * #every),
                        #every,
                    ) {
                        #keep
                        #stretch.push((#i_forward, (#(#saved,)*)));
                        #redo
                        #step
                        #redo_back
                    }
                    #give_back
                }
                #(#ends)*
                #nest_ends
                for &(#i, (#(#saved,)*)) in #stretch.iter().rev() {
                    #restore_row
                    #iteration
                }
            }
            #after
        }
    }

    /// Whether `stretch` (declared and kept by the forward loop, see
    /// [`kept_stretch`](Self::kept_stretch)) holds another stretch than checkpoint `at`'s, which
    /// must then be recomputed: it holds that one if its first index is the loop's `at · K`-th. The forward loop leaves the last stretch in it,
    /// and the sweep, the one it recomputed last; it is filled a whole stretch at a time, so a
    /// stretch starting at that index is that stretch.
    fn other_stretch(
        stretch: &proc_macro2::Ident,
        (lo, hi): (&TokenStream, &TokenStream),
        at: &proc_macro2::Ident,
        every: &Literal,
    ) -> TokenStream {
        quote!((::core::option::Option::map(#stretch.first(), |__e| __e.0)
            != ::core::iter::Iterator::nth(&mut (#lo..#hi), #at * #every)))
    }

    /// Per member of coupled state `n` carrying arrays, what its checkpointed reverse sweep
    /// (`recomputing_array_reverse`) writes: see [`StretchParts`].
    fn stretch_parts(&self, n: NodeId, saved: &[u32], storage: Storage) -> StretchParts {
        let (Op::Coupled { c, .. }, Some((inits, _))) = (self.g.op(n), self.g.coupled_parts(n))
        else {
            return StretchParts::default();
        };
        let (c, fold, at) = (*c, self.name(n), checkpoint_counter(*c));
        let (mut before, mut restore, mut give_back) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        let (mut keep, mut restore_row) = (TokenStream::new(), TokenStream::new());
        // The floats a checkpoint holds, bound by the loop's pattern; the others start from
        // zero (the stretch's first iteration sets them before they are read).
        let held = self.s.checkpointed(n);
        let (mut floats, mut unheld) = (Vec::new(), Vec::new());
        let zero = self.float_lit(0.0);
        for (k, d) in (0..).zip(c..c + u32::try_from(inits.len()).unwrap_or(0)) {
            let s = carry_name(d);
            if !self.carries_array(n, d) {
                if held.contains(&d) {
                    floats.push(s);
                } else {
                    unheld.push(s);
                }
                continue;
            }
            let member = syn::Index::from(k);
            let (rows, work) = (rows_name(d), work_name(d));
            let len = quote!(#fold.#member.len());
            before.extend(Self::vector(
                &work,
                &quote!(::std::vec::Vec::with_capacity(#len)),
                &quote!(#work.reserve(#len);),
                storage,
            ));
            // An array a checkpoint does not hold: zeros, of its length.
            let fill = if held.contains(&d) {
                quote!(#work.extend_from_slice(&#rows[#at * #len..(#at + 1) * #len]);)
            } else {
                quote!(#work.resize(#len, #zero);)
            };
            restore.extend(quote! {
                #work.clear();
                #fill
                let mut #s = #work;
            });
            give_back.extend(quote! { #work = #s; });
            if saved.contains(&d) {
                let (seg, end) = (segment_rows_name(d), row_end_name(d));
                restore.extend(quote! { #seg.clear(); });
                keep.extend(quote! { #seg.extend_from_slice(&#s); });
                restore_row.extend(quote! {
                    let #s = &#seg[#end - #len..#end];
                    #end -= #len;
                });
            }
        }
        let ends = saved
            .iter()
            .filter(|d| self.carries_array(n, **d))
            .map(|d| {
                let (seg, end) = (segment_rows_name(*d), row_end_name(*d));
                quote! { let mut #end = #seg.len(); }
            })
            .collect();
        StretchParts {
            before,
            restore,
            give_back,
            keep,
            restore_row,
            ends,
            floats,
            unheld,
        }
    }

    /// A reverse sweep and the sums in its loop ([`Stmt::Guarded`]), with its recurrence's
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
    fn guarded(&self, group: &[NodeId], reads: &Block, sweep: &Stmt) -> TokenStream {
        let seeds = match *self.g.op(group[0]) {
            Op::RevFold { seed, .. } => vec![seed],
            Op::RevCoupled { .. } => self
                .g
                .coupled_parts(group[0])
                .map(|p| p.0.to_vec())
                .unwrap_or_default(),
            _ => return self.internal_error("not a reverse sweep"),
        };
        // In a loop's body, the vectors of the block are given back at its end.
        let (stmts, back) = self.whole(reads);
        let sweep = self.stmt(sweep);
        let zero = self.float_lit(0.0);
        // The sums' values, and a coupled sweep's adjoints (a tuple: zero each).
        let (values, zeros): (Vec<proc_macro2::Ident>, Vec<TokenStream>) = group
            .iter()
            .filter_map(|n| match self.g.coupled_parts(*n) {
                Some((seeds, _)) => {
                    let zeros = seeds.iter().map(|_| &zero);
                    Some((self.name(*n), quote!((#(#zeros,)*))))
                }
                None if self.g.kind(*n) == Kind::Float => Some((self.name(*n), zero.clone())),
                None => None,
            })
            .unzip();
        // The sweep runs where one of its seeds is not zero: always, if one is a constant other
        // than zero; a seed that is the constant zero is left out of the test.
        // (A sweep carrying an array's adjoint vector runs always.)
        let always = crate::schedule::tree::sweep_runs_always(self.g, group[0]);
        let tested: Vec<TokenStream> = seeds
            .iter()
            .filter(|s| self.g.as_const(**s).is_none())
            .map(|s| self.expr(*s, Prec::Compare))
            .collect();
        if always {
            return quote! {
                let (#(#values,)*) = {
                    #stmts
                    #sweep
                    #back
                    (#(#values,)*)
                };
            };
        }
        if tested.is_empty() {
            return quote! { let (#(#values,)*) = (#(#zeros,)*); };
        }
        quote! {
            let (#(#values,)*) = if #(#tested != #zero)||* {
                #stmts
                #sweep
                #back
                (#(#values,)*)
            } else {
                (#(#zeros,)*)
            };
        }
    }

    /// A local array: `[c; N]`, `vec![c; n]`, or a loop filling it: `let mut __tN =
    /// Vec::with_capacity(hi − lo); for v in lo..hi { …; __tN.push(body); }` (on the stack,
    /// `let mut __tN = [0.0; N]; for v in lo..hi { …; __tN[v − lo] = body; }`).
    fn table(&self, n: NodeId, storage: Storage, block: Option<&Block>) -> TokenStream {
        let Op::Table { v, lo, hi, body } = *self.g.op(n) else {
            return self.internal_error("not a local array");
        };
        let (i, name) = (loop_var_name(v), self.name(n));
        let first = self.g.as_int(lo);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
        let value = self.expr(body, Prec::Select);
        let Some(block) = block else {
            // A constant fill.
            return match storage {
                Storage::Stack(fixed) => {
                    let fixed = Literal::usize_unsuffixed(fixed);
                    quote! { let #name = [#value; #fixed]; }
                }
                _ => Self::vector(
                    &name,
                    &quote!(::std::vec![#value; #len]),
                    &quote!(#name.resize(#len, #value);),
                    storage,
                ),
            };
        };
        let (stmts, back) = self.whole(block);
        if let Storage::Stack(fixed) = storage {
            // A few elements, known at compile time: an array on the stack (no allocation).
            let fixed = Literal::usize_unsuffixed(fixed);
            let zero = self.float_lit(0.0);
            let at = match first {
                Some(0) => quote!(#i),
                _ => quote!(#i - #lo),
            };
            return quote! {
                let mut #name = [#zero; #fixed];
                for #i in #lo..#hi {
                    #stmts
                    #name[#at] = #value;
                    #back
                }
            };
        }
        let start = Self::vector(
            &name,
            &quote!(::std::vec::Vec::with_capacity(#len)),
            &quote!(#name.reserve(#len);),
            storage,
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

    /// Local arrays over one loop and bounds, filled by one loop: `let mut __tA =
    /// Vec::with_capacity(hi − lo); let mut __tB = …; for v in lo..hi { …; __tA.push(a);
    /// __tB.push(b); }`, what `a` and `b` share bound once in the loop's body.
    fn tables(&self, group: &[(NodeId, Storage)], block: &Block) -> TokenStream {
        let Some(&Op::Table { v, lo, hi, .. }) = group.first().map(|(n, _)| self.g.op(*n)) else {
            return self.internal_error("not a local array");
        };
        let i = loop_var_name(v);
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
        let (mut starts, mut pushes, mut filled) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for &(n, storage) in group {
            let Op::Table { body, .. } = *self.g.op(n) else {
                return self.internal_error("not a local array");
            };
            let name = self.name(n);
            starts.extend(Self::vector(
                &name,
                &quote!(::std::vec::Vec::with_capacity(#len)),
                &quote!(#name.reserve(#len);),
                storage,
            ));
            let value = self.expr(body, Prec::Select);
            pushes.extend(quote! { #name.push(#value); });
            // Bound again once filled (see `vector`).
            filled.extend(quote! { let #name = #name; });
        }
        let (stmts, back) = self.whole(block);
        quote! {
            #starts
            for #i in #lo..#hi {
                #stmts
                #pushes
                #back
            }
            #filled
        }
    }

    /// A vector added into: `let mut __zB = vec![0.0; z.len()];` (an adjoint), a copy of the
    /// array it starts from, or `vec![c; n]` for a constant one (not copied); on the stack when
    /// short (`[0.0; 3]`). The additions (`__zB[i] += …`) are statements of their own,
    /// scheduled like the others, before the `Filled` that reads it.
    ///
    /// `by_bounds`: a vector of zeros as long as a local array that is not bound here, its
    /// length `hi − lo` from the array's loop (the array itself is not filled).
    fn alloc(&self, n: NodeId, storage: Storage, by_bounds: bool) -> TokenStream {
        let Op::Alloc {
            buf, like, zero, ..
        } = *self.g.op(n)
        else {
            return self.internal_error("not a vector");
        };
        let z = buffer_name(buf);
        if let Storage::Stack(fixed) = storage {
            let fixed = Literal::usize_unsuffixed(fixed);
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
        let bounds = match *self.g.op(like) {
            Op::Table { lo, hi, .. }
            | Op::Scanned { lo, hi, .. }
            | Op::CoupledScan { lo, hi, .. }
                if by_bounds && zero =>
            {
                Some((lo, hi))
            }
            _ => None,
        };
        let (fresh, refill) = match (zero, self.g.constant_fill(like)) {
            (true, _) if let Some((lo, hi)) = bounds => {
                let zero = self.float_lit(0.0);
                let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
                let len = quote!(::core::iter::Iterator::size_hint(&(#lo..#hi)).0);
                (
                    quote!(::std::vec![#zero; #len]),
                    quote!(#z.resize(#len, #zero);),
                )
            }
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
        Self::vector(&z, &fresh, &refill, storage)
    }

    /// The loop that finds where `for v in lo..hi { …; if cond { break; } … }` breaks:
    /// `let mut __tN = hi; for v in lo..hi { …; if cond { __tN = v; break; } }`.
    fn until(&self, n: NodeId, body: &Block) -> TokenStream {
        let Op::Until { v, lo, hi, cond } = *self.g.op(n) else {
            return self.internal_error("not a loop's end");
        };
        let (i, name) = (loop_var_name(v), self.name(n));
        let (lo, hi) = (self.expr(lo, Prec::Select), self.expr(hi, Prec::Select));
        let (stmts, back) = self.whole(body);
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

    /// An argument of a call: a differentiated slice as the user wrote it (`x`, `&x`), a run
    /// of one as `&x[lo..hi]` (its bounds computed here), everything else as an expression.
    fn argument(&self, a: NodeId) -> TokenStream {
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
            _ if self.g.kind(a) == Kind::Array => {
                let z = self.expr(a, Prec::Postfix);
                quote! { &#z }
            }
            _ => self.expr(a, Prec::Select),
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

    /// `(H·ȧ)ᵢ` of a `CallJvp` `n` (`__h5.1` for argument 1).
    fn jvp_partials_name(n: NodeId) -> proc_macro2::Ident {
        format_ident!("__h{}", n.0, span = Span::mixed_site())
    }

    /// The arguments of a `CallJvp`'s `__hvp`: `(args…,)`, `(tangents…,)` (a float's
    /// tangent, a differentiated slice's direction `&*v.x` or its run from `lo` (`Shifted`),
    /// zeros elsewhere), and the type of its result's second part `(T or () per argument,)`.
    fn hvp_args(
        &self,
        jvp: NodeId,
    ) -> Option<(&TokenStream, TokenStream, TokenStream, TokenStream)> {
        let Op::CallJvp(call, dots) = self.g.op(jvp) else {
            return None;
        };
        let Op::Call(f, args) = self.g.op(self.g.called(*call)) else {
            return None;
        };
        let path = self.symbols.derivative_path(*f);
        let ty = self.float_ty();
        let values = args.iter().map(|a| self.call_arg(*a));
        let tangents = args
            .iter()
            .zip(dots)
            .map(|(a, d)| match (self.g.op(*a), self.g.op(*d)) {
                _ if self.g.kind(*a) == crate::graph::Kind::Float => self.expr(*d, Prec::Select),
                (Op::SliceArg(_, _, range), Op::Sym(t, _)) => {
                    let t = &self.symbols.tokens[t.0 as usize];
                    if range.len() == 2 {
                        let lo = self.expr(range[0], Prec::Select);
                        quote! { &::symgrad::__private::Shifted::new(&*#t, #lo) }
                    } else {
                        quote! { &*#t }
                    }
                }
                // A local array's tangent, the array of its elements' tangents.
                _ if self.g.kind(*a) == crate::graph::Kind::Array && d != a => {
                    let t = self.expr(*d, Prec::Postfix);
                    quote! { &#t }
                }
                _ => quote!(&::symgrad::__private::Discard::<#ty>::default()),
            });
        let slots = args.iter().map(|a| {
            if self.g.kind(*a) == crate::graph::Kind::Float {
                ty.clone()
            } else {
                quote!(())
            }
        });
        Some((
            path,
            quote! { (#(#values,)*) },
            quote! { (#(#tangents,)*) },
            quote! { (#(#slots,)*) },
        ))
    }

    /// `let (ẏ, h) = f::__hvp((args…,), (tangents…,), 1, (discarded…,));` for a call given a
    /// differentiated slice, in second derivatives: its directional derivative and `H·ȧ` over
    /// its float arguments (`h.i`), from the callee's hidden `__hvp`, which
    /// `#[differentiable(hessian)]` emits (for a callee without it, `SecondOrderFallback`'s
    /// never-run stand-in, beside the callee check's error).
    fn call_jvp(&self, n: NodeId) -> TokenStream {
        let Some((path, values, tangents, slots)) = self.hvp_args(n) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let ty = self.float_ty();
        let result = quote! { (#ty, #slots) };
        let arity = match self.g.op(n) {
            Op::CallJvp(_, dots) => dots.len(),
            _ => 0,
        };
        let discard =
            (0..arity).map(|_| quote!(&mut ::symgrad::__private::Discard::<#ty>::default()));
        let (name, h) = (self.name(n), Self::jvp_partials_name(n));
        if let Some(k) = self.output_of_jvp(n) {
            // Output `k` of a vector-valued call: its tangent written into `ẏ`, `H_k·ȧ` over
            // the float arguments with the seed 1 at `k`.
            let (y, hk) = (
                format_ident!("__y", span = Span::mixed_site()),
                format_ident!("__h", span = Span::mixed_site()),
            );
            let unit = self.unit_seeds(k, &quote!(1.0 as #ty));
            let len = Literal::usize_unsuffixed(k as usize + 1);
            let at = Literal::usize_unsuffixed(k as usize);
            return quote! {
                #[allow(unused_imports)]
                use ::symgrad::__private::SecondOrderFallback as _;
                let (#name, #h): #result = {
                    let mut #y = [0.0 as #ty; #len];
                    let #hk = #path::__hvp_outputs(#values, #tangents, &#unit, (#(#discard,)*), &mut #y[..]);
                    (#y[#at], #hk)
                };
            };
        }
        quote! {
            #[allow(unused_imports)]
            use ::symgrad::__private::SecondOrderFallback as _;
            let (#name, #h): #result =
                #path::__hvp(#values, #tangents, 1.0 as #ty, (#(#discard,)*));
        }
    }

    /// `k` where `jvp` is the directional derivative of output `k` of a vector-valued call.
    fn output_of_jvp(&self, jvp: NodeId) -> Option<u32> {
        match self.g.op(jvp) {
            Op::CallJvp(call, _) => match self.g.op(*call) {
                Op::CallOutput(_, k) => Some(*k),
                _ => None,
            },
            _ => None,
        }
    }

    /// `[0.0, …, 0.0, seed]`: the seeds of a vector-valued call's `__hvp_outputs` for output `k`
    /// alone.
    fn unit_seeds(&self, k: u32, seed: &TokenStream) -> TokenStream {
        let ty = self.float_ty();
        let zeros = (0..k).map(|_| quote!(0.0 as #ty));
        quote! { [#(#zeros,)* #seed] }
    }

    /// `f::__hvp(…, seed, (sinks…,))` for a `CallJvp`: `∇x += seed·(H·ȧ)ₓ` into each
    /// differentiated slice's gradient vector (one call per position when a slice is passed
    /// twice, as for `__vjp`).
    fn call_hvp(&self, jvp: NodeId, seed: NodeId) -> TokenStream {
        let (Some((path, values, tangents, parts)), Op::CallJvp(call, _)) =
            (self.hvp_args(jvp), self.g.op(jvp))
        else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let Op::Call(_, args) = self.g.op(self.g.called(*call)) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let ty = self.float_ty();
        let seed_node = seed;
        let seed = self.expr(seed, Prec::Select);
        let output = self.output_of_jvp(jvp);
        let result = quote! { (#ty, #parts) };
        let discard = quote!(&mut ::symgrad::__private::Discard::<#ty>::default());
        let slots: Vec<Option<Slot>> = args.iter().map(|a| self.slot(*a)).collect();
        let given: Vec<u32> = slots.iter().flatten().map(|(k, ..)| *k).collect();
        let distinct = given
            .iter()
            .enumerate()
            .all(|(i, k)| !given[..i].contains(k));
        let positions: Vec<Option<usize>> = if distinct {
            vec![None]
        } else {
            (0..slots.len())
                .filter(|j| slots[*j].is_some())
                .map(Some)
                .collect()
        };
        let calls = positions.iter().map(|only| {
            let sinks = slots.iter().enumerate().map(|(i, s)| match s {
                Some(slot) if only.is_none_or(|j| j == i) => self.slice_sink(*slot),
                _ => discard.clone(),
            });
            match output {
                // The seeds of the outputs, `&[λ₀, λ₁, …]` (or output `k`'s alone).
                Some(k) => {
                    let seeds = match self.g.op(seed_node) {
                        Op::Seeds(_) => seed.clone(),
                        _ => {
                            let one = self.unit_seeds(k, &seed);
                            quote!(&#one)
                        }
                    };
                    quote! {
                        let _: #parts = #path::__hvp_outputs(#values, #tangents, #seeds, (#(#sinks,)*), &mut [0.0 as #ty; 0][..]);
                    }
                }
                None => quote! {
                    let _: #result = #path::__hvp(#values, #tangents, #seed, (#(#sinks,)*));
                },
            }
        });
        quote! {
            #[allow(unused_imports)]
            use ::symgrad::__private::SecondOrderFallback as _;
            #(#calls)*
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
        let values: Vec<TokenStream> = args.iter().map(|a| self.argument(*a)).collect();
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
    /// `position`: its adjoint vector (`alloc`) the sink there, `Discard` elsewhere (the
    /// slices' gradients through the call are a product of their own).
    fn array_vjp(&self, call: NodeId, seed: NodeId, alloc: NodeId, position: u32) -> TokenStream {
        if let Op::CallJvp(..) = self.g.op(call) {
            return self.array_hvp(call, seed, alloc, position);
        }
        let Op::Call(f, args) = self.g.op(call) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let path = self.symbols.derivative_path(*f);
        let ty = self.float_ty();
        let values: Vec<TokenStream> = args.iter().map(|a| self.argument(*a)).collect();
        let seed = self.expr(seed, Prec::Select);
        let z = self.expr(alloc, Prec::Postfix);
        let sinks = (0..args.len()).map(|j| {
            if j == position as usize {
                quote!(&mut #z[..])
            } else {
                quote!(&mut ::symgrad::__private::Discard::<#ty>::default())
            }
        });
        quote! { #path::__vjp(#(#values,)* #seed, #(#sinks),*); }
    }

    /// `f::__hvp(…, seed, (sinks…,))` for a `CallJvp` `jvp` whose call is given a local array
    /// as argument `position`: `z̄ += seed·(H·ż)_z` into the array's adjoint vector (`alloc`),
    /// `Discard` elsewhere (`__hvp_outputs` seeded at `k` for output `k` of a vector-valued call).
    fn array_hvp(&self, jvp: NodeId, seed: NodeId, alloc: NodeId, position: u32) -> TokenStream {
        let Some((path, values, tangents, parts)) = self.hvp_args(jvp) else {
            return quote!(::core::compile_error!("internal error: not a call"););
        };
        let arity = match self.g.op(jvp) {
            Op::CallJvp(_, dots) => dots.len(),
            _ => 0,
        };
        let ty = self.float_ty();
        let seed = self.expr(seed, Prec::Select);
        let z = self.expr(alloc, Prec::Postfix);
        let sinks = (0..arity).map(|j| {
            if j == position as usize {
                quote!(&mut #z[..])
            } else {
                quote!(&mut ::symgrad::__private::Discard::<#ty>::default())
            }
        });
        let call = match self.output_of_jvp(jvp) {
            Some(k) => {
                let seeds = self.unit_seeds(k, &seed);
                quote! {
                    let _: #parts = #path::__hvp_outputs(#values, #tangents, &#seeds, (#(#sinks,)*), &mut [0.0 as #ty; 0][..]);
                }
            }
            None => quote! {
                let _: (#ty, #parts) = #path::__hvp(#values, #tangents, #seed, (#(#sinks,)*));
            },
        };
        quote! {
            #[allow(unused_imports)]
            use ::symgrad::__private::SecondOrderFallback as _;
            #call
        }
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
}

/// The emitted code's spelling of expressions: tokens, the parameters' own tokens for the
/// leaves, and generated names for what the emitted statements bind.
impl Style for Emitter<'_> {
    type Out = TokenStream;

    fn graph(&self) -> &Graph {
        self.g
    }

    fn bound(&self, n: NodeId) -> Option<TokenStream> {
        // A vector added into is read by its name, whichever node reads it (see `own`).
        if matches!(self.g.op(n), Op::Alloc { .. } | Op::Filled { .. }) || !self.s.is_bound(n) {
            return None;
        }
        let name = self.name(n);
        Some(quote! { #name })
    }

    fn own(&self, n: NodeId) -> Option<TokenStream> {
        Some(match self.g.op(n) {
            Op::Input(i) => self.inputs[*i as usize].clone(),
            Op::LoopVar(v) => {
                let i = loop_var_name(*v);
                quote! { #i }
            }
            Op::Carry { .. } if self.g.is_provisional(n) => {
                self.internal_error("a loop-carried variable escaped lowering")
            }
            Op::Carry { c, .. } => {
                let s = carry_name(*c);
                quote! { #s }
            }
            Op::Adjoint { sweep: c, .. } => {
                let l = adjoint_name(*c);
                quote! { #l }
            }
            // Output `k` of a vector-valued call: row `k` of its partials.
            Op::Partial(output, i) if let Op::CallOutput(call, k) = *self.g.op(*output) => {
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
            Op::JvpPartial(jvp, i) => {
                let h = Self::jvp_partials_name(*jvp);
                let i = syn::Index::from(*i as usize);
                quote! { #h.#i }
            }
            Op::Partial2(call, i, j) => {
                let d = Self::second_partials_name(*call);
                let (i, j) = (syn::Index::from(*i as usize), syn::Index::from(*j as usize));
                quote! { #d.#i.#j }
            }
            // A vector added into, by its name (`Alloc`: while it is being added into;
            // `Filled`: once it is complete).
            Op::Alloc { buf, .. } => {
                let z = buffer_name(*buf);
                quote! { #z }
            }
            Op::Filled { alloc, .. } => self.expr(*alloc, Prec::Postfix),
            // A copy with the stretch zero (where it is not `λ`'s own step, written in place
            // by `reverse_parts`).
            Op::Cleared { adjoint, lo, hi } => {
                let adjoint = self.expr(*adjoint, Prec::Postfix);
                let (lo, hi) = (self.expr(*lo, Prec::Select), self.expr(*hi, Prec::Select));
                quote! {{
                    let mut __cleared = ::std::vec::Vec::from(&#adjoint[..]);
                    let __end = ::core::cmp::min(#hi, __cleared.len());
                    for __j in #lo..__end {
                        __cleared[__j] = 0f64;
                    }
                    __cleared
                }}
            }
            Op::Seeds(values) => {
                let values = values.iter().map(|v| self.expr(*v, Prec::Select));
                quote! { &[#(#values),*] }
            }
            // A call of a function returning a tuple: its outputs as an array, as an array
            // function's value, `tuple_outputs(polar(r, t))[k]`.
            Op::Call(f, args) if self.symbols.tuples.contains(&f.0) => {
                let args = args.iter().map(|a| self.call_arg(*a)).collect();
                let call = self.call(self.symbol(*f), args);
                quote! { ::symgrad::__private::tuple_outputs(#call) }
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
            | Op::CallHvp(..)
            | Op::Table { .. }
            | Op::Scanned { .. }
            | Op::CoupledScan { .. }
            | Op::Accumulate { .. }
            | Op::ArrayVjp { .. }
            | Op::Rebound { .. }
            | Op::VjpRows { .. } => quote!(()),
            _ => return None,
        })
    }

    fn float(&self, v: f64) -> TokenStream {
        self.float_lit(v)
    }

    fn int(&self, v: i64) -> TokenStream {
        let lit = Literal::u64_unsuffixed(v.unsigned_abs());
        if v < 0 { quote!(-#lit) } else { quote!(#lit) }
    }

    /// `f32` or `f64`, the function's float type.
    fn float_ty(&self) -> TokenStream {
        match self.float {
            FloatTy::F32 => quote!(f32),
            FloatTy::F64 => quote!(f64),
        }
    }

    fn symbol(&self, s: SymId) -> TokenStream {
        self.symbols.tokens[s.0 as usize].clone()
    }

    fn slice(&self, k: u32) -> TokenStream {
        self.slices[k as usize].clone()
    }

    fn runtime(&self, name: &str) -> TokenStream {
        let f = format_ident!("{}", name);
        quote!(::symgrad::__private::#f)
    }

    fn word(&self, text: &str) -> TokenStream {
        let w = format_ident!("{}", text);
        quote!(#w)
    }

    fn internal_error(&self, what: &str) -> TokenStream {
        let message = format!("internal error: {what}");
        quote!(::core::compile_error!(#message))
    }

    fn infix(&self, a: TokenStream, op: &str, b: TokenStream) -> TokenStream {
        let op: TokenStream = op.parse().unwrap_or_default();
        quote! { #a #op #b }
    }

    fn prefix(&self, op: &str, a: TokenStream) -> TokenStream {
        let op: TokenStream = op.parse().unwrap_or_default();
        quote! { #op #a }
    }

    fn paren(&self, a: TokenStream) -> TokenStream {
        quote! { (#a) }
    }

    fn method(&self, recv: TokenStream, name: &str, args: Vec<TokenStream>) -> TokenStream {
        let m = format_ident!("{}", name);
        quote! { #recv.#m(#(#args),*) }
    }

    fn call(&self, f: TokenStream, args: Vec<TokenStream>) -> TokenStream {
        quote! { #f(#(#args),*) }
    }

    fn index(&self, a: TokenStream, i: TokenStream) -> TokenStream {
        quote! { #a[#i] }
    }

    fn field(&self, a: TokenStream, k: u32) -> TokenStream {
        let k = syn::Index::from(k as usize);
        quote! { #a.#k }
    }

    fn cast(&self, a: TokenStream, ty: TokenStream) -> TokenStream {
        quote! { #a as #ty }
    }

    fn select(&self, c: TokenStream, a: TokenStream, b: TokenStream) -> TokenStream {
        quote! { if #c { #a } else { #b } }
    }

    fn run(&self, x: TokenStream, lo: TokenStream, hi: TokenStream) -> TokenStream {
        quote! { &#x[#lo..#hi] }
    }

    /// A differentiated slice as the user wrote it (`x`, `&x`), a run of one as `&x[lo..hi]`
    /// (its bounds computed here), a local array lent whole.
    fn call_arg(&self, a: NodeId) -> TokenStream {
        self.argument(a)
    }
}

/// The carries of the recurrences whose reverse sweeps computing `roots` runs (every member of
/// coupled ones).
fn swept_carries(g: &Graph, roots: &[NodeId]) -> HashSet<u32> {
    let mut out = HashSet::new();
    for n in g.reachable_with_sweeps(roots) {
        if let Op::RevFold { fold, .. } | Op::RevCoupled { fold, .. } = *g.op(n) {
            out.extend(g.carries_of(fold));
        }
    }
    out
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
/// The rows an array carried across a loop's iterations (coupled member `d`) saves, one per
/// iteration.
fn rows_name(d: u32) -> proc_macro2::Ident {
    format_ident!("__rows{}", d, span = Span::mixed_site())
}

/// Where the rows of member `d` not yet swept end.
fn row_end_name(d: u32) -> proc_macro2::Ident {
    format_ident!("__row_end{}", d, span = Span::mixed_site())
}

/// The working vector member `d`, an array, is recomputed in from a checkpoint.
fn work_name(d: u32) -> proc_macro2::Ident {
    format_ident!("__work{}", d, span = Span::mixed_site())
}

/// The rows of member `d`, an array, recomputed from a checkpoint for the sweep of a stretch.
fn segment_rows_name(d: u32) -> proc_macro2::Ident {
    format_ident!("__stretch_rows{}", d, span = Span::mixed_site())
}

fn trace_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__trace{}", c, span = Span::mixed_site())
}

/// Which iteration of a recurrence's loop this is, for its checkpoints (`checkpoint = K`).
fn checkpoint_counter(c: u32) -> proc_macro2::Ident {
    format_ident!("__j{}", c, span = Span::mixed_site())
}

/// The stretch of a recurrence's states between two checkpoints, recomputed for its sweep.
fn segment_name(c: u32) -> proc_macro2::Ident {
    format_ident!("__stretch{}", c, span = Span::mixed_site())
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

/// Coupled state's forward loop as `Emitter::member_scans` finds it: its node, its block and
/// the members it saves.
type StateLoop<'s> = (NodeId, &'s Block, &'s [u32]);

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
