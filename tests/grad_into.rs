//! `<name>_grad_into` writes into a gradient the caller keeps: for every kind of companion
//! (straight-line and loop kernels, `wrt` subsets, arrays, `f32`, a recurrence, calls, a `rule`,
//! the tape), its value and gradient are bitwise those of `<name>_grad`, whatever the struct held
//! before: stale values, NaNs, vectors longer or shorter than the slices, or empty ones. The
//! gradients themselves are checked against finite differences or hand-derived formulas, so
//! that two equal wrong answers fail too. (That it allocates nothing: `tests/grad_into_alloc.rs`.)
#![allow(clippy::needless_range_loop)] // index loops are the language under test

use std::fmt::Debug;

use ndarray::{Array1, Array2, array};
use symgrad::optim::Adam;
use symgrad::{Gradient, Minimizer, check_gradient, differentiable};

#[path = "../benches/common/small_calls.rs"]
mod small_calls;
use small_calls::{
    ReprojectionGrad, SpringsGrad, reprojection, reprojection_grad, reprojection_grad_into,
    reprojection_input, springs_grad, springs_grad_into, springs_input,
};

/// A float's bits, for exact comparisons (`-0.0 ≠ 0.0`, a NaN equals itself).
trait Bits: Copy + Debug {
    fn bits(self) -> u64;
}

impl Bits for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

impl Bits for f32 {
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
}

/// `_grad_into` from each of `starts` gives bitwise `_grad`'s value and gradient (the `Debug`
/// text pins each field's length, the bits pin each component).
fn same_from_every_start<T: Bits, G: Gradient<T> + Debug>(
    fresh: (T, G),
    starts: Vec<G>,
    mut into: impl FnMut(&mut G) -> T,
) {
    let (value, grad) = fresh;
    let want: Vec<u64> = grad.to_flat_vec().into_iter().map(Bits::bits).collect();
    for mut start in starts {
        let before = format!("{start:?}");
        let got = into(&mut start);
        assert_eq!(got.bits(), value.bits(), "value, from {before}");
        assert_eq!(format!("{start:?}"), format!("{grad:?}"), "from {before}");
        let bits: Vec<u64> = start.to_flat_vec().into_iter().map(Bits::bits).collect();
        assert_eq!(bits, want, "from {before}");
    }
}

/// Vectors of `len` with stale contents: longer, shorter, empty, of the right length, NaN.
fn stale_vecs<T: Copy>(len: usize, junk: T) -> Vec<Vec<T>> {
    vec![
        vec![junk; len + 7],
        vec![junk; len.saturating_sub(2)],
        Vec::new(),
        vec![junk; len],
        Vec::with_capacity(len + 100),
    ]
}

// ---- straight-line scalars

#[differentiable]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

#[test]
fn scalars_overwrite_every_field() {
    let starts = vec![
        CostGrad::default(),
        CostGrad {
            w: f64::NAN,
            x: -0.0,
            y: 1e300,
        },
    ];
    same_from_every_start(cost_grad(3.0, 1.5, 1.0), starts, |g| {
        cost_grad_into(3.0, 1.5, 1.0, g)
    });
    let mut g = CostGrad {
        w: 9.0,
        x: 9.0,
        y: 9.0,
    };
    // 2x(xw − y), 2w(xw − y), −2(xw − y) at w = 3, x = 1.5, y = 1: exact.
    assert_eq!(cost_grad_into(3.0, 1.5, 1.0, &mut g), 12.25);
    assert_eq!((g.w, g.x, g.y), (10.5, 21.0, -7.0));
}

// ---- bundle adjustment's residual: straight-line code over two slices

