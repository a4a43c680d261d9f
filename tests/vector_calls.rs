//! Vector-valued functions (`-> [f64; M]`) taking slices, called from other differentiable
//! functions with differentiated slices, runs of them (`&x[3..]`, `&x[3 * i..3 * i + 3]`) and
//! local arrays (`&[a, b, c]`, `&w`), their outputs fed to the next helper; and vector-valued
//! functions passing slices on. Each against hand-derived values (exact or 1e-12) or central
//! differences of the function itself.

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// `(p[0]·t − 1, p[1]·t)`.
#[differentiable]
fn line(p: &[f64; 2], t: f64) -> [f64; 2] {
    [p[0] * t - 1.0, p[1] * t]
}

#[differentiable]
fn line_cost(p: &[f64; 2], t: f64) -> f64 {
    let [u, v] = line(p, t);
    u * u + v * v
}

#[test]
fn an_array_passed_to_a_vector_valued_function_gets_its_gradient() {
    let (p, t) = ([0.5, -2.0], 3.0);
    let (value, g) = line_cost_grad(&p, t);
    let (u, v) = (p[0] * t - 1.0, p[1] * t);
    assert_eq!(value, u * u + v * v);
    // ∂/∂p₀ = 2u·t, ∂/∂p₁ = 2v·t, ∂/∂t = 2u·p₀ + 2v·p₁.
    assert_eq!(g.p, [2.0 * u * t, 2.0 * v * t]);
    assert!((g.t - (2.0 * u * p[0] + 2.0 * v * p[1])).abs() < 1e-12);
}

#[differentiable]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
}

#[differentiable(wrt(w, b))]
fn scores(w: &[f64], x: &[f64], b: f64) -> [f64; 2] {
    [dot(w, x) + b, dot(w, x) * b]
}

#[test]
fn a_vector_valued_function_passes_its_slice_on() {
    let (w, x, b) = ([1.0, 2.0, -1.0], [0.5, -0.25, 2.0], 1.5);
    let (r, jac) = scores_jacobian(&w, &x, b);
    let d: f64 = w.iter().zip(&x).map(|(a, c)| a * c).sum();
    assert_eq!(r, [d + b, d * b]);
    // ∇w of w·x + b is x; of (w·x)·b is b·x.
    assert_eq!(jac[0].w, x.to_vec());
    assert_eq!(jac[0].b, 1.0);
    assert_eq!(jac[1].w, x.iter().map(|v| b * v).collect::<Vec<_>>());
    assert_eq!(jac[1].b, d);
    let (_, g) = scores_vjp(&w, &x, b, &[2.0, -1.0]);
    assert_eq!(g.w, x.iter().map(|v| 2.0 * v - b * v).collect::<Vec<_>>());
    assert_eq!(g.b, 2.0 - d);
    let t = ScoresGrad {
        w: vec![1.0, 0.0, 2.0],
        b: -1.0,
    };
    let (_, dots) = scores_jvp(&w, &x, b, &t);
    let tx = x[0] + 2.0 * x[2];
    assert!((dots[0] - (tx - 1.0)).abs() < 1e-12);
    assert!((dots[1] - (b * tx - d)).abs() < 1e-12);
}

#[differentiable]
fn sq_norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

#[differentiable]
fn halves(x: &[f64]) -> [f64; 2] {
    let n = x.len() / 2;
    [sq_norm(&x[..n]), sq_norm(&x[n..])]
}

#[test]
fn a_vector_valued_function_passes_runs_of_its_slice_on() {
    let x = [1.0, -2.0, 3.0, 0.5, 4.0];
    let (r, jac) = halves_jacobian(&x);
    assert_eq!(r, [5.0, 9.0 + 0.25 + 16.0]);
    assert_eq!(jac[0].x, vec![2.0, -4.0, 0.0, 0.0, 0.0]);
    assert_eq!(jac[1].x, vec![0.0, 0.0, 6.0, 1.0, 8.0]);
    let (_, g) = halves_vjp(&x, &[1.0, 10.0]);
    assert_eq!(g.x, vec![2.0, -4.0, 60.0, 10.0, 80.0]);
}

/// `p` turned by the angle `a[0]` about z, scaled by `a[1]`.
#[differentiable]
fn turn(a: &[f64], p: &[f64]) -> [f64; 3] {
    let (c, s) = (a[0].cos(), a[0].sin());
    [
        a[1] * (c * p[0] - s * p[1]),
        a[1] * (s * p[0] + c * p[1]),
        a[1] * p[2],
    ]
}

