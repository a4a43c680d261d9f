//! The derivatives of a vector-valued function `f: p ↦ [f₀, …, f_{M−1}]`: its Jacobian, its
//! vector-Jacobian product `sᵀJ` and its Jacobian-vector product `J·t`, as nodes of the graph.
//!
//! - The Jacobian is built in one of two modes, whichever makes less code to run: **reverse**,
//!   one reverse pass per output ([`diff`]: row `k` is `∇f_k`), or **forward**, one tangent pass
//!   per differentiated scalar ([`tangent`]: column `i` is `∂f/∂p_i`). Both share the forward
//!   computation of the outputs, and each other's common subexpressions, through the graph's
//!   interning. Forward mode needs every differentiated parameter to be a scalar (a slice has
//!   as many columns as elements, a number known only at run time) and no recurrence.
//! - `sᵀJ` is the gradient of the scalar `Σ_k s_k·f_k`: one reverse pass.
//! - `J·t` is one tangent pass; where there is none (a recurrence), each row `∇f_k` of the
//!   reverse Jacobian contracted with `t` as it is computed (the matrix is never stored).
//!
//! A slice's part of row `k` is an effect (`∇x[i] += …`); rows write to different vectors, so
//! row `k`'s scatters into slice `s` are renumbered to the sink [`row_sink`]`(k, s)`.

use crate::diff::{self, DiffError};
use crate::graph::{Graph, NodeId, Op, SymId};
use crate::tangent;

/// How the Jacobian is computed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// One reverse pass per output.
    Reverse,
    /// One tangent pass per differentiated scalar parameter.
    Forward,
    /// `J·t` only: the Jacobian computed (reverse mode), then contracted with `t`. For a body
    /// that passes a differentiated slice to another function, whose vector-Jacobian product
    /// is a call with no tangent twin.
    FromJacobian,
}

/// The Jacobian of the outputs with respect to the parameters.
pub struct Jacobian {
    pub mode: Mode,
    /// `entries[k][i]`: `∂f_k/∂p_i` for every float scalar parameter `p_i`, differentiated or
    /// not, in declaration order.
    pub entries: Vec<Vec<NodeId>>,
    /// `effects[k][s]`: for the `s`-th differentiated slice `x`, the effect `∇x += ∂f_k/∂x`
    /// (`None`: `f_k` does not depend on it).
    pub effects: Vec<Vec<Option<NodeId>>>,
    /// The same effects, writing to sink [`row_sink`]`(k, s)` instead of slice `s`.
    pub row_effects: Vec<Vec<Option<NodeId>>>,
}

/// The sink row `k`'s gradient of the `s`-th of `slices` differentiated slices accumulates in:
/// numbered after the slices themselves (which `_vjp` writes to).
pub fn row_sink(k: usize, s: usize, slices: usize) -> u32 {
    u32::try_from(slices * (k + 1) + s).expect("internal error: too many sinks")
}

/// The Jacobian of `outputs` with respect to the scalar `inputs` (all float scalar parameters)
/// and the differentiated `slices`, in the cheaper mode for the derivatives of the inputs
/// numbered `wrt` (the differentiated ones).
pub fn jacobian(
    g: &mut Graph,
    outputs: &[NodeId],
    inputs: &[NodeId],
    wrt: &[usize],
    slices: &[u32],
) -> Result<Jacobian, DiffError> {
    let reverse = reverse(g, outputs, inputs, slices)?;
    if !slices.is_empty() {
        return Ok(reverse);
    }
    let Ok(forward) = forward(g, outputs, inputs) else {
        return Ok(reverse);
    };
    let roots = |j: &Jacobian| -> Vec<NodeId> {
        j.entries
            .iter()
            .flat_map(|row| wrt.iter().map(|&i| row[i]))
            .collect()
    };
    let (r, f) = (roots(&reverse), roots(&forward));
    Ok(if cost(g, &f, outputs) < cost(g, &r, outputs) {
        forward
    } else {
        reverse
    })
}

