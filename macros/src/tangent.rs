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
//! combination (or, given a differentiated slice, the callee's own directional derivative, a
//! `CallJvp`, and in second derivatives given a local array too, whose tangent is the array of
//! its elements'; in second derivatives, an output of a vector-valued call's always is one,
//! whose reverse needs the callee's second-order part). A recurrence (`Fold`, or `Coupled`
//! state) of `K` members gets `K` more carried beside it in the same loop, their tangents
//! ([`recurrence`]); a member carried as an array (a hidden-state vector) has an array of the
//! same length as its tangent, `ḣ[j]`, started from the initial array's tangent or zeros. A
//! scan's tangent (the values of a recurrence, `z[i] = f(z[i - 1])`) is a second scan over the
//! same loop, whose update reads the first's values ([`scan`]). The Jacobian's forward mode
//! ([`tangents`]) refuses those three, and takes
//! the reverse pass instead; second derivatives
//! ([`tangents_through_recurrences`]) use them.

use std::collections::HashMap;

use crate::diff::{self, DiffError};
use crate::graph::{Graph, Kind, LoopMask, NodeId, Op, SymId};

/// The tangents of `roots`: `Σ_i ∂root/∂input_i · seed_i` for the `(input, seed)` pairs of
/// `inputs`, plus `Σ_j ∂root/∂x_k[j] · t_k[j]` for the `(k, t_k)` pairs of `slices` (`t_k` the
/// symbol of a data slice holding slice `k`'s tangent). `None` for a root whose tangent is zero.
///
/// A recurrence the tangent flows through, or a call given a differentiated slice, is refused
/// (before anything is built): this is the Jacobian's forward mode, which then takes the
/// reverse pass instead. Second derivatives
/// call [`tangents_through_recurrences`].
pub fn tangents(
    g: &mut Graph,
    roots: &[NodeId],
    inputs: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
) -> Result<Vec<Option<NodeId>>, DiffError> {
    let mut active: std::collections::HashSet<NodeId> =
        inputs.iter().map(|(input, _)| *input).collect();
    for n in g.reachable(roots) {
        let op = g.op(n);
        let seeded = match op {
            Op::Element(k, _) | Op::SliceArg(k, ..) => slices.iter().any(|(s, _)| s == k),
            _ => op.children().iter().any(|c| active.contains(c)),
        };
        if !seeded {
            continue;
        }
        let sliced_call = match op {
            Op::Call(_, args) => args
                .iter()
                .any(|a| matches!(g.op(*a), Op::SliceArg(..)) && active.contains(a)),
            _ => false,
        };
        if sliced_call
            || matches!(
                op,
                Op::Fold { .. } | Op::Coupled { .. } | Op::Scanned { .. } | Op::CoupledScan { .. }
            )
        {
            return Err(DiffError {
                origin: g.node(n).origin,
                message: "a loop recurrence has no forward derivative here".into(),
                help: "internal: the reverse pass is used instead",
            });
        }
        active.insert(n);
    }
    directional(g, roots, inputs, slices, Mode::Jacobian)
}

/// What the tangents are for: the calls' rules differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A Jacobian's forward mode: an output of a vector-valued call through the partials of
    /// its `__jacobian`.
    Jacobian,
    /// Second derivatives, whose reverse pass needs the callee's second-order part: an
    /// output of a vector-valued call through its `__hvp` (a `CallJvp` of the output).
    Second,
}

/// [`tangents`], a recurrence's tangent carried beside it in its loop (`K` members become
/// `2K`).
pub fn tangents_through_recurrences(
    g: &mut Graph,
    roots: &[NodeId],
    inputs: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
) -> Result<Vec<Option<NodeId>>, DiffError> {
    directional(g, roots, inputs, slices, Mode::Second)
}

fn directional(
    g: &mut Graph,
    roots: &[NodeId],
    inputs: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
    mode: Mode,
) -> Result<Vec<Option<NodeId>>, DiffError> {
    let mut dot: HashMap<NodeId, NodeId> = inputs.iter().copied().collect();
    let mut shared: HashMap<NodeId, NodeId> = HashMap::new();
    for n in g.reachable(roots) {
        if dot.contains_key(&n) {
            continue;
        }
        if let Some(t) = tangent(g, n, &dot, slices, mode)? {
            dot.insert(n, t);
            // (Its initial values may read earlier recurrences: their own shared values.)
            if let Some(values) = values_beside(g, n, t) {
                let values = g.substitute(values, &shared);
                shared.insert(n, values);
            }
        }
    }
    Ok(roots
        .iter()
        .map(|r| {
            dot.get(r).map(|&t| {
                if shared.is_empty() {
                    t
                } else {
                    g.substitute(t, &shared)
                }
            })
        })
        .collect())
}