/// Sub-slices of a differentiated slice in a loop over rows, a local array, outputs fed on.
#[differentiable]
fn rows_cost(x: &[f64], a: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() / 3 {
        let q = turn(&a[2 * i..2 * i + 2], &x[3 * i..3 * i + 3]);
        let shifted = [q[0] + k, q[1] * k, q[2]];
        let r = turn(&a[2 * i..], &shifted);
        s += r[0] * r[1] + r[2].sin();
    }
    s
}

#[test]
fn sub_slices_in_a_loop_and_local_arrays_chain_through_vector_valued_calls() {
    let x = [0.3, -1.2, 0.8, 1.5, 0.1, -0.4, -0.7, 0.9, 2.0];
    let a = [0.4, 1.3, -0.9, 0.7, 1.1, 0.8];
    let k = 0.6;
    let (value, g) = rows_cost_grad(&x, &a, k);
    assert!((value - rows_cost(&x, &a, k)).abs() < 1e-14);
    let mut all = x.to_vec();
    all.extend(a);
    all.push(k);
    let numeric = numeric_gradient(|v| rows_cost(&v[..9], &v[9..15], v[15]), &all);
    let mut ours = g.x.clone();
    ours.extend(&g.a);
    ours.push(g.k);
    assert_all_close(&ours, &numeric, 1e-7);
}

/// Only the first output of a three-output helper is read.
#[differentiable]
fn first_only(a: &[f64], p: &[f64]) -> f64 {
    turn(a, p)[0] * 2.0
}

#[test]
fn reading_some_outputs_seeds_the_others_with_zero() {
    let (a, p) = ([0.3, 2.0], [1.0, -1.0, 5.0]);
    let (_, g) = first_only_grad(&a, &p);
    let (c, s) = (a[0].cos(), a[0].sin());
    // 2·a₁·(c·p₀ − s·p₁).
    let want_a = [
        2.0 * a[1] * (-s * p[0] - c * p[1]),
        2.0 * (c * p[0] - s * p[1]),
    ];
    assert!((g.a[0] - want_a[0]).abs() < 1e-12 && (g.a[1] - want_a[1]).abs() < 1e-12);
    assert!((g.p[0] - 2.0 * a[1] * c).abs() < 1e-12);
    assert!((g.p[1] + 2.0 * a[1] * s).abs() < 1e-12);
    assert_eq!(g.p[2], 0.0);
}

/// A call under a condition whose run would be out of range where it is not taken.
#[differentiable]
fn guarded_tail(x: &[f64], k: f64) -> f64 {
    if x.len() > 4 {
        let r = turn(&x[3..], &[k, 1.0, 2.0]);
        r[0] + r[2]
    } else {
        k * x[0]
    }
}

#[test]
fn a_call_not_taken_runs_no_vector_jacobian_product() {
    // `&x[3..]` has one element here: `turn` would read `a[1]` past it.
    let (value, g) = guarded_tail_grad(&[2.0, 1.0, 0.5, 7.0], 3.0);
    assert_eq!(value, 6.0);
    assert_eq!(g.x, vec![3.0, 0.0, 0.0, 0.0]);
    assert_eq!(g.k, 2.0);
    let x = [2.0, 1.0, 0.5, 0.4, 1.5];
    let (_, g) = guarded_tail_grad(&x, 3.0);
    let numeric = numeric_gradient(
        |v| guarded_tail(&v[..5], v[5]),
        &[2.0, 1.0, 0.5, 0.4, 1.5, 3.0],
    );
    let mut ours = g.x.clone();
    ours.push(g.k);
    assert_all_close(&ours, &numeric, 1e-7);
}

/// A vector-valued caller: a local array and a run into one helper, its outputs into another.
#[differentiable]
fn chained(cam: &[f64], p: &[f64], w: f64) -> [f64; 3] {
    let po = [p[0] - cam[2], p[1] - cam[3], p[2] * w];
    let q = turn(&cam[..2], &po);
    let r = turn(&cam[4..], &[q[2], q[0], q[1]]);
    [r[0] * w, r[1] + q[0], r[2] / q[2]]
}

