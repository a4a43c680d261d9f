//! Second derivatives through scans (a local array written element by element from the
//! element before, `z[i] = f(z[i - 1])`) under `#[differentiable(hessian)]`: `_hessian` and
//! `_hvp`. A scan's tangent is a second scan over the same loop, the elements' tangents, which
//! reads the first's elements; the reverse pass sweeps it back, then the first.
//!
//! Oracles: num-dual's second-order forward mode (`num_dual::hessian`) on generic twins written
//! on their own (value and gradient 1e-12, Hessian 1e-10), central differences of the generated
//! `_grad` (1e-6), `_hvp` against the twin's `H·v` and its gradient equal to `_grad`'s bit for
//! bit, and symmetry. Scans forward, reversed, at `enumerate`'s count, under `if`, read in
//! their loop, by a later loop and by a second scan; sequences of lengths 0 (or 1) to 6.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use num_dual::DualNum;
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, dual_hessian, hessian_by_differences, mat_vec};

/// The points every function is checked at: `a`, then `x` of every length up to 6.
const A: f64 = 0.7;
const X: [f64; 6] = [0.4, -0.7, 1.1, 0.2, -0.5, 0.9];

/// Checks a function of `(a: f64, x: &[f64])`, given its `_hessian`, `_grad` and `_hvp` (the
/// direction built from a flat vector by `hvp`) and its generic twin, at `a = A` and `x`: value
/// and gradient against num-dual (1e-12), the Hessian against num-dual (1e-10) and central
/// differences of `_grad` (1e-6), symmetric; `_hvp` against num-dual's `H·v` (1e-10), its
/// value and gradient `_grad`'s to the bit.
struct Case<'a> {
    name: &'a str,
    hessian: &'a Second,
    grad: &'a First,
    hvp: &'a Directional,
}

/// `_hessian` at `(a, x)`: the value, the gradient and the Hessian, flat.
type Second = dyn Fn(f64, &[f64]) -> (f64, Vec<f64>, Vec<f64>);
/// `_grad` at `(a, x)`: the value and the gradient, flat.
type First = dyn Fn(f64, &[f64]) -> (f64, Vec<f64>);
/// `_hvp` at `(a, x)` along a flat direction: the value, the gradient and `H·v`, flat.
type Directional = dyn Fn(f64, &[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>);

impl Case<'_> {
    fn run<const N: usize>(
        &self,
        twin: impl Fn(&[num_dual::Dual2SVec64<N>]) -> num_dual::Dual2SVec64<N>,
    ) {
        let x = &X[..N - 1];
        let what = format!("{} at x = {x:?}", self.name);
        let mut p = vec![A];
        p.extend(x);
        let (value, g, h) = (self.hessian)(A, x);
        let (dual_value, dual_g, dual_h) = dual_hessian::<N>(&twin, &p);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&g, &dual_g, 1e-12, &format!("∇ of {what}"));
        close(&h, &dual_h, 1e-10, &format!("H of {what}"));
        for i in 0..N {
            for j in 0..i {
                assert_eq!(
                    h[i * N + j].to_bits(),
                    h[j * N + i].to_bits(),
                    "{what}: H[{i}][{j}]"
                );
            }
        }
        let numeric = hessian_by_differences(|q| (self.grad)(q[0], &q[1..]).1, &p);
        close(&h, &numeric, 1e-6, &format!("H by differences of {what}"));
        let (grad_value, grad) = (self.grad)(A, x);
        let direction: Vec<f64> = (0..N).map(|i| 0.3 - 0.17 * i as f64).collect();
        let (hv_value, hv_g, hv) = (self.hvp)(A, x, &direction);
        assert_eq!(
            hv_value.to_bits(),
            grad_value.to_bits(),
            "{what}: value of _hvp"
        );
        assert_eq!(hv_g, grad, "{what}: ∇ of _hvp");
        close(
            &hv,
            &mat_vec(&dual_h, &direction),
            1e-10,
            &format!("H·v of {what}"),
        );
    }
}

