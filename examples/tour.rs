//! A five-minute tour of symgrad. Run: `cargo run --release --example tour`
//!
//! Each section prints the code it runs (read from this file) and the point it evaluates at,
//! then the results.

use ndarray::{Array1, Array2, array};
use symgrad::optim::{Adam, Sgd};
use symgrad::tape::{Tape, dot};
use symgrad::{Minimizer, TrainError, check_gradient, differentiable, sigmoid};

/// This file, to print each section's code beside its results.
const SOURCE: &str = include_str!("tour.rs");

/// The width of the section headers: `── title ────…`.
const WIDTH: usize = 72;

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

/// `── title ───…`, `WIDTH` characters wide whatever the title's length.
fn section(title: &str) {
    let ruler = WIDTH - 4 - title.chars().count();
    assert!(
        ruler >= 3,
        "internal error: the title `{title}` does not fit its ruler"
    );
    println!("\n── {title} {}", "─".repeat(ruler));
}

/// The function `name` as written in this file (its attributes and body), indented.
fn source_of(name: &str) -> String {
    let lines: Vec<&str> = SOURCE.lines().collect();
    let signature = format!("fn {name}(");
    let start = lines
        .iter()
        .position(|l| l.starts_with(&signature))
        .expect("internal error: the function is in this file");
    let first = (0..start)
        .rev()
        .take_while(|&i| lines[i].starts_with("#["))
        .last()
        .unwrap_or(start);
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == "}")
            .expect("internal error: the function ends in this file");
    indented(
        lines[first..=end]
            .iter()
            .copied()
            .filter(|l| !l.starts_with("#[allow")),
    )
}

/// The lines of `main` from the one that starts with `from` to the one that starts with `to`,
/// indented as in the file relative to the first.
fn excerpt(from: &str, to: &str) -> String {
    let lines: Vec<&str> = SOURCE.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with(from))
        .expect("internal error: the excerpt's first line is in this file");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with(to))
            .expect("internal error: the excerpt's last line is in this file");
    let margin = lines[start].len() - lines[start].trim_start().len();
    indented(
        lines[start..=end]
            .iter()
            .map(|l| l.get(margin..).unwrap_or(l)),
    )
}

/// The lines, each indented by four spaces and ended by a newline.
fn indented<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.fold(String::new(), |out, line| out + "    " + line + "\n")
}

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn main() -> Result {
    println!(
        "symgrad: exact gradients of plain Rust functions, derived at compile time.\n\
         Each section shows its code, the point it evaluates at, and the results."
    );
    a_gradient_and_its_formula();
    branches_and_calls();
    a_hessian();
    an_optimizer()?;
    a_loop_over_data()?;
    a_recurrence();
    matrix_code_on_the_tape();
    a_divergence_caught();
    checking_a_gradient()?;
    println!(
        "\n{}\nThat was the tour. Its code is in examples/tour.rs: change a function there and\n\
         run it again.",
        "─".repeat(WIDTH)
    );
    Ok(())
}

fn a_gradient_and_its_formula() {
    section("1. a gradient and its formula");
    println!("{}", source_of("cost"));
    let (w, x, y) = (3.0, 1.0, 1.0);
    println!("at w = {w}, x = {x}, y = {y}:");
    let (value, grad) = cost_grad(w, x, y);
    println!("  cost = {value}, ∂cost/∂w = {}", grad.w);
    println!(
        "  the macro derived: ∂cost/∂w = {}",
        CostGrad::FORMULAS[0].1
    );
    println!("  (by hand: 2x(xw − y) = {})", 2.0 * x * (x * w - y));
}

fn branches_and_calls() {
    section("2. branches and calls");
    println!("{}", source_of("unit"));
    let (w, b, target) = (0.8, -0.1, 1.0);
    println!("at w = {w}, b = {b}, target = {target}, for two inputs x:");
    for x in [-2.0, 1.5] {
        let (l, g) = unit_grad(w, b, x, target);
        println!(
            "  x = {x:+}: loss {l:.6}, ∂/∂w {:+.6}, ∂/∂b {:+.6}",
            g.w, g.b
        );
    }
    println!(
        "the macro's ∂unit/∂w, both branches kept:\n  {}",
        UnitGrad::FORMULAS[0].1
    );
}

fn a_hessian() {
    section("3. a Hessian");
    println!("{}", source_of("rosenbrock"));
    let (x, y) = (-1.2, 1.0);
    println!("at (x, y) = ({x}, {y}):");
    let (f, g, h) = rosenbrock_hessian(x, y);
    println!("  f = {f:.4}, ∇f = [{:.4}, {:.4}], ∇²f = {h:?}", g.x, g.y);
}

