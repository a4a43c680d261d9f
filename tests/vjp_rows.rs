//! A vector-valued caller's Jacobian through vector-valued helpers given slices: two rows share
//! one call of the helper's hidden `__vjp_rows` (one forward pass of the helper for both), a
//! local array passed to the helper gets each row's adjoint, and a helper calling a helper
//! shares the inner call too.
//!
//! The oracles: `__vjp_rows` itself against gradients derived by hand (1e-12), and every
//! Jacobian against num-dual's forward mode on an independent generic twin (1e-12) and central
//! differences (1e-6); a caller with three rows (a pair and one left over), runs of one slice,
//! and a call under a condition (which keeps one call per row) among them.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64, DualStruct, jacobian};
use symgrad::{Gradient, differentiable};

/// `|a − b| ≤ tol·max(1, |b|)` for every entry.
fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0),
            "{what}[{i}]: {a} vs {b} (difference {})",
            (a - b).abs()
        );
    }
}

/// `[a₀p₀ − a₁p₁, a₁p₀ + a₀p₁, sin(a₂p₀)·p₁]`.
#[differentiable]
fn mix(a: &[f64], p: &[f64]) -> [f64; 3] {
    [
        a[0] * p[0] - a[1] * p[1],
        a[1] * p[0] + a[0] * p[1],
        (a[2] * p[0]).sin() * p[1],
    ]
}

/// A helper calling `mix` with a local array.
#[differentiable]
fn chain(a: &[f64], x: &[f64]) -> [f64; 3] {
    let q = [x[0] * x[1], x[1].exp(), x[0] - a[3]];
    let m = mix(a, &q);
    [m[0] + m[2], m[1] * q[2], m[2] / (1.0 + m[0] * m[0])]
}

/// Two rows, one call of `chain`.
#[differentiable(wrt(a, x, s))]
fn two_rows(a: &[f64; 4], x: &[f64; 2], s: f64) -> [f64; 2] {
    let c = chain(a, x);
    [s * c[0] + c[1], c[2] * c[1] - s]
}

/// Three rows (a pair shares a call, the third has its own), runs of one slice.
#[differentiable]
fn three_rows(v: &[f64]) -> [f64; 3] {
    let c = chain(&v[0..4], &v[4..6]);
    [c[0], c[1] * c[2], c[2] + v[0]]
}

/// A scalar parameter read through a local array passed to the shared call: its entries read
/// the adjoint the merged call fills (once).
#[differentiable]
fn scaled_rows(a: &[f64], x: &[f64], s: f64) -> [f64; 2] {
    let q = [x[0] * s, x[1] - s];
    let m = mix(a, &q);
    [m[0] * s, m[1] * m[2]]
}

/// The call under a condition: one product per row, each where its seed is not zero.
#[differentiable]
fn guarded_rows(a: &[f64], x: &[f64]) -> [f64; 2] {
    if x[0] > 0.0 {
        let m = mix(a, x);
        [m[0], m[1] + m[2]]
    } else {
        [a[0] * x[0], a[1]]
    }
}

// ---- the independent twins, for num-dual

fn mix_dual<D: DualNum<Primitive = f64> + Copy>(a: &[D], p: &[D]) -> [D; 3] {
    [
        a[0] * p[0] - a[1] * p[1],
        a[1] * p[0] + a[0] * p[1],
        (a[2] * p[0]).sin() * p[1],
    ]
}

fn chain_dual<D: DualNum<Primitive = f64> + Copy>(a: &[D], x: &[D]) -> [D; 3] {
    let q = [x[0] * x[1], x[1].exp(), x[0] - a[3]];
    let m = mix_dual(a, &q);
    [m[0] + m[2], m[1] * q[2], m[2] / (D::one() + m[0] * m[0])]
}

/// num-dual's Jacobian of `f` at `x`: the value and the rows.
fn dual_jacobian<const N: usize, const M: usize>(
    f: impl Fn(&[DualSVec64<N>; N]) -> [DualSVec64<N>; M],
    x: [f64; N],
) -> ([f64; M], Vec<Vec<f64>>) {
    let (value, j) = jacobian(
        |v: SVector<DualSVec64<N>, N>| {
            let v: [DualSVec64<N>; N] = v.into();
            SVector::from(f(&v))
        },
        &SVector::from(x),
    );
    let rows = (0..M)
        .map(|k| (0..N).map(|i| j[(k, i)]).collect())
        .collect();
    (value.into(), rows)
}

/// Central differences of `f` at `x`: row `k` is `∇f_k`.
fn numeric_jacobian<const M: usize>(f: impl Fn(&[f64]) -> [f64; M], x: &[f64]) -> Vec<Vec<f64>> {
    let mut j = vec![vec![0.0; x.len()]; M];
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[i] += h;
        down[i] -= h;
        let (fu, fd) = (f(&up), f(&down));
        for k in 0..M {
            j[k][i] = (fu[k] - fd[k]) / (2.0 * h);
        }
    }
    j
}

