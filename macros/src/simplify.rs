//! Simplification: named rewrite rules, applied as each node is built ([`Graph::add`]).
//!
//! Each rule looks at one operation whose children are already simplified and either returns an
//! equivalent node or declines. The table [`RULES`] is data: its order is the order rules are
//! tried. Every rule has a one-line `input => expected` test at the bottom of this file.
//!
//! Rules are exact in IEEE arithmetic for finite values, with two deliberate exceptions that
//! reverse accumulation needs: `0 · x → 0` (a zero adjoint stays zero even where a local
//! derivative is infinite) and pushing a product into the branches of a `Select` (the untaken
//! branch of an `if` contributes nothing, never `0 · NaN`). Reassociation is only done with
//! powers of two, where it is exact. As with LLVM's `nsz` flag, the sign of a zero is not kept
//! (`0 · x` is `+0` even for a negative `x`); only `atan2` on its branch cut, where it has no
//! derivative, and `1 / ±0` can tell.

use crate::eval;
use crate::graph::{Cmp, Graph, IntOp, Kind, NodeId, Op};

type Rule = fn(&mut Graph, &Op) -> Option<NodeId>;

/// The rules, in the order they are tried.
pub const RULES: &[(&str, Rule)] = &[
    ("fold-constants", fold_constants),
    ("select-known-condition", select_known_condition),
    ("select-same-branches", select_same_branches),
    ("select-not-condition", select_not_condition),
    ("select-nested-same-condition", select_nested_same_condition),
    ("select-of-booleans", select_of_booleans),
    ("add-zero", add_zero),
    ("add-self", add_self),
    ("sub-zero", sub_zero),
    ("sub-self", sub_self),
    ("mul-zero", mul_zero),
    ("mul-one", mul_one),
    ("mul-minus-one", mul_minus_one),
    ("div-one", div_one),
    ("zero-div", zero_div),
    ("neg-neg", neg_neg),
    ("neg-sub", neg_sub),
    ("neg-of-scaled", neg_of_scaled),
    ("add-neg", add_neg),
    ("add-negatively-scaled", add_negatively_scaled),
    ("sub-neg", sub_neg),
    ("mul-neg", mul_neg),
    ("div-neg", div_neg),
    ("mul-leaf-before-compound", mul_leaf_before_compound),
    ("mul-canonical-order", mul_canonical_order),
    ("mul-power-of-two-constants", mul_power_of_two_constants),
    (
        "mul-power-of-two-into-left-scaled",
        mul_power_of_two_into_left_scaled,
    ),
    (
        "mul-power-of-two-into-scaled-factor",
        mul_power_of_two_into_scaled_factor,
    ),
    ("mul-into-select", mul_into_select),
    ("div-into-select", div_into_select),
    ("neg-into-select", neg_into_select),
    ("add-selects", add_selects),
    ("powi-zero-one", powi_zero_one),
    ("sum-of-invariant", sum_of_invariant),
    ("sum-of-invariantly-guarded", sum_of_invariantly_guarded),
    ("invariant-factor-out-of-sum", invariant_factor_out_of_sum),
    ("unguard-finite-factor", unguard_finite_factor),
    ("at-of-constant-table", at_of_constant_table),
    ("at-of-one-element-write", at_of_one_element_write),
    ("int-identities", int_identities),
    ("bool-identities", bool_identities),
];

/// Tries every rule in order; `Some` with the equivalent node if one applies.
pub fn rewrite(g: &mut Graph, op: &Op) -> Option<NodeId> {
    RULES.iter().find_map(|(_, rule)| rule(g, op))
}

fn is_zero(g: &Graph, n: NodeId) -> bool {
    g.as_const(n) == Some(0.0)
}

fn is_one(g: &Graph, n: NodeId) -> bool {
    g.is_const(n, 1.0)
}

fn is_power_of_two(v: f64) -> bool {
    v != 0.0 && v.is_finite() && v.abs().log2().fract() == 0.0
}

/// `2.0 * 3.0 => 6.0`: an operation on constants is its value.
fn fold_constants(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let children = op.children();
    if children.is_empty() || matches!(op, Op::Select(..)) {
        return None;
    }
    let mut args = Vec::with_capacity(children.len());
    for c in &children {
        args.push(match g.op(*c) {
            Op::Const(bits) => eval::Value::Float(f64::from_bits(*bits)),
            Op::IntConst(v) => eval::Value::Int(*v),
            Op::BoolConst(v) => eval::Value::Bool(*v),
            _ => return None,
        });
    }
    Some(match eval::apply(op, &args)? {
        eval::Value::Float(v) => g.constant(v),
        eval::Value::Int(v) => g.int(v),
        eval::Value::Bool(v) => g.boolean(v),
    })
}