fn an_optimizer() -> Result {
    section("4. an optimizer: Adam on Rosenbrock");
    println!(
        "{}",
        excerpt("let report = Minimizer::new(Adam::new(0.02))", ".run(")
    );
    let mut p = [-1.2, 1.0];
    println!(
        "on `rosenbrock` (section 3), from (x, y) = ({}, {}):",
        p[0], p[1]
    );
    let report = Minimizer::new(Adam::new(0.02))
        .max_steps(5000)
        .tol_grad_norm(1e-8)
        .run(&mut p, |p| rosenbrock_grad(p[0], p[1]))?;
    println!(
        "  {} steps ({}): minimum at ({:.6}, {:.6}), f = {:.3e}",
        report.steps, report.stop, p[0], p[1], report.final_loss
    );
    Ok(())
}

fn a_loop_over_data() -> Result {
    section("5. a loop over data (seed 001's batch cost)");
    println!("{}", source_of("batch_cost"));
    println!(
        "{}",
        excerpt("let xs: Vec<f64>", ".run(&mut p, |p| batch_cost_grad")
    );
    let xs: Vec<f64> = (0..1_000_000).map(|i| f64::from(i) / 1e6).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
    let mut p = [0.0, 0.0];
    let report = Minimizer::new(Adam::new(0.1))
        .max_steps(300)
        .run(&mut p, |p| batch_cost_grad(p[0], p[1], &xs, &ys))?;
    println!(
        "y = 2x + 1 fitted on {} points in {} steps: w = {:.4}, b = {:.4}",
        xs.len(),
        report.steps,
        p[0],
        p[1]
    );
    println!(
        "the macro's ∂J/∂b, a loop like the cost's:\n  {}",
        BatchCostGrad::FORMULAS[1].1
    );
    Ok(())
}

fn a_recurrence() {
    section("6. a recurrence: the stable log-sum-exp");
    println!("{}", source_of("log_sum_exp"));
    // The forward `max` loop records its last improvement, the one iteration its reverse sweep
    // contributes at (`stop_gradient(m)` would skip even that, as JAX does).
    let z = [1000.0, 1001.0, 999.0];
    println!("at z = {z:?} (exp(z) overflows; the running max keeps every term finite):");
    let (lse, g) = log_sum_exp_grad(&z);
    println!("  log-sum-exp = {lse:.6}");
    println!(
        "  its gradient, the softmax of z: [{:.6}, {:.6}, {:.6}]",
        g.z[0], g.z[1], g.z[2]
    );
}

fn matrix_code_on_the_tape() {
    section("7. matrix code on the tape (seed 002: softmax cross-entropy)");
    println!(
        "{}",
        excerpt("let x = array![[0.3", "let grads = tape.gradient")
    );
    let x = array![[0.3, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
    let w0 = Array2::from_shape_fn((4, 3), |(i, j)| 0.1 * i as f64 - 0.2 * j as f64 + 0.05);
    let b0 = Array1::<f64>::zeros(3);
    let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]; // labels 2 and 0
    let tape = Tape::new();
    let (wv, bv) = (tape.watch(&w0), tape.watch(&b0));
    let loss = (dot(&x, &wv) + &bv).cross_entropy_with_logits(&onehot);
    let grads = tape.gradient(&loss);
    println!(
        "loss = {:.6}\n∂loss/∂b = {:.6}\n∂loss/∂w =\n{}",
        loss.item(),
        grads.wrt(&bv),
        indented(format!("{:.6}", grads.wrt(&wv)).lines()).trim_end()
    );
}

fn a_divergence_caught() {
    section("8. a divergence, caught");
    println!("{}", source_of("quartic"));
    println!(
        "{}",
        excerpt("let mut x = [3.0];", ".run(&mut x, |p| quartic_grad")
    );
    let mut x = [3.0];
    let run = Minimizer::new(Sgd::new(0.5))
        .max_steps(100)
        .run(&mut x, |p| quartic_grad(p[0]));
    match run {
        Err(e @ TrainError::Diverged { .. }) => {
            println!("{e}\nx kept at its last finite value: {:.4e}", x[0]);
        }
        other => println!("unexpected: {other:?}"),
    }
}

fn checking_a_gradient() -> Result {
    section("9. checking a gradient against finite differences");
    let at = [0.5, -0.3];
    println!(
        "`rosenbrock_grad` (section 3) against central differences at (x, y) = ({}, {}):",
        at[0], at[1]
    );
    let generated = check_gradient(|p: &[f64]| rosenbrock_grad(p[0], p[1]), &at)?;
    println!("{generated}");
    let wrong = check_gradient(
        |p: &[f64]| {
            (
                rosenbrock(p[0], p[1]),
                [-2.0 * (1.0 - p[0]), 200.0 * (p[1] - p[0] * p[0])],
            )
        },
        &at,
    )?;
    println!(
        "\na hand-written gradient [−2(1 − x), 200(y − x²)] that forgot the chain rule's\n\
         −400·x·(y − x²), at the same point:\n{wrong}"
    );
    Ok(())
}
