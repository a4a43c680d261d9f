//! nalgebra vectors and matrices as parameters and results of `#[differentiable]` functions
//! (feature `nalgebra`), against oracles: the same functions written with Rust arrays (exact),
//! gradients derived by hand (1e-12), and central differences.

use approx::assert_abs_diff_eq;
use symgrad::nalgebra::{DVector, Matrix2, Matrix2x3, Matrix3, SMatrix, SVector, Vector2, Vector3};
use symgrad::optim::Adam;
use symgrad::params::Parameters;
use symgrad::{Gradient, Minimizer, differentiable};

/// Central differences of `f` at `x`, one coordinate at a time.
fn central(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let h = 1e-6;
    (0..x.len())
        .map(|i| {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "component {i}: {x} vs {y}"
        );
    }
}

// ‖Ax − b‖²: ∇x = 2Aᵀ(Ax − b), ∇A = 2(Ax − b)xᵀ, ∇b = −2(Ax − b).
#[differentiable]
fn lsq(a: Matrix3<f64>, x: Vector3<f64>, b: &Vector3<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let mut ax = 0.0;
        for j in 0..3 {
            ax += a[(i, j)] * x[j];
        }
        s += (ax - b[i]).powi(2);
    }
    s
}

// The same function on Rust arrays, `a` column-major as nalgebra stores it.
#[differentiable]
fn lsq_arrays(a: [f64; 9], x: [f64; 3], b: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let mut ax = 0.0;
        for j in 0..3 {
            ax += a[i + 3 * j] * x[j];
        }
        s += (ax - b[i]).powi(2);
    }
    s
}

fn problem() -> (Matrix3<f64>, Vector3<f64>, Vector3<f64>) {
    let a = Matrix3::new(2.0, -1.0, 0.5, 0.25, 3.0, -2.0, 1.5, 0.75, -1.25);
    (
        a,
        Vector3::new(0.3, -0.7, 1.1),
        Vector3::new(1.0, 2.0, -0.5),
    )
}

#[test]
fn least_squares_gradient_is_2_at_times_residual() {
    let (a, x, b) = problem();
    let (value, grad) = lsq_grad(a, x, &b);
    let r = a * x - b;
    assert_abs_diff_eq!(value, r.norm_squared(), epsilon = 1e-12);
    let gx: Vector3<f64> = grad.x;
    let ga: Matrix3<f64> = grad.a;
    assert_abs_diff_eq!(gx, 2.0 * a.transpose() * r, epsilon = 1e-12);
    assert_abs_diff_eq!(ga, 2.0 * r * x.transpose(), epsilon = 1e-12);
    assert_abs_diff_eq!(grad.b, -2.0 * r, epsilon = 1e-12);
}

#[test]
fn least_squares_equals_the_array_version_exactly() {
    let (a, x, b) = problem();
    let (value, grad) = lsq_grad(a, x, &b);
    let a_flat: [f64; 9] = a.as_slice().try_into().unwrap();
    let (value_arrays, arrays) = lsq_arrays_grad(a_flat, x.into(), &b.into());
    assert_eq!(value, value_arrays);
    assert_eq!(grad.a.as_slice(), arrays.a);
    assert_eq!(grad.x.as_slice(), arrays.x);
    assert_eq!(grad.b.as_slice(), arrays.b);
    // The flat view: the fields in declaration order, each column-major.
    let flat = grad.to_flat_vec();
    let mut want = arrays.a.to_vec();
    want.extend(arrays.x);
    want.extend(arrays.b);
    assert_eq!(flat, want);
}

#[test]
fn least_squares_against_central_differences() {
    let (a, x, b) = problem();
    let (_, grad) = lsq_grad(a, x, &b);
    let mut point = a.as_slice().to_vec();
    point.extend(x.iter());
    point.extend(b.iter());
    let f = |p: &[f64]| {
        lsq(
            Matrix3::from_column_slice(&p[..9]),
            Vector3::from_column_slice(&p[9..12]),
            &Vector3::from_column_slice(&p[12..]),
        )
    };
    close(&grad.to_flat_vec(), &central(f, &point), 1e-7);
}

// Coordinates, `dot`, `norm` and `norm_squared`.
#[differentiable]
fn shapes(p: Vector3<f64>, q: &SVector<f64, 3>, s: f64) -> f64 {
    let d = p.dot(q);
    (p.x * s - p.z).powi(2) + d * p.y + p.norm() + s * q.norm_squared()
}

