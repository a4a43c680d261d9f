use symgrad::{Minimizer, check_gradient, differentiable, optim::Adam};

// One real error (the `while` loop). Everything the crate does with `loss` compiles against
// the stub: the gradient check, a training run, and a call from another differentiable
// function. The only error is the `while` loop's.
#[differentiable]
fn loss(w: &[f64], x: f64) -> f64 {
    let mut s = w[0] * x;
    while s > 1.0 {
        s = s / 2.0;
    }
    s
}

#[differentiable]
fn outer(w: &[f64], x: f64) -> f64 {
    loss(w, x) * 2.0
}

fn main() {
    let w = vec![1.0, 2.0];
    let report = check_gradient(|p: &[f64]| loss_grad(p, 3.0), &w).unwrap();
    println!("{report} {:?}", LossGrad::FORMULAS);
    let mut params = w.clone();
    let run = Minimizer::new(Adam::new(0.1))
        .max_steps(10)
        .run(&mut params, |p| loss_grad(p, 3.0))
        .unwrap();
    println!("{run}");
    let _ = outer_grad(&w, 1.0);
}
