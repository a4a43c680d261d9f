//! Forms people write that were refused, with a message that did not say why: a destructuring
//! assignment (`(a, b) = (b, a + b);`), a tuple chosen by `if`/`match` (`let (u, v) = if c {
//! (a, b) } else { (b, a) };`), a function named in `map` (`.map(f64::exp)`), the last element
//! as `*z.last().unwrap()`, and `x.len().saturating_sub(1)`, `i.abs_diff(j)`. Each is lowered as
//! the form it stands for; checked against derivatives by hand (exact) and central differences.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use symgrad::differentiable;

mod common;
use common::{assert_all_close, numeric_gradient};

/// A Fibonacci-like recurrence: `(a, b) = (b, a + b)` assigns both from the old values.
#[differentiable]
fn fibonacci(a0: f64, b0: f64, n: usize) -> f64 {
    let (mut a, mut b) = (a0, b0);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

#[test]
fn a_destructuring_assignment_uses_the_old_values() {
    // a_n = F(n-1)·a0 + F(n)·b0 (F(0) = 0, F(1) = 1, F(-1) = 1).
    let fib = [1.0, 0.0, 1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0];
    for n in 0..8 {
        let (v, g) = fibonacci_grad(2.0, 3.0, n);
        assert_eq!(v, fibonacci(2.0, 3.0, n));
        assert_eq!((g.a0, g.b0), (fib[n], fib[n + 1]), "n = {n}");
    }
}

/// A rotation by a swap and a `_`, and a tuple from a call.
#[differentiable]
fn swap_and_skip(x: &[f64], w: f64) -> f64 {
    let (mut p, mut q) = (w, 1.0);
    let mut r = 0.0;
    for i in 0..x.len() {
        (p, q) = (q * x[i], p);
        (r, _) = (r + p * q, 0.0);
    }
    r
}

#[test]
fn swaps_and_skips_in_a_loop() {
    let x = [0.5, -1.5, 2.0, 0.25];
    let (v, g) = swap_and_skip_grad(&x, 0.7);
    assert_eq!(v, swap_and_skip(&x, 0.7));
    let by_x = numeric_gradient(|x| swap_and_skip(x, 0.7), &x);
    assert_all_close(&g.x, &by_x, 1e-7);
    let by_w = numeric_gradient(|w| swap_and_skip(&x, w[0]), &[0.7]);
    assert_all_close(&[g.w], &by_w, 1e-7);
}

/// A tuple chosen by `if` and one by `match`.
#[differentiable]
fn sorted_pair(a: f64, b: f64, k: usize) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    let (s, t) = match k {
        0 => (hi, lo),
        1 => {
            let m = hi * lo;
            (m, hi)
        }
        _ => (lo * lo, 2.0),
    };
    hi * hi + 3.0 * lo + s * t
}

#[test]
fn tuples_chosen_by_if_and_match() {
    // k = 0: hi² + 3lo + hi·lo; k = 1: hi² + 3lo + hi²·lo; k = 2: hi² + 3lo + 2lo².
    let (a, b) = (2.0, 5.0); // hi = b, lo = a
    let (v, g) = sorted_pair_grad(a, b, 0);
    assert_eq!(v, 25.0 + 6.0 + 10.0);
    assert_eq!((g.a, g.b), (3.0 + b, 2.0 * b + a));
    let (v, g) = sorted_pair_grad(a, b, 1);
    assert_eq!(v, 25.0 + 6.0 + 50.0);
    assert_eq!((g.a, g.b), (3.0 + b * b, 2.0 * b + 2.0 * b * a));
    let (v, g) = sorted_pair_grad(b, a, 2);
    assert_eq!(v, 25.0 + 6.0 + 8.0);
    assert_eq!((g.a, g.b), (2.0 * b, 3.0 + 4.0 * a));
}

fn square(v: f64) -> f64 {
    v * v
}

#[differentiable]
fn cube(v: f64) -> f64 {
    v * v * v
}

/// Functions named in `map`: a float method, and a `#[differentiable]` function.
#[differentiable]
fn mapped_by_name(x: &[f64]) -> f64 {
    let e: f64 = x.iter().copied().map(f64::exp).sum();
    let c: f64 = x.iter().copied().map(cube).sum();
    e + c
}

#[test]
fn functions_named_in_map() {
    let x = [0.5, -1.0, 2.0];
    let (v, g) = mapped_by_name_grad(&x);
    assert_eq!(v, mapped_by_name(&x));
    let want: Vec<f64> = x.iter().map(|v| v.exp() + 3.0 * square(*v)).collect();
    assert_eq!(g.x, want);
}

/// The last and first elements of a local array and a slice, written as the methods give them.
#[differentiable]
fn ends(x: &[f64]) -> f64 {
    let mut z = vec![0.0; x.len()];
    for i in 0..x.len() {
        z[i] = x[i] * (i as f64 + 1.0);
    }
    *z.last().unwrap() * x.first().copied().unwrap() + *x.last().unwrap()
}

#[test]
fn the_last_and_first_elements_by_their_methods() {
    let x = [2.0, 3.0, 5.0];
    let (v, g) = ends_grad(&x);
    // z[2]·x[0] + x[2] = 3·x[2]·x[0] + x[2]
    assert_eq!(v, 15.0 * 2.0 + 5.0);
    assert_eq!(g.x, vec![15.0, 0.0, 3.0 * 2.0 + 1.0]);
    let one = [4.0];
    assert_eq!(ends_grad(&one), (20.0, EndsGrad { x: vec![9.0] }));
}

/// Neighbours up to `x.len().saturating_sub(1)`, and a weight by `i.abs_diff(j)`.
#[differentiable]
fn saturated(x: &[f64], j: usize) -> f64 {
    let m = x.len().saturating_sub(1);
    let mut s = 0.0;
    for i in 0..m {
        s += x[i] * x[i + 1] * i.abs_diff(j) as f64;
    }
    s
}

#[test]
fn saturating_sub_and_abs_diff_at_every_size() {
    for n in 0..6 {
        let x: Vec<f64> = (0..n).map(|i| 0.5 + f64::from(i)).collect();
        for j in [0, 2, 7] {
            let (v, g) = saturated_grad(&x, j);
            assert_eq!(v, saturated(&x, j), "n = {n}, j = {j}");
            let want = numeric_gradient(|x| saturated(x, j), &x);
            assert_all_close(&g.x, &want, 1e-7);
        }
    }
}