#[differentiable]
fn shapes_arrays(p: [f64; 3], q: &[f64; 3], s: f64) -> f64 {
    let d = p[0] * q[0] + p[1] * q[1] + p[2] * q[2];
    let norm = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    (p[0] * s - p[2]).powi(2) + d * p[1] + norm + s * (q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
}

#[test]
fn methods_and_coordinates_match_arrays_and_differences() {
    let (p, q, s) = (
        Vector3::new(0.5, -1.5, 2.0),
        Vector3::new(1.0, 0.25, -0.75),
        1.3,
    );
    let (value, grad) = shapes_grad(p, &q, s);
    let (want_value, want) = shapes_arrays_grad(p.into(), &q.into(), s);
    assert_abs_diff_eq!(value, want_value, epsilon = 1e-12);
    close(&grad.to_flat_vec(), &want.to_flat_vec(), 1e-14);
    let f = |v: &[f64]| {
        shapes(
            Vector3::from_column_slice(&v[..3]),
            &Vector3::from_column_slice(&v[3..6]),
            v[6],
        )
    };
    let point: Vec<f64> = p.iter().chain(q.iter()).copied().chain([s]).collect();
    close(&grad.to_flat_vec(), &central(f, &point), 1e-7);
    // By hand: ∂/∂s = 2(p.x·s − p.z)·p.x + ‖q‖².
    let ds = 2.0 * (p.x * s - p.z) * p.x + q.norm_squared();
    assert_abs_diff_eq!(grad.s, ds, epsilon = 1e-12);
}

// A dynamic vector, read through `len`, `iter` and `(i, 0)`.
#[differentiable(wrt(w))]
fn weighted(w: &DVector<f64>, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (w[(i, 0)] * x[i]).sin();
    }
    s + w.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn dynamic_vectors_and_reused_gradients() {
    let w = DVector::from_vec(vec![0.1, -0.4, 0.9, 1.7]);
    let x = [1.0, 2.0, -0.5, 0.3];
    let (_, grad) = weighted_grad(&w, &x);
    let want: Vec<f64> = (0..4)
        .map(|i| x[i] * (w[i] * x[i]).cos() + 2.0 * w[i])
        .collect();
    close(grad.w.as_slice(), &want, 1e-14);
    // `_grad_into` over a gradient of another length: resized and overwritten.
    let mut reused = WeightedGrad {
        w: DVector::from_element(7, 5.0),
    };
    weighted_grad_into(&w, &x, &mut reused);
    assert_eq!(reused.w, grad.w);
}

// A point projection: a vector-valued function returning a nalgebra vector.
#[differentiable(wrt(p))]
fn project(p: Vector3<f64>, f: f64) -> Vector2<f64> {
    Vector2::new(f * p.x / p.z, f * p.y / p.z)
}

#[test]
fn projection_jacobian_by_hand() {
    let (p, f) = (Vector3::new(0.4, -0.2, 2.5), 800.0);
    let (r, jac) = project_jacobian(p, f);
    assert_eq!(r, [f * p.x / p.z, f * p.y / p.z]);
    let z2 = p.z * p.z;
    let want = [
        Vector3::new(f / p.z, 0.0, -f * p.x / z2),
        Vector3::new(0.0, f / p.z, -f * p.y / z2),
    ];
    for k in 0..2 {
        assert_abs_diff_eq!(jac[k].p, want[k], epsilon = 1e-12);
    }
    // vjp and jvp against the Jacobian.
    let seed = [0.5, -2.0];
    let (_, g) = project_vjp(p, f, &seed);
    assert_abs_diff_eq!(g.p, 0.5 * want[0] - 2.0 * want[1], epsilon = 1e-12);
    let t = Vector3::new(1.0, -1.0, 0.5);
    let (_, dr) = project_jvp(p, f, &ProjectGrad { p: t });
    assert_abs_diff_eq!(dr[0], want[0].dot(&t), epsilon = 1e-12);
    assert_abs_diff_eq!(dr[1], want[1].dot(&t), epsilon = 1e-12);
}

// A matrix of another shape, through a constant, with a local vector.
const ROWS: usize = 2;

#[differentiable(wrt(m))]
fn rotate_then_square(m: SMatrix<f64, ROWS, 3>, v: [f64; 3]) -> SVector<f64, 2> {
    SVector::<f64, 2>::from(std::array::from_fn(|i| {
        let mut s = 0.0;
        for j in 0..m.ncols() {
            s += m[(i, j)] * v[j];
        }
        s * s
    }))
}

#[test]
fn rectangular_matrix_jacobian_against_differences() {
    let m = SMatrix::<f64, 2, 3>::new(1.0, 2.0, -1.0, 0.5, -0.25, 3.0);
    let v = [0.3, -1.2, 0.8];
    let (r, jac) = rotate_then_square_jacobian(m, v);
    for k in 0..2 {
        let s: f64 = (0..3).map(|j| m[(k, j)] * v[j]).sum();
        assert_abs_diff_eq!(r[k], s * s, epsilon = 1e-12);
        // ∂(s_k²)/∂m[(i, j)] = 2 s_k v_j if i == k.
        for i in 0..2 {
            for (j, vj) in v.iter().enumerate() {
                let want = if i == k { 2.0 * s * vj } else { 0.0 };
                assert_abs_diff_eq!(jac[k].m[(i, j)], want, epsilon = 1e-12);
            }
        }
        let f = |p: &[f64]| rotate_then_square(SMatrix::from_column_slice(p), v)[k];
        close(jac[k].m.as_slice(), &central(f, m.as_slice()), 1e-7);
    }
}

#[differentiable(hessian)]
fn quadratic(x: Vector3<f64>) -> f64 {
    x.x * x.x * x.y + 3.0 * x.y * x.z + x.z.powi(3)
}

#[test]
fn hessian_of_a_nalgebra_vector_by_hand() {
    let x = Vector3::new(1.5, -0.5, 2.0);
    let (_, grad, h) = quadratic_hessian(x);
    let want_grad = Vector3::new(
        2.0 * x.x * x.y,
        x.x * x.x + 3.0 * x.z,
        3.0 * x.y + 3.0 * x.z * x.z,
    );
    assert_abs_diff_eq!(grad.x, want_grad, epsilon = 1e-12);
    let want = [
        [2.0 * x.y, 2.0 * x.x, 0.0],
        [2.0 * x.x, 0.0, 3.0],
        [0.0, 3.0, 6.0 * x.z],
    ];
    close(&h, &want.concat(), 1e-12);
}

#[test]
fn parameter_sets_round_trip_in_tuple_order() {
    let mut w = Vector3::new(1.0, 2.0, 3.0);
    let mut m = SMatrix::<f64, 2, 2>::new(4.0, 5.0, 6.0, 7.0);
    let mut b = 8.0;
    let mut set = (&mut w, &mut m, &mut b);
    let mut flat = Vec::new();
    set.read_flat(&mut flat);
    // `m` column-major: [[4, 5], [6, 7]] is 4, 6, 5, 7.
    assert_eq!(flat, [1.0, 2.0, 3.0, 4.0, 6.0, 5.0, 7.0, 8.0]);
    let back: Vec<f64> = flat.iter().map(|v| -v).collect();
    assert!(set.write_flat(&back).is_empty());
    assert_eq!(w, -Vector3::new(1.0, 2.0, 3.0));
    assert_eq!(m[(0, 1)], -5.0);
    assert_eq!(b, -8.0);
}

// A linear model y = wᵀx + b on nalgebra parameters.
#[differentiable(wrt(w, b))]
fn linear(w: Vector3<f64>, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..ys.len() {
        let p = w.x * xs[3 * i] + w.y * xs[3 * i + 1] + w.z * xs[3 * i + 2] + b;
        s += (p - ys[i]).powi(2);
    }
    s / ys.len() as f64
}

#[test]
fn minimizer_on_a_tuple_reaches_the_closed_form() {
    let n = 20;
    let xs: Vec<f64> = (0..3 * n)
        .map(|k| ((k * 7 % 11) as f64 - 5.0) / 3.0)
        .collect();
    let ys: Vec<f64> = (0..n)
        .map(|i| {
            1.5 * xs[3 * i] - 2.0 * xs[3 * i + 1]
                + 0.5 * xs[3 * i + 2]
                + 0.7
                + 0.1 * ((i % 3) as f64 - 1.0)
        })
        .collect();
    // Closed form: the normal equations over [x, 1].
    let design =
        symgrad::nalgebra::DMatrix::from_fn(n, 4, |i, j| if j < 3 { xs[3 * i + j] } else { 1.0 });
    let y = DVector::from_column_slice(&ys);
    let exact = (design.transpose() * &design)
        .lu()
        .solve(&(design.transpose() * y))
        .unwrap();
    let (mut w, mut b) = (Vector3::zeros(), 0.0);
    let report = Minimizer::new(Adam::new(0.05))
        .max_steps(20_000)
        .tol_grad_norm(1e-11)
        .run_params((&mut w, &mut b), |(w, b)| linear_grad(**w, **b, &xs, &ys))
        .unwrap();
    for j in 0..3 {
        assert!(
            (w[j] - exact[j]).abs() < 1e-8,
            "{report}: w = {w}, exact {exact}"
        );
    }
    assert!((b - exact[3]).abs() < 1e-8, "{report}");
}

// nalgebra parameters as data (`wrt` leaves them out), and a `DVector` by value.
#[differentiable(wrt(x))]
fn lsq_in_x(a: &Matrix3<f64>, x: Vector3<f64>, b: Vector3<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let row: f64 = (0..3).map(|j| a[(i, j)] * x[j]).sum();
        s += (row - b[i]).powi(2);
    }
    s + 0.5 * b.iter().map(|v| v * x.z).sum::<f64>()
}

