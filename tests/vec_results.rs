//! `Vec`-valued functions (`-> Vec<T>`, as many outputs as the data gives): `_jacobian`,
//! `_jacobian_into`, `_vjp`, `_jvp`, for the three ways a body builds its outputs (`map(…)
//! .collect()`, `vec![0.0; n]` written at the loop's index, `push` once an iteration).
//!
//! The oracles: Jacobians derived by hand (compared to 1e-12), num-dual's forward mode on a
//! generic twin of the function (one dual direction per parameter), central finite
//! differences of the function itself, and the identities `_vjp(seed) = seedᵀ·J` and
//! `_jvp(t) = J·t` against a Jacobian that is itself checked.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use num_dual::{Dual64, DualNum};
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

/// The Jacobian's rows, each flattened in the order of the gradient struct's fields.
fn rows<G: Gradient<f64>>(jac: &[G]) -> Vec<Vec<f64>> {
    jac.iter().map(Gradient::to_flat_vec).collect()
}

/// Central differences of every output of `f` with respect to every element of `x`: row `k`
/// is `∇f_k`.
fn numeric_jacobian(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<Vec<f64>> {
    let m = f(x).len();
    let mut j = vec![vec![0.0; x.len()]; m];
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[i] += h;
        down[i] -= h;
        let (fu, fd) = (f(&up), f(&down));
        assert_eq!((fu.len(), fd.len()), (m, m));
        for k in 0..m {
            j[k][i] = (fu[k] - fd[k]) / (2.0 * h);
        }
    }
    j
}

fn seed_times(j: &[Vec<f64>], seed: &[f64]) -> Vec<f64> {
    (0..j[0].len())
        .map(|i| (0..j.len()).map(|k| seed[k] * j[k][i]).sum())
        .collect()
}

fn times_tangent(j: &[Vec<f64>], t: &[f64]) -> Vec<f64> {
    j.iter()
        .map(|row| row.iter().zip(t).map(|(a, b)| a * b).sum())
        .collect()
}

/// The data of a small curve fit: `n` abscissae and observations.
fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 0.25 + 0.5 * i as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|&xi| 1.8 * (-0.4 * xi).exp() + 0.01 * (7.0 * xi).sin())
        .collect();
    (x, y)
}

// ---- `map(…).collect()` -------------------------------------------------------------------