/// Where `t` is the tangent of recurrence `n` (carried beside its values, see [`recurrence`]),
/// the node standing for `n` among them: the same value, computed in the same loop. The
/// tangents read it instead of `n`, so that their loop is the only one (and a reverse pass over
/// them sweeps it alone, not `n`'s loop too).
///
/// ```text
/// Fold p               (the pair (p, ṗ), its tangent Component(pair, 1))  →  Component(pair, 0)
/// Coupled (m, s)       (the group (m, s, ṁ, ṡ))                           →  the group (its members k < K)
/// ```
fn values_beside(g: &mut Graph, n: NodeId, t: NodeId) -> Option<NodeId> {
    match (g.op(n), g.op(t)) {
        (Op::Fold { .. }, &Op::Component(pair, 1)) => Some(g.add(Op::Component(pair, 0))),
        (Op::Coupled { .. }, Op::Coupled { .. }) => Some(t),
        _ => None,
    }
}

/// The tangent of node `n`, its children's (`dot`) being known; `None` for zero.
#[allow(clippy::too_many_lines)] // one exhaustive match, one arm per rule
fn tangent(
    g: &mut Graph,
    n: NodeId,
    dot: &HashMap<NodeId, NodeId>,
    slices: &[(u32, SymId)],
    mode: Mode,
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
        | Op::DataRun(..)
        // A recurrence's running value: its fold is checked below.
        | Op::Carry { .. }
        | Op::ArrayLen(_) => None,
        // A differentiated slice passed whole, or a run of one: its tangent is the direction's
        // (a symbol), which the call's `CallJvp` reads (see `call`).
        Op::SliceArg(k, _, _) => slices
            .iter()
            .find(|(s, _)| *s == k)
            .map(|(_, t)| g.add(Op::Sym(*t, Kind::Other))),
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
        // A scan's elements are its recurrence's values: their tangents are the values of the
        // tangent recurrence, a second scan beside it (see `scan`).
        Op::Scanned {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } => scan(g, n, (c, v, lo, hi), (init, body), dot, (slices, mode))?,
        // An array added into in loops: its tangent would be a second vector added into
        // beside it. (A vector-valued function's Jacobian then takes the reverse pass.)
        Op::Alloc { .. } | Op::Filled { .. } | Op::Accumulate { .. } => {
            if op.children().iter().any(|c| dot.contains_key(c)) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "second derivatives through a local array added into in a loop (`h[k] += …` at an index other than the loop's, or in a nested loop) are not supported yet".into(),
                    help: "remove `hessian`, or write each element in a loop of its own, what was added into it summed in a float (`for c in 0..n { let mut s = 0.0; for k in 0..m { s += …; } h[c] = s; }`)",
                });
            }
            None
        }
        // f(a₁, …, aₘ)˙ = Σᵢ ∂f/∂aᵢ · ȧᵢ  (the partials from f's companion), and the same for
        // output k of a vector-valued call
        // (A differentiated slice among the arguments was reported at its `SliceArg`.)
        Op::Call(_, ref args) => call(g, n, args, dot, mode)?,
        // (in second derivatives, output k's own directional derivative, a `CallJvp` of
        // the output: the callee's hidden `__hvp`, see `call`)
        Op::CallOutput(call, _) => {
            let Op::Call(_, args) = g.op(call).clone() else {
                return Ok(None);
            };
            match mode {
                Mode::Jacobian => combine(g, n, &args, dot)?,
                Mode::Second => directional_call(g, n, &args, dot),
            }
        }
        // A recurrence: its tangent is a second recurrence carried beside it in the same loop,
        // `ṡ ← ∂body/∂s · ṡ + …`: `K` members become `2K` (see `recurrence`). The tangent of
        // a `Fold` is member 1 of the pair; of a `Coupled` group, the new group (a tuple),
        // whose member `K + k` is the tangent of member `k`.
        Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } => recurrence(g, n, (c, v, lo, hi), &[init], &[body], dot, (slices, mode))?
            .map(|pair| g.add(Op::Component(pair, 1))),
        Op::Coupled {
            c,
            v,
            lo,
            hi,
            ref parts,
        } => {
            let (inits, bodies) = parts.split_at(parts.len() / 2);
            recurrence(g, n, (c, v, lo, hi), inits, bodies, dot, (slices, mode))?
        }
        // A member's values after each iteration: the values of its tangent's member in the
        // tangent group (`K` members become `2K`; member `K + k` is member `k`'s tangent).
        Op::CoupledScan {
            c,
            v,
            k,
            lo,
            hi,
            ref parts,
        } => {
            let (inits, bodies) = parts.split_at(parts.len() / 2);
            let members = u32::try_from(inits.len()).map_err(|_| unsupported(g, n))?;
            match recurrence(g, n, (c, v, lo, hi), inits, bodies, dot, (slices, mode))? {
                Some(t) => match g.op(t).clone() {
                    Op::Coupled { c, parts, .. } => Some(g.add(Op::CoupledScan {
                        c,
                        v,
                        k: members + k,
                        lo,
                        hi,
                        parts,
                    })),
                    _ => return Err(unsupported(g, n)),
                },
                None => None,
            }
        }
        Op::Component(of, k) => match (dot.get(&of), g.coupled_parts(of)) {
            (Some(&t), Some((inits, _))) => {
                let members = u32::try_from(inits.len()).unwrap_or(0);
                Some(g.add(Op::Component(t, members + k)))
            }
            _ => None,
        },
        // Second derivatives of calls, and the nodes only gradients have: not in a function's
        // value.
        Op::Partial(..)
        | Op::Partial2(..)
        | Op::CallJvp(..)
        | Op::JvpPartial(..)
        | Op::CallHvp(..)
        | Op::Adjoint { .. }
        | Op::RevFold { .. }
        | Op::RevCoupled { .. }
        | Op::Scatter(..)
        | Op::Effects(..)
        | Op::NoEffect
        | Op::CallVjp(..)
        | Op::AdjAt(..)
        | Op::Cleared { .. }
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