#[test]
fn a_vector_valued_caller_chains_through_helpers_taking_slices() {
    let cam = [0.4, 1.2, 0.3, -0.5, -0.8, 0.9];
    let p = [1.1, -0.6, 2.5];
    let w = 0.7;
    let (r, jac) = chained_jacobian(&cam, &p, w);
    assert_eq!(r, chained(&cam, &p, w));
    let mut all = cam.to_vec();
    all.extend(p);
    all.push(w);
    for (k, jac_k) in jac.iter().enumerate() {
        let numeric = numeric_gradient(|v| chained(&v[..6], &v[6..9], v[9])[k], &all);
        let mut row = jac_k.cam.clone();
        row.extend(&jac_k.p);
        row.push(jac_k.w);
        assert_all_close(&row, &numeric, 1e-7);
    }
    let seed = [0.5, -2.0, 1.5];
    let (_, g) = chained_vjp(&cam, &p, w, &seed);
    for (i, v) in g.cam.iter().enumerate() {
        let want: f64 = (0..3).map(|k| seed[k] * jac[k].cam[i]).sum();
        assert!((v - want).abs() < 1e-12 * want.abs().max(1.0));
    }
    let t = ChainedGrad {
        cam: vec![1.0, 0.0, -1.0, 0.5, 0.0, 2.0],
        p: vec![0.0, 1.0, 0.0],
        w: 0.3,
    };
    let (_, dots) = chained_jvp(&cam, &p, w, &t);
    for k in 0..3 {
        let mut want = t.w * jac[k].w;
        want += (0..6).map(|i| t.cam[i] * jac[k].cam[i]).sum::<f64>();
        want += (0..3).map(|i| t.p[i] * jac[k].p[i]).sum::<f64>();
        assert!((dots[k] - want).abs() < 1e-12 * want.abs().max(1.0));
    }
}

/// One slice passed twice to a vector-valued helper.
#[differentiable]
fn twice(x: &[f64]) -> f64 {
    let r = turn(x, x);
    r[0] + r[1] * r[2]
}

#[test]
fn a_slice_passed_twice_gets_both_gradients() {
    let x = [0.3, 1.5, -0.7];
    let (_, g) = twice_grad(&x);
    let numeric = numeric_gradient(twice, &x);
    assert_all_close(&g.x, &numeric, 1e-7);
}

/// A vector-valued helper given runs inside a loop recurrence (`p *= …`) and a running `max`.
#[differentiable]
fn recurrent(x: &[f64], a: &[f64]) -> f64 {
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() / 3 {
        let r = turn(&a[..2], &x[3 * i..3 * i + 3]);
        p *= r[0] + 0.5 * r[2];
        m = m.max(r[1]);
    }
    p + m
}

#[test]
fn vector_valued_calls_in_recurrences() {
    let x = [0.3, -1.2, 0.8, 1.5, 0.1, -0.4, -0.7, 0.9, 2.0];
    let a = [0.4, 1.3];
    let (value, g) = recurrent_grad(&x, &a);
    assert!((value - recurrent(&x, &a)).abs() < 1e-14);
    let mut all = x.to_vec();
    all.extend(a);
    let numeric = numeric_gradient(|v| recurrent(&v[..9], &v[9..]), &all);
    let mut ours = g.x.clone();
    ours.extend(&g.a);
    assert_all_close(&ours, &numeric, 1e-7);
}

/// The same from a vector-valued caller: each row of its Jacobian through the recurrences.
#[differentiable]
fn recurrent_pair(x: &[f64], a: &[f64]) -> [f64; 2] {
    let mut p = 1.0;
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() / 3 {
        let r = turn(&a[..2], &x[3 * i..3 * i + 3]);
        p *= r[0] + 0.5 * r[2];
        m = m.max(r[1]);
    }
    [p, m * a[0]]
}

#[test]
fn a_vector_valued_caller_with_recurrences() {
    let x = [0.3, -1.2, 0.8, 1.5, 0.1, -0.4, -0.7, 0.9, 2.0];
    let a = [0.4, 1.3];
    let (r, jac) = recurrent_pair_jacobian(&x, &a);
    assert_eq!(r, recurrent_pair(&x, &a));
    let mut all = x.to_vec();
    all.extend(a);
    for (k, row) in jac.iter().enumerate() {
        let numeric = numeric_gradient(|v| recurrent_pair(&v[..9], &v[9..])[k], &all);
        let mut ours = row.x.clone();
        ours.extend(&row.a);
        assert_all_close(&ours, &numeric, 1e-7);
    }
    let t = RecurrentPairGrad {
        x: (0..9).map(|i| 0.1 * f64::from(i) - 0.4).collect(),
        a: vec![0.5, -1.0],
    };
    let (_, dots) = recurrent_pair_jvp(&x, &a, &t);
    for (k, row) in jac.iter().enumerate() {
        let want: f64 = row.x.iter().zip(&t.x).map(|(j, v)| j * v).sum::<f64>()
            + row.a.iter().zip(&t.a).map(|(j, v)| j * v).sum::<f64>();
        assert!((dots[k] - want).abs() < 1e-12 * want.abs().max(1.0));
    }
}