/// `if true { a } else { b } => a`
fn select_known_condition(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Select(c, a, b) = *op else {
        return None;
    };
    g.as_bool(c).map(|v| if v { a } else { b })
}

/// `if c { a } else { a } => a`
fn select_same_branches(_: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Select(_, a, b) = *op else {
        return None;
    };
    (a == b).then_some(a)
}

/// `if !c { a } else { b } => if c { b } else { a }`
fn select_not_condition(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Select(c, a, b) = *op else {
        return None;
    };
    let Op::Not(inner) = *g.op(c) else {
        return None;
    };
    Some(g.select(inner, b, a))
}

/// `if c { if c { a } else { b } } else { d } => if c { a } else { d }` (and in the else branch)
fn select_nested_same_condition(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Select(c, a, b) = *op else {
        return None;
    };
    if let Op::Select(c2, a2, _) = *g.op(a) {
        if c2 == c {
            return Some(g.select(c, a2, b));
        }
    }
    if let Op::Select(c2, _, b2) = *g.op(b) {
        if c2 == c {
            return Some(g.select(c, a, b2));
        }
    }
    None
}

/// `if c { true } else { x } => c || x`, and the other boolean selects.
fn select_of_booleans(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Select(c, a, b) = *op else {
        return None;
    };
    if g.kind(a) != Kind::Bool {
        return None;
    }
    match (g.as_bool(a), g.as_bool(b)) {
        (Some(true), _) => Some(g.or(c, b)),
        (Some(false), _) => {
            let not_c = g.not(c);
            Some(g.and(not_c, b))
        }
        (_, Some(false)) => Some(g.and(c, a)),
        (_, Some(true)) => {
            let not_c = g.not(c);
            Some(g.or(not_c, a))
        }
        _ => None,
    }
}

/// `x + 0 => x`, `0 + x => x`
fn add_zero(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Add(a, b) = *op else { return None };
    if is_zero(g, b) {
        Some(a)
    } else if is_zero(g, a) {
        Some(b)
    } else {
        None
    }
}

/// `x + x => 2 * x`
fn add_self(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Add(a, b) = *op else { return None };
    if a != b {
        return None;
    }
    let two = g.constant(2.0);
    Some(g.mul(two, a))
}

/// `x - 0 => x`, `0 - x => -x`
fn sub_zero(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sub(a, b) = *op else { return None };
    if is_zero(g, b) {
        Some(a)
    } else if is_zero(g, a) {
        Some(g.neg(b))
    } else {
        None
    }
}

/// `x - x => 0`
fn sub_self(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sub(a, b) = *op else { return None };
    (a == b).then(|| g.zero())
}

/// `x * 0 => 0`, `0 * x => 0`
fn mul_zero(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    (is_zero(g, a) || is_zero(g, b)).then(|| g.zero())
}

/// `x * 1 => x`, `1 * x => x`
fn mul_one(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    if is_one(g, b) {
        Some(a)
    } else if is_one(g, a) {
        Some(b)
    } else {
        None
    }
}

/// `-1 * x => -x`, `x * -1 => -x`
fn mul_minus_one(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    if g.is_const(a, -1.0) {
        Some(g.neg(b))
    } else if g.is_const(b, -1.0) {
        Some(g.neg(a))
    } else {
        None
    }
}

/// `x / 1 => x`
fn div_one(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Div(a, b) = *op else { return None };
    is_one(g, b).then_some(a)
}

/// `0 / x => 0`
fn zero_div(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Div(a, _) = *op else { return None };
    is_zero(g, a).then(|| g.zero())
}

/// `--x => x`
fn neg_neg(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Neg(a) = *op else { return None };
    match *g.op(a) {
        Op::Neg(inner) => Some(inner),
        _ => None,
    }
}

/// `-(a - b) => b - a`
fn neg_sub(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Neg(a) = *op else { return None };
    let Op::Sub(x, y) = *g.op(a) else { return None };
    Some(g.minus(y, x))
}

/// `-(2 * x) => -2 * x` (exact: only the sign changes)
fn neg_of_scaled(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Neg(a) = *op else { return None };
    let Op::Mul(c, x) = *g.op(a) else { return None };
    let c = g.as_const(c)?;
    let c = g.constant(-c);
    Some(g.mul(c, x))
}

