//! Hessian-vector products: `H·v` for a scalar function, as nodes of the graph.
//!
//! Reverse over forward. The directional derivative of the output along `v`,
//! `ḟ = ∇f·v = Σᵢ ∂f/∂pᵢ·vᵢ + Σⱼ ∂f/∂x[j]·v_x[j]`, is a scalar graph built by the tangent pass
//! ([`tangent`]: a slice's tangent read element by element, `v.x[j]`); its gradient with respect
//! to the parameters is `∇(∇f·v) = H·v` (`v` is a constant), one reverse pass ([`diff`]) over it.
//! Both passes cost a small constant times the function, so `H·v` costs a small constant times
//! the gradient, whatever the number of parameters.
//!
//! ```text
//! f = Σᵢ (w·x[i])²                 ḟ = Σᵢ 2·(w·x[i])·(v.w·x[i] + w·v.x[i])
//! (H·v).w    = Σᵢ 2·x[i]·(v.w·x[i] + w·v.x[i]) + 2·(w·x[i])·v.x[i]
//! (H·v).x[i] = 2·w·(v.w·x[i] + w·v.x[i]) + 2·(w·x[i])·v.w
//! ```
//!
//! A slice's part of `H·v` is an effect (`∇x[i] += …`), moved to the sink numbered after the
//! gradient's own ([`hv_sink`]) so that one function can fill both.
//!
//! A call of another differentiable function goes through its partials (the tangent,
//! `Σᵢ ∂f/∂aᵢ·ȧᵢ`) and their reverse, its second partials `∂²f/∂aᵢ∂aⱼ` (the `Partial2` nodes a
//! callee with `hessian` computes in its hidden `__partials2`). A call given a differentiated
//! slice goes through the callee's hidden `__hvp` ([`CallHvp`]): its directional derivative
//! along the caller's tangents (`CallJvp`), whose reverse is `H·ȧ` (`JvpPartial` for the float
//! arguments, a `CallHvp` effect for the slices). An output `y_k` of a vector-valued call goes
//! the same way, output by output: its tangent `ẏ_k` is a `CallJvp` of the output (the
//! callee's hidden `__hvp_outputs` seeded at `k`, [`vector_call_hvp`]; the callee needs
//! `hessian`), whose reverse is `λ_k·H_k·ȧ`: the float arguments' part per output, the slices'
//! in one `CallHvp` per call seeded with every output's `λ_k`. A loop recurrence's tangent is carried beside it in its loop,
//! and the reverse pass sweeps both back.
//!
//! A call given a local array built from expressions (`let z = [a·b, a + b]; f(&z, w)`) goes
//! the same way as one given a differentiated slice: the array's tangent `ż` (the array of its
//! elements' tangents) is the callee's direction there, and the reverse of `CallJvp` adds
//! `λ·(H·ż)_z` into the array's adjoint (the callee's `__hvp` with the adjoint vector as the
//! sink, an `ArrayVjp` of the `CallJvp`) and `λ·∇_z f` into its tangent's (the call's
//! `__vjp`), each flowing on to the elements as a first-order product does.
//!
//! Where the tangent pass has no rule, the product is refused at the user's tokens: a call
//! given another local array (added into, chosen by a condition), and a recurrence nested in
//! another recurrence's loop.

use crate::diff::{self, DiffError};
use crate::graph::{Graph, Kind, NodeId, Op, SymId};
use crate::jacobian;
use crate::tangent;

/// `H·v`, as nodes: for every differentiated scalar (in order), `(H·v)ᵢ`; for every
/// differentiated slice `k`, the effect `∇sink[j] += (H·v)_x[j]` into sink [`hv_sink`]`(k)`.
pub struct Hvp {
    pub scalars: Vec<NodeId>,
    pub effects: Vec<Option<NodeId>>,
}

/// The sink slice `k`'s part of `H·v` accumulates in, among `slices` differentiated slices:
/// after the gradient's (which are the slices' own numbers).
pub fn hv_sink(k: u32, slices: usize) -> u32 {
    u32::try_from(slices).expect("internal error: too many slices") + k
}