#[test]
fn data_parameters_of_nalgebra_types() {
    let (a, x, b) = problem();
    let (value, grad) = lsq_in_x_grad(&a, x, b);
    let r = a * x - b;
    assert_abs_diff_eq!(
        value,
        r.norm_squared() + 0.5 * b.sum() * x.z,
        epsilon = 1e-12
    );
    let want = 2.0 * a.transpose() * r + Vector3::new(0.0, 0.0, 0.5 * b.sum());
    assert_abs_diff_eq!(grad.x, want, epsilon = 1e-12);
}

#[differentiable(hessian)]
#[allow(clippy::needless_pass_by_value)] // The case tested: a `DVector` taken by value.
fn owned_dynamic(w: DVector<f64>, k: f64) -> f64 {
    let mut s = 0.0;
    for i in 1..w.len() {
        s += k * (w[i] - w[i - 1]).powi(2);
    }
    s
}

#[test]
fn owned_dynamic_vectors_get_gradients_and_hessians() {
    let w = DVector::from_vec(vec![0.0, 1.0, 3.0]);
    let (value, grad, h) = owned_dynamic_hessian(w.clone(), 2.0);
    assert_eq!(value, 2.0 * (1.0 + 4.0));
    // ∂/∂w = 2k·(w₀ − w₁, 2w₁ − w₀ − w₂, w₂ − w₁); ∂/∂k = Σ(Δw)².
    assert_eq!(grad.w.as_slice(), [-4.0, 2.0 * 2.0 * (2.0 - 3.0), 8.0]);
    assert_eq!(grad.k, 5.0);
    // Flat order: w's three elements, then k.
    let k = 2.0;
    let want = [
        [2.0 * k, -2.0 * k, 0.0, -2.0],
        [-2.0 * k, 4.0 * k, -2.0 * k, -2.0],
        [0.0, -2.0 * k, 2.0 * k, 4.0],
        [-2.0, -2.0, 4.0, 0.0],
    ];
    close(&h, &want.concat(), 1e-12);
}

// A local nalgebra vector (`local.x`), and a parameter shadowed by a float.
#[differentiable]
fn shadowed(v: Vector3<f64>) -> f64 {
    let local = Vector3::new(v.z, v.x, 1.0);
    let v = v.norm();
    v * local.x + local.y * local.z
}

#[test]
fn local_vectors_and_shadowed_parameters() {
    let v = Vector3::new(0.6, -1.2, 2.0);
    let (value, grad) = shadowed_grad(v);
    assert_abs_diff_eq!(value, v.norm() * v.z + v.x, epsilon = 1e-12);
    // ∇(|v|·v_z + v_x) = v_z·v/|v| + |v|·e_z + e_x.
    let want = v.z * v / v.norm() + Vector3::new(1.0, 0.0, v.norm());
    assert_abs_diff_eq!(grad.v, want, epsilon = 1e-12);
}