/// `a + -b => a - b`, `-a + b => b - a`
fn add_neg(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Add(a, b) = *op else { return None };
    if let Op::Neg(nb) = *g.op(b) {
        return Some(g.minus(a, nb));
    }
    if let Op::Neg(na) = *g.op(a) {
        return Some(g.minus(b, na));
    }
    None
}

/// `a + (-2) * b => a - 2 * b`, `(-2) * b + a => a - 2 * b` (exact)
fn add_negatively_scaled(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Add(x, y) = *op else { return None };
    for (a, m) in [(x, y), (y, x)] {
        let Op::Mul(c, b) = *g.op(m) else { continue };
        let Some(cv) = g.as_const(c) else { continue };
        if cv < 0.0 {
            let pos = g.constant(-cv);
            let scaled = g.mul(pos, b);
            return Some(g.minus(a, scaled));
        }
    }
    None
}

/// `a - -b => a + b`
fn sub_neg(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sub(a, b) = *op else { return None };
    let Op::Neg(nb) = *g.op(b) else { return None };
    Some(g.plus(a, nb))
}

/// `-a * b => -(a * b)`, `a * -b => -(a * b)`
fn mul_neg(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    if let Op::Neg(na) = *g.op(a) {
        let m = g.mul(na, b);
        return Some(g.neg(m));
    }
    if let Op::Neg(nb) = *g.op(b) {
        let m = g.mul(a, nb);
        return Some(g.neg(m));
    }
    None
}

/// `-a / b => -(a / b)`, `a / -b => -(a / b)`
fn div_neg(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Div(a, b) = *op else { return None };
    if let Op::Neg(na) = *g.op(a) {
        let d = g.div(na, b);
        return Some(g.neg(d));
    }
    if let Op::Neg(nb) = *g.op(b) {
        let d = g.div(a, nb);
        return Some(g.neg(d));
    }
    None
}

/// Ordering rank of a factor: constants, then other leaves, then compound expressions.
fn rank(g: &Graph, n: NodeId) -> u8 {
    match g.op(n) {
        Op::Const(_) => 0,
        _ if g.is_leaf(n) => 1,
        _ => 2,
    }
}

/// `x * 2 => 2 * x`, `(a + b) * x => x * (a + b)`: constants first, then leaves (exact).
fn mul_canonical_order(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    (rank(g, a) > rank(g, b)).then(|| g.mul(b, a))
}

/// `2 * (4 * x) => 8 * x` when one constant is a power of two (exact).
fn mul_power_of_two_constants(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    let ca = g.as_const(a)?;
    let Op::Mul(b1, b2) = *g.op(b) else {
        return None;
    };
    let cb = g.as_const(b1)?;
    if !(is_power_of_two(ca) || is_power_of_two(cb)) {
        return None;
    }
    let c = g.constant(ca * cb);
    Some(g.mul(c, b2))
}

/// `2 * ((-200 * t) * x) => (-400 * t) * x`: a power of two joins a constant factor (exact).
fn mul_power_of_two_into_left_scaled(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(k, m) = *op else { return None };
    let kv = g.as_const(k)?;
    if !is_power_of_two(kv) {
        return None;
    }
    let Op::Mul(inner, b) = *g.op(m) else {
        return None;
    };
    let Op::Mul(c, a) = *g.op(inner) else {
        return None;
    };
    let cv = g.as_const(c)?;
    let kc = g.constant(kv * cv);
    let scaled = g.mul(kc, a);
    Some(g.mul(scaled, b))
}

/// `2 * (x * (-200 * t)) => x * (-400 * t)`: a power of two joins a constant factor (exact).
fn mul_power_of_two_into_scaled_factor(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(k, m) = *op else { return None };
    let kv = g.as_const(k)?;
    if !is_power_of_two(kv) {
        return None;
    }
    let Op::Mul(a, inner) = *g.op(m) else {
        return None;
    };
    let Op::Mul(c, b) = *g.op(inner) else {
        return None;
    };
    let cv = g.as_const(c)?;
    let c = g.constant(kv * cv);
    let scaled = g.mul(c, b);
    Some(g.mul(a, scaled))
}

/// `(2 * t) * x => (2 * x) * t` for a leaf `x`, a compound `t` and a power of two (exact):
/// reads `2.0 * x * (w * x - y)`, the way people write it.
fn mul_leaf_before_compound(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    let Op::Mul(c, t) = *g.op(a) else { return None };
    let cv = g.as_const(c)?;
    if !is_power_of_two(cv) || rank(g, b) != 1 || rank(g, t) != 2 {
        return None;
    }
    let cb = g.mul(c, b);
    Some(g.mul(cb, t))
}

