//! The seeds' scalar examples, against hand-derived gradients.
use symgrad::differentiable;

#[differentiable]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

#[test]
fn seed_000_cost_matches_2x_xw_minus_y() {
    let (value, grad) = cost_grad(3.0, 1.0, 1.0);
    assert_eq!(value, 4.0);
    assert_eq!(grad.w, 2.0 * 1.0 * (1.0 * 3.0 - 1.0));
    assert_eq!(CostGrad::FORMULAS[0], ("w", "2.0 * x * (w * x - y)"));
}