/// `H·v` of `output` with respect to the differentiated scalars `wrt` and the differentiated
/// slices `slices`, along the tangent given by `(input, v_input)` pairs (symbols) and, per
/// slice, the symbol of its tangent (a data slice).
pub fn hvp(
    g: &mut Graph,
    output: NodeId,
    tangents: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
) -> Result<Hvp, DiffError> {
    let wrt: Vec<NodeId> = tangents.iter().map(|(input, _)| *input).collect();
    let numbers: Vec<u32> = slices.iter().map(|(k, _)| *k).collect();
    refuse_what_has_no_tangent(g, output, &wrt, &numbers)?;
    let directional = tangent::tangents_through_recurrences(g, &[output], tangents, slices)?;
    let Some(fdot) = directional.first().copied().flatten() else {
        // The value does not depend on the parameters: `H = 0`.
        let zero = g.zero();
        return Ok(Hvp {
            scalars: vec![zero; wrt.len()],
            effects: vec![None; slices.len()],
        });
    };
    // (Its slices' effects move to their own sinks afterwards: as a Jacobian row's, a call's
    // product into a local array's adjoint writes nothing else.)
    let (scalars, effects) = diff::gradient_of_row(g, fdot, &wrt, &numbers)?;
    let n = numbers.len();
    let effects = effects
        .into_iter()
        .map(|e| {
            e.map(|e| {
                jacobian::retarget(g, e, &|k| {
                    let at = numbers.iter().position(|s| *s == k).unwrap_or(0);
                    hv_sink(u32::try_from(at).unwrap_or(0), n)
                })
            })
            .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hvp { scalars, effects })
}

/// What a function's hidden `__hvp` computes, for a caller whose Hessian goes through a call
/// giving it a differentiated slice: along a tangent `t` of every float parameter and of every
/// differentiated slice, the directional derivative `ḟ = ∇f·t` (`value`), and, times the
/// caller's `seed`, its gradient `seed·H·t`: one scalar per float parameter (`scalars`), an
/// effect `∇x += …` per differentiated slice (`effects`, in the slices' own sinks).
pub struct CallHvp {
    pub value: NodeId,
    pub scalars: Vec<NodeId>,
    pub effects: Vec<Option<NodeId>>,
}

impl CallHvp {
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots = vec![self.value];
        roots.extend(&self.scalars);
        roots.extend(self.effects.iter().flatten());
        roots
    }
}

/// [`CallHvp`] of `output` along `tangents` (`(input, symbol)` for every float input) and
/// `slices` (`(k, symbol)` for every differentiated slice), seeded with `seed`.
pub fn call_hvp(
    g: &mut Graph,
    output: NodeId,
    tangents: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
    seed: NodeId,
) -> Result<CallHvp, DiffError> {
    let inputs: Vec<NodeId> = tangents.iter().map(|(input, _)| *input).collect();
    let numbers: Vec<u32> = slices.iter().map(|(k, _)| *k).collect();
    refuse_what_has_no_tangent(g, output, &inputs, &numbers)?;
    let directional = tangent::tangents_through_recurrences(g, &[output], tangents, slices)?;
    let Some(value) = directional.first().copied().flatten() else {
        let zero = g.zero();
        return Ok(CallHvp {
            value: zero,
            scalars: vec![zero; inputs.len()],
            effects: vec![None; slices.len()],
        });
    };
    let (scalars, effects) = diff::gradient_seeded(g, value, seed, &inputs, &numbers)?;
    Ok(CallHvp {
        value,
        scalars,
        effects,
    })
}

/// What a vector-valued function's hidden `__hvp` computes, for a caller whose Hessian goes
/// through one of its outputs: along a tangent `t` of every float parameter and every
/// differentiated slice, every output's directional derivative `ẏ_k = ∇f_k·t` (`values`),
/// and the gradient of `Σ_k seed_k·ẏ_k`, `Σ_k seed_k·H_k·t` (`scalars` per float parameter,
/// `effects` per differentiated slice).
///
/// ```text
/// f = [a·b, a²]:  ẏ = [ȧ·b + a·ḃ, 2a·ȧ];  Σ seed_k·H_k·t = (seed₀·ḃ + 2·seed₁·ȧ, seed₀·ȧ)
/// ```
pub struct VectorCallHvp {
    pub values: Vec<NodeId>,
    pub scalars: Vec<NodeId>,
    pub effects: Vec<Option<NodeId>>,
}

impl VectorCallHvp {
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots = self.values.clone();
        roots.extend(&self.scalars);
        roots.extend(self.effects.iter().flatten());
        roots
    }
}