/// `(if c { p } else { 0 }) * q => if c { p * q } else { 0 }` (either side, either branch).
fn mul_into_select(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    for (s, q, s_left) in [(a, b, true), (b, a, false)] {
        let Op::Select(c, p, r) = *g.op(s) else {
            continue;
        };
        if !(is_zero(g, p) || is_zero(g, r)) {
            continue;
        }
        // `(if hi > lo { c } else { 0 }) · q` stays where `q` is that loop's sum or a term of
        // its body: in the branch, it would leave the loop it shares with the rest. Where the
        // loop does not run, such a `q` is an empty sum, or not computed at all, so the
        // product is `0 · 0`. A `q` outside that loop goes into the branch: it may be NaN
        // where the loop does not run (a count `k` taken out of `for _ in 0..k { s += r; }`
        // times an `r` that is NaN, with nothing added to `s`).
        if in_the_guarded_loop(g, q, s, c) {
            continue;
        }
        // The zero branch stays zero, as `mul-zero` has it: it is a gate's untaken side
        // (`if c { 0 } else { ā }`), and `0 · ∞` folded to NaN there would poison the taken one.
        let times = |g: &mut Graph, x: NodeId| {
            if is_zero(g, x) {
                x
            } else if s_left {
                g.mul(x, q)
            } else {
                g.mul(q, x)
            }
        };
        let p2 = times(g, p);
        let r2 = times(g, r);
        return Some(g.select(c, p2, r2));
    }
    None
}

/// `(if c { p } else { 0 }) / q => if c { p / q } else { 0 }`
fn div_into_select(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Div(a, q) = *op else { return None };
    let Op::Select(c, p, r) = *g.op(a) else {
        return None;
    };
    if !(is_zero(g, p) || is_zero(g, r)) || is_loop_guard(g, c) && in_a_loop(g, q, a) {
        return None;
    }
    // (A zero branch stays zero: see `mul_into_select`; a loop's guard stays.)
    let p2 = if is_zero(g, p) { p } else { g.div(p, q) };
    let r2 = if is_zero(g, r) { r } else { g.div(r, q) };
    Some(g.select(c, p2, r2))
}

/// `-(if c { a } else { b }) => if c { -a } else { -b }`
fn neg_into_select(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Neg(s) = *op else { return None };
    let Op::Select(c, a, b) = *g.op(s) else {
        return None;
    };
    if g.kind(a) != Kind::Float {
        return None;
    }
    let na = g.neg(a);
    let nb = g.neg(b);
    Some(g.select(c, na, nb))
}

/// `(if c { a } else { b }) + (if c { d } else { e }) => if c { a + d } else { b + e }`
fn add_selects(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Add(x, y) = *op else { return None };
    let Op::Select(c1, a, b) = *g.op(x) else {
        return None;
    };
    let Op::Select(c2, d, e) = *g.op(y) else {
        return None;
    };
    if c1 != c2 {
        return None;
    }
    let ad = g.plus(a, d);
    let be = g.plus(b, e);
    Some(g.select(c1, ad, be))
}

/// `Σ_{i in lo..hi} c => (hi − lo) · c` for a body `c` that does not depend on `i` (the count
/// is zero when the range is empty, as the loop's would be).
fn sum_of_invariant(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sum { v, lo, hi, body } = *op else {
        return None;
    };
    if g.loops_of(body) & (1 << v) != 0 || g.kind(body) != Kind::Float {
        return None;
    }
    let nonempty = nonempty(g, lo, hi);
    // `hi − lo` only where the loop runs: the count's derivative uses (`count · ā`) is not
    // under the guard below, and `2 − 6` overflows a `usize` (`x.windows(6)` of two elements).
    let diff = g.int_bin(IntOp::Sub, hi, lo);
    let none = g.int(0);
    let len = g.select(nonempty, diff, none);
    let count = g.cast(len);
    let total = g.mul(count, body);
    // The body only where the loop runs: it may be NaN (`ln(-1)`), or read an element that
    // exists only when the range is not empty.
    let zero = g.zero();
    Some(g.select(nonempty, total, zero))
}