// An index nalgebra refuses: `m[(3, 0)]` of a `Matrix3` panics, although `3 + 3·0` is in range
// of the nine stored elements (it is `m[(0, 1)]`). The gradient panics where the function does.
#[differentiable(wrt(m))]
fn entry(m: Matrix3<f64>, r: usize, c: usize, s: f64) -> f64 {
    s * m[(r, c)] * m[(r, c)]
}

#[test]
fn an_index_out_of_range_panics_in_the_gradient_as_in_the_function() {
    let m = Matrix3::from_fn(|i, j| 1.0 + (i + 3 * j) as f64);
    for (r, c) in [(3, 0), (4, 1), (0, 3), (2, 5), (7, 7)] {
        let function = std::panic::catch_unwind(|| entry(m, r, c, 2.0));
        let gradient = std::panic::catch_unwind(|| entry_grad(m, r, c, 2.0));
        assert!(function.is_err(), "nalgebra panics at ({r}, {c})");
        assert!(
            gradient.is_err(),
            "the gradient at ({r}, {c}) must panic too"
        );
    }
    // In range: ∂(s·m_rc²)/∂m = 2·s·m_rc at (r, c), zero elsewhere.
    for r in 0..3 {
        for c in 0..3 {
            let (value, grad) = entry_grad(m, r, c, 2.0);
            assert_abs_diff_eq!(value, 2.0 * m[(r, c)] * m[(r, c)], epsilon = 1e-12);
            let mut want = Matrix3::zeros();
            want[(r, c)] = 4.0 * m[(r, c)];
            assert_eq!(grad.m, want);
        }
    }
}

// A nalgebra parameter passed on to another differentiable function.
#[differentiable]
fn cross_z(p: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
    p.x * q.y - p.y * q.x
}

#[differentiable]
fn through_helper(p: &Vector3<f64>, q: Vector3<f64>, s: f64) -> f64 {
    s * cross_z(p, &q) + p.z * p.norm_squared()
}

#[test]
fn a_nalgebra_parameter_passed_to_another_differentiable_function() {
    let (p, q, s) = (
        Vector3::new(0.5, -1.5, 2.0),
        Vector3::new(1.25, 0.75, -0.5),
        1.5,
    );
    let (value, g) = through_helper_grad(&p, q, s);
    let n2 = p.norm_squared();
    assert_abs_diff_eq!(
        value,
        s * (p.x * q.y - p.y * q.x) + p.z * n2,
        epsilon = 1e-12
    );
    // ∂/∂p = s·(q_y, −q_x, 0) + p_z·2p + (0, 0, ‖p‖²); ∂/∂q = s·(−p_y, p_x, 0); ∂/∂s = cross.
    let want_p = Vector3::new(s * q.y, -s * q.x, 0.0) + 2.0 * p.z * p + Vector3::new(0.0, 0.0, n2);
    assert_abs_diff_eq!(g.p, want_p, epsilon = 1e-12);
    assert_abs_diff_eq!(g.q, Vector3::new(-s * p.y, s * p.x, 0.0), epsilon = 1e-12);
    assert_abs_diff_eq!(g.s, p.x * q.y - p.y * q.x, epsilon = 1e-12);
}

// By value, and a matrix: vᵀMv through a helper.
#[differentiable]
fn vmv(m: Matrix3<f64>, v: Vector3<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            s += v[i] * m[(i, j)] * v[j];
        }
    }
    s
}

#[differentiable]
fn energy(m: &Matrix3<f64>, v: Vector3<f64>, k: f64) -> f64 {
    k * vmv(*m, v) + vmv(*m, v).sqrt()
}

#[test]
fn a_nalgebra_matrix_passed_by_value_to_another_differentiable_function() {
    let m = Matrix3::new(2.0, 0.5, 0.0, 0.5, 3.0, 0.25, 0.0, 0.25, 1.0);
    let (v, k) = (Vector3::new(1.0, -0.5, 2.0), 0.75);
    let (value, g) = energy_grad(&m, v, k);
    let q = v.dot(&(m * v));
    assert_abs_diff_eq!(value, k * q + q.sqrt(), epsilon = 1e-12);
    let outer = k + 0.5 / q.sqrt();
    // ∂q/∂v = (M + Mᵀ)v, ∂q/∂M = v vᵀ.
    assert_abs_diff_eq!(g.v, outer * (m + m.transpose()) * v, epsilon = 1e-12);
    assert_abs_diff_eq!(g.m, outer * v * v.transpose(), epsilon = 1e-12);
    assert_abs_diff_eq!(g.k, q, epsilon = 1e-12);
}

// Matrix results: R·C outputs in nalgebra's column-major storage order (output `r + R·c` is
// element `(r, c)`), returned as `[f64; R·C]`, the Jacobian as `[<Name>Grad; R·C]`.

/// s·R(θ): the 2-D rotation by θ scaled by s (`new` takes the elements row by row).
#[differentiable]
fn scaled_rotation(theta: f64, s: f64) -> Matrix2<f64> {
    let (sn, cs) = (theta.sin(), theta.cos());
    Matrix2::new(s * cs, -s * sn, s * sn, s * cs)
}

/// The same, written column by column as `[f64; 4]`.
#[differentiable]
fn scaled_rotation_flat(theta: f64, s: f64) -> [f64; 4] {
    let (sn, cs) = (theta.sin(), theta.cos());
    [s * cs, s * sn, -s * sn, s * cs]
}