#[differentiable]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// The outputs of a call or a tuple, chosen by a condition, bound by one pattern; and a
/// destructuring assignment from the call.
#[differentiable]
fn chosen_outputs(r: f64, t: f64, c: f64) -> f64 {
    let (u, v) = if c > 0.0 { polar(r, t) } else { (r, t) };
    let (p, q);
    (p, q) = polar(u, v);
    u * v + p - q
}

#[test]
fn outputs_of_a_call_chosen_by_if_and_assigned() {
    for c in [1.0, -1.0] {
        let (r, t) = (1.3, 0.4);
        let (v, g) = chosen_outputs_grad(r, t, c);
        assert_eq!(v, chosen_outputs(r, t, c));
        let want = numeric_gradient(|p| chosen_outputs(p[0], p[1], c), &[r, t]);
        assert_all_close(&[g.r, g.t], &want, 1e-7);
    }
}

#[differentiable]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

/// An element by reference, a local array lent by `as_slice`, an array literal mapped, and a
/// local array from `std::array::from_fn` with its type written.
#[differentiable]
#[allow(clippy::op_ref)]
fn views_and_maps(x: &[f64], a: f64, b: f64) -> f64 {
    let r = &x[1];
    let mut z = vec![0.0; x.len()];
    for i in 0..x.len() {
        z[i] = x[i] * x[i];
    }
    let squares = [a, b].map(|v| v * v + 1.0);
    let doubled: [f64; 3] = std::array::from_fn(|i| x[i] * 2.0 + a);
    *r * 2.0
        + dot(z.as_slice(), x)
        + z.as_slice().iter().sum::<f64>()
        + squares[0] * squares[1]
        + doubled[0] * doubled[2]
}

#[test]
fn references_views_and_mapped_arrays() {
    let (x, a, b) = ([0.5, -1.5, 2.0], 0.3, -0.7);
    let (v, g) = views_and_maps_grad(&x, a, b);
    assert_eq!(v, views_and_maps(&x, a, b));
    let by_x = numeric_gradient(|x| views_and_maps(x, a, b), &x);
    assert_all_close(&g.x, &by_x, 1e-7);
    let by_ab = numeric_gradient(|p| views_and_maps(&x, p[0], p[1]), &[a, b]);
    assert_all_close(&[g.a, g.b], &by_ab, 1e-7);
    // By hand: 2 + 3x₁² + 2x₁ from `*r * 2`, `Σ x³` and `Σ x²` at x₁; `doubled` does not read x₁.
    assert_eq!(g.x[1], 2.0 + 3.0 * 2.25 + 2.0 * -1.5);
}

/// A parameter named as the function the generated code runs its loops in once was
/// (`__kernel`): the generated call took the parameter for the function.
#[differentiable]
#[allow(clippy::used_underscore_binding)]
fn named_like_the_kernel(x: &[f64], __kernel: f64) -> f64 {
    x.iter().sum::<f64>() * __kernel
}

#[test]
fn a_parameter_named_like_generated_code() {
    let (v, g) = named_like_the_kernel_grad(&[1.0, 2.0], 3.0);
    assert_eq!((v, g.x, g.__kernel), (9.0, vec![3.0, 3.0], 3.0));
}

/// Maps in a row: `.map(f64::sin).map(f64::exp)`, closures, and a second closure naming the
/// function's parameter `x` where the first one's parameter is `x` too (not fused: the second
/// closure's `x` is the slice).
#[differentiable]
#[allow(clippy::redundant_closure_for_method_calls)]
fn maps_in_a_row(x: &[f64], w: f64) -> f64 {
    let a: f64 = x.iter().copied().map(f64::sin).map(f64::exp).sum();
    let b: f64 = x.iter().map(|v| v * w).map(|u| u * u + 1.0).sum();
    let c: f64 = (0..x.len()).map(|x| x as f64).map(|y| y * w).sum();
    a + b + c
}

#[test]
fn maps_in_a_row_fuse() {
    let (x, w) = ([0.3, -1.2, 2.0], 0.7);
    let (v, g) = maps_in_a_row_grad(&x, w);
    assert_eq!(v, maps_in_a_row(&x, w));
    assert_all_close(&g.x, &numeric_gradient(|x| maps_in_a_row(x, w), &x), 1e-7);
    assert_all_close(
        &[g.w],
        &numeric_gradient(|p| maps_in_a_row(&x, p[0]), &[w]),
        1e-7,
    );
}

/// Runs given to a closure's slice parameters (`tot(&x[..n / 2])`, `tot(&z[1..])` of a local
/// array, two runs of a slice handed on to a `#[differentiable]` call): each read, measured and
/// iterated as a part of a `split_at` is.
#[differentiable]
fn closure_over_runs(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let tot = |s: &[f64]| s.iter().sum::<f64>() * s.len() as f64;
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = x[i] * w;
    }
    let pair = |s: &[f64], t: &[f64]| dot(s, t) + s[0];
    tot(&x[..n / 2]) + tot(&z[1..]) + pair(&x[1..], &x[..n - 1]) * w
}

#[test]
fn runs_given_to_a_closure() {
    let (x, w) = ([0.5, -1.0, 2.0, 0.25], 0.7);
    let (v, g) = closure_over_runs_grad(&x, w);
    assert_eq!(v, closure_over_runs(&x, w));
    assert_all_close(
        &g.x,
        &numeric_gradient(|x| closure_over_runs(x, w), &x),
        1e-7,
    );
    assert_all_close(
        &[g.w],
        &numeric_gradient(|p| closure_over_runs(&x, p[0]), &[w]),
        1e-7,
    );
    // By hand: tot(&x[..2]) = 2(x₀ + x₁) gives 2 to x₀ and x₁; tot(&z[1..]) = 3w(x₁ + x₂ + x₃).
    assert_eq!(g.x[0], 2.0 + w * x[1]);
}

