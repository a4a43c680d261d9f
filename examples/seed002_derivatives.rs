//! Seed 002 ("梯度下降", TensorFlow): first and second derivatives of `y = x·w + b`, and the
//! gradient of the sigmoid at `tf.linspace(-10., 10, 10)`, printed beside TensorFlow's output.
//!
//! Run: `cargo run --release --example seed002_derivatives`

use symgrad::{differentiable, sigmoid};

/// In [8]: `y = x * w + b`, with the second derivative.
#[differentiable(wrt(w, b), hessian)]
fn affine(w: f32, b: f32, x: f32) -> f32 {
    x * w + b
}

/// In [10]: `tf.sigmoid(a)`.
#[differentiable]
fn activation(a: f32) -> f32 {
    sigmoid(a)
}

/// `tf.linspace(-10., 10, 10)` as TensorFlow printed it (float32).
#[allow(clippy::excessive_precision)] // TensorFlow's printout, digit for digit
pub const A: [f32; 10] = [
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

/// `tape.gradient(y, [a])` as TensorFlow printed it.
#[allow(clippy::excessive_precision)] // TensorFlow's printout, digit for digit
pub const TF_GRADIENT: [f32; 10] = [
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

fn main() {
    let (y, g, h) = affine_hessian(1.0, 2.0, 3.0);
    println!("y = x*w + b at w = 1, b = 2, x = 3: {y}");
    println!("dy_dw:   {}   (TensorFlow: 3.0)", g.w);
    println!("dy_db:   {}   (TensorFlow: 1.0)", g.b);
    println!(
        "d2y_dw2: {}   (TensorFlow: None, i.e. no dependence: zero)",
        h[0][0]
    );
    println!("formulas: {:?}\n", AffineGrad::FORMULAS);

    println!(
        "{:>12} {:>14} {:>14} {:>14} {:>14}",
        "a", "sigmoid(a)", "symgrad dy/da", "TensorFlow", "exact (f64)"
    );
    for (a, tf) in A.iter().zip(TF_GRADIENT) {
        let (s, g) = activation_grad(*a);
        let exact = sigmoid(f64::from(*a)) * (1.0 - sigmoid(f64::from(*a)));
        println!(
            "{a:>12.7} {s:>14.7e} {:>14.7e} {tf:>14.7e} {exact:>14.7e}",
            g.a
        );
    }
    println!(
        "\nBoth compute the derivative as y·(1 − y) in float32. For a > 0 the values agree to every\n\
         printed digit (both lose digits in 1 − y when y ≈ 1: compare the f64 column). For a < 0\n\
         TensorFlow's float32 sigmoid itself (Eigen's fast logistic) is off by up to 2e-4 relative;\n\
         symgrad's sigmoid is accurate there."
    );
}