/// `Σ_i (c ? f(i) : 0) => c ? Σ_i f(i) : 0` for a condition `c` that does not depend on `i`
/// (and the same for a guarded effect, whose "nothing" is `NoEffect`): the loop, its bounds
/// included, runs only where the function runs it. `if n >= 2 { for i in 1..n - 1 { … } }`
/// must not compute `n - 1` for `n = 0` in the gradient's loop either.
fn sum_of_invariantly_guarded(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sum { v, lo, hi, body } = *op else {
        return None;
    };
    let Op::Select(c, a, b) = *g.op(body) else {
        return None;
    };
    if g.loops_of(c) & (1 << v) != 0 {
        return None;
    }
    // A condition that may panic (`n - 1 > 0`, `x[0] > 0.0`) stays in a loop that may not run:
    // before it, it would run where the function does not (`n = 0`). So does one reading a loop
    // the user wrote in this loop's body (`for i in 0..n { while k <= n - 1 { … } … }`): the
    // user runs that loop only in the iterations that run.
    let risky = g.may_panic(c) || g.written_in(c) & (1 << v) != 0;
    if risky && !g.runs_for_certain(lo, hi) {
        return None;
    }
    // Effects only: a value's sum under a condition is already the guarded sum the lowering
    // built from the `if`, and rewriting value sums too made some macros run for minutes (the
    // fuzzer's program 210 of seed 9).
    let nothing = |g: &Graph, n: NodeId| matches!(g.op(n), Op::NoEffect);
    if nothing(g, b) {
        let sum = g.add(Op::Sum { v, lo, hi, body: a });
        Some(g.select(c, sum, b))
    } else if nothing(g, a) {
        let sum = g.add(Op::Sum { v, lo, hi, body: b });
        Some(g.select(c, a, sum))
    } else {
        None
    }
}

/// `Σ_i (c · f(i)) => c · Σ_i f(i)` for the factors `c` of a product that do not depend on `i`
/// (`Σ 2·(r/(2m))·x[i] => (2·(1/(2m))) · Σ r·x[i]`): the loop does one multiplication per
/// iteration fewer per factor, as a person writes it (scale after the loop).
fn invariant_factor_out_of_sum(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Sum { v, lo, hi, body } = *op else {
        return None;
    };
    if g.kind(body) != Kind::Float || !matches!(g.op(body), Op::Mul(..)) {
        return None;
    }
    let mut factors = Vec::new();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match *g.op(n) {
            Op::Mul(a, b) => stack.extend([b, a]),
            _ => factors.push(n),
        }
    }
    let bit = 1u128 << v;
    // A factor that may panic (`x[k]`, `k - 1`) stays in the loop, which might not run; so does
    // one reading a loop the user wrote in this loop's body (`for k { …; p *= x[n - 1 - i] …
    // s += p * x[k]; }`: the user computes `p` only in the iterations that run).
    let (outside, inside): (Vec<NodeId>, Vec<NodeId>) = factors.into_iter().partition(|f| {
        g.loops_of(*f) & bit == 0 && !g.may_panic(*f) && g.written_in(*f) & bit == 0
    });
    if outside.is_empty() || inside.is_empty() {
        return None;
    }
    let product =
        |g: &mut Graph, fs: &[NodeId]| fs[1..].iter().fold(fs[0], |acc, f| g.mul(acc, *f));
    let c = product(g, &outside);
    let f = product(g, &inside);
    let sum = g.add(Op::Sum { v, lo, hi, body: f });
    // Over an empty range the loop gives 0, and `c · 0` is NaN where `c` is infinite or NaN
    // (`1 / y` at `y = 0`, never computed by the loop): the factor is taken only where the loop
    // runs, the sum staying outside the branch, in the loop it shares with the value.
    let c = if taken_as_finite(g, c) || g.runs_for_certain(lo, hi) {
        c
    } else {
        let nonempty = nonempty(g, lo, hi);
        let zero = g.zero();
        g.select(nonempty, c, zero)
    };
    Some(g.mul(c, sum))
}

/// A finite constant or a parameter (a parameter is taken as finite): no guard needed.
fn taken_as_finite(g: &Graph, c: NodeId) -> bool {
    match g.as_const(c) {
        Some(k) => k.is_finite(),
        None => g.is_leaf(c),
    }
}

/// `(if hi > lo { c } else { 0 }) · Σ_{lo..hi} f => c · Σ_{lo..hi} f` for a factor `c` taken as
/// finite: the guard [`invariant_factor_out_of_sum`] put on what was a variable's value before
/// a loop nested in another (a provisional carry), once it is known to be a parameter.
fn unguard_finite_factor(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Mul(a, b) = *op else { return None };
    let Op::Select(cond, c, zero) = *g.op(a) else {
        return None;
    };
    let Op::Sum { lo, hi, .. } = *g.op(b) else {
        return None;
    };
    let guards_b = matches!(*g.op(cond), Op::Compare(Cmp::Gt, h, l) if (l, h) == (lo, hi));
    (guards_b && is_zero(g, zero) && taken_as_finite(g, c)).then(|| g.mul(c, b))
}

