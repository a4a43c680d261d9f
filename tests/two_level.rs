//! Two-level indexing of data (`inputs[k][0]` on `&[[f64; 2]]`, `&[Vec<f64>]`, integer pairs as
//! indices), checked against the flat form and central differences.

#![allow(clippy::needless_range_loop)] // the index forms, as users write them

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// A line through pairs `(x, y)`, and a penalty on the differences along graph edges.
#[differentiable(wrt(theta))]
fn pairs(theta: &[f64], inputs: &[[f64; 2]], edges: &[Vec<usize>]) -> f64 {
    let mut s = 0.0;
    for k in 0..inputs.len() {
        s += (theta[0] * inputs[k][0] + theta[1] - inputs[k][1]).powi(2);
    }
    for e in 0..edges.len() {
        let (a, b) = (edges[e][0], edges[e][1]);
        s += 0.5 * (theta[a] - theta[b]).powi(2);
    }
    s
}

#[differentiable(wrt(theta))]
fn pairs_flat(theta: &[f64], xy: &[f64], ab: &[usize]) -> f64 {
    let mut s = 0.0;
    for k in 0..xy.len() / 2 {
        s += (theta[0] * xy[2 * k] + theta[1] - xy[2 * k + 1]).powi(2);
    }
    for e in 0..ab.len() / 2 {
        s += 0.5 * (theta[ab[2 * e]] - theta[ab[2 * e + 1]]).powi(2);
    }
    s
}

#[test]
fn two_level_reads_match_the_flat_form() {
    let inputs = [[0.5, 1.0], [1.5, 2.5], [-1.0, -0.5]];
    let edges = vec![vec![0, 2], vec![1, 2], vec![2, 0]];
    let xy: Vec<f64> = inputs.iter().flatten().copied().collect();
    let ab: Vec<usize> = edges.iter().flatten().copied().collect();
    let theta = [0.7, -0.3, 1.2];
    let (v, g) = pairs_grad(&theta, &inputs, &edges);
    let (v_ref, g_ref) = pairs_flat_grad(&theta, &xy, &ab);
    assert!((v - v_ref).abs() < 1e-12);
    assert_eq!(v, pairs(&theta, &inputs, &edges));
    assert_all_close(&g.theta, &g_ref.theta, 1e-12);
    assert_all_close(
        &g.theta,
        &numeric_gradient(|t| pairs(t, &inputs, &edges), &theta),
        1e-6,
    );
}
