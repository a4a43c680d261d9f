//! A local array written in a loop nested in another loop, the outer body not reading it: a
//! table filled row by row (`z[i * m + j] = …` in `for j` inside `for i`), a cube filled by
//! three loops, a fill under `if` (the elements not written keep the value before), and the
//! whole array rewritten by every outer iteration (only the last one's values remain). The
//! outer loop carries the array from one iteration to the next, as it does where the body also
//! reads it. Checked against num-dual's forward mode on generic twins written on their own
//! (1e-12), central differences (1e-7), num-dual's Hessian (1e-10), and `checkpoint = 2` bit
//! for bit, at sizes 0, 1 and 3 (loops that run zero times included).
#![allow(clippy::needless_range_loop, clippy::useless_vec)] // index loops and `vec!` arrays are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{Dual64, DualNum, DualSVec64, gradient, jacobian};
use symgrad::{Gradient, differentiable};

#[path = "common/forward.rs"]
mod forward;
#[path = "common/second_order.rs"]
mod second_order;
use second_order::{close, dual_hessian};

const P: [f64; 6] = [0.6, -0.8, 0.9, -0.4, 1.1, 0.7];

/// The sizes every test runs at.
const SIZES: [usize; 3] = [0, 1, 3];

/// Data of length `n`, different for each `salt`.
fn data(n: usize, salt: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (salt + 0.7 * i as f64).sin() * 1.3 + 0.2)
        .collect()
}

/// num-dual's gradient of `f` at `P`.
fn dual_gradient(f: impl Fn(&[DualSVec64<6>]) -> DualSVec64<6>) -> Vec<f64> {
    let (_, g) = gradient(
        |q: SVector<DualSVec64<6>, 6>| f(q.as_slice()),
        &SVector::from_column_slice(&P),
    );
    g.as_slice().to_vec()
}

/// Forward mode one direction at a time: the gradient of `f` at `x` of any length.
fn forward_gradient(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> Vec<f64> {
    forward::forward(f, x).1
}

/// Asserts `a` and `b` are the same floats, bit for bit.
fn same_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}[{i}]: {x} vs {y}");
    }
}

// ---- the table filled row by row, read after the loops

#[differentiable]
fn fill2d(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    let mut z = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            z[i * m + j] = a[i] * b[j];
        }
    }
    let mut s = 0.0;
    for k in 0..n * m {
        s += z[k] * z[k];
    }
    s
}

fn fill2d_twin<T: DualNum<Primitive = f64> + Copy>(a: &[T], b: &[T]) -> T {
    let mut s = T::zero();
    for &ai in a {
        for &bj in b {
            s += (ai * bj) * (ai * bj);
        }
    }
    s
}

#[test]
fn a_table_filled_row_by_row_matches_forward_mode_and_differences() {
    for n in SIZES {
        for m in SIZES {
            let (a, b) = (data(n, 0.3), data(m, 1.9));
            let (value, g) = fill2d_grad(&a, &b);
            assert_eq!(value, fill2d(&a, &b));
            let mut ab = a.clone();
            ab.extend(&b);
            let got = g.to_flat_vec();
            let dual = forward_gradient(|q| fill2d_twin(&q[..n], &q[n..]), &ab);
            assert_all_close(&got, &dual, 1e-12);
            let numeric = numeric_gradient(|q| fill2d(&q[..n], &q[n..]), &ab);
            assert_all_close(&got, &numeric, 1e-7);
        }
    }
}

// ---- a data-dependent fill, at an offset, read after the loops in a nonlinear way