/// Row `k` is the gradient of output `k`: one reverse pass per output.
fn reverse(
    g: &mut Graph,
    outputs: &[NodeId],
    inputs: &[NodeId],
    slices: &[u32],
) -> Result<Jacobian, DiffError> {
    let mut entries = Vec::with_capacity(outputs.len());
    let mut effects = Vec::with_capacity(outputs.len());
    let mut row_effects = Vec::with_capacity(outputs.len());
    for (k, &f) in outputs.iter().enumerate() {
        let (row, slice_effects) = diff::gradient_of_row(g, f, inputs, slices)?;
        let moved = to_row_sinks(g, &slice_effects, k, slices)?;
        entries.push(row);
        effects.push(slice_effects);
        row_effects.push(moved);
    }
    // (The rows' scalar entries read the local arrays' adjoints the merged calls fill.)
    let mut values: Vec<NodeId> = entries.iter().flatten().copied().collect();
    crate::vjp_rows::share(g, &mut row_effects, &mut values);
    for (row, merged) in entries.iter_mut().zip(values.chunks(inputs.len().max(1))) {
        row.copy_from_slice(merged);
    }
    Ok(Jacobian {
        mode: Mode::Reverse,
        entries,
        effects,
        row_effects,
    })
}

/// Row `k`'s effects on the slices, moved to its sinks ([`row_sink`]).
fn to_row_sinks(
    g: &mut Graph,
    slice_effects: &[Option<NodeId>],
    k: usize,
    slices: &[u32],
) -> Result<Vec<Option<NodeId>>, DiffError> {
    slice_effects
        .iter()
        .enumerate()
        .map(|(s, e)| {
            e.map(|e| {
                // (Slice `s`'s effect scatters into slice `s` only.)
                let n = slices.len();
                let sink = |slice| {
                    let at = slices.iter().position(|x| *x == slice).unwrap_or(s);
                    row_sink(k, at, n)
                };
                renamed(g, e, &sink)
            })
            .transpose()
        })
        .collect()
}

/// The hidden `__vjp_rows`' products: for each set of seeds `seeds[r]`, the effects adding
/// `Σ_k seeds[r][k]·∂f_k/∂x` into row `r`'s sinks ([`row_sink`]), one reverse pass per row,
/// all sharing the forward computation (and the calls two rows make, see `vjp_rows`).
pub fn seeded_rows(
    g: &mut Graph,
    outputs: &[NodeId],
    seeds: &[Vec<NodeId>],
    inputs: &[NodeId],
    slices: &[u32],
) -> Result<Vec<Vec<Option<NodeId>>>, DiffError> {
    let mut rows = Vec::with_capacity(seeds.len());
    for (r, seed) in seeds.iter().enumerate() {
        let mut total = g.zero();
        for (&f, &s) in outputs.iter().zip(seed) {
            let term = g.mul(s, f);
            total = g.plus(total, term);
        }
        let (_, slice_effects) = diff::gradient_of_row(g, total, inputs, slices)?;
        rows.push(to_row_sinks(g, &slice_effects, r, slices)?);
    }
    crate::vjp_rows::share(g, &mut rows, &mut []);
    Ok(rows)
}

/// Column `i` is the tangent of the outputs along input `i`: one tangent pass per input.
fn forward(g: &mut Graph, outputs: &[NodeId], inputs: &[NodeId]) -> Result<Jacobian, DiffError> {
    let one = g.one();
    let zero = g.zero();
    let mut entries = vec![Vec::with_capacity(inputs.len()); outputs.len()];
    for &input in inputs {
        let column = tangent::tangents(g, outputs, &[(input, one)], &[])?;
        for (row, d) in entries.iter_mut().zip(column) {
            row.push(d.unwrap_or(zero));
        }
    }
    Ok(Jacobian {
        mode: Mode::Forward,
        entries,
        effects: vec![Vec::new(); outputs.len()],
        row_effects: vec![Vec::new(); outputs.len()],
    })
}

/// What computing `roots` adds to computing `base`: its nodes, each weighted by the iterations
/// it runs for (1024 per enclosing loop, a stand-in for a loop's unknown length).
fn cost(g: &Graph, roots: &[NodeId], base: &[NodeId]) -> u64 {
    let shared = g.reachable(base);
    g.reachable(roots)
        .into_iter()
        .filter(|n| shared.binary_search(n).is_err())
        .map(|n| 1u64 << (10 * g.loops_of(n).count_ones().min(6)))
        .sum()
}