#[test]
fn a_matrix2_result_by_hand_and_as_its_flat_twin() {
    let (theta, s) = (0.7, 1.5);
    let (r, jac) = scaled_rotation_jacobian(theta, s);
    assert_eq!(r.as_slice(), scaled_rotation(theta, s).as_slice());
    let (sn, cs) = (theta.sin(), theta.cos());
    // Column-major: [s·cos, s·sin, −s·sin, s·cos].
    let d_theta = [-s * sn, s * cs, -s * cs, -s * sn];
    let d_s = [cs, sn, -sn, cs];
    for k in 0..4 {
        assert_abs_diff_eq!(jac[k].theta, d_theta[k], epsilon = 1e-12);
        assert_abs_diff_eq!(jac[k].s, d_s[k], epsilon = 1e-12);
        let f = |p: &[f64]| scaled_rotation(p[0], p[1]).as_slice()[k];
        close(&[jac[k].theta, jac[k].s], &central(f, &[theta, s]), 1e-8);
    }
    let (flat, flat_jac) = scaled_rotation_flat_jacobian(theta, s);
    assert_eq!(r.map(f64::to_bits), flat.map(f64::to_bits));
    for k in 0..4 {
        assert_eq!(jac[k].theta.to_bits(), flat_jac[k].theta.to_bits());
        assert_eq!(jac[k].s.to_bits(), flat_jac[k].s.to_bits());
    }
    // vjp and jvp against the Jacobian.
    let seed = [0.5, -2.0, 1.25, 0.75];
    let (value, g) = scaled_rotation_vjp(theta, s, &seed);
    assert_eq!(value, r);
    let dot = |row: &[f64; 4]| row.iter().zip(&seed).map(|(a, b)| a * b).sum::<f64>();
    assert_abs_diff_eq!(g.theta, dot(&d_theta), epsilon = 1e-12);
    assert_abs_diff_eq!(g.s, dot(&d_s), epsilon = 1e-12);
    let t = ScaledRotationGrad {
        theta: 0.3,
        s: -1.1,
    };
    let (_, dr) = scaled_rotation_jvp(theta, s, &t);
    for k in 0..4 {
        assert_abs_diff_eq!(dr[k], d_theta[k] * 0.3 - d_s[k] * 1.1, epsilon = 1e-12);
    }
}

/// Rodrigues' formula: the rotation by |w| about w / |w|, R = I + sin θ K + (1 − cos θ) K².
#[differentiable]
fn rodrigues(w: Vector3<f64>) -> Matrix3<f64> {
    let theta = w.norm();
    let (kx, ky, kz) = (w.x / theta, w.y / theta, w.z / theta);
    let s = theta.sin();
    let c1 = 1.0 - theta.cos();
    Matrix3::new(
        1.0 - c1 * (ky * ky + kz * kz),
        -s * kz + c1 * kx * ky,
        s * ky + c1 * kx * kz,
        s * kz + c1 * kx * ky,
        1.0 - c1 * (kx * kx + kz * kz),
        -s * kx + c1 * ky * kz,
        -s * ky + c1 * kx * kz,
        s * kx + c1 * ky * kz,
        1.0 - c1 * (kx * kx + ky * ky),
    )
}

/// The same, column by column.
#[differentiable]
fn rodrigues_flat(w: [f64; 3]) -> [f64; 9] {
    let theta = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
    let (kx, ky, kz) = (w[0] / theta, w[1] / theta, w[2] / theta);
    let s = theta.sin();
    let c1 = 1.0 - theta.cos();
    [
        1.0 - c1 * (ky * ky + kz * kz),
        s * kz + c1 * kx * ky,
        -s * ky + c1 * kx * kz,
        -s * kz + c1 * kx * ky,
        1.0 - c1 * (kx * kx + kz * kz),
        s * kx + c1 * ky * kz,
        s * ky + c1 * kx * kz,
        -s * kx + c1 * ky * kz,
        1.0 - c1 * (kx * kx + ky * ky),
    ]
}

/// The rotation by θ about a fixed unit axis `k`, its elements given by `from_fn`.
#[differentiable(wrt(theta))]
fn axis_rotation(theta: f64, k: Vector3<f64>) -> Matrix3<f64> {
    let (s, c1) = (theta.sin(), 1.0 - theta.cos());
    Matrix3::from_fn(|i, j| {
        let id = if i == j { 1.0 } else { 0.0 };
        // K[(i, j)] = −ε_ijl k_l, (K²)[(i, j)] = k_i k_j − δ_ij.
        let skew = if i == 0 && j == 1 {
            -k.z
        } else if i == 1 && j == 0 {
            k.z
        } else if i == 0 && j == 2 {
            k.y
        } else if i == 2 && j == 0 {
            -k.y
        } else if i == 1 && j == 2 {
            -k.x
        } else if i == 2 && j == 1 {
            k.x
        } else {
            0.0
        };
        id + s * skew + c1 * (k[i] * k[j] - id)
    })
}

fn skew(k: Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(0.0, -k.z, k.y, k.z, 0.0, -k.x, -k.y, k.x, 0.0)
}

#[test]
fn a_rotation_about_a_fixed_axis_by_hand() {
    let k = Vector3::new(1.0, -2.0, 0.5).normalize();
    let theta = 0.9;
    let (r, jac) = axis_rotation_jacobian(theta, k);
    let rot = symgrad::nalgebra::Rotation3::new(k * theta);
    close(&r, rot.matrix().as_slice(), 1e-14);
    // dR/dθ = cos θ K + sin θ K².
    let kk = skew(k);
    let want = theta.cos() * kk + theta.sin() * kk * kk;
    for (row, want) in jac.iter().zip(want.as_slice()) {
        assert_abs_diff_eq!(row.theta, *want, epsilon = 1e-12);
    }
}