/// [`Case`] of function `$f` (its companions `$f_hessian`, `$f_grad`, `$f_hvp`, gradient
/// struct `$grad`) against `$twin`, for `x` of every length from `$from` to 6.
macro_rules! check {
    ($f:ident: $hessian:ident, $grad_fn:ident, $hvp:ident, $grad:ident, $twin:ident, $from:literal) => {{
        let case = Case {
            name: stringify!($f),
            hessian: &|a, x| {
                let (value, g, h) = $hessian(a, x);
                (value, g.to_flat_vec(), h)
            },
            grad: &|a, x| {
                let (value, g) = $grad_fn(a, x);
                (value, g.to_flat_vec())
            },
            hvp: &|a, x, d| {
                let v = $grad { a: d[0], x: d[1..].to_vec() };
                let (value, g, hv) = $hvp(a, x, &v);
                (value, g.to_flat_vec(), hv.to_flat_vec())
            },
        };
        check!(@from case, $twin, $from, 1, 2, 3, 4, 5, 6, 7);
    }};
    (@from $case:ident, $twin:ident, $from:literal, $($n:literal),*) => {
        $(
            if $n > $from {
                $case.run::<$n>(|q| $twin(q[0], &q[1..]));
            }
        )*
    };
}

// ---- Forward scans read by a later loop.

/// The brief's scan, `z[0] = x[0]`, then `z[i] = z[i − 1]·x[i] + w`, read squared after.
#[differentiable(hessian)]
fn product_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    z[0] = x[0];
    for i in 1..n {
        z[i] = z[i - 1] * x[i] + a;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i] * x[i];
    }
    s
}

fn product_scan_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::zero(); n];
    z[0] = x[0];
    for i in 1..n {
        z[i] = z[i - 1] * x[i] + a;
    }
    (0..n).fold(T::zero(), |s, i| s + z[i] * z[i] * x[i])
}

#[test]
fn a_product_scan_matches_num_dual_and_differences() {
    check!(product_scan: product_scan_hessian, product_scan_grad, product_scan_hvp, ProductScanGrad, product_scan_twin, 1);
}

/// A nonlinear scan written under `if` (the element kept where not written), its last element
/// read too.
#[differentiable(hessian)]
fn tanh_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut h = vec![0.5; n];
    for i in 1..n {
        if x[i] > 0.0 {
            h[i] = (a * h[i - 1] + x[i]).tanh();
        }
    }
    let mut loss = 0.0;
    for i in 0..n {
        loss += h[i] * x[i];
    }
    if n > 0 {
        loss + h[n - 1] * h[n - 1] * a
    } else {
        loss
    }
}

fn tanh_scan_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut h = vec![T::from(0.5); n];
    for i in 1..n {
        if x[i].re() > 0.0 {
            h[i] = (a * h[i - 1] + x[i]).tanh();
        }
    }
    let loss = (0..n).fold(T::zero(), |s, i| s + h[i] * x[i]);
    if n > 0 {
        loss + h[n - 1] * h[n - 1] * a
    } else {
        loss
    }
}

#[test]
fn a_conditional_nonlinear_scan_matches_num_dual_and_differences() {
    check!(tanh_scan: tanh_scan_hessian, tanh_scan_grad, tanh_scan_hvp, TanhScanGrad, tanh_scan_twin, 0);
}

// ---- Reversed scans: discounted returns `g[t] = r[t] + γ·g[t + 1]`.

/// The last return set before the loop, which starts one before it; the returns read squared.
#[differentiable(hessian)]
fn returns(a: f64, x: &[f64]) -> f64 {
    let (gamma, r, n) = (a, x, x.len());
    let mut g = vec![0.0; n];
    g[n - 1] = r[n - 1];
    for t in (0..n - 1).rev() {
        g[t] = r[t] + gamma * g[t + 1] * g[t + 1];
    }
    let mut total = 0.0;
    for t in 0..n {
        total += g[t] * r[t];
    }
    total
}

fn returns_twin<T: DualNum<Primitive = f64> + Copy>(gamma: T, r: &[T]) -> T {
    let n = r.len();
    let mut g = vec![T::zero(); n];
    g[n - 1] = r[n - 1];
    for t in (0..n - 1).rev() {
        g[t] = r[t] + gamma * g[t + 1] * g[t + 1];
    }
    (0..n).fold(T::zero(), |s, t| s + g[t] * r[t])
}

#[test]
fn reversed_returns_match_num_dual_and_differences() {
    check!(returns: returns_hessian, returns_grad, returns_hvp, ReturnsGrad, returns_twin, 1);
}

// ---- Scans at `enumerate`'s count.

