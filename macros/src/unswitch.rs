//! Unswitching a gradient's loops: a sum over loop `v` whose body is a select on a condition
//! that does not change with `v` becomes the select of two sums,
//!
//! ```text
//! Σ(v in lo..hi) (if c { a } else { b })   →   if c { Σ(v in lo..hi) a } else { Σ(v in lo..hi) b }
//! Σ(v in lo..hi) (if c { ∇x[v] += a })      →   if c { Σ(v in lo..hi) ∇x[v] += a }
//! Σ(v in lo..hi) ∇x[0] += if c { a } else { 0 }   →   if c { Σ(v in lo..hi) ∇x[0] += a }
//! ```
//!
//! (a branch that is zero, or no effect, needs no loop); a loop of effects that runs only where
//! `s != 0` with `s = if c { k } else { 0 }` runs under `if c`, and `(if c { k } else { 0 }) ·
//! Σ…` becomes `if c { k · Σ… } else { 0 }`. The gradient of a function that
//! returns early (`if z[0] > t { return 1.0; }`) or evaluates a loop under a condition only
//! sums over that loop's iterations where the condition holds: unswitched, its loop, and the
//! bounds the loop computes (`0..d - 1`), run only there, as the function's own loop does; at
//! `d = 0` the function returns before its loop, and so must the gradient.
//!
//! Selects left side by side on one condition, each adding nothing on the same side, become
//! one (`if c { A } if c { B }` → `if c { A; B }`): what `A` and `B` share (a local array's
//! adjoint vector, the array its routing reads) is then computed once, in one block.
//!
//! Justification (the dependency check): the select's condition does not change with `v`, so
//! it has one value over the whole loop, and each iteration adds what the taken branch gives
//! (the same additions, in the same order). The condition is evaluated before the loop, where
//! the sum stands: only a condition the function evaluates in every iteration of the loops it
//! changes with, even where other loops run zero times (`safe`), is taken there, so that
//! evaluating it cannot panic where the function does not. Only what float arithmetic,
//! comparisons, selects, sums, additions into gradients and a call's product by its seed read
//! is rebuilt: a recurrence's sweep, a local array's adjoint vector, a call and what they read
//! keep their nodes (the scheduler knows them by identity; rebuilding a sum a scan's adjoint
//! also reads gave a wrong gradient).

use std::collections::{HashMap, HashSet};

use crate::graph::{Cmp, Graph, NodeId, Op};

/// `roots` with every sum whose body selects on a `safe` condition that does not change with
/// the sum's loop unswitched, innermost first, and the selects this leaves side by side on one
/// condition merged ([`merge_adjacent`]). Returns what each root became.
pub fn unswitch(g: &mut Graph, roots: &[NodeId], safe: &HashSet<NodeId>) -> Vec<NodeId> {
    let mut roots = roots.to_vec();
    // The nodes unswitched: not again (a sum kept whole under the condition its body implies
    // is still in what it became, and its body still selects).
    let mut made = HashSet::new();
    // One level of nesting per round: an outer sum sees the select its inner sum became.
    loop {
        let mut map = HashMap::new();
        for n in rebuildable(g, &roots) {
            if made.contains(&n) {
                continue;
            }
            if let Some(to) = unswitched(g, n, safe) {
                map.insert(n, to);
                made.insert(n);
            }
        }
        if map.is_empty() {
            return roots.into_iter().map(|r| merge_adjacent(g, r)).collect();
        }
        let memo = g.substitute_all(&roots, &map);
        for r in &mut roots {
            *r = memo.get(r).copied().unwrap_or(*r);
        }
    }
}