/// `sᵀJ`: the gradient of `Σ_k seeds[k]·outputs[k]` with respect to `inputs` and `slices`, in
/// one reverse pass (the seeds are symbols).
pub fn vjp(
    g: &mut Graph,
    outputs: &[NodeId],
    seeds: &[NodeId],
    inputs: &[NodeId],
    slices: &[u32],
) -> Result<(Vec<NodeId>, Vec<Option<NodeId>>), DiffError> {
    let mut total = g.zero();
    for (&f, &s) in outputs.iter().zip(seeds) {
        let term = g.mul(s, f);
        total = g.plus(total, term);
    }
    diff::gradient_with_slices(g, total, inputs, slices)
}

/// `J·t`, for `t` given by `(input, tangent)` pairs and, per differentiated slice number, the
/// symbol of its tangent (a data slice): one tangent pass, or where there is none, the rows of
/// the reverse Jacobian `jac` contracted with `t`.
pub fn jvp(
    g: &mut Graph,
    outputs: &[NodeId],
    inputs: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
    jac: &Jacobian,
    all_inputs: &[NodeId],
) -> Result<(Vec<NodeId>, Mode), DiffError> {
    let zero = g.zero();
    if let Ok(dots) = tangent::tangents(g, outputs, inputs, slices) {
        let dots = dots.into_iter().map(|d| d.unwrap_or(zero)).collect();
        return Ok((dots, Mode::Forward));
    }
    if jac.mode != Mode::Reverse {
        return Err(DiffError {
            origin: None,
            message: "internal error: no tangent and no reverse Jacobian".into(),
            help: "please report this",
        });
    }
    let effects: Vec<NodeId> = jac.effects.iter().flatten().flatten().copied().collect();
    if g.reachable(&effects)
        .iter()
        .any(|n| matches!(g.op(*n), Op::CallVjp(..)))
    {
        return Ok((Vec::new(), Mode::FromJacobian));
    }
    let mut out = Vec::with_capacity(outputs.len());
    for k in 0..outputs.len() {
        let mut total = zero;
        for &(input, t) in inputs {
            let Some(i) = all_inputs.iter().position(|x| *x == input) else {
                continue;
            };
            let term = g.mul(jac.entries[k][i], t);
            total = g.plus(total, term);
        }
        for (s, e) in jac.effects[k].iter().enumerate() {
            let Some(e) = e else { continue };
            let Some(&(_, t)) = slices.get(s) else {
                continue;
            };
            let term = contract(g, *e, t)?;
            total = g.plus(total, term);
        }
        out.push(total);
    }
    Ok((out, Mode::Reverse))
}

/// Effect `e` with its scatters moved to the sinks `sink(slice)`.
///
/// ```text
/// Σᵢ (if c { ∇x[i] += a }; ∇x[i + 1] += b)  →  Σᵢ (if c { ∇sink[i] += a }; ∇sink[i + 1] += b)
/// ```
///
/// The calls' products renamed to the same sinks share one block ([`one_block_per_sinks`]).
pub fn retarget(g: &mut Graph, e: NodeId, sink: &dyn Fn(u32) -> u32) -> Result<NodeId, DiffError> {
    let e = renamed(g, e, sink)?;
    Ok(one_block_per_sinks(g, e))
}

/// [`retarget`], each call's product in a block of its own (a Jacobian's rows: `vjp_rows`
/// merges one call's products across rows, block by block).
fn renamed(g: &mut Graph, e: NodeId, sink: &dyn Fn(u32) -> u32) -> Result<NodeId, DiffError> {
    Ok(match g.op(e).clone() {
        Op::Scatter(s, i, v) => g.add(Op::Scatter(sink(s), i, v)),
        Op::Effects(a, b) => {
            let (a, b) = (renamed(g, a, sink)?, renamed(g, b, sink)?);
            g.add(Op::Effects(a, b))
        }
        Op::Select(c, a, b) => {
            let (a, b) = (renamed(g, a, sink)?, renamed(g, b, sink)?);
            g.add(Op::Select(c, a, b))
        }
        Op::Sum { v, lo, hi, body } => {
            let body = renamed(g, body, sink)?;
            g.add(Op::Sum { v, lo, hi, body })
        }
        Op::NoEffect => e,
        // A called function's vector-Jacobian product writes where its slices' vectors are:
        // renamed to the sinks, around the call.
        Op::CallVjp(call, _) | Op::CallHvp(call, _) => {
            let call = match *g.op(call) {
                Op::CallJvp(inner, _) => g.called(inner),
                _ => call,
            };
            let Op::Call(_, args) = g.op(call).clone() else {
                return Err(not_an_effect());
            };
            let mut sinks = Vec::new();
            for a in args {
                if let Op::SliceArg(k, ..) = *g.op(a)
                    && !sinks.iter().any(|(from, _)| *from == k)
                {
                    sinks.push((k, sink(k)));
                }
            }
            g.add(Op::Rebound { effect: e, sinks })
        }
        _ => return Err(not_an_effect()),
    })
}