/// `enumerate().skip(k)` (a write under `if`), and `enumerate().rev()` reading the element
/// after (a `break` on the data).
#[differentiable(hessian)]
fn counted_scans(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    for (i, &v) in x.iter().enumerate().skip(2) {
        if v > 0.0 {
            z[i] = (z[i - 1] * a + v).tanh();
        }
    }
    let mut g = vec![0.25; n + 1];
    for (t, &v) in x.iter().enumerate().rev() {
        g[t] = g[t + 1] * a - v * g[t + 1];
        if v < -0.6 {
            break;
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * z[i] * g[i];
    }
    s + g[n] * a
}

fn counted_scans_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.3); n];
    for i in 2..n {
        if x[i].re() > 0.0 {
            z[i] = (z[i - 1] * a + x[i]).tanh();
        }
    }
    let mut g = vec![T::from(0.25); n + 1];
    for t in (0..n).rev() {
        g[t] = g[t + 1] * a - x[t] * g[t + 1];
        if x[t].re() < -0.6 {
            break;
        }
    }
    (0..n).fold(T::zero(), |s, i| s + z[i] * g[i] * (i as f64 + 1.0)) + g[n] * a
}

#[test]
fn scans_at_enumerate_count_match_num_dual_and_differences() {
    check!(counted_scans: counted_scans_hessian, counted_scans_grad, counted_scans_hvp, CountedScansGrad, counted_scans_twin, 0);
}

// ---- Scans read in their loop, and by a second scan.

/// A nonlinear scan read by a float recurrence, by another array's elements and by a second
/// scan, all in the loop that writes it; the second scan read by a third after the loop.
#[differentiable(hessian)]
fn scan_read_everywhere(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    let mut y = vec![0.0; n];
    let mut s = vec![0.1; n];
    let mut m = 0.0;
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
        m = 0.9 * m + z[i - 1] * z[i] * x[i];
        y[i] = z[i] * z[i] - x[i];
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    let mut u = vec![0.2; n];
    for i in 1..n {
        u[i] = u[i - 1] * s[i] * a + y[i];
    }
    let mut t = 0.0;
    for i in 0..n {
        t += y[i] * x[i] + s[i] + u[i] * u[i];
    }
    m + t
}

fn scan_read_everywhere_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.3); n];
    let mut y = vec![T::zero(); n];
    let mut s = vec![T::from(0.1); n];
    let mut m = T::zero();
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i]).tanh();
        m = m * 0.9 + z[i - 1] * z[i] * x[i];
        y[i] = z[i] * z[i] - x[i];
        s[i] = s[i - 1] * 0.8 + z[i] * z[i];
    }
    let mut u = vec![T::from(0.2); n];
    for i in 1..n {
        u[i] = u[i - 1] * s[i] * a + y[i];
    }
    m + (0..n).fold(T::zero(), |t, i| t + y[i] * x[i] + s[i] + u[i] * u[i])
}

#[test]
fn a_scan_read_in_its_loop_and_by_second_scans_matches_num_dual_and_differences() {
    check!(scan_read_everywhere: scan_read_everywhere_hessian, scan_read_everywhere_grad, scan_read_everywhere_hvp, ScanReadEverywhereGrad, scan_read_everywhere_twin, 0);
}

/// The scan's elements read under a condition and in a loop nested in the one writing it,
/// iterations skipped by `continue`.
#[differentiable(hessian)]
fn scan_read_nested(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.2; n];
    let mut acc = 0.0;
    for i in 1..n {
        if x[i] > 1.0 {
            continue;
        }
        z[i] = (a * z[i - 1]).sin() + x[i];
        if z[i - 1] > 0.1 {
            acc += z[i] * z[i - 1];
        }
        for j in 0..i {
            acc += x[j] * z[i - 1] * z[i];
        }
    }
    acc
}

fn scan_read_nested_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.2); n];
    let mut acc = T::zero();
    for i in 1..n {
        if x[i].re() > 1.0 {
            continue;
        }
        z[i] = (a * z[i - 1]).sin() + x[i];
        if z[i - 1].re() > 0.1 {
            acc += z[i] * z[i - 1];
        }
        for j in 0..i {
            acc += x[j] * z[i - 1] * z[i];
        }
    }
    acc
}