#[test]
fn rodrigues_jacobian_is_a_rotation_derivative_and_matches_its_flat_twin() {
    let w = Vector3::new(0.3, -0.8, 0.45);
    let (r, jac) = rodrigues_jacobian(w);
    let rot = Matrix3::from_column_slice(&r);
    assert_abs_diff_eq!(
        rot,
        *symgrad::nalgebra::Rotation3::new(w).matrix(),
        epsilon = 1e-14
    );
    assert_eq!(r.as_slice(), rodrigues(w).as_slice());
    let (flat, flat_jac) = rodrigues_flat_jacobian([w.x, w.y, w.z]);
    assert_eq!(r.map(f64::to_bits), flat.map(f64::to_bits));
    for k in 0..9 {
        let bits: Vec<u64> = jac[k].w.iter().map(|v| v.to_bits()).collect();
        let flat_bits: Vec<u64> = flat_jac[k].w.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, flat_bits, "row {k}");
        let f = |p: &[f64]| rodrigues(Vector3::from_column_slice(p)).as_slice()[k];
        close(jac[k].w.as_slice(), &central(f, w.as_slice()), 1e-8);
    }
    // Along each coordinate, Ṙ Rᵀ is skew-symmetric (R Rᵀ = I), and it is the skew matrix of
    // the angular velocity: nonzero for w ≠ 0.
    for j in 0..3 {
        let d = Matrix3::from_fn(|r, c| jac[r + 3 * c].w[j]);
        let omega = d * rot.transpose();
        assert_abs_diff_eq!(omega + omega.transpose(), Matrix3::zeros(), epsilon = 1e-12);
        assert!(omega.norm() > 0.1);
    }
    // vjp and jvp against the Jacobian.
    let seed: [f64; 9] = std::array::from_fn(|k| 0.25 * k as f64 - 1.0);
    let (_, g) = rodrigues_vjp(w, &seed);
    let mut want = Vector3::zeros();
    for k in 0..9 {
        want += seed[k] * jac[k].w;
    }
    assert_abs_diff_eq!(g.w, want, epsilon = 1e-12);
    let t = Vector3::new(0.5, 1.0, -2.0);
    let (_, dr) = rodrigues_jvp(w, &RodriguesGrad { w: t });
    for k in 0..9 {
        assert_abs_diff_eq!(dr[k], jac[k].w.dot(&t), epsilon = 1e-12);
    }
}

/// M[(i, j)] = u_i · sin v_j, a 2 × 3 result written four ways, and a fifth, flat.
#[differentiable]
fn outer_from_fn(u: Vector2<f64>, v: Vector3<f64>) -> SMatrix<f64, 2, 3> {
    SMatrix::from_fn(|i, j| u[i] * v[j].sin())
}

#[differentiable]
fn outer_new(u: Vector2<f64>, v: Vector3<f64>) -> Matrix2x3<f64> {
    let s = [v.x.sin(), v.y.sin(), v.z.sin()];
    Matrix2x3::new(
        u.x * s[0],
        u.x * s[1],
        u.x * s[2],
        u.y * s[0],
        u.y * s[1],
        u.y * s[2],
    )
}

#[differentiable]
fn outer_rows(u: Vector2<f64>, v: Vector3<f64>) -> SMatrix<f64, 2, 3> {
    let (a, b, c) = (v.x.sin(), v.y.sin(), v.z.sin());
    SMatrix::from_row_slice(&[u.x * a, u.x * b, u.x * c, u.y * a, u.y * b, u.y * c])
}

#[differentiable]
fn outer_columns(u: Vector2<f64>, v: Vector3<f64>) -> SMatrix<f64, 2, 3> {
    let (a, b, c) = (v.x.sin(), v.y.sin(), v.z.sin());
    SMatrix::<f64, 2, 3>::from_column_slice(&[u.x * a, u.y * a, u.x * b, u.y * b, u.x * c, u.y * c])
}

#[differentiable]
fn outer_flat(u: [f64; 2], v: [f64; 3]) -> [f64; 6] {
    let (a, b, c) = (v[0].sin(), v[1].sin(), v[2].sin());
    [u[0] * a, u[1] * a, u[0] * b, u[1] * b, u[0] * c, u[1] * c]
}

#[test]
fn a_2x3_result_by_hand_in_every_spelling() {
    let (u, v) = (Vector2::new(1.5, -0.5), Vector3::new(0.3, -1.2, 2.0));
    let (flat, flat_jac) = outer_flat_jacobian([u.x, u.y], [v.x, v.y, v.z]);
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    // Each spelling's rows as (∇u, ∇v).
    macro_rules! rows {
        ($jacobian:expr) => {{
            let (r, jac) = $jacobian;
            (r, jac.map(|g| (g.u, g.v)))
        }};
    }
    let spellings = [
        rows!(outer_from_fn_jacobian(u, v)),
        rows!(outer_new_jacobian(u, v)),
        rows!(outer_rows_jacobian(u, v)),
        rows!(outer_columns_jacobian(u, v)),
    ];
    let originals = [
        outer_from_fn(u, v),
        outer_new(u, v),
        outer_rows(u, v),
        outer_columns(u, v),
    ];
    for ((r, jac), original) in spellings.iter().zip(originals) {
        assert_eq!(r.as_slice(), original.as_slice());
        assert_eq!(bits(r), bits(&flat));
        for k in 0..6 {
            let (i, j) = (k % 2, k / 2);
            // ∂M_ij/∂u_a = δ_ia sin v_j, ∂M_ij/∂v_b = δ_jb u_i cos v_j.
            let (du, dv) = &jac[k];
            for a in 0..2 {
                let want = if a == i { v[j].sin() } else { 0.0 };
                assert_abs_diff_eq!(du[a], want, epsilon = 1e-12);
            }
            for b in 0..3 {
                let want = if b == j { u[i] * v[j].cos() } else { 0.0 };
                assert_abs_diff_eq!(dv[b], want, epsilon = 1e-12);
            }
            assert_eq!(bits(du.as_slice()), bits(&flat_jac[k].u));
            assert_eq!(bits(dv.as_slice()), bits(&flat_jac[k].v));
        }
    }
    let f = |p: &[f64]| {
        outer_rows(Vector2::new(p[0], p[1]), Vector3::new(p[2], p[3], p[4])).as_slice()[3]
    };
    let (_, jac) = outer_rows_jacobian(u, v);
    let mut got = jac[3].u.as_slice().to_vec();
    got.extend(jac[3].v.as_slice());
    close(&got, &central(f, &[u.x, u.y, v.x, v.y, v.z]), 1e-8);
}