/// Effect `e` with the calls' products of each run of effects (one loop's body, one side of a
/// condition) that are renamed to the same sinks in one [`Op::Rebound`] block, where the first
/// of them was: a block computes what its products read, so two blocks would each compute it,
/// a `CallJvp`'s `__hvp` among them, once more. (The products move before the scatters between
/// them: additions into the same vectors, in another order.)
///
/// ```text
/// { ∇x → s; f::__vjp(…) }; ∇s[0] += a; { ∇x → s; f::__hvp(…) }
///   →  { ∇x → s; f::__vjp(…); f::__hvp(…) }; ∇s[0] += a
/// ```
fn one_block_per_sinks(g: &mut Graph, e: NodeId) -> NodeId {
    let mut run = Vec::new();
    in_order(g, e, &mut run);
    // The products of each set of sinks: its first one's place in the run, and their effects.
    let mut blocks: Vec<(crate::graph::SinkPairs, usize, Vec<NodeId>)> = Vec::new();
    for (at, n) in run.iter().enumerate() {
        if let Op::Rebound { effect, sinks } = g.op(*n) {
            match blocks.iter_mut().find(|(s, ..)| s == sinks) {
                Some((_, _, effects)) => effects.push(*effect),
                None => blocks.push((sinks.clone(), at, vec![*effect])),
            }
        }
    }
    let mut out: Vec<NodeId> = Vec::with_capacity(run.len());
    for (at, &n) in run.iter().enumerate() {
        let kept = match g.op(n).clone() {
            Op::Rebound { .. } => match blocks.iter().find(|(_, first, _)| *first == at) {
                Some((sinks, _, effects)) if effects.len() > 1 => {
                    let (sinks, effects) = (sinks.clone(), effects.clone());
                    let effect = in_sequence(g, &effects);
                    g.add(Op::Rebound { effect, sinks })
                }
                Some(_) => n,
                // (A later product of a block: in the block, at its first product's place.)
                None => continue,
            },
            Op::Select(c, a, b) => {
                let (a, b) = (one_block_per_sinks(g, a), one_block_per_sinks(g, b));
                g.add(Op::Select(c, a, b))
            }
            Op::Sum { v, lo, hi, body } => {
                let body = one_block_per_sinks(g, body);
                g.add(Op::Sum { v, lo, hi, body })
            }
            _ => n,
        };
        out.push(kept);
    }
    // (Nothing merged: the effect as it was, its order of additions kept.)
    if out == run {
        return e;
    }
    in_sequence(g, &out)
}

/// The effects `e` runs one after the other (its `Effects` flattened), in order.
fn in_order(g: &Graph, e: NodeId, out: &mut Vec<NodeId>) {
    match *g.op(e) {
        Op::Effects(a, b) => {
            in_order(g, a, out);
            in_order(g, b, out);
        }
        _ => out.push(e),
    }
}

/// `effects` one after the other (`NoEffect` for none).
fn in_sequence(g: &mut Graph, effects: &[NodeId]) -> NodeId {
    let Some((&first, rest)) = effects.split_first() else {
        return g.add(Op::NoEffect);
    };
    rest.iter()
        .fold(first, |all, &e| g.add(Op::Effects(all, e)))
}

