//! Every tape op's backward rule against central finite differences.
//!
//! Each check watches the inputs, applies the op, contracts the result with fixed pseudo-random
//! weights (so the whole Jacobian is exercised, not just its column sums), and compares the tape
//! gradient with `(f(x + h) − f(x − h)) / 2h` for every input element.

use ndarray::{Array, ArrayD, Axis, Ix0, Ix1, Ix2, IxDyn, array};
use symgrad_runtime::tape::{Tape, Var, dot};

/// Deterministic numbers in [lo, hi).
fn uniform(shape: &[usize], seed: u64, lo: f64, hi: f64) -> ArrayD<f64> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ArrayD::from_shape_fn(shape, |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (hi - lo) * ((state >> 11) as f64 / (1u64 << 53) as f64)
    })
}

/// Evaluates `Σ w ∘ body` on a fresh tape whose watched inputs are bound to `$v`; returns the
/// value and the gradients.
macro_rules! weighted {
    ($inputs:expr, |$v:ident| $body:expr) => {{
        let tape = Tape::new();
        let watched: Vec<Var<'_, f64, IxDyn>> = $inputs.iter().map(|x| tape.watch(x)).collect();
        let $v: Vec<&Var<'_, f64, IxDyn>> = watched.iter().collect();
        let out = ($body).into_dyn();
        let weights = uniform(&out.shape(), 99, -1.0, 1.0);
        let loss = (out * &weights).sum();
        let grads = tape.gradient(&loss);
        (
            loss.item(),
            watched.iter().map(|x| grads.wrt(x)).collect::<Vec<_>>(),
        )
    }};
}

/// Asserts the tape gradient of `Σ w ∘ body` matches central differences for every input
/// element.
macro_rules! check {
    ($inputs:expr, |$v:ident| $body:expr) => {{
        let inputs: Vec<ArrayD<f64>> = $inputs.to_vec();
        let eval = |xs: &[ArrayD<f64>]| weighted!(xs, |$v| $body);
        compare_with_finite_differences(&eval, &inputs);
    }};
}

/// A loss evaluator: inputs → (value, gradient of every input).
type Evaluate<'a> = &'a dyn Fn(&[ArrayD<f64>]) -> (f64, Vec<ArrayD<f64>>);

#[track_caller]
fn compare_with_finite_differences(eval: Evaluate<'_>, inputs: &[ArrayD<f64>]) {
    let (_, grads) = eval(inputs);
    let h = 1e-6;
    for (i, input) in inputs.iter().enumerate() {
        assert_eq!(
            grads[i].shape(),
            input.shape(),
            "gradient shape of input {i}"
        );
        for (j, &analytic) in grads[i].iter().enumerate() {
            let at = |delta: f64| {
                let mut moved = inputs.to_vec();
                moved[i].as_slice_mut().unwrap()[j] += delta;
                eval(&moved).0
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            let tolerance = 1e-6 * (1.0 + numeric.abs());
            assert!(
                (analytic - numeric).abs() < tolerance,
                "input {i}, element {j}: tape {analytic}, finite differences {numeric}"
            );
        }
    }
}

/// A typed copy of a dynamic input (`· 1.0` is exact; a `Var` has one handle per node).
fn m2<'t>(v: &Var<'t, f64, IxDyn>) -> Var<'t, f64, Ix2> {
    (v * 1.0).into_dimensionality().expect("a matrix")
}

fn v1<'t>(v: &Var<'t, f64, IxDyn>) -> Var<'t, f64, Ix1> {
    (v * 1.0).into_dimensionality().expect("a vector")
}

fn r(shape: &[usize], seed: u64) -> ArrayD<f64> {
    uniform(shape, seed, -2.0, 2.0)
}

fn positive(shape: &[usize], seed: u64) -> ArrayD<f64> {
    uniform(shape, seed, 0.5, 3.0)
}

#[test]
fn add_sub_mul_div_same_shape() {
    let xs = [r(&[3, 4], 1), positive(&[3, 4], 2)];
    check!(&xs, |v| v[0] + v[1]);
    check!(&xs, |v| v[0] - v[1]);
    check!(&xs, |v| v[0] * v[1]);
    check!(&xs, |v| v[0] / v[1]);
    check!(&xs, |v| v[0] * v[0] - v[0] / v[1] + v[1]);
}