/// `r_k = p₀·exp(−p₁·x_k) − y_k`.
#[differentiable(wrt(p))]
fn decay(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

/// The same, every float parameter differentiated (the data too).
#[differentiable]
fn decay_all(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect::<Vec<f64>>()
}

fn decay_by_hand(p: &[f64], x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<[f64; 2]>) {
    x.iter()
        .zip(y)
        .map(|(&xi, &yi)| {
            let e = (-p[1] * xi).exp();
            (p[0] * e - yi, [e, -p[0] * xi * e])
        })
        .unzip()
}

#[test]
fn collected_residuals_have_the_hand_derived_jacobian() {
    let (x, y) = data(9);
    let p = [2.0, 0.5];
    let (r, jac) = decay_jacobian(&p, &x, &y);
    let (r_hand, j_hand) = decay_by_hand(&p, &x, &y);
    assert_eq!(r, decay(&p, &x, &y));
    close(&r, &r_hand, 1e-12, "r");
    assert_eq!(jac.len(), 9);
    for (k, row) in jac.iter().enumerate() {
        close(&row.p, &j_hand[k], 1e-12, &format!("row {k}"));
    }
}

#[test]
fn with_every_parameter_differentiated_each_row_reads_its_own_observation() {
    let (x, y) = data(5);
    let p = [1.3, 0.7];
    let (r, jac) = decay_all_jacobian(&p, &x, &y);
    let (r_hand, j_hand) = decay_by_hand(&p, &x, &y);
    close(&r, &r_hand, 1e-12, "r");
    for (k, row) in jac.iter().enumerate() {
        close(&row.p, &j_hand[k], 1e-12, &format!("row {k}: p"));
        let e = (-p[1] * x[k]).exp();
        let mut dx = vec![0.0; 5];
        let mut dy = vec![0.0; 5];
        dx[k] = -p[0] * p[1] * e;
        dy[k] = -1.0;
        close(&row.x, &dx, 1e-12, &format!("row {k}: x"));
        close(&row.y, &dy, 1e-12, &format!("row {k}: y"));
    }
    // Central differences over every differentiated scalar (p, x, y flattened).
    let flat: Vec<f64> = p.iter().chain(&x).chain(&y).copied().collect();
    let fd = numeric_jacobian(|v| decay_all(&v[..2], &v[2..7], &v[7..]), &flat);
    for (k, (got, want)) in rows(&jac).iter().zip(&fd).enumerate() {
        close(got, want, 1e-8, &format!("row {k} vs central differences"));
    }
}

// ---- `vec![0.0; n]` written at the loop's index, after a prelude ---------------------------

/// `r_i = p₀·sin(p₁·x_i) + p₂² − y_i`, the `p₂²` computed once before the loop.
#[differentiable(wrt(p))]
fn filled(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    let s = p[2] * p[2];
    let mut r = vec![0.0; x.len()];
    for i in 0..x.len() {
        let e = (p[1] * x[i]).sin();
        r[i] = p[0] * e + s - y[i];
    }
    r
}

#[test]
fn outputs_written_at_the_loop_index_have_the_hand_derived_jacobian() {
    let (x, y) = data(6);
    let p = [0.9, 1.7, -0.3];
    let (r, jac) = filled_jacobian(&p, &x, &y);
    assert_eq!(r, filled(&p, &x, &y));
    for (k, row) in jac.iter().enumerate() {
        let (s, c) = (p[1] * x[k]).sin_cos();
        close(
            &row.p,
            &[s, p[0] * x[k] * c, 2.0 * p[2]],
            1e-12,
            &format!("row {k}"),
        );
    }
}

// ---- `push` once an iteration, the outputs coupled through a prelude loop -------------------

/// `s = a·Σt`, `r_k = sin(s − b·t_k)`: every output depends on every `t_j` through `s`.
#[differentiable]
fn pushed(a: f64, b: f64, t: &[f64]) -> Vec<f64> {
    let mut s = 0.0;
    for i in 0..t.len() {
        s += a * t[i];
    }
    let mut r = Vec::with_capacity(t.len());
    for &ti in t {
        r.push((s - ti * b).sin());
    }
    r
}

#[test]
fn pushed_outputs_coupled_by_a_prelude_have_the_hand_derived_jacobian() {
    let t = [1.0, -2.0, 0.5, 3.0];
    let (a, b) = (0.7, -1.1);
    let (r, jac) = pushed_jacobian(a, b, &t);
    let sum: f64 = t.iter().sum();
    let s = a * sum;
    for (k, row) in jac.iter().enumerate() {
        let c = (s - b * t[k]).cos();
        close(&[r[k]], &[(s - b * t[k]).sin()], 1e-15, "r");
        close(&[row.a, row.b], &[c * sum, -c * t[k]], 1e-12, "a, b");
        let dt: Vec<f64> = (0..4)
            .map(|j| c * (a - if j == k { b } else { 0.0 }))
            .collect();
        close(&row.t, &dt, 1e-12, &format!("row {k}: t"));
    }
    let flat: Vec<f64> = [a, b].iter().chain(&t).copied().collect();
    let fd = numeric_jacobian(|v| pushed(v[0], v[1], &v[2..]), &flat);
    for (k, (got, want)) in rows(&jac).iter().zip(&fd).enumerate() {
        close(got, want, 1e-8, &format!("row {k} vs central differences"));
    }
}

// ---- num-dual's forward mode on a generic twin ----------------------------------------------

/// A four-parameter model with a prelude scalar, `let`s in the item and a branch.
#[differentiable(wrt(p))]
fn model(p: &[f64], t: &[f64], y: &[f64]) -> Vec<f64> {
    let scale = (p[2] * p[2] + 1.0).sqrt();
    (0..t.len())
        .map(|i| {
            let u = p[1] * t[i] + p[2];
            let g = if u > 0.0 { u.tanh() } else { u.atan() };
            p[0] * g * scale + (p[3] * t[i]).sin() / scale - y[i]
        })
        .collect()
}

fn model_dual<D: DualNum<Primitive = f64> + Copy>(p: &[D], t: &[f64], y: &[f64]) -> Vec<D> {
    let scale = (p[2] * p[2] + 1.0).sqrt();
    (0..t.len())
        .map(|i| {
            let u = p[1] * t[i] + p[2];
            let g = if u.re() > 0.0 { u.tanh() } else { u.atan() };
            p[0] * g * scale + (p[3] * t[i]).sin() / scale - y[i]
        })
        .collect()
}

#[test]
fn a_model_with_a_prelude_and_a_branch_matches_num_dual() {
    let t: Vec<f64> = (0..12).map(|i| -1.5 + 0.3 * f64::from(i)).collect();
    let y: Vec<f64> = t.iter().map(|v| 0.5 * v).collect();
    let p = [1.2, 0.8, -0.2, 1.9];
    let (r, jac) = model_jacobian(&p, &t, &y);
    let duals: Vec<Vec<Dual64>> = (0..4)
        .map(|j| {
            let pd: Vec<Dual64> = (0..4)
                .map(|i| Dual64::new(p[i], if i == j { 1.0 } else { 0.0 }))
                .collect();
            model_dual(&pd, &t, &y)
        })
        .collect();
    let value: Vec<f64> = duals[0].iter().map(|d| d.re).collect();
    close(&r, &value, 1e-15, "value");
    for (k, row) in jac.iter().enumerate() {
        let want: Vec<f64> = (0..4).map(|j| duals[j][k].eps).collect();
        close(&row.p, &want, 1e-12, &format!("row {k} vs num-dual"));
    }
}

// ---- iterator adaptors as the items ---------------------------------------------------------

/// One output per pair of neighbours: `r_k = p₀·(x_{k+1} − x_k) − p₁·x_k²`.
#[differentiable(wrt(p))]
fn steps(p: &[f64], x: &[f64]) -> Vec<f64> {
    x.windows(2)
        .map(|w| p[0] * (w[1] - w[0]) - p[1] * w[0] * w[0])
        .collect()
}

#[test]
fn windows_give_one_output_per_pair() {
    let x = [0.5, 1.5, -1.0, 2.0, 0.25];
    let p = [1.5, -0.5];
    let (r, jac) = steps_jacobian(&p, &x);
    assert_eq!((r.len(), jac.len()), (4, 4));
    for k in 0..4 {
        close(
            &[r[k]],
            &[p[0] * (x[k + 1] - x[k]) - p[1] * x[k] * x[k]],
            1e-15,
            "r",
        );
        close(
            &jac[k].p,
            &[x[k + 1] - x[k], -x[k] * x[k]],
            1e-15,
            &format!("row {k}"),
        );
    }
}

// ---- `_vjp`, `_jvp` ------------------------------------------------------------------------

#[test]
fn vjp_and_jvp_agree_with_the_jacobian() {
    let (x, y) = data(7);
    let p = [1.3, 0.7];
    let (r, jac) = decay_all_jacobian(&p, &x, &y);
    let j = rows(&jac);
    let seed: Vec<f64> = (0..7).map(|k| 0.3 * f64::from(k) - 1.0).collect();
    let (r2, g) = decay_all_vjp(&p, &x, &y, &seed);
    assert_eq!(r, r2);
    close(&g.to_flat_vec(), &seed_times(&j, &seed), 1e-12, "vjp");
    // The gradient of ½Σr², one sweep: seed = r.
    let (_, g) = decay_vjp(&p, &x, &y, &r);
    let (_, jp) = decay_jacobian(&p, &x, &y);
    close(&g.p, &seed_times(&rows(&jp), &r), 1e-12, "Jᵀr");

    let tangent = DecayAllGrad {
        p: vec![0.5, -2.0],
        x: (0..7).map(|i| f64::from(i).cos()).collect(),
        y: vec![1.0; 7],
    };
    let (r3, dr) = decay_all_jvp(&p, &x, &y, &tangent);
    assert_eq!(r, r3);
    close(
        &dr,
        &times_tangent(&j, &tangent.to_flat_vec()),
        1e-12,
        "jvp",
    );

    let t = [1.0, -2.0, 0.5, 3.0];
    let (_, jac) = pushed_jacobian(0.7, -1.1, &t);
    let seed = [1.0, 2.0, -1.0, 0.5];
    let (_, g) = pushed_vjp(0.7, -1.1, &t, &seed);
    close(
        &g.to_flat_vec(),
        &seed_times(&rows(&jac), &seed),
        1e-12,
        "vjp through a prelude loop",
    );
}

#[test]
#[should_panic(expected = "one element per output")]
fn a_seed_of_the_wrong_length_is_refused() {
    let (x, y) = data(3);
    let _ = decay_vjp(&[1.0, 1.0], &x, &y, &[1.0, 2.0]);
}

// ---- lengths from call to call -------------------------------------------------------------

#[test]
fn jacobian_into_follows_the_length_of_the_data_from_call_to_call() {
    let p = [2.0, 0.5];
    let (mut out, mut jac) = (Vec::new(), Vec::new());
    for n in [5, 2, 7, 0, 3] {
        let (x, y) = data(n);
        decay_jacobian_into(&p, &x, &y, &mut out, &mut jac);
        let (r_hand, j_hand) = decay_by_hand(&p, &x, &y);
        assert_eq!((out.len(), jac.len()), (n, n));
        close(&out, &r_hand, 1e-12, &format!("r, n = {n}"));
        for k in 0..n {
            close(&jac[k].p, &j_hand[k], 1e-12, &format!("row {k}, n = {n}"));
        }
        assert_eq!((out.clone(), jac.clone()), decay_jacobian(&p, &x, &y));
    }
}

// ---- f32 ------------------------------------------------------------------------------------

#[differentiable(wrt(w))]
fn affine32(w: &[f32], x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| w[0] * v * v + w[1]).collect()
}

