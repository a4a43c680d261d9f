//! `symgrad::argmin`: argmin's traits on generated derivatives, checked against derivatives
//! derived by hand (exact) and against what argmin's solvers reach.

use symgrad::argmin::argmin;
use symgrad::argmin::nalgebra::{DMatrix, DVector};
use symgrad::argmin::{LeastSquares, Objective};
use symgrad::differentiable;

use argmin::core::{CostFunction, Gradient, Hessian, Jacobian, Operator};

#[differentiable(hessian)]
fn cubic(x: f64, y: f64) -> f64 {
    x * x * y + y.powi(3)
}

#[differentiable]
fn two_outputs(a: f64, b: f64) -> [f64; 2] {
    [a * b, a - 2.0 * b]
}

#[test]
fn objective_gives_cost_gradient_and_hessian_in_both_parameter_types() {
    let problem = Objective::<Vec<f64>, _, _>::new(|p: &[f64]| cubic_grad(p[0], p[1]))
        .with_hessian(|p: &[f64]| cubic_hessian(p[0], p[1]));
    let p = vec![2.0, 3.0];
    assert_eq!(problem.cost(&p).unwrap(), 12.0 + 27.0);
    assert_eq!(problem.gradient(&p).unwrap(), [2.0 * 2.0 * 3.0, 4.0 + 27.0]); // (2xy, x² + 3y²)
    assert_eq!(problem.hessian(&p).unwrap(), [[6.0, 4.0], [4.0, 18.0]]); // [[2y, 2x], [2x, 6y]]

    let problem = Objective::<DVector<f64>, _, _>::new(|p: &[f64]| cubic_grad(p[0], p[1]))
        .with_hessian(|p: &[f64]| cubic_hessian(p[0], p[1]));
    let p = DVector::from_vec(vec![2.0, 3.0]);
    assert_eq!(
        problem.gradient(&p).unwrap(),
        DVector::from_vec(vec![12.0, 31.0])
    );
    assert_eq!(
        problem.hessian(&p).unwrap(),
        DMatrix::from_row_slice(2, 2, &[6.0, 4.0, 4.0, 18.0])
    );
}

#[test]
fn the_cost_and_the_gradient_at_one_point_are_one_evaluation() {
    let calls = std::cell::Cell::new(0);
    let problem = Objective::<Vec<f64>, _>::new(|p: &[f64]| {
        calls.set(calls.get() + 1);
        cubic_grad(p[0], p[1])
    });
    let p = vec![1.0, -1.0];
    problem.cost(&p).unwrap();
    problem.gradient(&p).unwrap();
    assert_eq!(calls.get(), 1);
    problem.gradient(&vec![1.0, -0.5]).unwrap();
    assert_eq!(calls.get(), 2);
}

#[test]
fn least_squares_gives_residuals_jacobian_cost_and_gradient() {
    let problem =
        LeastSquares::<DVector<f64>, _>::outputs(|p: &[f64]| two_outputs_jacobian(p[0], p[1]));
    let p = DVector::from_vec(vec![3.0, 0.5]);
    assert_eq!(
        problem.apply(&p).unwrap(),
        DVector::from_vec(vec![1.5, 2.0])
    );
    // Rows (∂/∂a, ∂/∂b): (b, a) and (1, −2).
    assert_eq!(
        problem.jacobian(&p).unwrap(),
        DMatrix::from_row_slice(2, 2, &[0.5, 3.0, 1.0, -2.0])
    );
    assert_eq!(problem.cost(&p).unwrap(), 1.5 * 1.5 + 4.0);
    // 2Jᵀr = 2·(0.5·1.5 + 1·2, 3·1.5 − 2·2)
    assert_eq!(
        problem.gradient(&p).unwrap(),
        DVector::from_vec(vec![5.5, 1.0])
    );
}

#[test]
fn a_derivative_of_the_wrong_length_is_an_error_not_a_panic() {
    // The gradient has two entries, the solver moves three parameters.
    let problem = Objective::<Vec<f64>, _, _>::new(|p: &[f64]| cubic_grad(p[0], p[1]))
        .with_hessian(|p: &[f64]| cubic_hessian(p[0], p[1]));
    let p = vec![1.0, 2.0, 3.0];
    let message = problem.gradient(&p).unwrap_err().to_string();
    assert!(
        message.contains("the gradient has 2 entries for 3 parameters"),
        "{message}"
    );
    let message = problem.hessian(&p).unwrap_err().to_string();
    assert!(
        message.contains("the Hessian has 2 entries for 3 parameters"),
        "{message}"
    );
    let problem =
        LeastSquares::<Vec<f64>, _>::outputs(|p: &[f64]| two_outputs_jacobian(p[0], p[1]));
    let message = problem.jacobian(&p).unwrap_err().to_string();
    assert!(
        message.contains("row 0 of the Jacobian has 2 entries for 3 parameters"),
        "{message}"
    );
}