/// [`VectorCallHvp`] of `outputs` along `tangents` (`(input, symbol)` for every float input)
/// and `slices` (`(k, symbol)` for every differentiated slice), seeded with `seeds` (one per
/// output).
pub fn vector_call_hvp(
    g: &mut Graph,
    outputs: &[NodeId],
    tangents: &[(NodeId, NodeId)],
    slices: &[(u32, SymId)],
    seeds: &[NodeId],
) -> Result<VectorCallHvp, DiffError> {
    let inputs: Vec<NodeId> = tangents.iter().map(|(input, _)| *input).collect();
    let numbers: Vec<u32> = slices.iter().map(|(k, _)| *k).collect();
    for &y in outputs {
        refuse_what_has_no_tangent(g, y, &inputs, &numbers)?;
    }
    let directional = tangent::tangents_through_recurrences(g, outputs, tangents, slices)?;
    let zero = g.zero();
    let values: Vec<NodeId> = directional.iter().map(|d| d.unwrap_or(zero)).collect();
    // `Σ_k seed_k·ẏ_k`, whose gradient is `Σ_k seed_k·H_k·t` (the seeds are constants).
    let mut total: Option<NodeId> = None;
    for (d, s) in directional.iter().zip(seeds) {
        let Some(d) = *d else { continue };
        let term = g.mul(*s, d);
        total = Some(match total {
            Some(t) => g.plus(t, term),
            None => term,
        });
    }
    let Some(total) = total else {
        return Ok(VectorCallHvp {
            values,
            scalars: vec![zero; inputs.len()],
            effects: vec![None; slices.len()],
        });
    };
    let one = g.one();
    let (scalars, effects) = diff::gradient_seeded(g, total, one, &inputs, &numbers)?;
    Ok(VectorCallHvp {
        values,
        scalars,
        effects,
    })
}

/// The Hessian of `output` over the scalars `wrt`, column by column, forward over reverse:
/// column `j` is the gradient of the tangent along `wrt[j]`. Where reverse over reverse has no
/// rule (a loop recurrence, whose reverse sweep is not differentiated again), this is the
/// symbolic Hessian; `(H + Hᵀ)/2`, so it is symmetric to the last bit.
pub fn hessian_by_columns(
    g: &mut Graph,
    output: NodeId,
    wrt: &[NodeId],
) -> Result<Vec<Vec<NodeId>>, DiffError> {
    refuse_what_has_no_tangent(g, output, wrt, &[])?;
    let (one, zero) = (g.one(), g.zero());
    let mut columns = Vec::with_capacity(wrt.len());
    for &input in wrt {
        let directional =
            tangent::tangents_through_recurrences(g, &[output], &[(input, one)], &[])?;
        columns.push(match directional.first().copied().flatten() {
            Some(d) => diff::gradient(g, d, wrt)?,
            None => vec![zero; wrt.len()],
        });
    }
    let half = g.constant(0.5);
    let mut rows = columns.clone();
    for i in 0..wrt.len() {
        for j in 0..i {
            let sum = g.plus(columns[i][j], columns[j][i]);
            let mean = g.mul(half, sum);
            rows[i][j] = mean;
            rows[j][i] = mean;
        }
    }
    Ok(rows)
}

