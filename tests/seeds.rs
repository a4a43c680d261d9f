//! The numbers the seed tutorials print, asserted: the test vectors of symgrad.

use approx::assert_relative_eq;
use symgrad::optim::{Adam, Optimizer};
use symgrad::{differentiable, sigmoid};

// ---- seed 000: (w·x − y)², GradientTape descent

#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

#[test]
fn seed_000_gradient_is_2x_xw_minus_y_and_descent_follows_the_closed_form() {
    let (value, grad) = cost_grad(3.0, 1.0, 1.0);
    assert_eq!(value, 4.0);
    assert_eq!(grad.w, 2.0 * 1.0 * (1.0 * 3.0 - 1.0));
    assert_eq!(CostGrad::FORMULAS, &[("w", "2.0 * x * (w * x - y)")]);
    let mut w = 3.0;
    for _ in 0..30 {
        w -= 0.01 * cost_grad(w, 1.0, 1.0).1.w;
    }
    assert_relative_eq!(w, 1.0 + 2.0 * 0.98f64.powi(30), max_relative = 1e-14);
}

// ---- seed 001: loss = (x·w − y)², gradient 2x(xw − y), SGD on x = [1, 2, 3], y = [2, 4, 6]

#[differentiable]
fn loss(w: f64, x: f64, y: f64) -> f64 {
    let y_pred = x * w;
    (y_pred - y) * (y_pred - y)
}

#[test]
fn seed_001_generated_gradient_equals_the_hand_derived_one() {
    for w in [-1.5, 0.0, 1.0, 2.0, 3.7] {
        for (x, y) in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0), (-0.5, 1.25)] {
            let (v, g) = loss_grad(w, x, y);
            assert_eq!(v, (x * w - y) * (x * w - y));
            assert_relative_eq!(g.w, 2.0 * x * (x * w - y), max_relative = 1e-15);
            assert_relative_eq!(g.x, 2.0 * w * (x * w - y), max_relative = 1e-15);
            assert_relative_eq!(g.y, -2.0 * (x * w - y), max_relative = 1e-15);
        }
    }
}

#[test]
fn seed_001_sgd_converges_to_w_2() {
    let (mut w, mut w_hand) = (1.0, 1.0);
    for _ in 0..100 {
        for (x, y) in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)] {
            w -= 0.01 * loss_grad(w, x, y).1.w;
            w_hand -= 0.01 * 2.0 * x * (x * w_hand - y);
        }
    }
    assert_relative_eq!(w, w_hand, max_relative = 1e-14);
    assert_relative_eq!(w, 2.0, max_relative = 1e-9);
}

// ---- seed 002: y = x·w + b; sigmoid gradients at tf.linspace(-10., 10, 10)

#[differentiable(wrt(w, b), hessian)]
fn affine(w: f32, b: f32, x: f32) -> f32 {
    x * w + b
}

#[differentiable]
fn activation(a: f32) -> f32 {
    sigmoid(a)
}

#[test]
fn seed_002_first_and_second_derivatives() {
    let (y, g, h) = affine_hessian(1.0, 2.0, 3.0);
    assert_eq!(y, 5.0);
    assert_eq!((g.w, g.b), (3.0, 1.0)); // dy_dw: 3.0, dy_db: 1.0
    assert_eq!(h, [[0.0, 0.0], [0.0, 0.0]]); // d2y_dw2: None (no dependence)
}

#[allow(clippy::excessive_precision)] // TensorFlow's printout, digit for digit
const A: [f32; 10] = [
    -10.0,
    -7.777_777_7,
    -5.555_555_3,
    -3.333_333,
    -1.111_110_7,
    1.111_111_6,
    3.333_334,
    5.555_556_3,
    7.777_778_6,
    10.0,
];
#[allow(clippy::excessive_precision)] // TensorFlow's printout, digit for digit
const TF_Y: [f32; 10] = [
    4.538_893_7e-05,
    4.187_822_3e-04,
    3.851_056_1e-03,
    3.444_522_6e-02,
    2.476_638_9e-01,
    7.523_362_6e-01,
    9.655_548_3e-01,
    9.961_489_4e-01,
    9.995_812_8e-01,
    9.999_545_8e-01,
];
#[allow(clippy::excessive_precision)] // TensorFlow's printout, digit for digit
const TF_GRADIENT: [f32; 10] = [
    4.538_687_4e-05,
    4.186_068_5e-04,
    3.836_225_5e-03,
    3.325_875_1e-02,
    1.863_264_9e-01,
    1.863_264_1e-01,
    3.325_869_9e-02,
    3.836_225_5e-03,
    4.185_473_1e-04,
    4.541_667_7e-05,
];

#[test]
fn seed_002_sigmoid_gradients_match_tensorflow() {
    for i in 0..10 {
        let (y, g) = activation_grad(A[i]);
        let exact = f64::from(A[i]);
        let exact = sigmoid(exact) * (1.0 - sigmoid(exact));
        if A[i] > 0.0 {
            // Same float32 formula y·(1 − y): equal to every digit TensorFlow printed.
            assert_relative_eq!(y, TF_Y[i], max_relative = 1e-7);
            assert_relative_eq!(g.a, TF_GRADIENT[i], max_relative = 1e-7);
        } else {
            // TensorFlow's float32 sigmoid is approximate below zero; symgrad's is accurate.
            assert_relative_eq!(g.a, TF_GRADIENT[i], max_relative = 3e-4);
            assert_relative_eq!(f64::from(g.a), exact, max_relative = 1e-6);
        }
    }
}

// ---- seed 003: (x − 50)², derivative −94 at 3, Adam(1) for 200 steps

#[differentiable]
fn loss_fun(x: f64) -> f64 {
    (x - 50.0).powi(2)
}

#[test]
fn seed_003_derivative_is_minus_94_and_adam_reaches_50() {
    assert_eq!(loss_fun_grad(3.0).1.x, -94.0);
    let mut adam = Adam::keras(1.0);
    let mut x = [3.0];
    for _ in 0..200 {
        let g = loss_fun_grad(x[0]).1.x;
        adam.step(&mut x, &[g]);
    }
    assert!((x[0] - 50.0).abs() < 0.1, "x = {}", x[0]);
}
