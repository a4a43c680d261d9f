//! Second derivatives through the outputs of vector-valued `#[differentiable(hessian)]`
//! functions (their hidden `__hvp_outputs`): given floats, differentiated slices and runs of
//! them, one and two levels deep. Checked against the Hessian derived by hand (exactly, 1e-12),
//! num-dual's second-order forward mode on generic twins written on their own (1e-12), and
//! central differences of the generated gradient (1e-6); `_hvp` against the dense Hessian
//! times `v`.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use approx::assert_relative_eq;
use num_dual::DualNum;
use symgrad::{Gradient, differentiable};

#[path = "common/second_order.rs"]
mod second_order;
use second_order::{Lcg, close, dual_hessian, hessian_by_differences, mat_vec};

// ---- floats only, derived by hand

/// `[a·b, a²]`.
#[differentiable(hessian)]
fn pair(a: f64, b: f64) -> [f64; 2] {
    [a * b, a * a]
}

/// `r₀·r₁ + r₀ = a³b + ab`.
#[differentiable(hessian)]
fn through_pair(a: f64, b: f64) -> f64 {
    let r = pair(a, b);
    r[0] * r[1] + r[0]
}

#[test]
fn float_arguments_give_the_hessian_derived_by_hand() {
    for (a, b) in [(0.7, -1.3), (-2.0, 0.25), (1.5, 3.0)] {
        let (value, grad, h) = through_pair_hessian(a, b);
        assert_relative_eq!(value, a * a * a * b + a * b, epsilon = 1e-12);
        assert_relative_eq!(grad.a, 3.0 * a * a * b + b, epsilon = 1e-12);
        assert_relative_eq!(grad.b, a * a * a + a, epsilon = 1e-12);
        // f_aa = 6ab, f_ab = 3a² + 1, f_bb = 0
        let want = [[6.0 * a * b, 3.0 * a * a + 1.0], [3.0 * a * a + 1.0, 0.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert_relative_eq!(h[i][j], want[i][j], epsilon = 1e-12);
            }
        }
        let v = ThroughPairGrad { a: 0.3, b: -1.1 };
        let (_, _, hv) = through_pair_hvp(a, b, &v);
        assert_relative_eq!(hv.a, want[0][0] * v.a + want[0][1] * v.b, epsilon = 1e-12);
        assert_relative_eq!(hv.b, want[1][0] * v.a + want[1][1] * v.b, epsilon = 1e-12);
    }
}

/// A scalar helper through the vector-valued one: its `__partials2` come from the tangent
/// sweep through `pair`'s `__hvp_outputs` (forward over reverse).
#[differentiable(hessian)]
fn pair_norm(a: f64, b: f64) -> f64 {
    let [u, w] = pair(a, b);
    u * u + w.sin()
}

/// Two levels: `pair_norm(x·y, y) + x`.
#[differentiable(hessian)]
fn through_pair_norm(x: f64, y: f64) -> f64 {
    pair_norm(x * y, y) + x
}

fn through_pair_norm_dual<D: DualNum<Primitive = f64> + Copy>(x: D, y: D) -> D {
    let (a, b) = (x * y, y);
    let (u, w) = (a * b, a * a);
    u * u + w.sin() + x
}