#[test]
fn broadcasting_sums_gradient_over_broadcast_axes() {
    let row = [r(&[3, 4], 3), positive(&[4], 4)];
    check!(&row, |v| v[0] + v[1]);
    check!(&row, |v| v[1] - v[0]);
    check!(&row, |v| v[0] * v[1]);
    check!(&row, |v| v[0] / v[1]);
    let outer = [r(&[3, 1], 5), positive(&[1, 4], 6)];
    check!(&outer, |v| v[0] * v[1]);
    check!(&outer, |v| v[0] / v[1]);
    let scalar = [r(&[2, 3], 7), positive(&[], 8)];
    check!(&scalar, |v| v[0] * v[1] + v[1]);
}

#[test]
fn arrays_and_scalars_on_either_side() {
    let c = r(&[2, 3], 11);
    let b = positive(&[3], 12);
    let xs = [positive(&[2, 3], 13)];
    check!(&xs, |v| v[0] + &c);
    check!(&xs, |v| &c - v[0]);
    check!(&xs, |v| &c * v[0] * &b);
    check!(&xs, |v| &c / v[0]);
    check!(&xs, |v| v[0] / &b);
    check!(&xs, |v| b.clone() - v[0]);
    check!(&xs, |v| v[0] * c.view());
    check!(&xs, |v| 2.0 * v[0] + 1.5);
    check!(&xs, |v| 3.0 - v[0] / 4.0);
    check!(&xs, |v| 2.0 / v[0] - (v[0] - 0.5) * -1.0);
    check!(&xs, |v| -v[0] + -(v[0] * 1.0));
}

#[test]
fn compound_assignment() {
    let xs = [positive(&[2, 3], 14), positive(&[3], 15)];
    check!(&xs, |v| {
        let mut acc = v[0] * 1.0;
        acc += v[1];
        acc *= v[0];
        acc -= 2.0;
        acc /= v[1];
        acc
    });
}

#[test]
fn dot_in_all_forms() {
    let mm = [r(&[3, 4], 21), r(&[4, 2], 22)];
    check!(&mm, |v| m2(v[0]).dot(m2(v[1])).into_dyn());
    let mv = [r(&[3, 4], 23), r(&[4], 24)];
    check!(&mv, |v| m2(v[0]).dot(v1(v[1])).into_dyn());
    let vm = [r(&[4], 25), r(&[4, 2], 26)];
    check!(&vm, |v| v1(v[0]).dot(m2(v[1])).into_dyn());
    let vv = [r(&[5], 27), r(&[5], 28)];
    check!(&vv, |v| v1(v[0]).dot(v1(v[1])).into_dyn());
    check!(&vv, |v| v1(v[0]).dot(v1(v[0])).into_dyn());
}

#[test]
fn dot_on_dynamic_ranks() {
    check!([r(&[3, 4], 201), r(&[4, 2], 202)], |v| v[0].dot(v[1]));
    check!([r(&[3, 4], 203), r(&[4], 204)], |v| v[0].dot(v[1]));
    check!([r(&[4], 205), r(&[4, 2], 206)], |v| v[0].dot(v[1]));
    check!([r(&[4], 207), r(&[4], 208)], |v| v[0].dot(v[1]));
}

#[test]
fn dot_with_constants_on_either_side() {
    let x = r(&[3, 4], 31).into_dimensionality::<Ix2>().unwrap();
    let u = r(&[3], 32).into_dimensionality::<Ix1>().unwrap();
    let w = [r(&[4, 2], 33)];
    check!(&w, |v| dot(&x, m2(v[0])).into_dyn());
    check!(&w, |v| dot(m2(v[0]).t(), x.t()).into_dyn());
    check!(&w, |v| dot(&u, dot(&x, m2(v[0]))).into_dyn());
    check!(&w, |v| dot(x.view(), &m2(v[0])).into_dyn());
    check!(&w, |v| dot(x.clone(), m2(v[0])).into_dyn());
}

#[test]
fn transpose() {
    let xs = [r(&[3, 4], 41), r(&[3, 4], 42)];
    check!(&xs, |v| m2(v[0]).t().into_dyn());
    check!(&xs, |v| m2(v[0]).t().dot(m2(v[1])).into_dyn());
    check!(&xs, |v| (v[0].t() * v[1].t()).t());
}

#[test]
fn reductions() {
    let xs = [r(&[3, 4], 51)];
    check!(&xs, |v| v[0].sum().into_dyn());
    check!(&xs, |v| v[0].mean().into_dyn());
    check!(&xs, |v| v[0].sum_axis(Axis(0)));
    check!(&xs, |v| v[0].sum_axis(Axis(1)));
    check!(&xs, |v| v[0].mean_axis(Axis(0)));
    check!(&xs, |v| v[0].mean_axis(Axis(1)));
    check!(&xs, |v| v[0].sum_axis(Axis(1)).insert_axis(Axis(1)) * v[0]);
    check!(&xs, |v| v[0].insert_axis(Axis(0)).insert_axis(Axis(3)));
    let cube = [r(&[2, 3, 2], 52)];
    check!(&cube, |v| v[0].sum_axis(Axis(1)).mean_axis(Axis(0)));
}