/// The body under several attributes (plain, `checkpoint = 2`, `hessian`).
macro_rules! rows {
    ($(#[$attr:meta] $name:ident;)*) => {$(
        /// Row `i` of `z`, at `off = i * m`, filled from `x[i]`, `y[j]` and the parameters
        /// (which branch depends on the data); the rows read after the loops by products of
        /// elements far apart, a `tanh` and an `exp`.
        #[$attr]
        fn $name(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
            let (n, m) = (x.len(), y.len());
            let mut z = vec![p[5]; n * m + 1];
            for i in 0..n {
                let off = i * m;
                for j in 0..m {
                    let t = p[0] * x[i] + p[1] * y[j];
                    z[off + j] = if t > 0.0 { t.tanh() * p[2] } else { (p[3] * t).exp() };
                }
            }
            let len = z.len();
            let mut s = 0.0;
            for k in 0..len {
                s += z[k] * z[len - 1 - k] * p[4] + (z[k] * p[2]).tanh();
            }
            s * z[len / 2]
        }
    )*};
}

rows! {
    #[differentiable(wrt(p))] rows;
    #[differentiable(wrt(p), checkpoint = 2)] rows_k2;
    #[differentiable(wrt(p), hessian)] rows_h;
}

fn rows_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], y: &[f64]) -> T {
    let mut z = vec![p[5]];
    let mut cells: Vec<T> = Vec::new();
    for &xi in x {
        for &yj in y {
            let t = p[0] * xi + p[1] * yj;
            cells.push(if t > 0.0 {
                t.tanh() * p[2]
            } else {
                (p[3] * t).exp()
            });
        }
    }
    cells.append(&mut z);
    let len = cells.len();
    let s = (0..len).fold(T::zero(), |s, k| {
        s + cells[k] * cells[len - 1 - k] * p[4] + (cells[k] * p[2]).tanh()
    });
    s * cells[len / 2]
}

#[test]
fn a_data_dependent_fill_read_nonlinearly_matches_num_dual_differences_and_checkpoints() {
    for n in SIZES {
        for m in SIZES {
            let (x, y) = (data(n, 0.1), data(m, 2.3));
            let (value, g) = rows_grad(&P, &x, &y);
            assert_eq!(value, rows(&P, &x, &y));
            assert_all_close(&g.p, &dual_gradient(|q| rows_twin(q, &x, &y)), 1e-12);
            assert_all_close(&g.p, &numeric_gradient(|q| rows(q, &x, &y), &P), 1e-7);
            let (value_k, g_k) = rows_k2_grad(&P, &x, &y);
            assert_eq!(value_k.to_bits(), value.to_bits());
            same_bits(&g_k.p, &g.p, "checkpoint = 2");
        }
    }
}

#[test]
fn a_data_dependent_fill_has_num_duals_hessian() {
    for n in SIZES {
        for m in SIZES {
            let (x, y) = (data(n, 0.1), data(m, 2.3));
            let (value, g) = rows_grad(&P, &x, &y);
            let (h_value, h_grad, h) = rows_h_hessian(&P, &x, &y);
            assert_eq!(h_value, value);
            close(&h_grad.p, &g.p, 1e-12, "∇ of _hessian");
            let (_, dual_g, dual_h) = dual_hessian::<6>(|q| rows_twin(q, &x, &y), &P);
            close(&h_grad.p, &dual_g, 1e-12, "∇");
            close(&h, &dual_h, 1e-10, "H");
        }
    }
}

// ---- three nested loops filling a cube

#[differentiable(wrt(p))]
fn cube(p: &[f64], x: &[f64], y: &[f64], r: usize) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut z = vec![0.0; n * m * r];
    for i in 0..n {
        for j in 0..m {
            for k in 0..r {
                z[(i * m + j) * r + k] = (p[0] * x[i] + p[1] * y[j] * p[2 + k % 3]).sin();
            }
        }
    }
    let mut s = p[5];
    for c in 0..z.len() {
        s += z[c] * z[c] * p[c % 6];
    }
    s
}

fn cube_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], y: &[f64], r: usize) -> T {
    let mut s = p[5];
    let mut c = 0;
    for &xi in x {
        for &yj in y {
            for k in 0..r {
                let v = (p[0] * xi + p[1] * yj * p[2 + k % 3]).sin();
                s += v * v * p[c % 6];
                c += 1;
            }
        }
    }
    s
}