#[test]
fn a_scan_read_under_if_and_in_a_nested_loop_matches_num_dual_and_differences() {
    check!(scan_read_nested: scan_read_nested_hessian, scan_read_nested_grad, scan_read_nested_hvp, ScanReadNestedGrad, scan_read_nested_twin, 0);
}

// ---- A scan per row of an outer loop.

/// A cumulative product per row of 3 columns, each row's last element squared.
#[differentiable(hessian)]
fn row_scans(a: f64, x: &[f64]) -> f64 {
    let m = 3;
    let rows = x.len() / m;
    let mut total = 0.0;
    for r in 0..rows {
        let mut z = vec![1.0; m];
        z[0] = x[r * m] * a;
        for c in 1..m {
            z[c] = z[c - 1] * x[r * m + c] + a;
        }
        total += z[m - 1] * z[m - 1] + z[1];
    }
    total
}

fn row_scans_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let m = 3;
    let mut total = T::zero();
    for r in 0..x.len() / m {
        let mut p = x[r * m] * a;
        let mut second = p;
        for c in 1..m {
            p = p * x[r * m + c] + a;
            if c == 1 {
                second = p;
            }
        }
        total += p * p + second;
    }
    total
}

#[test]
fn a_scan_per_row_matches_num_dual_and_differences() {
    check!(row_scans: row_scans_hessian, row_scans_grad, row_scans_hvp, RowScansGrad, row_scans_twin, 0);
}

// ---- A scan passed to another function.

/// The helper: a weighted sum of squares.
#[differentiable(hessian)]
fn weighted_squares(z: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..z.len() {
        s += z[i] * z[i] * x[i];
    }
    s
}

/// A scan given whole to `weighted_squares`, then read after.
#[differentiable(hessian)]
fn scan_passed(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.4; n];
    for i in 1..n {
        z[i] = (z[i - 1] * a).sin() + x[i];
    }
    let k = weighted_squares(&z, x);
    if n > 0 { k * a + z[n - 1] } else { k }
}

fn scan_passed_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.4); n];
    for i in 1..n {
        z[i] = (z[i - 1] * a).sin() + x[i];
    }
    let k = (0..n).fold(T::zero(), |s, i| s + z[i] * z[i] * x[i]);
    if n > 0 { k * a + z[n - 1] } else { k }
}

#[test]
fn a_scan_passed_to_a_function_matches_num_dual_and_differences() {
    check!(scan_passed: scan_passed_hessian, scan_passed_grad, scan_passed_hvp, ScanPassedGrad, scan_passed_twin, 0);
}

// ---- `checkpoint = K`: a float recurrence beside the scan checkpointed, the scan whole.

/// A scan and a float recurrence reading it in one loop.
#[differentiable(hessian)]
fn scan_and_float(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.4; n];
    let mut m = 0.1;
    for i in 1..n {
        z[i] = (z[i - 1] * a).sin() + x[i];
        m = m * a + z[i] * z[i - 1];
    }
    if n > 0 { m * z[n - 1] } else { m }
}

/// The same with `checkpoint = 2`.
#[differentiable(hessian, checkpoint = 2)]
fn scan_and_float_k2(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.4; n];
    let mut m = 0.1;
    for i in 1..n {
        z[i] = (z[i - 1] * a).sin() + x[i];
        m = m * a + z[i] * z[i - 1];
    }
    if n > 0 { m * z[n - 1] } else { m }
}

fn scan_and_float_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.4); n];
    let mut m = T::from(0.1);
    for i in 1..n {
        z[i] = (z[i - 1] * a).sin() + x[i];
        m = m * a + z[i] * z[i - 1];
    }
    if n > 0 { m * z[n - 1] } else { m }
}

#[test]
fn checkpointing_changes_no_bit_of_the_hessian() {
    check!(scan_and_float: scan_and_float_hessian, scan_and_float_grad, scan_and_float_hvp, ScanAndFloatGrad, scan_and_float_twin, 0);
    for len in 0..=X.len() {
        let x = &X[..len];
        let (value, g, h) = scan_and_float_hessian(A, x);
        let (value_k, g_k, h_k) = scan_and_float_k2_hessian(A, x);
        assert_eq!(value.to_bits(), value_k.to_bits());
        assert_eq!(g.to_flat_vec(), g_k.to_flat_vec(), "∇ at n = {len}");
        assert_eq!(h, h_k, "H at n = {len}");
        let v = ScanAndFloatGrad {
            a: 0.3,
            x: (0..len).map(|i| 0.1 * i as f64 - 0.2).collect(),
        };
        let v_k = ScanAndFloatK2Grad {
            a: v.a,
            x: v.x.clone(),
        };
        let hv = scan_and_float_hvp(A, x, &v).2.to_flat_vec();
        let hv_k = scan_and_float_k2_hvp(A, x, &v_k).2.to_flat_vec();
        assert_eq!(hv, hv_k, "H·v at n = {len}");
    }
}