/// `match` on a tuple of integers and floats: patterns element by element, `|` of tuples, `..`,
/// a name bound in one element and read by the guard and the arm.
#[differentiable]
#[allow(clippy::unnested_or_patterns)] // `|` of whole tuples is the form under test
fn matched_pairs(x: &[f64], k: usize, w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += match (i, k) {
            (0, _) => x[i],
            (_, 0) | (_, 1) => x[i] * x[i],
            (j, 2..=3) if j + k > 4 => x[i].exp() * w,
            (.., 7 | 8) => w,
            _ => x[i].sin(),
        };
        s += match (x[i] > w, i % 2, x[i]) {
            (true, 0, v) => v * w,
            (false, _, v) if v < -1.0 => -v,
            _ => 0.5 * x[i],
        };
    }
    s
}

#[test]
fn a_match_on_a_tuple() {
    let x = [0.5, -1.5, 2.0, 0.25, 1.25, -0.75];
    let w = 0.8;
    for k in 0..9 {
        let (v, g) = matched_pairs_grad(&x, k, w);
        // (At k = 7 and 8, `w` added five times is summed as `5·w`: one rounding apart.)
        assert_all_close(&[v], &[matched_pairs(&x, k, w)], 1e-15);
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| matched_pairs(x, k, w), &x),
            1e-7,
        );
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| matched_pairs(&x, k, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand at k = 0: x₀ from the first match; then x₁ > w is false, x₁ = -1.5 < -1: -x₁.
    let (_, g) = matched_pairs_grad(&x, 0, w);
    assert_eq!(g.x[0], 1.0 + 0.5);
    assert_eq!(g.x[1], 2.0 * x[1] - 1.0);
}

/// Folds to a tuple: a sum and a product at once, a running maximum with its softmax
/// normalizer (online log-sum-exp), a block body, and a fold inside a fold's closure.
#[differentiable]
fn folded_pairs(x: &[f64], w: f64) -> f64 {
    let (s, p) = x.iter().fold((0.0, 1.0), |(a, b), &v| (a + v, b * v));
    let (m, z) = x
        .iter()
        .fold((f64::NEG_INFINITY, 0.0), |(m, z): (f64, f64), &v| {
            let m2 = m.max(v * w);
            (m2, z * (m - m2).exp() + (v * w - m2).exp())
        });
    let (q, r) = (0..x.len()).fold((w, 0.0), |(q, r), i| {
        let (t, _u) = x[..=i].iter().fold((0.0, 0.0), |(t, u), &v| (t + v * q, u));
        if i % 2 == 0 {
            (q * 0.5, r + t)
        } else {
            (q, r - t)
        }
    });
    s * p + m + z.ln() + q * r
}

#[test]
fn folds_to_a_tuple() {
    for x in [
        vec![0.5, -1.5, 2.0, 0.25],
        vec![1.25],
        vec![0.3, 0.9, -0.4, 1.1, 0.6],
    ] {
        let w = 0.8;
        let (v, g) = folded_pairs_grad(&x, w);
        assert_all_close(&[v], &[folded_pairs(&x, w)], 1e-15);
        assert_all_close(&g.x, &numeric_gradient(|x| folded_pairs(x, w), &x), 1e-7);
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| folded_pairs(&x, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for one element: s·p = x², m + ln z = w·x, q·r = (w/2)·(x·w): 2x + w + w²·x.
    let (x, w) = (1.25, 0.8);
    let (_, g) = folded_pairs_grad(&[x], w);
    assert_all_close(&g.x, &[2.0 * x + w + w * w / 2.0], 1e-15);
}

/// `continue` as a `match` arm in a loop: the arms that go on run the rest of the body, the one
/// that continues does not (also an `if c { continue; }` inside an arm, and a tuple match).
#[differentiable]
#[allow(clippy::single_match)] // the form under test
fn matched_continue(x: &[f64], w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        match i % 3 {
            0 => continue,
            1 => {
                s += x[i] * w;
                if x[i] < 0.0 {
                    continue;
                }
            }
            _ => s += x[i].sin(),
        }
        p *= 1.0 + 0.1 * x[i];
        match (i, k) {
            (_, 0) => {
                s += w;
                continue;
            }
            _ => {}
        }
        s += p * x[i];
    }
    s + p
}

#[test]
fn continue_as_a_match_arm() {
    let x = [0.5, -1.5, 2.0, 0.25, 1.25, -0.75, 0.6];
    let w = 0.8;
    for k in 0..2 {
        let (v, g) = matched_continue_grad(&x, w, k);
        assert_all_close(&[v], &[matched_continue(&x, w, k)], 1e-15);
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| matched_continue(x, w, k), &x),
            1e-7,
        );
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| matched_continue(&x, p[0], k), &[w]),
            1e-7,
        );
    }
    // By hand for x = [a, b] (b ≥ 0), k = 1: i = 0 continues; i = 1 adds b·w, p = 1 + 0.1b,
    // then p·b: ∂/∂a = 0, ∂/∂b = w + 0.1b + (1 + 0.1b) + 0.1 = w + 0.2b + 1.1.
    let (a, b) = (0.5, 2.0);
    let (_, g) = matched_continue_grad(&[a, b], w, 1);
    assert_all_close(&g.x, &[0.0, w + 0.2 * b + 1.1], 1e-15);
}

/// A run of a local array passed to a call by a name: a closure's parameter given `&z[..n -
/// 1]`, and a part of the array's `split_at`. Each is lent as the copy `&z[a..b]` is.
#[differentiable]
fn local_runs_by_name(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = x[i] * w + 0.5 * x[i] * x[i];
    }
    let pair = |s: &[f64], t: &[f64]| dot(s, t) + s[0];
    let (head, tail) = z.split_at(n / 2);
    pair(&x[1..], &z[..n - 1]) + dot(head, &x[..n / 2]) * dot(tail, tail)
}

#[test]
fn local_array_runs_passed_on_by_name() {
    for x in [vec![0.5, -1.0, 2.0, 0.25], vec![0.3, 0.9, -0.4, 1.1, 0.6]] {
        let w = 0.7;
        let (v, g) = local_runs_by_name_grad(&x, w);
        assert_all_close(&[v], &[local_runs_by_name(&x, w)], 1e-15);
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| local_runs_by_name(x, w), &x),
            1e-7,
        );
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| local_runs_by_name(&x, p[0]), &[w]),
            1e-7,
        );
    }
}

/// A fold's accumulators named as a parameter (`a`): the parameter is read again after the
/// fold, unchanged (the loop the fold stands for binds `a` in its body only).
#[differentiable]
fn fold_shadowing(x: &[f64], a: f64) -> f64 {
    let (s, p) = x.iter().fold((a, 1.0), |(a, b), &v| (a + v, b * v));
    s * p + a * a
}