#[test]
fn a_cube_filled_by_three_loops_matches_num_dual_and_differences() {
    for n in SIZES {
        for m in SIZES {
            for r in SIZES {
                let (x, y) = (data(n, 0.4), data(m, -1.1));
                let (value, g) = cube_grad(&P, &x, &y, r);
                assert_all_close(&[value], &[cube(&P, &x, &y, r)], 1e-14);
                let dual = dual_gradient(|q| cube_twin(q, &x, &y, r));
                assert_all_close(&g.p, &dual, 1e-12);
                let numeric = numeric_gradient(|q| cube(q, &x, &y, r), &P);
                assert_all_close(&g.p, &numeric, 1e-7);
            }
        }
    }
}

// ---- a fill under `if`: the elements not written keep their value before the loops

#[differentiable(wrt(p))]
fn sparse_fill(p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut z = vec![p[4]; n * m];
    for i in 0..n {
        for j in 0..m {
            if x[i] * y[j] > 0.1 {
                z[i * m + j] = p[0] * x[i] + (p[1] * y[j]).cos();
            }
        }
    }
    let mut s = 0.0;
    for k in 0..n * m {
        s += (z[k] * p[2]).sin() * p[3 + k % 3];
    }
    s
}

fn sparse_fill_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], y: &[f64]) -> T {
    let mut s = T::zero();
    let mut k = 0;
    for &xi in x {
        for &yj in y {
            let v = if xi * yj > 0.1 {
                p[0] * xi + (p[1] * yj).cos()
            } else {
                p[4]
            };
            s += (v * p[2]).sin() * p[3 + k % 3];
            k += 1;
        }
    }
    s
}

#[test]
fn a_fill_under_if_matches_num_dual_and_differences() {
    for n in SIZES {
        for m in SIZES {
            let (x, y) = (data(n, 0.2), data(m, 3.7));
            let (value, g) = sparse_fill_grad(&P, &x, &y);
            assert_eq!(value, sparse_fill(&P, &x, &y));
            let dual = dual_gradient(|q| sparse_fill_twin(q, &x, &y));
            assert_all_close(&g.p, &dual, 1e-12);
            let numeric = numeric_gradient(|q| sparse_fill(q, &x, &y), &P);
            assert_all_close(&g.p, &numeric, 1e-7);
        }
    }
}

// ---- the whole array rewritten by every outer iteration: the last one's values remain

#[differentiable(wrt(p, xs))]
fn overwrite(p: &[f64], xs: &[f64], k: usize) -> f64 {
    let mut z = vec![p[5]; k];
    for i in 0..xs.len() {
        for c in 0..k {
            z[c] = (p[c % 4] * xs[i]).sin() + p[4] * xs[i] * xs[i];
        }
    }
    let mut s = 0.0;
    for c in 0..k {
        s += z[c] * z[k - 1 - c];
    }
    s
}

fn overwrite_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], xs: &[T], k: usize) -> T {
    let z: Vec<T> = match xs.last() {
        Some(&xl) => (0..k)
            .map(|c| (p[c % 4] * xl).sin() + p[4] * xl * xl)
            .collect(),
        None => vec![p[5]; k],
    };
    (0..k).fold(T::zero(), |s, c| s + z[c] * z[k - 1 - c])
}

#[test]
fn a_whole_overwrite_takes_the_last_iteration_and_matches_forward_mode() {
    for t in SIZES {
        for k in SIZES {
            let xs = data(t, 0.9);
            let (value, g) = overwrite_grad(&P, &xs, k);
            assert_eq!(value, overwrite(&P, &xs, k));
            let mut q = P.to_vec();
            q.extend(&xs);
            let got = g.to_flat_vec();
            let dual = forward_gradient(|q| overwrite_twin(&q[..6], &q[6..], k), &q);
            assert_all_close(&got, &dual, 1e-12);
            let numeric = numeric_gradient(|q| overwrite(&q[..6], &q[6..], k), &q);
            assert_all_close(&got, &numeric, 1e-7);
            // Only the last step reaches the gradient.
            for (i, d) in got[6..].iter().enumerate() {
                if i + 1 < t {
                    assert_eq!(*d, 0.0, "xs[{i}] is overwritten");
                }
            }
        }
    }
}