#[test]
fn f32_outputs() {
    let x = [1.0_f32, -2.0, 0.5];
    let (r, jac) = affine32_jacobian(&[0.5, 3.0], &x);
    assert_eq!(r, vec![3.5_f32, 5.0, 3.125]);
    for k in 0..3 {
        assert_eq!(jac[k].w, vec![x[k] * x[k], 1.0]);
    }
}

// ---- the items' order: `enumerate`, `rev` ----------------------------------------------------

/// `r_k = p₀·k + p₁·x_k²`, over `enumerate`.
#[differentiable(wrt(p))]
fn indexed(p: &[f64], x: &[f64]) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(k, v)| p[0] * k as f64 + p[1] * v * v)
        .collect()
}

/// The outputs in reverse order: `r_k = p₀·x_{n−1−k}³`.
#[differentiable(wrt(p))]
fn reversed(p: &[f64], x: &[f64]) -> Vec<f64> {
    let mut r = Vec::new();
    for i in (0..x.len()).rev() {
        r.push(p[0] * x[i] * x[i] * x[i]);
    }
    r
}

#[test]
fn each_row_belongs_to_its_own_item_in_the_iterators_order() {
    let x = [0.5, -1.0, 2.0, 1.5];
    let (r, jac) = indexed_jacobian(&[0.3, -0.7], &x);
    assert_eq!(r, indexed(&[0.3, -0.7], &x));
    for k in 0..4 {
        assert_eq!(jac[k].p, vec![k as f64, x[k] * x[k]], "row {k}");
    }
    let (r, jac) = reversed_jacobian(&[2.0], &x);
    assert_eq!(r, reversed(&[2.0], &x));
    for k in 0..4 {
        let v = x[3 - k];
        assert_eq!(jac[k].p, vec![v * v * v], "row {k}");
    }
    let seed = [1.0, -1.0, 0.5, 2.0];
    let (_, g) = reversed_vjp(&[2.0], &x, &seed);
    let want: f64 = (0..4).map(|k| seed[k] * x[3 - k].powi(3)).sum();
    close(&g.p, &[want], 1e-15, "vjp in reverse order");
}

// ---- Outputs that call another differentiable function (a helper given a slice): the
// generated items compile without warnings (the workspace's clippy runs with `-D warnings`).

#[differentiable]
fn dot2(a: &[f64], b: &[f64]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[differentiable(wrt(p))]
fn lines(p: &[f64], x: &[f64]) -> Vec<f64> {
    x.iter().map(|xi| dot2(p, &[*xi, 1.0])).collect()
}

#[test]
fn outputs_calling_a_helper_given_the_parameters_have_its_jacobian() {
    let (p, x) = ([0.5, -2.0], [1.0, 3.0, -0.5]);
    let (value, jac) = lines_jacobian(&p, &x);
    close(&value, &[-1.5, -0.5, -2.25], 1e-12, "value");
    // Row k is ∂(p₀x_k + p₁)/∂p = [x_k, 1].
    for (k, xk) in x.iter().enumerate() {
        close(&jac[k].p, &[*xk, 1.0], 1e-12, "row");
    }
}
