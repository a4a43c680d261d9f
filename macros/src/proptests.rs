//! Property test: random expressions from the whole scalar grammar, lowered by the real lowering
//! pass and differentiated by the real differentiation pass, checked against an independent
//! oracle: forward-mode dual numbers over the test's own expression tree, with every derivative
//! rule stated again here from the textbook. The Hessian is checked against central finite
//! differences of the oracle's gradient.

use proptest::prelude::*;

use crate::diff;
use crate::eval::Interpreter;
use crate::testing::lower_body;

/// A dual number with three tangents: ∂/∂x, ∂/∂y, ∂/∂w.
#[derive(Clone, Copy, Debug)]
struct D {
    v: f64,
    d: [f64; 3],
}

impl D {
    fn var(v: f64, i: usize) -> D {
        let mut d = [0.0; 3];
        d[i] = 1.0;
        D { v, d }
    }
    fn c(v: f64) -> D {
        D { v, d: [0.0; 3] }
    }
    /// `f(self)` with `f' = dv`: the chain rule.
    fn chain(self, v: f64, dv: f64) -> D {
        D {
            v,
            d: self.d.map(|t| t * dv),
        }
    }
    fn add(self, o: D) -> D {
        D {
            v: self.v + o.v,
            d: [0, 1, 2].map(|i| self.d[i] + o.d[i]),
        }
    }
    fn sub(self, o: D) -> D {
        D {
            v: self.v - o.v,
            d: [0, 1, 2].map(|i| self.d[i] - o.d[i]),
        }
    }
    fn mul(self, o: D) -> D {
        D {
            v: self.v * o.v,
            d: [0, 1, 2].map(|i| self.d[i] * o.v + self.v * o.d[i]),
        }
    }
    fn div(self, o: D) -> D {
        if o.v == 0.0 {
            SIGNED_ZERO_MATTERS.set(true);
        }
        D {
            v: self.v / o.v,
            d: [0, 1, 2].map(|i| (self.d[i] * o.v - self.v * o.d[i]) / (o.v * o.v)),
        }
    }
}