/// The overwrite's inner loop over `z.len()`: the outer body reads `z`'s length only.
#[differentiable]
fn overwrite_len(w: &[f64], xs: &[f64]) -> f64 {
    let mut z = vec![0.0; w.len()];
    for i in 0..xs.len() {
        for c in 0..z.len() {
            z[c] = w[c] * xs[i];
        }
    }
    z[0] * z[1]
}

#[test]
fn an_overwrite_over_the_arrays_length_takes_the_last_iteration() {
    let w = [0.7, -1.3, 0.4];
    for t in SIZES {
        let xs = data(t, 0.5);
        let (value, g) = overwrite_len_grad(&w, &xs);
        assert_eq!(value, overwrite_len(&w, &xs));
        // By hand: z = w·x_last, so ∂/∂w0 = w1·x², ∂/∂w1 = w0·x², ∂/∂x_last = 2·w0·w1·x.
        let mut want_w = vec![0.0; 3];
        let mut want_x = vec![0.0; t];
        if let Some(&x) = xs.last() {
            want_w[0] = w[1] * x * x;
            want_w[1] = w[0] * x * x;
            want_x[t - 1] = 2.0 * w[0] * w[1] * x;
        }
        assert_all_close(&g.w, &want_w, 1e-14);
        assert_all_close(&g.xs, &want_x, 1e-14);
    }
}

// ---- a vector-valued function of the rows

#[differentiable(wrt(p))]
fn two_sums(p: &[f64], x: &[f64], y: &[f64]) -> [f64; 2] {
    let (n, m) = (x.len(), y.len());
    let mut z = vec![0.0; n * m];
    for i in 0..n {
        for j in 0..m {
            z[i * m + j] = (p[0] * x[i] - p[1] * y[j]).tanh() * p[2];
        }
    }
    let (mut s, mut q) = (p[3], 0.0);
    for k in 0..n * m {
        s += z[k] * p[4];
        q += z[k] * z[k] * p[5];
    }
    [s * q, q.exp()]
}

fn two_sums_twin<T: DualNum<Primitive = f64> + Copy>(p: &[T], x: &[f64], y: &[f64]) -> [T; 2] {
    let (mut s, mut q) = (p[3], T::zero());
    for &xi in x {
        for &yj in y {
            let v = (p[0] * xi - p[1] * yj).tanh() * p[2];
            s += v * p[4];
            q += v * v * p[5];
        }
    }
    [s * q, q.exp()]
}

#[test]
fn a_vector_valued_fill_has_num_duals_jacobian() {
    for n in SIZES {
        for m in SIZES {
            let (x, y) = (data(n, 1.4), data(m, -0.6));
            let (value, jac) = two_sums_jacobian(&P, &x, &y);
            assert_all_close(&value, &two_sums(&P, &x, &y), 1e-14);
            let (_, j) = jacobian(
                |q: SVector<DualSVec64<6>, 6>| SVector::from(two_sums_twin(q.as_slice(), &x, &y)),
                &SVector::from_column_slice(&P),
            );
            for (row, g) in jac.iter().enumerate() {
                let dual: Vec<f64> = (0..6).map(|i| j[(row, i)]).collect();
                assert_all_close(&g.to_flat_vec(), &dual, 1e-12);
                let numeric = numeric_gradient(|q| two_sums(q, &x, &y)[row], &P);
                assert_all_close(&g.to_flat_vec(), &numeric, 1e-7);
            }
        }
    }
}