/// The sums and products reachable from `roots` only through nodes that may be rebuilt (float
/// arithmetic and functions, comparisons, selects, sums, additions into gradients, a call's
/// vector-Jacobian product by its seed): none that a recurrence, a sweep, a local array or a
/// call reads as well, since rebuilding it would rebuild them.
fn rebuildable(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
    let through = |op: &Op| {
        matches!(
            op,
            Op::Add(..)
                | Op::Sub(..)
                | Op::Mul(..)
                | Op::Div(..)
                | Op::Neg(_)
                | Op::Unary(..)
                | Op::Binary(..)
                | Op::Powi(..)
                | Op::Clamp(..)
                | Op::MulAdd(..)
                | Op::Compare(..)
                | Op::Predicate(..)
                | Op::And(..)
                | Op::Or(..)
                | Op::Not(_)
                | Op::Select(..)
                | Op::Sum { .. }
                | Op::Scatter(..)
                | Op::Effects(..)
                | Op::CallVjp(..)
        )
    };
    let reached = g.reachable(roots);
    // What any other node reached reads, at any depth.
    let under_others: Vec<NodeId> = reached
        .iter()
        .filter(|n| !through(g.op(**n)))
        .flat_map(|n| g.op(*n).children())
        .collect();
    let blocked: HashSet<NodeId> = g.reachable(&under_others).into_iter().collect();
    reached
        .into_iter()
        .filter(|n| matches!(g.op(*n), Op::Sum { .. } | Op::Mul(..)) && !blocked.contains(n))
        .collect()
}

/// Node `n` unswitched: a sum whose body selects on a condition that does not change with its
/// loop, or a product of a select with a zero side and a loop (`if c { k } else { 0 } · Σ…`
/// → `if c { k · Σ… } else { 0 }`, the loop run only where its product is needed).
fn unswitched(g: &mut Graph, n: NodeId, safe: &HashSet<NodeId>) -> Option<NodeId> {
    match *g.op(n) {
        Op::Sum { v, lo, hi, body } => unswitched_sum(g, v, [lo, hi], body, safe),
        Op::Mul(x, y) => {
            let (sel, other) = if matches!(g.op(x), Op::Select(..)) {
                (x, y)
            } else {
                (y, x)
            };
            let Op::Select(c, a, b) = *g.op(sel) else {
                return None;
            };
            let a_loop = matches!(g.op(other), Op::Sum { .. } | Op::Fold { .. });
            let zero = |x: NodeId| g.as_const(x) == Some(0.0);
            if !a_loop || !(zero(a) || zero(b)) || !safe.contains(&c) {
                return None;
            }
            let times = |g: &mut Graph, k: NodeId| match g.as_const(k) {
                Some(0.0) => k,
                _ => g.add(Op::Mul(k, other)),
            };
            let a = times(g, a);
            let b = times(g, b);
            Some(g.select(c, a, b))
        }
        _ => None,
    }
}

/// Sum over loop `v` (bounds `lo..hi`) of `body` unswitched, if `body` selects (or adds into a
/// gradient a select) on a `safe` condition that does not change with `v`, or runs only where
/// such a condition holds (`if s != 0 { … }` with `s = if c { k } else { 0 }`), and does not
/// read the adjoint of a reverse sweep over `v` (such a sum runs in the sweep's loop).
fn unswitched_sum(
    g: &mut Graph,
    v: u32,
    [lo, hi]: [NodeId; 2],
    body: NodeId,
    safe: &HashSet<NodeId>,
) -> Option<NodeId> {
    let invariant = |g: &Graph, c: NodeId| g.loops_of(c) & (1 << v) == 0 && safe.contains(&c);
    // An addition of a select into a gradient is the select of additions (of nothing, for a
    // zero side).
    let (c, a, b) = match *g.op(body) {
        Op::Select(c, a, b) if invariant(g, c) => (c, a, b),
        Op::Scatter(k, i, value)
            if let Op::Select(c, a, b) = *g.op(value)
                && invariant(g, c) =>
        {
            let scatter = |g: &mut Graph, x: NodeId| match g.as_const(x) {
                Some(0.0) => g.add(Op::NoEffect),
                _ => g.add(Op::Scatter(k, i, x)),
            };
            (c, scatter(g, a), scatter(g, b))
        }
        Op::Select(..) | Op::Sum { .. } | Op::Scatter(..) | Op::Effects(..) => {
            let (c, holds) = only_where(g, body).filter(|(c, _)| invariant(g, *c))?;
            let none = if g.is_effect(body) {
                g.add(Op::NoEffect)
            } else {
                g.zero()
            };
            let (a, b) = if holds { (body, none) } else { (none, body) };
            (c, a, b)
        }
        _ => return None,
    };
    if reads_adjoint(g, body, v) {
        return None;
    }
    let sum = |g: &mut Graph, x: NodeId| match g.op(x) {
        Op::NoEffect => x,
        _ if g.as_const(x) == Some(0.0) => x,
        _ => g.add(Op::Sum { v, lo, hi, body: x }),
    };
    let a = sum(g, a);
    let b = sum(g, b);
    Some(g.select(c, a, b))
}