/// The float `Σ value · t[i]` over the scatters `∇x[i] += value` of effect `e`: its
/// contraction with the tangent `t` of the slice it writes.
///
/// ```text
/// Σᵢ (if c { ∇x[i] += a }; ∇x[i + 1] += b)  →  Σᵢ (if c { a·t[i] } else { 0 } + b·t[i + 1])
/// ```
fn contract(g: &mut Graph, e: NodeId, t: SymId) -> Result<NodeId, DiffError> {
    Ok(match g.op(e).clone() {
        Op::Scatter(_, i, v) => {
            let ti = g.add(Op::Index(t, i));
            g.mul(v, ti)
        }
        Op::Effects(a, b) => {
            let (a, b) = (contract(g, a, t)?, contract(g, b, t)?);
            g.plus(a, b)
        }
        Op::Select(c, a, b) => {
            let (a, b) = (contract(g, a, t)?, contract(g, b, t)?);
            g.select(c, a, b)
        }
        Op::Sum { v, lo, hi, body } => {
            let body = contract(g, body, t)?;
            g.add(Op::Sum { v, lo, hi, body })
        }
        Op::NoEffect => g.zero(),
        _ => return Err(not_an_effect()),
    })
}

fn not_an_effect() -> DiffError {
    DiffError {
        origin: None,
        message: "internal error: a slice's gradient is not an effect".into(),
        help: "please report this",
    }
}

#[cfg(test)]
mod tests {
    use super::{Mode, forward, reverse};
    use crate::eval::Interpreter;
    use crate::graph::{Fun, Graph};

    /// A body with an early return and branches, lowered: both modes agree with each other and
    /// with central differences of the outputs, on both sides of the branch.
    #[test]
    fn both_modes_agree_through_branches() {
        let l = crate::testing::lower_fn(
            quote::quote! {
                fn f(x: f64, y: f64) -> [f64; 3] {
                    if x > y {
                        return [x * y, x.sin(), 1.0];
                    }
                    let d = if x < 0.0 { -x } else { x * x };
                    [y.exp() * d, (x - y).powi(3), x / y]
                }
            },
            &crate::attr::Args::default(),
        );
        let mut g = l.graph;
        let (outputs, inputs) = (l.outputs, l.inputs);
        let r = reverse(&mut g, &outputs, &inputs, &[]).expect("internal error: reverse mode");
        let f = forward(&mut g, &outputs, &inputs).expect("internal error: forward mode");
        for at in [[0.7, 0.2], [0.3, 1.1], [-0.4, 0.9]] {
            let mut it = Interpreter::new(&g, &at);
            for (k, &output) in outputs.iter().enumerate() {
                for i in 0..2 {
                    let (a, b) = (
                        it.eval(r.entries[k][i]).float(),
                        it.eval(f.entries[k][i]).float(),
                    );
                    let h = 1e-6;
                    let (mut up, mut down) = (at, at);
                    up[i] += h;
                    down[i] -= h;
                    let fd = (Interpreter::new(&g, &up).eval(output).float()
                        - Interpreter::new(&g, &down).eval(output).float())
                        / (2.0 * h);
                    assert!((a - b).abs() < 1e-14, "at {at:?}: J[{k}][{i}]: {a} vs {b}");
                    assert!((a - fd).abs() < 1e-6, "at {at:?}: J[{k}][{i}]: {a} vs {fd}");
                }
            }
        }
    }

    /// `f = [x·y, x + sin y]`: both modes give the textbook Jacobian.
    #[test]
    fn both_modes_give_the_jacobian() {
        for mode in [Mode::Reverse, Mode::Forward] {
            let mut g = Graph::with_rewrite(crate::simplify::rewrite);
            let x = g.new_input("x");
            let y = g.new_input("y");
            let xy = g.mul(x, y);
            let sy = g.unary(Fun::Sin, y);
            let s = g.plus(x, sy);
            let outputs = [xy, s];
            let j = match mode {
                Mode::Reverse | Mode::FromJacobian => reverse(&mut g, &outputs, &[x, y], &[]),
                Mode::Forward => forward(&mut g, &outputs, &[x, y]),
            }
            .expect("internal error: a Jacobian");
            assert_eq!(j.mode, mode);
            let (xv, yv) = (0.7, -1.3);
            let mut it = Interpreter::new(&g, &[xv, yv]);
            let want = [[yv, xv], [1.0, yv.cos()]];
            for (k, row) in want.iter().enumerate() {
                for (i, w) in row.iter().enumerate() {
                    let got = it.eval(j.entries[k][i]).float();
                    assert!(
                        (got - w).abs() < 1e-15,
                        "{mode:?}: J[{k}][{i}] = {got}, want {w}"
                    );
                }
            }
        }
    }
}