#[test]
fn a_scalar_helper_through_a_vector_valued_one_matches_num_dual() {
    let mut rng = Lcg(3);
    for _ in 0..4 {
        let t = [rng.next(), rng.next()];
        let (value, grad, h) = through_pair_norm_hessian(t[0], t[1]);
        let (f, g, want) = dual_hessian::<2>(|z| through_pair_norm_dual(z[0], z[1]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&[grad.x, grad.y], &g, 1e-12, "∇ vs num-dual");
        let flat: Vec<f64> = h.iter().flatten().copied().collect();
        close(&flat, &want, 1e-12, "H vs num-dual");
    }
}

// ---- slices and runs of them

/// A rotation about the axis `r` by the angle `|r|` (Rodrigues), of the point `p`.
#[differentiable(hessian)]
fn rotate(r: &[f64], p: &[f64]) -> [f64; 3] {
    let theta = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let (w0, w1, w2) = (r[0] / theta, r[1] / theta, r[2] / theta);
    let dot = (w0 * p[0] + w1 * p[1] + w2 * p[2]) * (1.0 - c);
    [
        p[0] * c + (w1 * p[2] - w2 * p[1]) * s + w0 * dot,
        p[1] * c + (w2 * p[0] - w0 * p[2]) * s + w1 * dot,
        p[2] * c + (w0 * p[1] - w1 * p[0]) * s + w2 * dot,
    ]
}

fn rotate_dual<D: DualNum<Primitive = f64> + Copy>(r: &[D], p: &[D]) -> [D; 3] {
    let theta = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
    let (c, s) = (theta.cos(), theta.sin());
    let (w0, w1, w2) = (r[0] / theta, r[1] / theta, r[2] / theta);
    let one = D::from(1.0);
    let dot = (w0 * p[0] + w1 * p[1] + w2 * p[2]) * (one - c);
    [
        p[0] * c + (w1 * p[2] - w2 * p[1]) * s + w0 * dot,
        p[1] * c + (w2 * p[0] - w0 * p[2]) * s + w1 * dot,
        p[2] * c + (w0 * p[1] - w1 * p[0]) * s + w2 * dot,
    ]
}

/// `(u, v)·(1 + k₀·ρ + k₁·ρ²)`, `ρ = u² + v²`: floats and a run of the camera.
#[differentiable(hessian)]
fn distort(k: &[f64], u: f64, v: f64) -> [f64; 2] {
    let rho = u * u + v * v;
    let l = 1.0 + k[0] * rho + k[1] * rho * rho;
    [u * l, v * l]
}

fn distort_dual<D: DualNum<Primitive = f64> + Copy>(k: &[D], u: D, v: D) -> [D; 2] {
    let rho = u * u + v * v;
    let l = D::from(1.0) + k[0] * rho + k[1] * rho * rho;
    [u * l, v * l]
}

/// Two levels: a vector-valued function of runs of `cam` calling the two above.
#[differentiable(hessian)]
fn project(cam: &[f64], x: &[f64]) -> [f64; 2] {
    let y = rotate(&cam[0..3], x);
    let d = distort(&cam[3..], y[0] / y[2], y[1] / y[2]);
    [d[0], d[1]]
}

/// A scalar loss of the projection: the squared distance to `(1, 2)`.
#[differentiable(wrt(cam, x), hessian)]
fn reprojection(cam: &[f64], x: &[f64], scale: f64) -> f64 {
    let p = project(cam, x);
    let (e0, e1) = (p[0] - 1.0, p[1] - 2.0);
    scale * (e0 * e0 + e1 * e1)
}

fn reprojection_dual<D: DualNum<Primitive = f64> + Copy>(cam: &[D], x: &[D], scale: f64) -> D {
    let y = rotate_dual(&cam[0..3], x);
    let d = distort_dual(&cam[3..], y[0] / y[2], y[1] / y[2]);
    let (e0, e1) = (d[0] - D::from(1.0), d[1] - D::from(2.0));
    (e0 * e0 + e1 * e1) * scale
}

/// One level, whole slices, beside a loop.
#[differentiable(hessian)]
fn rotated_norm(r: &[f64], p: &[f64]) -> f64 {
    let y = rotate(r, p);
    let mut s = 0.0;
    for k in 0..3 {
        s += (p[k] * p[k]).sin();
    }
    s + y[0] * y[1] + (y[2] * p[0]).sin()
}

fn rotated_norm_dual<D: DualNum<Primitive = f64> + Copy>(r: &[D], p: &[D]) -> D {
    let y = rotate_dual(r, p);
    let mut s = D::from(0.0);
    for k in 0..3 {
        s += (p[k] * p[k]).sin();
    }
    s + y[0] * y[1] + (y[2] * p[0]).sin()
}

#[test]
fn runs_passed_two_levels_down_match_num_dual_and_differences() {
    let mut rng = Lcg(5);
    for _ in 0..4 {
        let cam = [
            0.4 + 0.2 * rng.next(),
            -0.3 + 0.2 * rng.next(),
            0.2 + 0.1 * rng.next(),
            0.1 * rng.next(),
            0.05 * rng.next(),
        ];
        let x = [0.5 * rng.next(), 0.5 * rng.next(), 3.0 + rng.next()];
        let scale = 0.75;
        let (value, grad, h) = reprojection_hessian(&cam, &x, scale);
        let t: Vec<f64> = cam.iter().chain(&x).copied().collect();
        let (f, g, want) = dual_hessian::<8>(|z| reprojection_dual(&z[..5], &z[5..], scale), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences = hessian_by_differences(
            |s| reprojection_grad(&s[..5], &s[5..], scale).1.to_flat_vec(),
            &t,
        );
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
        let v = ReprojectionGrad {
            cam: rng.vec(5),
            x: rng.vec(3),
        };
        let (_, g2, hv) = reprojection_hvp(&cam, &x, scale, &v);
        close(&g2.to_flat_vec(), &g, 1e-12, "_hvp's ∇");
        close(
            &hv.to_flat_vec(),
            &mat_vec(&want, &v.to_flat_vec()),
            1e-12,
            "H·v",
        );
    }
}

#[test]
fn whole_slices_match_num_dual() {
    let mut rng = Lcg(9);
    for _ in 0..4 {
        let t: Vec<f64> = (0..6).map(|_| rng.next()).collect();
        let (value, grad, h) = rotated_norm_hessian(&t[..3], &t[3..]);
        let (f, g, want) = dual_hessian::<6>(|z| rotated_norm_dual(&z[..3], &z[3..]), &t);
        assert_relative_eq!(value, f, epsilon = 1e-12);
        close(&grad.to_flat_vec(), &g, 1e-12, "∇ vs num-dual");
        close(&h, &want, 1e-12, "H vs num-dual");
        let by_differences =
            hessian_by_differences(|s| rotated_norm_grad(&s[..3], &s[3..]).1.to_flat_vec(), &t);
        close(&h, &by_differences, 1e-6, "H vs differences of ∇");
    }
}

// ---- found by the fuzzer

/// Seed 402's program 624 (the fuzzer, `hvp` and vector-valued helpers' weights raised): a
/// helper with a `loop`, a `break` in an inner loop and conditions, given the differentiated
/// slice and a float computed from it, called twice.
#[differentiable(hessian)]
#[allow(unused_variables, clippy::never_loop)] // as generated: `t6` unused, a loop that breaks at once
fn fuzz_r(u: &[f64], b: f64) -> [f64; 3] {
    let mut s1 = 0.0;
    for i in 0..u.len() {
        if u[i].min(u[i]) < u[i] * b && (b - u[i] < u[i] - u[0] && b < u[i]) {
            s1 += 0.85 + b;
        } else {
            s1 += b;
        }
    }
    let mut s2 = u[u.len() - 1] * b;
    for i in 0..u.len() {
        let mut s3 = 0.0;
        let mut ct4 = 0;
        loop {
            let mut s5 = 0.0;
            if -0.83 / (2.0 + (-0.03 + u[i]).sin()) >= 0.36 {
                for k in 0..u.len() {
                    let t6 = u[i].tanh() + (-0.49 + b).tanh();
                    if i <= u.len() {
                        s5 += 1.28 / (2.0 + s1.sin()) * u[ct4];
                        break;
                    }
                    let t7 = (u[k] / (2.0 + u[k].sin())).tanh().exp();
                    s5 += if t7 / (1.0 + u[k] * u[k]) >= (-0.23 + 0.31 * (u.len() as f64)).tanh() {
                        u[ct4]
                    } else {
                        -0.82
                    };
                }
            }
            for k in 0..u.len() {
                s5 += (u[i] / (2.0 + u[k].sin())).tanh().exp();
            }
            s3 -= s5.exp();
            ct4 += 1;
            if ct4 == u.len() {
                break;
            }
        }
        s2 += s3;
    }
    [s2.sin() + s2 - s1, s2 * s2 * (s1.sin() + s1), s2]
}

#[differentiable(hessian)]
#[allow(unused_variables)] // as generated
fn fuzz_p624(n: usize, d: usize, a: f64, g: f64, x: &[f64], b: f64) -> f64 {
    let f1 = if (0.15 * (x.len() as f64)).tanh() > -0.44 {
        fuzz_r(x, x[0])[0]
    } else {
        x[0].min(x[0])
    };
    let k2 = fuzz_r(x, x[n * d - 1].atan())[1];
    k2 + (f1.sin() + f1)
}

fn fuzz_r_dual<D: DualNum<Primitive = f64> + Copy>(u: &[D], b: D) -> [D; 3] {
    let c = |v: f64| D::from(v);
    let mut s1 = c(0.0);
    for i in 0..u.len() {
        if u[i].re() < (u[i] * b).re()
            && ((b - u[i]).re() < (u[i] - u[0]).re() && b.re() < u[i].re())
        {
            s1 += c(0.85) + b;
        } else {
            s1 += b;
        }
    }
    let mut s2 = u[u.len() - 1] * b;
    for i in 0..u.len() {
        let mut s3 = c(0.0);
        let mut ct4 = 0;
        loop {
            let mut s5 = c(0.0);
            if (c(-0.83) / (c(2.0) + (c(-0.03) + u[i]).sin())).re() >= 0.36 {
                // (the generated inner loop breaks in its first iteration)
                if !u.is_empty() {
                    s5 += c(1.28) / (c(2.0) + s1.sin()) * u[ct4];
                }
            }
            for k in 0..u.len() {
                s5 += (u[i] / (c(2.0) + u[k].sin())).tanh().exp();
            }
            s3 -= s5.exp();
            ct4 += 1;
            if ct4 == u.len() {
                break;
            }
        }
        s2 += s3;
    }
    [s2.sin() + s2 - s1, s2 * s2 * (s1.sin() + s1), s2]
}

fn fuzz_p624_dual<D: DualNum<Primitive = f64> + Copy>(n: usize, d: usize, x: &[D]) -> D {
    let f1 = fuzz_r_dual(x, x[0])[0];
    let k2 = fuzz_r_dual(x, x[n * d - 1].atan())[1];
    k2 + (f1.sin() + f1)
}

/// The fuzzer reported seed 402's program 624 as a wrong `H·v` at a point where the function is
/// 6·10²² (`exp` of `exp`): `_hvp` 0.5% from central differences of `_grad`, the differences at
/// two steps agreeing. num-dual's exact Hessian agrees with `_hessian` and `_hvp` to 1e-12: the
/// differences were off (the third derivatives are as large as the function).
#[test]
#[allow(clippy::unreadable_literal)] // the fuzzer's point, as printed
fn fuzz_seed_402_program_624_matches_num_dual() {
    let x = [
        -1.2997917802763226,
        0.09006960194111935,
        1.0436638189594496,
        -1.0579123128257946,
        -0.13330408820420026,
        -1.161390544637156,
        0.12478681012251425,
        -0.7999281969934686,
        0.00741036472931067,
        1.2730619206453277,
        -1.1029689238525173,
        0.4440995974611941,
    ];
    let (n, d, a, g, b) = (
        3,
        4,
        1.119712834924809,
        -1.2148587337997838,
        -0.4396962259087811,
    );
    let (value, _, h) = fuzz_p624_hessian(n, d, a, g, &x, b);
    let (f, _, want) = dual_hessian::<12>(|z| fuzz_p624_dual(n, d, z), &x);
    assert_relative_eq!(value, f, max_relative = 1e-12);
    // The Hessian over (a, g, x, b): the block of `x`.
    let nn = 15;
    let block: Vec<f64> = (0..12)
        .flat_map(|i| (0..12).map(move |j| (i, j)))
        .map(|(i, j)| h[(2 + i) * nn + 2 + j])
        .collect();
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (got, w) in block.iter().zip(&want) {
        assert!((got - w).abs() <= 1e-12 * scale, "H: {got} vs {w}");
    }
    let vx: Vec<f64> = (0..12)
        .map(|i| f64::from((i * 7 + 3) % 11) / 11.0 - 0.5)
        .collect();
    let v = FuzzP624Grad {
        a: 0.0,
        g: 0.0,
        x: vx.clone(),
        b: 0.0,
    };
    let (_, _, hv) = fuzz_p624_hvp(n, d, a, g, &x, b, &v);
    for (got, w) in hv.x.iter().zip(mat_vec(&want, &vx)) {
        assert!((got - w).abs() <= 1e-12 * scale, "H·v: {got} vs {w}");
    }
}
