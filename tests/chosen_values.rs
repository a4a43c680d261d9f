//! Values chosen as a whole: a local array given by an `if` or a `match` (`let z = if c { [a,
//! b] } else { [b, a] };`), merged element by element, and a differentiated slice passed to a
//! call through parentheses or a closure's parameter. Each once gave a silently wrong gradient
//! (zero: the select between arrays had no elements to route adjoints to; the slice went to the
//! call as data). Checked against derivatives by hand, exactly, and central differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test
#![allow(unused_parens, clippy::double_parens)] // `sumsq((x))` is one of the forms under test

use approx::assert_relative_eq;
use symgrad::differentiable;

#[differentiable]
fn pick(a: f64, flag: bool) -> f64 {
    let z = if flag { [a] } else { [1.0] };
    z[0]
}

#[test]
fn a_one_element_array_chosen_by_if() {
    assert_eq!(pick_grad(3.0, true), (3.0, PickGrad { a: 1.0 }));
    assert_eq!(pick_grad(3.0, false), (1.0, PickGrad { a: 0.0 }));
}

/// A copy of `x` or ones, of `x`'s length written two ways (`x.to_vec()` and `vec![1.0;
/// x.len()]`: one length).
#[differentiable]
fn copy_or_ones(x: &[f64], flag: bool) -> f64 {
    let z = if flag { x.to_vec() } else { vec![1.0; x.len()] };
    z[0] * z[1]
}

#[test]
fn a_copy_of_a_slice_or_ones_chosen_by_if() {
    let x = [2.0, -3.0, 5.0];
    let (v, g) = copy_or_ones_grad(&x, true);
    assert_eq!(v, -6.0);
    assert_eq!(g.x, vec![-3.0, 2.0, 0.0]);
    let (v, g) = copy_or_ones_grad(&x, false);
    assert_eq!(v, 1.0);
    assert_eq!(g.x, vec![0.0; 3]);
}

/// Per element, inside a loop, on a float condition: `s = Σ 2·z₀ + z₁`.
#[differentiable]
fn ordered_pairs(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let z = if x[i] > 0.0 { [x[i], w] } else { [w, x[i]] };
        s += z[0] * 2.0 + z[1];
    }
    s
}

#[test]
fn arrays_chosen_in_a_loop_on_a_float_condition() {
    let x = [1.5, -0.5, 2.0, -4.0];
    let (v, g) = ordered_pairs_grad(&x, 0.25);
    // x[i] > 0: 2·x[i] + w; else 2·w + x[i].
    assert_eq!(v, (3.0 + 0.25) + (0.5 - 0.5) + (4.0 + 0.25) + (0.5 - 4.0));
    assert_eq!(g.x, vec![2.0, 1.0, 2.0, 1.0]);
    assert_eq!(g.w, 1.0 + 2.0 + 1.0 + 2.0);
}

#[differentiable]
fn by_case(a: f64, k: usize) -> f64 {
    let z = match k {
        0 => [a, 1.0],
        1 => [1.0, a * a],
        _ => [a, a],
    };
    z[0] * z[1]
}

#[test]
fn arrays_chosen_by_match() {
    let a = 1.5;
    assert_eq!(by_case_grad(a, 0).1.a, 1.0);
    assert_eq!(by_case_grad(a, 1).1.a, 2.0 * a);
    assert_eq!(by_case_grad(a, 7).1.a, 2.0 * a);
    for k in 0..3 {
        let h = 1e-6;
        let fd = (by_case(a + h, k) - by_case(a - h, k)) / (2.0 * h);
        assert_relative_eq!(by_case_grad(a, k).1.a, fd, max_relative = 1e-8);
    }
}

#[differentiable]
fn sumsq(v: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    s
}

/// The slice in parentheses, with and without `&`: `3 · Σ x²`.
#[differentiable]
#[allow(clippy::needless_borrow)]
fn parenthesized(x: &[f64]) -> f64 {
    sumsq((x)) + sumsq(&(x)) + sumsq((&x))
}

#[test]
fn a_slice_in_parentheses_is_still_the_slice() {
    let x = [1.0, 2.0, -0.5];
    let (v, g) = parenthesized_grad(&x);
    assert_eq!(v, 3.0 * 5.25);
    assert_eq!(g.x, vec![6.0, 12.0, -3.0]);
}

/// A closure handing its slice parameter on: `2 · (Σ x² + Σ y²)`.
#[differentiable]
#[allow(clippy::needless_borrow)]
fn through_a_closure(x: &[f64], y: &[f64]) -> f64 {
    let f = |v: &[f64]| sumsq(&v) * 2.0;
    f(x) + f(y)
}

#[test]
fn a_slice_handed_on_by_a_closure() {
    let (x, y) = ([1.0, -2.0], [0.5, 3.0, 1.0]);
    let (v, g) = through_a_closure_grad(&x, &y);
    assert_eq!(v, 2.0 * (5.0 + 10.25));
    assert_eq!(g.x, vec![4.0, -8.0]);
    assert_eq!(g.y, vec![2.0, 12.0, 4.0]);
}

/// A closure's slice parameter shadowing a slice parameter of the function: `v.len()` in the
/// closure is `x.len()` (it read the outer `v`'s length, a wrong value and gradient).
#[differentiable]
fn shadowed_length(v: &[f64], x: &[f64]) -> f64 {
    let f = |v: &[f64]| v.len() as f64 * v[0];
    f(x) + v[0]
}

#[test]
fn a_closure_parameter_shadowing_a_slice_reads_its_own_slice() {
    let (v, x) = ([2.0], [3.0, 1.0, 4.0]);
    let (value, g) = shadowed_length_grad(&v, &x);
    assert_eq!(value, 3.0 * 3.0 + 2.0);
    assert_eq!(g.v, vec![1.0]);
    assert_eq!(g.x, vec![3.0, 0.0, 0.0]);
}

/// A closure's slice parameter given a data slice: what the closure computes from it alone
/// (`v.len()`, `v.iter().sum()`) is the data's. It was emitted with the closure's own name:
/// a compile error in the generated code, or, where the function has a parameter of that name,
/// that parameter's length (a wrong value and gradient).
#[differentiable(wrt(x))]
fn closure_over_data(x: &[f64], data: &[f64]) -> f64 {
    let scale = |v: &[f64]| v.len() as f64 * v.iter().sum::<f64>();
    let at = |v: &[f64], k: usize| v[k] * v.len() as f64;
    x[0] * scale(data) + at(x, 1) * at(data, 0)
}

#[test]
fn a_closure_parameter_given_a_data_slice() {
    let (x, data) = ([2.0, 3.0], [1.0, 5.0, 1.0]);
    let (value, g) = closure_over_data_grad(&x, &data);
    // x₀·(3·7) + (x₁·2)·(1·3)
    assert_eq!(value, 2.0 * 21.0 + 6.0 * 3.0);
    assert_eq!(g.x, vec![21.0, 6.0]);
}

/// The same where the closure's parameter has the name of another data parameter (`v`).
#[differentiable(wrt(x))]
fn closure_over_data_shadowing(x: &[f64], v: &[f64], data: &[f64]) -> f64 {
    let scale = |v: &[f64]| v.len() as f64;
    x[0] * scale(data) + v[0]
}

#[test]
fn a_closure_parameter_given_a_data_slice_shadowing_another() {
    let (x, v, data) = ([2.0], [10.0], [1.0, 5.0, 1.0]);
    let (value, g) = closure_over_data_shadowing_grad(&x, &v, &data);
    assert_eq!(value, 2.0 * 3.0 + 10.0);
    assert_eq!(g.x, vec![3.0]);
}
