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
    hessian: &'a dyn Fn(f64, &[f64]) -> (f64, Vec<f64>, Vec<f64>),
    grad: &'a dyn Fn(f64, &[f64]) -> (f64, Vec<f64>),
    hvp: &'a dyn Fn(f64, &[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>),
}

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
                assert_eq!(h[i * N + j].to_bits(), h[j * N + i].to_bits(), "{what}: H[{i}][{j}]");
            }
        }
        let numeric = hessian_by_differences(|q| (self.grad)(q[0], &q[1..]).1, &p);
        close(&h, &numeric, 1e-6, &format!("H by differences of {what}"));
        let (grad_value, grad) = (self.grad)(A, x);
        let direction: Vec<f64> = (0..N).map(|i| 0.3 - 0.17 * i as f64).collect();
        let (hv_value, hv_g, hv) = (self.hvp)(A, x, &direction);
        assert_eq!(hv_value.to_bits(), grad_value.to_bits(), "{what}: value of _hvp");
        assert_eq!(hv_g, grad, "{what}: ∇ of _hvp");
        close(&hv, &mat_vec(&dual_h, &direction), 1e-10, &format!("H·v of {what}"));
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
    if n > 0 { loss + h[n - 1] * h[n - 1] * a } else { loss }
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
    if n > 0 { loss + h[n - 1] * h[n - 1] * a } else { loss }
}

#[test]
fn a_conditional_nonlinear_scan_matches_num_dual_and_differences() {
    check!(tanh_scan: tanh_scan_hessian, tanh_scan_grad, tanh_scan_hvp, TanhScanGrad, tanh_scan_twin, 0);
}