#[test]
fn elementwise_functions() {
    let any = [r(&[3, 4], 61)];
    let pos = [positive(&[3, 4], 62)];
    check!(&any, |v| v[0].exp());
    check!(&pos, |v| v[0].ln());
    check!(&any, |v| v[0].powi(2));
    check!(&any, |v| v[0].powi(3));
    check!(&pos, |v| v[0].powi(-2));
    check!(&pos, |v| v[0].powf(1.7));
    check!(&pos, |v| v[0].sqrt());
    check!([array![[-1.5, 0.3], [2.0, -0.1]].into_dyn()], |v| v[0]
        .abs());
    check!(&any, |v| v[0].sin());
    check!(&any, |v| v[0].cos());
    check!(&any, |v| v[0].tanh());
    check!(&any, |v| v[0].sigmoid());
    check!([array![[-1.5, 0.3], [2.0, -0.1]].into_dyn()], |v| v[0]
        .relu());
    check!(&pos, |v| v[0].exp().ln().sqrt());
}

#[test]
fn mapv_with_dual_closure_and_with_explicit_derivative() {
    let pos = [positive(&[3, 4], 71)];
    check!(&pos, |v| v[0].mapv(|x| (x * x + 1.0).ln() / x
        - x.sqrt() * x.tanh()
        + 2.0 / x.exp()));
    check!(&pos, |v| v[0].mapv(|x| x.sigmoid() * x.cos()
        - x.sin().abs()
        + x.powf(1.5).recip()));
    check!(&pos, |v| v[0]
        .mapv(|x| (x - 1.0).relu() * 3.0 + 1.0 - x.powi(3)));
    check!(&pos, |v| v[0]
        .mapv_with(f64::cbrt, |x| x.cbrt() / (3.0 * x)));
}

#[test]
fn softmax_family() {
    let xs = [r(&[3, 4], 81)];
    check!(&xs, |v| v[0].softmax(Axis(1)));
    check!(&xs, |v| v[0].softmax(Axis(0)));
    check!(&xs, |v| v[0].log_softmax(Axis(1)));
    check!(&xs, |v| v[0].log_softmax(Axis(0)));
    check!(&xs, |v| v[0].log_sum_exp(Axis(1)));
    check!(&xs, |v| v[0].log_sum_exp(Axis(0)));
    check!(&xs, |v| v[0].softmax(Axis(1)) * v[0].log_softmax(Axis(1)));
}

#[test]
fn losses() {
    let xs = [r(&[3, 4], 91), r(&[3, 4], 92)];
    check!(&xs, |v| v[0].mse(v[1]).into_dyn());
    check!(&xs, |v| v[0].mse(r(&[3, 4], 93)).into_dyn());
    let soft = [r(&[3, 4], 94), positive(&[3, 4], 95)];
    check!(&soft, |v| m2(v[0])
        .cross_entropy_with_logits(m2(v[1]))
        .into_dyn());
    let onehot = array![
        [0.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0]
    ];
    check!(&xs[..1], |v| m2(v[0])
        .cross_entropy_with_logits(&onehot)
        .into_dyn());
}

#[test]
fn large_logits_stay_finite() {
    let x = array![[1000.0, 0.0, -1000.0], [-1e4, 1e4, 3.0]];
    let tape = Tape::new();
    let v = tape.watch(&x);
    let y = array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let loss =
        v.cross_entropy_with_logits(&y) + v.log_sum_exp(Axis(1)).sum() + v.softmax(Axis(1)).sum();
    assert!(f64::is_finite(loss.item()));
    assert!(
        tape.gradient(&loss)
            .wrt(&v)
            .iter()
            .all(|g: &f64| g.is_finite())
    );
    assert!(v.sigmoid().value().iter().all(|s: &f64| s.is_finite()));
}

#[test]
fn fan_out_accumulates_every_use() {
    let xs = [r(&[2, 3], 101)];
    check!(&xs, |v| v[0] * v[0] * v[0] + v[0].exp() * v[0] - v[0]);
    check!(&xs, |v| v[0].sum_axis(Axis(0))
        + v[0].mean_axis(Axis(0))
        + v[0]);
}