/// The test's own expression tree.
#[derive(Clone, Debug)]
enum E {
    Var(usize),
    Const(f64),
    Neg(Box<E>),
    Bin(char, Box<E>, Box<E>),
    Fun(&'static str, Box<E>),
    Powi(Box<E>, i32),
    Fun2(&'static str, Box<E>, Box<E>),
    MulAdd(Box<E>, Box<E>, Box<E>),
    If(Box<E>, Box<E>, Box<E>, Box<E>),
}

/// Unary functions; those with a restricted domain get a positive argument `|e| + 0.25`
/// (or one in (-1, 1) via `tanh`).
const FUNS: [&str; 22] = [
    "sqrt", "cbrt", "exp", "exp2", "exp_m1", "ln", "log2", "log10", "ln_1p", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "recip",
];
const FUNS2: [&str; 6] = ["powf", "log", "atan2", "hypot", "max", "min"];

fn source(e: &E) -> String {
    match e {
        E::Var(i) => ["x", "y", "w"][*i].to_string(),
        E::Const(c) => format!("{c:?}"),
        E::Neg(a) => format!("-({})", source(a)),
        E::Bin(op, a, b) => format!("({} {op} {})", source(a), source(b)),
        E::Fun(f, a) => format!("({}).{f}()", domain(f, &source(a))),
        E::Powi(a, n) => format!("({}).powi({n})", source(a)),
        E::Fun2(f, a, b) => {
            let (a, b) = (source(a), source(b));
            match *f {
                "powf" | "log" => format!(
                    "(({a}).abs() + 0.5).{f}({b})",
                    b = if *f == "log" {
                        format!("({b}).abs() + 1.5")
                    } else {
                        b
                    }
                ),
                _ => format!("({a}).{f}({b})"),
            }
        }
        E::MulAdd(a, b, c) => format!("({}).mul_add({}, {})", source(a), source(b), source(c)),
        E::If(p, q, a, b) => format!(
            "(if {} < {} {{ {} }} else {{ {} }})",
            source(p),
            source(q),
            source(a),
            source(b)
        ),
    }
}

fn domain(f: &str, a: &str) -> String {
    match f {
        "sqrt" | "ln" | "log2" | "log10" | "ln_1p" | "recip" => format!("({a}).abs() + 0.25"),
        "acosh" => format!("({a}).abs() + 1.25"),
        "asin" | "acos" | "atanh" => format!("0.9 * ({a}).tanh()"),
        _ => a.to_string(),
    }
}

fn abs(a: D) -> D {
    // sign(0) = 0, the convention symgrad (and PyTorch) use at the kink.
    let d = if a.v > 0.0 {
        1.0
    } else if a.v < 0.0 {
        -1.0
    } else {
        0.0
    };
    a.chain(a.v.abs(), d)
}

fn dom(f: &str, a: D) -> D {
    match f {
        "sqrt" | "ln" | "log2" | "log10" | "ln_1p" | "recip" => abs(a).add(D::c(0.25)),
        "acosh" => abs(a).add(D::c(1.25)),
        "asin" | "acos" | "atanh" => D::c(0.9).mul(fun("tanh", a)),
        _ => a,
    }
}

/// The textbook derivative of each function, independently of `diff.rs`.
fn fun(f: &str, a: D) -> D {
    let x = a.v;
    match f {
        "sqrt" => a.chain(x.sqrt(), 0.5 / x.sqrt()),
        "cbrt" => a.chain(x.cbrt(), 1.0 / (3.0 * x.cbrt().powi(2))),
        "exp" => a.chain(x.exp(), x.exp()),
        "exp2" => a.chain(x.exp2(), x.exp2() * 2f64.ln()),
        "exp_m1" => a.chain(x.exp_m1(), x.exp()),
        "ln" => a.chain(x.ln(), 1.0 / x),
        "log2" => a.chain(x.log2(), 1.0 / (x * 2f64.ln())),
        "log10" => a.chain(x.log10(), 1.0 / (x * 10f64.ln())),
        "ln_1p" => a.chain(x.ln_1p(), 1.0 / (1.0 + x)),
        "sin" => a.chain(x.sin(), x.cos()),
        "cos" => a.chain(x.cos(), -x.sin()),
        "tan" => a.chain(x.tan(), 1.0 / x.cos().powi(2)),
        "asin" => a.chain(x.asin(), 1.0 / (1.0 - x * x).sqrt()),
        "acos" => a.chain(x.acos(), -1.0 / (1.0 - x * x).sqrt()),
        "atan" => a.chain(x.atan(), 1.0 / (1.0 + x * x)),
        "sinh" => a.chain(x.sinh(), x.cosh()),
        "cosh" => a.chain(x.cosh(), x.sinh()),
        "tanh" => a.chain(x.tanh(), 1.0 / x.cosh().powi(2)),
        "asinh" => a.chain(x.asinh(), 1.0 / (x * x + 1.0).sqrt()),
        "acosh" => a.chain(x.acosh(), 1.0 / (x * x - 1.0).sqrt()),
        "atanh" => a.chain(x.atanh(), 1.0 / (1.0 - x * x)),
        "recip" => a.chain(x.recip(), -1.0 / (x * x)),
        other => panic!("internal error: unknown function {other}"),
    }
}

thread_local! {
    /// Whether the oracle's current evaluation met a place where the sign of a zero decides the
    /// result: `atan2` on its branch cut, a division by ±0, a negative power of ±0.
    static SIGNED_ZERO_MATTERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The oracle's value and derivatives of `e`; NaN (which every test skips) where the expression
/// meets a place where the sign of a zero decides the result: `atan2` on its branch cut
/// (`y = ±0`, `x < 0`: π or −π), `1 / ±0` and `(±0).powi(-n)` (±∞). The function has no
/// derivative there, and the simplifier does not keep the sign of a zero (`0 · x → 0`, as LLVM's
/// `nsz`), so the generated code may land on the other side — in the value, or in a condition
/// that reads it.
fn oracle(e: &E, vars: &[D; 3]) -> D {
    SIGNED_ZERO_MATTERS.set(false);
    let d = dual(e, vars);
    if SIGNED_ZERO_MATTERS.get() {
        D {
            v: f64::NAN,
            d: [f64::NAN; 3],
        }
    } else {
        d
    }
}

/// Forward-mode evaluation of `e` with dual numbers.
fn dual(e: &E, vars: &[D; 3]) -> D {
    match e {
        E::Var(i) => vars[*i],
        E::Const(c) => D::c(*c),
        // Negation, not `0 − a`: `-(0.0)` is `-0.0`, which `atan2` tells apart.
        E::Neg(a) => {
            let a = dual(a, vars);
            D {
                v: -a.v,
                d: a.d.map(|t| -t),
            }
        }
        E::Bin(op, a, b) => {
            let (a, b) = (dual(a, vars), dual(b, vars));
            match op {
                '+' => a.add(b),
                '-' => a.sub(b),
                '*' => a.mul(b),
                _ => a.div(b),
            }
        }
        E::Fun(f, a) => {
            let a = dual(a, vars);
            fun(f, dom(f, a))
        }
        E::Powi(a, n) => {
            let a = dual(a, vars);
            if a.v == 0.0 && *n < 0 {
                SIGNED_ZERO_MATTERS.set(true);
            }
            a.chain(a.v.powi(*n), f64::from(*n) * a.v.powi(n - 1))
        }
        E::Fun2(f, a, b) => {
            let (a, b) = (dual(a, vars), dual(b, vars));
            match *f {
                "powf" => {
                    let base = abs(a).add(D::c(0.5));
                    // d(bᵉ) = e·bᵉ⁻¹·db + bᵉ·ln b·de
                    let v = base.v.powf(b.v);
                    let d = [0, 1, 2].map(|i| {
                        b.v * base.v.powf(b.v - 1.0) * base.d[i] + v * base.v.ln() * b.d[i]
                    });
                    D { v, d }
                }
                "log" => {
                    let x = abs(a).add(D::c(0.5));
                    let base = abs(b).add(D::c(1.5));
                    fun("ln", x).div(fun("ln", base))
                }
                "atan2" => {
                    if a.v == 0.0 && b.v < 0.0 {
                        SIGNED_ZERO_MATTERS.set(true);
                    }
                    let v = a.v.atan2(b.v);
                    let r2 = a.v * a.v + b.v * b.v;
                    D {
                        v,
                        d: [0, 1, 2].map(|i| (b.v * a.d[i] - a.v * b.d[i]) / r2),
                    }
                }
                "hypot" => {
                    let v = a.v.hypot(b.v);
                    D {
                        v,
                        d: [0, 1, 2].map(|i| (a.v * a.d[i] + b.v * b.d[i]) / v),
                    }
                }
                // As `f64::max`/`min`: a NaN argument is ignored.
                "max" => {
                    if a.v >= b.v || b.v.is_nan() {
                        a
                    } else {
                        b
                    }
                }
                _ => {
                    if a.v <= b.v || b.v.is_nan() {
                        a
                    } else {
                        b
                    }
                }
            }
        }
        E::MulAdd(a, b, c) => {
            let (a, b, c) = (dual(a, vars), dual(b, vars), dual(c, vars));
            let m = a.mul(b).add(c);
            D {
                v: a.v.mul_add(b.v, c.v),
                d: m.d,
            }
        }
        E::If(p, q, a, b) => {
            let (p, q) = (dual(p, vars), dual(q, vars));
            if p.v < q.v {
                dual(a, vars)
            } else {
                dual(b, vars)
            }
        }
    }
}

fn leaf() -> impl Strategy<Value = E> {
    prop_oneof![
        (0usize..3).prop_map(E::Var),
        (-3.0f64..3.0).prop_map(|c| E::Const((c * 4.0).round() / 4.0)),
    ]
}

fn expr() -> impl Strategy<Value = E> {
    leaf().prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| E::Neg(Box::new(a))),
            (
                prop::sample::select(vec!['+', '-', '*']),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| E::Bin(op, Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| E::Bin(
                '/',
                Box::new(a),
                Box::new(E::Fun("exp", Box::new(b)))
            )),
            (prop::sample::select(FUNS.to_vec()), inner.clone())
                .prop_map(|(f, a)| E::Fun(f, Box::new(a))),
            (inner.clone(), -3i32..4).prop_map(|(a, n)| E::Powi(Box::new(a), n)),
            (
                prop::sample::select(FUNS2.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(f, a, b)| E::Fun2(f, Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| E::MulAdd(
                Box::new(a),
                Box::new(b),
                Box::new(c)
            )),
            (inner.clone(), inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(p, q, a, b)| E::If(Box::new(p), Box::new(q), Box::new(a), Box::new(b))),
        ]
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// The generated gradient (and Hessian) of `e` at `point`, through the real passes.
fn generated(src: &str, point: [f64; 3]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let mut l = lower_body(src);
    let inputs = l.inputs.clone();
    let grad =
        diff::gradient(&mut l.graph, l.output, &inputs).expect("internal error: no gradient");
    let hess: Vec<Vec<_>> = grad
        .iter()
        .map(|g| diff::gradient(&mut l.graph, *g, &inputs).expect("internal error: no hessian"))
        .collect();
    let mut it = Interpreter::new(&l.graph, &point);
    let value = it.eval(l.output).float();
    let g = grad.iter().map(|n| it.eval(*n).float()).collect();
    let h = hess
        .iter()
        .map(|row| row.iter().map(|n| it.eval(*n).float()).collect())
        .collect();
    (value, g, h)
}

fn oracle_at(e: &E, p: [f64; 3]) -> D {
    let vars = [D::var(p[0], 0), D::var(p[1], 1), D::var(p[2], 2)];
    oracle(e, &vars)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn gradient_matches_dual_numbers(e in expr(), x in -2.0f64..2.0, y in -2.0f64..2.0, w in -2.0f64..2.0) {
        let point = [x, y, w];
        let want = oracle_at(&e, point);
        prop_assume!(want.v.is_finite() && want.d.iter().all(|d| d.is_finite() && d.abs() < 1e8));
        let src = source(&e);
        let (value, grad, _) = generated(&src, point);
        prop_assert!(close(value, want.v, 1e-12), "value of {src}: {value} vs {}", want.v);
        for i in 0..3 {
            prop_assert!(close(grad[i], want.d[i], 1e-9), "∂/∂{} of {src} at {point:?}: generated {} vs oracle {}", ["x", "y", "w"][i], grad[i], want.d[i]);
        }
    }

    #[test]
    fn hessian_matches_finite_differences_of_the_gradient(e in expr(), x in -2.0f64..2.0, y in -2.0f64..2.0, w in -2.0f64..2.0) {
        let point = [x, y, w];
        let want = oracle_at(&e, point);
        prop_assume!(want.v.is_finite() && want.v.abs() < 1e6 && want.d.iter().all(|d| d.is_finite() && d.abs() < 1e4));
        let src = source(&e);
        let (_, _, hess) = generated(&src, point);
        for j in 0..3 {
            let h = 1e-5;
            let (mut up, mut down) = (point, point);
            up[j] += h;
            down[j] -= h;
            let (gu, gd) = (oracle_at(&e, up), oracle_at(&e, down));
            // Finite differences are meaningless across a kink (`if`, `max`, `abs`).
            prop_assume!(gu.d.iter().chain(gd.d.iter()).all(|d| d.is_finite()));
            for i in 0..3 {
                let fd = (gu.d[i] - gd.d[i]) / (2.0 * h);
                let smooth = (gu.d[i] - want.d[i]).abs() < 1e-2 * (1.0 + want.d[i].abs()) && (gd.d[i] - want.d[i]).abs() < 1e-2 * (1.0 + want.d[i].abs());
                prop_assume!(smooth && fd.abs() < 1e4);
                prop_assert!(close(hess[i][j], fd, 1e-4), "∂²/∂{}∂{} of {src} at {point:?}: generated {} vs finite differences {fd}", ["x", "y", "w"][i], ["x", "y", "w"][j], hess[i][j]);
            }
        }
    }
}

#[test]
fn statements_and_early_returns_match_the_oracle() {
    // Bodies with `let`, shadowing, `let mut`, compound assignment, `if` statements and `return`,
    // each with its value as a plain Rust closure; derivatives against central differences.
    type F = fn(f64, f64, f64) -> f64;
    let cases: [(&str, F); 5] = [
        ("let a = x * y; let a = a + w; a * a", |x, y, w| {
            (x * y + w) * (x * y + w)
        }),
        (
            "let mut s = x; s += y * w; s *= x; s -= 1.0; s /= 2.0; s",
            |x, y, w| ((x + y * w) * x - 1.0) / 2.0,
        ),
        (
            "let mut m = x; if y > m { m = y; } if w > m { m = w; } m * x",
            |x, y, w| x.max(y).max(w) * x,
        ),
        (
            "if x < 0.0 { return -x * y; } let t = x.ln(); t * w",
            |x, y, w| if x < 0.0 { -x * y } else { x.ln() * w },
        ),
        (
            "match () { _ if x > y => x - y, _ if x > w => (x - w).powi(2), _ => 0.5 * x }",
            |x, y, w| {
                if x > y {
                    x - y
                } else if x > w {
                    (x - w).powi(2)
                } else {
                    0.5 * x
                }
            },
        ),
    ];
    for (src, f) in cases {
        for point in [
            [0.7, -0.3, 1.1],
            [-1.3, 0.4, 0.2],
            [2.0, 2.5, -1.0],
            [0.3, 0.1, 0.2],
        ] {
            let (value, grad, _) = generated(src, point);
            assert!(
                close(value, f(point[0], point[1], point[2]), 1e-14),
                "{src}"
            );
            for i in 0..3 {
                let h = 1e-6;
                let (mut up, mut down) = (point, point);
                up[i] += h;
                down[i] -= h;
                let fd = (f(up[0], up[1], up[2]) - f(down[0], down[1], down[2])) / (2.0 * h);
                assert!(
                    close(grad[i], fd, 1e-6),
                    "{src} at {point:?}: ∂{i} = {} vs {fd}",
                    grad[i]
                );
            }
        }
    }
}

/// Random loop bodies: `acc += e(x[i], c[i], w)` over a differentiated slice `x`, a data slice
/// `c` and a scalar `w`, checked per element against the dual-number oracle summed by hand.
mod loops {
    use proptest::prelude::*;

    use super::{D, E, close, expr, oracle, source};
    use crate::diff;
    use crate::eval::{Interpreter, Value};
    use crate::graph::{NodeId, Op};
    use crate::testing::lower_fn;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

        #[test]
        fn loop_gradients_match_dual_numbers(
            e in expr(),
            data in prop::collection::vec((-1.5f64..1.5, -1.5f64..1.5), 1..5),
            w in -1.5f64..1.5,
        ) {
            let (xs, cs): (Vec<f64>, Vec<f64>) = data.into_iter().unzip();
            let mut want_w = 0.0;
            let mut want_x = Vec::new();
            let mut want_v = 0.0;
            for (x, c) in xs.iter().zip(&cs) {
                let d = oracle(&e, &[D::var(*x, 0), D::c(*c), D::var(w, 2)]);
                prop_assume!(d.v.is_finite() && d.d.iter().all(|t| t.is_finite() && t.abs() < 1e8));
                want_v += d.v;
                want_w += d.d[2];
                want_x.push(d.d[0]);
            }
            let body = rename3(&source(&e), "x[i]", "c[i]", "w");
            let src = format!("fn f(x: &[f64], c: &[f64], w: f64) -> f64 {{ let mut acc = 0.0; for i in 0..x.len() {{ acc += {body}; }} acc }}");
            check(
                &Case { src: &src, wrt: quote::quote!(wrt(x, w)), w: Some(w), xs: &xs, data: &[("c", &cs)], ints: &[] },
                (want_v, want_w, &want_x),
                (1e-11, 1e-9),
            )?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

        /// `acc += e(x[i], c[i], x[0])`: an element read at a fixed index in every iteration
        /// gets one contribution per iteration (scattered inside the loop, not once before it).
        #[test]
        fn a_fixed_element_gets_a_contribution_per_iteration(
            e in expr(),
            data in prop::collection::vec((-1.5f64..1.5, -1.5f64..1.5), 1..5),
        ) {
            check_fixed_element(&e, data)?;
        }
    }

    /// The case that found the bug: `w` (here `x[0]`) enters only additively, so its
    /// contribution is the same in every iteration.
    #[test]
    fn an_additive_fixed_element() {
        let e = E::Bin(
            '+',
            Box::new(E::Var(0)),
            Box::new(E::Fun("sin", Box::new(E::Var(2)))),
        );
        let data = vec![(0.5, 1.0), (-0.25, 2.0), (1.25, -1.0)];
        assert!(check_fixed_element(&e, data).is_ok());
    }

    fn check_fixed_element(e: &E, data: Vec<(f64, f64)>) -> Result<(), TestCaseError> {
        let (xs, cs): (Vec<f64>, Vec<f64>) = data.into_iter().unzip();
        let mut want_x = vec![0.0; xs.len()];
        let mut want_v = 0.0;
        for (i, (x, c)) in xs.iter().zip(&cs).enumerate() {
            let d = oracle(e, &[D::var(*x, 0), D::c(*c), D::var(xs[0], 2)]);
            prop_assume!(d.v.is_finite() && d.d.iter().all(|t| t.is_finite() && t.abs() < 1e8));
            want_v += d.v;
            want_x[i] += d.d[0];
            want_x[0] += d.d[2];
        }
        let body = rename3(&source(e), "x[i]", "c[i]", "x[0]");
        let src = format!(
            "fn f(x: &[f64], c: &[f64]) -> f64 {{ let mut acc = 0.0; for i in 0..x.len() {{ acc += {body}; }} acc }}"
        );
        check(
            &Case {
                src: &src,
                wrt: quote::quote!(wrt(x)),
                w: None,
                xs: &xs,
                data: &[("c", &cs)],
                ints: &[],
            },
            (want_v, 0.0, &want_x),
            (1e-11, 1e-9),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

        /// Nested loops over a flattened matrix `x` (rows × cols), the inner one with a carried
        /// row sum: `for r { let mut s = 0; for c { s += e(x[r*cols+c], d[c], w) } acc += s * s }`.
        #[test]
        fn nested_loop_gradients_match_dual_numbers(
            e in expr(),
            rows in 1usize..4,
            cols in 1usize..4,
            seed in prop::collection::vec(-1.5f64..1.5, 16),
            w in -1.5f64..1.5,
        ) {
            let xs: Vec<f64> = seed[..rows * cols].to_vec();
            let ds: Vec<f64> = seed[12..12 + cols].to_vec();
            // Oracle: s_r = Σ_c e(x[r,c], d[c], w); value Σ_r s_r²; ∂/∂x[r,c] = 2 s_r ∂e/∂x.
            let mut want_v = 0.0;
            let mut want_w = 0.0;
            let mut want_x = vec![0.0; rows * cols];
            for r in 0..rows {
                let terms: Vec<D> = (0..cols).map(|c| oracle(&e, &[D::var(xs[r * cols + c], 0), D::c(ds[c]), D::var(w, 2)])).collect();
                prop_assume!(terms.iter().all(|d| d.v.is_finite() && d.d.iter().all(|t| t.is_finite() && t.abs() < 1e6)));
                let s: f64 = terms.iter().map(|d| d.v).sum();
                want_v += s * s;
                want_w += 2.0 * s * terms.iter().map(|d| d.d[2]).sum::<f64>();
                for c in 0..cols {
                    want_x[r * cols + c] = 2.0 * s * terms[c].d[0];
                }
            }
            // Finite terms may still sum or square past the largest float (`inf vs inf`).
            prop_assume!(want_v.is_finite() && want_w.is_finite() && want_x.iter().all(|x| x.is_finite()));
            let body = rename3(&source(&e), "x[r * cols + c]", "d[c]", "w");
            let src = format!("fn f(x: &[f64], d: &[f64], w: f64, rows: usize, cols: usize) -> f64 {{ let mut acc = 0.0; for r in 0..rows {{ let mut s = 0.0; for c in 0..cols {{ s += {body}; }} acc += s * s; }} acc }}");
            check(
                &Case { src: &src, wrt: quote::quote!(wrt(x, w)), w: Some(w), xs: &xs, data: &[("d", &ds)], ints: &[("rows", rows), ("cols", cols)] },
                (want_v, want_w, &want_x),
                (1e-10, 1e-8),
            )?;
        }
    }

    /// A loop function for the real passes, and what the interpreter is given to run it: `x`
    /// is differentiated slice 0, `w` the scalar input (if `wrt` has one), `data` the data
    /// slices by name, `ints` integer symbols by name (any other integer symbol is `x.len()`).
    struct Case<'a> {
        src: &'a str,
        wrt: proc_macro2::TokenStream,
        w: Option<f64>,
        xs: &'a [f64],
        data: &'a [(&'a str, &'a [f64])],
        ints: &'a [(&'a str, usize)],
    }

    /// Lowers and differentiates `case.src` and checks the value, `∂/∂w` and the scattered
    /// `∂/∂x` against `want`, to the tolerances `(value, gradients)`.
    fn check(case: &Case, want: (f64, f64, &[f64]), tol: (f64, f64)) -> Result<(), TestCaseError> {
        let src = case.src;
        let cx = crate::ctxt::Ctxt::new();
        let args = crate::attr::parse(&cx, case.wrt.clone());
        cx.check()
            .expect("internal error: the case's `wrt` is rejected");
        let mut l = lower_fn(src.parse().expect("internal error: tokens"), &args);
        let inputs = l.inputs.clone();
        let (grad, effects) = diff::gradient_with_slices(&mut l.graph, l.output, &inputs, &[0])
            .expect("internal error: gradient");
        let w: Vec<f64> = case.w.into_iter().collect();
        let mut it = Interpreter::new(&l.graph, &w);
        it.slices = vec![case.xs.to_vec()];
        let len = i64::try_from(case.xs.len()).unwrap_or(0);
        let mut symbols = vec![Value::Int(len); 64];
        for n in 0..l.graph.len() {
            let id = NodeId(u32::try_from(n).unwrap_or(0));
            match l.graph.op(id) {
                Op::Index(s, _) => {
                    if let Some((_, d)) = case
                        .data
                        .iter()
                        .find(|(k, _)| *k == l.graph.symbol_name(*s))
                    {
                        it.data.insert(s.0, d.to_vec());
                    }
                }
                Op::Sym(s, _) => {
                    if let Some((_, v)) = case
                        .ints
                        .iter()
                        .find(|(k, _)| *k == l.graph.symbol_name(*s))
                    {
                        symbols.resize(symbols.len().max(s.0 as usize + 1), Value::Int(len));
                        symbols[s.0 as usize] = Value::Int(i64::try_from(*v).unwrap_or(0));
                    }
                }
                _ => {}
            }
        }
        it.symbols = symbols;
        let (want_v, want_w, want_x) = want;
        let value = it.eval(l.output).float();
        prop_assert!(
            close(value, want_v, tol.0),
            "value of {src}: {value} vs {want_v}"
        );
        let gw = grad.first().map_or(0.0, |g| it.eval(*g).float());
        prop_assert!(close(gw, want_w, tol.1), "∂/∂w of {src}: {gw} vs {want_w}");
        it.scattered = vec![vec![0.0; case.xs.len()]];
        if let Some(effect) = effects[0] {
            it.eval(effect);
        }
        for (i, (got, want)) in it.scattered[0].iter().zip(want_x).enumerate() {
            prop_assert!(
                close(*got, *want, tol.1),
                "∂/∂x[{i}] of {src}: {got} vs {want}"
            );
        }
        Ok(())
    }

    /// `x`, `y`, `w` of an oracle expression's source renamed (whole words only).
    fn rename3(body: &str, x: &str, y: &str, w: &str) -> String {
        let mut out = String::new();
        let chars: Vec<char> = body.chars().collect();
        for (k, ch) in chars.iter().enumerate() {
            let alone = |i: usize| {
                chars
                    .get(i)
                    .is_none_or(|c| !c.is_alphanumeric() && *c != '_')
            };
            let standalone = (k == 0 || alone(k - 1)) && alone(k + 1);
            match ch {
                'x' if standalone => out.push_str(x),
                'y' if standalone => out.push_str(y),
                'w' if standalone => out.push_str(w),
                _ => out.push(*ch),
            }
        }
        out
    }

    /// A recurrence `s = e(s, x[i], w)` run forward with duals: the value, `∂/∂w` and `∂/∂x[j]`.
    fn recurrence_oracle(e: &E, s0: f64, xs: &[f64], w: f64) -> Option<(f64, f64, Vec<f64>)> {
        let mut grad_x = Vec::new();
        let mut value = 0.0;
        let mut grad_w = 0.0;
        // The body's intermediates where the loop runs no iteration: a factor that does not
        // change from one iteration to the next (`(w.powi(-3)).exp()`) is computed once,
        // outside the loop, so one that is infinite puts the point outside the domain (its
        // zero adjoint times its infinite derivative is `NaN`, as in PyTorch and JAX).
        if xs.is_empty() {
            let s = oracle(e, &[D::c(s0), D::c(0.0), D::var(w, 2)]);
            if !(s.v.is_finite() && s.d.iter().all(|t| t.is_finite())) {
                return None;
            }
        }
        for j in 0..xs.len().max(1) {
            let mut s = D::c(s0);
            for (i, x) in xs.iter().enumerate() {
                let xi = if i == j { D::var(*x, 1) } else { D::c(*x) };
                s = oracle(e, &[s, xi, D::var(w, 2)]);
                if !(s.v.is_finite()
                    && s.v.abs() < 1e6
                    && s.d.iter().all(|t| t.is_finite() && t.abs() < 1e6))
                {
                    return None;
                }
            }
            value = s.v;
            grad_w = s.d[2];
            if j < xs.len() {
                grad_x.push(s.d[1]);
            }
        }
        Some((value, grad_w, grad_x))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Random recurrences `s = e(s, x[i], w)` (products, maxima, branches on `s`, …): the
        /// forward loop, the reverse sweep and the sums fused into it, against dual numbers
        /// carried through the iterations.
        #[test]
        fn recurrence_gradients_match_dual_numbers(
            e in expr(),
            xs in prop::collection::vec(-1.5f64..1.5, 0..4),
            w in -1.5f64..1.5,
            s0 in -1.0f64..1.0,
        ) {
            let Some((want_v, want_w, want_x)) = recurrence_oracle(&e, s0, &xs, w) else {
                return Ok(());
            };
            let body = rename3(&source(&e), "s", "x[i]", "w");
            let src = format!("fn f(x: &[f64], w: f64) -> f64 {{ let mut s = {s0:?}; for i in 0..x.len() {{ s = {body}; }} s }}");
            check(
                &Case { src: &src, wrt: quote::quote!(wrt(x, w)), w: Some(w), xs: &xs, data: &[], ints: &[] },
                (want_v, want_w, &want_x),
                (1e-11, 1e-8),
            )?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

        /// A random recurrence per row of a matrix, the rows' final values summed:
        /// `for r { let mut s = s0; for c { s = e(s, x[r*cols+c], w) } acc += s * s }`.
        #[test]
        fn nested_recurrence_gradients_match_dual_numbers(
            e in expr(),
            rows in 1usize..3,
            cols in 1usize..4,
            seed in prop::collection::vec(-1.5f64..1.5, 9),
            w in -1.5f64..1.5,
            s0 in -1.0f64..1.0,
        ) {
            let xs: Vec<f64> = seed[..rows * cols].to_vec();
            let mut want_v = 0.0;
            let mut want_w = 0.0;
            let mut want_x = Vec::new();
            for r in 0..rows {
                let Some((v, dw, dx)) = recurrence_oracle(&e, s0, &xs[r * cols..(r + 1) * cols], w) else {
                    return Ok(());
                };
                want_v += v * v;
                want_w += 2.0 * v * dw;
                want_x.extend(dx.iter().map(|d| 2.0 * v * d));
            }
            let body = rename3(&source(&e), "s", "x[r * cols + c]", "w");
            let src = format!("fn f(x: &[f64], w: f64, rows: usize, cols: usize) -> f64 {{ let mut acc = 0.0; for r in 0..rows {{ let mut s = {s0:?}; for c in 0..cols {{ s = {body}; }} acc += s * s; }} acc }}");
            check(
                &Case { src: &src, wrt: quote::quote!(wrt(x, w)), w: Some(w), xs: &xs, data: &[], ints: &[("rows", rows), ("cols", cols)] },
                (want_v, want_w, &want_x),
                (1e-10, 1e-7),
            )?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

        /// A random recurrence per row inside an outer recurrence over the rows:
        /// `for r { let mut s = s0; for c { s = e(s, x[r*cols+c], w) } p = p * s + s }`.
        #[test]
        fn recurrence_in_a_recurrence_matches_dual_numbers(
            e in expr(),
            rows in 1usize..4,
            cols in 1usize..3,
            seed in prop::collection::vec(-1.5f64..1.5, 6),
            w in -1.5f64..1.5,
            s0 in -1.0f64..1.0,
        ) {
            let xs: Vec<f64> = seed[..rows * cols].to_vec();
            // p and its derivatives (w, then each x) through the outer recurrence.
            let (mut p, mut dp_w, mut dp_x) = (0.5, 0.0, vec![0.0; rows * cols]);
            for r in 0..rows {
                let Some((v, dw, dx)) = recurrence_oracle(&e, s0, &xs[r * cols..(r + 1) * cols], w) else {
                    return Ok(());
                };
                // p' = p·s + s: dp' = dp·s + (p + 1)·ds
                dp_w = dp_w * v + (p + 1.0) * dw;
                for (j, d) in dp_x.iter_mut().enumerate() {
                    let ds = if j / cols == r { dx[j % cols] } else { 0.0 };
                    *d = *d * v + (p + 1.0) * ds;
                }
                p = p * v + v;
                prop_assume!(p.abs() < 1e6 && dp_w.abs() < 1e6 && dp_x.iter().all(|d| d.abs() < 1e6));
            }
            let body = rename3(&source(&e), "s", "x[r * cols + c]", "w");
            let src = format!("fn f(x: &[f64], w: f64, rows: usize, cols: usize) -> f64 {{ let mut p = 0.5; for r in 0..rows {{ let mut s = {s0:?}; for c in 0..cols {{ s = {body}; }} p = p * s + s; }} p }}");
            check(
                &Case { src: &src, wrt: quote::quote!(wrt(x, w)), w: Some(w), xs: &xs, data: &[], ints: &[("rows", rows), ("cols", cols)] },
                (p, dp_w, &dp_x),
                (1e-10, 1e-7),
            )?;
        }
    }
}