/// The tangent of recurrences `n` over loop `v` (`c` its first recurrence number, `K` members:
/// `inits`, `bodies`): `2K` coupled members in one loop, the `K` values (their bodies reading
/// fresh carries) then their `K` tangents, `ṡⱼ ← Σₖ ∂bodyⱼ/∂sₖ · ṡₖ + (the rest of bodyⱼ's
/// tangent)`, from `ṡⱼ = initⱼ˙`. `None` when nothing but the state itself varies.
///
/// ```text
/// p = 1; for i { p = p * x[i] }        →   (p, ṗ) = (1, 0); for i { (p, ṗ) = (p * x[i], ṗ * x[i] + p * t[i]) }
/// ```
///
/// The values are computed again beside their tangents (the tangent's body reads them): a
/// recurrence's state at each iteration is not kept otherwise. The tangents' other readers of
/// the values read these too ([`values_beside`]), so the original loop does not run for them.
fn recurrence(
    g: &mut Graph,
    n: NodeId,
    (c, v, lo, hi): (u32, u32, NodeId, NodeId),
    inits: &[NodeId],
    bodies: &[NodeId],
    dot: &HashMap<NodeId, NodeId>,
    (slices, mode): (&[(u32, SymId)], Mode),
) -> Result<Option<NodeId>, DiffError> {
    let init_dots: Vec<Option<NodeId>> = inits.iter().map(|i| dot.get(i).copied()).collect();
    // The bodies' tangents with the state held constant (the pass so far): nothing varies
    // when neither they nor the initial values do.
    if init_dots.iter().all(Option::is_none) && bodies.iter().all(|b| !dot.contains_key(b)) {
        return Ok(None);
    }
    let members = u32::try_from(bodies.len()).map_err(|_| unsupported(g, n))?;
    let inside = g.reachable(bodies);
    // A recurrence nested in this one's body would be copied with its own number: not yet.
    if let Some(&inner) = inside.iter().find(|m| {
        matches!(
            g.op(**m),
            Op::Fold { .. } | Op::Coupled { .. } | Op::CoupledScan { .. }
        ) && g.loops_of(**m) & (1 << v) != 0
    }) {
        if g.carries_arrays(n) || g.carries_arrays(inner) {
            return Err(nested_arrays(g, n));
        }
        return Err(unsupported(g, n));
    }
    let fresh = g.new_recurrences(2 * members);
    let mut local = dot.clone();
    let mut values: HashMap<NodeId, NodeId> = HashMap::new();
    let mut varying = std::collections::HashSet::new();
    for &m in &inside {
        if let Op::Carry { c: d, v: w, mask } = *g.op(m)
            && w == v
            && (c..c + members).contains(&d)
        {
            let j = d - c;
            let (value, tangent) = carries_beside(g, m, (fresh + j, fresh + members + j), v, mask);
            values.insert(m, value);
            local.insert(m, tangent);
            varying.insert(m);
        }
    }
    retangent(g, &inside, varying, &mut local, (slices, mode))?;
    let mut parts: Vec<NodeId> = inits.to_vec();
    for (&init, d) in inits.iter().zip(&init_dots) {
        parts.push(match d {
            Some(d) => *d,
            None => zero_like(g, init)?,
        });
    }
    for &b in bodies {
        parts.push(g.substitute(b, &values));
    }
    for (&init, &b) in inits.iter().zip(bodies) {
        let d = match local.get(&b) {
            Some(&d) => d,
            None => zero_like(g, init)?,
        };
        parts.push(g.substitute(d, &values));
    }
    Ok(Some(g.add(Op::Coupled {
        c: fresh,
        v,
        lo,
        hi,
        parts,
    })))
}

