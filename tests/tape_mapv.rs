//! `mapv` in a `#[differentiable]` array body: the float methods passed by name
//! (`x.mapv(f64::exp)`) and closures typed `f64` run on the tape, with derivatives checked
//! against central finite differences; named functions still work on constant (data) arrays.

use ndarray::{Array1, array};
use symgrad::differentiable;

/// Central difference of `f` at `x` along element `i`.
fn central(f: impl Fn(&Array1<f64>) -> f64, x: &Array1<f64>, i: usize) -> f64 {
    let h = 1e-6 * x[i].abs().max(1.0);
    let (mut up, mut down) = (x.clone(), x.clone());
    up[i] += h;
    down[i] -= h;
    (f(&up) - f(&down)) / (2.0 * h)
}

/// `Σ c_i f(x_i)` with `x.mapv(f64::$f)`, and its gradient against finite differences and
/// against the same function written as a closure.
macro_rules! check_method_paths {
    ($($f:ident at $points:expr;)*) => {$({
        #[differentiable(wrt(x))]
        fn by_name(x: &Array1<f64>, c: &Array1<f64>) -> f64 {
            (x.mapv(f64::$f) * c).sum()
        }
        #[differentiable(wrt(x))]
        fn by_closure(x: &Array1<f64>, c: &Array1<f64>) -> f64 {
            (x.mapv(|v| v.$f()) * c).sum()
        }
        let x: Array1<f64> = Array1::from_vec($points.to_vec());
        let c = Array1::from_shape_fn(x.len(), |i| 1.0 + 0.5 * i as f64);
        let (value, grad) = by_name_grad(&x, &c);
        let plain = (x.mapv(f64::$f) * &c).sum();
        assert_eq!(value, plain, "f64::{}: value", stringify!($f));
        assert_eq!(grad.x, by_closure_grad(&x, &c).1.x, "f64::{}: name vs closure", stringify!($f));
        for i in 0..x.len() {
            let numeric = central(|p| (p.mapv(f64::$f) * &c).sum(), &x, i);
            let err = (grad.x[i] - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 1e-6,
                "f64::{} at {}: tape {} against finite differences {}",
                stringify!($f), x[i], grad.x[i], numeric
            );
        }
    })*};
}

#[test]
fn float_methods_by_name_have_the_right_derivative() {
    check_method_paths! {
        exp at [-1.5, 0.3, 2.0];
        exp2 at [-1.5, 0.3, 2.0];
        exp_m1 at [-1.5, 0.3, 2.0];
        ln at [0.2, 1.0, 3.5];
        ln_1p at [-0.5, 0.3, 2.0];
        log2 at [0.2, 1.0, 3.5];
        log10 at [0.2, 1.0, 3.5];
        sqrt at [0.2, 1.0, 3.5];
        cbrt at [-2.0, 0.2, 3.5];
        recip at [-2.0, 0.2, 3.5];
        abs at [-2.0, 0.2, 3.5];
        sin at [-2.0, 0.2, 3.5];
        cos at [-2.0, 0.2, 3.5];
        tan at [-1.0, 0.2, 1.3];
        asin at [-0.7, 0.1, 0.9];
        acos at [-0.7, 0.1, 0.9];
        atan at [-2.0, 0.2, 3.5];
        sinh at [-2.0, 0.2, 3.5];
        cosh at [-2.0, 0.2, 3.5];
        tanh at [-2.0, 0.2, 3.5];
        asinh at [-2.0, 0.2, 3.5];
        acosh at [1.2, 2.0, 3.5];
        atanh at [-0.7, 0.1, 0.9];
    }
}

/// The issue's example: `mapv(f64::exp)` on a differentiated array, inside a larger body.
#[differentiable]
fn log_sum_exp(z: &Array1<f64>) -> f64 {
    z.mapv(f64::exp).sum().ln()
}

#[test]
fn the_issue_example_gives_the_softmax() {
    let z = array![1.0, 2.0, -0.5];
    let (value, grad) = log_sum_exp_grad(&z);
    let total: f64 = z.iter().map(|v| v.exp()).sum();
    assert_eq!(value, total.ln());
    for i in 0..z.len() {
        assert!((grad.z[i] - z[i].exp() / total).abs() < 1e-15);
    }
}

#[differentiable]
fn f32_paths(x: &Array1<f32>) -> f32 {
    (x.mapv(f32::tanh) + x.mapv(f32::sqrt)).sum()
}

#[test]
fn f32_methods_by_name() {
    let x = array![0.25_f32, 1.0, 4.0];
    let (_, grad) = f32_paths_grad(&x);
    for i in 0..x.len() {
        let t = x[i].tanh();
        let want = 1.0 - t * t + 0.5 / x[i].sqrt();
        assert!((grad.x[i] - want).abs() < 1e-6, "{} vs {want}", grad.x[i]);
    }
}

/// A closure typed `f64` (the element is a dual number on the tape): the annotations are dropped.
#[differentiable]
fn typed_closure(x: &Array1<f64>) -> f64 {
    x.mapv(|v: f64| -> f64 { v.sin() * v }).sum()
}

#[test]
fn closures_typed_f64_run_on_the_tape() {
    let x = array![-1.0, 0.5, 2.0];
    let (_, grad) = typed_closure_grad(&x);
    assert_eq!(grad.x, x.mapv(|v| v.cos() * v + v.sin()));
}

fn doubled(v: f64) -> f64 {
    2.0 * v
}

/// Named functions of any kind on constant arrays: ndarray's `mapv`, unchanged.
#[differentiable(wrt(x))]
fn named_functions_on_data(x: &Array1<f64>, y: &Array1<f64>) -> f64 {
    (x * y.mapv(doubled) * y.mapv(f64::floor) + x.mapv(f64::ln)).sum()
}

#[test]
fn named_functions_map_constant_arrays() {
    let (x, y) = (array![0.5, 1.0, 2.0], array![1.5, 2.5, 3.5]);
    let (value, grad) = named_functions_on_data_grad(&x, &y);
    assert_eq!(value, named_functions_on_data(&x, &y));
    assert_eq!(grad.x, &y * 2.0 * y.mapv(f64::floor) + x.mapv(f64::recip));
}

/// A function name passed through a `macro_rules!` fragment (an invisible group around it).
macro_rules! sum_of_mapped {
    ($name:ident, $f:expr) => {
        #[differentiable]
        fn $name(x: &Array1<f64>) -> f64 {
            x.mapv($f).sum()
        }
    };
}

sum_of_mapped!(sum_of_exp, f64::exp);

#[test]
fn a_function_name_from_a_macro_fragment() {
    let x = array![0.5, -1.0];
    assert_eq!(sum_of_exp_grad(&x).1.x, x.mapv(f64::exp));
}