#[test]
fn reprojection_residual_into_a_stale_gradient() {
    let (cam, point, u, v) = reprojection_input();
    let fresh = reprojection_grad(&cam, &point, u, v);
    let value = fresh.0;
    let mut starts = Vec::new();
    for (c, p) in stale_vecs(9, f64::NAN).into_iter().zip(stale_vecs(3, 4.0)) {
        starts.push(ReprojectionGrad {
            cam: c,
            point: p,
            u: f64::NAN,
            v: 7.0,
        });
    }
    same_from_every_start(fresh, starts, |g| {
        reprojection_grad_into(&cam, &point, u, v, g)
    });
    // And the gradient is right: central differences over all 14 parameters.
    let report = check_gradient(
        |p: &[f64]| {
            let mut g = ReprojectionGrad::default();
            let value = reprojection_grad_into(&p[..9], &p[9..12], p[12], p[13], &mut g);
            (value, g)
        },
        &[cam.as_slice(), &point, &[u, v]].concat(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(reprojection(&cam, &point, u, v), value);
}

// ---- loops over slices (the kernel split), one struct reused across lengths

#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        s += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
    }
    s
}

fn rosenbrock_hand(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
    g
}

#[test]
fn loop_kernel_into_stale_vectors_of_every_length() {
    let x: Vec<f64> = (0..40).map(|i| (f64::from(i) * 0.37).sin()).collect();
    let starts = stale_vecs(x.len(), f64::NAN)
        .into_iter()
        .map(|x| RosenbrockGrad { x })
        .collect();
    same_from_every_start(rosenbrock_grad(&x), starts, |g| rosenbrock_grad_into(&x, g));
    // One struct through calls of changing lengths: each call is the fresh one.
    let mut g = RosenbrockGrad::default();
    for n in [40, 3, 40, 17, 2, 41] {
        let value = rosenbrock_grad_into(&x[..n.min(40)], &mut g);
        let (v, fresh) = rosenbrock_grad(&x[..n.min(40)]);
        assert_eq!((value.to_bits(), &g), (v.to_bits(), &fresh), "n = {n}");
        let hand = rosenbrock_hand(&x[..n.min(40)]);
        assert!(
            g.x.iter()
                .zip(&hand)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs()))
        );
        assert_eq!(g.x.len(), hand.len());
    }
}

#[test]
fn springs_reused_across_calls() {
    let x = springs_input(16);
    let starts = stale_vecs(16, -3.5)
        .into_iter()
        .map(|x| SpringsGrad { x })
        .collect();
    same_from_every_start(springs_grad(&x, 1.0), starts, |g| {
        springs_grad_into(&x, 1.0, g)
    });
    let report = check_gradient(|p: &[f64]| springs_grad(p, 1.0), &x).unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn minimizer_run_into_takes_the_steps_run_takes() {
    let x0 = springs_input(6);
    let (mut a, mut b) = (x0.clone(), x0);
    let fresh = Minimizer::new(Adam::new(0.01))
        .max_steps(300)
        .run(&mut a, |x| springs_grad(x, 1.0))
        .unwrap();
    let reused = Minimizer::new(Adam::new(0.01))
        .max_steps(300)
        .run_into(&mut b, |x, g| springs_grad_into(x, 1.0, g))
        .unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(&fresh.history.losses), bits(&reused.history.losses));
    assert_eq!(fresh.steps, reused.steps);
    assert!(fresh.final_loss < 1e-3 * fresh.history.losses[0], "{fresh}");
}

// ---- a `wrt` subset: the data slices get no field, the scalar one does

#[differentiable(wrt(w, b))]
fn mse(w: &[f64], b: f64, x: &[f64], y: &[f64]) -> f64 {
    let d = w.len();
    let n = y.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut p = b;
        for j in 0..d {
            p += w[j] * x[i * d + j];
        }
        total += (p - y[i]).powi(2);
    }
    total / n as f64
}