/// The tangents of the nodes of a loop's body (`inside`, in topological order) that read the
/// state (`varying`, its carries, whose tangents `local` now holds) built again, replacing
/// those computed with the state held constant.
fn retangent(
    g: &mut Graph,
    inside: &[NodeId],
    mut varying: std::collections::HashSet<NodeId>,
    local: &mut HashMap<NodeId, NodeId>,
    (slices, mode): (&[(u32, SymId)], Mode),
) -> Result<(), DiffError> {
    for &m in inside {
        if varying.contains(&m) || !g.op(m).children().iter().any(|ch| varying.contains(ch)) {
            continue;
        }
        varying.insert(m);
        local.remove(&m);
        if let Some(t) = tangent(g, m, local, slices, mode)? {
            local.insert(m, t);
        }
    }
    Ok(())
}

/// The tangent of scan `n` (the values `S` of recurrence `c` over loop `v`, `s = init; for v
/// { s = body(s); S.push(s) }`): a second scan over the same loop, the tangent recurrence
/// `ṡ ← ∂body/∂s · ṡ + (the rest of body's tangent)` from `ṡ = init˙`, whose values are the
/// elements' tangents. Its body reads the state from `S` itself (the element the previous
/// iteration wrote, `init` before the first), so only the tangent is carried; the reverse pass
/// sweeps it back, then `S`, which it read. `None` when nothing but the state varies.
///
/// ```text
/// z[0] = 1; for i in 1..n { z[i] = z[i − 1] * x[i] }   S = Scanned(i ∈ 1..n, 1: s·x[i])
///                                                       Ṡ = Scanned(i ∈ 1..n, 0: ṡ·x[i] + P·t[i])
///                                                       P = if i == 1 { 1 } else { S[i − 1 − 1] }
/// ```
fn scan(
    g: &mut Graph,
    n: NodeId,
    (c, v, lo, hi): (u32, u32, NodeId, NodeId),
    (init, body): (NodeId, NodeId),
    dot: &HashMap<NodeId, NodeId>,
    (slices, mode): (&[(u32, SymId)], Mode),
) -> Result<Option<NodeId>, DiffError> {
    let init_dot = dot.get(&init).copied();
    if init_dot.is_none() && !dot.contains_key(&body) {
        return Ok(None);
    }
    let inside = g.reachable(&[body]);
    // A recurrence nested in the scan's body would be copied with its own number: not yet.
    if inside.iter().any(|m| {
        matches!(
            g.op(*m),
            Op::Fold { .. } | Op::Coupled { .. } | Op::Scanned { .. } | Op::CoupledScan { .. }
        ) && g.loops_of(*m) & (1 << v) != 0
    }) {
        return Err(unsupported(g, n));
    }
    let fresh = g.new_recurrences(1);
    let Some((previous, _)) = g.scan_elements(n) else {
        return Ok(None);
    };
    let mut local = dot.clone();
    let mut values: HashMap<NodeId, NodeId> = HashMap::new();
    let mut varying = std::collections::HashSet::new();
    for &m in &inside {
        if let Op::Carry { c: d, v: w, mask } = *g.op(m)
            && w == v
            && d == c
        {
            let t = g.add(Op::Carry { c: fresh, v, mask });
            values.insert(m, previous);
            local.insert(m, t);
            varying.insert(m);
        }
    }
    retangent(g, &inside, varying, &mut local, (slices, mode))?;
    let zero = g.zero();
    let body_dot = local.get(&body).copied().unwrap_or(zero);
    let body_dot = g.substitute(body_dot, &values);
    let init = init_dot.unwrap_or(zero);
    // (The recurrence first, as lowering adds a scan's: the reverse pass sweeps it back, and
    // its forward loop, saving the trace, then fills the values too.)
    g.add(Op::Fold {
        c: fresh,
        v,
        lo,
        hi,
        init,
        body: body_dot,
    });
    Ok(Some(g.add(Op::Scanned {
        c: fresh,
        v,
        lo,
        hi,
        init,
        body: body_dot,
    })))
}