/// `hi > lo`: whether a loop over `lo..hi` runs.
fn nonempty(g: &mut Graph, lo: NodeId, hi: NodeId) -> NodeId {
    g.add(Op::Compare(Cmp::Gt, hi, lo))
}

/// Whether `q` is the sum over a loop `cond` tests runs (`hi > lo` of its bounds), or varies
/// with such a loop where `select` does not.
fn in_the_guarded_loop(g: &Graph, q: NodeId, select: NodeId, cond: NodeId) -> bool {
    let Op::Compare(Cmp::Gt, hi, lo) = *g.op(cond) else {
        return false;
    };
    if let Op::Sum { lo: l, hi: h, .. } = *g.op(q) {
        return (l, h) == (lo, hi);
    }
    let outer = g.loops_of(q) & !g.loops_of(select);
    (0..g.loop_count()).any(|v| outer & (1 << v) != 0 && g.loop_bounds(v) == Some((lo, hi)))
}

/// Whether `q` is a loop's sum, or varies with a loop `select` does not.
fn in_a_loop(g: &Graph, q: NodeId, select: NodeId) -> bool {
    matches!(g.op(q), Op::Sum { .. }) || g.loops_of(q) & !g.loops_of(select) != 0
}

/// Whether `cond` is the test that a loop runs (`hi > lo` of its bounds), which guards a
/// factor taken out of its sum (see [`invariant_factor_out_of_sum`]).
fn is_loop_guard(g: &Graph, cond: NodeId) -> bool {
    let Op::Compare(Cmp::Gt, hi, lo) = *g.op(cond) else {
        return false;
    };
    (0..g.loop_count()).any(|v| g.loop_bounds(v) == Some((lo, hi)))
}

/// `x.powi(0) => 1`, `x.powi(1) => x`
fn powi_zero_one(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::Powi(x, n) = *op else { return None };
    match g.as_int(n)? {
        0 => Some(g.one()),
        1 => Some(x),
        _ => None,
    }
}