/// The nodes the value depends on the parameters through that have no tangent rule, reported
/// at the user's tokens: a call given a local array that is not built from expressions.
fn refuse_what_has_no_tangent(
    g: &Graph,
    output: NodeId,
    wrt: &[NodeId],
    slices: &[u32],
) -> Result<(), DiffError> {
    let order = g.reachable(&[output]);
    let active = diff::activity(g, &order, wrt, slices);
    for &n in &order {
        if !active[n.index()] {
            continue;
        }
        // A call: through its partials (the tangent) and its second partials (their reverse),
        // from its hidden `__partials2`; given a differentiated slice, through its hidden
        // `__hvp` (a vector-valued callee's `__hvp_outputs`); given a local array built from
        // expressions (`[e0, e1]`, or written element by element in a loop of its own), the
        // same way, its tangent the array of its elements' tangents (a scan's: the tangent
        // scan beside it); not yet any other local array (carried across a loop's
        // iterations, or another call's result).
        if let Op::Call(_, args) = g.op(n) {
            let other = |a: &NodeId| {
                active[a.index()]
                    && g.kind(*a) == Kind::Array
                    && !matches!(
                        g.op(*a),
                        Op::Table { .. } | Op::Scanned { .. } | Op::CoupledScan { .. }
                    )
            };
            if args.iter().any(other) {
                return Err(DiffError {
                    origin: g.node(n).origin,
                    message: "second derivatives through a call given this local array (added into, `h[k] += …`, or carried across a loop) are not supported yet".into(),
                    help: "remove `hessian`, or build the array from expressions (`[e0, e1]`, or `z[c] = …` in a loop of its own), or pass the elements the called function needs as scalars (`z[0]`, `z[i]`)",
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{hv_sink, hvp};
    use crate::eval::Interpreter;
    use crate::graph::{Fun, Graph, Op};

    /// `f = sin(x·y) + x³`: `H·v` equals the textbook Hessian times `v`, exactly.
    #[test]
    fn scalar_hvp_is_the_hessian_times_v() {
        let mut g = Graph::with_rewrite(crate::simplify::rewrite);
        let x = g.new_input("x");
        let y = g.new_input("y");
        let vx = g.new_input("vx");
        let vy = g.new_input("vy");
        let xy = g.mul(x, y);
        let s = g.unary(Fun::Sin, xy);
        let three = g.int(3);
        let cube = g.add(Op::Powi(x, three));
        let f = g.plus(s, cube);
        let h = hvp(&mut g, f, &[(x, vx), (y, vy)], &[]).expect("internal error: an hvp");
        let (xv, yv, a, b) = (0.7, -1.3, 0.4, 2.5);
        let mut it = Interpreter::new(&g, &[xv, yv, a, b]);
        let (sn, cs) = ((xv * yv).sin(), (xv * yv).cos());
        let hxx = -yv * yv * sn + 6.0 * xv;
        let hxy = cs - xv * yv * sn;
        let hyy = -xv * xv * sn;
        let want = [hxx * a + hxy * b, hxy * a + hyy * b];
        for (i, w) in want.iter().enumerate() {
            let got = it.eval(h.scalars[i]).float();
            assert!((got - w).abs() < 1e-13, "(H·v)[{i}] = {got}, want {w}");
        }
    }

    /// `f = g(x·y)·x` for a called `g`: `H·v` through the call's partial `g'` and second
    /// partial `g''` (the nodes a callee's `__partials2` supplies), checked with those replaced
    /// by numbers against the Hessian derived by hand.
    #[test]
    fn a_call_goes_through_its_second_partials() {
        let mut g = Graph::with_rewrite(crate::simplify::rewrite);
        let x = g.new_input("x");
        let y = g.new_input("y");
        let vx = g.new_input("vx");
        let vy = g.new_input("vy");
        let f_sym = g.new_symbol("g");
        let xy = g.mul(x, y);
        let call = g.add(Op::Call(f_sym, vec![xy]));
        let f = g.mul(call, x);
        let h = hvp(&mut g, f, &[(x, vx), (y, vy)], &[]).expect("internal error: an hvp");
        // g(u) = u³ at u = x·y: g = u³, g' = 3u², g'' = 6u.
        let (xv, yv, a, b) = (0.7, -1.3, 0.4, 2.5);
        let u: f64 = xv * yv;
        let (g0, g1, g2) = (u.powi(3), 3.0 * u * u, 6.0 * u);
        let d1 = g.add(Op::Partial(call, 0));
        let d2 = g.add(Op::Partial2(call, 0, 0));
        let numbers = [(call, g0), (d1, g1), (d2, g2)];
        let map: std::collections::HashMap<_, _> =
            numbers.iter().map(|&(n, v)| (n, g.constant(v))).collect();
        let got: Vec<_> = h.scalars.iter().map(|&s| g.substitute(s, &map)).collect();
        let mut it = Interpreter::new(&g, &[xv, yv, a, b]);
        // f = x⁴y³: f_xx = 12x²y³, f_xy = 12x³y², f_yy = 6x⁴y.
        let hxx = 12.0 * xv * xv * yv.powi(3);
        let hxy = 12.0 * xv.powi(3) * yv * yv;
        let hyy = 6.0 * xv.powi(4) * yv;
        let want = [hxx * a + hxy * b, hxy * a + hyy * b];
        for (i, w) in want.iter().enumerate() {
            let v = it.eval(got[i]).float();
            assert!((v - w).abs() < 1e-12, "(H·v)[{i}] = {v}, want {w}");
        }
    }

    #[test]
    fn the_hv_sinks_follow_the_gradient_sinks() {
        assert_eq!(hv_sink(0, 2), 2);
        assert_eq!(hv_sink(1, 2), 3);
    }
}