// `-> DVector<f64>`: as `-> Vec<f64>`, one output per item; the companions return `Vec`s.
#[differentiable(wrt(p))]
fn decay_vec(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

#[differentiable(wrt(p))]
fn decay_dvector(p: &[f64], x: &[f64], y: &[f64]) -> DVector<f64> {
    DVector::from_vec(
        x.iter()
            .zip(y)
            .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
            .collect(),
    )
}

#[differentiable(wrt(p))]
fn decay_dvector_loop(p: &[f64], x: &[f64], y: &[f64]) -> DVector<f64> {
    let n = x.len();
    let mut r = vec![0.0; n];
    for i in 0..n {
        r[i] = p[0] * (-p[1] * x[i]).exp() - y[i];
    }
    DVector::from_vec(r)
}

#[differentiable(wrt(p))]
fn decay_dvector_iter(p: &[f64], x: &[f64], y: &[f64]) -> DVector<f64> {
    DVector::from_iterator(
        x.len(),
        x.iter()
            .zip(y)
            .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi),
    )
}

#[test]
fn dvector_results_equal_their_vec_twin_to_the_bit() {
    let (p, x, y) = ([2.0, 0.7], [0.0, 0.5, 1.0, 2.5], [1.9, 1.4, 1.0, 0.3]);
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let (r, jac) = decay_vec_jacobian(&p, &x, &y);
    for (i, row) in jac.iter().enumerate() {
        let e = (-p[1] * x[i]).exp();
        assert_abs_diff_eq!(row.p[0], e, epsilon = 1e-12);
        assert_abs_diff_eq!(row.p[1], -p[0] * x[i] * e, epsilon = 1e-12);
    }
    let seed = [0.5, -1.0, 2.0, 0.25];
    let (_, vjp) = decay_vec_vjp(&p, &x, &y, &seed);
    let tangent = DecayVecGrad { p: vec![1.0, -0.5] };
    let (_, jvp) = decay_vec_jvp(&p, &x, &y, &tangent);
    let check = |(r2, jac2): (Vec<f64>, Vec<Vec<f64>>), original: DVector<f64>| {
        assert_eq!(bits(&r2), bits(&r));
        assert_eq!(bits(&r2), bits(original.as_slice()));
        for (a, b) in jac2.iter().zip(&jac) {
            assert_eq!(bits(a), bits(&b.p));
        }
    };
    let (r1, jac1) = decay_dvector_jacobian(&p, &x, &y);
    let jac1 = jac1.into_iter().map(|g| g.p).collect();
    check((r1, jac1), decay_dvector(&p, &x, &y));
    let (r2, jac2) = decay_dvector_loop_jacobian(&p, &x, &y);
    let jac2 = jac2.into_iter().map(|g| g.p).collect();
    check((r2, jac2), decay_dvector_loop(&p, &x, &y));
    let (r3, jac3) = decay_dvector_iter_jacobian(&p, &x, &y);
    let jac3 = jac3.into_iter().map(|g| g.p).collect();
    check((r3, jac3), decay_dvector_iter(&p, &x, &y));
    // vjp and jvp, the same products as the `Vec` twin's.
    let (_, g) = decay_dvector_vjp(&p, &x, &y, &seed);
    assert_eq!(bits(&g.p), bits(&vjp.p));
    let (_, d) = decay_dvector_jvp(
        &p,
        &x,
        &y,
        &DecayDvectorGrad {
            p: tangent.p.clone(),
        },
    );
    assert_eq!(bits(&d), bits(&jvp));
}

/// `n` outputs, whatever the length of `x`.
#[differentiable(wrt(p))]
fn scaled_first(p: &[f64], x: &[f64], n: usize) -> DVector<f64> {
    DVector::from_iterator(n, x.iter().map(|xi| p[0] * xi))
}

#[test]
fn dvector_from_iterator_of_the_wrong_length_panics_in_the_jacobian_as_in_the_function() {
    let (p, x) = ([2.0], [0.5, -1.5]);
    let (r, jac) = scaled_first_jacobian(&p, &x, 2);
    assert_eq!(r, [1.0, -3.0]);
    assert_eq!((jac[0].p[0], jac[1].p[0]), (0.5, -1.5));
    let original = std::panic::catch_unwind(|| scaled_first(&p, &x, 1));
    assert!(original.is_err(), "nalgebra panics on 1 of 2 items");
    let jacobian = std::panic::catch_unwind(|| scaled_first_jacobian(&p, &x, 1));
    let message = jacobian.expect_err("the Jacobian panics too");
    let message = message.downcast_ref::<String>().map_or("", String::as_str);
    assert!(
        message.contains("did not yield the number of elements"),
        "{message}"
    );
    assert!(std::panic::catch_unwind(|| scaled_first_vjp(&p, &x, 1, &[1.0])).is_err());
}

/// A caller reading a matrix-valued call's outputs at their linear (column-major) index:
/// `r[2]` is `(0, 1)`, `−s·sin θ`; `r[1]` is `(1, 0)`, `s·sin θ`.
#[differentiable]
fn twisted_area(theta: f64, s: f64) -> f64 {
    let r = scaled_rotation(theta, s);
    r[2] * r[1] + r[0]
}

