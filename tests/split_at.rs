//! `let (a, b) = x.split_at(k);` on differentiated slices and local arrays: the runs read,
//! measured, iterated and passed to other differentiable functions like `&x[..k]` and
//! `&x[k..]`; the gradient lands in the right range. Against hand-derived gradients and
//! central differences.

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

#[differentiable]
fn sq_norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

/// Σ a² over the first `k`, Σ sin over the rest.
#[differentiable]
#[allow(clippy::needless_range_loop)] // a run read by index is what is tested
fn split_cost(x: &[f64], k: usize) -> f64 {
    let (a, b) = x.split_at(k);
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * a[i];
    }
    s + b.iter().map(|v| v.sin()).sum::<f64>() + b.len() as f64
}

#[test]
fn reads_and_iterations_of_the_runs_land_in_their_ranges() {
    let x = [1.0, -2.0, 0.5, 3.0, -1.0];
    let (value, g) = split_cost_grad(&x, 2);
    let want = 1.0 + 4.0 + 0.5f64.sin() + 3.0f64.sin() + (-1.0f64).sin() + 3.0;
    assert!((value - want).abs() < 1e-14);
    assert_eq!(
        g.x,
        vec![2.0, -4.0, 0.5f64.cos(), 3.0f64.cos(), (-1.0f64).cos()]
    );
    // At the ends: all in `b`, all in `a`.
    assert_eq!(split_cost_grad(&x, 0).1.x, x.map(f64::cos).to_vec());
    assert_eq!(split_cost_grad(&x, 5).1.x, x.map(|v| 2.0 * v).to_vec());
}

/// The runs passed to another function, whole and zipped.
#[differentiable]
#[allow(clippy::needless_borrow)] // a run passed both ways, `a` and `&b`, is what is tested
fn split_calls(x: &[f64], w: f64) -> f64 {
    let (a, b) = x.split_at(x.len() / 2);
    let pairs = a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    w * sq_norm(a) + sq_norm(&b) * pairs
}

#[test]
fn runs_passed_to_calls_get_their_gradient() {
    let x = [0.3, -1.1, 0.7, 1.9, -0.4];
    let w = 1.7;
    let (value, g) = split_calls_grad(&x, w);
    assert!((value - split_calls(&x, w)).abs() < 1e-14);
    // a = x[..2], b = x[2..]: pairs = x0·x2 + x1·x3.
    let (na, nb) = (
        x[0] * x[0] + x[1] * x[1],
        x[2] * x[2] + x[3] * x[3] + x[4] * x[4],
    );
    let pairs = x[0] * x[2] + x[1] * x[3];
    let want = [
        2.0 * w * x[0] + nb * x[2],
        2.0 * w * x[1] + nb * x[3],
        2.0 * x[2] * pairs + nb * x[0],
        2.0 * x[3] * pairs + nb * x[1],
        2.0 * x[4] * pairs,
    ];
    for (i, (a, b)) in g.x.iter().zip(want).enumerate() {
        assert!((a - b).abs() < 1e-12, "{i}: {a} vs {b}");
    }
    assert!((g.w - na).abs() < 1e-12);
}

/// A split of a local array, and of a run.
#[differentiable]
fn split_local(x: &[f64]) -> f64 {
    let z = [x[0] * 2.0, x[1].exp(), x[2] * x[0], x[1]];
    let (p, q) = z.split_at(1);
    let (q1, q2) = q.split_at(2);
    p[0] * q1[1] + q2.iter().sum::<f64>() + q1[0] * q2.len() as f64
}

#[test]
fn a_local_array_and_a_run_split_again() {
    let x = [0.6, -0.3, 1.4];
    let (value, g) = split_local_grad(&x);
    assert!((value - split_local(&x)).abs() < 1e-14);
    let numeric = numeric_gradient(split_local, &x);
    assert_all_close(&g.x, &numeric, 1e-8);
}

/// Runs passed to a vector-valued helper.
#[differentiable]
fn scale_by(s: &[f64], p: &[f64]) -> [f64; 2] {
    [s[0] * p[0], s[0] * p[1] + s[1]]
}

#[differentiable]
fn split_vector(x: &[f64]) -> f64 {
    let (s, p) = x.split_at(2);
    let [u, v] = scale_by(s, p);
    u * v
}

#[test]
fn runs_passed_to_a_vector_valued_function() {
    let x = [1.5, -0.5, 2.0, 3.0];
    let (_, g) = split_vector_grad(&x);
    // u = x0·x2, v = x0·x3 + x1: ∇(u·v).
    let (u, v) = (x[0] * x[2], x[0] * x[3] + x[1]);
    let want = [x[2] * v + u * x[3], u, x[0] * v, u * x[0]];
    assert_eq!(g.x, want.to_vec());
}

/// `split_at` of a run of a slice and of a local array (`x[1..].split_at(k)`, `z[..n].split_at(k)`):
/// the parts start where the run does.
#[differentiable]
fn split_of_runs(x: &[f64], k: usize) -> f64 {
    let (a, b) = x[1..].split_at(k);
    let mut z = vec![0.0; x.len()];
    for i in 0..x.len() {
        z[i] = x[i] * x[i];
    }
    let (c, d) = z[..x.len() - 1].split_at(k);
    let mut s = 0.0;
    for v in a {
        s += v * 2.0;
    }
    s + sq_norm(b) + c.iter().sum::<f64>() - d.len() as f64 * d.iter().sum::<f64>()
}

#[test]
fn runs_split_again() {
    let x = [1.0, -2.0, 0.5, 3.0, -1.0];
    for k in 0..=3 {
        let (value, g) = split_of_runs_grad(&x, k);
        assert_eq!(value, split_of_runs(&x, k), "k = {k}");
        let want = numeric_gradient(|x| split_of_runs(x, k), &x);
        assert_all_close(&g.x, &want, 1e-7);
    }
    // k = 1: a = [-2], b = [0.5, 3, -1], c = [1], d = [4, 0.25, 9] (3 of them).
    let (_, g) = split_of_runs_grad(&x, 1);
    assert_eq!(
        g.x,
        vec![
            2.0,
            2.0 - 3.0 * 2.0 * -2.0,
            2.0 * 0.5 - 3.0 * 2.0 * 0.5,
            2.0 * 3.0 - 3.0 * 2.0 * 3.0,
            -2.0
        ]
    );
}