/// `mix::__vjp_rows` adds each row's `Σ_k seed[k]·∇f_k` into that row's sinks, a shorter seed
/// padded with zeros: against the gradients derived by hand.
#[test]
fn vjp_rows_adds_each_rows_product_into_its_sinks() {
    let (a, p) = ([0.7, -1.2, 0.45], [1.3, 0.8]);
    let seeds: [&[f64]; 2] = [&[0.5, -2.0, 1.5], &[3.0, 0.25]];
    let (mut ga, mut gp) = (
        [[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]],
        [[0.1, 0.2], [0.0, -0.3]],
    );
    let (before_a, before_p) = (ga, gp);
    {
        let [ga0, ga1] = &mut ga;
        let [gp0, gp1] = &mut gp;
        mix::__vjp_rows(
            &a,
            &p,
            seeds,
            [&mut ga0[..], &mut ga1[..]],
            [&mut gp0[..], &mut gp1[..]],
        );
    }
    let (c, s) = ((a[2] * p[0]).cos(), (a[2] * p[0]).sin());
    for r in 0..2 {
        let seed = [
            seeds[r][0],
            seeds[r][1],
            seeds[r].get(2).copied().unwrap_or(0.0),
        ];
        let want_a = [
            seed[0] * p[0] + seed[1] * p[1],
            -seed[0] * p[1] + seed[1] * p[0],
            seed[2] * c * p[0] * p[1],
        ];
        let want_p = [
            seed[0] * a[0] + seed[1] * a[1] + seed[2] * c * a[2] * p[1],
            -seed[0] * a[1] + seed[1] * a[0] + seed[2] * s,
        ];
        for i in 0..3 {
            let got = ga[r][i] - before_a[r][i];
            assert!(
                (got - want_a[i]).abs() < 1e-12,
                "row {r}: ∇a[{i}] {got} vs {}",
                want_a[i]
            );
        }
        for i in 0..2 {
            let got = gp[r][i] - before_p[r][i];
            assert!(
                (got - want_p[i]).abs() < 1e-12,
                "row {r}: ∇p[{i}] {got} vs {}",
                want_p[i]
            );
        }
    }
}

/// `chain::__vjp_rows` (which calls `mix::__vjp_rows` with a local array) gives both rows of
/// `chain`'s own Jacobian, seeded with unit vectors.
#[test]
fn nested_vjp_rows_give_the_helpers_jacobian() {
    let (a, x) = ([0.7, -1.2, 0.45, 0.3], [1.1, -0.4]);
    let mut q = [0.0; 6];
    q[..4].copy_from_slice(&a);
    q[4..].copy_from_slice(&x);
    let (_, want) = dual_jacobian(|v| chain_dual(&v[..4], &v[4..]), q);
    for pair in [[0, 1], [1, 2], [2, 0]] {
        let (mut ga, mut gx) = ([[0.0; 4]; 2], [[0.0; 2]; 2]);
        let unit = |k: usize| -> [f64; 3] { core::array::from_fn(|i| f64::from(u8::from(i == k))) };
        let (s0, s1) = (unit(pair[0]), unit(pair[1]));
        {
            let [ga0, ga1] = &mut ga;
            let [gx0, gx1] = &mut gx;
            chain::__vjp_rows(
                &a,
                &x,
                [&s0, &s1],
                [&mut ga0[..], &mut ga1[..]],
                [&mut gx0[..], &mut gx1[..]],
            );
        }
        for (r, k) in pair.into_iter().enumerate() {
            let mut got = ga[r].to_vec();
            got.extend(gx[r]);
            close(&got, &want[k], 1e-12, &format!("∇chain[{k}] as row {r}"));
        }
    }
}

#[test]
fn two_rows_jacobian_matches_num_dual_and_differences() {
    let (a, x, s) = ([0.7, -1.2, 0.45, 0.3], [1.1, -0.4], 0.8);
    let (value, jac) = two_rows_jacobian(&a, &x, s);
    let mut q = [0.0; 7];
    q[..4].copy_from_slice(&a);
    q[4..6].copy_from_slice(&x);
    q[6] = s;
    let (f, want) = dual_jacobian(
        |v| {
            let c = chain_dual(&v[..4], &v[4..6]);
            [v[6] * c[0] + c[1], c[2] * c[1] - v[6]]
        },
        q,
    );
    close(&value, &f, 1e-12, "value");
    let numeric = numeric_jacobian(
        |v| {
            let (a, x) = (v[..4].try_into().unwrap(), v[4..6].try_into().unwrap());
            two_rows(a, x, v[6])
        },
        &q,
    );
    for k in 0..2 {
        let got = jac[k].to_flat_vec();
        close(&got, &want[k], 1e-12, &format!("row {k} vs num-dual"));
        close(&got, &numeric[k], 1e-6, &format!("row {k} vs differences"));
    }
    // `_jacobian_into` over rows that held other values: every entry overwritten.
    let mut rows = [TwoRowsGrad {
        a: [9.0; 4],
        x: [9.0; 2],
        s: 9.0,
    }; 2];
    let again = two_rows_jacobian_into(&a, &x, s, &mut rows);
    assert_eq!(again, value);
    assert_eq!(rows, jac);
}