#[test]
fn unrelated_and_constant_inputs_get_zero_gradients() {
    let (a, b) = (array![1.0, 2.0], array![[3.0, 4.0]]);
    let tape = Tape::new();
    let (x, unused, c) = (tape.watch(&a), tape.watch(&b), tape.constant(&a));
    let loss = (&x * &c).sum();
    let grads = tape.gradient(&loss);
    assert_eq!(grads.wrt(&x), a);
    assert_eq!(grads.wrt(&unused), Array::zeros((1, 2)));
    assert_eq!(grads.wrt(&c), Array::zeros(2));
    assert!(!c.requires_grad() && loss.requires_grad());
}

#[test]
fn tape_is_persistent_and_take_moves_gradients_out() {
    let a = array![1.0, 2.0, 3.0];
    let tape = Tape::new();
    let x = tape.watch(&a);
    let first = tape.gradient(&(&x * &x).sum());
    let second = tape.gradient(&x.sum());
    assert_eq!(first.wrt(&x), array![2.0, 4.0, 6.0]);
    let mut second = second;
    assert_eq!(second.take(&x), array![1.0, 1.0, 1.0]);
    assert_eq!(second.take(&x), array![0.0, 0.0, 0.0]);
}

#[test]
fn non_scalar_output_differentiates_its_sum() {
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    let tape = Tape::new();
    let x = tape.watch(&a);
    let y = x.powi(2);
    assert_eq!(tape.gradient(&y).wrt(&x), &a * 2.0);
}

#[test]
fn constants_read_in_place_and_owned_arrays_move_in() {
    let a = array![1.0_f64, 2.0];
    let tape = Tape::new();
    let x = tape.watch(a.clone());
    let y: Var<'_, f64, Ix0> = (&x * &a).sum();
    assert_eq!(y.item(), 5.0);
    assert_eq!(x.shape(), vec![2]);
    assert_eq!((x.len(), x.ndim(), x.is_empty()), (2, 1, false));
}

#[test]
fn f32_works() {
    let w = array![[0.5_f32, -1.0], [2.0, 0.25]];
    let tape = Tape::new();
    let v = tape.watch(&w);
    let loss = (v.dot(&w).sigmoid() * 2.0_f32).mean();
    let g = tape.gradient(&loss).wrt(&v);
    let h = 1e-2_f32;
    let mut plus = w.clone();
    plus[[0, 1]] += h;
    let mut minus = w.clone();
    minus[[0, 1]] -= h;
    let f = |m: &ndarray::Array2<f32>| {
        (m.dot(&w).mapv(|z| 1.0 / (1.0 + (-z).exp())) * 2.0)
            .mean()
            .unwrap()
    };
    let numeric = (f(&plus) - f(&minus)) / (2.0 * h);
    assert!(
        (g[[0, 1]] - numeric).abs() < 1e-3,
        "{} vs {numeric}",
        g[[0, 1]]
    );
}

#[test]
fn consumed_operands_reuse_buffers_only_when_no_rule_reads_them() {
    let xs = [positive(&[3, 4], 111), positive(&[4], 112)];
    // Outputs read by their own backward rule (exp, sqrt, tanh, sigmoid, softmax) must survive
    // being consumed by a later op.
    check!(&xs, |v| v[0].exp() + 1.0);
    check!(&xs, |v| v[0].sqrt() - v[1]);
    check!(&xs, |v| v[0].tanh() * 2.0 + v[0].sigmoid() / v[1]);
    check!(&xs, |v| v[0].softmax(Axis(1)) * 3.0);
    check!(&xs, |v| v[0].log_sum_exp(Axis(1)) + 1.0);
    check!(&xs, |v| 2.0 / v[0].ln() - 1.0);
    // Inputs read by a consumer's rule (mul, div, powi, dot) must survive too.
    check!(&xs, |v| {
        let z = v[0] * 2.0;
        let p = &z * v[1];
        p + z
    });
    check!(&xs, |v| {
        let z = v[0] + v[1];
        let q = v[1] / &z;
        (z - 1.0) * q
    });
    check!(&xs, |v| {
        let z = v[0] * 1.0;
        let sq = z.powi(2);
        sq - z
    });
    // Chains of temporaries, every operand given up: the in-place path.
    check!(&xs, |v| ((v[0] * 2.0 + v[1]) * 0.5 - v[1] / 4.0)
        / (v[1] * 1.0));
    check!(&xs, |v| 1.0 - (3.0 * v[0] - 2.0) / 2.0 + -(v[0] * 1.0));
    check!(&xs, |v| {
        let mut acc = v[0] * 1.0;
        acc += v[1];
        acc -= v[1] * 1.0;
        acc *= 2.0;
        acc /= v[1];
        acc
    });
    check!(&xs, |v| r(&[3, 4], 113) - v[0] * 1.0);
    check!(&xs, |v| r(&[3, 4], 114) * (v[0] + 1.0));
    let m = [r(&[3, 4], 115), r(&[4, 2], 116), r(&[2], 117)];
    check!(&m, |v| (m2(v[0]).dot(&m2(v[1])) + v[2] - 1.0) * 2.0);
}