#[test]
fn wrt_subset_with_a_scalar_beside_the_vector() {
    let x = [0.5, -1.0, 2.0, 0.25, 1.5, -0.5];
    let y = [1.0, -2.0, 0.5];
    let w = [0.3, -0.7];
    let starts = stale_vecs(2, f64::INFINITY)
        .into_iter()
        .map(|w| MseGrad { w, b: f64::NAN })
        .collect();
    same_from_every_start(mse_grad(&w, 0.1, &x, &y), starts, |g| {
        mse_grad_into(&w, 0.1, &x, &y, g)
    });
    let report = check_gradient(
        |p: &[f64]| mse_grad(&p[..2], p[2], &x, &y),
        &[0.3, -0.7, 0.1],
    )
    .unwrap();
    assert!(report.passed(), "{report}");
}

// ---- arrays, `f32`, a recurrence, calls passing slices

#[differentiable]
fn weighted(w: &[f64], x: [f64; 3]) -> f64 {
    w.iter()
        .zip(x.iter())
        .map(|(a, b)| (a * b).powi(2))
        .sum::<f64>()
}

#[test]
fn array_fields_are_overwritten_too() {
    let w = [1.0, 2.0, 3.0];
    let x = [1.0, 0.5, -1.0];
    let starts = vec![
        WeightedGrad {
            w: vec![5.0; 9],
            x: [f64::NAN; 3],
        },
        WeightedGrad::default(),
    ];
    same_from_every_start(weighted_grad(&w, x), starts, |g| {
        weighted_grad_into(&w, x, g)
    });
    let mut g = WeightedGrad::default();
    weighted_grad_into(&w, x, &mut g);
    assert_eq!((g.w, g.x), (vec![2.0, 1.0, 6.0], [2.0, 4.0, -18.0])); // 2·w·x², 2·w²·x
}

#[differentiable]
fn log_loss32(w: &[f32], scale: f32) -> f32 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (1.0 + (-scale * w[i]).exp()).ln();
    }
    s / w.len() as f32
}

#[test]
fn f32_gradients() {
    let w: Vec<f32> = (0..9u8).map(|i| f32::from(i) * 0.3 - 1.0).collect();
    let starts = stale_vecs(9, f32::NAN)
        .into_iter()
        .map(|w| LogLoss32Grad { w, scale: 2.0 })
        .collect();
    same_from_every_start(log_loss32_grad(&w, 1.5), starts, |g| {
        log_loss32_grad_into(&w, 1.5, g)
    });
    let mut g = LogLoss32Grad::default();
    log_loss32_grad_into(&w, 1.5, &mut g);
    // ∂/∂wᵢ = −scale·σ(−scale·wᵢ)/n, to f32 accuracy.
    for (gi, wi) in g.w.iter().zip(&w) {
        let want = -1.5 / (1.0 + (1.5 * wi).exp()) / 9.0;
        assert!((gi - want).abs() < 1e-6, "{gi} vs {want}");
    }
}

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p *= x[i];
    }
    p
}

#[differentiable]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable]
fn ridge(w: &[f64], x: &[f64], y: f64, lambda: f64) -> f64 {
    (dot(w, x) - y).powi(2) + lambda * dot(w, w)
}