/// `n + 0 => n`, `n - 0 => n`, `n * 1 => n`, `(n + 1) - 1 => n`
fn int_identities(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::IntBin(o, a, b) = *op else {
        return None;
    };
    match (o, g.as_int(a), g.as_int(b)) {
        (IntOp::Add | IntOp::Sub, _, Some(0)) | (IntOp::Mul | IntOp::Div, _, Some(1)) => Some(a),
        (IntOp::Add, Some(0), _) | (IntOp::Mul, Some(1), _) => Some(b),
        (IntOp::Sub, _, Some(k)) => match *g.op(a) {
            Op::IntBin(IntOp::Add, x, y) if g.as_int(y) == Some(k) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

/// `[c; n][i] => c` for a leaf `c` (`vec![0.0; n]`, `[w; 3]`): nothing to read from memory.
fn at_of_constant_table(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::At(t, _) = *op else { return None };
    let Op::Table { v, body, .. } = *g.op(t) else {
        return None;
    };
    (g.is_leaf(body) && g.loops_of(body) & (1 << v) == 0).then_some(body)
}

/// A read of the version one write made (`z[k] = e`, the table `if j == k { e } else { z[j] }`
/// over `0..n`): `z'[k] => e`, and `z'[i] => z[i]` for a constant `i ≠ k`. A small array
/// written at constant indices (`p[0] = a; p[1] = b;`) is then read as its scalars.
fn at_of_one_element_write(g: &mut Graph, op: &Op) -> Option<NodeId> {
    let Op::At(t, i) = *op else { return None };
    let Op::Table { v, lo, body, .. } = *g.op(t) else {
        return None;
    };
    let Op::Select(here, e, other) = *g.op(body) else {
        return None;
    };
    let Op::Compare(Cmp::Eq, a, b) = *g.op(here) else {
        return None;
    };
    let j = g.add(Op::LoopVar(v));
    let k = match (a == j, b == j) {
        (true, false) => b,
        (false, true) => a,
        _ => return None,
    };
    if g.as_int(lo) != Some(0) || g.loops_of(k) & (1 << v) != 0 {
        return None;
    }
    if i == k {
        // `e` is the element only where it is the same in every iteration: a write made in the
        // loop itself (`if j == 0 { z[j] += z[j] * z[j]; }`) reads the loop's index, which has
        // no value outside it (the table is read instead).
        return (g.loops_of(e) & (1 << v) == 0).then_some(e);
    }
    let (Some(x), Some(y)) = (g.as_int(i), g.as_int(k)) else {
        return None;
    };
    if x == y {
        return None;
    }
    // The other elements: the old version's (or, where that was a constant array, the constant).
    match *g.op(other) {
        Op::At(old, at) if at == j => Some(g.add(Op::At(old, i))),
        _ if g.is_leaf(other) && g.loops_of(other) & (1 << v) == 0 => Some(other),
        _ => None,
    }
}

/// `true && x => x`, `false || x => x`, `!!x => x`, and the absorbing cases.
fn bool_identities(g: &mut Graph, op: &Op) -> Option<NodeId> {
    match *op {
        Op::And(a, b) => match (g.as_bool(a), g.as_bool(b)) {
            (Some(true), _) => Some(b),
            (_, Some(true)) => Some(a),
            (Some(false), _) | (_, Some(false)) => Some(g.boolean(false)),
            _ => (a == b).then_some(a),
        },
        Op::Or(a, b) => match (g.as_bool(a), g.as_bool(b)) {
            (Some(false), _) => Some(b),
            (_, Some(false)) => Some(a),
            (Some(true), _) | (_, Some(true)) => Some(g.boolean(true)),
            _ => (a == b).then_some(a),
        },
        Op::Not(a) => match *g.op(a) {
            Op::Not(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::parse_and_print as s;

    // One line per rule: `input => expected`, through the same builder every pass uses.
    #[test]
    fn fold_constants() {
        assert_eq!(s("2.0 * 3.0 + x"), "6.0 + x");
    }
    #[test]
    fn select_known_condition() {
        assert_eq!(s("if 1.0 < 2.0 { x } else { y }"), "x");
    }
    #[test]
    fn select_same_branches() {
        assert_eq!(s("if x < y { x } else { x }"), "x");
    }
    #[test]
    fn select_not_condition() {
        assert_eq!(
            s("if !(x < y) { x } else { y }"),
            "if x < y { y } else { x }"
        );
    }
    #[test]
    fn select_nested_same_condition() {
        assert_eq!(
            s("if x < y { if x < y { x } else { y } } else { 0.0 }"),
            "if x < y { x } else { 0.0 }"
        );
    }
    #[test]
    fn at_of_constant_table() {
        assert_eq!(s("{ let z = vec![x; 4]; z[2] * y }"), "x * y");
    }
    #[test]
    fn at_of_one_element_write() {
        assert_eq!(
            s("{ let mut p = [0.0; 3]; p[0] = x; p[2] = y; p[0] * p[2] + p[1] }"),
            "x * y"
        );
    }
    #[test]
    fn mul_into_select_keeps_the_zero_branch() {
        // `0 · ∞` would be NaN: the gated side stays zero.
        assert_eq!(
            s("(if x < y { 0.0 } else { y }) * (0.0).powi(-1)"),
            "if x < y { 0.0 } else { f64::INFINITY * y }"
        );
    }
    #[test]
    fn add_zero() {
        assert_eq!(s("x + 0.0"), "x");
    }
    #[test]
    fn add_self() {
        assert_eq!(s("x + x"), "2.0 * x");
    }
    #[test]
    fn sub_zero() {
        assert_eq!(s("0.0 - x"), "-x");
    }
    #[test]
    fn sub_self() {
        assert_eq!(s("x.sin() - x.sin()"), "0.0");
    }
    #[test]
    fn mul_zero() {
        assert_eq!(s("0.0 * x.exp()"), "0.0");
    }
    #[test]
    fn mul_one() {
        assert_eq!(s("x * 1.0"), "x");
    }
    #[test]
    fn mul_minus_one() {
        assert_eq!(s("x * -1.0"), "-x");
    }
    #[test]
    fn div_one() {
        assert_eq!(s("x / 1.0"), "x");
    }
    #[test]
    fn zero_div() {
        assert_eq!(s("0.0 / x"), "0.0");
    }
    #[test]
    fn neg_neg() {
        assert_eq!(s("-(-x)"), "x");
    }
    #[test]
    fn neg_sub() {
        assert_eq!(s("-(x - y)"), "y - x");
    }
    #[test]
    fn neg_of_scaled() {
        assert_eq!(s("-(2.0 * (x - y))"), "-2.0 * (x - y)");
    }
    #[test]
    fn add_neg() {
        assert_eq!(s("x + -y"), "x - y");
    }
    #[test]
    fn add_negatively_scaled() {
        assert_eq!(s("x + -3.0 * y"), "x - 3.0 * y");
    }
    #[test]
    fn sub_neg() {
        assert_eq!(s("x - -y"), "x + y");
    }
    #[test]
    fn mul_neg() {
        assert_eq!(s("-x * y"), "-(x * y)");
    }
    #[test]
    fn div_neg() {
        assert_eq!(s("x / -y"), "-(x / y)");
    }
    #[test]
    fn mul_canonical_order() {
        assert_eq!(s("(x + y) * 3.0"), "3.0 * (x + y)");
    }
    #[test]
    fn mul_power_of_two_constants() {
        assert_eq!(s("2.0 * (3.0 * x)"), "6.0 * x");
    }
    #[test]
    fn mul_power_of_two_into_left_scaled() {
        assert_eq!(
            s("2.0 * ((-200.0 * (y - x)) * (x + w))"),
            "-400.0 * (y - x) * (x + w)"
        );
    }
    #[test]
    fn mul_power_of_two_into_scaled_factor() {
        assert_eq!(
            s("2.0 * (x * (-200.0 * (y - x)))"),
            "x * (-400.0 * (y - x))"
        );
    }
    #[test]
    fn mul_leaf_before_compound() {
        assert_eq!(s("2.0 * (w * x - y) * x"), "2.0 * x * (w * x - y)");
    }
    #[test]
    fn mul_into_select() {
        assert_eq!(
            s("(if x < y { x } else { 0.0 }) * y.ln()"),
            "if x < y { x * y.ln() } else { 0.0 }"
        );
    }
    #[test]
    fn div_into_select() {
        assert_eq!(
            s("(if x < y { x } else { 0.0 }) / y"),
            "if x < y { x / y } else { 0.0 }"
        );
    }
    #[test]
    fn neg_into_select() {
        assert_eq!(
            s("-(if x < y { x } else { y })"),
            "if x < y { -x } else { -y }"
        );
    }
    #[test]
    fn add_selects() {
        assert_eq!(
            s("(if x < y { x } else { 0.0 }) + (if x < y { 0.0 } else { y })"),
            "if x < y { x } else { y }"
        );
    }
    #[test]
    fn sum_of_invariant() {
        assert_eq!(s("(0..4).map(|i| w * 2.0).sum::<f64>()"), "8.0 * w");
    }
    #[test]
    fn invariant_factor_out_of_sum() {
        assert_eq!(
            s("(0..4).map(|i| w * (i as f64) * 2.0).sum::<f64>()"),
            "2.0 * w * Σ(i0 in 0..4) (i0 as f64)"
        );
    }
    /// `fn f(w: f64, x: &[f64]) -> f64 { <body> }`, simplified and printed.
    fn over_slice(body: &str) -> String {
        let body: proc_macro2::TokenStream = body
            .parse()
            .expect("internal error: test body does not tokenize");
        let l = crate::testing::lower_fn(
            quote::quote! { fn f(w: f64, x: &[f64]) -> f64 { #body } },
            &crate::attr::Args::default(),
        );
        crate::formula::print(&l.graph, l.output, "f64")
    }
    #[test]
    fn invariant_factor_out_of_a_loop_that_may_not_run_is_guarded() {
        // `ln(0) · 0` would be NaN where the loop, not running, gives 0.
        assert_eq!(
            over_slice("x.iter().map(|v| v * w.ln()).sum::<f64>()"),
            "(if x.len() > 0 { w.ln() } else { 0.0 }) * Σ(i0 in 0..x.len()) x[i0]"
        );
        // A parameter is taken as finite: no guard.
        assert_eq!(
            over_slice("x.iter().map(|v| v * w).sum::<f64>()"),
            "w * Σ(i0 in 0..x.len()) x[i0]"
        );
    }
    #[test]
    fn powi_zero_one() {
        assert_eq!(s("x.powi(1) + y.powi(0)"), "x + 1.0");
    }
    #[test]
    fn bool_identities() {
        assert_eq!(
            s("if true && x < y { x } else { y }"),
            "if x < y { x } else { y }"
        );
    }
    #[test]
    fn select_of_booleans() {
        assert_eq!(
            s("if (if x < y { true } else { x > 2.0 }) { x } else { y }"),
            "if x < y || x > 2.0 { x } else { y }"
        );
    }
    #[test]
    fn int_identities() {
        assert_eq!(s("x.powi(3 + 0)"), "x.powi(3)");
    }
}
