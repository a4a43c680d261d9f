//! Closures bound by `let` and called, and array patterns: each function is checked against
//! its gradient written by hand (1e-12) and central differences.

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// Checks `got` against the hand-written gradient and central differences of `f` at `at`.
fn check(got: &[f64], hand: &[f64], f: impl Fn(&[f64]) -> f64, at: &[f64]) {
    assert_all_close(got, hand, 1e-12);
    assert_all_close(got, &numeric_gradient(f, at), 1e-6);
}

/// Levy's function (from a collection of optimizer test functions, in its own style): a
/// closure used three times.
#[differentiable]
fn levy(x: f64, y: f64) -> f64 {
    let w = |v: f64| 1.0 + (v - 1.0) / 4.0;
    let pi = std::f64::consts::PI;
    let (w1, w2) = (w(x), w(y));
    (pi * w1).sin().powi(2)
        + (w1 - 1.0).powi(2) * (1.0 + 10.0 * (pi * w1 + 1.0).sin().powi(2))
        + (w2 - 1.0).powi(2) * (1.0 + (2.0 * pi * w2).sin().powi(2))
}

#[test]
fn a_closure_called_three_times() {
    let pi = std::f64::consts::PI;
    for (x, y) in [(0.3, -1.7), (2.5, 0.25), (1.0, 1.0)] {
        let (v, g) = levy_grad(x, y);
        assert_eq!(v, levy(x, y));
        let (w1, w2) = (1.0 + (x - 1.0) / 4.0, 1.0 + (y - 1.0) / 4.0);
        // d/dw1 of the first two terms, times dw1/dx = 1/4.
        let s1 = (pi * w1).sin();
        let s3 = (pi * w1 + 1.0).sin();
        let dw1 = 2.0 * s1 * (pi * w1).cos() * pi
            + 2.0 * (w1 - 1.0) * (1.0 + 10.0 * s3 * s3)
            + (w1 - 1.0).powi(2) * 20.0 * s3 * (pi * w1 + 1.0).cos() * pi;
        let s2 = (2.0 * pi * w2).sin();
        let dw2 = 2.0 * (w2 - 1.0) * (1.0 + s2 * s2)
            + (w2 - 1.0).powi(2) * 2.0 * s2 * (2.0 * pi * w2).cos() * 2.0 * pi;
        check(
            &[g.x, g.y],
            &[dw1 / 4.0, dw2 / 4.0],
            |p| levy(p[0], p[1]),
            &[x, y],
        );
    }
}

/// A closure capturing a differentiated parameter and a local, called in a loop.
#[differentiable]
fn shifted_squares(a: f64, x: &[f64]) -> f64 {
    let scale = 2.0 * a;
    let f = move |v: f64| (scale * v - a).powi(2);
    let mut s = 0.0;
    for &xi in x {
        s += f(xi);
    }
    s
}

#[test]
fn a_closure_capturing_parameters_in_a_loop() {
    let x = [0.5, -1.25, 2.0];
    let a = 0.75;
    let (v, g) = shifted_squares_grad(a, &x);
    assert!((v - shifted_squares(a, &x)).abs() < 1e-12);
    let r = |v: f64| 2.0 * a * v - a;
    let da: f64 = x.iter().map(|&v| 2.0 * r(v) * (2.0 * v - 1.0)).sum();
    let dx: Vec<f64> = x.iter().map(|&v| 2.0 * r(v) * 2.0 * a).collect();
    let mut got = vec![g.a];
    got.extend(&g.x);
    let mut hand = vec![da];
    hand.extend(&dx);
    let mut at = vec![a];
    at.extend(x);
    check(&got, &hand, |p| shifted_squares(p[0], &p[1..]), &at);
}

/// Destructuring an array parameter (`let [x1, x2] = *p;`), and a closure with two parameters.
#[differentiable]
fn rosenbrock(p: &[f64; 2]) -> f64 {
    let [x1, x2] = *p;
    let sq = |u: f64, v: f64| (u - v) * (u - v);
    100.0 * sq(x2, x1 * x1) + sq(1.0, x1)
}

#[differentiable]
fn first_two(q: [f64; 3]) -> f64 {
    let [a, b, ..] = q;
    a * b.exp()
}

#[test]
fn array_patterns() {
    let p = [-1.2, 1.0];
    let (v, g) = rosenbrock_grad(&p);
    assert_eq!(v, rosenbrock(&p));
    let [x1, x2] = p;
    let hand = [
        -400.0 * x1 * (x2 - x1 * x1) - 2.0 * (1.0 - x1),
        200.0 * (x2 - x1 * x1),
    ];
    check(&g.p, &hand, |p| rosenbrock(&[p[0], p[1]]), &p);

    let q = [0.5, -0.25, 3.0];
    let (_, g) = first_two_grad(q);
    let hand = [q[1].exp(), q[0] * q[1].exp(), 0.0];
    check(&g.q, &hand, |p| first_two([p[0], p[1], p[2]]), &q);
}

/// A closure bound by `let`, mapped over an iterator.
#[differentiable]
fn mapped(x: &[f64], c: f64) -> f64 {
    let shifted = |v: &f64| (v - c).powi(2);
    x.iter().map(shifted).sum::<f64>()
}

#[test]
fn a_closure_mapped_over_an_iterator() {
    let x = [1.5, -0.5, 2.25];
    let c = 0.5;
    let (v, g) = mapped_grad(&x, c);
    assert!((v - mapped(&x, c)).abs() < 1e-12);
    let mut got = g.x.clone();
    got.push(g.c);
    let mut hand: Vec<f64> = x.iter().map(|v| 2.0 * (v - c)).collect();
    hand.push(x.iter().map(|v| -2.0 * (v - c)).sum());
    let mut at = x.to_vec();
    at.push(c);
    check(&got, &hand, |p| mapped(&p[..3], p[3]), &at);
}
