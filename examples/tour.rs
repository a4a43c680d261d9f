//! A five-minute tour of symgrad. Run: `cargo run --release --example tour`

use ndarray::{Array1, Array2, array};
use symgrad::optim::{Adam, Sgd};
use symgrad::tape::{Tape, dot};
use symgrad::{Minimizer, TrainError, check_gradient, differentiable, sigmoid};

/// Seed 000's cost. `#[differentiable]` keeps it and adds `cost_grad` and `CostGrad`.
#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

/// Rosenbrock's banana, with its Hessian.
#[differentiable(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

/// Control flow and calls: a logistic unit with a hinge on its input.
#[differentiable(wrt(w, b))]
fn unit(w: f64, b: f64, x: f64, target: f64) -> f64 {
    let z = w * x + b;
    let p = if z > 0.0 {
        sigmoid(z)
    } else {
        0.5 * sigmoid(2.0 * z) + 0.25
    };
    (p - target).powi(2)
}

/// Seed 001's batch cost over data: a loop, differentiated as a loop.
#[differentiable(wrt(w, b))]
fn batch_cost(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += (w * x[i] + b - y[i]).powi(2);
    }
    acc / (2.0 * x.len() as f64)
}

/// The stable log-sum-exp: a running maximum (a loop-carried recurrence), then a sum.
#[differentiable]
#[allow(clippy::needless_range_loop)] // index loops read as the math
fn log_sum_exp(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..z.len() {
        m = m.max(z[i]);
    }
    let mut s = 0.0;
    for i in 0..z.len() {
        s += (z[i] - m).exp();
    }
    m + s.ln()
}

/// A quartic whose plain gradient descent blows up with a large step.
#[differentiable]
fn quartic(x: f64) -> f64 {
    x.powi(4)
}

fn section(title: &str) {
    println!(
        "\n── {title} {}",
        "─".repeat(60usize.saturating_sub(title.len()))
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    section("1. a gradient and its formula");
    let (value, grad) = cost_grad(3.0, 1.0, 1.0);
    println!("cost(3, 1, 1) = {value}, ∂cost/∂w = {}", grad.w);
    println!("the macro derived: ∂cost/∂w = {}", CostGrad::FORMULAS[0].1);
    println!("(by hand: 2x(xw − y) = {})", 2.0 * 1.0 * (1.0 * 3.0 - 1.0));

    section("2. branches and calls");
    for x in [-2.0, 1.5] {
        let (l, g) = unit_grad(0.8, -0.1, x, 1.0);
        println!("x = {x:+}: loss {l:.6}, ∂/∂w {:+.6}, ∂/∂b {:+.6}", g.w, g.b);
    }
    println!("∂/∂w = {}", UnitGrad::FORMULAS[0].1);

    section("3. a Hessian");
    let (f, g, h) = rosenbrock_hessian(-1.2, 1.0);
    println!("f = {f:.4}, ∇f = [{:.4}, {:.4}], ∇²f = {h:?}", g.x, g.y);

    section("4. an optimizer: Adam on Rosenbrock");
    let mut p = [-1.2, 1.0];
    let report = Minimizer::new(Adam::new(0.02))
        .max_steps(5000)
        .tol_grad_norm(1e-8)
        .run(&mut p, |p| rosenbrock_grad(p[0], p[1]))?;
    println!(
        "{} steps ({:?}): minimum at ({:.6}, {:.6}), f = {:.3e}",
        report.steps, report.stop, p[0], p[1], report.final_loss
    );

    section("5. a loop over data (seed 001's batch cost)");
    let xs: Vec<f64> = (0..1_000_000).map(|i| f64::from(i) / 1e6).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
    let mut p = [0.0, 0.0];
    let report = Minimizer::new(Adam::new(0.1))
        .max_steps(300)
        .run(&mut p, |p| batch_cost_grad(p[0], p[1], &xs, &ys))?;
    println!(
        "y = 2x + 1 fitted on 10⁶ points in {} steps: w = {:.4}, b = {:.4}",
        report.steps, p[0], p[1]
    );
    println!("∂J/∂b = {}", BatchCostGrad::FORMULAS[1].1);
    // A recurrence: the forward `max` loop records its last improvement, the one iteration its
    // reverse sweep contributes at (`stop_gradient(m)` would skip even that, as JAX does).
    let z = [1000.0, 1001.0, 999.0];
    let (lse, g) = log_sum_exp_grad(&z);
    println!(
        "log-sum-exp of {z:?} = {lse:.6} (exp overflows without the max); its gradient, the softmax: [{:.6}, {:.6}, {:.6}]",
        g.z[0], g.z[1], g.z[2]
    );

    section("6. matrix code on the tape (seed 002: cross-entropy from logits)");
    let x = array![[0.3, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
    let w0 = Array2::from_shape_fn((4, 3), |(i, j)| 0.1 * i as f64 - 0.2 * j as f64 + 0.05);
    let b0 = Array1::<f64>::zeros(3);
    let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
    let tape = Tape::new();
    let (wv, bv) = (tape.watch(&w0), tape.watch(&b0));
    let loss = (dot(&x, &wv) + &bv).cross_entropy_with_logits(&onehot);
    let grads = tape.gradient(&loss);
    println!(
        "loss = {:.6}\n∂loss/∂b = {:.6}\n∂loss/∂w =\n{:.6}",
        loss.item(),
        grads.wrt(&bv),
        grads.wrt(&wv)
    );

    section("7. a divergence, caught");
    let mut x = [3.0];
    match Minimizer::new(Sgd::new(0.5))
        .max_steps(100)
        .run(&mut x, |p| quartic_grad(p[0]))
    {
        Err(e @ TrainError::Diverged { .. }) => {
            println!("{e}\nx kept at its last finite value: {:.4e}", x[0]);
        }
        other => println!("unexpected: {other:?}"),
    }

    section("8. checking a gradient against finite differences");
    let generated = check_gradient(|p: &[f64]| rosenbrock_grad(p[0], p[1]), &[0.5, -0.3])?;
    println!("generated rule:\n{generated}");
    let wrong = check_gradient(
        |p: &[f64]| {
            (
                rosenbrock(p[0], p[1]),
                [-2.0 * (1.0 - p[0]), 200.0 * (p[1] - p[0] * p[0])],
            )
        },
        &[0.5, -0.3],
    )?;
    println!("a hand-written rule that forgot the chain rule's −400·x·(y − x²):\n{wrong}");
    Ok(())
}