/// Effect `e` (a gradient's additions, a list of [`Op::Effects`]) with adjacent selects on
/// one condition, each adding nothing on the same side, made one select (`if c { A } if c { B
/// }` → `if c { A; B }`): unswitching the loops of one gradient one addition at a time would
/// otherwise run what they share (a local array's adjoint vector) once per addition. The same
/// additions in the same order: the condition is a value, which no addition changes. Not where
/// one addition would then be reached twice in one block (a node is one statement there).
fn merge_adjacent(g: &mut Graph, e: NodeId) -> NodeId {
    let parts = g.effect_parts(e);
    let key = |g: &Graph, p: NodeId| match *g.op(p) {
        Op::Select(c, a, b) if matches!(g.op(b), Op::NoEffect) => Some((c, true, a)),
        Op::Select(c, a, b) if matches!(g.op(a), Op::NoEffect) => Some((c, false, b)),
        _ => None,
    };
    let mut out: Vec<NodeId> = Vec::new();
    let mut i = 0;
    let mut changed = false;
    while i < parts.len() {
        let Some((c, then, _)) = key(g, parts[i]) else {
            out.push(parts[i]);
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < parts.len() && key(g, parts[j]).is_some_and(|(d, t, _)| d == c && t == then) {
            j += 1;
        }
        let inner: Vec<NodeId> = parts[i..j]
            .iter()
            .flat_map(|p| key(g, *p).map_or_else(Vec::new, |(.., x)| g.effect_parts(x)))
            .collect();
        let distinct: HashSet<NodeId> = inner.iter().copied().collect();
        let clash = distinct.len() != inner.len() || parts.iter().any(|p| distinct.contains(p));
        if j - i < 2 || clash || inner.is_empty() {
            out.extend_from_slice(&parts[i..j]);
        } else {
            let joined = g.effect_list(&inner);
            let none = g.add(Op::NoEffect);
            out.push(if then {
                g.select(c, joined, none)
            } else {
                g.select(c, none, joined)
            });
            changed = true;
        }
        i = j;
    }
    if changed { g.effect_list(&out) } else { e }
}

/// `(c, holds)` where `body` is nothing (no effect, or zero) wherever `c` is not `holds`: a
/// select whose other side is nothing, on `c` itself or on a condition that implies it
/// ([`implied`], preferred), an addition into a gradient of such a value, or a sum of such a
/// body whose `c` does not change with the sum's loop (`Σ(j) if λ != 0.0 { ∇x[j] += λ·s }` in a sweep seeded by `if c { k } else { 0 }`: the
/// outer loop around that sweep runs under `if c`), or effects in a row, each such.
fn only_where(g: &Graph, body: NodeId) -> Option<(NodeId, bool)> {
    let nothing = |x: NodeId| matches!(g.op(x), Op::NoEffect) || g.as_const(x) == Some(0.0);
    match *g.op(body) {
        Op::Select(k, _, other) if nothing(other) => implied(g, k).or(Some((k, true))),
        Op::Select(k, then, _) if nothing(then) => Some((k, false)),
        Op::Sum { v, body, .. } => {
            only_where(g, body).filter(|(c, _)| g.loops_of(*c) & (1 << v) == 0)
        }
        // An addition of nothing adds nothing.
        Op::Scatter(_, _, value) => only_where(g, value),
        // Effects in a row, each only where `c` is `holds` (a tangent's sweep adding into one
        // slice under `λ₂ != 0` and under `λ₃ != 0`).
        Op::Effects(..) => {
            one_condition(g.effect_parts(body).into_iter().map(|p| only_where(g, p)))
        }
        _ => None,
    }
}

/// A condition `k` holds only where `c` is `holds`: `s != 0` with `s` zero wherever `c` is not
/// `holds` ([`zero_unless`]), or a conjunction whose first operand is such.
fn implied(g: &Graph, k: NodeId) -> Option<(NodeId, bool)> {
    match *g.op(k) {
        Op::And(a, _) => implied(g, a),
        _ => zero_unless(g, tested_nonzero(g, k)?),
    }
}

/// `s` where the condition `k` is `s != 0` (or `0 != s`).
pub fn tested_nonzero(g: &Graph, k: NodeId) -> Option<NodeId> {
    match *g.op(k) {
        Op::Compare(Cmp::Ne, s, z) if g.as_const(z) == Some(0.0) => Some(s),
        Op::Compare(Cmp::Ne, z, s) if g.as_const(z) == Some(0.0) => Some(s),
        _ => None,
    }
}

/// `(c, holds)` where the value `s` is zero wherever `c` is not `holds`: `if c { a } else { 0 }`
/// (or `if c { 0 } else { b }`), a product with such a factor or a quotient of such a
/// numerator, sums and differences of such values on one condition, the adjoint `λ` of a
/// reverse sweep seeded with such a value whose step keeps a zero `λ` zero ([`keeps_zero`]:
/// every `λ` of the sweep is then zero, and so is the one it ends with), or an element of an
/// adjoint vector whose additions all run only there.
fn zero_unless(g: &Graph, s: NodeId) -> Option<(NodeId, bool)> {
    match *g.op(s) {
        // (On `λ != 0` itself, with `λ` zero unless `c`: zero unless `c`, the condition the
        // other parts of a sum are likelier to share.)
        Op::Select(c, a, b) => match (g.as_const(a), g.as_const(b)) {
            (_, Some(0.0)) => implied(g, c).or(Some((c, true))),
            (Some(0.0), _) => Some((c, false)),
            _ => None,
        },
        // A product with such a factor (`2 · (if d > 0 { d } else { 0 }) · x[j]`, the count of
        // a loop around a sum): zero there, or `0 · ∞` from a path the function does not take
        // there (the factor is an adjoint the select makes zero), which adds nothing either.
        Op::Mul(a, b) => zero_unless(g, a).or_else(|| zero_unless(g, b)),
        // Sums and differences of such values, on one condition (a sweep's seed `λ = (if c {
        // 0 } else { 1 }) + Σ(i) (if c { 0 } else { -z̄[i] })`, a log-sum-exp after a guard).
        Op::Add(a, b) | Op::Sub(a, b) => all_zero_unless(g, &[a, b]),
        // A quotient of such a numerator (`(if d > 0 { d } else { 0 }) / p`, the adjoint of
        // `p` in `Σ ln p` counted out of a loop), and a negation, the same way.
        Op::Div(a, _) | Op::Neg(a) => zero_unless(g, a),
        Op::Sum { v, body, .. } => {
            zero_unless(g, body).filter(|(c, _)| g.loops_of(*c) & (1 << v) == 0)
        }
        // An element of an adjoint vector every addition into which runs only where `c` is
        // `holds` (a local array built after `if x.len() < 2 { return 0.0; }`): the vector is
        // zeros elsewhere, and the loop routing it to the array's elements runs under `c`.
        Op::AdjAt(vector, _) => {
            let Op::Filled { fill, alloc } = *g.op(vector) else {
                return None;
            };
            // Not an array of a literal size (`[0.0; 3]`), whose routing cannot panic: its
            // loop under `if c` moves where its vector is filled (BA's Rodrigues rows would
            // fill theirs more than once).
            if let Op::Alloc { like, .. } = *g.op(alloc)
                && let Op::Table { lo, hi, .. } = *g.op(like)
                && g.as_int(lo).is_some()
                && g.as_int(hi).is_some()
            {
                return None;
            }
            only_where(g, fill)
        }
        Op::Adjoint { sweep, .. } => zero_unless(g, g.reverse_sweep_of(sweep)?),
        // The sweep's value (the `λ` it ends with, the adjoint of the recurrence's initial
        // value: a running maximum's `z[0]`) is zero there too.
        Op::RevFold {
            sweep, seed, step, ..
        } if keeps_zero(g, step, sweep..sweep + 1) => zero_unless(g, seed),
        // Coupled recurrences' sweep (a recurrence and its tangent, in `H·v`): every seed zero
        // unless `c`, and every step zero where every `λ` is.
        Op::RevCoupled { sweep, .. } => {
            let (seeds, steps) = g.coupled_parts(s)?;
            let k = u32::try_from(seeds.len()).ok()?;
            if !steps.iter().all(|st| keeps_zero(g, *st, sweep..sweep + k)) {
                return None;
            }
            all_zero_unless(g, seeds)
        }
        // The adjoint of a member's initial value, what coupled recurrences' sweep ends with.
        Op::Component(of, _) if matches!(g.op(of), Op::RevCoupled { .. }) => zero_unless(g, of),
        _ => None,
    }
}

/// `(c, holds)` where every value of `values` is zero wherever `c` is not `holds` (a literal
/// zero is zero everywhere), and one is not a literal zero.
fn all_zero_unless(g: &Graph, values: &[NodeId]) -> Option<(NodeId, bool)> {
    one_condition(
        values
            .iter()
            .filter(|x| g.as_const(**x) != Some(0.0))
            .map(|x| zero_unless(g, *x)),
    )
}

/// The one `(c, holds)` every item gives (none if one gives none, two differ, or there are
/// none).
fn one_condition(
    items: impl IntoIterator<Item = Option<(NodeId, bool)>>,
) -> Option<(NodeId, bool)> {
    let mut common = None;
    for only in items {
        let only = only?;
        if common.is_some_and(|c| c != only) {
            return None;
        }
        common = Some(only);
    }
    common
}

/// Whether `step`, a step of reverse sweep `sweeps` (one number, or one per member of coupled
/// recurrences), is zero where every `λ` of the sweep is: `λ`, `if s != 0 { … } else { 0 }`
/// with such an `s`, sums and differences of such (a coupled step reads several `λ`), or a
/// sweep nested in it seeded with such a value whose own step keeps its `λ` zero (a recurrence
/// in the body of another).
fn keeps_zero(g: &Graph, step: NodeId, sweeps: std::ops::Range<u32>) -> bool {
    let is_lambda =
        |l: NodeId| matches!(*g.op(l), Op::Adjoint { sweep: s, .. } if sweeps.contains(&s));
    match *g.op(step) {
        _ if is_lambda(step) => true,
        Op::Select(k, _, zero) if g.as_const(zero) == Some(0.0) => {
            tested_nonzero(g, k).is_some_and(|s| keeps_zero(g, s, sweeps))
        }
        Op::Add(a, b) | Op::Sub(a, b) => {
            keeps_zero(g, a, sweeps.clone()) && keeps_zero(g, b, sweeps.clone())
        }
        Op::Neg(a) => keeps_zero(g, a, sweeps),
        Op::RevFold {
            sweep: inner,
            seed,
            step,
            ..
        } => keeps_zero(g, seed, sweeps) && keeps_zero(g, step, inner..inner + 1),
        _ => g.as_const(step) == Some(0.0),
    }
}

/// Whether `root` reads the adjoint `λ` of a reverse sweep over loop `v`.
fn reads_adjoint(g: &Graph, root: NodeId, v: u32) -> bool {
    g.reachable(&[root])
        .iter()
        .any(|n| matches!(*g.op(*n), Op::Adjoint { v: w, .. } if w == v))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::attr::Args;
    use crate::graph::{Graph, NodeId, Op};
    use crate::testing::lower_fn;

    /// The effects of the gradient of `func` into its slice 0, outermost first: `S` a sum, `I`
    /// a select (an `if`), `A` an addition into the gradient.
    fn shape(func: proc_macro2::TokenStream) -> Vec<String> {
        let l = lower_fn(func, &Args::default());
        let mut g = l.graph.clone();
        let (_, effects) = crate::diff::gradient_with_slices(&mut g, l.output, &[], &[0])
            .expect("internal error: the test function differentiates");
        let mut parts = Vec::new();
        let mut stack: Vec<NodeId> = effects.into_iter().flatten().collect();
        while let Some(e) = stack.pop() {
            match *g.op(e) {
                Op::Effects(a, b) => stack.extend([b, a]),
                _ => parts.push(nest(&g, e)),
            }
        }
        parts.sort();
        parts
    }

    fn nest(g: &Graph, e: NodeId) -> String {
        match *g.op(e) {
            Op::Sum { body, .. } => format!("S{}", nest(g, body)),
            Op::Select(_, a, b) => {
                let side = if matches!(g.op(a), Op::NoEffect) {
                    b
                } else {
                    a
                };
                format!("I{}", nest(g, side))
            }
            Op::Scatter(..) => "A".to_string(),
            Op::Effects(a, b) => format!("({};{})", nest(g, a), nest(g, b)),
            _ => "?".to_string(),
        }
    }

    /// After an early `return`, the gradient's loops run under the `if` the function's does
    /// (`0..d - 1` is not computed where the function returns first).
    #[test]
    fn a_loop_after_an_early_return_runs_under_its_condition() {
        let parts = shape(quote! {
            fn f(d: usize, z: &[f64]) -> f64 {
                if z[0] > -0.69 { return 1.0; }
                let mut s = 0.0;
                for i in 0..d - 1 { s += z[0] * z[i]; }
                s
            }
        });
        // Both additions (`z[0]`'s and `z[i]`'s) under one `if`.
        assert_eq!(parts, ["I(SA;SA)"]);
    }

    /// A condition the function evaluates only in a loop that may not run stays in the loop:
    /// before it, `y[k]` would be read where the function does not read it.
    #[test]
    fn a_condition_read_only_in_the_loop_stays_in_it() {
        let parts = shape(quote! {
            fn f(z: &[f64], y: &[f64], k: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..z.len() {
                    if y[k] > 0.0 { s += z[i] * z[i]; }
                }
                s
            }
        });
        assert_eq!(parts, ["SIA"]);
    }

    /// The same condition read before the loop too: unswitched.
    #[test]
    fn a_condition_read_before_the_loop_is_taken_out_of_it() {
        let parts = shape(quote! {
            fn f(z: &[f64], y: &[f64], k: usize) -> f64 {
                let c = y[k] > 0.0;
                let mut s = if c { 1.0 } else { 0.0 };
                for i in 0..z.len() {
                    if c { s += z[i] * z[i]; }
                }
                s
            }
        });
        assert_eq!(parts, ["ISA"]);
    }

    /// A recurrence in a loop over `0..d - 1` inside a loop over `0..d` (counted: its sweep is
    /// seeded with `if d > 0 { d } else { 0 }`): the loop around the sweep, whose additions run
    /// where `λ != 0`, runs under `d > 0`, and so does its `d - 1`.
    #[test]
    fn a_loop_around_a_sweep_seeded_under_a_condition_runs_under_it() {
        let parts = shape(quote! {
            fn f(x: &[f64], n: usize, d: usize) -> f64 {
                let mut s = 0.0;
                for _i in 0..d {
                    for j in 0..d - 1 {
                        let mut p = 1.0;
                        for k in 0..n { p *= x[k * d + j]; }
                        s += p;
                    }
                }
                s
            }
        });
        assert_eq!(parts, ["ISSIA"]);
    }

    /// The same without a recurrence: the addition into `∇x[j]` is the count times `2·x[j]`,
    /// a product with `if d > 0 { d } else { 0 }`; its loop runs under `d > 0`, and adds
    /// without testing its value (the count is in the branch: `x[j]` varies with a loop that
    /// `d > 0` does not test).
    #[test]
    fn a_loop_adding_a_product_with_a_count_runs_under_its_condition() {
        let parts = shape(quote! {
            fn f(x: &[f64]) -> f64 {
                let d = x.len();
                let mut s = 0.0;
                for _i in 0..d {
                    for j in 0..d - 1 { s += x[j] * x[j]; }
                }
                s
            }
        });
        assert_eq!(parts, ["ISA"]);
    }

    /// A running maximum over a buffer after a guard clause: the buffer's routing loop reads
    /// its adjoint vector, filled by the maximum's sweep (seeded under the guard) and by the
    /// value that sweep ends with (`z̄[0]`); it runs under the guard.
    #[test]
    fn a_buffer_routed_after_a_running_max_runs_under_the_guard() {
        let parts = shape(quote! {
            fn f(x: &[f64]) -> f64 {
                if x.len() < 2 { return 0.0; }
                let n = x.len();
                let mut z = vec![0.0; n - 1];
                for i in 0..n - 1 { z[i] = x[i] * x[i + 1]; }
                let mut m = z[0];
                for i in 1..n - 1 { m = m.max(z[i]); }
                m
            }
        });
        assert_eq!(parts, ["I(SIA;SIA)"]);
    }
}