#[test]
fn a_matrix_valued_call_read_at_linear_indices() {
    let (theta, s) = (0.4, 2.0);
    let (value, g) = twisted_area_grad(theta, s);
    let (sn, cs) = (theta.sin(), theta.cos());
    // f = −s² sin² θ + s cos θ.
    assert_abs_diff_eq!(value, -s * s * sn * sn + s * cs, epsilon = 1e-12);
    assert_abs_diff_eq!(g.theta, -2.0 * s * s * sn * cs - s * sn, epsilon = 1e-12);
    assert_abs_diff_eq!(g.s, -2.0 * s * sn * sn + cs, epsilon = 1e-12);
}

/// A matrix result from an early `return` and from both branches of an `if`, each a bare
/// `SMatrix::from_row_slice` taking its shape from the return type.
#[differentiable]
fn piecewise(x: f64, y: f64) -> SMatrix<f64, 2, 2> {
    if x > 1.0 {
        return SMatrix::from_row_slice(&[x, 0.0, y, 1.0]);
    }
    if y > 0.0 {
        SMatrix::from_row_slice(&[x * y, x, y, 2.0])
    } else {
        SMatrix::from_row_slice(&[y, x * x, 0.5, y * y])
    }
}

#[test]
fn matrix_results_from_returns_and_branches() {
    // Column-major: (0,0), (1,0), (0,1), (1,1).
    for (x, y) in [(2.0, 3.0), (0.5, 3.0), (0.5, -2.0)] {
        let (r, jac) = piecewise_jacobian(x, y);
        assert_eq!(r.as_slice(), piecewise(x, y).as_slice());
        let want: [(f64, f64); 4] = if x > 1.0 {
            [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0), (0.0, 0.0)]
        } else if y > 0.0 {
            [(y, x), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0)]
        } else {
            [(0.0, 1.0), (0.0, 0.0), (2.0 * x, 0.0), (0.0, 2.0 * y)]
        };
        for k in 0..4 {
            assert_eq!((jac[k].x, jac[k].y), want[k], "({x}, {y}), output {k}");
        }
    }
}

/// A local matrix built row by row and read at `(r, c)`: `2·m₀₁ + m₁₀ + m₁₁·m₀₀` of the rows
/// `[a·p.x, b]`, `[c, p.y]`.
#[differentiable]
fn local_matrix(p: Vector2<f64>, a: f64, b: f64, c: f64) -> f64 {
    let m = Matrix2::new(a * p.x, b, c, p.y);
    2.0 * m[(0, 1)] + m[(1, 0)] + m[(1, 1)] * m[(0, 0)]
}

#[test]
fn a_local_matrix_read_at_row_and_column() {
    let (p, a, b, c) = (Vector2::new(0.5, -1.5), 2.0, 3.0, 7.0);
    let (value, g) = local_matrix_grad(p, a, b, c);
    assert_eq!(value, local_matrix(p, a, b, c));
    assert_abs_diff_eq!(value, 2.0 * b + c + p.y * a * p.x, epsilon = 1e-12);
    assert_abs_diff_eq!(g.b, 2.0, epsilon = 1e-12);
    assert_abs_diff_eq!(g.c, 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(g.a, p.y * p.x, epsilon = 1e-12);
    assert_abs_diff_eq!(g.p, Vector2::new(p.y * a, a * p.x), epsilon = 1e-12);
}

/// s·R(θ) with `hessian`, for callers' Hessians through its outputs.
#[differentiable(hessian)]
fn scaled_rotation_h(theta: f64, s: f64) -> Matrix2<f64> {
    Matrix2::new(
        s * theta.cos(),
        -s * theta.sin(),
        s * theta.sin(),
        s * theta.cos(),
    )
}

/// `m₀₁·m₁₀` of s·R(θ): −s² sin² θ.
#[differentiable(hessian)]
fn off_diagonal_product(theta: f64, s: f64) -> f64 {
    let r = scaled_rotation_h(theta, s);
    r[2] * r[1]
}

#[test]
fn a_hessian_through_a_matrix_valued_call_by_hand() {
    let (theta, s) = (0.6, 1.3);
    let (value, g, h) = off_diagonal_product_hessian(theta, s);
    let (sn, s2) = (theta.sin(), (2.0 * theta).sin());
    assert_abs_diff_eq!(value, -s * s * sn * sn, epsilon = 1e-12);
    assert_abs_diff_eq!(g.theta, -s * s * s2, epsilon = 1e-12);
    assert_abs_diff_eq!(g.s, -2.0 * s * sn * sn, epsilon = 1e-12);
    let cross = -2.0 * s * s2;
    let want = [
        -2.0 * s * s * (2.0 * theta).cos(),
        cross,
        cross,
        -2.0 * sn * sn,
    ];
    close(&h.concat(), &want, 1e-12);
}

/// `from_column_slice` of a local array's elements, as the help for `from_column_slice(&v)`
/// writes it.
#[differentiable]
fn from_local(x: f64, y: f64) -> Matrix2<f64> {
    let v = [x, y, x * y, 1.0];
    Matrix2::from_column_slice(&[v[0], v[1], v[2], v[3]])
}

#[test]
fn a_matrix_result_from_a_local_arrays_elements() {
    let (x, y) = (1.5, -2.0);
    let (r, jac) = from_local_jacobian(x, y);
    assert_eq!(r.as_slice(), from_local(x, y).as_slice());
    assert_eq!(r, [x, y, x * y, 1.0]);
    let want = [(1.0, 0.0), (0.0, 1.0), (y, x), (0.0, 0.0)];
    for k in 0..4 {
        assert_eq!((jac[k].x, jac[k].y), want[k]);
    }
}
