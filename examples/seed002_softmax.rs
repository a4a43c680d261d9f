//! Seed 002 ("梯度下降", TensorFlow, "损失函数梯度"): the gradients of two softmax losses with
//! respect to `w` and `b`, recorded on the tape like `tf.GradientTape`, printed like the tutorial
//! ("w gradients:", "b gradients:") and beside the hand-derived formulas' values.
//!
//! - In [2]: `prob = softmax(x@w + b)`, `loss = reduce_mean(MSE(one_hot(y), prob))`.
//! - In [3]: `logits = x@w + b`, `loss = reduce_mean(categorical_crossentropy(one_hot(y),
//!   logits, from_logits=True))`.
//!
//! The tutorial draws `x` and `w` from `tf.random.normal`; here they are fixed numbers of the same
//! shapes (x: 2×4, w: 4×3), with `b = zeros(3)` and `y = [2, 0]`, so the output is reproducible.
//!
//! Run: `cargo run --release --example seed002_softmax`

use ndarray::{Array1, Array2, Axis, array};
use symgrad::tape::{Tape, dot};

/// `tf.one_hot(labels, depth)`.
fn one_hot(labels: &[usize], depth: usize) -> Array2<f64> {
    let mut y = Array2::zeros((labels.len(), depth));
    for (row, &label) in labels.iter().enumerate() {
        y[[row, label]] = 1.0;
    }
    y
}

/// Row-wise softmax of plain arrays, for the hand-derived formulas.
fn softmax_rows(z: &Array2<f64>) -> Array2<f64> {
    let mut p = z.clone();
    for mut row in p.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - m).exp());
        let total = row.sum();
        row /= total;
    }
    p
}

/// The gradients of a loss whose derivative w.r.t. the logits `z = x@w + b` is `dz`:
/// `∂w = xᵀ dz`, `∂b = Σ_rows dz`.
fn through_affine(x: &Array2<f64>, dz: &Array2<f64>) -> (Array2<f64>, Array1<f64>) {
    (x.t().dot(dz), dz.sum_axis(Axis(0)))
}

/// Softmax + MSE by hand: with `p = softmax(z)`, `L = (1/(n·c)) Σ (p − y)²`,
/// `∂L/∂p = 2(p − y)/(n·c)` and the softmax Jacobian gives `∂L/∂z = p ∘ (∂L/∂p − Σ_k p_k ∂L/∂p_k)`.
fn mse_by_hand(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>, y: &Array2<f64>) -> Grads {
    let p = softmax_rows(&(x.dot(w) + b));
    let dp = (&p - y) * (2.0 / p.len() as f64);
    let inner = (&p * &dp).sum_axis(Axis(1)).insert_axis(Axis(1));
    through_affine(x, &(&p * &(dp - inner)))
}

/// Cross-entropy from logits by hand: `∂L/∂z = (softmax(z) − y)/n`.
fn cross_entropy_by_hand(
    x: &Array2<f64>,
    w: &Array2<f64>,
    b: &Array1<f64>,
    y: &Array2<f64>,
) -> Grads {
    let p = softmax_rows(&(x.dot(w) + b));
    through_affine(x, &((p - y) / x.nrows() as f64))
}

type Grads = (Array2<f64>, Array1<f64>);

fn show(title: &str, loss: f64, tape: &Grads, hand: &Grads) {
    println!("{title}\nloss: {loss:.8}");
    println!("w gradients: \n{:.8}", tape.0);
    println!("b gradients: {:.8}", tape.1);
    println!("by hand, w: \n{:.8}", hand.0);
    println!("by hand, b: {:.8}", hand.1);
    let diff = (&tape.0 - &hand.0)
        .iter()
        .chain((&tape.1 - &hand.1).iter())
        .fold(0.0_f64, |m, d| m.max(d.abs()));
    println!("largest |tape − hand|: {diff:.1e}\n");
}

fn main() {
    // x = tf.random.normal([2, 4]); w = tf.random.normal([4, 3]) — fixed draws here.
    let x = array![[0.62, -1.31, 0.27, 1.88], [-0.45, 0.93, -1.06, 0.34]];
    let w = array![
        [0.51, -0.83, 1.12],
        [-1.47, 0.26, 0.78],
        [0.09, 1.35, -0.64],
        [0.72, -0.18, -1.21]
    ];
    let b = Array1::<f64>::zeros(3);
    let y = one_hot(&[2, 0], 3); // tf.one_hot(tf.constant([2, 0]), depth=3)

    // In [2]: softmax + MSE.
    let tape = Tape::new();
    let (w_var, b_var) = (tape.watch(&w), tape.watch(&b));
    let prob = (dot(&x, &w_var) + &b_var).softmax(Axis(1));
    let loss = prob.mse(&y);
    let mut grads = tape.gradient(&loss);
    let on_tape = (grads.take(&w_var), grads.take(&b_var));
    show(
        "softmax + MSE (In [2])",
        loss.item(),
        &on_tape,
        &mse_by_hand(&x, &w, &b, &y),
    );

    // In [3]: cross-entropy from logits.
    let tape = Tape::new();
    let (w_var, b_var) = (tape.watch(&w), tape.watch(&b));
    let logits = dot(&x, &w_var) + &b_var;
    let loss = logits.cross_entropy_with_logits(&y);
    let mut grads = tape.gradient(&loss);
    let on_tape = (grads.take(&w_var), grads.take(&b_var));
    show(
        "cross-entropy from logits (In [3]); by hand: dz = (softmax(z) − y)/n, ∂w = xᵀ dz, ∂b = Σ_rows dz",
        loss.item(),
        &on_tape,
        &cross_entropy_by_hand(&x, &w, &b, &y),
    );
}
