//! Forward accumulation: the directional derivative of every node, `ṅ = Σ_c ∂n/∂c · ċ`.
//!
//! Given a tangent for each input (a node: a symbol for a Jacobian-vector product, `1` for one
//! column of a Jacobian) and, for each differentiated slice, the symbol of its tangent (read
//! element by element, `t[i]`), we visit the nodes reachable from the roots in topological
//! order (increasing `NodeId`) and build each one's tangent as a node of the same graph. A node
//! without a tangent has tangent zero, and nothing is built for it (the forward twin of the
//! reverse pass's activity).
//!
//! The local partial derivatives `∂n/∂c` are the reverse pass's ([`diff::local_adjoints`] with
//! adjoint 1), so each elementary rule is still written once. The structural operations have
//! their own arms below: a select's tangent is the select of its branches' tangents (only the
//! taken one is evaluated), a loop sum's is the sum of its body's, a call's is its partials'
//! combination. A recurrence (`Fold`, or `Coupled` state) would need a second recurrence carried
//! beside it, which is not built here: it is reported, and the caller falls back to the reverse
//! pass.

use std::collections::HashMap;

use crate::diff::{self, DiffError};
use crate::graph::{Graph, Kind, NodeId, Op, SymId};

/// The tangents of `roots`: `Σ_i ∂root/∂input_i · seed_i` for the `(input, seed)` pairs of
/// `inputs`, plus `Σ_j ∂root/∂x_k[j] · t_k[j]` for the `(k, t_k)` pairs of `slices` (`t_k` the
/// symbol of a data slice holding slice `k`'s tangent). `None` for a root whose tangent is zero.
pub fn tangents(
    g: &mut Graph,
    roots: &[NodeId],
    inputs: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
) -> Result<Vec<Option<NodeId>>, DiffError> {
    let mut dot: HashMap<NodeId, NodeId> = inputs.iter().copied().collect();
    for n in g.reachable(roots) {
        if dot.contains_key(&n) {
            continue;
        }
        if let Some(t) = tangent(g, n, &dot, slices)? {
            dot.insert(n, t);
        }
    }
    Ok(roots.iter().map(|r| dot.get(r).copied()).collect())
}