#[test]
fn recurrences_and_calls() {
    let x = [1.5, -2.0, 0.5, 3.0];
    let starts = stale_vecs(4, 1.0)
        .into_iter()
        .map(|x| ProductGrad { x })
        .collect();
    same_from_every_start(product_grad(&x), starts, |g| product_grad_into(&x, g));
    let mut g = ProductGrad::default();
    product_grad_into(&x, &mut g);
    assert_eq!(g.x, [-3.0, 2.25, -9.0, -1.5]); // Π_{j≠i} xⱼ, exact

    let w = [0.5, -1.0, 2.0, 0.25];
    let starts = stale_vecs(4, f64::NAN)
        .into_iter()
        .zip(stale_vecs(4, 2.0).into_iter().rev())
        .map(|(w, x)| RidgeGrad {
            w,
            x,
            y: 1.0,
            lambda: 1.0,
        })
        .collect();
    same_from_every_start(ridge_grad(&w, &x, 0.5, 0.1), starts, |g| {
        ridge_grad_into(&w, &x, 0.5, 0.1, g)
    });
    let report = check_gradient(
        |p: &[f64]| ridge_grad(&p[..4], &p[4..8], p[8], p[9]),
        &[&w[..], &x, &[0.5, 0.1]].concat(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
}

// ---- parameters named like the generated locals

#[differentiable]
fn named_like_locals(grad: f64, value: &[f64]) -> f64 {
    grad * value[0] + value[1] * value[1]
}

#[test]
fn a_parameter_named_grad_or_value() {
    let mut g = NamedLikeLocalsGrad {
        grad: 0.0,
        value: vec![1.0; 5],
    };
    assert_eq!(named_like_locals_grad_into(2.0, &[3.0, 4.0], &mut g), 22.0);
    assert_eq!((g.grad, g.value), (3.0, vec![2.0, 8.0]));
}

// ---- a user rule

fn erf_rule(x: f64, k: f64) -> (f64, [f64; 2]) {
    // f = k·tanh(x): ∂f/∂x = k·(1 − tanh²x), ∂f/∂k = tanh x.
    let t = x.tanh();
    (k * t, [k * (1.0 - t * t), t])
}

#[differentiable(rule = erf_rule)]
fn erf_like(x: f64, k: f64) -> f64 {
    k * x.tanh()
}

#[differentiable(wrt(k), rule = erf_rule)]
fn erf_like_k(x: f64, k: f64) -> f64 {
    k * x.tanh()
}

#[test]
fn rules_write_the_rule_s_partials() {
    let starts = vec![
        ErfLikeGrad {
            x: f64::NAN,
            k: 5.0,
        },
        ErfLikeGrad::default(),
    ];
    same_from_every_start(erf_like_grad(0.3, 2.0), starts, |g| {
        erf_like_grad_into(0.3, 2.0, g)
    });
    let mut g = ErfLikeKGrad { k: f64::NAN };
    let value = erf_like_k_grad_into(0.3, 2.0, &mut g);
    assert_eq!((value, g.k), (2.0 * 0.3_f64.tanh(), 0.3_f64.tanh()));
    assert_eq!(erf_like(0.3, 2.0), value);
}

// ---- the tape

#[differentiable(wrt(w, b, s))]
fn tape_loss(x: &Array2<f64>, w: &Array1<f64>, b: f64, s: f64) -> f64 {
    let z = x.dot(w) + b;
    (z.powi(2) * s).sum()
}

#[test]
fn tape_arrays_and_scalars_are_replaced() {
    let x = array![[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]];
    let w = array![0.25, -0.5];
    let starts = vec![
        TapeLossGrad::default(),
        TapeLossGrad {
            w: Array1::from_elem(7, f64::NAN),
            b: f64::NAN,
            s: 1.0,
        },
        TapeLossGrad {
            w: Array1::zeros(2),
            b: 0.0,
            s: 0.0,
        },
    ];
    same_from_every_start(tape_loss_grad(&x, &w, 0.1, 2.0), starts, |g| {
        tape_loss_grad_into(&x, &w, 0.1, 2.0, g)
    });
    // ∂/∂w = 2s·xᵀz, ∂/∂b = 2s·Σz, ∂/∂s = Σz², z = xw + b.
    let mut g = TapeLossGrad::default();
    tape_loss_grad_into(&x, &w, 0.1, 2.0, &mut g);
    let z = x.dot(&w) + 0.1;
    let dw: Array1<f64> = x.t().dot(&z) * 4.0;
    assert!((&g.w - &dw).iter().all(|d| d.abs() < 1e-12));
    assert!((g.b - 4.0 * z.sum()).abs() < 1e-12);
    assert!((g.s - z.powi(2).sum()).abs() < 1e-12);
    let _: Array2<f64> = x;
}