#[test]
fn three_rows_jacobian_matches_num_dual_and_differences() {
    for v in [
        [0.7, -1.2, 0.45, 0.3, 1.1, -0.4],
        [-0.2, 0.9, 1.3, -0.6, 0.5, 0.7],
    ] {
        let (value, jac) = three_rows_jacobian(&v);
        let (f, want) = dual_jacobian(
            |v| {
                let c = chain_dual(&v[0..4], &v[4..6]);
                [c[0], c[1] * c[2], c[2] + v[0]]
            },
            v,
        );
        close(&value, &f, 1e-12, "value");
        let numeric = numeric_jacobian(three_rows, &v);
        for k in 0..3 {
            close(&jac[k].v, &want[k], 1e-12, &format!("row {k} vs num-dual"));
            close(
                &jac[k].v,
                &numeric[k],
                1e-6,
                &format!("row {k} vs differences"),
            );
        }
    }
}

#[test]
fn a_guarded_call_keeps_its_products_on_both_sides() {
    let a = [0.7, -1.2, 0.45];
    for x in [[1.3, 0.8], [-0.5, 0.9]] {
        let (value, jac) = guarded_rows_jacobian(&a, &x);
        let mut q = [0.0; 5];
        q[..3].copy_from_slice(&a);
        q[3..].copy_from_slice(&x);
        let (f, want) = dual_jacobian(
            |v| {
                let (a, x) = (&v[..3], &v[3..]);
                if x[0].re() > 0.0 {
                    let m = mix_dual(a, x);
                    [m[0], m[1] + m[2]]
                } else {
                    [a[0] * x[0], a[1]]
                }
            },
            q,
        );
        close(&value, &f, 1e-12, "value");
        for k in 0..2 {
            let mut got = jac[k].a.clone();
            got.extend(&jac[k].x);
            close(&got, &want[k], 1e-12, &format!("at {x:?}: row {k}"));
        }
    }
}

#[test]
fn a_scalar_through_a_shared_calls_local_array_is_counted_once() {
    let (a, x, s) = ([0.7, -1.2, 0.45], [1.3, 0.8], 0.6);
    let (value, jac) = scaled_rows_jacobian(&a, &x, s);
    let mut q = [0.0; 6];
    q[..3].copy_from_slice(&a);
    q[3..5].copy_from_slice(&x);
    q[5] = s;
    let (f, want) = dual_jacobian(
        |v| {
            let q = [v[3] * v[5], v[4] - v[5]];
            let m = mix_dual(&v[..3], &q);
            [m[0] * v[5], m[1] * m[2]]
        },
        q,
    );
    close(&value, &f, 1e-12, "value");
    for k in 0..2 {
        close(&jac[k].to_flat_vec(), &want[k], 1e-12, &format!("row {k}"));
    }
}

// ---- a helper running a recurrence: each row's sweep over one forward loop's trace

/// A vector-valued helper given slices whose outputs come out of a recurrence (a decaying
/// state and a running product, coupled).
#[differentiable]
fn decaying(a: &[f64], x: &[f64]) -> [f64; 2] {
    let mut h = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        let hn = (a[0] * h + a[1] * x[i]).tanh();
        p *= 1.0 + 0.5 * hn * x[i];
        h = hn;
    }
    [h * a[2], p]
}

/// Three rows through `decaying` (a pair shares its `__vjp_rows`, the third has its own call).
#[differentiable]
fn three_decaying_rows(a: &[f64], x: &[f64]) -> [f64; 3] {
    let d = decaying(a, x);
    [d[0] * d[1], d[1] - a[0], d[0].sin()]
}

fn decaying_dual<D: DualNum<Primitive = f64> + Copy>(a: &[D], x: &[D]) -> [D; 2] {
    let (mut h, mut p) = (D::zero(), D::one());
    for &xi in x {
        let hn = (a[0] * h + a[1] * xi).tanh();
        p *= D::one() + hn * xi * 0.5;
        h = hn;
    }
    [h * a[2], p]
}

#[test]
fn three_rows_through_a_recurrence_match_num_dual_and_differences() {
    for v in [
        [0.7, -1.2, 0.45, 0.3, 1.1, -0.4],
        [-0.2, 0.9, 1.3, -0.6, 0.5, 0.7],
    ] {
        let (value, jac) = three_decaying_rows_jacobian(&v[0..3], &v[3..6]);
        let (f, want) = dual_jacobian(
            |v| {
                let d = decaying_dual(&v[0..3], &v[3..6]);
                [d[0] * d[1], d[1] - v[0], d[0].sin()]
            },
            v,
        );
        close(&value, &f, 1e-12, "value");
        let numeric = numeric_jacobian(|v| three_decaying_rows(&v[0..3], &v[3..6]), &v);
        for k in 0..3 {
            let row = jac[k].to_flat_vec();
            close(&row, &want[k], 1e-12, &format!("row {k} vs num-dual"));
            close(&row, &numeric[k], 1e-6, &format!("row {k} vs differences"));
        }
    }
}
