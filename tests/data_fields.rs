//! Fields of data structs read in loops (`data.xs[i]`, `data.xs.iter()`, integer fields used as
//! indices or converted with `as f64`): checked against hand-written gradients (1e-12) and
//! central differences.

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

pub struct Points {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub group: Vec<usize>,
    pub weight: Weights,
}

pub struct Weights {
    pub per_group: Vec<f64>,
}

/// A line per group, fitted to points stored in a struct.
#[differentiable(wrt(theta))]
fn grouped_lines(theta: &[f64], data: &Points) -> f64 {
    let mut s = 0.0;
    for i in 0..data.xs.len() {
        let g: usize = data.group[i]; // a field's type is not visible to the macro
        let r = theta[2 * g] * data.xs[i] + theta[2 * g + 1] - data.ys[i];
        s += data.weight.per_group[g] * r * r;
    }
    s
}

/// The same data through iterators, and an integer field converted to a float.
#[differentiable(wrt(theta))]
fn iterated(theta: &[f64], data: &Points) -> f64 {
    let mut s = 0.0;
    for (&x, &y) in data.xs.iter().zip(&data.ys) {
        s += (theta[0] * x - y).powi(2);
    }
    for i in 0..data.group.len() {
        s += theta[1] * data.group[i] as f64;
    }
    s
}

fn points() -> Points {
    Points {
        xs: vec![0.5, 1.5, -1.0, 2.0, 0.25],
        ys: vec![1.0, 2.5, -0.5, 3.0, 0.0],
        group: vec![0, 1, 1, 0, 2],
        weight: Weights {
            per_group: vec![1.0, 0.5, 2.0],
        },
    }
}

#[test]
fn fields_of_a_data_struct_in_a_loop() {
    let data = points();
    let theta = [0.7, -0.2, 1.1, 0.3, -0.4, 0.9];
    let (v, g) = grouped_lines_grad(&theta, &data);
    assert!((v - grouped_lines(&theta, &data)).abs() < 1e-12);
    let mut hand = vec![0.0; 6];
    for i in 0..5 {
        let k = data.group[i];
        let r = theta[2 * k] * data.xs[i] + theta[2 * k + 1] - data.ys[i];
        let w = data.weight.per_group[k];
        hand[2 * k] += 2.0 * w * r * data.xs[i];
        hand[2 * k + 1] += 2.0 * w * r;
    }
    assert_all_close(&g.theta, &hand, 1e-12);
    assert_all_close(
        &g.theta,
        &numeric_gradient(|t| grouped_lines(t, &data), &theta),
        1e-6,
    );
}

#[test]
fn fields_iterated_and_converted() {
    let data = points();
    let theta = [0.8, -1.5];
    let (v, g) = iterated_grad(&theta, &data);
    assert!((v - iterated(&theta, &data)).abs() < 1e-12);
    let d0: f64 = data
        .xs
        .iter()
        .zip(&data.ys)
        .map(|(x, y)| 2.0 * (theta[0] * x - y) * x)
        .sum();
    let d1: f64 = data.group.iter().map(|&k| k as f64).sum();
    assert_all_close(&g.theta, &[d0, d1], 1e-12);
    assert_all_close(
        &g.theta,
        &numeric_gradient(|t| iterated(t, &data), &theta),
        1e-6,
    );
}