/// The tangent of node `n`, its children's (`dot`) being known; `None` for zero.
#[allow(clippy::too_many_lines)] // one exhaustive match, one arm per rule
fn tangent(
    g: &mut Graph,
    n: NodeId,
    dot: &HashMap<NodeId, NodeId>,
    slices: &[(u32, SymId)],
) -> Result<Option<NodeId>, DiffError> {
    let op = g.op(n).clone();
    Ok(match op {
        // Constants, data, integers, conditions: tangent zero. (An input without a seed is
        // held constant.)
        Op::Const(_)
        | Op::Input(_)
        | Op::Sym(..)
        | Op::Cast(_)
        | Op::StopGradient(..)
        | Op::IntConst(_)
        | Op::IntBin(..)
        | Op::IntNeg(_)
        | Op::IntCast(..)
        | Op::FloatToInt(..)
        | Op::Until { .. }
        | Op::BoolConst(_)
        | Op::Compare(..)
        | Op::Predicate(..)
        | Op::And(..)
        | Op::Or(..)
        | Op::Not(_)
        | Op::LoopVar(_)
        | Op::Index(..)
        | Op::IntIndex(..)
        | Op::Slice(_)
        // A recurrence's running value: its fold is checked below.
        | Op::Carry { .. }
        | Op::ArrayLen(_) => None,
        // A differentiated slice passed whole: only the call's own Jacobian-vector product could
        // carry its tangent, and functions have none.
        Op::SliceArg(k, _, _) => {
            if slices.iter().any(|(s, _)| *s == k) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "a differentiated slice passed to another function has no forward derivative".into(),
                    help: "internal: the reverse pass is used instead",
                });
            }
            None
        }
        // x[i]˙ = t[i]
        Op::Element(k, i) => slices
            .iter()
            .find(|(s, _)| *s == k)
            .map(|(_, t)| g.add(Op::Index(*t, i))),
        // (if c { a } else { b })˙ = if c { ȧ } else { ḃ }
        Op::Select(c, a, b) => match (dot.get(&a), dot.get(&b)) {
            (None, None) => None,
            (da, db) => {
                let zero = g.zero();
                Some(g.select(c, da.copied().unwrap_or(zero), db.copied().unwrap_or(zero)))
            }
        },
        // (Σᵢ f(i))˙ = Σᵢ ḟ(i)
        Op::Sum { v, lo, hi, body } => dot
            .get(&body)
            .map(|&db| g.add(Op::Sum { v, lo, hi, body: db })),
        // [f(0), …, f(n − 1)]˙ = [ḟ(0), …, ḟ(n − 1)]: a table of tangents
        Op::Table { v, lo, hi, body } => dot
            .get(&body)
            .map(|&db| g.add(Op::Table { v, lo, hi, body: db })),
        // z[i]˙ = ż[i]
        Op::At(table, i) => dot.get(&table).map(|&dt| g.add(Op::At(dt, i))),
        // An array added into in loops: its tangent would be a second vector added into
        // beside it. (A vector-valued function's Jacobian then takes the reverse pass.)
        Op::Alloc { .. } | Op::Filled { .. } | Op::Accumulate { .. } => {
            if op.children().iter().any(|c| dot.contains_key(c)) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "second derivatives through a local array added into in a loop (`h[k] += …` at an index other than the loop's, or in a nested loop) are not supported yet".into(),
                    help: "remove `hessian`, or write each element in a loop of its own (`for c in 0..n { h[c] = …; }`)",
                });
            }
            None
        }
        // f(a₁, …, aₘ)˙ = Σᵢ ∂f/∂aᵢ · ȧᵢ  (the partials from f's companion), and the same for
        // output k of a vector-valued call
        // (A differentiated slice among the arguments was reported at its `SliceArg`.)
        Op::Call(_, ref args) => combine(g, n, args, dot)?,
        Op::CallOutput(call, _) => {
            let Op::Call(_, args) = g.op(call).clone() else {
                return Ok(None);
            };
            combine(g, n, &args, dot)?
        }
        // A recurrence: its tangent is a second recurrence, `ṡ ← ∂body/∂s · ṡ + …`, run beside
        // the first: not expressible here. (Coupled recurrences alike: their tangents are `K`
        // more members.)
        Op::Fold { .. } | Op::Coupled { .. } | Op::Component(..) => {
            if op.children().iter().any(|c| dot.contains_key(c)) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "a loop recurrence has no forward derivative here".into(),
                    help: "internal: the reverse pass is used instead",
                });
            }
            None
        }
        // Second derivatives of calls, and the nodes only gradients have: not in a function's
        // value.
        Op::Partial(..)
        | Op::Partial2(..)
        | Op::Placeholder { .. }
        | Op::Adjoint { .. }
        | Op::RevFold { .. }
        | Op::RevCoupled { .. }
        | Op::Scatter(..)
        | Op::Effects(..)
        | Op::NoEffect
        | Op::CallVjp(..)
        | Op::AdjAt(..)
        | Op::ArrayVjp { .. }
        | Op::Seeds(_)
        | Op::Rebound { .. }
        | Op::VjpRows { .. } => {
            if op.children().iter().any(|c| dot.contains_key(c)) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "internal error: a derivative's node in a function's value".into(),
                    help: "please report this",
                });
            }
            None
        }
        // The elementary operations: ṅ = Σ_c ∂n/∂c · ċ, with the reverse pass's partials.
        Op::Neg(_)
        | Op::Add(..)
        | Op::Sub(..)
        | Op::Mul(..)
        | Op::Div(..)
        | Op::Unary(..)
        | Op::Powi(..)
        | Op::Binary(..)
        | Op::Clamp(..)
        | Op::MulAdd(..) => {
            if !op.children().iter().any(|c| dot.contains_key(c)) {
                return Ok(None);
            }
            let one = g.one();
            let mut total: Option<NodeId> = None;
            for (child, partial) in diff::local_adjoints(g, n, one)? {
                let Some(&dc) = dot.get(&child) else { continue };
                let term = g.mul(partial, dc);
                total = Some(match total {
                    Some(t) => g.plus(t, term),
                    None => term,
                });
            }
            total
        }
    })
}

/// `Σᵢ ∂n/∂aᵢ · ȧᵢ` over the float arguments `args` of the call behind `n` (a call, or one of a
/// vector-valued call's outputs) that have a tangent. A local array with a tangent, passed
/// whole, has no such partial (only the callee's vector-Jacobian product sees it): an error,
/// and the caller takes the reverse pass.
fn combine(
    g: &mut Graph,
    n: NodeId,
    args: &[NodeId],
    dot: &HashMap<NodeId, NodeId>,
) -> Result<Option<NodeId>, DiffError> {
    let mut total: Option<NodeId> = None;
    for (i, a) in args.iter().enumerate() {
        let Some(&da) = dot.get(a) else { continue };
        if g.kind(*a) != Kind::Float {
            return Err(DiffError {
                origin: g.node(n).origin,
                message: "a local array passed to another function has no forward derivative"
                    .into(),
                help: "internal: the reverse pass is used instead",
            });
        }
        let i = u32::try_from(i).expect("internal error: too many arguments");
        let d = g.add(Op::Partial(n, i));
        let term = g.mul(d, da);
        total = Some(match total {
            Some(t) => g.plus(t, term),
            None => term,
        });
    }
    Ok(total)
}