// ---- Scalars only: the symbolic `[[T; K]; K]` Hessian, column by column.

/// A scan over a data slice, differentiated in two scalars only.
#[differentiable(hessian, wrt(a, b))]
fn scalar_scan(a: f64, b: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![b; n];
    for i in 1..n {
        z[i] = (a * z[i - 1] + x[i] * b).tanh();
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i] * x[i];
    }
    s
}

fn scalar_scan_twin<T: DualNum<Primitive = f64> + Copy>(q: &[T], x: &[f64]) -> T {
    let (a, b, n) = (q[0], q[1], x.len());
    let mut z = vec![b; n];
    for i in 1..n {
        z[i] = (a * z[i - 1] + b * x[i]).tanh();
    }
    (0..n).fold(T::zero(), |s, i| s + z[i] * z[i] * x[i])
}

#[test]
fn a_scan_in_scalars_only_matches_num_dual_and_differences() {
    let b = -0.4;
    for len in 0..=X.len() {
        let x = &X[..len];
        let (value, g, h) = scalar_scan_hessian(A, b, x);
        let (dual_value, dual_g, dual_h) = dual_hessian::<2>(|q| scalar_scan_twin(q, x), &[A, b]);
        assert_relative_eq!(value, dual_value, epsilon = 1e-12);
        close(&[g.a, g.b], &dual_g, 1e-12, "∇");
        let flat = [h[0][0], h[0][1], h[1][0], h[1][1]];
        close(&flat, &dual_h, 1e-10, "H");
        assert_eq!(h[0][1].to_bits(), h[1][0].to_bits(), "symmetric");
        let numeric = hessian_by_differences(
            |q| {
                let g = scalar_scan_grad(q[0], q[1], x).1;
                vec![g.a, g.b]
            },
            &[A, b],
        );
        close(&flat, &numeric, 1e-6, "H by differences");
        let v = ScalarScanGrad { a: 0.3, b: -1.7 };
        let (_, _, hv) = scalar_scan_hvp(A, b, x, &v);
        close(&[hv.a, hv.b], &mat_vec(&dual_h, &[0.3, -1.7]), 1e-10, "H·v");
    }
}

// ---- Scans two back: coupled state whose member's values are the array.

/// An AR(2)-like scan, `z[i] = a·z[i − 1]·x[i] − ½·z[i − 2] + a`, read by a later loop, and
/// floats updated together written into an array (the member as it was, then after).
#[differentiable(hessian)]
fn lag2_scan(a: f64, x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.3; n];
    for i in 2..n {
        z[i] = a * z[i - 1] * x[i] - 0.5 * z[i - 2] + a;
    }
    let mut traj = vec![0.0; n];
    let (mut p, mut q) = (a, 0.2);
    for i in 0..n {
        let t = (p * x[i]).sin() + a * q;
        q = p;
        p = t;
        traj[i] = q * p;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += z[i] * z[i] * x[i] + traj[i];
    }
    s
}

fn lag2_scan_twin<T: DualNum<Primitive = f64> + Copy>(a: T, x: &[T]) -> T {
    let n = x.len();
    let mut z = vec![T::from(0.3); n];
    for i in 2..n {
        z[i] = a * z[i - 1] * x[i] - z[i - 2] * 0.5 + a;
    }
    let (mut p, mut q) = (a, T::from(0.2));
    let mut s = T::zero();
    for i in 0..n {
        let t = (p * x[i]).sin() + a * q;
        q = p;
        p = t;
        s += z[i] * z[i] * x[i] + q * p;
    }
    s
}

#[test]
fn scans_two_back_match_num_dual_and_differences() {
    check!(lag2_scan: lag2_scan_hessian, lag2_scan_grad, lag2_scan_hvp, Lag2ScanGrad, lag2_scan_twin, 0);
}