#[test]
fn a_given_up_temporary_is_reused_in_place() {
    let (a, c) = (array![[1.0_f64, 2.0], [3.0, 4.0]], array![10.0, 20.0]);
    let tape = Tape::new();
    let x = tape.watch(&a);
    let z = &x * 2.0;
    let buffer = z.with_value(|v| v.as_ptr());
    let y = (z + &c) * 0.5; // z's buffer, then y's
    assert_eq!(y.with_value(|v| v.as_ptr()), buffer);
    assert_eq!(y.value(), array![[6.0, 12.0], [8.0, 14.0]]);
    assert_eq!(tape.gradient(&y).wrt(&x), array![[1.0, 1.0], [1.0, 1.0]]);
    // Kept (`&z`) or read by a rule (`exp`): no reuse.
    let z = &x * 2.0;
    let kept = &z + 1.0;
    assert_ne!(
        kept.with_value(|v| v.as_ptr()),
        z.with_value(|v| v.as_ptr())
    );
    let e = x.exp();
    let buffer = e.with_value(|v| v.as_ptr());
    assert_ne!((e + 1.0).with_value(|v| v.as_ptr()), buffer);
}

#[test]
fn deferred_elementwise_values_are_the_eager_ones() {
    // `ln`, `powi`, `powf`, `abs`, `sin`, `cos`, `relu` are computed when first read; `sum` and
    // `mean` read them without storing them, adding in the order the stored array would.
    let a = uniform(&[37, 29], 131, 0.5, 2.0); // 1073 elements: not a multiple of 8
    let tape = Tape::new();
    let x = tape.watch(&a);
    let squares = x.powi(2);
    let (total, mean) = (squares.sum().item(), squares.mean().item());
    let stored = squares.value(); // computed here
    assert_eq!(stored, a.mapv(|v| v * v));
    assert_eq!(total.to_bits(), stored.sum().to_bits());
    assert_eq!(mean.to_bits(), (stored.sum() / 1073.0).to_bits());
    // A non-contiguous input (a column-major transpose) is computed first, then summed.
    let cubes = x.t().powi(3).sum().item();
    assert!((cubes - a.mapv(|v| v.powi(3)).sum()).abs() < 1e-12 * cubes);
    // The input of a deferred value keeps its buffer, even when given up to an in-place op.
    let c = tape.constant(a.clone()) * 2.0;
    let logs = c.ln();
    let shifted = c + 1.0;
    assert_eq!(logs.value(), a.mapv(|v| (2.0 * v).ln()));
    assert_eq!(shifted.value(), a.mapv(|v| 2.0 * v + 1.0));
    // Read by a later op's forward and backward rules: the gradient is the eager one.
    let grads = tape.gradient(&(x.sin() * &x.cos()).sum());
    let want = a.mapv(|v| v.cos() * v.cos() - v.sin() * v.sin());
    assert!((grads.wrt(&x) - want).iter().all(|d| d.abs() < 1e-15));
}

#[test]
fn uniform_adjoints_from_full_reductions() {
    let xs = [positive(&[3, 4], 121), positive(&[4], 122)];
    check!(&xs, |v| v[0].powi(2).sum());
    check!(&xs, |v| ((v[0].exp() * 2.0 - 1.0) / 3.0).mean());
    check!(&xs, |v| (-(1.0 - v[0].sqrt())).sum() + v[0].tanh().mean());
    check!(&xs, |v| v[0].sum() + v[0].mean() + (v[0] * v[1]).sum());
    check!(&xs, |v| (v[0].sigmoid() + v[1]).sum() * 0.5);
    check!(&xs, |v| v[0].sum_axis(Axis(0)).powi(3).sum()
        + v[0].ln().sum());
    check!(&xs, |v| (2.0 / v[0]).sum()
        + v[0].mapv(|x| x.sin() * x).mean());
    check!(&xs, |v| m2(v[0]).dot(&v1(v[1])).sum());
}