#[test]
fn a_fold_shadowing_a_parameter() {
    let (x, a) = ([0.5, -1.5, 2.0], 0.3);
    let (v, g) = fold_shadowing_grad(&x, a);
    assert_all_close(&[v], &[fold_shadowing(&x, a)], 1e-15);
    // s = a + Σx, p = Πx: ∂/∂a = p + 2a.
    let p: f64 = x.iter().product();
    assert_all_close(&[g.a], &[p + 2.0 * a], 1e-15);
    assert_all_close(&g.x, &numeric_gradient(|x| fold_shadowing(x, a), &x), 1e-7);
}

/// `for` over a chain ending in `map` (once, twice, after `zip` and `enumerate`), and a fold to
/// a tuple over one: each item mapped where the body starts.
#[differentiable]
fn mapped_loops(x: &[f64], y: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for v in x.iter().map(|e| e * w) {
        s += v.exp();
    }
    for (u, t) in x
        .iter()
        .zip(y)
        .map(|(a, b)| (a * b, a + b))
        .map(|(p, q)| (p, q * q))
    {
        s += u * t;
    }
    for q in x.iter().enumerate().map(|(i, &v)| v * (i as f64 + 1.0)) {
        s -= q.sin();
    }
    let (m, z) = x
        .iter()
        .map(|v| v * w)
        .fold((0.0, 1.0), |(m, z), v| (m + v, z * v));
    s + m * z
}

#[test]
fn loops_over_mapped_chains() {
    let (x, y, w) = ([0.5, -1.5, 2.0, 0.25], [1.25, 0.3, -0.6, 0.9], 0.7);
    let (v, g) = mapped_loops_grad(&x, &y, w);
    assert_all_close(&[v], &[mapped_loops(&x, &y, w)], 1e-15);
    assert_all_close(
        &g.x,
        &numeric_gradient(|x| mapped_loops(x, &y, w), &x),
        1e-7,
    );
    assert_all_close(
        &g.y,
        &numeric_gradient(|y| mapped_loops(&x, y, w), &y),
        1e-7,
    );
    assert_all_close(
        &[g.w],
        &numeric_gradient(|p| mapped_loops(&x, &y, p[0]), &[w]),
        1e-7,
    );
    // By hand for one element each (x, y): e^{wx} + xy(x + y)² − sin x + wx·wx.
    let (a, b) = (0.5, 1.25);
    let (_, g) = mapped_loops_grad(&[a], &[b], w);
    let want =
        w * (w * a).exp() + b * (a + b).powi(2) + 2.0 * a * b * (a + b) - a.cos() + 2.0 * w * w * a;
    assert_all_close(&g.x, &[want], 1e-14);
}

/// A `map` closure's parameter named as a parameter the loop's body reads (`e`): renamed in
/// the closure, so the body still reads the parameter.
#[differentiable]
fn mapped_hiding(x: &[f64], e: f64) -> f64 {
    let mut s = 0.0;
    for v in x.iter().map(|e| e * 2.0) {
        s += v * e;
    }
    s
}

#[test]
fn a_mapped_loop_beside_a_parameter_of_the_closures_name() {
    let (x, e) = ([0.5, -1.5, 2.0], 0.3);
    let (v, g) = mapped_hiding_grad(&x, e);
    assert_all_close(&[v], &[mapped_hiding(&x, e)], 1e-15);
    // s = 2e·Σx: ∂/∂x_i = 2e, ∂/∂e = 2Σx.
    assert_all_close(&g.x, &[2.0 * e; 3], 1e-15);
    assert_all_close(&[g.e], &[2.0 * x.iter().sum::<f64>()], 1e-15);
}

/// `break` as a `match` arm in a loop: the loop ends at the first iteration whose arm breaks,
/// after that arm's statements before the `break`; the other arms run the rest of the body
/// (with an arm that continues beside them, a guard, and a tuple match).
#[differentiable]
fn matched_break(x: &[f64], w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        match (i, x[i] > 1.5) {
            (0, _) => continue,
            (_, true) => {
                s += w * x[i];
                break;
            }
            (j, _) if j >= k => break,
            _ => s += x[i].sin() * w,
        }
        p *= 1.0 + 0.1 * x[i];
        s += p * x[i];
    }
    s + p
}

/// The same loop written with the `if`s the lowering knew before.
fn matched_break_by_ifs(x: &[f64], w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        if i == 0 {
            continue;
        }
        if x[i] > 1.5 {
            s += w * x[i];
            break;
        }
        if i >= k {
            break;
        }
        s += x[i].sin() * w;
        p *= 1.0 + 0.1 * x[i];
        s += p * x[i];
    }
    s + p
}

#[test]
fn break_as_a_match_arm() {
    let xs = [
        vec![0.5, -1.5, 2.0, 0.25, 1.25],
        vec![0.5, -1.5, 0.7, 0.25, 1.25, -0.75, 0.6],
        vec![0.3],
        vec![],
    ];
    let w = 0.8;
    for x in &xs {
        for k in 0..8 {
            let (v, g) = matched_break_grad(x, w, k);
            assert_all_close(&[v], &[matched_break_by_ifs(x, w, k)], 1e-15);
            assert_all_close(&[v], &[matched_break(x, w, k)], 1e-15);
            assert_all_close(&g.x, &numeric_gradient(|x| matched_break(x, w, k), x), 1e-7);
            assert_all_close(
                &[g.w],
                &numeric_gradient(|p| matched_break(x, p[0], k), &[w]),
                1e-7,
            );
        }
    }
    // By hand for x = [a, b, c] with c > 1.5 and k = 5: i = 1 adds b·w·sin, then p = 1 + 0.1b,
    // s += p·b; i = 2 breaks after s += w·c. v = sin(b)·w + (1 + 0.1b)·b + w·c + 1 + 0.1b.
    let (a, b, c) = (0.5, 0.75, 2.0);
    let (v, g) = matched_break_grad(&[a, b, c], w, 5);
    let p = 1.0 + 0.1 * b;
    assert_all_close(&[v], &[b.sin() * w + p * b + w * c + p], 1e-15);
    assert_all_close(&g.x, &[0.0, b.cos() * w + 0.1 * b + p + 0.1, w], 1e-15);
    assert_all_close(&[g.w], &[b.sin() + c], 1e-15);
}