/// The two carries standing for member `m` (a `Carry`) of a recurrence beside its tangent:
/// its value's (recurrence `value`) and its tangent's (recurrence `tangent`). A member carried
/// as an array (a hidden-state vector) has both of the array's length; its tangent is the
/// array of its elements' tangents, `ḣ[j]`.
fn carries_beside(
    g: &mut Graph,
    m: NodeId,
    (value, tangent): (u32, u32),
    v: u32,
    mask: LoopMask,
) -> (NodeId, NodeId) {
    if g.kind(m) == Kind::Array {
        let len = g.array_len(m);
        return (
            g.array_carry(value, v, mask, len),
            g.array_carry(tangent, v, mask, len),
        );
    }
    let value = g.add(Op::Carry { c: value, v, mask });
    let tangent = g.add(Op::Carry {
        c: tangent,
        v,
        mask,
    });
    (value, tangent)
}

/// Tangent zero for a member whose value is `like`: `0`, or for an array, the array of zeros
/// of its length (`vec![0.0; n]`, a table: not an adjoint's vector, which a reverse pass over
/// the tangents could not differentiate again).
fn zero_like(g: &mut Graph, like: NodeId) -> Result<NodeId, DiffError> {
    let zero = g.zero();
    if g.kind(like) != Kind::Array {
        return Ok(zero);
    }
    let len = g.array_len(like);
    let lo = g.int(0);
    let v = g.new_loop(lo, len).ok_or_else(|| DiffError {
        origin: g.node(like).origin,
        message: "too many loops in one function (128 at most)".into(),
        help: "split the function",
    })?;
    Ok(g.add(Op::Table {
        v,
        lo,
        hi: len,
        body: zero,
    }))
}

/// [`unsupported`], where one of the two recurrences carries an array (layers × time, the
/// state of every layer in one array): the rewrite a hidden state has.
fn nested_arrays(g: &Graph, n: NodeId) -> DiffError {
    DiffError {
        origin: g.node(n).origin,
        message: "second derivatives through an array carried across the iterations of a loop nested in another recurrence's loop (layers × time) are not supported yet".into(),
        help: "remove `hessian`, or write the layers out, one array each carried across this loop's iterations (`for i in 0..b { first[i] = …; } for i in 0..b { second[i] = … first[i] …; }`)",
    }
}

fn unsupported(g: &Graph, n: NodeId) -> DiffError {
    DiffError {
        origin: g.node(n).origin,
        message: "second derivatives through a loop recurrence nested in another recurrence's loop are not supported yet".into(),
        help: "remove `hessian`, or compute the inner loop in a function of its own with `#[differentiable(hessian)]`",
    }
}

/// The tangent of call `n`: through its partials ([`combine`]), or, when a differentiated
/// slice is among its arguments, its own directional derivative `CallJvp` (the callee's
/// hidden `__hvp`), given each argument's tangent: a float's (zero if none), a slice's
/// direction (`SliceArg`'s tangent, a symbol), the argument itself elsewhere.
fn call(
    g: &mut Graph,
    n: NodeId,
    args: &[NodeId],
    dot: &HashMap<NodeId, NodeId>,
    mode: Mode,
) -> Result<Option<NodeId>, DiffError> {
    // (In second derivatives, a call given a local array goes the same way, whose second
    // partials are not scalars: the array's tangent is the array of its elements' tangents,
    // the callee's direction there, zeros where it has none.)
    let sliced = args.iter().any(|a| {
        (matches!(g.op(*a), Op::SliceArg(..)) && dot.contains_key(a))
            || (mode == Mode::Second && g.kind(*a) == Kind::Array)
    });
    if !sliced {
        return combine(g, n, args, dot);
    }
    Ok(directional_call(g, n, args, dot))
}

/// `CallJvp(n, dots)`: the directional derivative of `n` (a call, or output `k` of a
/// vector-valued call) from the callee's hidden `__hvp`, along each argument's tangent (see
/// [`call`]); `None` where no argument has one.
fn directional_call(
    g: &mut Graph,
    n: NodeId,
    args: &[NodeId],
    dot: &HashMap<NodeId, NodeId>,
) -> Option<NodeId> {
    if !args.iter().any(|a| dot.contains_key(a)) {
        return None;
    }
    let zero = g.zero();
    let dots = args
        .iter()
        .map(|a| match dot.get(a) {
            Some(&d) => d,
            None if g.kind(*a) == Kind::Float => zero,
            None => *a,
        })
        .collect();
    Some(g.add(Op::CallJvp(n, dots)))
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