/// A `while` loop's `match` with an arm that breaks.
#[differentiable]
#[allow(clippy::match_bool)] // the form under test
fn while_matched_break(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        match x[i] > 2.0 {
            true => break,
            false => s += (x[i] * w).tanh(),
        }
        i += 1;
    }
    s
}

#[test]
fn break_as_a_match_arm_of_a_while_loop() {
    let w = 0.6;
    for x in [vec![0.5, -1.5, 2.5, 0.25], vec![0.5, -1.5], vec![3.0]] {
        let (v, g) = while_matched_break_grad(&x, w);
        assert_all_close(&[v], &[while_matched_break(&x, w)], 1e-15);
        assert_all_close(
            &g.x,
            &numeric_gradient(|x| while_matched_break(x, w), &x),
            1e-7,
        );
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| while_matched_break(&x, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for [a, b, c] with c > 2: s = tanh(a·w) + tanh(b·w).
    let (a, b) = (0.5, -1.5);
    let (_, g) = while_matched_break_grad(&[a, b, 2.5], w);
    let d = |t: f64| 1.0 - (t * w).tanh().powi(2);
    assert_all_close(&g.x, &[w * d(a), w * d(b), 0.0], 1e-15);
    assert_all_close(&[g.w], &[a * d(a) + b * d(b)], 1e-15);
}

/// A vector-valued function returning a local array by its name (`out`), at the end, from a
/// branch and by an early `return`: its elements are the outputs.
#[differentiable]
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // k < 3
fn features(p: &[f64], t: f64) -> [f64; 3] {
    let mut out = [0.0; 3];
    if p.len() < 2 {
        return out;
    }
    for k in 0..3 {
        out[k] = p[k % p.len()] * t.powi(k as i32);
    }
    if t > 2.0 {
        [out[0], out[1] * 2.0, t]
    } else {
        out
    }
}

#[differentiable]
fn features_loss(x: &[f64], t: f64) -> f64 {
    let r = features(x, t);
    r[0] * r[0] + r[1] * r[2]
}

#[test]
fn a_local_array_returned_by_its_name() {
    for (p, t) in [
        (vec![0.5, -1.5, 2.0], 1.5),
        (vec![0.5, -1.5], 0.75),
        (vec![0.5, -1.5, 2.0], 2.5),
        (vec![0.5], 1.5),
    ] {
        let (v, jac) = features_jacobian(&p, t);
        assert_eq!(v, features(&p, t));
        for k in 0..3 {
            assert_all_close(
                &jac[k].p,
                &numeric_gradient(|q| features(q, t)[k], &p),
                1e-7,
            );
            assert_all_close(
                &[jac[k].t],
                &numeric_gradient(|s| features(&p, s[0])[k], &[t]),
                1e-7,
            );
        }
        let (l, g) = features_loss_grad(&p, t);
        assert_all_close(&[l], &[features_loss(&p, t)], 1e-15);
        assert_all_close(&g.x, &numeric_gradient(|q| features_loss(q, t), &p), 1e-7);
    }
    // By hand for p = [a, b, c], t ≤ 2: out = [a, b·t, c·t²].
    let (a, b, c, t) = (0.5, -1.5, 2.0, 1.5);
    let (_, jac) = features_jacobian(&[a, b, c], t);
    assert_all_close(&jac[1].p, &[0.0, t, 0.0], 1e-15);
    assert_all_close(&jac[2].p, &[0.0, 0.0, t * t], 1e-15);
    assert_all_close(
        &[jac[0].t, jac[1].t, jac[2].t],
        &[0.0, b, 2.0 * c * t],
        1e-15,
    );
}

/// A local array listed by a `let` and returned by its name.
#[differentiable]
#[allow(clippy::let_and_return)] // the form under test
fn listed_then_returned(a: f64, b: f64) -> [f64; 2] {
    let r = [a * b - 1.0, a + b];
    r
}

#[test]
fn a_listed_local_array_returned_by_its_name() {
    let (a, b) = (0.75, -1.25);
    let (v, jac) = listed_then_returned_jacobian(a, b);
    assert_eq!(v, [a * b - 1.0, a + b]);
    assert_all_close(
        &[jac[0].a, jac[0].b, jac[1].a, jac[1].b],
        &[b, a, 1.0, 1.0],
        1e-15,
    );
}

/// An integer and a condition the exit of a loop assigns (`if c { stop = i; break; }`), read
/// after the loop: their values at the iteration that broke, or from before the loop.
#[differentiable]
fn stop_and_found(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut stop = x.len();
    let mut found = false;
    for i in 0..x.len() {
        if x[i] < -1.0 {
            s += w;
            stop = i;
            found = true;
            break;
        }
        s += x[i] * w;
    }
    let mut tail = 0.0;
    for j in stop..x.len() {
        tail += x[j] * x[j];
    }
    if found { s + tail + stop as f64 } else { s * w }
}

/// The same at `enumerate`'s count, the exit the first statement (the loop ends before it).
#[differentiable]
fn first_negative(x: &[f64], w: f64) -> f64 {
    let mut at = 0;
    for (k, &v) in x.iter().enumerate().skip(1) {
        if v < 0.0 {
            at = k + 1;
            break;
        }
    }
    x[..at].iter().map(|v| v * w).sum::<f64>() + at as f64
}

/// The integer declared in the body of an outer loop, set by the exit of the inner one.
#[differentiable]
fn stop_per_row(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for t in 0..3_usize {
        let mut stop = x.len();
        for i in 0..x.len() {
            if x[i] * (t as f64) < -1.0 {
                stop = i;
                break;
            }
        }
        s += (stop as f64 + x[0]) * w;
    }
    s
}

/// The exit as a `match` arm that sets the integer (`(_, true) => { at = i + 1; break; }`).
#[differentiable]
#[allow(clippy::needless_continue)] // the form under test
fn stop_by_a_match(x: &[f64], w: f64) -> f64 {
    let mut at = 0;
    let mut s = 0.0;
    for i in 0..x.len() {
        match (i, x[i] < -1.0) {
            (0, _) => continue,
            (_, true) => {
                at = i + 1;
                break;
            }
            _ => s += x[i] * w,
        }
    }
    s + at as f64 * w
}

#[test]
fn an_integer_set_where_the_loop_breaks() {
    let w = 0.7;
    for x in [
        vec![0.5, 2.0, -1.5, 0.25, -3.0],
        vec![0.5, 2.0, 1.5],
        vec![-2.0, 0.3],
        vec![],
    ] {
        for (name, f, grad) in [
            (
                "stop_and_found",
                stop_and_found as fn(&[f64], f64) -> f64,
                (|x: &[f64], w| {
                    let (v, g) = stop_and_found_grad(x, w);
                    (v, g.x, g.w)
                }) as fn(&[f64], f64) -> (f64, Vec<f64>, f64),
            ),
            ("first_negative", first_negative, |x, w| {
                let (v, g) = first_negative_grad(x, w);
                (v, g.x, g.w)
            }),
            ("stop_by_a_match", stop_by_a_match, |x, w| {
                let (v, g) = stop_by_a_match_grad(x, w);
                (v, g.x, g.w)
            }),
            ("stop_per_row", stop_per_row, |x, w| {
                let (v, g) = stop_per_row_grad(x, w);
                (v, g.x, g.w)
            }),
        ] {
            if name == "stop_per_row" && x.is_empty() {
                continue; // (it reads x[0])
            }
            let (v, gx, gw) = grad(&x, w);
            assert_eq!(v, f(&x, w), "{name} {x:?}");
            assert_all_close(&gx, &numeric_gradient(|x| f(x, w), &x), 1e-7);
            assert_all_close(&[gw], &numeric_gradient(|p| f(&x, p[0]), &[w]), 1e-7);
        }
    }
    // By hand: [a, b, c] with c < −1 stops at 2: s = (a + b)·w + w, tail = c², plus 2.
    let (a, b, c) = (0.5, 2.0, -1.5);
    let (v, g) = stop_and_found_grad(&[a, b, c], w);
    assert_all_close(&[v], &[(a + b) * w + w + c * c + 2.0], 1e-15);
    assert_all_close(&g.x, &[w, w, 2.0 * c], 1e-15);
    assert_all_close(&[g.w], &[a + b + 1.0], 1e-15);
    // stop_by_a_match on [a, b, c] (c < −1): s = b·w, at = 3: v = b·w + 3w.
    let (v, g) = stop_by_a_match_grad(&[a, b, c], w);
    assert_all_close(&[v], &[b * w + 3.0 * w], 1e-15);
    assert_all_close(&g.x, &[0.0, w, 0.0], 1e-15);
    assert_all_close(&[g.w], &[b + 3.0], 1e-15);
    // stop_per_row on [a, −0.75]: t = 0 and 1 do not stop (2), t = 2 stops at 1.
    let (v, g) = stop_per_row_grad(&[a, -0.75], w);
    assert_all_close(&[v], &[(2.0 + 2.0 + 1.0 + 3.0 * a) * w], 1e-15);
    assert_all_close(&g.x, &[3.0 * w, 0.0], 1e-15);
    // [a, b, c] with only c negative: at = 3, the sum of all three.
    let (v, g) = first_negative_grad(&[a, b, -0.5], w);
    assert_all_close(&[v], &[(a + b - 0.5) * w + 3.0], 1e-15);
    assert_all_close(&g.x, &[w, w, w], 1e-15);
}

/// A closure bound by `let` and given by its name to `fold` and `map` (also `&f`), as the
/// closure written in place; where a name it captured is bound again before the use, it stays
/// named (and reads the variable it captured).
#[differentiable]
fn named_closures(x: &[f64], w: f64) -> f64 {
    let f = |acc: f64, v: &f64| acc * w + v;
    let sq = |v: &f64| (v * w).powi(2);
    let folded = x.iter().fold(0.5, f);
    let squares = x.iter().map(&sq).sum::<f64>();
    let g = |v: &f64| v * w;
    let w = 2.0;
    folded + squares + x.iter().map(g).sum::<f64>() * w
}

#[test]
fn closures_given_by_name() {
    for x in [vec![0.5, -1.5, 2.0], vec![0.75], vec![]] {
        let w = 0.6;
        let (v, g) = named_closures_grad(&x, w);
        assert_eq!(v, named_closures(&x, w));
        assert_all_close(&g.x, &numeric_gradient(|x| named_closures(x, w), &x), 1e-7);
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| named_closures(&x, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for [a]: (½w + a) + a²w² + 2·a·w (the `w` g captured, not the 2.0 after it).
    let (a, w) = (0.75, 0.6);
    let (v, g) = named_closures_grad(&[a], w);
    assert_all_close(&[v], &[0.5 * w + a + a * a * w * w + 2.0 * a * w], 1e-15);
    assert_all_close(&g.x, &[1.0 + 2.0 * a * w * w + 2.0 * w], 1e-15);
    assert_all_close(&[g.w], &[0.5 + 2.0 * a * a * w + 2.0 * a], 1e-15);
}

/// Iterators chained with `chain`: a loop over the chain, sums, products and a fold of it (a
/// slice, a reference to a run, and `copied` parts), a sum inside `vec![…]`.
#[differentiable]
#[allow(clippy::useless_vec)] // the form under test
fn chained(x: &[f64], y: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for v in x.iter().chain(y.iter()) {
        s += v * w;
        p = p * 0.5 + v;
    }
    let squares = x.iter().chain(y).map(|v| v * v * w).sum::<f64>();
    let product = x.iter().copied().chain(y.iter().copied()).product::<f64>();
    let folded = x.iter().chain(&y[1..]).fold(0.5, |acc, v| acc * w + v);
    let listed = vec![x.iter().chain(y).map(|v| v * w).sum::<f64>(); 2];
    s + p + squares + product + folded + listed[1]
}

#[test]
fn chained_iterators() {
    let w = 0.7;
    for (x, y) in [
        (vec![0.5, -1.5, 2.0], vec![0.25, 1.25]),
        (vec![], vec![0.75]),
        (vec![0.3], vec![0.6, -0.2, 0.9]),
    ] {
        let (v, g) = chained_grad(&x, &y, w);
        assert_eq!(v, chained(&x, &y, w));
        assert_all_close(&g.x, &numeric_gradient(|x| chained(x, &y, w), &x), 1e-7);
        assert_all_close(&g.y, &numeric_gradient(|y| chained(&x, y, w), &y), 1e-7);
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| chained(&x, &y, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for x = [], y = [b]: s = b·w, p = ½ + b, squares = b²w, product = b, folded = ½
    // (`y[1..]` is empty).
    let b = 0.75;
    let (v, g) = chained_grad(&[], &[b], w);
    assert_all_close(
        &[v],
        &[b * w + 0.5 + b + b * b * w + b + 0.5 + b * w],
        1e-15,
    );
    assert_all_close(&g.y, &[w + 1.0 + 2.0 * b * w + 1.0 + w], 1e-15);
    assert_all_close(&[g.w], &[b + b * b + b], 1e-15);
    // x = [a], y = [b, c]: folded = (½w + a)·w + c.
    let (a, c) = (0.5, -0.25);
    let (_, g) = chained_grad(&[a], &[b, c], w);
    let dfold_dw = 0.5 * w + (0.5 * w + a);
    let want_w = 2.0 * (a + b + c) + a * a + b * b + c * c + dfold_dw;
    assert_all_close(&[g.w], &[want_w], 1e-12);
}

/// A new array of zeros filled at strided indices (interleaved pairs), under `if` too, and in
/// a reversed loop; then a vector-valued function returning such an array by its name.
#[differentiable]
fn strided_fill(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; 2 * n];
    for i in 0..n {
        z[2 * i] = x[i] * w;
        if x[i] > 0.0 {
            z[2 * i + 1] = x[i] + w;
        }
    }
    let mut t = vec![0.0; 3 * n];
    for i in (0..n).rev() {
        t[1 + 3 * i] = (x[i] * w).sin();
        t[i * 3] = z[2 * i] * x[i];
    }
    z.iter().map(|v| v * v).sum::<f64>() + z[1] + t.iter().sum::<f64>()
}

#[differentiable]
fn interleaved(x: &[f64; 2], w: f64) -> [f64; 4] {
    let mut r = [0.0; 4];
    for i in 0..2 {
        r[2 * i] = x[i] * w - 1.0;
        r[2 * i + 1] = x[i] * x[i];
    }
    r
}

#[test]
fn strided_writes_into_zeros() {
    let w = 0.7;
    for x in [vec![0.5, -1.5, 2.0], vec![0.75], vec![-0.25, 0.5]] {
        let (v, g) = strided_fill_grad(&x, w);
        assert_all_close(&[v], &[strided_fill(&x, w)], 1e-15);
        assert_all_close(&g.x, &numeric_gradient(|x| strided_fill(x, w), &x), 1e-7);
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| strided_fill(&x, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for [a] (a > 0): z = [a·w, a + w], t = [a²w, sin(a·w), 0]:
    // v = a²w² + (a + w)² + (a + w) + a²w + sin(a·w).
    let a = 0.75;
    let (v, g) = strided_fill_grad(&[a], w);
    let want = a * a * w * w + (a + w).powi(2) + (a + w) + a * a * w + (a * w).sin();
    assert_all_close(&[v], &[want], 1e-15);
    let dx = 2.0 * a * w * w + 2.0 * (a + w) + 1.0 + 2.0 * a * w + w * (a * w).cos();
    assert_all_close(&g.x, &[dx], 1e-14);
    let (value, jac) = interleaved_jacobian(&[0.5, -1.5], w);
    assert_eq!(value, interleaved(&[0.5, -1.5], w));
    assert_all_close(&jac[0].x, &[w, 0.0], 1e-15);
    assert_all_close(&jac[3].x, &[0.0, -3.0], 1e-15);
    assert_all_close(
        &[jac[0].w, jac[1].w, jac[2].w, jac[3].w],
        &[0.5, 0.0, -1.5, 0.0],
        1e-15,
    );
}

/// `filter` as the last adaptor but `map`s: in sums, products and loops, its closure's pattern
/// by reference (`|v| **v > 0.0`, `|&&v| …`, `|&(i, v)| …`), after `enumerate` with a `_` in
/// the item's pattern where the filter binds a name.
#[differentiable]
fn filtered(x: &[f64], w: f64) -> f64 {
    let positive = x.iter().filter(|v| **v > 0.0).map(|v| v * w).sum::<f64>();
    let small = x.iter().filter(|&&v| v < 1.0).sum::<f64>();
    let even = x
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, &v)| v * v)
        .sum::<f64>();
    let scaled = x
        .iter()
        .filter(|v| v.abs() > 0.3)
        .map(|v| 1.0 + v * w)
        .product::<f64>();
    let mut s = 0.0;
    for v in x.iter().filter(|&&v| v > 0.0) {
        s += v * w;
    }
    for (i, v) in x.iter().enumerate().filter(|&(i, v)| i > 0 && *v < 2.0) {
        s += v * (i as f64);
    }
    // Runs, the filter's name the loop's or another.
    for r in x.chunks_exact(2).filter(|&r| r[0] > r[1]) {
        s += r[0] * w;
    }
    for r in x.chunks_exact(2).filter(|q| q[1] > 0.0) {
        s += r[1] * r[1];
    }
    positive + small + even + scaled + s
}

/// The same with each filter an `if` in the sum or loop.
fn filtered_by_ifs(x: &[f64], w: f64) -> f64 {
    let (mut positive, mut small, mut even, mut scaled, mut s) = (0.0, 0.0, 0.0, 1.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        if v > 0.0 {
            positive += v * w;
            s += v * w;
        }
        if v < 1.0 {
            small += v;
        }
        if i % 2 == 0 {
            even += v * v;
        }
        if v.abs() > 0.3 {
            scaled *= 1.0 + v * w;
        }
    }
    for (i, &v) in x.iter().enumerate() {
        if i > 0 && v < 2.0 {
            s += v * (i as f64);
        }
    }
    for r in x.chunks_exact(2) {
        if r[0] > r[1] {
            s += r[0] * w;
        }
        if r[1] > 0.0 {
            s += r[1] * r[1];
        }
    }
    positive + small + even + scaled + s
}

#[test]
fn filters_as_conditions() {
    let w = 0.7;
    for x in [
        vec![0.5, -1.5, 1.8, 0.25, 1.25, -0.1, 2.5],
        vec![-0.75],
        vec![],
    ] {
        let (v, g) = filtered_grad(&x, w);
        assert_eq!(v, filtered(&x, w));
        assert_all_close(&[v], &[filtered_by_ifs(&x, w)], 1e-14);
        assert_all_close(&g.x, &numeric_gradient(|x| filtered(x, w), &x), 1e-7);
        assert_all_close(
            &[g.w],
            &numeric_gradient(|p| filtered(&x, p[0]), &[w]),
            1e-7,
        );
    }
    // By hand for [a] (0 < a < 1, |a| > 0.3): a·w + a + a² + (1 + a·w) + a·w.
    let a = 0.5;
    let (_, g) = filtered_grad(&[a], w);
    assert_all_close(&g.x, &[w + 1.0 + 2.0 * a + w + w], 1e-15);
    assert_all_close(&[g.w], &[a + a + a], 1e-15);
}

/// A `fold` after a `map` (`….map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)`, and with a
/// closure), and an array pattern bound to an array literal.
#[differentiable]
fn folds_of_maps(x: &[f64], y: &[f64], w: f64) -> f64 {
    let worst = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let horner = x.iter().map(|v| v * w).fold(0.5, |acc, t| acc * w + t);
    let [p, q, _] = [x[0] * w, y[0] + w, x[0]];
    worst + horner + p * q
}

#[test]
fn folds_after_maps_and_array_patterns() {
    let w = 0.6;
    let (x, y) = (vec![0.5, -1.5, 2.0], vec![0.25, 1.0, -0.25]);
    let (v, g) = folds_of_maps_grad(&x, &y, w);
    assert_eq!(v, folds_of_maps(&x, &y, w));
    assert_all_close(
        &g.x,
        &numeric_gradient(|x| folds_of_maps(x, &y, w), &x),
        1e-7,
    );
    assert_all_close(
        &g.y,
        &numeric_gradient(|y| folds_of_maps(&x, y, w), &y),
        1e-7,
    );
    assert_all_close(
        &[g.w],
        &numeric_gradient(|p| folds_of_maps(&x, &y, p[0]), &[w]),
        1e-7,
    );
    // By hand for x = [a], y = [b] (a > b): (a − b) + (½w + a·w) + a·w·(b + w).
    let (a, b) = (0.75, 0.25);
    let (v, g) = folds_of_maps_grad(&[a], &[b], w);
    assert_all_close(
        &[v],
        &[(a - b) + (0.5 * w + a * w) + a * w * (b + w)],
        1e-15,
    );
    assert_all_close(&g.x, &[1.0 + w + w * (b + w)], 1e-15);
    assert_all_close(&g.y, &[-1.0 + a * w], 1e-15);
    assert_all_close(&[g.w], &[0.5 + a + a * (b + w) + a * w], 1e-15);
}

/// `if let Some(v) = x.last()` (`get(i)`, also inside `vec![…]`) and `let Some(f) =
/// x.first() else { return …; };`: the test of the length and the element.
#[differentiable]
#[allow(clippy::useless_vec)] // the form under test
fn options_of_elements(x: &[f64], w: f64, i: usize) -> f64 {
    let a = if let Some(&l) = x.last() { l * w } else { 0.0 };
    let b = if let Some(v) = x.get(i) { v * v } else { w };
    let listed = vec![if let Some(&l) = x.last() { l } else { 0.0 }; 2];
    let Some(&f) = x.first() else {
        return a + b + listed[1];
    };
    a + b + f * w + listed[0]
}

#[test]
fn options_of_elements_test_the_length() {
    let w = 0.6;
    for x in [vec![0.5, -1.5, 2.0], vec![0.75], vec![]] {
        for i in 0..4 {
            let (v, g) = options_of_elements_grad(&x, w, i);
            assert_eq!(v, options_of_elements(&x, w, i));
            assert_all_close(
                &g.x,
                &numeric_gradient(|x| options_of_elements(x, w, i), &x),
                1e-7,
            );
            assert_all_close(
                &[g.w],
                &numeric_gradient(|p| options_of_elements(&x, p[0], i), &[w]),
                1e-7,
            );
        }
    }
    // By hand: [] gives 0 + w + 0; [a] with i = 0 gives a·w + a² + a·w + a (the last inside
    // `vec![…]`).
    let (v, g) = options_of_elements_grad(&[], w, 0);
    assert_eq!((v, g.w), (w, 1.0));
    let a = 0.75;
    let (v, g) = options_of_elements_grad(&[a], w, 0);
    assert_all_close(&[v], &[2.0 * a * w + a * a + a], 1e-15);
    assert_all_close(&g.x, &[2.0 * w + 2.0 * a + 1.0], 1e-15);
    assert_all_close(&[g.w], &[2.0 * a], 1e-15);
}

/// A `match` a `let` binds with an arm that breaks: the loop's exit, then the `let` of the
/// arms that do not.
#[differentiable]
fn let_matched_break(x: &[f64], w: f64, k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let v = match (i, x[i] > 1.5) {
            (_, true) => break,
            (j, _) if j == k => x[i].sin(),
            _ => x[i] * w,
        };
        s += v * v;
    }
    s
}

#[test]
fn break_as_an_arm_of_a_match_a_let_binds() {
    let w = 0.7;
    for x in [vec![0.5, -1.5, 2.0, 0.25], vec![0.5, -1.5, 0.25], vec![]] {
        for k in 0..3 {
            let (v, g) = let_matched_break_grad(&x, w, k);
            assert_eq!(v, let_matched_break(&x, w, k));
            assert_all_close(
                &g.x,
                &numeric_gradient(|x| let_matched_break(x, w, k), &x),
                1e-7,
            );
            assert_all_close(
                &[g.w],
                &numeric_gradient(|p| let_matched_break(&x, p[0], k), &[w]),
                1e-7,
            );
        }
    }
    // By hand for [a, b, c] with c > 1.5, k = 0: sin(a)² + (b·w)², then it breaks.
    let (a, b) = (0.5, -1.5);
    let (v, g) = let_matched_break_grad(&[a, b, 2.0], w, 0);
    assert_all_close(&[v], &[a.sin().powi(2) + (b * w).powi(2)], 1e-15);
    assert_all_close(
        &g.x,
        &[2.0 * a.sin() * a.cos(), 2.0 * b * w * w, 0.0],
        1e-15,
    );
    assert_all_close(&[g.w], &[2.0 * b * b * w], 1e-15);
}
